"""Change tracking: after any change to a logdir (runs and files vanishing, files shrinking or
replaced under the same name, files appearing out of name order), a refresh leaves the provider
holding exactly what a fresh provider reading the logdir holds, and ``Changes`` says what
happened. Every test runs with the C kernel and with the pure-Python fallback.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings

import numpy as np
import pytest

import tbx
from tbx.proto.event_pb2 import Event
from tbx.proto.summary_pb2 import Summary
from tbx.reader import LogdirProvider
from tbx.record import frame_record

MIN_STEP = -(1 << 63)  # tbx.reader.provider.MIN_STEP: a cut that drops every point


@pytest.fixture(autouse=True)
def _quiet_corruption_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.fixture(autouse=True, params=["held", "evicted"])
def budget(request, monkeypatch):
    """Every test runs twice: with every point held, and with a memory budget of 0 bytes (every
    series evicted after each block and each read, so every read reads it back from its files);
    ``fresh()`` always holds every point, so the two are compared."""
    if request.param == "evicted":
        from tbx.reader import _budget, _core

        class Nothing(_budget.Budget):
            def __init__(self, limit):
                super().__init__(0 if limit is None else limit)

        monkeypatch.setattr(_core, "Budget", Nothing)
    return request.param


def snapshot(p: LogdirProvider) -> dict:
    """Everything the provider holds: runs, series with their info, metadata and every point,
    file ids, corruptions and problems (as plain values, comparable with ``==``)."""
    out = {"runs": p.runs(), "corruptions": sorted(p.corruptions(), key=repr),
           "problems": sorted(p.problems(), key=repr)}  # both in the order found
    for run in p.runs():
        out[run, "tags"] = p.tags(run)
        out[run, "files"] = [(path, size) for path, size, _ in p.files(run)]
        for tag, plugin, info in p.series(run):
            if info.data_class == "scalar":
                s = p.scalars(run, tag, plugin=plugin)
                values = s.value.tolist()
            elif info.data_class == "tensor":
                s = p.tensors(run, tag, plugin=plugin)
                values = [(v.dtype.str, v.tolist()) for v in s.values]
            else:
                s = p.blobs(run, tag, plugin=plugin)
                values = [list(v) for v in s.values]
            ids, names = p._reader.file_ids(run, tag, plugin)
            out[run, tag, plugin] = (info, p.metadata(run, tag, plugin=plugin).SerializeToString(),
                                     s.step.tolist(), s.wall_time.tolist(), values,
                                     [names[i] for i in ids.tolist()])
    return out


def fresh(logdir) -> LogdirProvider:
    p = LogdirProvider(logdir, memory_budget=1 << 60)  # holds everything, even when evicting
    p.refresh()
    return p


def scalar_event(tag, value, step, wall=1000.0):
    return Event(wall_time=wall, step=step, summary=Summary(
        value=[Summary.Value(tag=tag, simple_value=value)])).SerializeToString()


def header(wall=999.0):
    return Event(wall_time=wall, step=0, file_version="brain.Event:2").SerializeToString()


def write_events(path, events) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"".join(frame_record(e) for e in events))


def log_run(logdir, name, steps, offset=0.0, tag="loss"):
    with tbx.SummaryWriter(os.path.join(logdir, name)) as w:
        for i in steps:
            w.add_scalar(tag, offset + i, i, walltime=1000.0 + i)


def test_vanished_run_is_dropped_and_logged_once(tmp_path, impl, caplog):
    log_run(tmp_path, "a", range(5))
    log_run(tmp_path, "b", range(7))
    p = fresh(tmp_path)
    assert p.runs() == ["a", "b"]
    shutil.rmtree(tmp_path / "b")
    with caplog.at_level(logging.INFO, logger="tbx.reader"):
        ch = p.refresh()
        p.refresh()
    assert p.runs() == ["a"]
    assert ch.removed_runs == ["b"]
    assert ch.removed_series == [("b", "loss", "scalars")]
    assert [r.getMessage() for r in caplog.records] == [
        "tbx: run 'b' vanished (no event files left): dropped"]
    with pytest.raises(KeyError):
        p.scalars("b", "loss")
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_run_deleted_and_recreated_holds_only_the_new_points(tmp_path, impl):
    """The issue's demo --overwrite case: 90 points in the files, never 180."""
    log_run(tmp_path, "run", range(90))
    p = fresh(tmp_path)
    shutil.rmtree(tmp_path / "run")
    log_run(tmp_path, "run", range(90), offset=0.5)
    ch = p.refresh()
    s = p.scalars("run", "loss")
    assert s.step.tolist() == list(range(90))
    assert s.value.tolist() == [i + 0.5 for i in range(90)]
    assert ch.reset_series == [("run", "loss", "scalars")]
    assert ch.purged_series == {("run", "loss", "scalars"): MIN_STEP}
    assert ch.appended_series == {("run", "loss", "scalars"): 90}
    # the per-tag fields say the same for callers that predate plugins
    assert ch.purged == {("run", "loss"): MIN_STEP} and ch.appended == {("run", "loss"): 90}
    assert ch.new_series == [] and ch.new_runs == [] and ch.removed_runs == []
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_file_replaced_by_a_shorter_one_is_read_again(tmp_path, impl, caplog):
    path = str(tmp_path / "r" / "events.out.tfevents.1")
    write_events(path, [header()] + [scalar_event("x", i, i) for i in range(20)])
    p = fresh(tmp_path)
    assert len(p.scalars("r", "x")) == 20
    write_events(path, [header(5.0)] + [scalar_event("x", 100 + i, i) for i in range(3)])
    with caplog.at_level(logging.INFO, logger="tbx.reader"):
        ch = p.refresh()
    assert p.scalars("r", "x").value.tolist() == [100.0, 101.0, 102.0]
    assert ch.reset_series == [("r", "x", "scalars")]
    # 40-byte header record, 38 or 39 bytes per scalar record (steps >= 10 take 2 varint bytes)
    assert [r.getMessage() for r in caplog.records] == [
        "tbx: run 'r': event file events.out.tfevents.1 shrank from 818 to 155 bytes: "
        "read again from the start"]
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_file_rewritten_in_place_with_more_bytes_is_read_again(tmp_path, impl):
    """Same inode, larger size (``cp new old``): its first record differs, so it is re-read."""
    path = str(tmp_path / "r" / "events.out.tfevents.1")
    write_events(path, [header(1.0)] + [scalar_event("x", i, i) for i in range(3)])
    p = fresh(tmp_path)
    ino = os.stat(path).st_ino
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(b"".join(frame_record(e) for e in
                         [header(2.0)] + [scalar_event("x", 10 + i, i) for i in range(6)]))
    assert os.stat(path).st_ino == ino
    ch = p.refresh()
    assert p.scalars("r", "x").value.tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    assert ch.reset_series == [("r", "x", "scalars")]
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_file_replaced_by_rename_is_read_again(tmp_path, impl):
    """Log rotation: another inode under the same name, even with the same size."""
    path = str(tmp_path / "r" / "events.out.tfevents.1")
    write_events(path, [header(1.0)] + [scalar_event("x", i, i) for i in range(4)])
    p = fresh(tmp_path)
    write_events(path + ".new", [header(1.0)] + [scalar_event("x", 7, i) for i in range(4)])
    os.replace(path + ".new", path)
    p.refresh()
    assert p.scalars("r", "x").value.tolist() == [7.0] * 4
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_vanished_file_of_a_run_takes_its_points_and_its_purges(tmp_path, impl):
    """The second file purged steps >= 5 of the first; once it is gone, they are back."""
    first = str(tmp_path / "r" / "events.out.tfevents.1")
    second = str(tmp_path / "r" / "events.out.tfevents.2")
    write_events(first, [header()] + [scalar_event("x", i, i) for i in range(10)])
    write_events(second, [Event(step=5, file_version="brain.Event:2").SerializeToString(),
                          scalar_event("x", 50, 5), scalar_event("y", 1, 5)])
    p = fresh(tmp_path)
    assert p.scalars("r", "x").step.tolist() == [0, 1, 2, 3, 4, 5]
    os.remove(second)
    ch = p.refresh()
    assert p.scalars("r", "x").step.tolist() == list(range(10))
    assert p.scalars("r", "x").value.tolist() == [float(i) for i in range(10)]
    assert ch.reset_series == [("r", "x", "scalars")]
    assert ch.removed_series == [("r", "y", "scalars")]
    assert [f[0] for f in p.files("r")] == [first]
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_file_appearing_before_files_already_read(tmp_path, impl):
    """A fresh read takes files in name order; so does the provider after the refresh."""
    write_events(str(tmp_path / "r" / "events.out.tfevents.2"),
                 [header()] + [scalar_event("x", 20 + i, 5 + i) for i in range(3)])
    p = fresh(tmp_path)
    write_events(str(tmp_path / "r" / "events.out.tfevents.1"),
                 [header()] + [scalar_event("x", i, i) for i in range(5)])
    ch = p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert ch.reset_series == [("r", "x", "scalars")]
    assert snapshot(p) == snapshot(fresh(tmp_path))
    # growing files afterwards: appended, no reset
    with open(tmp_path / "r" / "events.out.tfevents.2", "ab") as f:
        f.write(frame_record(scalar_event("x", 99, 8)))
    ch = p.refresh()
    assert ch.reset_series == [] and ch.appended_series == {("r", "x", "scalars"): 1}
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_two_writers_in_one_run_growing_in_turn(tmp_path, impl):
    """A file that grows after a later one was read (several writers in one run): its points
    go before the later file's, and a purge read from the later file drops them."""
    first = str(tmp_path / "r" / "events.out.tfevents.1")
    second = str(tmp_path / "r" / "events.out.tfevents.2")
    write_events(first, [header()] + [scalar_event("x", i, i) for i in range(3)]
                 + [scalar_event("own1", 1, 0)])
    write_events(second, [header()] + [scalar_event("x", 10 + i, 10 + i) for i in range(2)]
                 + [scalar_event("own2", 2, 0)])
    p = fresh(tmp_path)

    def append(path, events):
        with open(path, "ab") as f:
            f.write(b"".join(frame_record(e) for e in events))

    append(first, [scalar_event("x", 3, 3), scalar_event("own1", 1, 1)])
    ch = p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 1, 2, 3, 10, 11]
    # "x" got a point in the middle: reset; "own1" only grew at its end: appended
    assert ch.reset_series == [("r", "x", "scalars")]
    assert ch.appended_series == {("r", "x", "scalars"): 6, ("r", "own1", "scalars"): 1}
    assert ch.purged_series == {("r", "x", "scalars"): MIN_STEP}
    assert snapshot(p) == snapshot(fresh(tmp_path))
    append(second, [Event(step=11, file_version="brain.Event:2").SerializeToString(),
                    scalar_event("x", 99, 11)])
    p.refresh()
    assert p.scalars("r", "x").value.tolist() == [0.0, 1.0, 2.0, 3.0, 10.0, 99.0]
    append(first, [scalar_event("x", 20, 20), scalar_event("x", 4, 4)])  # 20: purged at 11
    ch = p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 1, 2, 3, 4, 10, 11]
    assert snapshot(p) == snapshot(fresh(tmp_path))


def test_appending_is_still_incremental(tmp_path, impl):
    path = str(tmp_path / "r" / "events.out.tfevents.1")
    write_events(path, [header()] + [scalar_event("x", i, i) for i in range(3)])
    p = fresh(tmp_path)
    size = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(frame_record(scalar_event("x", 3, 3)))
    ch = p.refresh()
    assert ch.bytes_read == os.path.getsize(path) - size
    assert ch.appended_series == {("r", "x", "scalars"): 1} and ch.appended == {("r", "x"): 1}
    assert ch.reset_series == [] and ch.purged_series == {}
    ch = p.refresh()
    assert not ch and ch.bytes_read == 0


def test_one_tag_with_scalars_histograms_and_images(tmp_path, impl):
    """TensorBoard keeps a tag per plugin: each kind is its own series."""
    img = np.zeros((3, 4, 5), np.uint8)
    img[0] = 255
    with tbx.SummaryWriter(tmp_path / "run") as w:
        for i in range(3):
            w.add_scalar("weights", 0.5 * i, i, walltime=10.0 + i)
            w.add_histogram("weights", np.arange(4, dtype=np.float64) + i, i, walltime=20.0 + i)
        w.add_image("weights", img, 7, walltime=30.0)
    p = LogdirProvider(tmp_path)
    ch = p.refresh()
    assert ch.new_series == [("run", "weights", "scalars"), ("run", "weights", "histograms"),
                             ("run", "weights", "images")]
    assert ch.appended_series == {("run", "weights", "scalars"): 3,
                                  ("run", "weights", "histograms"): 3,
                                  ("run", "weights", "images"): 1}
    assert ch.new_tags == [("run", "weights")] and ch.appended == {("run", "weights"): 3}
    assert [(t, pl, i.data_class, i.count) for t, pl, i in p.series("run")] == [
        ("weights", "scalars", "scalar", 3), ("weights", "histograms", "tensor", 3),
        ("weights", "images", "blob", 1)]
    # the old surface: the first kind written
    assert p.tags("run")["weights"].plugin_name == "scalars"
    assert p.scalars("run", "weights").value.tolist() == [0.0, 0.5, 1.0]
    # the new one: per plugin
    assert list(p.tags("run", plugin="histograms")) == ["weights"]
    assert list(p.tags("run", plugin="images")) == ["weights"]
    assert p.tags("run", plugin="audio") == {}
    h = p.tensors("run", "weights", plugin="histograms")
    assert h.step.tolist() == [0, 1, 2] and h.wall_time.tolist() == [20.0, 21.0, 22.0]
    assert [float(v[:, 2].sum()) for v in h.values] == [4.0, 4.0, 4.0]
    assert h.values[2][0, 0] == 2.0 and h.values[2][-1, 1] == 5.0  # min, max
    assert p.tensors("run", "weights").step.tolist() == [0, 1, 2]  # first tensor series
    b = p.blobs("run", "weights", plugin="images")
    assert b.step.tolist() == [7] and b.values[0][:2] == [b"5", b"4"]
    assert p.blobs("run", "weights").step.tolist() == [7]
    assert p.metadata("run", "weights", plugin="images").plugin_data.plugin_name == "images"
    with pytest.raises(KeyError):
        p.scalars("run", "weights", plugin="audio")
    with pytest.raises(TypeError):
        p.scalars("run", "weights", plugin="histograms")


def test_plugin_named_once_then_inherited(tmp_path, impl):
    """TF2 style: metadata on the first Value of a tag only; later tensors follow it."""
    from tbx.proto.summary_pb2 import SummaryMetadata
    from tbx.summary.tensor import numpy_to_tensor

    def tensor_event(step, value, plugin=None):
        v = Summary.Value(tag="t", tensor=numpy_to_tensor(np.asarray(value, np.float32)))
        if plugin is not None:
            v.metadata.CopyFrom(SummaryMetadata(
                plugin_data=SummaryMetadata.PluginData(plugin_name=plugin)))
        return Event(wall_time=1.0, step=step,
                     summary=Summary(value=[v])).SerializeToString()

    write_events(str(tmp_path / "r" / "events.out.tfevents.1"), [
        header(), tensor_event(0, 1.5, "scalars"), tensor_event(1, 2.5),
        tensor_event(2, [1, 2], "custom"), tensor_event(3, [3, 4]), scalar_event("t", 9, 4)])
    p = fresh(tmp_path)
    assert [(pl, i.data_class, i.count) for _, pl, i in p.series("r")] == [
        ("scalars", "scalar", 3), ("custom", "tensor", 2)]
    s = p.scalars("r", "t")
    assert s.step.tolist() == [0, 1, 4] and s.value.tolist() == [1.5, 2.5, 9.0]
    assert [v.tolist() for v in p.tensors("r", "t", plugin="custom").values] == [[1, 2], [3, 4]]


def test_fsspec_store_vanished_shrunk_and_replaced(impl):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    root = "/tbx-tracking"
    if fs.exists(root):
        fs.rm(root, recursive=True)

    def put(path, events):
        fs.pipe(f"{root}/{path}", b"".join(frame_record(e) for e in events))

    put("a/events.out.tfevents.1", [header()] + [scalar_event("x", i, i) for i in range(6)])
    put("b/events.out.tfevents.1", [header()] + [scalar_event("x", i, i) for i in range(2)])
    url = f"memory://{root}"
    p = fresh(url)
    put("a/events.out.tfevents.1", [header(3.0)] + [scalar_event("x", 40, 0)])  # shorter
    fs.rm(f"{root}/b", recursive=True)
    ch = p.refresh()
    assert p.runs() == ["a"] and ch.removed_runs == ["b"]
    assert p.scalars("a", "x").value.tolist() == [40.0]
    assert snapshot(p) == snapshot(fresh(url))
    # same size, other content (an object rewritten): its first bytes differ
    put("a/events.out.tfevents.1", [header(4.0)] + [scalar_event("x", 41, 0)])
    ch = p.refresh()
    assert ch.reset_series == [("a", "x", "scalars")]
    assert p.scalars("a", "x").value.tolist() == [41.0]
    assert snapshot(p) == snapshot(fresh(url))
    fs.rm(root, recursive=True)


def test_random_changes_always_equal_a_fresh_read(tmp_path, impl):
    """Appends, new files (in and out of name order), deletions, truncations, rewrites and
    purges in random order; after each refresh, the provider equals a fresh one."""
    rng = np.random.default_rng(7)
    p = LogdirProvider(tmp_path)
    p.refresh()
    step = 0
    for _ in range(40):
        run = f"r{rng.integers(3)}"
        folder = tmp_path / run
        files = sorted(folder.glob("events.*")) if folder.exists() else []
        op = rng.integers(6)
        if op == 0 or not files:
            name = f"events.out.tfevents.{int(rng.integers(1, 9))}"
            write_events(str(folder / name), [header(float(rng.integers(100)))])
        elif op == 1:
            os.remove(files[rng.integers(len(files))])
        elif op == 2:
            path = files[rng.integers(len(files))]
            data = path.read_bytes()
            path.write_bytes(data[: int(rng.integers(len(data) + 1))])
        elif op == 3:
            write_events(str(files[rng.integers(len(files))]),
                         [header(float(rng.integers(100, 200)))])
        else:
            path = files[rng.integers(len(files))]
            events = [scalar_event(["a", "b"][int(rng.integers(2))], float(step + k), step + k)
                      for k in range(int(rng.integers(1, 5)))]
            if op == 5:
                events.insert(0, Event(step=max(1, step - 3),
                                       file_version="brain.Event:2").SerializeToString())
            with open(path, "ab") as f:
                f.write(b"".join(frame_record(e) for e in events))
            step += 4
        p.refresh()
        assert snapshot(p) == snapshot(fresh(tmp_path))
