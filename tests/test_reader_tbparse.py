"""tbx.SummaryReader against tbparse 0.0.9 on the same logdirs: every frame equal in values,
dtypes, column order and row order; tags, children, raw tags and raw events, and the static
helpers equal too. The logdir has nested runs, several event files per run, a run at the top,
non-event files and an empty folder, and every event type tbparse reads without TensorFlow,
tensors included (tbparse really returns rows there: asserted). Each deliberate difference is
asserted as such at the end."""

from __future__ import annotations

import dataclasses
import glob
import os
import warnings

import numpy as np
import pytest

import tbx

tbparse = pytest.importorskip("tbparse")
tensorboardX = pytest.importorskip("tensorboardX")
pd = pytest.importorskip("pandas")

# tbparse's own pandas deprecation warnings (inplace=, one-value groups)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:tbparse")

REDUCED = {"scalars", "tensors", "histograms", "hparams", "text"}  # tbparse without TensorFlow
RNG = np.random.default_rng(3)


def _raw_tensor_summaries(w, step):
    """Values tbparse lists as tensors: a v2 histogram, a v2 image, a plugin-less 0-d tensor."""
    from tbx.proto.summary_pb2 import Summary, SummaryMetadata
    from tbx.summary.image import encode_png
    from tbx.summary.tensor import numpy_to_tensor

    hist = np.array([[0.0, 1.0, 3.0], [1.0, 2.0, 5.0]]) + step
    img = (RNG.random((4, 5, 3)) * 255).astype(np.uint8)
    png = encode_png(img)

    def meta(plugin):
        return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin))

    s = Summary(value=[
        Summary.Value(tag="v2/hist", tensor=numpy_to_tensor(hist), metadata=meta("histograms")),
        Summary.Value(tag="v2/img", metadata=meta("images"), tensor=numpy_to_tensor(
            np.array([b"5", b"4", png], dtype=object))),
        Summary.Value(tag="plain", tensor=numpy_to_tensor(np.array(step * 1.5))),
    ])
    w.file_writer.add_summary(s, step)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tbparse")
    top = tensorboardX.SummaryWriter(str(d))  # a run at the top: dir_name ""
    for i in range(3):
        top.add_scalar("loss", 2.0 - i, i, walltime=100.0 + i)
    top.close()
    labels, preds = RNG.integers(2, size=40), RNG.random(40)
    for n, run in enumerate(("a", "b/c", "b/d", "e")):
        w = tensorboardX.SummaryWriter(str(d / run))
        for i in range(6):
            wall = 1000.0 * n + i
            w.add_scalar("loss", 1.0 / (i + 1), i, walltime=wall)
            w.add_scalar("acc", i * 0.1, i, walltime=wall)
            w.add_histogram("h", np.arange(10.0) + i + n, i, walltime=wall)
            w.add_text("t", f"hi {run} {i}", i, walltime=wall)
            if i % 2:
                w.add_pr_curve("pr", labels, preds, i, num_thresholds=11, walltime=wall)
        w.add_scalar("loss", 9.0, 2, walltime=1000.0 * n + 9)  # a second value at step 2
        w.add_image("img", RNG.random((3, 4, 5)), 3)
        w.add_mesh("m", RNG.random((1, 4, 3)), global_step=2)
        w.add_custom_scalars({"cat": {"chart": ["Multiline", ["loss", "acc"]]}})
        w.add_hparams({"lr": 0.1 * (n + 1), "opt": "adam", "deep": n % 2 == 0},
                      {"hp/acc": 0.5 + n})  # tensorboardX: a sub-run named by the time
        w.close()
    # a second event file in run "a": later steps, a new tag, a tag seen before
    w = tbx.SummaryWriter(d / "a", filename_suffix=".second")
    for i in range(6, 9):
        w.add_scalar("loss", 0.1 * i, i, walltime=5000.0 + i)
        w.add_scalar("late", float(i), i, walltime=5000.0 + i)
    w.add_histogram("h", np.linspace(-1, 1, 50), 7, walltime=5007.0)
    w.add_hparams({"lr": 0.5, "wd": 1e-4}, {"hp/acc": 0.9})  # tbx: the same run
    for step in (2, 4):
        _raw_tensor_summaries(w, step)
    w.close()
    w = tbx.SummaryWriter(d / "b/c")  # a tbx run beside tensorboardX's
    w.add_text("notes", "**bold**", 1, walltime=7.0)
    w.add_embedding(RNG.random((5, 3)), global_step=0)  # projector files: non-event files
    w.close()
    (d / "notes.txt").write_text("not an event file")
    (d / "empty").mkdir()
    return d


def _tbparse(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tbparse.SummaryReader(str(path), **kw)


def same(a, b) -> bool:
    """Cell equality: arrays by dtype, shape and values; lists item by item; NaN == NaN."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


def assert_frames_equal(got, want):
    assert list(got.columns) == list(want.columns)
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    assert got.shape == want.shape
    assert list(got.index) == list(want.index)
    for col in want.columns:
        for i, (a, b) in enumerate(zip(got[col].tolist(), want[col].tolist(), strict=True)):
            assert same(a, b), (col, i, a, b)


CASES = [
    {},
    {"pivot": True},
    {"extra_columns": {"wall_time"}},
    {"extra_columns": {"dir_name", "wall_time"}},
    {"extra_columns": {"dir_name", "file_name"}},
    {"pivot": True, "extra_columns": {"dir_name"}},
    {"pivot": True, "extra_columns": {"file_name", "wall_time"}},
    {"extra_columns": {"file_name", "min", "max", "num", "sum", "sum_squares"}},
    {"pivot": True, "extra_columns": {"min", "max", "dir_name"}},
]


@pytest.mark.parametrize("kwargs", CASES, ids=repr)
@pytest.mark.parametrize("event_type", sorted(REDUCED))
def test_frames_equal_tbparse(logdir, kwargs, event_type):
    want = getattr(_tbparse(logdir, event_types=REDUCED, **kwargs), event_type)
    got = getattr(tbx.SummaryReader(logdir, event_types=REDUCED, **kwargs), event_type)
    assert len(want) > 0  # tbparse really returns rows here
    assert_frames_equal(got, want)


@pytest.mark.parametrize("kwargs", [{}, {"pivot": True}, {"extra_columns": {"file_name"}}],
                         ids=repr)
@pytest.mark.parametrize("run", ["a", "b/c"])
def test_one_event_file_equals_tbparse(logdir, kwargs, run):
    for path in sorted(glob.glob(str(logdir / run / "events.out.tfevents.*"))):
        for event_type in sorted(REDUCED):
            want = getattr(_tbparse(path, event_types=REDUCED, **kwargs), event_type)
            got = getattr(tbx.SummaryReader(path, event_types=REDUCED, **kwargs), event_type)
            assert_frames_equal(got, want)


def test_tensors_hold_every_tensor_kind(logdir):
    """What the tensors frames above compare: pr curves, meshes, custom scalar layouts, v2
    histograms and images, plain tensors -- not text, not hparams."""
    got = tbx.SummaryReader(logdir, event_types={"tensors"}).tensors
    assert set(got["tag"]) == {"pr", "m_1", "custom_scalars__config__", "v2/hist",
                               "v2/img", "plain"}
    plain = got[got["tag"] == "plain"]
    assert plain["value"].tolist() == [3.0, 6.0] and plain["step"].tolist() == [2, 4]
    hist = got[got["tag"] == "v2/hist"]["value"].tolist()
    np.testing.assert_array_equal(hist[0], np.array([[2.0, 3.0, 5.0], [3.0, 4.0, 7.0]]))


def test_tags_children_and_errors_equal_tbparse(logdir):
    mine, theirs = tbx.SummaryReader(logdir), _tbparse(logdir)
    assert list(mine.children) == list(theirs.children)
    assert "notes.txt" in mine.children and "empty" in mine.children
    assert mine.get_tags("images") == ["img"] and theirs.get_tags("images") == []
    reduced = tbx.SummaryReader(logdir, event_types=REDUCED)
    assert reduced.tags == theirs.tags and list(reduced.tags) == list(theirs.tags)
    for event_type in sorted(REDUCED):
        assert reduced.get_tags(event_type) == theirs.get_tags(event_type)
    for name in theirs.children:
        a = tbx.SummaryReader(logdir, event_types=REDUCED)[name]
        assert a.log_path == theirs[name].log_path and a.tags == theirs[name].tags
        assert repr(a) == repr(theirs[name])
    sub = mine["b"]["c"]
    assert list(sub.children) == list(theirs["b"]["c"].children)
    with pytest.raises(ValueError, match="unknown"):
        mine.get_tags("bogus")
    with pytest.raises(ValueError, match="Not an event file"):
        _ = mine.raw_tags
    with pytest.raises(KeyError):
        _ = mine["nope"]
    assert tbx.SummaryReader(logdir, event_types=set()).get_tags("images") == ["img"]  # all
    with pytest.raises(ValueError, match="event_types must be a set"):
        tbx.SummaryReader(logdir, event_types=["scalars"])


def _event_fields(e):
    """A raw event (a frozen dataclass, as tensorboard's) as a dict; protos as bytes."""
    if dataclasses.is_dataclass(e):
        out = {}
        for f in dataclasses.fields(e):
            v = getattr(e, f.name)
            out[f.name] = v.SerializeToString() if hasattr(v, "SerializeToString") else (
                _event_fields(v))
        return out
    return e  # hparams: content bytes


@pytest.mark.parametrize("run", ["a", "b/c", "e"])
def test_raw_tags_and_events_equal_tbparse(logdir, run):
    for path in sorted(glob.glob(str(logdir / run / "events.out.tfevents.*"))):
        mine, theirs = tbx.SummaryReader(path), _tbparse(path)
        assert mine.raw_tags == theirs.raw_tags
        for event_type in ("images", "audio", "histograms", "scalars", "tensors", "graph",
                           "meta_graph", "run_metadata", "hparams", "text"):
            assert mine.get_raw_tags(event_type) == theirs.get_raw_tags(event_type)
        a, b = mine.raw_events, theirs.raw_events
        assert list(a) == list(b)
        for event_type in b:
            assert list(a[event_type]) == list(b[event_type])
            for tag in b[event_type]:
                ea, eb = a[event_type][tag], b[event_type][tag]
                if isinstance(eb, list):
                    assert [_event_fields(e) for e in ea] == [_event_fields(e) for e in eb]
                    assert [type(e).__name__ for e in ea] == [type(e).__name__ for e in eb]
                else:
                    assert ea == eb
                assert _event_fields(mine.get_raw_events(event_type, tag)) == _event_fields(
                    theirs.get_raw_events(event_type, tag)) if not isinstance(eb, list) else True
    with pytest.raises(ValueError, match="tag needs an event_type"):
        mine.get_raw_events(None, "loss")
    with pytest.raises(KeyError):
        mine.get_raw_events("scalars", "no such tag")


def test_static_helpers_equal_tbparse():
    T = tbparse.SummaryReader
    counts = np.array([0, 3, 1, 0, 5, 2], dtype=float)
    limits = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 2.0])
    x = np.linspace(-2, 3, 41)
    np.testing.assert_array_equal(tbx.SummaryReader.histogram_to_cdf(counts, limits, x),
                                  T.histogram_to_cdf(counts, limits, x))
    for a, b in zip(tbx.SummaryReader.histogram_to_pdf(counts, limits, x),
                    T.histogram_to_pdf(counts, limits, x), strict=True):
        np.testing.assert_array_equal(a, b)
    for bounds in [(None, None), (-1.0, 2.0), (0.0, 0.0), (-0.3, 0.6), (-5.0, 5.0)]:
        for n_bins in (1, 7, 30):
            assert tbx.SummaryReader.histogram_to_bins(counts, limits, *bounds, n_bins) == \
                T.histogram_to_bins(counts, limits, *bounds, n_bins)
    point = np.array([0, 4.0]), np.array([1.0, 1.0])  # a zero-width bucket
    assert tbx.SummaryReader.histogram_to_bins(*point, 0.0, 2.0, 4) == T.histogram_to_bins(
        *point, 0.0, 2.0, 4)
    tensor = np.array([[0.0, 1.0, 3.0], [1.0, 2.5, 4.0]])
    for name in ("tensor_to_histogram", "buckets_to_histogram_dict"):
        a, b = getattr(tbx.SummaryReader, name)(tensor), getattr(T, name)(tensor)
        assert list(a) == list(b)
        for k in b:
            assert same(a[k], b[k]) or (np.isnan(a[k]) and np.isnan(b[k])), k
            assert type(a[k]) is type(b[k]), k
    with pytest.raises(ValueError, match="strictly increasing"):
        tbx.SummaryReader.histogram_to_cdf(counts, limits, x[::-1])


def test_images_audio_and_video_without_tensorflow(tmp_path):
    """tbparse needs TensorFlow for these; tbx decodes them as TensorFlow would."""
    img = (np.arange(2 * 3 * 4 * 3) % 255).astype(np.uint8).reshape(2, 3, 4, 3)
    snd = np.round(np.linspace(-1, 1, 64) * 32767) / 32767
    vid = RNG.random((1, 3, 3, 4, 4))
    w = tbx.SummaryWriter(tmp_path / "r")
    w.add_image("img", img[0], 1, dataformats="HWC")
    w.add_image("gray", img[0, :, :, 0], 2, dataformats="HW")
    w.add_audio("snd", snd, 2, sample_rate=8000)
    w.add_video("vid", vid, 3, fps=5)
    w.close()
    r = tbx.SummaryReader(tmp_path, extra_columns={"width", "height", "sample_rate",
                                                   "content_type", "length_frames", "dir_name"})
    im = r.images
    assert list(im.columns) == ["step", "tag", "value", "height", "width", "dir_name"]
    assert im["tag"].tolist() == ["gray", "img", "vid"] and im["dir_name"].tolist() == ["r"] * 3
    np.testing.assert_array_equal(im["value"][1], img[0])
    np.testing.assert_array_equal(im["value"][0], img[0, :, :, :1])
    assert im["value"][2].shape == (3, 4, 4, 3)  # a GIF: (T, H, W, 3), as decode_image
    assert (im["height"][1], im["width"][1]) == (3, 4)
    au = r.audio
    assert list(au.columns) == ["step", "tag", "value", "content_type", "length_frames",
                                "sample_rate", "dir_name"]
    pcm = np.rint(snd * 32767)  # TensorFlow's decode_wav: float32 pcm / 32768
    assert au["value"][0].dtype == np.float32
    np.testing.assert_array_equal(au["value"][0][:, 0], (pcm / 32768).astype(np.float32))
    assert au["sample_rate"][0] == 8000 and au["content_type"][0] == "audio/wav"
    assert au["length_frames"][0] == 64
    wide = tbx.SummaryReader(tmp_path, pivot=True, event_types={"images"}).images
    assert list(wide.columns) == ["step", "gray", "img", "vid"]
    (path,) = glob.glob(str(tmp_path / "r" / "events.*"))
    raw = tbx.SummaryReader(path).get_raw_events("images", "img")
    assert raw[0].width == 4 and raw[0].height == 3
    blob = [b"4", b"3", raw[0].encoded_image_string]
    np.testing.assert_array_equal(tbx.SummaryReader.tensor_to_image(blob)["image"], img[0])
    wav = tbx.SummaryReader(path).get_raw_events("audio", "snd")[0].encoded_audio_string
    decoded = tbx.SummaryReader.tensor_to_audio(np.array([[wav, b""]], dtype=object))
    assert decoded["length_frames"] == 64 and decoded["sample_rate"] == 8000


def test_deliberate_differences(tmp_path):
    """Scalar tensors are scalars; a run's files are one stream (purge_step across files)."""
    w = tbx.SummaryWriter(tmp_path)
    for i in range(10):
        w.add_scalar("loss", float(i), i, walltime=float(i))
    w.add_scalar("new", 0.5, 1, new_style=True)
    w.close()
    w = tbx.SummaryWriter(tmp_path, purge_step=5)  # resumed at step 5: a second file
    w.add_scalar("loss", 50.0, 5, walltime=50.0)
    w.close()
    mine, theirs = tbx.SummaryReader(tmp_path), _tbparse(tmp_path)
    assert mine.scalars[mine.scalars["tag"] == "loss"]["value"].tolist() == [
        0, 1, 2, 3, 4, 50]  # TensorBoard's view
    assert theirs.scalars[theirs.scalars["tag"] == "loss"]["value"].tolist() == [
        0, 1, 2, 3, 4, 5, 50, 6, 7, 8, 9]
    assert mine.scalars[mine.scalars["tag"] == "new"]["value"].tolist() == [0.5]
    assert theirs.tensors["tag"].tolist() == ["new"]
    for path in sorted(glob.glob(str(tmp_path / "events.*"))):  # one file: read alone
        assert_frames_equal(tbx.SummaryReader(path).scalars.query("tag == 'loss'"),
                            _tbparse(path).scalars.query("tag == 'loss'"))
    assert os.path.isdir(tmp_path)


@pytest.mark.parametrize("extra", [None, {"dir_name"}, {"file_name"}, {"dir_name", "file_name"}])
def test_wide_scalars_equal_tbparse(tmp_path, extra):
    """Wide scalar frames, by the merge (cells with several values) and by the fast path (one
    value per cell: dir_name or file_name tell the runs apart)."""
    for run, n in (("x", 4), ("y/z", 6), ("y/w", 30)):
        w = tensorboardX.SummaryWriter(str(tmp_path / run))
        for i in range(n):
            w.add_scalar("b", i * 0.5, i)
            if i % 2:
                w.add_scalar("a", -i, i)
        w.close()
    want = _tbparse(tmp_path, pivot=True, extra_columns=extra).scalars
    got = tbx.SummaryReader(tmp_path, pivot=True, extra_columns=extra).scalars
    assert_frames_equal(got, want)
