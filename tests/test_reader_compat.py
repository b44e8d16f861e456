"""Files written by tensorboardX and torch.utils.tensorboard read back with the same values as
tbx's own files; tbx.SummaryReader gives tbparse's DataFrame shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tbx


def _writer(kind, logdir):
    if kind == "tbx":
        return tbx.SummaryWriter(logdir)
    if kind == "tensorboardX":
        import tensorboardX

        return tensorboardX.SummaryWriter(logdir)
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(logdir)


RNG = np.random.default_rng(42)
DATA = RNG.normal(size=500)
IMG = (RNG.random((3, 5, 7)) * 255).astype(np.uint8)
SND = np.round(np.linspace(-1, 1, 64) * 32767) / 32767


def _write(kind, logdir, audio=True):
    w = _writer(kind, str(logdir))
    for i in range(20):
        w.add_scalar("loss", 1.0 / (i + 1), i, walltime=1000.0 + i)
    w.add_scalars("group", {"a": 1.5, "b": 2.5}, 3, walltime=2000.0)
    w.add_histogram("h", DATA, 5, walltime=3000.0)
    w.add_image("img", IMG, 6, walltime=4000.0)
    w.add_text("t", "some *text*", 7, walltime=5000.0)
    if audio:  # tensorboardX's add_audio needs soundfile
        w.add_audio("snd", SND, 8, sample_rate=8000, walltime=6000.0)
    w.close()


def _values(logdir):
    from tbx.reader.frames import read

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read(logdir)
    out = {}
    sc = data.scalars
    for (run, tag), g in sc.groupby(["run", "tag"], observed=True):
        # add_scalars writes to sub-runs named by the main tag and the key: "group/a" (tbx,
        # tensorboardX) or "group_a" (torch)
        key = ("" if run == "." else run.replace("group_", "group/").rsplit("/", 1)[-1]) + \
            "|" + tag
        out[key] = (g.step.tolist(), g.wall_time.tolist(), g.value.tolist())
    h = data.histograms.iloc[0]
    out["h"] = (int(h["step"]), h["wall_time"], h["bucket_counts"].tolist(), h["num"], h["min"],
                h["max"])
    im = data.images.iloc[0]
    from tbx.summary.image import decode_png

    out["img"] = (int(im.step), im.wall_time, im.width, im.height,
                  decode_png(im.image).tolist())
    tx = data.text.iloc[0]
    out["text"] = (int(tx.step), tx.wall_time, tx.text)
    if not len(data.audio):
        return out
    au = data.audio.iloc[0]
    import io
    import wave

    with wave.open(io.BytesIO(au.audio)) as wv:
        frames = np.frombuffer(wv.readframes(wv.getnframes()), "<i2").tolist()
        out["audio"] = (int(au.step), au.wall_time, wv.getframerate(), frames)
    return out


@pytest.mark.parametrize("other", ["tensorboardX", "torch"])
def test_other_writers_read_back_like_ours(tmp_path, impl, other):
    if other == "torch":
        pytest.importorskip("torch.utils.tensorboard")
    audio = other != "tensorboardX"
    _write("tbx", tmp_path / "ours", audio)
    _write(other, tmp_path / "theirs", audio)
    ours, theirs = _values(tmp_path / "ours"), _values(tmp_path / "theirs")
    assert set(ours) == set(theirs)
    for key in ours:
        assert ours[key] == theirs[key], key
    assert ours["|loss"][2] == [float(np.float32(1.0 / (i + 1))) for i in range(20)]


def test_torch_new_style_and_double_scalars(tmp_path, impl):
    tb = pytest.importorskip("torch.utils.tensorboard")

    w = tb.SummaryWriter(str(tmp_path))
    for i in range(5):
        w.add_scalar("new", i * 0.5, i, new_style=True)
        w.add_scalar("dbl", 0.1 * i, i, new_style=True, double_precision=True)
    w.close()
    p = tbx.LogdirProvider(tmp_path)
    p.refresh()
    assert p.scalars(".", "new").value.tolist() == [0, 0.5, 1, 1.5, 2]
    assert p.scalars(".", "dbl").value.tolist() == [0.1 * i for i in range(5)]


# ---------------------------------------------------------------------------------- tbparse


@pytest.fixture(scope="module")
def tbx_logdir(tmp_path_factory):
    import tensorboardX

    d = tmp_path_factory.mktemp("tbparse")
    for run in ("a", "b/c"):
        w = tensorboardX.SummaryWriter(str(d / run))
        for i in range(6):
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.add_scalar("acc", i * 0.1, i)
            w.add_histogram("h", np.arange(10.0) + i, i)
            w.add_text("t", f"hi {i}", i)
        w.add_scalar("loss", 9.0, 2)  # two values for one step
        w.add_hparams({"lr": 0.1, "opt": "adam"}, {"hp/acc": 0.9})
        w.close()
    return d


CASES = [
    {},
    {"pivot": True},
    {"extra_columns": {"dir_name", "wall_time"}},
    {"pivot": True, "extra_columns": {"dir_name"}},
    {"extra_columns": {"file_name", "min", "max", "num", "sum", "sum_squares"}},
    {"pivot": True, "extra_columns": {"min", "max"}},
]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: repr(k))
@pytest.mark.parametrize("event_type", ["scalars", "histograms", "text", "hparams", "tensors"])
def test_summary_reader_matches_tbparse(tbx_logdir, kwargs, event_type):
    from tbparse import SummaryReader as TbparseReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(TbparseReader(str(tbx_logdir), **kwargs), event_type)
    got = getattr(tbx.SummaryReader(str(tbx_logdir), **kwargs), event_type)
    assert list(got.columns) == list(want.columns)
    assert got.shape == want.shape
    if event_type in ("scalars", "text", "hparams") and not kwargs.get("pivot"):
        import pandas as pd

        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                      check_dtype=False)
    if event_type == "scalars" and kwargs.get("pivot"):
        def canon(v):  # tbparse's unstable sort orders merged duplicates arbitrarily
            if isinstance(v, list):
                return sorted(v)
            return "nan" if isinstance(v, float) and v != v else v

        for col in got.columns:
            assert [canon(v) for v in got[col]] == [canon(v) for v in want[col]], col
    if event_type == "histograms" and not kwargs.get("pivot"):
        for a, b in zip(got["counts"], want["counts"], strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(got["limits"], want["limits"], strict=True):
            np.testing.assert_array_equal(a, b)


def test_summary_reader_single_file_and_errors(tbx_logdir, tmp_path):
    import glob

    from tbparse import SummaryReader as TbparseReader

    path = sorted(glob.glob(str(tbx_logdir / "a" / "events.out.tfevents.*")))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = TbparseReader(path, extra_columns={"file_name"}).scalars
    got = tbx.SummaryReader(path, extra_columns={"file_name"}).scalars
    assert list(got.columns) == list(want.columns)
    assert got.values.tolist() == want.values.tolist()
    with pytest.raises(ValueError, match="log_path"):
        tbx.SummaryReader(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        tbx.SummaryReader(tmp_path / "nope")
    with pytest.raises(KeyError, match="extra_columns"):
        tbx.SummaryReader(tbx_logdir, extra_columns={"bogus"})
    with pytest.raises(ValueError, match="extra_columns must be a set"):
        tbx.SummaryReader(tbx_logdir, extra_columns=["wall_time"])
    with pytest.raises(KeyError, match="event_types"):
        tbx.SummaryReader(tbx_logdir, event_types={"bogus"})
    r = tbx.SummaryReader(tbx_logdir, event_types={"scalars"})
    with pytest.raises(ValueError, match="not read"):
        _ = r.text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_tags = TbparseReader(str(tbx_logdir), event_types={"scalars"}).tags
    assert r.tags == want_tags
    assert want_tags["scalars"] == ["hp/acc", "loss", "acc"]


def test_summary_reader_images_and_audio(tmp_path):
    img = (np.arange(2 * 3 * 4 * 3) % 255).astype(np.uint8).reshape(2, 3, 4, 3)
    w = tbx.SummaryWriter(tmp_path)
    w.add_image("img", img[0], 1, dataformats="HWC")
    w.add_audio("snd", SND, 2, sample_rate=8000)
    w.close()
    r = tbx.SummaryReader(tmp_path, extra_columns={"width", "height", "sample_rate",
                                                   "content_type", "length_frames"})
    im = r.images
    assert list(im.columns) == ["step", "tag", "value", "height", "width"]
    np.testing.assert_array_equal(im["value"][0], img[0])
    assert (im["height"][0], im["width"][0]) == (3, 4)
    au = r.audio
    assert list(au.columns) == ["step", "tag", "value", "content_type", "length_frames",
                                "sample_rate"]
    np.testing.assert_allclose(au["value"][0][:, 0], SND)
    assert au["sample_rate"][0] == 8000 and au["content_type"][0] == "audio/wav"
    wide = tbx.SummaryReader(tmp_path, pivot=True, event_types={"images"}).images
    assert list(wide.columns) == ["step", "img"]


@pytest.mark.parametrize("extra", [None, {"dir_name"}, {"file_name"}])
def test_summary_reader_pivot_without_duplicates_matches_tbparse(tmp_path, extra):
    import tensorboardX
    from tbparse import SummaryReader as TbparseReader

    for run, n in (("x", 4), ("y/z", 6)):
        w = tensorboardX.SummaryWriter(str(tmp_path / run))
        for i in range(n):
            w.add_scalar("b", i * 0.5, i)
            if i % 2:
                w.add_scalar("a", -i, i)
        w.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = TbparseReader(str(tmp_path), pivot=True, extra_columns=extra).scalars
    got = tbx.SummaryReader(tmp_path, pivot=True, extra_columns=extra).scalars
    assert list(got.columns) == list(want.columns)
    assert got.shape == want.shape

    def canon(v):
        if isinstance(v, list):
            return sorted(v)
        return "nan" if isinstance(v, float) and v != v else v

    for col in got.columns:
        assert [canon(v) for v in got[col]] == [canon(v) for v in want[col]], col
