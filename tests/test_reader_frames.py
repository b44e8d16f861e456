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


def _one_tag_three_kinds(folder):
    img = np.zeros((3, 2, 2), np.uint8)
    img[0] = 255
    with tbx.SummaryWriter(folder) as w:
        for i in range(3):
            w.add_scalar("weights", 0.5 * i, i, walltime=10.0 + i)
            w.add_histogram("weights", np.arange(4, dtype=np.float64) + i, i, walltime=20.0 + i)
        w.add_image("weights", img, 7, walltime=30.0)


def test_a_tag_holding_scalars_histograms_and_images_is_in_each_frame(tmp_path):
    _one_tag_three_kinds(tmp_path / "run")
    data = tbx.read(tmp_path)
    sc = data.scalars
    assert sc.tag.tolist() == ["weights"] * 3
    assert sc.step.tolist() == [0, 1, 2] and sc.wall_time.tolist() == [10.0, 11.0, 12.0]
    assert sc.value.tolist() == [0.0, 0.5, 1.0]
    h = data.histograms
    assert h.tag.tolist() == ["weights"] * 3 and h.step.tolist() == [0, 1, 2]
    assert h.wall_time.tolist() == [20.0, 21.0, 22.0]
    assert h["min"].tolist() == [0.0, 1.0, 2.0] and h["max"].tolist() == [3.0, 4.0, 5.0]
    assert h["num"].tolist() == [4.0, 4.0, 4.0] and h["sum"].tolist() == [6.0, 10.0, 14.0]
    im = data.images
    assert im.tag.tolist() == ["weights"] and im.step.tolist() == [7]
    assert (im.width.tolist(), im.height.tolist()) == ([2], [2])
    import io

    from PIL import Image

    px = np.asarray(Image.open(io.BytesIO(im.iloc[0]["image"])))
    assert px.shape == (2, 2, 3) and (px[..., 0] == 255).all() and (px[..., 1:] == 0).all()


def test_summary_reader_shows_each_kind_of_a_tag(tmp_path):
    _one_tag_three_kinds(tmp_path / "run")
    r = tbx.SummaryReader(tmp_path, extra_columns={"min", "max"})
    assert r.scalars.value.tolist() == [0.0, 0.5, 1.0]
    assert r.scalars.step.tolist() == [0, 1, 2]
    h = r.histograms
    assert h.tag.tolist() == ["weights"] * 3 and h.step.tolist() == [0, 1, 2]
    assert h["min"].tolist() == [0.0, 1.0, 2.0] and h["max"].tolist() == [3.0, 4.0, 5.0]
    assert [float(c.sum()) for c in h["counts"]] == [4.0, 4.0, 4.0]
    im = r.images
    assert im.tag.tolist() == ["weights"] and im.step.tolist() == [7]
    assert im.iloc[0]["value"].shape == (2, 2, 3)
    assert r.get_tags("scalars") == ["weights"] and r.get_tags("histograms") == ["weights"]


def test_runs_and_tags_by_name(logdir):
    data = tbx.read(logdir, runs=["b/c"], tags=["lr", "h"])
    assert data.runs == ["b/c"]
    assert set(data.scalars.tag) == {"lr"} and data.scalars.value.tolist() == [0.5] * 10
    assert len(data.histograms) == 1 and len(data.images) == 0
    assert tbx.read(logdir, runs=[], tags=["lr"]).runs == []
    with pytest.raises(TypeError, match="run_names"):
        tbx.read(logdir, runs="a")
    with pytest.raises(TypeError, match="tag_names"):
        tbx.read(logdir, tags=[1])


def test_follow_symlinks(tmp_path):
    outside = tmp_path / "outside"
    w = tbx.SummaryWriter(outside / "run")
    w.add_scalar("x", 3.0, 1)
    w.close()
    logdir = tmp_path / "logdir"
    logdir.mkdir()
    (logdir / "linked").symlink_to(outside / "run", target_is_directory=True)
    with pytest.warns(RuntimeWarning, match="leads out of the logdir"):
        assert tbx.read(logdir).runs == []
    data = tbx.read(logdir, follow_symlinks=True)
    assert data.runs == ["linked"] and data.scalars.value.tolist() == [3.0]


def test_runs_that_do_not_exist_are_named_in_one_warning(logdir):
    with pytest.warns(UserWarning) as caught:
        data = tbx.read(logdir, runs=["a", "typo"])
    assert [str(w.message) for w in caught] == [
        f"tbx.read: no run named 'typo' in {logdir} (runs= names run folders relative to "
        "the logdir; tbx.read(logdir).runs lists them); read the others"]
    assert caught[0].filename == __file__
    assert data.runs == ["a"] and len(data.scalars) == 20
    with pytest.warns(UserWarning) as caught:
        assert tbx.read(logdir, runs=["zz"]).runs == []
    assert len(caught) == 1 and "no run named 'zz' in" in str(caught[0].message)
    with pytest.warns(UserWarning) as caught:
        tbx.read(logdir, runs=[f"x{i}" for i in range(7)] + ["b/c"])
    assert len(caught) == 1
    assert str(caught[0].message).startswith(
        "tbx.read: no runs named 'x0', 'x1', 'x2', 'x3', 'x4' and 2 more in ")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tbx.read(logdir, runs=["a", "b/c"]).runs == ["a", "b/c"]
        assert tbx.read(logdir, runs=[]).runs == []


def _every_kind(folder):
    w = tbx.SummaryWriter(folder / "full")
    w.add_scalar("loss", 1.0, 0)
    w.add_histogram("h", np.arange(100.0), 2)
    w.add_images("imgs", np.zeros((2, 3, 4, 5)), 3)
    w.add_text("note", "hello", 4)
    w.add_pr_curve("pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]), 5,
                   num_thresholds=11)
    w.add_audio("snd", np.zeros(16), 6, sample_rate=100)
    w.add_mesh("m", np.zeros((1, 3, 3)), global_step=1)
    w.add_hparams({"lr": 0.1, "opt": "sgd"}, {"hp/loss": 1.0})
    w.close()
    (folder / "empty").mkdir()
    tbx.SummaryWriter(folder / "empty").close()  # an event file with no summary


@pytest.mark.parametrize("kind", ["scalars", "histograms", "images", "audio", "text",
                                  "tensors", "pr_curves", "hparams"])
def test_empty_frames_have_the_dtypes_of_frames_with_rows(tmp_path, kind):
    _every_kind(tmp_path)
    full = getattr(tbx.read(tmp_path, runs=["full"]), kind)
    empty = getattr(tbx.read(tmp_path, runs=["empty"]), kind)
    assert len(full) >= 1 and len(empty) == 0
    shared = [c for c in full.columns if c in ("run", "tag", "step", "wall_time")
              or kind != "hparams"]
    assert list(empty.columns) == shared
    want = {c: str(full[c].dtype) for c in shared}
    assert {c: str(empty[c].dtype) for c in shared} == want
    expected = {"run": "category", "tag": "category", "step": "int64", "wall_time": "float64"}
    str_dtype = str(__import__("pandas").Series(["x"]).dtype)
    expected.update({
        "scalars": {"value": "float64"},
        "histograms": {"min": "float64", "max": "float64", "num": "float64", "sum": "float64",
                       "sum_squares": "float64", "bucket_limits": "object",
                       "bucket_counts": "object"},
        "images": {"index": "int64", "width": "int64", "height": "int64", "image": "object"},
        "audio": {"index": "int64", "audio": "object", "label": str_dtype},
        "text": {"text": str_dtype},
        "tensors": {"plugin": str_dtype, "value": "object"},
        "pr_curves": dict.fromkeys(["thresholds", "precision", "recall", "true_positives",
                                    "false_positives", "true_negatives", "false_negatives"],
                                   "object"),
    }.get(kind, {}))
    if kind == "hparams":
        expected = {"run": str_dtype}
        assert {c: str(full[c].dtype) for c in full.columns} == {
            "run": str_dtype, "lr": "float64", "opt": str_dtype, "hp/loss": "float64"}
    assert want == expected
    for c in ("run", "tag"):
        if c in shared and kind != "hparams":
            assert str(empty[c].cat.categories.dtype) == str(full[c].cat.categories.dtype)
