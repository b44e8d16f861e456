"""Crashes and abuse: SIGKILL mid-run, many writers, and property tests of the writer's inputs
(every call either written and read back exactly, or refused with TypeError/ValueError, and
the file stays valid with exactly the accepted events)."""

from __future__ import annotations

import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
from conftest import event_files, read_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tbx
from tbx.record import scan_records


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_loses_at_most_the_last_flush_interval(tmp_path):
    flush_secs = 0.2
    code = textwrap.dedent(
        f"""
        import sys, time, tbx
        w = tbx.SummaryWriter({str(tmp_path)!r}, flush_secs={flush_secs})
        i = 0
        while True:
            w.add_scalar("loss", i * 0.5, i, walltime=time.time())
            if i == 2000:
                w.flush()
                print("flushed", flush=True)
            i += 1
            if i % 100 == 0:
                time.sleep(0.001)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "flushed"
    time.sleep(1.0)
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    (path,) = event_files(tmp_path)
    data = open(path, "rb").read()
    scan = scan_records(data, source=path)  # strict: any bad CRC raises
    assert len(data) - scan.end < 100_000  # at most a cut-off tail record
    events = [e for e in read_events_prefix(data, scan) if e.HasField("summary")]
    steps = [e.step for e in events]
    assert steps == list(range(len(steps)))  # nothing lost in the middle, in order
    assert len(steps) > 2000
    assert [e.summary.value[0].simple_value for e in events[:3]] == [0.0, 0.5, 1.0]
    # lost only what was logged in the last flush interval(s) before the kill (generous margin
    # for a loaded machine: this is not a speed test)
    assert events[-1].wall_time >= killed_at - flush_secs - 2.0

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
    acc.Reload()
    assert [s.step for s in acc.Scalars("loss")] == steps


def read_events_prefix(data, scan):
    from tbx.proto.event_pb2 import Event

    return [Event.FromString(bytes(p)) for p in scan.payloads(data)]


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_many_writers_leave_no_threads_or_fds(tmp_path):
    threads, fds = threading.active_count(), _fd_count()
    for i in range(1000):
        w = tbx.SummaryWriter(tmp_path / f"r{i % 10}")
        w.add_scalar("x", float(i), i)
        w.add_scalars("grp", {"a": 1.0, "b": 2.0}, i)
        w.close()
    assert threading.active_count() == threads
    assert _fd_count() == fds
    total = sum(
        1 for d in range(10) for p in event_files(tmp_path / f"r{d}") for e in read_events(p)
        if e.HasField("summary")
    )
    assert total == 1000


# ---------------------------------------------------------------- property tests

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    hnp.arrays(
        dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int64, np.uint64,
                               np.bool_, np.complex64]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
    ),
    st.text(max_size=5),
    st.none(),
    st.lists(st.floats(), max_size=3),
    st.dictionaries(st.text(max_size=2), st.floats(), max_size=2),
)
tags = st.one_of(st.text(max_size=40), st.none(), st.integers(), st.binary(max_size=3),
                 st.just("lone \udc80 surrogate"))
steps = st.one_of(
    st.none(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),
    st.text(max_size=3),
    st.booleans(),
)


def expected_scalar(value) -> float | None:
    """What add_scalar should store for value, or None if it must refuse it."""
    if value is None or isinstance(value, (str, dict)):
        return None
    if isinstance(value, int):  # Python ints of any size (bool too)
        try:
            return float(value)
        except OverflowError:
            return math.copysign(math.inf, value)
    arr = np.asarray(value)
    if arr.dtype == object or arr.size != 1 or arr.dtype.kind not in "biuf":
        return None
    return float(arr.reshape(-1)[0])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(tags, numbers, steps), min_size=1, max_size=20))
def test_add_scalar_property(tmp_path_factory, calls):
    logdir = tmp_path_factory.mktemp("prop")
    accepted = []
    with tbx.SummaryWriter(logdir, flush_secs=3600) as w:
        for tag, value, step in calls:
            try:
                w.add_scalar(tag, value, step, walltime=5.0)
            except (TypeError, ValueError) as exc:
                assert str(exc)
                continue
            accepted.append((tag, value, step))
    events = [e for p in event_files(logdir) for e in read_events(p) if e.HasField("summary")]
    assert len(events) == len(accepted)
    for event, (tag, value, step) in zip(events, accepted, strict=True):
        v = event.summary.value[0]
        assert v.tag == tag and isinstance(tag, str) and tag
        assert event.step == (0 if step is None else int(step))
        want = expected_scalar(value)
        assert want is not None, f"accepted {value!r}"
        got = v.simple_value
        if math.isnan(want):
            assert math.isnan(got)
        elif abs(want) > 3.5e38:
            assert got == math.copysign(math.inf, want)
        else:
            assert got == f32(want)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(tags, st.one_of(st.text(), st.none(), st.integers(),
                                                 st.binary(max_size=3))), max_size=10))
def test_add_text_property(tmp_path_factory, calls):
    from tbx.summary.text import decode

    logdir = tmp_path_factory.mktemp("text")
    accepted = []
    with tbx.SummaryWriter(logdir) as w:
        for tag, text in calls:
            try:
                w.add_text(tag, text, 1)
            except (TypeError, ValueError):
                continue
            accepted.append((tag, text))
    values = [v for p in event_files(logdir) for e in read_events(p) if e.HasField("summary")
              for v in e.summary.value]
    assert [(v.tag, decode(v)) for v in values] == [
        (t + "/text_summary", s) for t, s in accepted
    ]
    assert all(isinstance(t, str) and t and isinstance(s, str) for t, s in accepted)


def _values_of(logdir):
    return [v for p in event_files(logdir) for e in read_events(p) if e.HasField("summary")
            for v in e.summary.value]


arrays = hnp.arrays(
    dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.uint8, np.int64,
                           np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
    elements=None,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.one_of(arrays, st.none(), st.text(max_size=3),
                                st.lists(st.floats(), max_size=5)), min_size=1, max_size=6))
def test_add_histogram_property(tmp_path_factory, calls):
    """Every histogram written is self-consistent and matches the finite input values; every
    refusal is a TypeError/ValueError; nothing else reaches the file."""
    from tbx.summary.histogram import decode

    logdir = tmp_path_factory.mktemp("hist")
    accepted = []
    with tbx.SummaryWriter(logdir) as w, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, values in enumerate(calls):
            try:
                w.add_histogram("h", values, i)
            except (TypeError, ValueError) as exc:
                assert str(exc)
                continue
            accepted.append((i, values))
    got = _values_of(logdir)
    steps_written = [i for i, _ in accepted]
    assert len(got) <= len(accepted)  # an all-non-finite input may write nothing
    for v in got:
        h = decode(v)
        assert h.num == float(np.sum(h.bucket_counts))
        assert h.min <= h.max
    for (i, values), v in zip(
        [a for a in accepted if np.isfinite(np.asarray(a[1], dtype=np.float64)).any()],
        got,
        strict=True,
    ):
        x = np.asarray(values, dtype=np.float64).ravel()
        x = x[np.isfinite(x)]
        h = decode(v)
        assert h.num == x.size and i in steps_written
        assert h.min == x.min() and h.max == x.max()
        assert h.sum == pytest.approx(float(x.sum()), rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(
    img=hnp.arrays(
        dtype=np.float32,
        shape=st.tuples(st.integers(0, 5), st.integers(0, 9), st.integers(0, 9)),
        elements=st.floats(-2, 3, width=32),
    ),
    dtype=st.sampled_from([np.uint8, np.float32, np.float64]),
    fmt=st.sampled_from(["CHW", "HWC", "HW", "NCHW", "XYZ", 5]),
)
def test_add_image_property(tmp_path_factory, img, dtype, fmt):
    """An image is written and decodes to the expected pixels, or is refused with a clear
    error; the earlier image survives either way."""
    from tbx.summary.image import decode

    img = (img * 80).clip(0, 255).astype(dtype) if dtype == np.uint8 else img.astype(dtype)
    logdir = tmp_path_factory.mktemp("img")
    with tbx.SummaryWriter(logdir) as w:
        w.add_image("first", np.zeros((3, 2, 2), np.uint8), 0)
        try:
            w.add_image("img", img, 1, dataformats=fmt)
            ok = True
        except (TypeError, ValueError) as exc:
            assert str(exc)
            ok = False
    values = _values_of(logdir)
    assert [v.tag for v in values] == (["first", "img"] if ok else ["first"])
    if not ok:
        return
    assert fmt in ("CHW", "HWC")
    hwc = img if fmt == "HWC" else np.transpose(img, (1, 2, 0))
    if hwc.dtype != np.uint8:
        hwc = (np.clip(hwc, 0, 1) * 255).astype(np.uint8)  # tensorboardX's rounding: truncate
    assert np.array_equal(decode(values[1]), hwc)
