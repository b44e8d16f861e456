"""``LogdirProvider(watch=True)``: a refresh lists only what changed (local folders watched with
watchfiles; object stores polled with back-off) and the provider still ends up equal to a fresh
read. Waits are on conditions with generous timeouts (events arrive in a background thread)."""

from __future__ import annotations

import os
import shutil
import time

import pytest

import tbx
from tbx.reader import LogdirProvider, _watch

pytest.importorskip("watchfiles")


def log(folder, tag, values, start=0):
    with tbx.SummaryWriter(folder) as w:
        for i, v in enumerate(values):
            w.add_scalar(tag, v, start + i, walltime=100.0 + start + i)


def state(p: LogdirProvider) -> dict:
    return {(r, t, pl): p.scalars(r, t, plugin=pl).value.tolist()
            for r in p.runs() for t, pl, _ in p.series(r)}


def fresh_state(logdir) -> dict:
    p = LogdirProvider(logdir)
    p.refresh()
    return state(p)


def refresh_until(p, cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p.refresh()
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met within the timeout")


@pytest.fixture
def watched(tmp_path):
    for r in ("a", "b"):
        log(tmp_path / r, "x", [1.0, 2.0])
    p = LogdirProvider(tmp_path, watch=True)
    p.refresh()
    yield tmp_path, p
    p.close()


def test_watched_logdir_follows_appends_new_runs_and_deletions(watched):
    logdir, p = watched
    assert p._reader._lister.mode == "watch"
    assert state(p) == fresh_state(logdir)
    log(logdir / "a", "x", [3.0], start=2)  # a second event file in run a
    refresh_until(p, lambda: p.scalars("a", "x").value.tolist() == [1.0, 2.0, 3.0])
    log(logdir / "c" / "deep", "y", [5.0])  # new folders, two levels
    refresh_until(p, lambda: "c/deep" in p.runs())
    assert p.scalars("c/deep", "y").value.tolist() == [5.0]
    shutil.rmtree(logdir / "b")
    refresh_until(p, lambda: "b" not in p.runs())
    assert state(p) == fresh_state(logdir)


def test_idle_refresh_lists_nothing_and_a_change_lists_one_folder(tmp_path, monkeypatch):
    for r in range(30):
        log(tmp_path / f"r{r:02d}", "x", [float(r)])
    with LogdirProvider(tmp_path, watch=True) as p:
        p.refresh()
        lister = p._reader._lister
        refresh_until(p, lambda: lister.listings >= 2)  # the safety listing after start
        walked = []
        original = p._reader._fs.walk

        def spy(stack, *a, **kw):
            walked.append([folder for folder, _ in stack])
            return original(stack, *a, **kw)

        monkeypatch.setattr(p._reader._fs, "walk", spy)
        lister._rescan_at = float("inf")  # no periodic whole listing in this test
        lister._watcher.take()
        for _ in range(20):
            assert not p.refresh()
        assert walked == []
        log(tmp_path / "r07", "x", [70.0], start=1)
        refresh_until(p, lambda: p.scalars("r07", "x").value.tolist() == [7.0, 70.0])
        assert walked and all(w == [str(tmp_path / "r07")] for w in walked)
        assert state(p) == fresh_state(tmp_path)


def test_no_file_handle_per_run(tmp_path):
    for r in range(300):
        log(tmp_path / f"r{r:03d}", "x", [1.0])
    fds = len(os.listdir("/proc/self/fd"))
    with LogdirProvider(tmp_path, watch=True) as p:
        p.refresh()
        assert len(p.runs()) == 300
        assert len(os.listdir("/proc/self/fd")) - fds < 10  # the watcher's few, not 300
    q = LogdirProvider(tmp_path)
    q.refresh()
    assert len(os.listdir("/proc/self/fd")) - fds < 10


def test_object_store_is_polled_with_back_off(monkeypatch):
    fsspec = pytest.importorskip("fsspec")
    from tbx.proto.event_pb2 import Event
    from tbx.proto.summary_pb2 import Summary
    from tbx.record import frame_record

    fs = fsspec.filesystem("memory")
    root = "/tbx-watch-poll"
    if fs.exists(root):
        fs.rm(root, recursive=True)

    def put(n):
        fs.pipe(f"{root}/r/events.out.tfevents.1", b"".join(
            frame_record(Event(step=i, wall_time=1.0, summary=Summary(value=[
                Summary.Value(tag="x", simple_value=float(i))])).SerializeToString())
            for i in range(n)))

    put(2)
    clock = [1000.0]
    monkeypatch.setattr(_watch.time, "monotonic", lambda: clock[0])
    p = LogdirProvider(f"memory://{root}", watch=True)
    lister, req = p._reader._lister, p._reader._fs.requests
    assert lister.mode == "poll"
    p.refresh()
    assert p.scalars("r", "x").value.tolist() == [0.0, 1.0]
    listings = req["listings"]
    waits = []
    for _ in range(7):  # nothing changes: each listing waits twice as long, up to a minute
        assert not p.refresh()  # not due yet: no request at all
        assert req["listings"] == listings
        waits.append(lister._due - clock[0])
        clock[0] = lister._due
        p.refresh()
        listings += 1
        assert req["listings"] == listings
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    put(3)
    clock[0] = lister._due
    assert p.refresh().appended_series == {("r", "x", "scalars"): 1}  # the object grew
    assert lister._due - clock[0] == _watch.POLL_MIN  # back to the minimum
    assert p.scalars("r", "x").value.tolist() == [0.0, 1.0, 2.0]
    fs.rm(root, recursive=True)


def test_network_file_systems_are_polled(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        f"40 22 0:50 / {tmp_path}/nfs rw - nfs4 server:/export rw\n"
        f"41 22 0:51 / {tmp_path}/f rw - fuse.sshfs host: rw\n")
    assert _watch.mount_type(str(tmp_path / "nfs" / "logs"), str(info)) == "nfs4"
    assert _watch.mount_type(str(tmp_path / "other"), str(info)) == "ext4"
    assert _watch._networked("nfs4") and _watch._networked("fuse.sshfs")
    assert not _watch._networked("ext4") and not _watch._networked(None)


def test_without_watchfiles_a_local_logdir_is_polled(tmp_path, monkeypatch):
    import sys

    log(tmp_path / "a", "x", [1.0])
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # import fails
    with LogdirProvider(tmp_path, watch=True) as p:
        assert p._reader._lister.mode == "poll"
        p.refresh()
        assert p.runs() == ["a"]
    assert LogdirProvider(tmp_path)._reader._lister.mode == "list"
