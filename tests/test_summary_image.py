"""add_image, add_images, add_image_with_boxes, add_figure: exact pixels read back with tbx's
decoder and Pillow, the same bytes through TensorBoard's EventAccumulator, tensorboardX's grid
layout and rounding, and bad input refused before anything is written."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from kinds_helpers import accumulator, assert_kept_after_error, values

import tbx
from tbx.summary import image as image_mod

rng = np.random.default_rng(1234)


def png_pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    arr = np.asarray(Image.open(io.BytesIO(data)))
    return arr[:, :, None] if arr.ndim == 2 else arr


def tbx_x_pixels(tensor, dataformats) -> np.ndarray:
    """Pixels of tensorboardX's PNG for the same input (RGB: it expands grayscale)."""
    from tensorboardX.summary import image

    return png_pixels(image("t", tensor, dataformats=dataformats).value[0].image
                      .encoded_image_string)


def write_one(logdir, method, *args, **kwargs):
    with tbx.SummaryWriter(logdir) as w:
        getattr(w, method)(*args, **kwargs)
    (_, _, v), = values(logdir)
    return v


def check_tensorboard_reads(logdir, tag, value):
    acc = accumulator(logdir)
    (ev,) = acc.Images(tag)
    assert ev.encoded_image_string == value.image.encoded_image_string
    assert (ev.width, ev.height) == (value.image.width, value.image.height)


@pytest.mark.parametrize(
    "shape, fmt, to_hwc",
    [
        ((3, 5, 7), "CHW", lambda a: a.transpose(1, 2, 0)),
        ((5, 7, 3), "HWC", lambda a: a),
        ((5, 7), "HW", lambda a: a[:, :, None]),
        ((1, 5, 7), "CHW", lambda a: a.transpose(1, 2, 0)),
        ((5, 7, 1), "HWC", lambda a: a),
        ((4, 5, 7), "CHW", lambda a: a.transpose(1, 2, 0)),
        ((5, 7, 4), "hwc", lambda a: a),
        ((7, 5, 3), "WHC", lambda a: a.transpose(1, 0, 2)),
    ],
)
def test_add_image_uint8_exact(logdir, shape, fmt, to_hwc):
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    v = write_one(logdir, "add_image", "img", img, 5, dataformats=fmt)
    expected = to_hwc(img)
    assert v.tag == "img"
    assert (v.image.height, v.image.width, v.image.colorspace) == expected.shape
    np.testing.assert_array_equal(image_mod.decode(v), expected)
    np.testing.assert_array_equal(png_pixels(v.image.encoded_image_string), expected)
    check_tensorboard_reads(logdir, "img", v)


def test_add_image_step_and_walltime(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_image("a", np.zeros((3, 2, 2), np.uint8), 7, walltime=123.5)
        w.add_image("a", np.zeros((3, 2, 2), np.uint8))
    got = [(s, t) for s, t, _ in values(logdir)]
    assert got[0] == (7, 123.5) and got[1][0] == 0


def test_float_pixels_clipped_and_truncated_like_tensorboardX(logdir):
    levels = np.arange(256, dtype=np.float64) / 255
    img = np.stack([levels.reshape(16, 16)] * 3).astype(np.float32)
    v = write_one(logdir, "add_image", "f", img)
    got = image_mod.decode(v)
    expected = (img * np.float32(255.0)).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(got, expected)
    # tensorboardX agrees on in-range values (it truncates: 0.999 * 255 -> 254)
    np.testing.assert_array_equal(tbx_x_pixels(img, "CHW"), expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_out_of_range_clipped_never_wrapped(logdir, dtype):
    img = np.array([[-0.5, 0.0, 0.5, 1.0, 1.5, 300.0, -np.inf, np.inf, np.nan]], dtype=dtype)
    with pytest.warns(UserWarning, match=r"tag 'f': img_tensor holds floats in \[-inf, inf\]"):
        v = write_one(logdir, "add_image", "f", img, dataformats="HW")
    half = int(dtype(0.5) * dtype(255.0))
    assert image_mod.decode(v)[0, :, 0].tolist() == [0, 0, half, 255, 255, 255, 0, 255, 0]


def test_bool_int_and_torch_inputs(logdir):
    import torch

    with tbx.SummaryWriter(logdir) as w:
        w.add_image("bool", np.array([[True, False]]), dataformats="HW")
        w.add_image("int", np.array([[-5, 0, 17, 255, 999]]), dataformats="HW")
        w.add_image("torch", torch.full((3, 2, 2), 0.5), dataformats="CHW")
        w.add_image("bf16", torch.ones((1, 2, 2), dtype=torch.bfloat16))
        w.add_image("list", [[0, 255], [255, 0]], dataformats="HW")
    got = {v.tag: image_mod.decode(v) for _, _, v in values(logdir)}
    assert got["bool"][0, :, 0].tolist() == [255, 0]
    assert got["int"][0, :, 0].tolist() == [0, 0, 17, 255, 255]
    assert (got["torch"] == 127).all() and got["torch"].shape == (2, 2, 3)
    assert (got["bf16"] == 255).all()
    assert got["list"][:, :, 0].tolist() == [[0, 255], [255, 0]]


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 10, 17])
def test_add_images_grid_as_tensorboardX(logdir, n):
    batch = rng.integers(0, 256, (n, 3, 4, 5), dtype=np.uint8)
    v = write_one(logdir, "add_images", "batch", batch, 3)
    got = image_mod.decode(v)
    np.testing.assert_array_equal(got, tbx_x_pixels(batch, "NCHW"))
    cols, rows = min(n, 8), -(-n // 8)
    assert got.shape == (rows * 4, cols * 5, 3)
    assert (v.image.height, v.image.width) == (rows * 4, cols * 5)
    for i in range(n):  # row-major placement, unused cells black
        r, c = divmod(i, cols)
        np.testing.assert_array_equal(
            got[r * 4:(r + 1) * 4, c * 5:(c + 1) * 5], batch[i].transpose(1, 2, 0)
        )
    assert (got[(n - 1) // cols * 4:, ((n - 1) % cols + 1) * 5:] == 0).all()
    check_tensorboard_reads(logdir, "batch", v)


def test_add_images_grayscale_rgba_nhwc_and_list(logdir):
    gray = rng.random((10, 1, 3, 4)).astype(np.float32)
    rgba = rng.integers(0, 256, (3, 6, 5, 4), dtype=np.uint8)
    listed = [rng.integers(0, 256, (3, 2, 2), dtype=np.uint8) for _ in range(3)]
    with tbx.SummaryWriter(logdir) as w:
        w.add_images("gray", gray)
        w.add_images("rgba", rgba, dataformats="NHWC")
        w.add_images("list", listed, dataformats="CHW")
    got = {v.tag: v for _, _, v in values(logdir)}
    g = image_mod.decode(got["gray"])
    assert got["gray"].image.colorspace == 1 and g.shape == (6, 32, 1)
    # tensorboardX writes the same grid as RGB with three equal channels
    np.testing.assert_array_equal(np.repeat(g, 3, axis=2), tbx_x_pixels(gray, "NCHW"))
    r = image_mod.decode(got["rgba"])
    assert got["rgba"].image.colorspace == 4
    np.testing.assert_array_equal(r, np.concatenate(list(rgba), axis=1))
    np.testing.assert_array_equal(
        image_mod.decode(got["list"]), np.concatenate([a.transpose(1, 2, 0) for a in listed], 1)
    )


def test_png_is_what_tensorboardX_writes_for_float_images(logdir):
    img = rng.random((3, 32, 48))
    v = write_one(logdir, "add_image", "x", img)
    np.testing.assert_array_equal(image_mod.decode(v), tbx_x_pixels(img, "CHW"))


BAD_IMAGES = [
    (np.zeros((5, 7), np.uint8), "CHW", ValueError, r"shape \(5, 7\) has 2 dimensions.*'CHW'"),
    (np.zeros((3, 5, 7), np.uint8), "XYZ", ValueError, r"dataformats must be one of 'CHW'"),
    (np.zeros((3, 5, 7), np.uint8), "CHH", ValueError, r"dataformats must be one of"),
    (np.zeros((3, 5, 7), np.uint8), 3, TypeError, r"dataformats must be a str"),
    (np.zeros((2, 5, 7), np.uint8), "CHW", ValueError, r"has 2 channels.*1 \(grayscale\), 3"),
    (np.zeros((3, 0, 7), np.uint8), "CHW", ValueError, r"img_tensor of shape \(3, 0, 7\) is empty"),
    (np.zeros((3, 5, 7), np.complex64), "CHW", TypeError, r"uint8 .* float .* bool"),
    ("not an image", "CHW", TypeError, r"img_tensor must be a number, array or tensor"),
    (None, "CHW", TypeError, r"img_tensor must be"),
]


@pytest.mark.parametrize("img, fmt, exc, match", BAD_IMAGES)
def test_add_image_bad_input(logdir, img, fmt, exc, match):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(exc, match=match):
        w.add_image("bad", img, 1, dataformats=fmt)
    assert_kept_after_error(w, logdir)
    assert "bad" not in [v.tag for _, _, v in values(logdir)]
    w.close()


@pytest.mark.parametrize(
    "method, shape, kwargs, message",
    [
        (
            "add_image", (48, 32, 3), {},
            "img_tensor of shape (48, 32, 3) read as dataformats 'CHW' has 48 channels (C is "
            "axis 0); images need 1 (grayscale), 3 (RGB) or 4 (RGBA) channels. If it is "
            "(H, W, C), pass dataformats='HWC'",
        ),
        (
            "add_image", (3, 48, 32), {"dataformats": "HWC"},
            "img_tensor of shape (3, 48, 32) read as dataformats 'HWC' has 32 channels (C is "
            "axis 2); images need 1 (grayscale), 3 (RGB) or 4 (RGBA) channels. If it is "
            "(C, H, W), pass dataformats='CHW'",
        ),
        (
            "add_image", (28, 28), {},
            "img_tensor of shape (28, 28) has 2 dimensions but dataformats 'CHW' has 3; "
            "expected shapes: (C, H, W) for 'CHW', (H, W, C) for 'HWC', (H, W) for 'HW', "
            "(N, C, H, W) for 'NCHW', (N, H, W, C) for 'NHWC'. If it is (H, W), pass "
            "dataformats='HW'",
        ),
        (
            "add_images", (2, 48, 32, 3), {},
            "img_tensor of shape (2, 48, 32, 3) read as dataformats 'NCHW' has 48 channels (C "
            "is axis 1); images need 1 (grayscale), 3 (RGB) or 4 (RGBA) channels. If it is "
            "(N, H, W, C), pass dataformats='NHWC'",
        ),
        (
            "add_images", (8, 28, 28), {},
            "img_tensor of shape (8, 28, 28) has 3 dimensions but dataformats 'NCHW' has 4; "
            "expected shapes: (C, H, W) for 'CHW', (H, W, C) for 'HWC', (H, W) for 'HW', "
            "(N, C, H, W) for 'NCHW', (N, H, W, C) for 'NHWC'. If it is (N, H, W), pass "
            "dataformats='NHW'",
        ),
    ],
)
def test_shape_errors_quote_the_shape_given_and_suggest_dataformats(
    logdir, method, shape, kwargs, message
):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(ValueError) as info:
        getattr(w, method)("bad", np.zeros(shape, np.uint8), 1, **kwargs)
    assert str(info.value) == message
    assert_kept_after_error(w, logdir)
    w.close()


def test_float_pixels_outside_0_1_warn_once_per_tag(logdir):
    """Floats in 0..255 come out almost white: one UserWarning per tag, the first time; the
    image is still written (clipped); floats within [0, 1] never warn."""
    import warnings

    img = np.full((3, 2, 2), 200.0, np.float32)
    with tbx.SummaryWriter(logdir) as w, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w.add_image("photo", img, 0)
        w.add_image("photo", img * 1.2, 1)
        w.add_images("batch", img[None], 0)
        w.add_image("photo", img, 2)
        w.add_image("ok", img / 255, 0)
        w.add_image_with_boxes("boxed", img, np.array([[0, 0, 1, 1]]), 0)
    assert [str(c.message) for c in caught] == [
        f"tag {tag!r}: img_tensor holds floats in [200, 200], but float pixels are read as "
        "[0, 1] and clipped (values above 1 come out white); for 0..255 levels pass uint8 "
        "(x.astype(numpy.uint8)) or x / 255 (warned once per tag)"
        for tag in ("photo", "batch", "boxed")
    ]
    assert all(c.category is UserWarning and c.filename == __file__ for c in caught)
    photos = [v for _, _, v in values(logdir) if v.tag == "photo"]
    assert len(photos) == 3
    assert (image_mod.decode(photos[0]) == 255).all()


def test_add_image_bad_tag_and_step(logdir):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(TypeError, match="tag must be a str"):
        w.add_image(3, np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="global_step"):
        w.add_image("x", np.zeros((3, 2, 2)), 1.5)
    with pytest.raises(ValueError, match="3 dimensions but dataformats .NCHW. has 4"):
        w.add_images("x", np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="one shape"):
        w.add_images("x", [np.zeros((3, 2, 2)), np.zeros((3, 2, 3))], dataformats="CHW")
    assert_kept_after_error(w, logdir)
    w.close()


def test_image_with_boxes(logdir):
    img = np.zeros((3, 40, 60), np.uint8)
    boxes = np.array([[10, 20, 30, 35], [40, 2, 55, 10]], dtype=np.float32)
    v = write_one(logdir, "add_image_with_boxes", "boxes", img, boxes, 2, labels=["cat", "d"])
    got = image_mod.decode(v)
    assert got.shape == (40, 60, 3) and (v.image.height, v.image.width) == (40, 60)
    red = [255, 0, 0]
    # the outline (2 pixels wide, inside the box) of the first box
    assert got[28, 10].tolist() == red and got[28, 11].tolist() == red
    assert got[35, 20].tolist() == red and got[28, 30].tolist() == red
    assert got[28, 20].tolist() == [0, 0, 0]  # inside: untouched
    assert got[38, 5].tolist() == [0, 0, 0] and got[20, 45].tolist() == [0, 0, 0]
    # the label sits on a red box above the first box: red fill and black text pixels
    label = got[5:20, 10:30]
    assert (label == red).all(axis=2).sum() > 50
    assert (label == 0).all(axis=2).sum() > 5
    check_tensorboard_reads(logdir, "boxes", v)


def test_image_with_boxes_gray_and_no_labels(logdir):
    img = np.full((10, 10), 0.5)
    v = write_one(logdir, "add_image_with_boxes", "b", img, [1, 1, 8, 8], dataformats="HW")
    got = image_mod.decode(v)
    assert v.image.colorspace == 3 and got[4, 1].tolist() == [255, 0, 0]
    assert got[4, 4].tolist() == [127, 127, 127]


@pytest.mark.parametrize(
    "boxes, labels, kwargs, exc, match",
    [
        (np.zeros((2, 3)), None, {}, ValueError, r"box_tensor must have shape \(N, 4\)"),
        (np.array([[0, 0, np.nan, 1]]), None, {}, ValueError, "NaN"),
        (np.zeros((2, 4)), ["a"], {}, ValueError, "labels has 1 entries but box_tensor has 2"),
        (np.zeros((1, 4)), None, {"colour": "red"}, TypeError, "unknown keyword"),
    ],
)
def test_image_with_boxes_bad_input(logdir, boxes, labels, kwargs, exc, match):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(exc, match=match):
        w.add_image_with_boxes("b", np.zeros((3, 8, 8)), boxes, labels=labels, **kwargs)
    with pytest.raises(ValueError, match="one image"):
        w.add_image_with_boxes("b", np.zeros((1, 3, 8, 8)), np.zeros((1, 4)), dataformats="NCHW")
    assert_kept_after_error(w, logdir)
    w.close()


def _figure(color, size=(2, 1), dpi=40):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=dpi, facecolor=color)


def test_add_figure_renders_with_agg(logdir):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 1), dpi=40, facecolor=(0, 0, 1))
    with tbx.SummaryWriter(logdir) as w:
        w.add_figure("fig", fig, 4)
        w.add_figure("figs", [_figure("red"), _figure("lime"), _figure("blue")], 4, close=False)
    assert not plt.fignum_exists(fig.number)  # close=True closed it
    got = {v.tag: v for _, _, v in values(logdir)}
    one = image_mod.decode(got["fig"])
    assert one.shape == (40, 80, 3) and (one == [0, 0, 255]).all()
    many = image_mod.decode(got["figs"])
    assert many.shape == (40, 240, 3)
    assert (many[:, :80] == [255, 0, 0]).all() and (many[:, 80:160] == [0, 255, 0]).all()
    # tensorboardX renders the same pixels
    from tensorboardX.utils import figure_to_image

    np.testing.assert_array_equal(one, figure_to_image(_figure("blue"), close=False)
                                  .transpose(1, 2, 0))
    check_tensorboard_reads(logdir, "figs", got["figs"])


def test_add_figure_bad_input(logdir):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(TypeError, match="matplotlib.figure.Figure"):
        w.add_figure("f", np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="one size"):
        w.add_figure("f", [_figure("red"), _figure("red", size=(1, 1))])
    with pytest.raises(ValueError, match="empty list"):
        w.add_figure("f", [])
    assert_kept_after_error(w, logdir)
    w.close()


def test_missing_pillow_names_the_extra(logdir, monkeypatch):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[images\]"'):
        w.add_image("x", np.zeros((3, 2, 2)))
    monkeypatch.undo()
    assert_kept_after_error(w, logdir)
    w.close()


def test_write_to_disk_false_still_checks(tmp_path):
    w = tbx.SummaryWriter(tmp_path / "run", write_to_disk=False)
    w.add_image("x", np.zeros((3, 2, 2)))
    with pytest.raises(ValueError):
        w.add_image("x", np.zeros((2, 2, 2)))
    w.close()


def test_missing_matplotlib_names_the_extra(logdir, monkeypatch):
    fig = _figure("red")
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[figures\]"'):
        w.add_figure("f", fig)
    monkeypatch.undo()
    assert_kept_after_error(w, logdir)
    w.close()


def test_rescale_beyond_what_pillow_decodes_is_refused_before_allocating():
    """A huge ``rescale`` (1e6 on a 4 x 4 image: 4e6 x 4e6 pixels) raises a ValueError naming
    the size instead of asking Pillow for terabytes; a rescale within the limit still works."""
    from PIL import Image

    from tbx import summary

    img = np.ones((3, 4, 4))
    with pytest.raises(ValueError, match=r"rescale 1000000.0 makes the 4 x 4 image "
                                         r"4000000 x 4000000 pixels"):
        summary.image("big", img, rescale=1e6)
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 8  # just over the limit
    with pytest.raises(ValueError, match="more than Pillow decodes"):
        summary.make_image(np.zeros((1, 1, 3), np.uint8), rescale=side)
    got = summary.image("ok", img, rescale=2.5).value[0].image
    assert (got.height, got.width) == (10, 10)
