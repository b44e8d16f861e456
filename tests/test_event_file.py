"""EventFileWriter: naming, first record, flush barrier, periodic writes, close, reopen, fork,
exit without close."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import event_files, read_events

from tbx.event_file import EventFileWriter
from tbx.proto.event_pb2 import Event

NAME = re.compile(r"^events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)(.*)$")


def scalar_event(step: int) -> bytes:
    e = Event(wall_time=1000.0 + step, step=step)
    e.summary.value.add(tag="v", simple_value=float(step))
    return e.SerializeToString()


def steps_in(path) -> list[int]:
    return [e.step for e in read_events(path) if e.HasField("summary")]


def test_file_name_and_first_record(logdir):
    before = int(time.time())
    w = EventFileWriter(logdir, filename_suffix=".sfx")
    w.close()
    (path,) = event_files(logdir)
    m = NAME.match(os.path.basename(path))
    assert m, path
    assert before <= int(m.group(1)) <= int(time.time())
    assert m.group(2) == socket.gethostname()
    assert int(m.group(3)) == os.getpid()
    assert m.group(5) == ".sfx"
    (first,) = read_events(path)
    assert first.file_version == "brain.Event:2"
    assert before <= first.wall_time <= time.time()


def test_two_writers_never_share_a_file(logdir):
    a, b = EventFileWriter(logdir), EventFileWriter(logdir)
    a.add_event_bytes(scalar_event(1))
    b.add_event_bytes(scalar_event(2))
    a.close()
    b.close()
    assert a.path != b.path
    assert steps_in(a.path) == [1]
    assert steps_in(b.path) == [2]


def test_flush_is_a_barrier(logdir):
    w = EventFileWriter(logdir, flush_secs=3600)
    for i in range(1, 50001):
        w.add_event_bytes(scalar_event(i))
        if i % 10007 == 0:
            w.flush()
            assert steps_in(w.path) == list(range(1, i + 1))
    w.flush()
    assert steps_in(w.path) == list(range(1, 50001))
    w.close()


def test_events_reach_the_file_without_flush(logdir):
    w = EventFileWriter(logdir, flush_secs=0.05)
    w.add_event_bytes(scalar_event(7))
    deadline = time.monotonic() + 30
    while steps_in(w.path) != [7]:
        assert time.monotonic() < deadline, "event never reached the file"
        time.sleep(0.02)
    w.close()


def test_close_is_idempotent_and_reopen_makes_a_new_file(logdir):
    w = EventFileWriter(logdir)
    w.add_event_bytes(scalar_event(1))
    w.close()
    w.close()
    first = w.path
    w.add_event_bytes(scalar_event(2))
    w.close()
    assert w.path != first
    assert steps_in(first) == [1]
    assert steps_in(w.path) == [2]
    assert [os.path.basename(p) for p in event_files(logdir)] == sorted(
        os.path.basename(p) for p in (first, w.path)
    )


def test_close_stops_the_thread(logdir):
    w = EventFileWriter(logdir)
    thread = w._thread
    assert thread.is_alive()
    w.close()
    assert not thread.is_alive()


@pytest.mark.parametrize("bad", [0, -1, "2", None, float("nan")])
def test_bad_flush_secs(logdir, bad):
    with pytest.raises(ValueError, match="flush_secs"):
        EventFileWriter(logdir, flush_secs=bad)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_writes_its_own_file(logdir):
    w = EventFileWriter(logdir, flush_secs=3600)
    w.add_event_bytes(scalar_event(1))  # pending in the parent at fork time
    pid = os.fork()
    if pid == 0:  # child
        try:
            w.add_event_bytes(scalar_event(100))
            w.close()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    w.add_event_bytes(scalar_event(2))
    w.close()
    files = event_files(logdir)
    assert len(files) == 2
    parent = [p for p in files if f".{os.getpid()}." in os.path.basename(p)]
    child = [p for p in files if f".{pid}." in os.path.basename(p)]
    assert steps_in(parent[0]) == [1, 2]
    assert steps_in(child[0]) == [100]
    assert read_events(child[0])[0].file_version == "brain.Event:2"


def test_exit_without_close_loses_nothing(tmp_path):
    code = textwrap.dedent(
        f"""
        import tbx
        w = tbx.SummaryWriter({str(tmp_path)!r}, flush_secs=3600)
        for i in range(100000):
            w.add_scalar("loss", i * 0.5, i)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    (path,) = event_files(tmp_path)
    events = [e for e in read_events(path) if e.HasField("summary")]
    assert [e.step for e in events] == list(range(100000))
    assert [e.summary.value[0].simple_value for e in events[:3]] == [0.0, 0.5, 1.0]


def test_raw_fork_child_writes_each_event_before_the_call_returns(logdir):
    """A child made by os.fork that leaves through os._exit without closing: what it handed over
    is in its file (it writes synchronously, as every worker process does)."""
    w = EventFileWriter(logdir, flush_secs=3600)
    pid = os.fork()
    if pid == 0:  # child
        try:
            for step in range(1, 201):
                w.add_event_bytes(scalar_event(step))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    w.close()
    (child,) = [p for p in event_files(logdir) if f".{pid}." in os.path.basename(p)]
    assert steps_in(child) == list(range(1, 201))


def test_sync_writer_writes_at_each_call(logdir):
    w = EventFileWriter(logdir, flush_secs=3600, sync=True)
    (path,) = event_files(logdir)
    for step in range(1, 4):
        w.add_event_bytes(scalar_event(step))
        assert steps_in(path) == list(range(1, step + 1))  # no flush, no thread
    assert w._thread is None
    w.close()
    assert steps_in(path) == [1, 2, 3]
    with pytest.raises(TypeError, match="sync"):
        EventFileWriter(logdir, sync="yes")


def test_sync_write_failure_warns_keeps_and_retries(logdir, monkeypatch):
    import errno

    import tbx.event_file as ef

    w = EventFileWriter(logdir, flush_secs=3600, sync=True)
    (path,) = event_files(logdir)
    real_write = os.write
    calls = []

    def failing_write(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(ef.os, "write", failing_write)
    with pytest.warns(RuntimeWarning, match="No space left.*kept and retried"):
        w.add_event_bytes(scalar_event(1))
    assert steps_in(path) == []
    w.add_event_bytes(scalar_event(2))  # the kept event goes first
    assert steps_in(path) == [1, 2]
    w.close()
