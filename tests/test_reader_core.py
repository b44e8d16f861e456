"""The reader's core (LogdirProvider): discovery, incremental reads, damage, purges.

Every test runs with the C kernel and with the pure-Python fallback.
"""

from __future__ import annotations

import os
import struct
import threading
import warnings

import numpy as np
import pytest
from conftest import read_logdir_events

import tbx
from tbx import record
from tbx.proto.event_pb2 import Event, SessionLog
from tbx.proto.summary_pb2 import Summary
from tbx.reader import LogdirProvider
from tbx.record import frame_record, masked_crc32c

HAVE_KERNEL = record.use_speedups(True)



@pytest.fixture(autouse=True)
def _quiet_corruption_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def scalar_event(tag, value, step, wall=1000.0):
    return Event(wall_time=wall, step=step, summary=Summary(
        value=[Summary.Value(tag=tag, simple_value=value)])).SerializeToString()


def header_event(wall=999.0, step=0):
    return Event(wall_time=wall, step=step, file_version="brain.Event:2").SerializeToString()


def write_file(folder, name, events):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(b"".join(frame_record(e) for e in events))
    return path


def read_all(logdir):
    p = LogdirProvider(logdir)
    p.refresh()
    return p


def test_scalars_round_trip(tmp_path, impl):
    w = tbx.SummaryWriter(tmp_path / "run")
    expected = {}
    for step in range(200):
        for tag, fn in (("loss", lambda s: 1.0 / (s + 1)), ("acc", lambda s: s * 0.25)):
            v = fn(step)
            w.add_scalar(tag, v, step, walltime=1e9 + step)
            expected.setdefault(tag, []).append((step, 1e9 + step, np.float32(v)))
    w.add_scalar("nan", float("nan"), 0)
    w.add_scalar("inf", float("-inf"), 7)
    w.add_scalar("big", 1e300, 1)  # beyond float32: +inf
    w.add_scalar("neg", 2.5, -5)
    w.close()
    p = read_all(tmp_path)
    assert p.runs() == ["run"]
    for tag, pts in expected.items():
        s = p.scalars("run", tag)
        assert s.step.dtype == np.int64 and s.wall_time.dtype == np.float64
        assert s.value.dtype == np.float64
        assert s.step.tolist() == [x[0] for x in pts]
        assert s.wall_time.tolist() == [x[1] for x in pts]
        assert s.value.tolist() == [float(x[2]) for x in pts]
    assert np.isnan(p.scalars("run", "nan").value[0])
    assert p.scalars("run", "inf").value.tolist() == [-np.inf]
    assert p.scalars("run", "big").value.tolist() == [np.inf]
    assert p.scalars("run", "neg").step.tolist() == [-5]
    info = p.tags("run")["loss"]
    assert (info.plugin_name, info.data_class, info.count) == ("scalars", "scalar", 200)
    assert (info.first_step, info.last_step) == (0, 199)
    assert (info.first_wall_time, info.last_wall_time) == (1e9, 1e9 + 199)
    assert p.corruptions() == []


def test_series_are_read_only_snapshots(tmp_path, impl):
    path = write_file(tmp_path / "r", "events.out.tfevents.1",
                      [header_event()] + [scalar_event("x", i, i) for i in range(3)])
    p = read_all(tmp_path)
    s = p.scalars("r", "x")
    with pytest.raises(ValueError):
        s.value[0] = 5
    with open(path, "ab") as f:
        f.write(frame_record(scalar_event("x", 9, 9)))
    p.refresh()
    assert len(s) == 3 and len(p.scalars("r", "x")) == 4


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "int8",
                                   "uint8", "bool", "bfloat16"])
def test_tensor_scalars_of_any_dtype(tmp_path, impl, dtype):
    from tbx.proto.summary_pb2 import SummaryMetadata
    from tbx.proto.tensor_pb2 import TensorProto
    from tbx.summary.tensor import numpy_to_tensor

    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    events = [header_event()]
    values = [0, 1, 3, 100] if dtype != "bool" else [0, 1, 1, 0]
    for i, v in enumerate(values):
        if dtype == "bfloat16":
            bits = np.array([v], np.float32).view(np.uint32) >> 16
            t = TensorProto(dtype=14, half_val=[int(bits[0])])
        else:
            t = numpy_to_tensor(np.array(v, dtype=dtype))
        if i == 1 and dtype in ("float32", "float64", "int32", "int64"):
            # the typed *_val form too
            field = {"float32": "float_val", "float64": "double_val", "int32": "int_val",
                     "int64": "int64_val"}[dtype]
            t = TensorProto(dtype=t.dtype, **{field: [v]})
        value = Summary.Value(tag="s", tensor=t)
        if i == 0:
            value.metadata.CopyFrom(meta)  # writers send metadata on the first Value only
        events.append(Event(wall_time=5.0 + i, step=i, summary=Summary(value=[value]))
                      .SerializeToString())
    write_file(tmp_path / "r", "events.out.tfevents.1", events)
    p = read_all(tmp_path)
    s = p.scalars("r", "s")
    assert s.value.tolist() == [float(v) for v in values]
    assert s.step.tolist() == [0, 1, 2, 3]
    assert p.tags("r")["s"].data_class == "scalar"


def test_float64_scalar_keeps_precision(tmp_path, impl):
    w = tbx.SummaryWriter(tmp_path / "r")
    w.add_scalar("d", 0.1, 0, new_style=True, double_precision=True)
    w.add_scalar("f", 0.1, 0, new_style=True)
    w.close()
    p = read_all(tmp_path)
    assert p.scalars("r", "d").value.tolist() == [0.1]
    assert p.scalars("r", "f").value.tolist() == [float(np.float32(0.1))]


def test_every_kind_round_trips(tmp_path, impl):

    rng = np.random.default_rng(0)
    img = rng.random((3, 8, 6))
    data = rng.normal(size=1000)
    w = tbx.SummaryWriter(tmp_path / "r")
    w.add_histogram("h", data, 3, walltime=50.0)
    w.add_image("img", img, 4, walltime=51.0)
    w.add_text("t", "hello *world*", 5, walltime=52.0)
    w.add_audio("snd", np.linspace(-1, 1, 80), 6, sample_rate=8000, walltime=53.0)
    w.add_pr_curve("pr", rng.integers(0, 2, 50), rng.random(50), 7, walltime=54.0)
    w.close()
    p = read_all(tmp_path)
    tags = p.tags("r")
    assert tags["h"].plugin_name == "histograms" and tags["h"].data_class == "tensor"
    assert tags["img"].plugin_name == "images" and tags["img"].data_class == "blob"
    assert tags["snd"].plugin_name == "audio" and tags["snd"].data_class == "blob"
    assert tags["t/text_summary"].plugin_name == "text"
    assert tags["pr"].plugin_name == "pr_curves"

    events = {v.tag: (e, v) for e in read_logdir_events(tmp_path / "r")
              if e.HasField("summary") for v in e.summary.value}

    # histogram: v1 histo -> [k, 3] (left, right, count), TensorBoard's data_compat layout
    h = p.tensors("r", "h")
    assert h.step.tolist() == [3] and h.wall_time.tolist() == [50.0]
    histo = events["h"][1].histo
    arr = h.values[0]
    assert arr.shape == (len(histo.bucket), 3)
    assert arr[:, 2].tolist() == list(histo.bucket)
    assert arr[:-1, 1].tolist() == list(histo.bucket_limit)[:-1]
    assert arr[0, 0] == histo.min and arr[-1, 1] == histo.max
    assert arr[1:, 0].tolist() == arr[:-1, 1].tolist()
    assert arr[:, 2].sum() == 1000

    # image: v1 -> [width, height, png]
    b = p.blobs("r", "img")
    im = events["img"][1].image
    assert b.step.tolist() == [4] and b.wall_time.tolist() == [51.0]
    assert b.values[0] == [str(im.width).encode(), str(im.height).encode(),
                           im.encoded_image_string]
    assert (im.width, im.height) == (6, 8)

    # audio: v1 -> [wav, label]
    a = p.blobs("r", "snd")
    assert a.values[0] == [events["snd"][1].audio.encoded_audio_string, b""]

    # text and PR curve: the tensors as written
    t = p.tensors("r", "t/text_summary")
    assert t.values[0].tolist() == [b"hello *world*"]
    pr = p.tensors("r", "pr")
    from tbx.summary.tensor import tensor_to_numpy

    np.testing.assert_array_equal(pr.values[0], tensor_to_numpy(events["pr"][1].tensor))
    assert pr.values[0].shape[0] == 6
    assert p.metadata("r", "pr").plugin_data.content == events["pr"][1].metadata.plugin_data \
        .content
    with pytest.raises(TypeError):
        p.scalars("r", "h")
    with pytest.raises(KeyError):
        p.tensors("r", "nope")
    with pytest.raises(KeyError):
        p.tags("nope")


def test_hparams_round_trip(tmp_path, impl):
    w = tbx.SummaryWriter(tmp_path / "r")
    w.add_hparams({"lr": 0.01, "opt": "adam", "wd": True}, {"m/acc": 0.75})
    w.close()
    df = tbx.read(tmp_path).hparams
    assert len(df) == 1
    row = df.iloc[0]
    assert row["lr"] == 0.01 and row["opt"] == "adam" and row["wd"] is np.True_ or \
        row["wd"] is True
    assert row["m/acc"] == 0.75


# ---------------------------------------------------------------------------------- discovery


def test_runs_nested_and_root(tmp_path, impl):
    write_file(tmp_path, "events.out.tfevents.1.a", [header_event(), scalar_event("x", 1, 1)])
    write_file(tmp_path / "a", "events.out.tfevents.1.a", [header_event(), scalar_event("x", 2, 1)])
    write_file(tmp_path / "a" / "b" / "c", "events.out.tfevents.1.a",
               [header_event(), scalar_event("x", 3, 1)])
    write_file(tmp_path / "empty", "notes.txt", [])
    p = read_all(tmp_path)
    assert p.runs() == [".", "a", "a/b/c"]
    assert [p.scalars(r, "x").value.tolist() for r in p.runs()] == [[1.0], [2.0], [3.0]]
    only = LogdirProvider(tmp_path, run_filter="^a/")
    only.refresh()
    assert only.runs() == ["a/b/c"]


def test_two_files_one_run_read_in_name_order(tmp_path, impl):
    # two processes writing one run folder: each file starts with its own file_version event
    write_file(tmp_path / "r", "events.out.tfevents.100.host.1.1",
               [header_event(step=0)] + [scalar_event("a", i, i) for i in range(5)])
    write_file(tmp_path / "r", "events.out.tfevents.100.host.2.1",
               [header_event(step=0)] + [scalar_event("b", 10 + i, i) for i in range(5)]
               + [scalar_event("a", 99, 99)])
    p = read_all(tmp_path)
    assert p.scalars("r", "a").step.tolist() == [0, 1, 2, 3, 4, 99]
    assert p.scalars("r", "b").value.tolist() == [10, 11, 12, 13, 14]
    assert [os.path.basename(f) for f, _, _ in p.files("r")] == [
        "events.out.tfevents.100.host.1.1", "events.out.tfevents.100.host.2.1"]


def test_missing_logdir_and_bad_regex(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LogdirProvider(tmp_path / "nope")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        LogdirProvider(tmp_path / "file")
    with pytest.raises(ValueError, match="tag_filter"):
        LogdirProvider(tmp_path, tag_filter="(")
    with pytest.raises(ValueError, match="run_filter"):
        LogdirProvider(tmp_path, run_filter="[")


def test_empty_file_and_header_only_file(tmp_path, impl):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "events.out.tfevents.1.x").write_bytes(b"")
    write_file(tmp_path / "b", "events.out.tfevents.1.x", [header_event()])
    p = read_all(tmp_path)
    assert p.runs() == ["a", "b"]
    assert p.tags("a") == {} and p.tags("b") == {}
    assert p.corruptions() == []
    assert p.files("b")[0][1] == p.files("b")[0][2]


# ---------------------------------------------------------------------------------- incremental


def test_refresh_reads_only_appended_and_picks_up_new_files_and_runs(tmp_path, impl):
    path = write_file(tmp_path / "r", "events.out.tfevents.1",
                      [header_event()] + [scalar_event("x", i, i) for i in range(3)])
    p = LogdirProvider(tmp_path)
    ch = p.refresh()
    assert ch.new_runs == ["r"] and ch.appended == {("r", "x"): 3}
    assert ch.new_tags == [("r", "x")]
    size = os.path.getsize(path)
    assert ch.bytes_read == size
    ch = p.refresh()
    assert not ch and ch.bytes_read == 0
    with open(path, "ab") as f:
        f.write(frame_record(scalar_event("x", 3, 3)))
    ch = p.refresh()
    assert ch.appended == {("r", "x"): 1} and ch.bytes_read == os.path.getsize(path) - size
    write_file(tmp_path / "r", "events.out.tfevents.2", [header_event(), scalar_event("y", 7, 1)])
    write_file(tmp_path / "s", "events.out.tfevents.1", [header_event(), scalar_event("x", 8, 1)])
    ch = p.refresh()
    assert ch.new_runs == ["s"]
    assert ch.appended == {("r", "y"): 1, ("s", "x"): 1}
    assert p.scalars("r", "x").value.tolist() == [0, 1, 2, 3]


def test_file_cut_at_every_byte_of_its_last_three_records(tmp_path, impl):
    events = [header_event()] + [scalar_event("x", float(i) * 0.5, i, wall=100.0 + i)
                                 for i in range(6)]
    events.append(Event(wall_time=200.0, step=6, summary=Summary(value=[
        Summary.Value(tag="t", simple_value=1.5), Summary.Value(tag="x", simple_value=3.0)]))
        .SerializeToString())
    full = b"".join(frame_record(e) for e in events)
    bounds = [0]
    for e in events:
        bounds.append(bounds[-1] + len(e) + 16)
    start = bounds[-4]
    expected_x = [(i, 100.0 + i, i * 0.5) for i in range(6)] + [(6, 200.0, 3.0)]
    folder = tmp_path / "r"
    folder.mkdir()
    path = folder / "events.out.tfevents.1"
    for cut in range(start, len(full) + 1):
        path.write_bytes(full[:cut])
        p = LogdirProvider(tmp_path)
        p.refresh()
        complete = max(i for i, b in enumerate(bounds) if b <= cut)
        n_x = sum(1 for e in events[1:complete] if b'\x0a\x01x' in e)
        got = p.scalars("r", "x") if "x" in p.tags("r") else None
        want = expected_x[:n_x]
        assert got is not None
        assert list(zip(got.step.tolist(), got.wall_time.tolist(), got.value.tolist(),
                        strict=True)) == want, cut
        assert p.corruptions() == []
        assert p.files("r")[0][2] == bounds[complete]
        # the rest arrives: the same provider resumes where it stopped
        path.write_bytes(full)
        p.refresh()
        got = p.scalars("r", "x")
        assert list(zip(got.step.tolist(), got.wall_time.tolist(), got.value.tolist(),
                        strict=True)) == expected_x, cut
        assert p.scalars("r", "t").value.tolist() == [1.5]
        assert p.corruptions() == []


def test_flipped_byte_in_the_middle(tmp_path, impl):
    events = [header_event()] + [scalar_event("x", i, i) for i in range(10)]
    buf = bytearray(b"".join(frame_record(e) for e in events))
    offsets = [0]
    for e in events:
        offsets.append(offsets[-1] + len(e) + 16)
    bad = offsets[5]  # the record of step 4
    buf[bad + 12 + 3] ^= 0xFF
    path = write_file(tmp_path / "r", "events.out.tfevents.1", [])
    with open(path, "wb") as f:
        f.write(buf)
    p = LogdirProvider(tmp_path)
    with pytest.warns(RuntimeWarning, match=f"byte offset {bad}"):
        warnings.simplefilter("always")
        ch = p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert len(p.corruptions()) == 1
    c = p.corruptions()[0]
    assert (c.source, c.offset, c.reason) == (path, bad, "data CRC mismatch")
    assert ch.corruptions == [c]
    p.refresh()
    assert len(p.corruptions()) == 1  # reported once


def test_flipped_length_byte_resyncs(tmp_path, impl):
    events = [header_event()] + [scalar_event("x", i, i) for i in range(10)]
    buf = bytearray(b"".join(frame_record(e) for e in events))
    offsets = [0]
    for e in events:
        offsets.append(offsets[-1] + len(e) + 16)
    buf[offsets[3] + 1] ^= 0x10  # length field of step 2's record
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "events.out.tfevents.1").write_bytes(bytes(buf))
    p = read_all(tmp_path)
    assert p.scalars("r", "x").step.tolist() == [0, 1, 3, 4, 5, 6, 7, 8, 9]
    assert p.corruptions()[0].offset == offsets[3]
    assert p.corruptions()[0].reason == "header CRC mismatch"


def test_huge_length_field_is_never_allocated(tmp_path, impl):
    header = struct.pack("<Q", (1 << 62) + 5)
    huge = header + struct.pack("<I", masked_crc32c(header))
    body = frame_record(header_event()) + frame_record(scalar_event("x", 1, 1)) + huge + \
        b"\x00" * 8 + frame_record(scalar_event("x", 2, 2))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "events.out.tfevents.1").write_bytes(body)
    p = read_all(tmp_path)
    assert p.scalars("r", "x").value.tolist() == [1.0, 2.0]
    assert [c.reason for c in p.corruptions()] == ["length field too large"]


def test_undecodable_event_is_reported(tmp_path, impl):
    body = frame_record(header_event()) + frame_record(b"\xff\xff\xff") + \
        frame_record(scalar_event("x", 2, 2))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "events.out.tfevents.1").write_bytes(body)
    p = read_all(tmp_path)
    assert p.scalars("r", "x").value.tolist() == [2.0]
    assert [c.reason for c in p.corruptions()] == ["undecodable Event"]


# ---------------------------------------------------------------------------------- purges


def test_purge_step_drops_the_orphaned_points(tmp_path, impl):
    w = tbx.SummaryWriter(tmp_path / "r")
    for i in range(100):
        w.add_scalar("loss", i, i)
        w.add_scalar("acc", -i, i)
    w.close()
    p = LogdirProvider(tmp_path)
    p.refresh()
    w = tbx.SummaryWriter(tmp_path / "r", purge_step=50)
    for i in range(50, 70):
        w.add_scalar("loss", 1000 + i, i)
    w.close()
    ch = p.refresh()
    assert ch.purged == {("r", "loss"): 50, ("r", "acc"): 50}
    assert ch.appended == {("r", "loss"): 20}
    s = p.scalars("r", "loss")
    assert s.step.tolist() == list(range(70))
    assert s.value.tolist() == list(range(50)) + [1000.0 + i for i in range(50, 70)]
    assert p.scalars("r", "acc").step.tolist() == list(range(50))
    # read from scratch: same result
    q = read_all(tmp_path)
    assert q.scalars("r", "loss").value.tolist() == s.value.tolist()


def test_purge_matches_tensorboard(tmp_path, impl):
    from tensorboard.backend.event_processing import event_accumulator as ea

    w = tbx.SummaryWriter(tmp_path)
    for i in range(30):
        w.add_scalar("loss", i, i)
    w.close()
    w = tbx.SummaryWriter(tmp_path, purge_step=10)
    for i in range(10, 20):
        w.add_scalar("loss", 100 + i, i)
    w.close()
    acc = ea.EventAccumulator(str(tmp_path), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    want = [(e.step, e.value) for e in acc.Scalars("loss")]
    s = read_all(tmp_path).scalars(".", "loss")
    assert list(zip(s.step.tolist(), s.value.tolist(), strict=True)) == want


def test_session_log_start_inside_one_file(tmp_path, impl):
    events = [header_event()] + [scalar_event("x", i, i) for i in range(10)]
    events.append(Event(step=4, session_log=SessionLog(status=SessionLog.START))
                  .SerializeToString())
    events += [scalar_event("x", 100 + i, i) for i in range(4, 6)]
    write_file(tmp_path / "r", "events.out.tfevents.1", events)
    s = read_all(tmp_path).scalars("r", "x")
    assert s.step.tolist() == [0, 1, 2, 3, 4, 5]
    assert s.value.tolist() == [0, 1, 2, 3, 104, 105]


def test_purge_applies_to_blob_and_tensor_series(tmp_path, impl):
    w = tbx.SummaryWriter(tmp_path / "r")
    for i in range(6):
        w.add_text("t", f"v{i}", i)
    w.close()
    w = tbx.SummaryWriter(tmp_path / "r", purge_step=3)
    w.add_text("t", "new", 3)
    w.close()
    t = read_all(tmp_path).tensors("r", "t/text_summary")
    assert t.step.tolist() == [0, 1, 2, 3]
    assert [v.tolist() for v in t.values] == [[b"v0"], [b"v1"], [b"v2"], [b"new"]]


# ---------------------------------------------------------------------------------- filters


def test_tag_filter_decodes_only_the_matching_tags(tmp_path, impl, monkeypatch):
    w = tbx.SummaryWriter(tmp_path / "r")
    for i in range(5):
        w.add_scalar("keep/a", i, i)
        w.add_scalar("drop/b", i, i)
        w.add_histogram("drop/h", np.arange(10.0), i)
    w.close()
    from tbx.reader import _queries

    calls = []
    orig = _queries.decode_tensor_value
    monkeypatch.setattr(_queries, "decode_tensor_value",
                        lambda v: calls.append(v.tag) or orig(v))
    p = LogdirProvider(tmp_path, tag_filter="^keep/")
    p.refresh()
    assert list(p.tags("r")) == ["keep/a"]
    assert calls == []
    with pytest.raises(KeyError):
        p.tensors("r", "drop/h")
    q = LogdirProvider(tmp_path)  # the same read without the filter decodes when asked
    q.refresh()
    assert len(q.tensors("r", "drop/h")) == 5 and calls == ["drop/h"] * 5


# ---------------------------------------------------------------------------------- threads


def test_one_refresher_many_readers(tmp_path, impl):
    path = write_file(tmp_path / "r", "events.out.tfevents.1", [header_event()])
    p = LogdirProvider(tmp_path)
    p.refresh()
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            try:
                if "x" in p.tags("r"):
                    s = p.scalars("r", "x")
                    n = len(s)
                    assert s.step.tolist() == list(range(n))
                    assert s.value.tolist() == [float(i) for i in range(n)]
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(300):
        with open(path, "ab") as f:
            f.write(frame_record(scalar_event("x", i, i)))
        p.refresh()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(p.scalars("r", "x")) == 300


# ---------------------------------------------------------------------------------- fsspec


def test_fsspec_memory_logdir(impl):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    root = "/tbx-test-logdir"
    if fs.exists(root):
        fs.rm(root, recursive=True)
    body = b"".join(frame_record(e) for e in
                    [header_event()] + [scalar_event("x", i, i) for i in range(4)])
    fs.pipe(f"{root}/a/events.out.tfevents.1", body[:-5])
    fs.pipe(f"{root}/b/c/events.out.tfevents.1", body)
    p = LogdirProvider(f"memory://{root}")
    p.refresh()
    assert p.runs() == ["a", "b/c"]
    assert p.scalars("a", "x").value.tolist() == [0, 1, 2]
    fs.pipe(f"{root}/a/events.out.tfevents.1", body)
    p.refresh()
    assert p.scalars("a", "x").value.tolist() == [0, 1, 2, 3]
    assert p.scalars("b/c", "x").value.tolist() == [0, 1, 2, 3]
    fs.rm(root, recursive=True)


def test_object_store_fetches_the_next_batch_while_one_is_read(monkeypatch):
    """An object store's runs are read in batches, each batch's objects fetched by one call
    (one request per object, none again by the reads); the next batch's fetch is under way
    while this thread reads the current batch."""
    fsspec = pytest.importorskip("fsspec")
    from tbx.reader import _core

    fs = fsspec.filesystem("memory")
    root = "/tbx-test-pipeline"
    if fs.exists(root):
        fs.rm(root, recursive=True)
    for r in range(10):
        fs.pipe(f"{root}/r{r:02d}/events.out.tfevents.1", b"".join(
            frame_record(e) for e in [header_event()] + [scalar_event("x", r + i / 4, i)
                                                         for i in range(3)]))
    monkeypatch.setattr(_core, "PREFETCH_FILES", 4)
    p = LogdirProvider(f"memory://{root}")
    store = p._reader._fs
    calls, second = [], threading.Event()
    fetch, read_run = store.fetch, p._reader._read_run

    def spy_fetch(ranges):
        calls.append([path.split("/")[-2] for path, _, _ in ranges])
        if len(calls) == 2:
            second.set()
        return fetch(ranges)

    waited = []

    def spy_read_run(run, *args):
        if run.name == "r00":  # the first batch: the second one is being fetched meanwhile
            waited.append(second.wait(60))
        return read_run(run, *args)

    monkeypatch.setattr(store, "fetch", spy_fetch)
    monkeypatch.setattr(p._reader, "_read_run", spy_read_run)
    p.refresh()
    assert waited == [True]
    assert calls == [[f"r{r:02d}" for r in range(i, min(i + 4, 10))] for i in (0, 4, 8)]
    assert store.requests["reads"] == 10
    assert p.runs() == [f"r{r:02d}" for r in range(10)]
    for r in range(10):
        s = p.scalars(f"r{r:02d}", "x")
        assert s.step.tolist() == [0, 1, 2] and s.value.tolist() == [r, r + 0.25, r + 0.5]
    fs.rm(root, recursive=True)


def test_v2_tensor_forms_of_every_kind(tmp_path, impl):
    """TensorBoard's v2 (tensor) summaries, as TF 2 writes them: metadata on the first Value
    of each tag only."""
    from tensorboard.plugins.histogram import summary_v2 as tb_hist

    from tbx.proto.summary_pb2 import SummaryMetadata
    from tbx.proto.tensor_pb2 import TensorProto
    from tbx.proto.tensor_shape_pb2 import TensorShapeProto

    def meta(plugin):
        return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin))

    def strings(vals, shape):
        return TensorProto(dtype=7, string_val=vals, tensor_shape=TensorShapeProto(
            dim=[TensorShapeProto.Dim(size=n) for n in shape]))

    hist = Summary.Value.FromString(
        tb_hist.histogram_pb("h", np.arange(10.0), buckets=5).value[0].SerializeToString())
    events = [header_event()]
    for step in range(3):
        values = [
            Summary.Value(tag="img", tensor=strings([b"4", b"2", b"png%d" % step], [3])),
            Summary.Value(tag="snd", tensor=strings([b"wav", b"label"], [1, 2])),
            Summary.Value(tag="txt", tensor=strings([b"text %d" % step], [])),
            Summary.Value(tag="h", tensor=hist.tensor),
        ]
        if step == 0:
            for v, plugin in zip(values, ("images", "audio", "text", "histograms"),
                                 strict=True):
                v.metadata.CopyFrom(meta(plugin))
        events.append(Event(wall_time=10.0 + step, step=step, summary=Summary(value=values))
                      .SerializeToString())
    write_file(tmp_path / "r", "events.out.tfevents.1", events)
    p = read_all(tmp_path)
    tags = p.tags("r")
    assert {t: (i.plugin_name, i.data_class, i.count) for t, i in tags.items()} == {
        "img": ("images", "blob", 3), "snd": ("audio", "blob", 3),
        "txt": ("text", "tensor", 3), "h": ("histograms", "tensor", 3)}
    assert p.blobs("r", "img").values[2] == [b"4", b"2", b"png2"]
    assert p.blobs("r", "snd").values[0] == [b"wav", b"label"]
    assert p.tensors("r", "txt").values[1].tolist() == b"text 1"
    h = p.tensors("r", "h").values[0]
    assert h.shape == (5, 3) and h[:, 2].sum() == 10
    data = tbx.read(tmp_path)
    assert data.text.text.tolist() == ["text 0", "text 1", "text 2"]
    assert data.images.image.tolist() == [b"png0", b"png1", b"png2"]
    assert data.images.width.tolist() == [4, 4, 4]
    assert data.audio.label.tolist() == ["label"] * 3
    assert data.histograms.num.tolist() == [10.0] * 3


def test_small_blocks_and_records_larger_than_a_block(tmp_path, impl, monkeypatch):
    from tbx.reader import _scan

    w = tbx.SummaryWriter(tmp_path / "r")
    for i in range(50):
        w.add_scalar("x", i, i)
        if i % 10 == 0:
            w.add_text("big", "y" * 700, i)  # one record larger than the block below
    w.close()
    w = tbx.SummaryWriter(tmp_path / "r", purge_step=30)
    for i in range(30, 35):
        w.add_scalar("x", 100 + i, i)
    w.close()
    whole = read_all(tmp_path)
    monkeypatch.setattr(_scan, "BLOCK", 256)
    small = read_all(tmp_path)
    for tag in ("x",):
        a, b = whole.scalars("r", tag), small.scalars("r", tag)
        assert a.step.tolist() == b.step.tolist() and a.value.tolist() == b.value.tolist()
    assert small.scalars("r", "x").step.tolist() == list(range(35))
    assert [v.tolist() for v in small.tensors("r", "big/text_summary").values] == \
        [[b"y" * 700]] * 3
    assert small.corruptions() == []


def test_out_of_order_steps_without_file_version_match_tensorboard(tmp_path, impl):
    """Files without file_version >= 2 use TensorBoard's older rule: an out-of-order step
    drops the later points of that Event's tags only."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    events = [scalar_event(t, i, i) for i in range(10) for t in ("a", "b")]
    events += [scalar_event("a", 100 + i, i) for i in range(5, 8)]
    events += [scalar_event("b", 200, 10)]
    write_file(tmp_path, "events.out.tfevents.1", events)
    acc = ea.EventAccumulator(str(tmp_path), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    p = read_all(tmp_path)
    for tag in ("a", "b"):
        s = p.scalars(".", tag)
        want = [(e.step, e.value) for e in acc.Scalars(tag)]
        assert list(zip(s.step.tolist(), s.value.tolist(), strict=True)) == want, tag
    assert p.scalars(".", "a").step.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert p.scalars(".", "b").step.tolist() == list(range(11))


def test_fsspec_segments_written_by_tbx_read_incrementally(impl):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    root = "/tbx-reader-segments"
    if fs.exists(root):
        fs.rm(root, recursive=True)
    w = tbx.SummaryWriter(f"memory://{root}/run")
    w.add_scalar("x", 1.0, 1)
    w.flush()
    p = LogdirProvider(f"memory://{root}")
    p.refresh()
    assert p.scalars("run", "x").value.tolist() == [1.0]
    for i in range(2, 5):
        w.add_scalar("x", float(i), i)
        w.flush()
    w.close()
    ch = p.refresh()
    assert ch.appended == {("run", "x"): 3}
    assert p.scalars("run", "x").step.tolist() == [1, 2, 3, 4]
    fs.rm(root, recursive=True)


def _random_events(rng, n):
    """Well-formed Events of many shapes: simple values, one-number tensors of every dtype and
    form, metadata on some, several Values per Summary, node_name, other payloads."""
    from tbx.proto.summary_pb2 import HistogramProto, SummaryMetadata
    from tbx.proto.tensor_pb2 import TensorProto
    from tbx.proto.tensor_shape_pb2 import TensorShapeProto
    from tbx.summary.tensor import numpy_to_tensor

    tags = ["a", "b/c", "ü", "", "scal", "t2"]
    out = [header_event()]
    for _ in range(n):
        values = []
        for _ in range(rng.integers(1, 4)):
            tag = tags[rng.integers(len(tags))]
            kind = rng.integers(6)
            v = Summary.Value(tag=tag)
            if kind == 0:
                v.simple_value = float(rng.normal())
            elif kind == 1:
                dt = ["float16", "float32", "float64", "int32", "int64"][rng.integers(5)]
                v.tensor.CopyFrom(numpy_to_tensor(np.array(rng.normal() * 10, dtype=dt)))
            elif kind == 2:
                field = ["float_val", "double_val", "int_val", "int64_val"][rng.integers(4)]
                dtype = {"float_val": 1, "double_val": 2, "int_val": 3, "int64_val": 9}[field]
                shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)] * rng.integers(3))
                v.tensor.CopyFrom(TensorProto(dtype=dtype, tensor_shape=shape,
                                              **{field: [int(rng.integers(-50, 50))]}))
            elif kind == 3:
                v.tensor.CopyFrom(numpy_to_tensor(rng.normal(size=(2, 3))))
            elif kind == 4:
                v.histo.CopyFrom(HistogramProto(min=0, max=1, num=2, bucket_limit=[0.5, 1],
                                                bucket=[1, 1]))
            else:
                v.tensor.CopyFrom(TensorProto(dtype=1))  # no values: zero
            if rng.random() < 0.3:
                v.metadata.CopyFrom(SummaryMetadata(display_name="d", plugin_data=(
                    SummaryMetadata.PluginData(plugin_name=["scalars", "", "custom"][
                        rng.integers(3)]))))
            if rng.random() < 0.2:
                v.node_name = "node"
            values.append(v)
        ev = Event(wall_time=float(rng.random() * 1e9), step=int(rng.integers(-5, 1 << 40)),
                   summary=Summary(value=values))
        out.append(ev.SerializeToString())
    return out


def test_kernel_and_python_decode_random_events_identically(tmp_path):
    if not HAVE_KERNEL:
        pytest.skip("tbx._speedups is not built")
    rng = np.random.default_rng(5)
    for k in range(3):
        write_file(tmp_path / f"r{k}", "events.out.tfevents.1", _random_events(rng, 300))
    results = []
    for kernel in (True, False):
        record.use_speedups(kernel)
        p = read_all(tmp_path)
        snap = {}
        for run in p.runs():
            for tag, info in p.tags(run).items():
                if info.data_class == "scalar":
                    s = p.scalars(run, tag)
                    vals = (s.step.tolist(), s.wall_time.tolist(), s.value.tolist())
                else:
                    s = p.tensors(run, tag)
                    vals = (s.step.tolist(), s.wall_time.tolist(),
                            [None if v is None else (v.dtype.str, v.tolist()) for v in s.values])
                snap[(run, tag)] = (info, repr(p.metadata(run, tag)), vals)
        results.append(snap)
        assert p.corruptions() == []
    record.use_speedups(True)
    assert results[0].keys() == results[1].keys()
    for key in results[0]:
        assert results[0][key] == results[1][key], key


def test_symlink_loop_is_read_once(tmp_path):
    import tbx

    with tbx.SummaryWriter(tmp_path / "r3") as w:
        w.add_scalar("x", 1.0, 1)
    os.symlink("..", tmp_path / "r3" / "loop")
    provider = LogdirProvider(str(tmp_path))
    provider.refresh()
    assert provider.runs() == ["r3"]
