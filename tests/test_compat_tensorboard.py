"""The official tensorboard package reads tbx's files exactly: tags, steps, wall times, values;
text in its text plugin data; every record's CRCs valid by an independent CRC32C."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from conftest import event_files

import tbx

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import event_accumulator as ea_mod  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
    RawEventFileLoader,
)
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

ALL = {"scalars": 0, "tensors": 0, "histograms": 0, "images": 0, "audio": 0}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def accumulate(path):
    acc = ea_mod.EventAccumulator(str(path), size_guidance=ALL)
    acc.Reload()
    return acc


def write_sample(logdir, n=2000):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, n)
    walls = 1.7e9 + np.arange(n) * 0.123456789
    with tbx.SummaryWriter(logdir) as w:
        for i in range(n):
            w.add_scalar("train/loss", float(values[i]), i * 3 - 100, walltime=float(walls[i]))
            w.add_scalar("lr ünï", float(i), i, walltime=float(walls[i]))
        w.add_scalar("edge", math.inf, 1, walltime=1.0)
        w.add_scalar("edge", -math.inf, 2, walltime=2.0)
        w.add_scalar("edge", math.nan, 3, walltime=3.0)
        w.add_scalar("f64", 0.1, 1, walltime=4.0, new_style=True, double_precision=True)
        w.add_text("notes", "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |", 5, walltime=6.0)
    return values, walls


def test_event_accumulator_reads_scalars_exactly(logdir):
    values, walls = write_sample(logdir)
    acc = accumulate(logdir)
    assert set(acc.Tags()["scalars"]) == {"train/loss", "lr ünï", "edge"}
    got = acc.Scalars("train/loss")
    assert [e.step for e in got] == [i * 3 - 100 for i in range(len(values))]
    assert [e.wall_time for e in got] == list(walls)
    assert [e.value for e in got] == [f32(v) for v in values]
    edge = [e.value for e in acc.Scalars("edge")]
    assert edge[:2] == [math.inf, -math.inf] and math.isnan(edge[2])


def test_event_accumulator_reads_float64_and_text(logdir):
    write_sample(logdir, n=3)
    acc = accumulate(logdir)
    (t,) = acc.Tensors("f64")
    assert tensor_util.make_ndarray(t.tensor_proto).item() == 0.1  # float64-exact
    (text,) = acc.Tensors("notes/text_summary")
    assert text.step == 5 and text.wall_time == 6.0
    assert tensor_util.make_ndarray(text.tensor_proto).tolist() == [
        b"# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    ]
    assert "notes/text_summary" in acc.PluginTagToContent("text")


def test_text_plugin_reads_text(logdir):
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins.text import text_plugin

    write_sample(logdir, n=3)
    mux = plugin_event_multiplexer.EventMultiplexer({"run": str(logdir)}, size_guidance=ALL)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
    from tensorboard.context import RequestContext

    series = provider.read_tensors(
        RequestContext(), experiment_id="", plugin_name="text",
        run_tag_filter=None, downsample=10,
    )
    (datum,) = series["run"]["notes/text_summary"]
    html = text_plugin.text_array_to_html(datum.numpy, enable_markdown=True)
    assert "<h1>Title</h1>" in html and "<table>" in html


def test_event_file_loader_reads_every_record(logdir):
    values, _ = write_sample(logdir, n=500)
    (path,) = event_files(logdir)
    events = list(EventFileLoader(path).Load())
    assert events[0].file_version == "brain.Event:2"
    loss = [e for e in events if e.summary.value and e.summary.value[0].tag == "train/loss"]
    # this loader migrates simple_value to a scalar tensor (TensorBoard's data_compat)
    assert [tensor_util.make_ndarray(e.summary.value[0].tensor).item() for e in loss] == [
        f32(v) for v in values
    ]
    assert len(list(RawEventFileLoader(path).Load())) == len(events)


def test_crcs_valid_by_independent_crc32c(logdir):
    write_sample(logdir, n=50)
    (path,) = event_files(logdir)
    data = open(path, "rb").read()
    pos = count = 0
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[pos + 8 : pos + 12])[0] == masked_crc32c(header)
        payload = data[pos + 12 : pos + 12 + length]
        footer = data[pos + 12 + length : pos + 16 + length]
        assert struct.unpack("<I", footer)[0] == masked_crc32c(payload)
        pos += 16 + length
        count += 1
    assert pos == len(data)
    assert count == 1 + 2 * 50 + 3 + 1 + 1
