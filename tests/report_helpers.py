"""A small logdir for the report tests: scalars with known values (one series long enough to
be downsampled), an hparams session, an image, Markdown text, and names that carry HTML/JS."""

from __future__ import annotations

import numpy as np

import tbx

WALL = 1_700_000_000.0
#: A run folder and tags whose names are markup; the page must show them as text.
EVIL_RUN = 'x<svg onload="window.__pwned=3">'
EVIL_TAG = '<img src=x onerror="window.__pwned=2">'
SCRIPT_TAG = "</script><script>window.__pwned=4</script>"
EVIL_TEXT = ("**bold** and <script>window.__pwned=5</script> "
             "[link](javascript:window.__pwned=6) <img src=x onerror=\"window.__pwned=7\">")
BIG_STEPS = 50_000


def loss_a(step: int) -> float:
    return float(np.float32(1.0 / (step + 1)))


def loss_b(step: int) -> float:
    return float(np.float32(2.0 - step / 100.0))


def big_value(step: int) -> float:
    return float(np.float32(np.sin(step / 500.0) + (3.0 if step == 31_337 else 0.0)))


def make_logdir(root) -> dict:
    """Write the logdir under ``root``; returns the expected values."""
    w = tbx.SummaryWriter(root / "a")
    for s in range(100):
        w.add_scalar("loss", loss_a(s), s, walltime=WALL + s * 1.5)
        w.add_scalar("train/acc", s / 100.0, s, walltime=WALL + s * 1.5)
    w.add_hparams({"lr": 0.01, "optimizer": "adam"}, {"hparam/final_acc": 0.875},
                  global_step=99)
    img = np.zeros((3, 8, 12), dtype=np.uint8)
    img[0] = 255
    w.add_image("samples", img, 5, walltime=WALL)
    img[1] = 255
    w.add_image("samples", img, 7, walltime=WALL)  # the last one: yellow, 12x8
    w.add_text("notes", EVIL_TEXT, 3, walltime=WALL)
    w.close()
    w = tbx.SummaryWriter(root / "b")
    for s in range(0, 100, 2):
        w.add_scalar("loss", loss_b(s), s, walltime=WALL + s)
    w.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/final_acc": 0.5}, global_step=98)
    w.close()
    w = tbx.SummaryWriter(root / "big")
    for s in range(BIG_STEPS):
        w.add_scalar("loss", big_value(s), s, walltime=WALL + s * 0.01)
    w.close()
    w = tbx.SummaryWriter(root / EVIL_RUN)
    w.add_scalar(EVIL_TAG, 1.5, 1, walltime=WALL)
    w.add_scalar(SCRIPT_TAG, 2.5, 2, walltime=WALL)
    w.close()
    return {
        "runs": sorted(["a", "b", "big", EVIL_RUN]),
        "loss_last": {"a": loss_a(99), "b": loss_b(98), "big": big_value(BIG_STEPS - 1)},
        "loss_steps": {"a": 99, "b": 98, "big": BIG_STEPS - 1},
    }


def make_wide_logdir(root, runs: int, tags: int, steps: int, seed: int = 0) -> dict:
    """``runs`` x ``tags`` scalar series of ``steps`` points each (the shape of the issue's
    100 tags x 10 runs x 100,000 steps, scaled down): random walks of float32 values, steps
    0..steps-1, wall times at an uneven pace. Written with tbx's scalar encoder and framing (as
    ``benchmarks/bench_viewer.generate``), one event file per run. Returns ``{(run, tag):
    (step int64, wall_time float64, value float64)}``, the values as read back."""
    from tbx.proto.event_pb2 import Event
    from tbx.record import frame_records
    from tbx.wire import ScalarEventEncoder

    rng = np.random.default_rng(seed)
    enc = ScalarEventEncoder()
    out = {}
    step = np.arange(steps, dtype=np.int64)
    for r in range(runs):
        run = f"run{r:02d}"
        d = root / run
        d.mkdir(parents=True)
        wall = WALL + np.cumsum(rng.uniform(0.01, 0.03, steps))
        vals = (rng.normal(size=(tags, steps)).cumsum(axis=1) * 0.01).astype(np.float32)
        payloads = [Event(wall_time=WALL, file_version="brain.Event:2").SerializeToString()]
        for t in range(tags):
            tag = f"group{t % 5}/tag{t:03d}"
            v = vals[t].astype(np.float64)
            payloads += [enc.encode(tag, x, s, w) for s, w, x in
                         zip(step.tolist(), wall.tolist(), v.tolist(), strict=True)]
            out[(run, tag)] = (step, wall, v)
        (d / f"events.out.tfevents.1700000000.test.{r}.0").write_bytes(frame_records(payloads))
    return out
