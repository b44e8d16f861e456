"""The provider's memory budget: series past it are evicted and read back, point for point,
from the byte ranges of their records; memory stays bounded while tags are opened in turn.
(Equality with a fresh read after every kind of change, with every series evicted, is tested
in ``tests/test_reader_tracking.py``.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tbx
from tbx.reader import LogdirProvider
from tbx.reader._budget import parse_size


def test_parse_size():
    assert parse_size(None) is None and parse_size("none") is None
    assert parse_size("unlimited") is None
    assert parse_size(1000) == 1000 and parse_size("1000") == 1000
    assert parse_size("512M") == 512 << 20 and parse_size("2g") == 2 << 30
    assert parse_size("1.5GiB") == 3 << 29 and parse_size("64 KB") == 64 << 10
    with pytest.raises(ValueError, match="'lots' is not a size"):
        parse_size("lots")
    with pytest.raises(ValueError, match=">= 0"):
        parse_size(-1)
    with pytest.raises(TypeError, match="memory_budget"):
        parse_size([1])
    with pytest.raises(ValueError, match="memory_budget"):
        LogdirProvider(".", memory_budget="x")


def write_phased(path, tags: int, steps: int) -> None:
    """One event file holding every step of tag 0, then of tag 1, ... (as a job that logs
    its tags in phases): each tag's records lie in their own byte range."""
    from tbx.proto.event_pb2 import Event
    from tbx.record import frame_records
    from tbx.wire import ScalarEventEncoder

    enc = ScalarEventEncoder()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(frame_records([Event(wall_time=1.0, file_version="brain.Event:2")
                               .SerializeToString()]))
        for t in range(tags):
            f.write(frame_records([enc.encode(f"t{t:02d}", t + i / 8, i, 1e9 + i)
                                   for i in range(steps)]))


def expected(t: int, steps: int):
    return np.arange(steps) / 8 + t


def test_evicted_series_read_back_only_their_byte_ranges(tmp_path, monkeypatch, impl):
    from tbx.reader import _scan

    monkeypatch.setattr(_scan, "BLOCK", 64 << 10)  # small blocks: fine-grained ranges
    write_phased(tmp_path / "r" / "events.out.tfevents.1", tags=8, steps=5000)
    size = (tmp_path / "r" / "events.out.tfevents.1").stat().st_size
    p = LogdirProvider(tmp_path, memory_budget=0)
    p.refresh()
    assert p.memory()["resident_series"] == 0
    assert [(t, i.count, i.first_step, i.last_step) for t, _, i in p.series("r")] == [
        (f"t{t:02d}", 5000, 0, 4999) for t in range(8)]
    read = []
    store = p._reader._fs
    original = store.read

    def spy(path, offset, n):
        data = original(path, offset, n)
        read.append(len(data))
        return data

    monkeypatch.setattr(store, "read", spy)
    s = p.scalars("r", "t05")
    assert s.step.tolist() == list(range(5000))
    assert s.value.tolist() == expected(5, 5000).tolist()
    assert s.wall_time.tolist() == (1e9 + np.arange(5000)).tolist()
    # its own records (1/8 of the file), the blocks they share with t04/t06, and the header
    assert sum(read) < size / 8 + 3 * (64 << 10) + 4096
    read.clear()
    s = p.scalars("r", "t02", wall_time=False)
    assert s.wall_time is None and s.value.tolist() == expected(2, 5000).tolist()
    assert p.scalars("r", "t02").wall_time[-1] == 1e9 + 4999  # read again, with wall times


def test_tensors_and_blobs_read_back_exactly(tmp_path, impl):
    img = np.zeros((3, 2, 2), np.uint8)
    img[1] = 200
    with tbx.SummaryWriter(tmp_path / "run") as w:
        for i in range(5):
            w.add_histogram("h", np.arange(6, dtype=np.float64) * i, i, walltime=1.0 + i)
            w.add_image("im", img * (i % 2), i, walltime=2.0 + i)
            w.add_text("t", f"note {i}", i, walltime=3.0 + i)
    held = LogdirProvider(tmp_path)
    held.refresh()
    p = LogdirProvider(tmp_path, memory_budget=0)
    p.refresh()
    for tag in ("h", "t/text_summary"):
        a, b = held.tensors("run", tag), p.tensors("run", tag)
        assert a.step.tolist() == b.step.tolist() and a.wall_time.tolist() == b.wall_time.tolist()
        assert [x.tolist() for x in a.values] == [x.tolist() for x in b.values]
    a, b = held.blobs("run", "im"), p.blobs("run", "im")
    assert a.step.tolist() == b.step.tolist() and list(a.values) == list(b.values)
    assert p.memory()["resident_series"] <= 1


RSS_SCRIPT = textwrap.dedent("""
    import gc, json, sys
    import numpy as np
    from tbx.reader import _scan
    _scan.BLOCK = 4 << 20  # the reader's fixed read buffer, small next to the data here
    from tbx.reader import LogdirProvider

    def rss():
        # what is held, not the allocator's cache of freed heap pages (glibc keeps them)
        if trim is not None:
            trim(0)
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    try:
        import ctypes
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        trim = None

    logdir, budget, tags, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    budget = None if budget == "none" else budget
    import tbx.proto.event_pb2, tbx.proto.summary_pb2  # imports are not points
    gc.collect()
    start = rss()
    p = LogdirProvider(logdir, memory_budget=budget)
    p.refresh()  # then nothing more: the reader is stalled; a client opens tag after tag
    gc.collect()
    loaded, most = rss(), 0
    for t in range(tags):
        s = p.scalars("r", f"t{t:02d}")
        ok = s.value[-1] == t + (steps - 1) / 8 and len(s) == steps
        del s
        gc.collect()
        most = max(most, rss())
        if not ok:
            print(json.dumps({"wrong": t}))
            sys.exit(1)
    print(json.dumps({"start": start, "loaded": loaded, "most": most,
                      "memory": p.memory()}))
""")


def test_rss_stays_under_the_budget_while_tags_are_opened_in_turn(tmp_path):
    """A large logdir (40 tags x 50,000 points, 88 MB; 24 MB as compact columns), read once,
    then nothing more is read (a stalled reader) while a client opens its 40 tags one after
    another: with a 4 MB budget the process holds at most the budget plus a few MB of
    bookkeeping at any time; without a budget it holds every point. RSS is taken after glibc's
    ``malloc_trim`` (freed heap pages returned), so it counts what the reader holds."""
    import json

    tags, steps = 40, 50_000
    write_phased(tmp_path / "r" / "events.out.tfevents.1", tags, steps)
    out = {}
    for budget in ("4M", "none"):
        proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(tmp_path), budget,
                               str(tags), str(steps)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out[budget] = json.loads(proc.stdout)
    mb = 1 << 20
    bounded, held = out["4M"], out["none"]
    assert bounded["memory"]["resident_bytes"] <= 4 * mb + 12 * steps  # + the one last read
    slack = 6 * mb  # the reader's own bookkeeping, numpy temporaries
    assert bounded["loaded"] - bounded["start"] < 4 * mb + slack
    assert bounded["most"] - bounded["start"] < 4 * mb + slack
    assert held["loaded"] - held["start"] > 20 * mb  # every point held: the test can fail


def test_one_pass_brings_back_the_run_s_other_evicted_scalars_while_they_fit(tmp_path,
                                                                             monkeypatch):
    from tbx.reader import _queries

    with tbx.SummaryWriter(tmp_path / "r") as w:
        for i in range(1000):
            for t in ("a", "b", "c"):
                w.add_scalar(t, i + ord(t), i, walltime=5.0 + i)
    passes = []
    original = _queries.replay

    def spy(store, name, fv, tags, todo):
        passes.append(sorted(tags))
        return original(store, name, fv, tags, todo)

    monkeypatch.setattr(_queries, "replay", spy)
    p = LogdirProvider(tmp_path, memory_budget="1M")
    p.refresh()
    assert p.evict() == 3 and p.memory()["resident_series"] == 0
    assert p.scalars("r", "b").value.tolist() == [i + 98.0 for i in range(1000)]
    assert passes == [["a", "b", "c"]]  # read together: their records are interleaved
    assert p.scalars("r", "c").value.tolist() == [i + 99.0 for i in range(1000)]
    assert p.scalars("r", "a").wall_time.tolist() == [5.0 + i for i in range(1000)]
    assert passes == [["a", "b", "c"]]
    q = LogdirProvider(tmp_path, memory_budget=40_000)  # room for about one of them
    q.refresh()
    q.evict()
    passes.clear()
    assert q.scalars("r", "b").value[-1] == 999 + 98.0
    assert passes == [["b"]]
