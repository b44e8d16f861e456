"""tbx.read: DataFrames per kind, filters, refresh."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tbx


@pytest.fixture
def logdir(tmp_path):
    rng = np.random.default_rng(1)
    for run in ("a", "b/c"):
        w = tbx.SummaryWriter(tmp_path / run)
        for i in range(10):
            w.add_scalar("loss", 1.0 / (i + 1), i, walltime=100.0 + i)
            w.add_scalar("lr", 0.5, i, walltime=100.0 + i)
        w.add_histogram("h", np.arange(100.0), 2, walltime=200.0)
        w.add_images("imgs", rng.random((2, 3, 4, 5)), 3, walltime=300.0)
        w.add_text("note", "hello", 4, walltime=400.0)
        w.add_pr_curve("pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]), 5,
                       num_thresholds=11, walltime=500.0)
        w.add_audio("snd", np.zeros(16), 6, sample_rate=100, walltime=600.0)
        w.close()
    return tmp_path


def test_scalars_frame(logdir):
    data = tbx.read(logdir)
    assert data.runs == ["a", "b/c"]
    df = data.scalars
    assert list(df.columns) == ["run", "tag", "step", "wall_time", "value"]
    assert len(df) == 40
    assert str(df.step.dtype) == "int64" and str(df.value.dtype) == "float64"
    loss = df[(df.run == "a") & (df.tag == "loss")]
    assert loss.step.tolist() == list(range(10))
    assert loss.wall_time.tolist() == [100.0 + i for i in range(10)]
    assert loss.value.tolist() == [float(np.float32(1.0 / (i + 1))) for i in range(10)]
    s = data.scalar_series("b/c", "lr")
    assert s.value.tolist() == [0.5] * 10


def test_other_frames(logdir):
    data = tbx.read(logdir)
    h = data.histograms
    assert list(h.columns) == ["run", "tag", "step", "wall_time", "min", "max", "num", "sum",
                               "sum_squares", "bucket_limits", "bucket_counts"]
    row = h[h.run == "a"].iloc[0]
    assert (row["min"], row["max"], row["num"], row["sum"]) == (0.0, 99.0, 100.0, 4950.0)
    assert row["bucket_counts"].sum() == 100

    im = data.images
    assert list(im.columns) == ["run", "tag", "step", "wall_time", "index", "width", "height",
                                "image"]
    a = im[im.run == "a"]
    assert len(a) == 1 and a.iloc[0]["image"][:8] == b"\x89PNG\r\n\x1a\n"

    tx = data.text
    assert tx[tx.run == "a"]["text"].tolist() == ["hello"]
    assert tx.tag.tolist() == ["note/text_summary"] * 2

    pr = data.pr_curves
    r = pr[pr.run == "a"].iloc[0]
    assert len(r["thresholds"]) == 11 and r["thresholds"][-1] == 1.0
    assert r["true_positives"][0] == 2 and r["false_positives"][0] == 2

    au = data.audio
    assert au[au.run == "a"].iloc[0]["audio"][:4] == b"RIFF"

    assert len(data.tensors) == 0
    assert data.corruptions() == []
    assert set(data.tags["a"]) == {"loss", "lr", "h", "imgs", "note/text_summary", "pr", "snd"}


def test_filters_and_refresh(logdir):
    data = tbx.read(logdir, run="^a$", tag="^lo")
    assert data.runs == ["a"]
    assert set(data.scalars.tag) == {"loss"}
    assert len(data.histograms) == 0
    w = tbx.SummaryWriter(logdir / "a")
    w.add_scalar("loss", 7.0, 10)
    w.close()
    before = data.scalars
    ch = data.refresh()
    assert ch.appended == {("a", "loss"): 1}
    assert len(data.scalars) == len(before) + 1
    with pytest.raises(ValueError, match="run_filter"):
        tbx.read(logdir, run="(")
    with pytest.raises(FileNotFoundError):
        tbx.read(logdir / "missing")


def test_hparams_frame_with_tensorboardx(tmp_path):
    import tensorboardX

    for lr in (0.1, 0.01):
        w = tensorboardX.SummaryWriter(str(tmp_path / f"lr{lr}"))
        w.add_hparams({"lr": lr, "opt": "sgd"}, {"hp/loss": lr * 10})
        w.close()
    df = tbx.read(tmp_path).hparams.sort_values("lr")
    assert df["lr"].tolist() == [0.01, 0.1]
    assert df["opt"].tolist() == ["sgd", "sgd"]
    assert df["hp/loss"].tolist() == pytest.approx([0.1, 1.0])


def test_import_tbx_stays_light():
    import subprocess

    code = ("import sys, tbx; tbx.read; tbx.SummaryReader; "
            "print([m for m in ('pandas', 'fsspec', 'rich') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
