"""Record scanning: a stretch that cannot hold a record (a zero-filled tail as ``truncate -s``
or a crash leaves, random garbage) is reported once with its byte range, never read again, and
reading it takes memory bounded by the read block whatever the file holds. Every test runs with
the C kernel and with the pure-Python fallback.
"""

from __future__ import annotations

import os
import tracemalloc
import warnings

import numpy as np
import pytest

from tbx.proto.event_pb2 import Event
from tbx.proto.summary_pb2 import Summary
from tbx.reader import LogdirProvider, _scan
from tbx.record import Corruption, frame_record

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # corruption warns


def scalar_event(tag, value, step):
    return Event(wall_time=1000.0 + step, step=step, summary=Summary(
        value=[Summary.Value(tag=tag, simple_value=value)])).SerializeToString()


def records(steps, tag="x") -> bytes:
    head = frame_record(Event(wall_time=999.0, file_version="brain.Event:2").SerializeToString())
    return head + b"".join(frame_record(scalar_event(tag, float(i), i)) for i in steps)


def good_run(logdir):
    os.makedirs(logdir / "good")
    (logdir / "good" / "events.out.tfevents.1").write_bytes(records(range(4), "y"))


def test_zero_tail_memory_is_bounded_and_reported_once(tmp_path, impl):
    """One good record, then 256 MiB of zeros (sparse): read with at most a few blocks of
    memory (the whole file used to be read at once), reported once, never read again."""
    good_run(tmp_path)
    os.makedirs(tmp_path / "bad")
    path = tmp_path / "bad" / "events.out.tfevents.1"
    body = records([0])
    path.write_bytes(body)
    size = 256 << 20
    os.truncate(path, size)
    p = LogdirProvider(tmp_path)
    tracemalloc.start()
    try:
        ch = p.refresh()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * _scan.BLOCK, f"peak {peak / 2**20:.0f} MiB"
    assert p.scalars("bad", "x").value.tolist() == [0.0]
    assert p.scalars("good", "y").value.tolist() == [0.0, 1.0, 2.0, 3.0]
    want = Corruption(str(path), len(body), size - len(body), "header CRC mismatch")
    assert ch.corruptions == [want] and p.corruptions() == [want]
    assert [(f[1], f[2]) for f in p.files("bad")] == [(size, size)]
    ch = p.refresh()
    assert ch.bytes_read == 0 and not ch and p.corruptions() == [want]


@pytest.mark.parametrize("kind", ["zeros", "random"])
def test_written_garbage_memory_is_bounded_by_the_block(tmp_path, impl, monkeypatch, kind):
    """Zeros or random bytes actually on disk (no holes to skip): read block by block."""
    monkeypatch.setattr(_scan, "BLOCK", 1 << 20)
    os.makedirs(tmp_path / "r")
    path = tmp_path / "r" / "events.out.tfevents.1"
    body = records([0])
    n = 24 << 20
    junk = bytes(n) if kind == "zeros" else \
        np.random.default_rng(1).integers(0, 256, n, dtype=np.uint8).tobytes()
    path.write_bytes(body + junk)
    del junk
    p = LogdirProvider(tmp_path)
    tracemalloc.start()
    try:
        p.refresh()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * _scan.BLOCK + (4 << 20), f"peak {peak / 2**20:.1f} MiB"
    assert p.corruptions() == [Corruption(str(path), len(body), n, "header CRC mismatch")]
    assert p.scalars("r", "x").value.tolist() == [0.0]


def test_garbage_across_blocks_is_one_span_with_its_byte_range(tmp_path, impl, monkeypatch):
    monkeypatch.setattr(_scan, "BLOCK", 1 << 16)
    rng = np.random.default_rng(3)
    garbage = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    head, tail = records(range(3)), records(range(3, 6))
    os.makedirs(tmp_path / "r")
    path = tmp_path / "r" / "events.out.tfevents.1"
    path.write_bytes(head + garbage + tail)
    p = LogdirProvider(tmp_path)
    p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 1, 2, 3, 4, 5]
    assert p.corruptions() == [Corruption(str(path), len(head), len(garbage),
                                          "header CRC mismatch")]


def test_zero_tail_that_grows_is_extended_not_reread(tmp_path, impl, monkeypatch):
    monkeypatch.setattr(_scan, "BLOCK", 1 << 16)
    os.makedirs(tmp_path / "r")
    path = tmp_path / "r" / "events.out.tfevents.1"
    body = records([0, 1])
    path.write_bytes(body + bytes(100_000))
    p = LogdirProvider(tmp_path)
    p.refresh()
    assert p.corruptions() == [Corruption(str(path), len(body), 100_000, "header CRC mismatch")]
    with open(path, "ab") as f:
        f.write(bytes(50_000))
    ch = p.refresh()
    assert ch.bytes_read == 50_000 + 11  # the new bytes, and the 11 that could start a header
    want = Corruption(str(path), len(body), 150_000, "header CRC mismatch")
    assert ch.corruptions == [want] and p.corruptions() == [want]
    with open(path, "ab") as f:  # a record after the zeros is read
        f.write(frame_record(scalar_event("x", 7.0, 7)))
    p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 1, 7]
    assert p.corruptions() == [want]
    fresh = LogdirProvider(tmp_path)
    fresh.refresh()
    assert fresh.corruptions() == [want]


def test_record_longer_than_the_limit_is_skipped(tmp_path, impl, monkeypatch):
    monkeypatch.setattr(_scan, "BLOCK", 256)
    monkeypatch.setattr(_scan, "MAX_RECORD", 1024)
    big = Event(step=1, summary=Summary(value=[Summary.Value(
        tag="t", tensor={"dtype": 7, "string_val": [b"z" * 2000]})])).SerializeToString()
    head, after = records([0]), frame_record(scalar_event("x", 2.0, 2))
    os.makedirs(tmp_path / "r")
    path = tmp_path / "r" / "events.out.tfevents.1"
    path.write_bytes(head + frame_record(big) + after)
    p = LogdirProvider(tmp_path)
    p.refresh()
    assert p.scalars("r", "x").step.tolist() == [0, 2]
    assert p.corruptions() == [Corruption(
        str(path), len(head), len(big) + 16,
        f"record of {len(big)} bytes is longer than the reader's limit (1024 bytes): skipped")]


def test_zero_run_end():
    buf = bytes(3_000_000) + b"\x01" + bytes(5)
    assert _scan.zero_run_end(buf) == 3_000_000
    assert _scan.zero_run_end(buf, 3_000_001) == len(buf)
    assert _scan.zero_run_end(b"") == 0


def test_a_header_right_after_zeros_is_found(tmp_path, impl, monkeypatch):
    """The zeros are skipped in bulk; the record right after them, at any alignment relative
    to the block, is still read."""
    monkeypatch.setattr(_scan, "BLOCK", 4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for zeros in (1, 11, 12, 13, 4095, 4096, 4097, 10_000):
            d = tmp_path / str(zeros)
            os.makedirs(d / "r")
            head = records([0])
            (d / "r" / "events.out.tfevents.1").write_bytes(
                head + bytes(zeros) + frame_record(scalar_event("x", 5.0, 5)))
            p = LogdirProvider(d)
            p.refresh()
            assert p.scalars("r", "x").step.tolist() == [0, 5], zeros
            assert [(c.offset, c.skipped) for c in p.corruptions()] == [(len(head), zeros)]


class _Buf(bytearray):
    """A read block that can be watched (weak references)."""


def test_a_block_is_let_go_before_the_next_is_read(tmp_path, impl, monkeypatch):
    """Refresh and read-back scan a file block by block: when the next block is read, no
    earlier block is held any more (two blocks and their rows were held at once: 64 MiB + 42
    MiB of rows more at the peak of a large logdir's refresh)."""
    import weakref

    from tbx.reader import _replay

    monkeypatch.setattr(_scan, "BLOCK", 4096)
    monkeypatch.setattr(_replay, "REPLAY_BLOCK", 4096)
    os.makedirs(tmp_path / "r")
    n = 3000
    body = records(range(n), "a") + b"".join(
        frame_record(scalar_event("b", -float(i), n + i)) for i in range(n))
    (tmp_path / "r" / "events.out.tfevents.1").write_bytes(body)
    p = LogdirProvider(tmp_path, memory_budget="1K")
    fs = p._reader._fs
    read, refs, held = fs.read, [], []

    def watched(path, offset, size):
        held.append(sum(r() is not None for r in refs))
        buf = _Buf(read(path, offset, size))
        refs.append(weakref.ref(buf))
        return buf

    monkeypatch.setattr(fs, "read", watched)
    p.refresh()
    first = len(held)
    assert first > len(body) // 4096 and held == [0] * first
    assert p.memory()["resident_series"] == 0  # a 1 KiB budget: both were evicted
    assert p.scalars("r", "a").value.tolist() == [float(i) for i in range(n)]  # read back
    assert p.scalars("r", "b").step.tolist() == list(range(n, 2 * n))
    assert len(held) > 2 * first - 4 and held == [0] * len(held)
