"""Fuzzing the reader with damaged event files: random byte flips, truncations, inflated length
fields and garbage payloads framed with valid CRCs. The reader must never raise (damage is
reported through corruptions()), never hang, never return a point that was not written, and
never use memory beyond a small multiple of the file size.

A bounded session runs here (TBX_FUZZ_SECONDS, default 8 seconds); run longer locally with e.g.
``TBX_FUZZ_SECONDS=600 python -m pytest tests/test_reader_fuzz.py``. Every input that ever broke
the reader is kept under tests/fuzz_regressions/ and replayed first.
"""

from __future__ import annotations

import os
import random
import signal
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

import tbx
from tbx.reader import LogdirProvider
from tbx.record import frame_record

REGRESSIONS = Path(__file__).parent / "fuzz_regressions"
SECONDS = float(os.environ.get("TBX_FUZZ_SECONDS", "8"))


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[bytes, set]:
    """A valid event file with several kinds, and the set of its scalar points."""
    d = tmp_path_factory.mktemp("pristine")
    rng = np.random.default_rng(1)
    points = set()
    with tbx.SummaryWriter(d) as w:
        for i in range(300):
            v = float(rng.standard_normal())
            w.add_scalar("loss", v, i, walltime=100.0 + i)
            points.add(("loss", i, f32(v)))
            if i % 50 == 0:
                w.add_text("note", f"step {i}", i)
                w.add_scalar("acc", i / 300, i, walltime=100.0 + i)
                points.add(("acc", i, f32(i / 300)))
                if hasattr(w, "add_histogram"):
                    w.add_histogram("w", rng.standard_normal(100), i)
    (path,) = list(d.glob("events.out.tfevents.*"))
    return path.read_bytes(), points


def mutate(data: bytes, rnd: random.Random) -> tuple[bytes, bool]:
    """A damaged copy of data, and whether every surviving scalar must be an original one."""
    buf = bytearray(data)
    kind = rnd.choice(["flip", "flip", "truncate", "length", "garbage", "splice", "zero"])
    exact = True
    if kind == "flip":
        for _ in range(rnd.randint(1, 8)):
            buf[rnd.randrange(len(buf))] ^= 1 << rnd.randrange(8)
    elif kind == "truncate":
        del buf[rnd.randrange(len(buf)) :]
    elif kind == "length":
        # overwrite a record's length field (header CRC then mismatches) with something huge
        pos = rnd.randrange(0, max(1, len(buf) - 8))
        buf[pos : pos + 8] = struct.pack("<Q", rnd.choice([2**63 - 1, 2**40, len(buf) * 3, 0]))
    elif kind == "garbage":
        # a record with valid CRCs but a payload that is not (or is a weird) Event
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200)))
        pos = rnd.randrange(len(buf))
        buf[pos:pos] = frame_record(junk)
        exact = False
    elif kind == "splice":
        a, b = sorted(rnd.randrange(len(buf)) for _ in range(2))
        buf[a:b] = buf[a:b][::-1]
    else:
        a = rnd.randrange(len(buf))
        buf[a : a + rnd.randint(1, 64)] = bytes(min(64, len(buf) - a))
    return bytes(buf), exact


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


def read_everything(logdir: Path) -> set:
    provider = LogdirProvider(str(logdir))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        provider.refresh()
        provider.refresh()  # a second refresh over the same bytes must be harmless too
    got = set()
    for run in provider.runs():
        for tag, info in provider.tags(run).items():
            if info.data_class == "scalar":
                s = provider.scalars(run, tag)
                got |= {(tag, int(st), float(v)) for st, v in zip(s.step, s.value, strict=True)}
            elif info.data_class == "tensor":
                provider.tensors(run, tag)
            else:
                provider.blobs(run, tag)
            provider.metadata(run, tag)
    provider.corruptions()
    return got


def check_case(tmp: Path, data: bytes, exact: bool, points: set) -> None:
    run = tmp / "run"
    run.mkdir(parents=True, exist_ok=True)
    for old in run.iterdir():
        old.unlink()
    (run / "events.out.tfevents.1.host.1.1").write_bytes(data)
    tracemalloc.start()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        got = read_everything(tmp)
    except Hang:
        pytest.fail(f"reader hung on a damaged file ({len(data)} bytes)")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 64 * len(data) + 8 * 2**20, f"peak {peak} bytes for a {len(data)}-byte file"
    if exact:
        wrong = got - points
        assert not wrong, f"points never written: {sorted(wrong)[:5]}"


def test_regressions_replay(tmp_path, pristine, impl):
    _, points = pristine
    for path in sorted(REGRESSIONS.glob("*.tfevents")) if REGRESSIONS.exists() else []:
        check_case(tmp_path, path.read_bytes(), exact=False, points=points)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_fuzz_reader(tmp_path, pristine, impl):
    data, points = pristine
    rnd = random.Random(int(os.environ.get("TBX_FUZZ_SEED", "20261129")))
    deadline = time.monotonic() + SECONDS / 2
    cases = 0
    while time.monotonic() < deadline or cases < 20:
        damaged, exact = mutate(data, rnd)
        try:
            check_case(tmp_path, damaged, exact, points)
        except BaseException:
            REGRESSIONS.mkdir(exist_ok=True)
            keep = REGRESSIONS / f"{impl}-case-{cases}-{len(damaged)}.tfevents"
            keep.write_bytes(damaged)
            raise
        cases += 1
    print(f"fuzz ({impl}): {cases} damaged files read")
