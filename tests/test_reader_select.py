"""Selective reads: ``tbx.read(logdir, runs=..., tags=...)`` lists, opens and reads only what is
asked. Long records of other tags are seeked past after their first bytes (counted here by a
spy on the store's reads), values stay exact, damage in a record never read is not reported
while damage in one read still is, and a selective read's peak memory follows its DataFrame."""

from __future__ import annotations

import gc
import os
import tracemalloc
import warnings

import numpy as np
import pytest

import tbx
from tbx import record
from tbx.proto.event_pb2 import Event
from tbx.proto.summary_pb2 import Summary
from tbx.reader import _fs, _scan
from tbx.reader._prefix import PREFIX, summary_tag

STEPS = 60


def write_mixed(path, steps: int = STEPS) -> None:
    """Per step: scalar ``loss``, a 96x96 RGB image ``img`` of noise (a PNG of ~28 KB, longer
    than SKIP_ABOVE), scalar ``acc``."""
    rng = np.random.default_rng(7)
    with tbx.SummaryWriter(path) as w:
        for i in range(steps):
            w.add_scalar("loss", 1.0 / (i + 1), i, walltime=100.0 + i)
            w.add_image("img", rng.integers(0, 256, (3, 96, 96), dtype=np.uint8), i,
                        walltime=100.0 + i)
            w.add_scalar("acc", i / 64, i, walltime=100.0 + i)


def records(path):
    """``[(header offset, data length, Event)]`` of an event file."""
    data = open(path, "rb").read()
    scan = record.scan_records(data)
    return [(s - record.HEADER_SIZE, n, Event.FromString(data[s : s + n]))
            for s, n in zip(scan.starts, scan.lengths, strict=True)]


def event_file(run_dir) -> str:
    (name,) = [n for n in os.listdir(run_dir) if "tfevents" in n]
    return os.path.join(run_dir, name)


@pytest.fixture
def reads(monkeypatch):
    """Every ``(path, offset, bytes returned)`` read through a local store."""
    got = []
    original = _fs.LocalLogdir.read

    def spy(self, path, offset, n):
        data = original(self, path, offset, n)
        got.append((path, offset, len(data)))
        return data

    monkeypatch.setattr(_fs.LocalLogdir, "read", spy)
    return got


def flip(path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x55]))


def expect_loss(steps=range(STEPS)):
    return [float(np.float32(1.0 / (i + 1))) for i in steps]


# ------------------------------------------------------------------ the prefix


def test_summary_tag_of_real_records(tmp_path):
    write_mixed(tmp_path / "r", steps=2)
    recs = records(event_file(tmp_path / "r"))
    tags = [summary_tag(Event.SerializeToString(ev)[:PREFIX], n) for _, n, ev in recs]
    assert tags == [None, b"loss", b"img", b"acc", b"loss", b"img", b"acc"]  # file_version first
    img = recs[2][2].SerializeToString()
    assert summary_tag(img[:30], len(img)) == b"img"
    assert summary_tag(img[:20], len(img)) is None  # cut inside the tag: cannot tell
    assert summary_tag(img[:PREFIX], len(img) + 1) is None  # the summary is not the last field
    two = Event(step=1, summary=Summary(value=[Summary.Value(tag="a", simple_value=1),
                                              Summary.Value(tag="b", simple_value=2)]))
    raw = two.SerializeToString()
    assert summary_tag(raw, len(raw)) is None  # two Values: read in full
    g = Event(step=1, graph_def=b"x" * 100).SerializeToString()
    assert summary_tag(g, len(g)) is None


# ------------------------------------------------------------------ tags=: bytes read


def test_tags_seek_past_long_records_of_other_tags(tmp_path, reads, impl):
    write_mixed(tmp_path / "r")
    path = event_file(tmp_path / "r")
    size = os.path.getsize(path)
    recs = records(path)
    images = [(o, n) for o, n, ev in recs if ev.summary.value and ev.summary.value[0].tag == "img"]
    assert len(images) == STEPS and min(n for _, n in images) > _scan.SKIP_ABOVE
    df = tbx.read(tmp_path, tags=["loss"]).scalars
    assert df.step.tolist() == list(range(STEPS))
    assert df.value.tolist() == expect_loss()
    assert df.wall_time.tolist() == [100.0 + i for i in range(STEPS)]
    assert set(df.tag) == {"loss"}
    sizes = [n for p, _, n in reads if p == path]
    # one read of SELECT_FIRST bytes per image (the records before it and its first bytes,
    # the tag among them), then the last one up to the end; nothing else
    assert len(sizes) == STEPS + 1
    assert sizes[:-1] == [_scan.SELECT_FIRST] * STEPS
    assert [o for p, o, _ in reads if p == path][1:] == [o + n + 16 for o, n in images]
    assert sum(sizes) < size / 25
    reads.clear()
    whole = tbx.read(tmp_path)  # without a selection every byte is read (the spy counts)
    assert sum(n for p, _, n in reads if p == path) == size
    assert whole.scalars.query("tag == 'loss'").value.tolist() == expect_loss()
    reads.clear()
    imgs = tbx.read(tmp_path, tags=["img"]).images  # the long records wanted: read in full
    assert imgs.image.tolist() == whole.images.image.tolist() and len(imgs) == STEPS
    assert sum(n for p, _, n in reads if p == path) >= sum(n for _, n in images)


@pytest.mark.parametrize("first", [16, 64, 200])
def test_values_exact_whatever_the_read_sizes(tmp_path, monkeypatch, impl, first):
    """Small first reads cut headers and tag prefixes at every place: the tag is then read
    separately, and nothing is lost or read twice into the frame."""
    monkeypatch.setattr(_scan, "SELECT_FIRST", first)
    write_mixed(tmp_path / "r", steps=12)
    lg = tbx.read(tmp_path, tags=["loss", "acc"])
    df = lg.scalars
    assert df.query("tag == 'loss'").value.tolist() == expect_loss(range(12))
    assert df.query("tag == 'acc'").value.tolist() == [i / 64 for i in range(12)]
    assert df.query("tag == 'acc'").step.tolist() == list(range(12))
    assert lg.corruptions() == [] and lg.images.empty


def test_tag_regex_selects_too(tmp_path, reads, impl):
    write_mixed(tmp_path / "r", steps=10)
    path = event_file(tmp_path / "r")
    df = tbx.read(tmp_path, tag="^lo").scalars
    assert df.value.tolist() == expect_loss(range(10))
    assert sum(n for p, _, n in reads if p == path) < os.path.getsize(path) / 10


def test_long_records_of_a_growing_file(tmp_path, impl):
    """A long record not all written yet is neither skipped nor read: the next refresh takes
    it up where it stopped."""
    write_mixed(tmp_path / "r", steps=5)
    path = event_file(tmp_path / "r")
    data = open(path, "rb").read()
    recs = records(path)
    cut = recs[-2][0] + 40  # inside the last image's data
    with open(path, "wb") as f:
        f.write(data[:cut])
    lg = tbx.Logdir(tmp_path, tags=["loss", "acc"])
    lg.refresh()
    assert lg.scalars.query("tag == 'loss'").value.tolist() == expect_loss(range(5))
    assert lg.scalars.query("tag == 'acc'").value.tolist() == [i / 64 for i in range(4)]
    with open(path, "ab") as f:
        f.write(data[cut:])
    lg.refresh()
    assert lg.scalars.query("tag == 'acc'").value.tolist() == [i / 64 for i in range(5)]
    assert lg.corruptions() == []


def test_evicted_series_read_back_seek_past_long_records(tmp_path, reads, impl):
    """The provider reading an evicted series back uses the same selection."""
    from tbx.reader.provider import LogdirProvider

    write_mixed(tmp_path / "r")
    path = event_file(tmp_path / "r")
    p = LogdirProvider(tmp_path, memory_budget=0)
    p.refresh()
    assert p.memory()["resident_series"] == 0
    reads.clear()
    s = p.scalars("r", "loss")
    assert s.value.tolist() == expect_loss() and s.step.tolist() == list(range(STEPS))
    assert s.wall_time.tolist() == [100.0 + i for i in range(STEPS)]
    assert sum(n for q, _, n in reads if q == path) < os.path.getsize(path) / 20
    assert [x for x in p.blobs("r", "img").values] == \
        [x for x in tbx.read(tmp_path).provider.blobs("r", "img").values]


# ------------------------------------------------------------------ tags=: damage


def test_damage_in_a_skipped_record_is_not_read_and_in_a_read_one_is_reported(tmp_path, impl):
    write_mixed(tmp_path / "r")
    path = event_file(tmp_path / "r")
    recs = records(path)
    images = [(o, n) for o, n, ev in recs if ev.summary.value and ev.summary.value[0].tag == "img"]
    losses = [(o, n) for o, n, ev in recs
              if ev.summary.value and ev.summary.value[0].tag == "loss"]
    bad_img, bad_loss = images[10], losses[30]
    flip(path, bad_img[0] + 12 + bad_img[1] // 2)  # inside the image's PNG
    flip(path, bad_loss[0] + 12 + bad_loss[1] - 2)  # inside loss's float
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lg = tbx.read(tmp_path, tags=["loss"])
    assert lg.scalars.value.tolist() == expect_loss(i for i in range(STEPS) if i != 30)
    assert [(c.offset, c.skipped, c.reason) for c in lg.corruptions()] == [
        (bad_loss[0], bad_loss[1] + 16, "data CRC mismatch")]  # the image's damage: unread
    assert len(caught) == 1 and "data CRC mismatch" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imgs = tbx.read(tmp_path, tags=["img"])
        whole = tbx.read(tmp_path)
    assert sorted((c.offset, c.reason) for c in imgs.corruptions()) == sorted([
        (bad_loss[0], "data CRC mismatch"), (bad_img[0], "data CRC mismatch")])
    assert imgs.images.step.tolist() == [i for i in range(STEPS) if i != 10]
    assert sorted(c.offset for c in whole.corruptions()) == sorted([bad_img[0], bad_loss[0]])


def test_a_damaged_length_of_a_long_record_is_reported(tmp_path, impl):
    """The length CRC of a record that would be skipped is still checked."""
    write_mixed(tmp_path / "r", steps=8)
    path = event_file(tmp_path / "r")
    recs = records(path)
    o, n = [(o, n) for o, n, ev in recs if ev.summary.value and ev.summary.value[0].tag == "img"][3]
    flip(path, o + 1)  # the length field
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lg = tbx.read(tmp_path, tags=["loss"])
    (c,) = lg.corruptions()
    assert (c.offset, c.skipped, c.reason) == (o, n + 16, "header CRC mismatch")
    assert lg.scalars.value.tolist() == expect_loss(range(8))


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGALRM"), reason="needs SIGALRM")
def test_fuzz_selective_reads(tmp_path, monkeypatch, impl):
    """Damaged files (test_reader_fuzz's mutations) read with a selection and small reads:
    never an exception or a hang, never a point that was not written (60 cases;
    ``TBX_FUZZ_SELECT_CASES=800`` for more)."""
    import random
    import signal

    from test_reader_fuzz import Hang, _alarm, mutate

    write_mixed(tmp_path / "src", steps=6)
    data = open(event_file(tmp_path / "src"), "rb").read()
    written = {(i, v) for i, v in enumerate(expect_loss(range(6)))}
    rnd = random.Random(20261130)
    run = tmp_path / "logs" / "run"
    run.mkdir(parents=True)
    for case in range(int(os.environ.get("TBX_FUZZ_SELECT_CASES", "60"))):
        damaged, exact = mutate(data, rnd)
        (run / "events.out.tfevents.1").write_bytes(damaged)
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(20)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                monkeypatch.setattr(_scan, "SELECT_FIRST", rnd.choice([16, 100, 1 << 10]))
                df = tbx.read(tmp_path / "logs", tags=["loss"]).scalars
        except Hang:
            pytest.fail(f"case {case}: the reader hung")
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        if exact and len(df):
            got = set(zip(df.step.tolist(), df.value.tolist(), strict=True))
            assert got <= written, (case, sorted(got - written)[:3])


# ------------------------------------------------------------------ runs=


def test_runs_list_and_open_only_the_named_runs(tmp_path, reads, monkeypatch, impl):
    for name in ("a", "b", "b/sub"):
        with tbx.SummaryWriter(tmp_path / name) as w:
            for i in range(5):
                w.add_scalar("x", float(i) + len(name), i, walltime=1.0 + i)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "events.out.tfevents.1.bad").write_bytes(os.urandom(4096))  # garbage
    os.symlink("/", tmp_path / "out")  # a link out of the logdir: a problem when walked
    listed = []
    original = os.scandir

    def scandir(path="."):
        listed.append(os.fspath(path))
        return original(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # any problem or corruption would warn too
        lg = tbx.read(tmp_path, runs=["b", "b/sub", "missing", "../etc", ""])
    assert [str(w.message) for w in caught] == [
        f"tbx.read: no runs named '', '../etc', 'missing' in {tmp_path} (runs= names run "
        "folders relative to the logdir; tbx.read(logdir).runs lists them); read the others"]
    assert lg.runs == ["b", "b/sub"]
    df = lg.scalars
    assert df.query("run == 'b'").value.tolist() == [i + 1.0 for i in range(5)]
    assert df.query("run == 'b/sub'").value.tolist() == [i + 5.0 for i in range(5)]
    assert lg.provider.problems() == [] and lg.corruptions() == []
    assert sorted(listed) == [str(tmp_path / "b"), str(tmp_path / "b" / "sub")]
    assert {os.path.dirname(p) for p, _, _ in reads} == {str(tmp_path / "b"),
                                                         str(tmp_path / "b" / "sub")}
    listed.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        every = tbx.read(tmp_path)  # the whole walk meets the garbage and the link
    assert every.runs == ["a", "b", "b/sub", "junk"]
    assert len(listed) > 2 and every.provider.problems() and every.corruptions()


def test_runs_on_an_object_store_list_only_their_folders(monkeypatch):
    fsspec = pytest.importorskip("fsspec")
    from tbx.reader.provider import LogdirProvider

    mem = fsspec.filesystem("memory")
    root = "/sel-" + os.urandom(4).hex()
    for name in ("a", "b", "c/d"):
        with tbx.SummaryWriter(f"memory://{root}/{name}") as w:
            w.add_scalar("x", 1.0 + len(name), 3)
    calls = []
    for meth in ("find", "ls"):
        original = getattr(type(mem), meth)

        def spy(self, path, *a, _m=meth, _o=original, **k):
            calls.append((_m, path.rstrip("/")))
            return _o(self, path, *a, **k)

        monkeypatch.setattr(type(mem), meth, spy)
    try:
        p = LogdirProvider(f"memory://{root}", run_names=["a", "c/d"])
        p.refresh()
        assert p.runs() == ["a", "c/d"]
        assert p.scalars("c/d", "x").value.tolist() == [4.0]
        assert [c for c in calls if c[0] == "find"] == []
        assert sorted(c for c in calls if c[0] == "ls") == [("ls", f"{root}/a"),
                                                           ("ls", f"{root}/c/d")]
    finally:
        mem.rm(root, recursive=True)


# ------------------------------------------------------------------ memory


def write_interleaved(path, tags: int, steps: int) -> None:
    """One event file, every step holding one record of each tag in turn."""
    from tbx.record import frame_records
    from tbx.wire import ScalarEventEncoder

    enc = ScalarEventEncoder()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(frame_records([Event(wall_time=1.0, file_version="brain.Event:2")
                               .SerializeToString()]))
        for i0 in range(0, steps, 10_000):
            f.write(frame_records([enc.encode(f"t{t}", t + i / 8, i, 1e9 + i)
                                   for i in range(i0, min(steps, i0 + 10_000))
                                   for t in range(tags)]))


def test_selective_read_peak_memory_follows_its_frame(tmp_path, monkeypatch):
    """2 runs x 4 tags x 100,000 steps (35 MB of records): reading one tag peaks (memory
    traced in this process: numpy arrays, bytes read, the kernel's buffers) at about 1.5x the
    returned frame (the frame and the reader's compact series) plus the read block. The same
    read with the selection applied only after the scan (as before, and as object stores are
    still read) holds a whole-file block and every tag's rows: far above."""
    if not record.use_speedups(True):
        pytest.skip("tbx._speedups is not built")
    tags, steps = 4, 100_000
    for r in ("r0", "r1"):
        write_interleaved(tmp_path / r / "events.out.tfevents.1", tags, steps)
    assert len(tbx.read(tmp_path, tags=["t2"], runs=["r0"]).scalars) == steps  # first use:
    # imports (pandas), caches

    def peak(**kw):
        gc.collect()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            df = tbx.read(tmp_path, **kw).scalars
            return df, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    df, most = peak(tags=["t2"])
    frame = int(df.memory_usage(deep=True).sum())
    assert len(df) == 2 * steps and df.value.iloc[-1] == 2 + (steps - 1) / 8
    assert frame > 4 << 20
    fixed = _scan.SELECT_BLOCK + (1 << 20)  # the read block; bookkeeping
    print(f"frame {frame / 2**20:.2f} MiB, peak {most / 2**20:.2f} MiB")
    assert most < 1.5 * frame + fixed, (most, frame)
    # the selection left out of the scan: a store with ``prefetch`` is read in whole blocks
    monkeypatch.setattr(_fs.LocalLogdir, "prefetch", lambda self, ranges: None, raising=False)
    df_after, most_after = peak(tags=["t2"])
    print(f"selection after the scan: peak {most_after / 2**20:.2f} MiB")
    assert df_after.equals(df)
    assert most_after > 2 * (1.5 * frame + fixed)  # a bound the old way did not meet
