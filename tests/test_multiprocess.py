"""A SummaryWriter across processes: pickled into spawn workers, inherited by fork, and under
torch.distributed (gloo on the CPU) with distributed="rank0" / "per_rank".

Worker processes (issue 10, item 1): every point a worker logged before its task returned is in
the files once ``pool.map`` returns, for the fork, forkserver and spawn start methods, with the
pool shut down by ``close()`` + ``join()`` and by the ``with`` block's ``terminate()``, and in a
plain ``Process`` child that never closes its writer. Read back with tbx.read and with the
official tensorboard package's EventAccumulator (every point kept: no reservoir sampling)."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle

import pytest
from conftest import event_files, read_events, read_logdir_events

import tbx


def scalars_by_file(logdir) -> dict[str, list[tuple[str, int, float]]]:
    out = {}
    for path in event_files(logdir):
        events = read_events(path)
        assert events[0].file_version == "brain.Event:2"
        out[os.path.basename(path)] = [
            (v.tag, e.step, v.simple_value)
            for e in events
            if e.HasField("summary")
            for v in e.summary.value
        ]
    return out


def _log_from_worker(writer, worker: int) -> None:
    for i in range(100):
        writer.add_scalar("worker/loss", worker * 1000 + i, i)
    writer.add_text("who", f"worker {worker}", 0)
    writer.close()


def test_pickle_roundtrip_is_lazy_and_same_run(tmp_path):
    w = tbx.SummaryWriter(tmp_path / "run", flush_secs=7, filename_suffix=".x")
    w.add_scalar("a", 1.0, 1)
    w.flush()
    copy = pickle.loads(pickle.dumps(w))
    assert copy.get_logdir() == w.get_logdir()
    assert len(event_files(tmp_path / "run")) == 1  # the copy creates no file until it logs
    copy.add_scalar("b", 2.0, 2)
    copy.close()
    w.close()
    files = scalars_by_file(tmp_path / "run")
    assert sorted(files.values()) == [[("a", 1, 1.0)], [("b", 2, 2.0)]]
    assert all(name.endswith(".x") for name in files)


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_workers_write_their_own_files(tmp_path, method):
    if method not in mp.get_all_start_methods():
        pytest.skip(f"{method} not available")
    logdir = tmp_path / "run"
    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    w.add_scalar("parent", 1.0, 0)  # pending in the parent while workers start
    ctx = mp.get_context(method)
    procs = [ctx.Process(target=_log_from_worker, args=(w, k)) for k in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    w.add_scalar("parent", 2.0, 1)
    w.close()
    files = scalars_by_file(logdir)
    assert len(files) == 3
    got = sorted(files.values())
    expected_workers = [
        [("worker/loss", i, float(k * 1000 + i)) for i in range(100)]
        + [("who/text_summary", 0, 0.0)]
        for k in (1, 2)
    ]
    assert [("parent", 0, 1.0), ("parent", 1, 2.0)] in got
    for exp in expected_workers:
        assert exp in got


def _distributed_worker(rank: int, world: int, init_file: str, logdir: str, mode: str) -> None:
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        t = torch.tensor([float(rank + 1)])
        dist.all_reduce(t)  # the group really works
        with tbx.SummaryWriter(logdir, distributed=mode) as w:
            w.add_scalar("sum", t, rank)
            w.add_scalar("rank", float(rank), 0)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("mode", ["rank0", "per_rank"])
def test_torch_distributed_gloo(tmp_path, mode):
    pytest.importorskip("torch")
    import torch.multiprocessing as tmp_mp

    logdir = tmp_path / "run"
    tmp_mp.spawn(
        _distributed_worker,
        args=(2, str(tmp_path / "init"), str(logdir), mode),
        nprocs=2,
        join=True,
    )

    def values(d):
        return sorted(
            (v.tag, e.step, v.simple_value)
            for e in read_logdir_events(d)
            if e.HasField("summary")
            for v in e.summary.value
        )

    if mode == "rank0":
        assert values(logdir) == [("rank", 0, 0.0), ("sum", 0, 3.0)]
        assert not (logdir / "rank_1").exists()
    else:
        assert event_files(logdir) == []
        assert values(logdir / "rank_0") == [("rank", 0, 0.0), ("sum", 0, 3.0)]
        assert values(logdir / "rank_1") == [("rank", 0, 1.0), ("sum", 1, 3.0)]


def test_rank_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "3")
    w = tbx.SummaryWriter(tmp_path / "run", distributed="per_rank")
    w.close()
    assert w.get_logdir() == os.path.join(str(tmp_path / "run"), "rank_3")
    w = tbx.SummaryWriter(tmp_path / "run0", distributed="rank0")
    w.add_scalar("x", 1.0)
    w.close()
    assert not (tmp_path / "run0").exists()
    monkeypatch.setenv("RANK", "x")
    with pytest.raises(ValueError, match="RANK"):
        tbx.SummaryWriter(tmp_path / "bad", distributed="rank0")
    with pytest.raises(ValueError, match="distributed"):
        tbx.SummaryWriter(tmp_path / "bad", distributed="everyone")


# ---------------------------------------------------------------- worker processes (issue 10)

METHODS = [m for m in ("fork", "forkserver", "spawn") if m in mp.get_all_start_methods()]
TASKS, POINTS, CHILD_POINTS = 8, 100, 5000


def _pool_task(args) -> int:
    writer, i = args
    for s in range(POINTS):
        writer.add_scalar(f"worker{i}", i * 1000 + s, s)
    return i  # no flush, no close: the worker may be killed at any time after this


_INHERITED = None  # a writer the fork workers inherit (not pickled)


def _pool_task_inherited(i: int) -> int:
    for s in range(POINTS):
        _INHERITED.add_scalar(f"worker{i}", i * 1000 + s, s)
    return i


def _child(writer) -> None:
    for s in range(CHILD_POINTS):
        writer.add_scalar("child", s * 0.5, s)


def expected_workers() -> dict[str, list[tuple[int, float]]]:
    return {
        f"worker{i}": [(s, float(i * 1000 + s)) for s in range(POINTS)] for i in range(TASKS)
    }


def tbx_points(logdir) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value)]} of the run at logdir, read by tbx.read, sorted by step."""
    df = tbx.read(logdir).scalars
    assert set(df["run"]) <= {"."}
    out = {}
    for tag, group in df.groupby("tag"):
        out[tag] = sorted(zip(group["step"].tolist(), group["value"].tolist(), strict=True))
    return out


def tensorboard_points(logdir) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value)]} as TensorBoard's EventAccumulator loads the run (all its event
    files, in name order), keeping every point."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        EventAccumulator,
    )

    acc = EventAccumulator(str(logdir), size_guidance={SCALARS: 0})
    acc.Reload()
    return {
        tag: sorted((e.step, e.value) for e in acc.Scalars(tag)) for tag in acc.Tags()["scalars"]
    }


def check_run(logdir, expected: dict, max_files: int) -> None:
    files = scalars_by_file(logdir)  # every file: file_version first, strict CRCs, no tail
    assert 1 <= len(files) <= max_files
    assert tbx_points(logdir) == expected
    assert tensorboard_points(logdir) == expected


@pytest.mark.parametrize("shutdown", ["with_terminate", "close_join"])
@pytest.mark.parametrize("method", METHODS)
def test_pool_workers_lose_nothing(tmp_path, method, shutdown):
    logdir = tmp_path / "run"
    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    w.add_scalar("parent", 1.0, 0)
    ctx = mp.get_context(method)
    tasks = [(w, i) for i in range(TASKS)]
    if shutdown == "with_terminate":
        with ctx.Pool(4) as pool:
            assert pool.map(_pool_task, tasks) == list(range(TASKS))
            # once map returns, the workers' points are in the files (workers still alive)
            assert tbx_points(logdir) == expected_workers()
        # the with block terminated the workers (SIGTERM): nothing changed
    else:
        pool = ctx.Pool(4)
        try:
            assert pool.map(_pool_task, tasks) == list(range(TASKS))
            assert tbx_points(logdir) == expected_workers()
        finally:
            pool.close()
            pool.join()
    w.add_scalar("parent", 2.0, 1)
    w.close()
    # one file for the parent, at most one per worker process (not one per task)
    check_run(logdir, {"parent": [(0, 1.0), (1, 2.0)], **expected_workers()}, max_files=5)


def test_fork_pool_workers_inheriting_the_writer_lose_nothing(tmp_path):
    if "fork" not in METHODS:
        pytest.skip("fork not available")
    global _INHERITED
    logdir = tmp_path / "run"
    _INHERITED = tbx.SummaryWriter(logdir, flush_secs=3600)
    _INHERITED.add_scalar("parent", 1.0, 0)  # pending in the parent when the workers fork
    try:
        with mp.get_context("fork").Pool(4) as pool:
            assert pool.map(_pool_task_inherited, range(TASKS)) == list(range(TASKS))
            assert tbx_points(logdir) == expected_workers()
        _INHERITED.close()
    finally:
        _INHERITED = None
    check_run(logdir, {"parent": [(0, 1.0)], **expected_workers()}, max_files=5)


@pytest.mark.parametrize("method", METHODS)
def test_process_child_that_never_closes_loses_nothing(tmp_path, method):
    logdir = tmp_path / "run"
    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    p = mp.get_context(method).Process(target=_child, args=(w,))
    p.start()
    p.join(300)
    assert p.exitcode == 0
    w.close()
    check_run(logdir, {"child": [(s, s * 0.5) for s in range(CHILD_POINTS)]}, max_files=2)


def _killed_child(writer, conn) -> None:
    for s in range(50):
        writer.add_scalar("x", float(s), s)
    conn.send("logged")
    conn.recv()  # blocks until killed


@pytest.mark.parametrize("method", METHODS)
def test_child_killed_by_sigkill_loses_nothing_it_logged(tmp_path, method):
    logdir = tmp_path / "run"
    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    ctx = mp.get_context(method)
    parent_conn, child_conn = ctx.Pipe()
    p = ctx.Process(target=_killed_child, args=(w, child_conn))
    p.start()
    assert parent_conn.poll(300) and parent_conn.recv() == "logged"
    p.kill()
    p.join(60)
    w.close()
    check_run(logdir, {"x": [(s, float(s)) for s in range(50)]}, max_files=2)


def test_parent_keeps_the_buffered_path(tmp_path):
    """In the process that runs the script, a writer buffers (nothing but the header is in the
    file before a flush) and uses its background thread; a copy unpickled in another process,
    or any writer in a worker process, writes synchronously."""
    from tbx.event_file import in_worker_process

    assert not in_worker_process()
    w = tbx.SummaryWriter(tmp_path / "run", flush_secs=3600)
    ew = w.file_writer.event_writer
    w.add_scalar("x", 1.0, 0)
    assert ew._sync is False and ew._thread is not None
    assert len(read_events(event_files(tmp_path / "run")[0])) == 1  # just the file_version
    w.close()
    assert len(read_events(event_files(tmp_path / "run")[0])) == 2


def _log_to_url(url: str) -> list:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = tbx.SummaryWriter(url)
        w.add_scalar("x", 1.0, 0)
        w.add_scalar("x", 2.0, 1)
        w.close()
    return [str(c.message) for c in caught]


def test_url_writer_in_a_worker_warns_at_its_first_event(tmp_path):
    pytest.importorskip("fsspec")
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        messages = pool.apply(_log_to_url, ("memory://tbx-test-worker/run",))
    assert len(messages) == 1, messages
    assert "worker process" in messages[0] and "flush()" in messages[0]
    assert "memory://tbx-test-worker/run" in messages[0]


def test_copy_unpickled_in_an_unrelated_process_writes_synchronously(tmp_path):
    """A copy in a process that multiprocessing did not start (a job queue's worker, Ray, ...)
    still writes each point before the call returns: here the process ends by os._exit."""
    import subprocess
    import sys

    logdir = tmp_path / "run"
    w = tbx.SummaryWriter(logdir, flush_secs=3600)
    code = (
        "import os, pickle, sys\n"
        "w = pickle.loads(sys.stdin.buffer.read())\n"
        "for s in range(300):\n"
        "    w.add_scalar('remote', s + 0.25, s)\n"
        "os._exit(0)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(w), capture_output=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr.decode()
    w.close()
    check_run(logdir, {"remote": [(s, s + 0.25) for s in range(300)]}, max_files=2)
