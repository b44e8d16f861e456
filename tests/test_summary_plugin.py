"""A plugin's own data (tbx.summary.plugin, SummaryWriter.add_plugin_data): encoded, decoded,
read back by tbx's reader as a tensor series with its plugin name, and by the official
TensorBoard with the same plugin name, content and values."""

from __future__ import annotations

import numpy as np
import pytest

import tbx
from tbx.summary.plugin import RESERVED_PLUGIN_NAMES, decode, plugin_summary


def test_encode_decode_forms():
    (v,) = plugin_summary("cm", np.arange(6, dtype=np.int32).reshape(2, 3), "confusion",
                          content='{"labels": ["a", "b"]}').value
    assert v.tag == "cm" and v.metadata.plugin_data.plugin_name == "confusion"
    d = decode(v)
    assert d.plugin_name == "confusion" and d.content == b'{"labels": ["a", "b"]}'
    assert d.data.dtype == np.int32 and d.data.tolist() == [[0, 1, 2], [3, 4, 5]]
    (v,) = plugin_summary("blob", b"\x00\xff raw", "mine").value
    d = decode(v)
    assert d.data.shape == () and d.data.item() == b"\x00\xff raw" and d.content == b""
    (v,) = plugin_summary("strs", ["é", b"x"], "mine").value
    assert decode(v).data.tolist() == ["é".encode(), b"x"]
    (v,) = plugin_summary("f", [[0.5, 1.5]], "mine").value
    assert decode(v).data.dtype == np.float64 and decode(v).data.tolist() == [[0.5, 1.5]]
    (v,) = plugin_summary("b", np.array([True, False]), "mine").value
    assert decode(v).data.tolist() == [True, False]


@pytest.mark.parametrize("kwargs,exc,msg", [
    ({"plugin_name": "scalars"}, ValueError, "built-in kind"),
    ({"plugin_name": ""}, ValueError, "plugin_name must be non-empty"),
    ({"plugin_name": "a b"}, ValueError, "got 'a b'"),
    ({"plugin_name": 3}, TypeError, "plugin_name must be a str, got int"),
    ({"content": 5}, TypeError, "content must be bytes or str, got int"),
    ({"content": b"x" * ((1 << 20) + 1)}, ValueError, "content must be at most 1 MB"),
    ({"data": object()}, TypeError, "data"),
    ({"data": np.array(["a"], dtype=object)}, TypeError, "dtype object"),
    ({"tag": ""}, ValueError, "tag must be a non-empty str"),
])
def test_bad_input(kwargs, exc, msg):
    args = {"tag": "t", "data": b"x", "plugin_name": "mine", **kwargs}
    with pytest.raises(exc) as e:
        plugin_summary(**args)
    assert msg in str(e.value)
    assert "scalars" in RESERVED_PLUGIN_NAMES and "graphs" in RESERVED_PLUGIN_NAMES


def _write(logdir):
    with tbx.SummaryWriter(str(logdir)) as w:
        for step in (0, 5):
            w.add_plugin_data("cm", np.eye(2, dtype=np.int64) * (step + 1), "confusion", step,
                              walltime=100.0 + step, content=b"v1")
        w.add_plugin_data("note", "hi", "mine", 1, walltime=7.0)
        w.add_scalar("loss", 0.5, 0)


def test_reader_returns_a_tensor_series_with_its_plugin(tmp_path):
    from tbx.reader.provider import LogdirProvider

    _write(tmp_path / "run")
    p = LogdirProvider(str(tmp_path))
    p.refresh()
    info = p.tags("run")["cm"]
    assert (info.plugin_name, info.data_class, info.count) == ("confusion", "tensor", 2)
    s = p.tensors("run", "cm")
    assert s.step.tolist() == [0, 5] and s.wall_time.tolist() == [100.0, 105.0]
    assert [v.tolist() for v in s.values] == [[[1, 0], [0, 1]], [[6, 0], [0, 6]]]
    assert p.metadata("run", "cm").plugin_data.content == b"v1"
    n = p.tensors("run", "note")
    assert p.tags("run")["note"].plugin_name == "mine" and n.values[0].item() == b"hi"


def test_global_writer_numbers_steps(tmp_path):
    from tbx.reader.provider import LogdirProvider

    with tbx.GlobalSummaryWriter(str(tmp_path / "g")) as w:
        w.add_plugin_data("cm", [1, 2], "confusion")
        w.add_plugin_data("cm", [3, 4], "confusion")
    p = LogdirProvider(str(tmp_path))
    p.refresh()
    s = p.tensors("g", "cm")
    assert s.step.tolist() == [0, 1] and [v.tolist() for v in s.values] == [[1, 2], [3, 4]]


def test_official_tensorboard_reads_plugin_data(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.util import tensor_util

    _write(tmp_path)
    acc = ea.EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert acc.PluginTagToContent("confusion") == {"cm": b"v1"}
    got = acc.Tensors("cm")
    assert [e.step for e in got] == [0, 5]
    assert tensor_util.make_ndarray(got[1].tensor_proto).tolist() == [[6, 0], [0, 6]]
