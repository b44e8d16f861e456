"""Files written by tensorboardX and torch.utils.tensorboard read back with the same values as
tbx's own files. (tbx.SummaryReader against tbparse: tests/test_reader_tbparse.py.)"""

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
