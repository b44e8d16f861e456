"""add_video: an animated GIF (Pillow, no moviepy) whose frames, order, count, size and delays
read back exactly; tensorboardX's tiling of a batch; TensorBoard reads the same bytes; bad input
refused before anything is written."""

from __future__ import annotations

import io

import numpy as np
import pytest
from kinds_helpers import accumulator, assert_kept_after_error, values

import tbx
from tbx.summary import video as video_mod

rng = np.random.default_rng(99)


def few_colors(shape, n_colors=40):
    """uint8 (N, T, C, H, W) video whose frames use at most n_colors colours each."""
    n, t, c, h, w = shape
    palette = rng.integers(0, 256, (n_colors, c), dtype=np.uint8)
    idx = rng.integers(0, n_colors, (n, t, h, w))
    return palette[idx].transpose(0, 1, 4, 2, 3).copy()


def gif_frames(data: bytes):
    """(frames (T, H, W, 3), delays ms, loop) decoded by Pillow directly."""
    from PIL import Image, ImageSequence

    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF"
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    delays = [f.info.get("duration") for f in ImageSequence.Iterator(im)]
    return np.stack(frames), delays, im.info.get("loop")


def expected_tiles(vid_ntchw: np.ndarray) -> np.ndarray:
    """tensorboardX's layout, written out by hand: pad N to a power of two, rows = 2 **
    ((N.bit_length() - 1) // 2)."""
    n, t, c, h, w = vid_ntchw.shape
    padded = 1
    while padded < n:
        padded *= 2
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = padded // rows
    out = np.zeros((t, rows * h, cols * w, c), np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        out[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = vid_ntchw[i].transpose(0, 2, 3, 1)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8])
def test_video_frames_exact(logdir, n):
    vid = few_colors((n, 6, 3, 5, 7))
    vid[:, 3] = vid[:, 2]  # two identical consecutive frames stay two frames
    with tbx.SummaryWriter(logdir) as w:
        w.add_video("vid", vid, 3, fps=5)
    (step, _, v), = values(logdir)
    expected = expected_tiles(vid)
    frames, delays, loop = gif_frames(v.image.encoded_image_string)
    assert step == 3 and frames.shape == expected.shape
    np.testing.assert_array_equal(frames, expected)
    assert delays == [200] * 6 and loop == 0
    assert (v.image.height, v.image.width, v.image.colorspace) == expected.shape[1:]
    np.testing.assert_array_equal(video_mod.decode(v), expected)
    (ev,) = accumulator(logdir).Images("vid")
    assert ev.encoded_image_string == v.image.encoded_image_string
    assert (ev.height, ev.width) == expected.shape[1:3]


def test_float_video_tiled_like_tensorboardX(logdir):
    from tensorboardX.utils import _prepare_video

    vid = rng.random((3, 4, 3, 4, 6)).astype(np.float32)
    # few colours so the GIF is exact: levels k/4
    vid = np.floor(vid * 5) / 4
    with tbx.SummaryWriter(logdir) as w:
        w.add_video("v", vid)
    (_, _, v), = values(logdir)
    tx = (_prepare_video(vid.copy()) * 255.0).astype(np.uint8)  # tensorboardX, before moviepy
    np.testing.assert_array_equal(video_mod.decode(v), tx)
    _, delays, _ = gif_frames(v.image.encoded_image_string)
    assert delays == [250] * 4  # default fps=4


def test_float_out_of_range_clipped(logdir):
    vid = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan], np.float64).reshape(1, 1, 1, 1, 6)
    with tbx.SummaryWriter(logdir) as w:
        with pytest.warns(UserWarning, match=r"tag 'v': vid_tensor holds floats in \[-1, 2\]"):
            w.add_video("v", vid)
    (_, _, v), = values(logdir)
    assert v.image.colorspace == 1
    got = video_mod.decode(v)
    assert got.shape == (1, 1, 6, 1)
    assert got[0, 0, :, 0].tolist() == [0, 0, 127, 255, 255, 0]


def test_grayscale_nthwc_and_rgba(logdir):
    gray = rng.integers(0, 256, (2, 3, 4, 5, 1), dtype=np.uint8)
    rgba = few_colors((1, 2, 4, 3, 3))
    with tbx.SummaryWriter(logdir) as w:
        w.add_video("gray", gray, dataformats="NTHWC")
        w.add_video("rgba", rgba, fps=10.0)
    got = {v.tag: v for _, _, v in values(logdir)}
    g = video_mod.decode(got["gray"])
    assert got["gray"].image.colorspace == 1
    np.testing.assert_array_equal(g, expected_tiles(gray.transpose(0, 1, 4, 2, 3)))
    r = video_mod.decode(got["rgba"])
    assert got["rgba"].image.colorspace == 3
    np.testing.assert_array_equal(r, expected_tiles(rgba[:, :, :3]))


def test_many_colours_keep_count_and_size(logdir):
    vid = rng.integers(0, 256, (1, 5, 3, 32, 32), dtype=np.uint8)
    with tbx.SummaryWriter(logdir) as w:
        w.add_video("noisy", vid, fps=30)
    (_, _, v), = values(logdir)
    frames, delays, _ = gif_frames(v.image.encoded_image_string)
    assert frames.shape == (5, 32, 32, 3) and delays == [30] * 5  # round(100 / 30) cs
    # quantized to 256 colours: close, not exact
    err = np.abs(frames.astype(int) - vid[0].transpose(0, 2, 3, 1)).mean()
    assert err < 20


def test_torch_input(logdir):
    import torch

    vid = torch.zeros((1, 2, 3, 4, 4))
    vid[0, 1] = 1.0
    with tbx.SummaryWriter(logdir) as w:
        w.add_video("t", vid)
    (_, _, v), = values(logdir)
    got = video_mod.decode(v)
    assert (got[0] == 0).all() and (got[1] == 255).all()


@pytest.mark.parametrize(
    "vid, kwargs, exc, match",
    [
        (np.zeros((2, 3, 4, 4)), {}, ValueError, r"must be 5-D, \(N, T, C, H, W\)"),
        (np.zeros((1, 2, 3, 4, 4)), {"dataformats": "NTCHX"}, ValueError, "NTCHW"),
        (np.zeros((1, 2, 2, 4, 4)), {}, ValueError,
         r"vid_tensor of shape \(1, 2, 2, 4, 4\) read as dataformats 'NTCHW' has 2 channels "
         r"\(C is axis 2\); videos need 1"),
        (np.zeros((1, 2, 5, 4, 3)), {}, ValueError,
         r"has 5 channels .*If it is \(N, T, H, W, C\), pass dataformats='NTHWC'"),
        (np.zeros((1, 0, 3, 4, 4)), {}, ValueError,
         r"vid_tensor of shape \(1, 0, 3, 4, 4\) is empty"),
        (np.zeros((1, 2, 3, 4, 4)), {"fps": 0}, ValueError, "fps must be a positive"),
        (np.zeros((1, 2, 3, 4, 4)), {"fps": "4"}, TypeError, "fps must be a positive"),
        (np.zeros((1, 2, 3, 4, 4), complex), {}, TypeError, "dtype complex128"),
        ("video", {}, TypeError, "vid_tensor must be"),
    ],
)
def test_bad_video(logdir, vid, kwargs, exc, match):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(exc, match=match):
        w.add_video("bad", vid, 1, **kwargs)
    assert_kept_after_error(w, logdir)
    assert "bad" not in [v.tag for _, _, v in values(logdir)]
    w.close()


def test_missing_pillow_names_the_extra(logdir, monkeypatch):
    import sys

    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[video\]"'):
        w.add_video("v", np.zeros((1, 2, 3, 4, 4)))
    monkeypatch.undo()
    assert_kept_after_error(w, logdir)
    w.close()
