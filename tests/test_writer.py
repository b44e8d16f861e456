"""SummaryWriter for scalars and text: exact values, tensorboardX's layout and arguments, bad input
refused in the caller's thread with the writer still working."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import struct

import numpy as np
import pytest
from conftest import event_files, read_logdir_events

import tbx
from tbx.proto.event_pb2 import SessionLog


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def summaries(logdir):
    """[(tag, step, wall_time, Value)] of every Summary Value in logdir's event files."""
    return [
        (v.tag, e.step, e.wall_time, v)
        for e in read_logdir_events(logdir)
        if e.HasField("summary")
        for v in e.summary.value
    ]


def test_scalar_values_exact(logdir):
    values = [0.1, -2.5, 1e-30, 3.3e38, 1e39, -1e39, math.inf, -math.inf, 0.0, -0.0, 7]
    with tbx.SummaryWriter(logdir) as w:
        for i, v in enumerate(values):
            w.add_scalar("loss", v, i, walltime=1000.0 + i)
        w.add_scalar("nan", math.nan, 3, walltime=5.0)
    got = summaries(logdir)
    assert [(t, s, wt) for t, s, wt, _ in got[:-1]] == [
        ("loss", i, 1000.0 + i) for i in range(len(values))
    ]
    expected = [f32(0.1), -2.5, f32(1e-30), f32(3.3e38), math.inf, -math.inf, math.inf,
                -math.inf, 0.0, -0.0, 7.0]
    assert [v.simple_value for *_, v in got[:-1]] == expected
    assert math.copysign(1, got[9][3].simple_value) == -1.0
    tag, step, wall, v = got[-1]
    assert (tag, step, wall) == ("nan", 3, 5.0) and math.isnan(v.simple_value)


def test_scalar_input_types(logdir):
    torch = pytest.importorskip("torch")
    inputs = [
        np.float32(1.25), np.float64(2.5), np.int64(3), np.array(4.5), np.array([5.5]),
        np.float16(6.5), True, torch.tensor(7.5), torch.tensor(8.5, dtype=torch.bfloat16),
        torch.tensor([9.5], dtype=torch.float16), torch.tensor(10.5, requires_grad=True) * 1,
        torch.tensor(11, dtype=torch.int32),
    ]
    with tbx.SummaryWriter(logdir) as w:
        for i, x in enumerate(inputs):
            w.add_scalar("x", x, i)
    assert [v.simple_value for *_, v in summaries(logdir)] == [
        1.25, 2.5, 3.0, 4.5, 5.5, 6.5, 1.0, 7.5, 8.5, 9.5, 10.5, 11.0
    ]


def test_steps_whole_int64_range(logdir):
    steps = [0, 1, -1, 2**31, -(2**63), 2**63 - 1, np.int64(5), np.uint8(6), np.int32(-7), 8.0]
    with tbx.SummaryWriter(logdir) as w:
        for s in steps:
            w.add_scalar("s", 1.0, s)
    assert [s for _, s, _, _ in summaries(logdir)] == [int(s) for s in steps]


def test_tags_written_exactly(logdir):
    tags = ["with space", "ünïcödé/标签", "a//b", "emoji 🎉", "x" * 1000, "tab\tnew\nline"]
    with tbx.SummaryWriter(logdir) as w:
        for t in tags:
            w.add_scalar(t, 1.0, 0)
        w.add_text("the text tag", "body", 0)
    assert [t for t, *_ in summaries(logdir)] == tags + ["the text tag/text_summary"]


BAD_CALLS = [
    (dict(tag="t", scalar_value="1.0"), TypeError, "scalar_value"),
    (dict(tag="t", scalar_value=None), TypeError, "scalar_value"),
    (dict(tag="t", scalar_value={"a": 1}), TypeError, "scalar_value"),
    (dict(tag="t", scalar_value=[1.0, 2.0]), ValueError, r"scalar_value.*shape \(2,\)"),
    (dict(tag="t", scalar_value=np.zeros((2, 2))), ValueError, "scalar_value"),
    (dict(tag="t", scalar_value=1 + 2j), TypeError, "scalar_value"),
    (dict(tag="t", scalar_value=1.0, global_step=1.5), ValueError, "global_step"),
    (dict(tag="t", scalar_value=1.0, global_step="3"), TypeError, "global_step"),
    (dict(tag="t", scalar_value=1.0, global_step=2**63), ValueError, "global_step.*int64"),
    (dict(tag="t", scalar_value=1.0, global_step=True), TypeError, "global_step"),
    (dict(tag="t", scalar_value=1.0, walltime="now"), TypeError, "walltime"),
    (dict(tag="", scalar_value=1.0), ValueError, "tag"),
    (dict(tag=None, scalar_value=1.0), TypeError, "tag"),
    (dict(tag=["a"], scalar_value=1.0), TypeError, "tag"),
    (dict(tag=b"t", scalar_value=1.0), TypeError, "tag"),
]


@pytest.mark.parametrize("kwargs,exc,match", BAD_CALLS)
def test_bad_scalar_input_keeps_writer_working(logdir, kwargs, exc, match):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("t", 1.0, 1)
    with pytest.raises(exc, match=match):
        w.add_scalar(**kwargs)
    w.add_scalar("t", 2.0, 2)
    w.close()
    assert [(t, s, v.simple_value) for t, s, _, v in summaries(logdir)] == [
        ("t", 1, 1.0), ("t", 2, 2.0)
    ]


def test_bad_text_input(logdir):
    w = tbx.SummaryWriter(logdir)
    w.add_text("t", "ok", 1)
    with pytest.raises(TypeError, match="text_string"):
        w.add_text("t", 5, 2)
    with pytest.raises(ValueError, match="tag"):
        w.add_text("", "x", 2)
    w.add_text("t", "still ok", 3)
    w.close()
    from tbx.summary.text import decode

    assert [(t, s, decode(v)) for t, s, _, v in summaries(logdir)] == [
        ("t/text_summary", 1, "ok"), ("t/text_summary", 3, "still ok")
    ]


def test_text_format_as_tensorboardx(logdir, tmp_path):
    import tensorboardX

    with tbx.SummaryWriter(logdir) as w:
        w.add_text("note", "hello **world** ünï", 4, walltime=9.0)
    with tensorboardX.SummaryWriter(str(tmp_path / "x")) as w:
        w.add_text("note", "hello **world** ünï", 4, walltime=9.0)
    ours = [e for e in read_logdir_events(logdir) if e.HasField("summary")]
    theirs = [e for e in read_logdir_events(tmp_path / "x") if e.HasField("summary")]
    assert ours[0].SerializeToString() == theirs[0].SerializeToString()


def test_add_scalars_layout_and_json(logdir, tmp_path):
    w = tbx.SummaryWriter(logdir)
    w.add_scalars("run_14h", {"xsinx": 1.5, "xcosx": np.float32(2.5)}, 3, walltime=10.0)
    w.add_scalars("run_14h", {"xsinx": 4.0}, 4, walltime=11.0)
    w.close()
    for sub, expect in [("xsinx", [(3, 1.5), (4, 4.0)]), ("xcosx", [(3, 2.5)])]:
        d = os.path.join(logdir, "run_14h", sub)
        got = [(t, s, v.simple_value) for t, s, _, v in summaries(d)]
        assert got == [("run_14h", s, v) for s, v in expect]
    out = tmp_path / "scalars.json"
    w.export_scalars_to_json(out)
    data = json.loads(out.read_text())
    assert data == {
        os.path.join(str(logdir), "run_14h", "xsinx"): [[10.0, 3, 1.5], [11.0, 4, 4.0]],
        os.path.join(str(logdir), "run_14h", "xcosx"): [[10.0, 3, 2.5]],
    }
    assert w.scalar_dict == {}


def _export_calls(w):
    w.add_scalars("run_14h", {"xsinx": 0.5, "xcosx": -1.25}, 0, walltime=100.0)
    w.add_scalars("run_14h", {"xsinx": 0.75, "tanx": 3.0}, 1, walltime=101.5)
    w.add_scalars("loss", {"train": 2.5}, 1, walltime=102.0)


def test_export_scalars_to_json_exact_and_as_tensorboardx(tmp_path):
    """The JSON text equals tensorboardX's for the same calls (values exact in float32), and an
    export holds only what was logged since the previous one, keys in first-value order."""
    tbx_dir, tx_dir = str(tmp_path / "ours"), str(tmp_path / "theirs")
    w = tbx.SummaryWriter(tbx_dir)
    _export_calls(w)
    w.export_scalars_to_json(tmp_path / "a.json")
    w.add_scalars("loss", {"train": 1.5}, 2, walltime=103.0)
    w.add_scalars("run_14h", {"tanx": -0.5}, 2, walltime=103.0)
    w.export_scalars_to_json(tmp_path / "b.json")
    w.export_scalars_to_json(tmp_path / "c.json")
    w.close()
    j = os.path.join
    assert (tmp_path / "a.json").read_text() == (
        "{"
        f'"{j(tbx_dir, "run_14h", "xsinx")}": [[100.0, 0, 0.5], [101.5, 1, 0.75]], '
        f'"{j(tbx_dir, "run_14h", "xcosx")}": [[100.0, 0, -1.25]], '
        f'"{j(tbx_dir, "run_14h", "tanx")}": [[101.5, 1, 3.0]], '
        f'"{j(tbx_dir, "loss", "train")}": [[102.0, 1, 2.5]]'
        "}"
    )
    assert (tmp_path / "b.json").read_text() == (
        "{"
        f'"{j(tbx_dir, "loss", "train")}": [[103.0, 2, 1.5]], '
        f'"{j(tbx_dir, "run_14h", "tanx")}": [[103.0, 2, -0.5]]'
        "}"
    )
    assert (tmp_path / "c.json").read_text() == "{}"

    tensorboardX = pytest.importorskip("tensorboardX")
    tx = tensorboardX.SummaryWriter(tx_dir)
    _export_calls(tx)
    tx.export_scalars_to_json(tmp_path / "tx.json")
    tx.close()
    theirs = (tmp_path / "tx.json").read_text().replace(tx_dir, tbx_dir)
    assert (tmp_path / "a.json").read_text() == theirs


def test_scalar_dict_reads_back_and_can_be_cleared(logdir):
    w = tbx.SummaryWriter(logdir)
    w.add_scalars("m", {"a": 0.25}, 7, walltime=5.0)
    key = os.path.join(str(logdir), "m", "a")
    assert w.scalar_dict == {key: [[5.0, 7, 0.25]]}
    assert w.scalar_dict == {key: [[5.0, 7, 0.25]]}  # reading does not consume
    w.scalar_dict = {}
    assert w.scalar_dict == {}
    with pytest.raises(ValueError, match="scalar_dict"):
        w.scalar_dict = {key: []}
    w.add_scalars("m", {"a": 0.5}, 8, walltime=6.0)
    assert w.scalar_dict == {key: [[6.0, 8, 0.5]]}
    w.close()
    # after close() and a reopen, both files are read in order
    w.add_scalars("m", {"a": 1.0}, 9, walltime=7.0)
    assert w.scalar_dict == {key: [[6.0, 8, 0.5], [7.0, 9, 1.0]]}
    w.close()


def test_add_scalars_memory_is_flat(logdir, tmp_path):
    """20,000 add_scalars calls of two keys retain no per-value memory (tensorboardX keeps a
    list per value: about 5.6 MB here), and the export still holds all 40,000 values."""
    import gc
    import tracemalloc

    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    for i in range(1000):
        w.add_scalars("grp", {"a": i * 0.5, "b": -i * 0.5}, i)
    w.flush()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1000, 21000):
            w.add_scalars("grp", {"a": i * 0.5, "b": -i * 0.5}, i)
        w.flush()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, grown
    w.export_scalars_to_json(tmp_path / "all.json")
    w.close()
    data = json.loads((tmp_path / "all.json").read_text())
    a, b = (data[os.path.join(str(logdir), "grp", k)] for k in "ab")
    assert [(s, v) for _, s, v in a] == [(i, i * 0.5) for i in range(21000)]
    assert [(s, v) for _, s, v in b] == [(i, -i * 0.5) for i in range(21000)]


def test_purge_step_events(logdir):
    with tbx.SummaryWriter(logdir, purge_step=42) as w:
        w.add_scalar("x", 1.0, 42)
    events = read_logdir_events(logdir)
    assert events[0].file_version == "brain.Event:2" and events[0].step == 0
    assert events[1].file_version == "brain.Event:2" and events[1].step == 42
    assert events[2].session_log.status == SessionLog.START and events[2].step == 42
    assert events[3].summary.value[0].tag == "x"


def test_default_logdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = tbx.SummaryWriter(comment="_LR_0.1")
    w.close()
    rel = os.path.relpath(w.get_logdir(), "runs")
    host = re.escape(socket.gethostname())
    assert re.fullmatch(r"[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + host + "_LR_0.1", rel), rel
    assert len(event_files(w.get_logdir())) == 1


def test_log_dir_alias_and_write_to_disk_false(tmp_path):
    w = tbx.SummaryWriter(log_dir=str(tmp_path / "alias"))
    w.close()
    assert len(event_files(tmp_path / "alias")) == 1
    w = tbx.SummaryWriter(str(tmp_path / "nothing"), write_to_disk=False)
    w.add_scalar("x", 1.0, 1)
    w.add_text("x", "y")
    w.add_scalars("m", {"a": 1.0})
    w.flush()
    w.close()
    assert not (tmp_path / "nothing").exists()


def test_flush_barrier_and_reopen_after_close(logdir):
    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    for i in range(1000):
        w.add_scalar("x", float(i), i)
    w.flush()
    assert [s for _, s, _, _ in summaries(logdir)] == list(range(1000))
    w.close()
    w.add_scalar("x", 5.0, 1000)  # after close: a new file, the old one kept
    w.close()
    assert len(event_files(logdir)) == 2
    assert [s for _, s, _, _ in summaries(logdir)] == list(range(1001))


def test_display_name_and_new_style(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("a", 0.1, 1, display_name="Alpha", summary_description="desc")
        w.add_scalar("b", 0.1, 2, new_style=True)
        w.add_scalar("c", 0.1, 3, new_style=True, double_precision=True)
    from tbx.summary.scalar import decode

    (_, _, _, a), (_, _, _, b), (_, _, _, c) = summaries(logdir)
    assert a.metadata.display_name == "Alpha" and a.metadata.summary_description == "desc"
    assert a.simple_value == f32(0.1)
    assert b.metadata.plugin_data.plugin_name == "scalars" and b.tensor.float_val == [f32(0.1)]
    assert c.tensor.double_val == [0.1]
    assert [decode(v) for v in (a, b, c)] == [f32(0.1), f32(0.1), 0.1]


def test_use_metadata(logdir):
    w = tbx.SummaryWriter(logdir)
    with w.use_metadata(global_step=9, walltime=99.0):
        w.add_scalar("x", 1.0)
        w.add_text("t", "z")
    w.add_scalar("x", 2.0, walltime=1.0)
    w.close()
    assert [(s, wt) for _, s, wt, _ in summaries(logdir)] == [(9, 99.0), (9, 99.0), (0, 1.0)]


def test_file_writer_api(logdir):
    from tbx.proto.summary_pb2 import Summary

    fw = tbx.FileWriter(logdir)
    assert fw.get_logdir() == str(logdir)
    s = Summary()
    s.value.add(tag="q", simple_value=3.0)
    fw.add_summary(s, global_step=np.int64(5), walltime=7.0)
    fw.flush()
    assert [(t, st, wt, v.simple_value) for t, st, wt, v in summaries(logdir)] == [
        ("q", 5, 7.0, 3.0)
    ]
    fw.close()
    fw.reopen()
    fw.add_summary(s, 6)
    fw.close()
    assert len(event_files(logdir)) == 2


def test_add_scalar_bytes_equal_protobuf(tmp_path):
    """The inline fast path writes exactly what protobuf serialises for the same Event."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tbx.proto.event_pb2 import Event

    w = tbx.SummaryWriter(tmp_path / "h", flush_secs=3600)
    expected = []

    @settings(max_examples=1500, deadline=None)
    @given(
        tag=st.text(min_size=1, max_size=50),
        value=st.floats(allow_nan=False),
        step=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        wall=st.floats(allow_nan=False, allow_infinity=False),
    )
    def log(tag, value, step, wall):
        w.add_scalar(tag, value, step, walltime=wall)
        e = Event(wall_time=wall, step=step or 0)
        e.summary.value.add(tag=tag, simple_value=value)
        expected.append(e.SerializeToString())

    log()
    w.close()
    from tbx.record import scan_records

    (path,) = event_files(tmp_path / "h")
    data = open(path, "rb").read()
    got = [bytes(p) for p in scan_records(data).payloads(data)][1:]
    assert got == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.add_scalars("../../x", {"a": 1.0}, 1),
        lambda w: w.add_scalars("/abs/path", {"a": 1.0}, 1),
        lambda w: w.add_scalars("m", {"ok": 1.0, "../../../escape": 1.0}, 1),
        lambda w: w.add_scalars("m", {"..": 1.0}, 1),
        lambda w: w.add_hparams({"lr": 0.1}, {"m": 1.0}, name="../../esc_hp"),
    ],
)
def test_sub_runs_never_leave_the_run_folder(tmp_path, call):
    w = tbx.SummaryWriter(tmp_path / "a" / "b")
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(ValueError, match=r"sub-run folder inside the run's folder"):
        call(w)
    w.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]
    assert [p.name for p in (tmp_path / "a" / "b").iterdir() if p.is_dir()] == []
    assert [t for t, *_ in summaries(tmp_path / "a" / "b")] == ["before"]


def test_bad_constructor_arguments(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        tbx.SummaryWriter(tmp_path / "file")
    with pytest.raises(TypeError, match="logdir must be a str"):
        tbx.SummaryWriter(123)
    with pytest.raises(TypeError, match="flush_sec"):
        tbx.SummaryWriter(tmp_path / "r", flush_sec=5)


@pytest.mark.parametrize("wall", [math.nan, math.inf, -math.inf])
def test_non_finite_walltime_refused(logdir, wall):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("x", 1.0, 1, walltime=5.0)
    with pytest.raises(ValueError, match="walltime must be a finite number"):
        w.add_scalar("x", 2.0, 2, walltime=wall)
    with pytest.raises(ValueError, match="walltime must be a finite number"):
        w.add_text("t", "x", 2, walltime=wall)
    w.close()
    assert [(t, s, wt) for t, s, wt, _ in summaries(logdir)] == [("x", 1, 5.0)]


def test_huge_python_int_scalar(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("big", 10**400, 1)
        w.add_scalar("big", -(10**400), 2)
    assert [v.simple_value for *_, v in summaries(logdir)] == [math.inf, -math.inf]


def test_purge_step_reaches_add_scalars_sub_runs(logdir):
    """Resume at step 5 a run that logged steps 0-9 with add_scalars and add_scalar, log steps
    5-7 again: TensorBoard and tbx.read show steps 0-7 once each, in the run and in grp/a and
    grp/b (every file the resumed writer opens starts with the purge)."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        EventAccumulator,
    )

    with tbx.SummaryWriter(logdir) as w:
        for s in range(10):
            w.add_scalars("grp", {"a": s, "b": -s}, s)
            w.add_scalar("loss", s, s)
    with tbx.SummaryWriter(logdir, purge_step=5) as w:
        for s in range(5, 8):
            w.add_scalars("grp", {"a": 100 + s, "b": -100 - s}, s)
            w.add_scalar("loss", 100 + s, s)

    def expect(sign):
        return [(s, float(sign * s)) for s in range(5)] + [
            (s, float(sign * (100 + s))) for s in range(5, 8)
        ]

    want = {(".", "loss"): expect(1), ("grp/a", "grp"): expect(1), ("grp/b", "grp"): expect(-1)}
    df = tbx.read(logdir).scalars
    got = {
        (run, tag): list(zip(g["step"].tolist(), g["value"].tolist(), strict=True))
        for (run, tag), g in df.groupby(["run", "tag"])
    }
    assert got == want
    for (run, tag), points in want.items():
        acc = EventAccumulator(str(logdir / run), size_guidance={SCALARS: 0})
        acc.Reload()
        assert [(e.step, e.value) for e in acc.Scalars(tag)] == points, run
    for sub in ("a", "b"):
        files = event_files(logdir / "grp" / sub)
        assert len(files) == 2
        first = read_logdir_events(logdir / "grp" / sub)[11:14]  # the second file's start
        assert first[0].file_version and first[0].step == 0
        assert first[1].file_version and first[1].step == 5
        assert first[2].session_log.status == SessionLog.START and first[2].step == 5
