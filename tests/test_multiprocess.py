"""A SummaryWriter across processes: pickled into spawn workers, inherited by fork, and under
torch.distributed (gloo on the CPU) with distributed="rank0" / "per_rank"."""

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
