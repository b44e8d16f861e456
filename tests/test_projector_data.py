"""The Projector plugin's data side: configs and files written by tbx, tensorboardX and torch
read the same; bad input becomes a message naming the file while the rest works; PCA equals
numpy's SVD (up to sign) over all points, exact and randomised; custom directions, exact
nearest neighbours, metadata search; projection jobs report progress, cancel and cache."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import tbx
from tbx.viewer.plugins.projector import columns, demo_data, files, project, store
from tbx.viewer.plugins.projector.jobs import Jobs

rng = np.random.default_rng(13)


def only_ref(run_dir, name=None):
    refs, problems = files.list_embeddings("run", str(run_dir))
    assert problems == []
    return refs[0] if name is None else next(r for r in refs if r.name == name)


def load(run_dir, name=None):
    return files.load_embedding(only_ref(run_dir, name))


def column(emb, name):
    return next(c for c in emb.columns if c.name == name)


def labels(col):
    """Per-point values of a column as strings ('' where missing)."""
    return [col.categories[c] if c >= 0 else "" for c in col.codes]


# -- reading: three writers, same result -------------------------------------------------

@pytest.mark.parametrize("writer", ["tbx", "tensorboardX", "torch"])
def test_writers_read_the_same(tmp_path, writer):
    mat = rng.standard_normal((40, 6)).astype(np.float32)
    meta = [[f"w{i}", str(i % 4)] for i in range(40)]
    img = np.zeros((40, 3, 5, 5), np.float32)
    img[:, 0] = np.linspace(0, 1, 40)[:, None, None]
    run = tmp_path / "run"
    if writer == "tbx":
        w = tbx.SummaryWriter(run)
        arg = mat
    elif writer == "tensorboardX":
        from tensorboardX import SummaryWriter

        w = SummaryWriter(str(run))
        arg = mat
    else:
        torch = pytest.importorskip("torch")
        from torch.utils.tensorboard import SummaryWriter

        w = SummaryWriter(str(run))
        arg, img = torch.from_numpy(mat), torch.from_numpy(img)
    w.add_embedding(arg, metadata=meta, label_img=img, global_step=7, tag="emb",
                    metadata_header=["word", "group"])
    w.add_embedding(arg[:10], global_step=8, tag="emb")
    w.close()
    refs, problems = files.list_embeddings("run", str(run))
    assert problems == []
    assert [(r.name, r.tag, r.step) for r in refs] == [("emb:00007", "emb", 7),
                                                      ("emb:00008", "emb", 8)]
    emb = files.load_embedding(refs[0])
    np.testing.assert_array_equal(emb.mat, mat)  # str(float32 -> float) and tbx's 9 digits
    assert emb.problems == []
    assert [c.name for c in emb.columns] == ["word", "group"]
    assert labels(column(emb, "word")) == [f"w{i}" for i in range(40)]
    group = column(emb, "group")
    assert group.categories == ["0", "1", "2", "3"] and group.numeric
    np.testing.assert_array_equal(group.values, np.arange(40) % 4)
    assert emb.sprite["single_image_dim"] == [5, 5]
    assert emb.sprite["count"] == 40 and emb.sprite["per_row"] * 5 <= emb.sprite["width"]
    small = files.load_embedding(refs[1])
    np.testing.assert_array_equal(small.mat, mat[:10])
    assert small.columns == [] and small.sprite is None


def test_single_column_metadata_has_no_header(tmp_path):
    run = tmp_path / "run"
    with tbx.SummaryWriter(run) as w:
        w.add_embedding(np.eye(3, dtype=np.float32), metadata=["a", "b", "a"])
    (col,) = load(run).columns
    assert col.name == "label" and labels(col) == ["a", "b", "a"]
    assert col.categories == ["a", "b"] and col.counts.tolist() == [2, 1]


def test_many_runs_tags_steps_and_plugin_assets_config(tmp_path):
    run = tmp_path / "run"
    with tbx.SummaryWriter(run) as w:
        for step in (0, 5):
            for tag in ("a/b", "c"):
                w.add_embedding(np.full((3, 2), step, np.float32), global_step=step, tag=tag)
    refs, _ = files.list_embeddings("run", str(run))
    assert [(r.tag, r.step) for r in refs] == [("a/b", 0), ("c", 0), ("a/b", 5), ("c", 5)]
    assert files.load_embedding(refs[2]).mat.tolist() == [[5, 5]] * 3
    # TensorFlow's plugin-assets place, with a path relative to it and no tensor_name
    assets = tmp_path / "tf" / "plugins" / "projector"
    assets.mkdir(parents=True)
    (assets / "t.tsv").write_text("1\t2\n3\t4\n")
    (assets / "projector_config.pbtxt").write_text('embeddings { tensor_path: "t.tsv" }\n')
    (ref,) = files.list_embeddings("tf", str(tmp_path / "tf"))[0]
    assert ref.name == "t.tsv" and ref.step is None
    assert files.load_embedding(ref).mat.tolist() == [[1, 2], [3, 4]]


def test_binary_tensor_file_with_shape(tmp_path):
    mat = rng.standard_normal((4, 3)).astype("<f4")
    (tmp_path / "t.bytes").write_bytes(mat.tobytes())
    (tmp_path / "projector_config.pbtxt").write_text(
        'embeddings { tensor_name: "x" tensor_path: "t.bytes" '
        'tensor_shape: 4 tensor_shape: 3 }\n')
    np.testing.assert_array_equal(load(tmp_path).mat, mat)


# -- bad input: a message naming the file, the rest works ---------------------------------

def write_config(folder, body):
    (folder / "projector_config.pbtxt").write_text(body)


def test_bad_config_and_paths_are_reported(tmp_path):
    write_config(tmp_path, "embeddings { tensor_name: 'x' tensor_path: \n")
    refs, problems = files.list_embeddings("r", str(tmp_path))
    assert refs == [] and "projector_config.pbtxt: not a projector config" in problems[0]
    write_config(tmp_path, 'embeddings { tensor_name: "out" tensor_path: "../t.tsv" }\n'
                           'embeddings { tensor_name: "ok" tensor_path: "t.tsv" }\n'
                           'embeddings { tensor_name: "ckpt" }\n')
    refs, problems = files.list_embeddings("r", str(tmp_path))
    assert [r.name for r in refs] == ["ok"]
    assert "'../t.tsv'" in problems[0] and "leaves the config's folder" in problems[0]
    assert "'ckpt' has no tensor_path" in problems[1]
    with pytest.raises(FileNotFoundError, match=r"tensor file .*t\.tsv does not exist"):
        files.load_embedding(refs[0])


@pytest.mark.parametrize("text, message", [
    ("1\t2\n3\n", "line 2 has 1 values where the first row has 2"),
    ("1\t2\n3\tx\n", "line 2: 'x' is not a number"),
    ("\n\n", "holds no points"),
])
def test_unreadable_tensor_file_is_named(tmp_path, text, message):
    (tmp_path / "t.tsv").write_text(text)
    write_config(tmp_path, 'embeddings { tensor_name: "x" tensor_path: "t.tsv" }\n')
    with pytest.raises(ValueError, match="tensor file .*t.tsv") as err:
        load(tmp_path)
    assert message in str(err.value)


def test_nan_rows_reported_and_left_out(tmp_path):
    mat = rng.standard_normal((20, 4)).astype(np.float32)
    text = "".join("\t".join(str(v) for v in row) + "\n" for row in mat.tolist())
    lines = text.splitlines()
    lines[3] = "nan\t1\t2\t3"
    lines[7] = "1\tinf\t2\t3"
    (tmp_path / "t.tsv").write_text("\n".join(lines) + "\n")
    write_config(tmp_path, 'embeddings { tensor_name: "x" tensor_path: "t.tsv" }\n')
    emb = load(tmp_path)
    assert emb.mat.shape == (20, 4)
    assert np.flatnonzero(~emb.finite).tolist() == [3, 7]
    (problem,) = emb.problems
    assert "t.tsv: 2 of 20 rows hold NaN or Inf (rows 3, 7)" in problem
    s = store.Store()
    job = s.project(emb, "pca", {})
    assert job.done.wait(60) and job.state == "done", job.status()
    assert np.isnan(job.result[[3, 7]]).all()
    assert np.isfinite(np.delete(job.result, [3, 7], 0)).all()
    expected = pca_numpy(np.delete(mat, [3, 7], 0))
    assert_same_up_to_sign(np.delete(job.result, [3, 7], 0), expected)
    assert all(i not in (3, 7) for i, _ in s.neighbors(emb, 0, 19, "euclidean"))
    with pytest.raises(ValueError, match="point 3 holds NaN"):
        s.neighbors(emb, 3, 5, "cosine")


def test_short_long_and_ragged_metadata(tmp_path):
    (tmp_path / "t.tsv").write_text("1\n2\n3\n4\n")
    (tmp_path / "m.tsv").write_text("a\tb\nx\t1\ny\n")  # 2 rows for 4 points, one short
    (tmp_path / "l.tsv").write_text("a\nb\nc\nd\ne\nf\n")
    write_config(tmp_path, 'embeddings { tensor_name: "s" tensor_path: "t.tsv" '
                           'metadata_path: "m.tsv" }\n'
                           'embeddings { tensor_name: "l" tensor_path: "t.tsv" '
                           'metadata_path: "l.tsv" }\n'
                           'embeddings { tensor_name: "g" tensor_path: "t.tsv" '
                           'metadata_path: "gone.tsv" }\n')
    emb = load(tmp_path, "s")
    assert labels(column(emb, "a")) == ["x", "y", "", ""]
    assert labels(column(emb, "b")) == ["1", "", "", ""]
    assert any("m.tsv has 2 rows for 4 points: points 2..3 have no labels" in p
               for p in emb.problems)
    assert any("m.tsv: 1 rows do not have 2 cells (first: row 2 has 1)" in p
               for p in emb.problems)
    emb = load(tmp_path, "l")
    assert labels(emb.columns[0]) == ["a", "b", "c", "d"]
    assert "l.tsv has 6 rows for 4 points: rows after 4 are ignored" in emb.problems[0]
    emb = load(tmp_path, "g")
    assert emb.columns == [] and "gone.tsv does not exist" in emb.problems[0]
    assert emb.mat.tolist() == [[1], [2], [3], [4]]


def test_sprite_too_small_or_unusable(tmp_path):
    from PIL import Image

    (tmp_path / "t.tsv").write_text("".join(f"{i}\t0\n" for i in range(10)))
    Image.new("RGB", (20, 20)).save(tmp_path / "s.png")  # 2 x 2 cells of 10 px: 4 of 10
    (tmp_path / "bad.png").write_bytes(b"not an image")
    write_config(tmp_path, "".join(
        f'embeddings {{ tensor_name: "{name}" tensor_path: "t.tsv" '
        f'sprite {{ image_path: "{img}" {dims} }} }}\n'
        for name, img, dims in [("small", "s.png", "single_image_dim: 10 single_image_dim: 10"),
                                ("nodim", "s.png", ""),
                                ("bad", "bad.png", "single_image_dim: 10 single_image_dim: 10")]))
    emb = load(tmp_path, "small")
    assert emb.sprite == {"width": 20, "height": 20, "single_image_dim": [10, 10],
                          "per_row": 2, "count": 4}
    assert "s.png is 20x20 pixels: it holds 4 thumbnails of 10x10 pixels for 10 points; " \
           "points 4..9 have none" in emb.problems[0]
    emb = load(tmp_path, "nodim")
    assert emb.sprite is None and "single_image_dim must be [width, height]" in emb.problems[0]
    emb = load(tmp_path, "bad")
    assert emb.sprite is None and "bad.png is not a PNG or JPEG image" in emb.problems[0]
    assert emb.mat.shape == (10, 2)


# -- projections -------------------------------------------------------------------------

def pca_numpy(x):
    xc = x.astype(np.float64) - x.mean(0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    return xc @ vt.T


def assert_same_up_to_sign(got, expected, k=None, rtol=1e-4):
    k = k or got.shape[1]
    for j in range(k):
        e = expected[:, j]
        sign = np.sign(np.dot(got[:, j], e)) or 1.0
        np.testing.assert_allclose(sign * got[:, j], e, rtol=rtol, atol=rtol * np.abs(e).max())


def test_pca_exact_equals_numpy_svd():
    x, _ = demo_data.make_points(500, 30, seed=3)
    out = project.pca(x, 10)
    assert out["method"] == "exact" and out["coords"].shape == (500, 10)
    expected = pca_numpy(x)
    assert_same_up_to_sign(out["coords"], expected)
    var = expected.var(axis=0, ddof=1)
    np.testing.assert_allclose(out["variance_ratio"], var[:10] / var.sum(), rtol=1e-6)
    # the wide form (N < D) is exact too
    wide = rng.standard_normal((40, 3000)).astype(np.float32)
    out = project.pca(wide, 5)
    assert out["method"] == "exact"
    assert_same_up_to_sign(out["coords"], pca_numpy(wide), k=5, rtol=1e-3)


def test_pca_randomized_matches_exact(monkeypatch):
    spectrum = np.array([50, 30, 20, 12, 8, 5], np.float64)
    basis, _ = np.linalg.qr(rng.standard_normal((64, 6)))
    x = (rng.standard_normal((5000, 6)) * spectrum) @ basis.T + 0.05 * rng.standard_normal(
        (5000, 64)) + 3.0
    x = x.astype(np.float32)
    monkeypatch.setattr(project, "EXACT_MAX", 16)
    out = project.pca(x, 4)
    assert out["method"] == "randomized"
    assert_same_up_to_sign(out["coords"], pca_numpy(x), k=4, rtol=1e-3)


def test_custom_directions_and_from_queries(tmp_path):
    mats = demo_data.write_demo(tmp_path / "run", n=90, d=5, steps=(0,))
    x = mats[0]
    dirs = np.array([[1, 0, 0, 0, 0], [0, 2, 0, 0, 2]], np.float64)
    got = project.custom(x, dirs)
    xc = x.astype(np.float64) - x.mean(0)
    np.testing.assert_allclose(got[:, 0], xc[:, 0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[:, 1], (xc[:, 1] + xc[:, 4]) / np.sqrt(2), rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match="2 or 3 vectors of 5 numbers"):
        project.custom(x, dirs[:1])
    emb = load(tmp_path / "run")
    s = store.Store()
    d = s.direction(emb, "red", "blue", column="colour")
    np.testing.assert_allclose(d, x[0::3].mean(0) - x[2::3].mean(0), rtol=1e-5)
    with pytest.raises(ValueError, match="no point matches 'purple'"):
        s.direction(emb, "purple")


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_neighbors_exact_over_all_points(metric):
    x = rng.standard_normal((2000, 24)).astype(np.float32)
    x[5] = x[9] * 3  # same direction: cosine distance 0
    got = project.neighbors(x, 9, 8, metric)
    x64 = x.astype(np.float64)
    if metric == "cosine":
        unit = x64 / np.linalg.norm(x64, axis=1, keepdims=True)
        dist = 1 - unit @ unit[9]
    else:
        dist = np.linalg.norm(x64 - x64[9], axis=1)
    dist[9] = np.inf
    order = np.argsort(dist, kind="stable")[:8]
    assert [i for i, _ in got] == order.tolist()
    np.testing.assert_allclose([d for _, d in got], dist[order], rtol=1e-5, atol=1e-6)
    if metric == "cosine":
        assert got[0][0] == 5
    with pytest.raises(ValueError, match="metric must be"):
        project.neighbors(x, 0, 3, "manhattan")
    with pytest.raises(ValueError, match=r"index must be in \[0, 1999\]"):
        project.neighbors(x, 2000, 3)


def test_search_text_regex_and_columns():
    names = ["cat", "Dog", "catalog", "", "bird"]
    cols = [columns.encode_column("word", names),
            columns.encode_column("n", ["1", "10", "2", "x", "3"])]
    assert columns.search(cols, "cat").tolist() == [0, 2]
    assert columns.search(cols, "dog", column="word").tolist() == [1]
    assert columns.search(cols, "dog", column="word", case=True).tolist() == []
    assert columns.search(cols, "^(cat|bird)$", regex=True).tolist() == [0, 4]
    assert columns.search(cols, "1", column="n").tolist() == [0, 1]
    assert columns.search(cols, "a.", regex=False).tolist() == []  # literal text
    with pytest.raises(ValueError, match="column must be one of the metadata columns"):
        columns.search(cols, "x", column="nope")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        columns.search(cols, "(", regex=True)
    assert not cols[1].numeric and cols[1].categories == ["1", "10", "2", "3", "x"]
    nums = columns.encode_column("v", ["10", "2", "", "2.5"])
    assert nums.numeric and nums.categories == ["2", "2.5", "10"]
    assert nums.codes.tolist() == [2, 0, -1, 1]
    np.testing.assert_array_equal(nums.values, [10, 2, np.nan, 2.5])


def test_subset_parsing():
    assert store.parse_subset("", 10) is None
    assert store.parse_subset("3,0-2,2", 10).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="outside the rows 0..9"):
        store.parse_subset("5-10", 10)
    with pytest.raises(ValueError, match="row indices and ranges"):
        store.parse_subset("a", 10)


def test_isolate_and_reproject(tmp_path):
    mats = demo_data.write_demo(tmp_path / "run", n=60, d=6, steps=(0,))
    emb = load(tmp_path / "run")
    s = store.Store()
    subset = np.arange(0, 60, 3)
    job = s.project(emb, "pca", {}, subset=subset)
    assert job.done.wait(60) and job.state == "done"
    assert job.status()["points"] == 20
    rest = np.setdiff1d(np.arange(60), subset)
    assert np.isnan(job.result[rest]).all()
    assert_same_up_to_sign(job.result[subset], pca_numpy(mats[0][subset]), k=5)


# -- jobs: progress, cancel, cache ------------------------------------------------------

def test_jobs_progress_cancel_and_cache():
    jobs = Jobs(keep=2)
    release = threading.Event()
    seen = threading.Event()

    def slow(progress):
        for i in range(1000):
            progress(i / 1000, f"step {i}", np.full((3, 2), i, np.float32))
            seen.set()
            release.wait(0.01)
        return np.zeros((3, 2), np.float32), {"note": 1}

    job = jobs.submit(("a",), slow, slow=True)
    assert seen.wait(30)
    assert job.state == "running" and job.status()["partial"] >= 1
    queued = jobs.submit(("b",), slow, slow=True)  # slow jobs run one at a time
    assert queued.state == "queued"
    job.cancel()
    assert job.done.wait(30) and job.state == "cancelled"
    queued.cancel()
    assert queued.done.wait(30) and queued.state == "cancelled"
    fast = jobs.submit(("c",), lambda p: (np.ones((2, 2), np.float32), {"x": 2}))
    assert fast.done.wait(30) and fast.state == "done" and fast.status()["x"] == 2
    assert jobs.submit(("c",), lambda p: 1 / 0) is fast  # cached
    assert jobs.submit(("a",), slow, slow=True) is not job  # a cancelled job starts again
    jobs.cancel_all()
    broken = jobs.submit(("d",), lambda p: 1 / 0)
    assert broken.done.wait(30) and broken.state == "error"
    assert "ZeroDivisionError" in broken.status()["error"]


def test_tsne_progress_partial_and_cancel(tmp_path):
    pytest.importorskip("openTSNE")
    demo_data.write_demo(tmp_path / "run", n=150, d=8, steps=(0,))
    emb = load(tmp_path / "run")
    s = store.Store()
    job = s.project(emb, "tsne", {"dims": 2, "perplexity": 10.0, "iterations": 100})
    assert job.done.wait(300), job.status()
    assert job.state == "done", job.status()
    assert job.result.shape == (150, 2) and np.isfinite(job.result).all()
    assert job.partial is not None and job.partial.shape == (150, 2)
    # same points in the same cluster end up closer than points of other clusters
    d = np.linalg.norm(job.result[:, None] - job.result[None], axis=2)
    same = (np.arange(150)[:, None] % 3) == (np.arange(150)[None] % 3)
    assert d[same].mean() < d[~same].mean() / 2
    job2 = s.project(emb, "tsne", {"dims": 2, "perplexity": 10.0, "iterations": 5000})
    while job2.state == "queued" or job2.partial is None:
        assert not job2.done.wait(0.05)
    job2.cancel()
    assert job2.done.wait(60) and job2.state == "cancelled"
    bad = s.project(emb, "tsne", {"dims": 2, "perplexity": 60.0, "iterations": 100})
    assert bad.done.wait(60) and bad.state == "error"
    assert "perplexity must be below N / 3 = 50" in bad.error


def test_load_cache_follows_file_changes(tmp_path):
    run = tmp_path / "run"
    with tbx.SummaryWriter(run) as w:
        w.add_embedding(np.zeros((2, 2), np.float32), tag="t")
    s = store.Store()
    ref = s.ref("run", str(run), "t:00000")
    first = s.load(ref)
    assert s.load(ref) is first
    path = run / "00000" / "t" / "tensors.tsv"
    path.write_text("1\t2\n3\t4\n5\t6\n")
    os.utime(path, ns=(1, 1))
    assert s.load(ref).mat.tolist() == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(KeyError, match="run 'run' has no embedding 'nope'"):
        s.ref("run", str(run), "nope")


def test_umap_progress_and_cancel(tmp_path):
    pytest.importorskip("umap")
    demo_data.write_demo(tmp_path / "run", n=120, d=8, steps=(0,))
    emb = load(tmp_path / "run")
    s = store.Store()
    job = s.project(emb, "umap", {"dims": 2, "neighbors_k": 10, "min_dist": 0.1, "seed": 0})
    assert job.done.wait(600), job.status()
    assert job.state == "done", job.status()
    assert job.result.shape == (120, 2) and np.isfinite(job.result).all()
    assert job.message.startswith("epoch ") and job.message.endswith("/500")
    d = np.linalg.norm(job.result[:, None] - job.result[None], axis=2)
    same = (np.arange(120)[:, None] % 3) == (np.arange(120)[None] % 3)
    assert d[same].mean() < d[~same].mean() / 2
    job2 = s.project(emb, "umap", {"dims": 2, "neighbors_k": 11, "min_dist": 0.1, "seed": 0})
    while not job2.message.startswith("epoch "):
        assert not job2.done.wait(0.05), job2.status()
    job2.cancel()
    assert job2.done.wait(60) and job2.state == "cancelled"


def test_tsv_read_the_same_without_pandas(tmp_path, monkeypatch):
    mat = rng.standard_normal((50, 5)).astype(np.float32)
    with tbx.SummaryWriter(tmp_path / "run") as w:
        w.add_embedding(mat, tag="t")
    ref = only_ref(tmp_path / "run")
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)  # numpy's parser instead
    np.testing.assert_array_equal(files.load_embedding(ref).mat, mat)
    (tmp_path / "bad.tsv").write_text("1\t2\n3\n")
    with pytest.raises(ValueError, match="bad.tsv: line 2 has 1 values"):
        files.read_tensor(str(tmp_path / "bad.tsv"))
