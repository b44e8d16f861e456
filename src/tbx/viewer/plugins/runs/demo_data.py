"""A generated hyperparameter sweep for the run table's tests, screenshots and benchmarks:
``runs`` runs, each one event file holding an hparams session (``opt``, ``lr``, ``seed``) and
the scalar tags ``loss`` and ``accuracy`` at steps ``0, 10, ..., 10 * (steps - 1)``. Written
directly as records (tbx's Event encoder and framing), so 10,000 runs take seconds.

Run ``i`` is named ``{opt}-lr{lr}-s{i:05d}`` (e.g. ``adam-lr0.001-s00042``), with
``opt = OPTS[i % 2]``, ``lr = LRS[(i // 2) % 5]``; its loss at step index ``k`` is
``base * exp(-k / (steps / 3)) + 0.05 * noise`` rounded to float32, with ``base = 1 + 10 * lr
+ (0.3 if opt == "sgd" else 0)`` and deterministic noise from ``numpy.random.default_rng(i)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["OPTS", "LRS", "run_name", "write_sweep", "loss_values"]

OPTS = ("adam", "sgd")
LRS = (0.001, 0.003, 0.01, 0.03, 0.1)
STEP = 10
WALL0 = 1.7e9


def run_name(i: int) -> str:
    """Name of run ``i`` of the sweep."""
    return f"{OPTS[i % 2]}-lr{LRS[(i // 2) % 5]}-s{i:05d}"


def hparams(i: int) -> dict:
    """Hyperparameters of run ``i``."""
    return {"opt": OPTS[i % 2], "lr": LRS[(i // 2) % 5], "seed": float(i)}


def loss_values(i: int, steps: int) -> np.ndarray:
    """The float32 ``loss`` values run ``i`` logs (as float64, exactly as read back)."""
    hp = hparams(i)
    base = 1.0 + 10 * hp["lr"] + (0.3 if hp["opt"] == "sgd" else 0.0)
    k = np.arange(steps, dtype=np.float64)
    noise = np.random.default_rng(i).normal(size=steps)
    return (base * np.exp(-k / (steps / 3)) + 0.05 * noise).astype(np.float32).astype(np.float64)


def accuracy_values(i: int, steps: int) -> np.ndarray:
    """The float32 ``accuracy`` values run ``i`` logs (as float64)."""
    return (1.0 - loss_values(i, steps) / 3.0).astype(np.float32).astype(np.float64)


def write_sweep(logdir, runs: int = 2000, steps: int = 50) -> list[str]:
    """Write the sweep into ``logdir`` (created); returns the run names in run order.

    Raises:
        ValueError: ``runs`` or ``steps`` < 1.
        OSError: the folder cannot be written.
    """
    from tbx.proto.event_pb2 import Event
    from tbx.record import frame_records
    from tbx.summary.hparams import hparams_summaries
    from tbx.wire import ScalarEventEncoder, event_bytes

    if runs < 1 or steps < 1:
        raise ValueError(f"runs and steps must be >= 1, got {runs} and {steps}")
    root = Path(logdir)
    names = []
    header = Event(wall_time=WALL0, file_version="brain.Event:2").SerializeToString()
    for i in range(runs):
        name = run_name(i)
        names.append(name)
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        payloads = [header]
        for s in hparams_summaries(hparams(i), {"loss": 0.0}):
            payloads.append(event_bytes(WALL0, 0, s.SerializeToString()))
        enc = ScalarEventEncoder()
        loss = loss_values(i, steps).tolist()
        acc = accuracy_values(i, steps).tolist()
        for k in range(steps):
            wt = WALL0 + k
            payloads.append(enc.encode("loss", loss[k], k * STEP, wt))
            payloads.append(enc.encode("accuracy", acc[k], k * STEP, wt))
        path = d / f"events.out.tfevents.1700000000.sweep.{os.getpid()}.{i:06d}"
        path.write_bytes(frame_records(payloads))
    return names
