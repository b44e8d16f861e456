"""Shared fixtures: event-file helpers used by every test module."""

from __future__ import annotations

import glob
import os

import pytest


def event_files(logdir: str | os.PathLike) -> list[str]:
    """The event files directly in ``logdir``, in name order."""
    return sorted(glob.glob(os.path.join(os.fspath(logdir), "events.out.tfevents.*")))


def read_events(path: str | os.PathLike) -> list:
    """Every Event of one event file, decoded with tbx's protos after a strict CRC check."""
    from tbx.proto.event_pb2 import Event
    from tbx.record import scan_records

    with open(path, "rb") as f:
        data = f.read()
    scan = scan_records(data, source=os.fspath(path))
    assert scan.end == len(data), f"{path}: {len(data) - scan.end} trailing bytes"
    return [Event.FromString(bytes(p)) for p in scan.payloads(data)]


def read_logdir_events(logdir: str | os.PathLike) -> list:
    """Every Event of every event file directly in ``logdir``, files in name order."""
    return [e for path in event_files(logdir) for e in read_events(path)]


@pytest.fixture
def logdir(tmp_path):
    """A fresh run folder path (not yet created)."""
    return tmp_path / "run"


@pytest.fixture(params=["c", "python"])
def impl(request):
    """Runs the test with tbx's C kernel (``tbx._speedups``) and with the pure-Python / numpy
    fallback; skips the C run when the kernel is not built."""
    from tbx import record

    if request.param == "c" and not record.use_speedups(True):
        pytest.skip("tbx._speedups is not built")
    record.use_speedups(request.param == "c")
    yield request.param
    record.use_speedups(True)
