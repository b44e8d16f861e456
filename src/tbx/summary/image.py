"""Images: plugin ``images``.

Written as tensorboardX writes them, in the v1 form TensorBoard's image dashboard reads:
``Summary.Value(tag, image=Summary.Image(height, width, colorspace, encoded_image_string))``
holding one PNG (``colorspace`` 1 = grayscale, 3 = RGB, 4 = RGBA).

Pixel values (:func:`to_uint8`): ``uint8`` is used as is; floating point is taken as [0, 1],
clipped to that range (never wrapped around), multiplied by 255 in the input's own precision and
truncated toward zero (tensorboardX's ``(x * 255.0).astype(uint8)``; NaN becomes 0); ``bool``
becomes 0 / 255; other integers are taken as 0..255 levels and clipped.

A batch ``(N, C, H, W)`` is tiled into one image as tensorboardX's ``make_grid`` does: at most 8
images per row, ``ceil(N / 8)`` rows, row-major, the unused cells black (transparent for RGBA).
One difference: a grayscale image or batch stays one-channel (``colorspace`` 1); tensorboardX
repeats it into three equal RGB channels. Both look the same in TensorBoard.

PNG is encoded by Pillow at ``compress_level=1``: on a 3x512x512 image it is several times faster
than the default level 6 tensorboardX uses, for files a few percent to 20% larger.
"""

from __future__ import annotations

import io

import numpy as np

from tbx.proto.summary_pb2 import Summary
from tbx.summary._image_render import check_boxes, draw_boxes, figure_to_array

__all__ = [
    "PLUGIN_NAME",
    "PNG_COMPRESS_LEVEL",
    "to_uint8",
    "float_range_warning",
    "suggest_dataformats",
    "to_nhwc",
    "make_grid",
    "to_hwc",
    "encode_png",
    "image_summary",
    "image_boxes_summary",
    "image_proto",
    "draw_boxes",
    "figure_to_array",
    "decode",
    "decode_png",
]

PLUGIN_NAME = "images"
#: zlib level of the PNGs written (0-9): 1 is fast and still compresses well.
PNG_COMPRESS_LEVEL = 1
#: channel counts an image may have: grayscale, RGB, RGBA.
CHANNELS = (1, 3, 4)
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
_FORMS = "'CHW', 'HWC', 'HW', 'NCHW', 'NHWC', 'NHW' or another order of those letters"
_LETTER_SETS = ("HW", "CHW", "HNW", "CHNW")  # sorted letters of every accepted form
# the forms suggested for a shape that does not fit dataformats, most likely first
_LIKELY = {2: ("HW",), 3: ("CHW", "HWC", "NHW"), 4: ("NCHW", "NHWC")}
_MEANING = {"HW": "(H, W)", "CHW": "(C, H, W)", "HWC": "(H, W, C)", "NHW": "(N, H, W)",
            "NCHW": "(N, C, H, W)", "NHWC": "(N, H, W, C)"}


def import_pil(what: str, extra: str = "images"):
    """``PIL.Image``, or an ImportError naming the extra that installs Pillow."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is installed in tests
        raise ImportError(f'{what} needs Pillow: pip install "tbx[{extra}]"') from exc
    return Image


def to_uint8(array: np.ndarray, arg: str = "img_tensor") -> np.ndarray:
    """Pixel values as ``uint8`` (see the module docstring for the rules per dtype).

    Raises:
        TypeError: a dtype that is not bool, integer or real floating point.
    """
    kind = array.dtype.kind
    if array.dtype == np.uint8:
        return array
    if kind == "f":
        scaled = np.clip(array, 0, 1) * array.dtype.type(255.0)
        scaled[np.isnan(scaled)] = 0
        return scaled.astype(np.uint8)
    if kind == "b":
        return array.astype(np.uint8) * np.uint8(255)
    if kind in "iu":
        return np.clip(array, 0, 255).astype(np.uint8)
    raise TypeError(
        f"{arg} must hold uint8 (0..255), float ([0, 1]) or bool pixels, got dtype {array.dtype}"
    )


def suggest_dataformats(shape: tuple, dataformats: str = "") -> str | None:
    """The likeliest ``dataformats`` other than ``dataformats`` under which an array of
    ``shape`` is a valid image or batch (its ``C`` axis 1, 3 or 4), or None.

    >>> suggest_dataformats((48, 32, 3), "CHW")
    'HWC'
    """
    for fmt in _LIKELY.get(len(shape), ()):
        if fmt == str(dataformats).upper():
            continue
        if "C" in fmt and shape[fmt.index("C")] not in CHANNELS:
            continue
        return fmt
    return None


def _hint(shape: tuple, dataformats: str) -> str:
    fmt = suggest_dataformats(shape, dataformats)
    if fmt is None:
        return ""
    return f". If it is {_MEANING[fmt]}, pass dataformats={fmt!r}"


def float_range_warning(array: np.ndarray, arg: str = "img_tensor") -> str | None:
    """The warning for floating-point pixels outside [0, 1] (NaN ignored), or None: such values
    are clipped, so 0..255 levels given as floats come out almost white."""
    if array.dtype.kind != "f" or array.size == 0:
        return None
    lo, hi = float(array.min()), float(array.max())
    if lo != lo or hi != hi:  # NaN somewhere: the range of the other values
        if np.isnan(array).all():
            return None
        lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
    if lo >= 0 and hi <= 1:
        return None
    return (
        f"{arg} holds floats in [{lo:g}, {hi:g}], but float pixels are read as "
        f"[0, 1] and clipped (values above 1 come out white); for 0..255 levels pass uint8 "
        f"(x.astype(numpy.uint8)) or x / 255"
    )


def _check_format(dataformats, shape: tuple, arg: str, forms: str = _FORMS) -> str:
    if not isinstance(dataformats, str):
        raise TypeError(f"dataformats must be a str such as {forms}, got {type(dataformats)}")
    fmt = dataformats.upper()
    if "".join(sorted(fmt)) not in _LETTER_SETS or len(set(fmt)) != len(fmt):
        raise ValueError(f"dataformats must be one of {forms}; got {dataformats!r}")
    if len(fmt) != len(shape):
        raise ValueError(
            f"{arg} of shape {tuple(shape)} has {len(shape)} dimensions but dataformats "
            f"{dataformats!r} has {len(fmt)}; expected shapes: (C, H, W) for 'CHW', (H, W, C) "
            f"for 'HWC', (H, W) for 'HW', (N, C, H, W) for 'NCHW', (N, H, W, C) for 'NHWC'"
            f"{_hint(tuple(shape), '')}"
        )
    return fmt


def to_nhwc(array: np.ndarray, dataformats: str, arg: str = "img_tensor") -> np.ndarray:
    """Reorder an image or batch to ``(N, H, W, C)`` uint8 (``N`` = 1 without an ``N`` axis,
    ``C`` = 1 without a ``C`` axis).

    Raises:
        TypeError: ``dataformats`` not a str; an unsupported dtype.
        ValueError: ``dataformats`` not a form of N, C, H, W; its length differs from the
            array's number of dimensions; ``C`` not 1, 3 or 4; an empty axis.
    """
    shape = tuple(array.shape)
    fmt = _check_format(dataformats, shape, arg)
    if 0 in shape:
        raise ValueError(f"{arg} of shape {shape} is empty (dataformats {dataformats!r})")
    if "C" in fmt and shape[fmt.index("C")] not in CHANNELS:
        axis = fmt.index("C")
        raise ValueError(
            f"{arg} of shape {shape} read as dataformats {dataformats!r} has "
            f"{shape[axis]} channels (C is axis {axis}); images need 1 (grayscale), 3 (RGB) or "
            f"4 (RGBA) channels{_hint(shape, fmt)}"
        )
    for letter in "NC":
        if letter not in fmt:
            array = array[np.newaxis]
            fmt = letter + fmt
    array = array.transpose([fmt.index(c) for c in "NHWC"])
    return to_uint8(array, arg)


def make_grid(nhwc: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile ``(N, H, W, C)`` images into one ``(rows * H, cols * W, C)`` image, row-major,
    ``cols = min(N, ncols)``, ``rows = ceil(N / cols)``, empty cells zero (tensorboardX's
    ``make_grid`` layout)."""
    n, h, w, c = nhwc.shape
    if n == 1:
        return nhwc[0]
    cols = min(n, ncols)
    rows = -(-n // cols)
    if rows * cols != n:
        pad = np.zeros((rows * cols - n, h, w, c), dtype=nhwc.dtype)
        nhwc = np.concatenate([nhwc, pad])
    grid = nhwc.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4)
    return grid.reshape(rows * h, cols * w, c)


def to_hwc(array: np.ndarray, dataformats: str = "CHW", arg: str = "img_tensor") -> np.ndarray:
    """One ``(H, W, C)`` uint8 image from an image or a batch (tiled by :func:`make_grid`).

    Raises:
        TypeError, ValueError: as :func:`to_nhwc`.
    """
    return make_grid(to_nhwc(array, dataformats, arg))


def encode_png(hwc: np.ndarray) -> bytes:
    """PNG bytes of an ``(H, W, C)`` uint8 image, ``C`` in 1, 3, 4 (Pillow, compress level
    :data:`PNG_COMPRESS_LEVEL`)."""
    image = import_pil("add_image").fromarray(_pil_array(hwc), _MODES[hwc.shape[2]])
    return _save_png(image)


def _pil_array(hwc: np.ndarray) -> np.ndarray:
    arr = hwc[:, :, 0] if hwc.shape[2] == 1 else hwc
    return np.ascontiguousarray(arr)


def _save_png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def _summary(tag: str, image: Summary.Image) -> Summary:
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def _check_rescale(rescale) -> float:
    if isinstance(rescale, bool) or not isinstance(rescale, (int, float, np.integer, np.floating)):
        raise TypeError(f"rescale must be a positive number, got {type(rescale).__name__}")
    if not (np.isfinite(rescale) and rescale > 0):
        raise ValueError(f"rescale must be a positive finite number, got {rescale!r}")
    return float(rescale)


def image_proto(
    hwc: np.ndarray, boxes=None, labels=None, rescale: float = 1, **box_style
) -> Summary.Image:
    """The ``Summary.Image`` (PNG) of one ``(H, W, C)`` uint8 image.

    Args:
        hwc: the image (see :func:`to_hwc`).
        boxes, labels, box_style: boxes drawn on it first (see :func:`draw_boxes`), or None.
        rescale: resize by this factor (``int(H * rescale)`` x ``int(W * rescale)`` pixels,
            Pillow's LANCZOS filter, as tensorboardX's ``make_image``); 1 keeps the pixels.
            ``height`` and ``width`` are those of the PNG (tensorboardX writes the size before
            rescaling).

    Raises:
        TypeError, ValueError: bad boxes or labels (see :func:`draw_boxes`), ``rescale`` not a
            positive number or giving an empty image, or one of more pixels than Pillow decodes
            (``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 179 million; raised before any memory is
            taken).
    """
    rescale = _check_rescale(rescale)
    h, w, c = hwc.shape
    if boxes is None and rescale == 1:
        return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_png(hwc))
    pil = import_pil("make_image")
    image = pil.fromarray(_pil_array(hwc), _MODES[c])
    if boxes is not None:
        image = draw_boxes(image, boxes, labels, **box_style)
    if rescale != 1:
        size = (int(w * rescale), int(h * rescale))
        if 0 in size:
            raise ValueError(f"rescale {rescale!r} makes the {w} x {h} image empty")
        limit = pil.MAX_IMAGE_PIXELS  # Pillow refuses to decode more than twice this
        if limit is not None and size[0] * size[1] > 2 * limit:
            raise ValueError(
                f"rescale {rescale!r} makes the {w} x {h} image {size[0]} x {size[1]} pixels, "
                f"more than Pillow decodes (2 x PIL.Image.MAX_IMAGE_PIXELS = {2 * limit:,})"
            )
        image = image.resize(size, pil.Resampling.LANCZOS)
    return Summary.Image(
        height=image.height,
        width=image.width,
        colorspace=len(image.getbands()),
        encoded_image_string=_save_png(image),
    )


def image_summary(tag: str, hwc: np.ndarray) -> Summary:
    """Summary of one ``(H, W, C)`` uint8 image (see :func:`to_hwc`) as a PNG."""
    return _summary(tag, image_proto(hwc))


def image_boxes_summary(
    tag: str,
    hwc: np.ndarray,
    boxes: np.ndarray,
    labels=None,
    color: str = "red",
    text_color: str = "black",
    thickness: int = 2,
) -> Summary:
    """Summary of one ``(H, W, C)`` uint8 image with boxes drawn on it, as a PNG.

    Args:
        hwc: the image (see :func:`to_hwc`); grayscale is drawn on as RGB.
        boxes, labels, color, text_color, thickness: see :func:`draw_boxes`.

    Raises:
        ValueError: ``boxes`` not of shape (N, 4) or not finite; ``len(labels) != N``.
        TypeError: ``boxes`` not numeric; ``labels`` not a list of strings.
    """
    check_boxes(boxes, labels)  # before Pillow is needed
    import_pil("add_image_with_boxes")
    style = dict(color=color, text_color=text_color, thickness=thickness)
    return _summary(tag, image_proto(hwc, boxes, labels, **style))


def decode_png(data: bytes) -> np.ndarray:
    """``(H, W, C)`` uint8 pixels of a PNG (or any format Pillow reads); ``C`` is 1 for
    grayscale, 3 for RGB, 4 for RGBA (palette images are expanded to RGB/RGBA)."""
    image = import_pil("decoding an image").open(io.BytesIO(data))
    if image.mode not in ("L", "RGB", "RGBA"):
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    arr = np.asarray(image)
    return arr[:, :, np.newaxis] if arr.ndim == 2 else arr


def decode(value: Summary.Value) -> np.ndarray:
    """The ``(H, W, C)`` uint8 pixels of an image Value (decoded with Pillow).

    Raises:
        ValueError: the Value holds no image.
    """
    if value.WhichOneof("value") != "image":
        raise ValueError(f"image {value.tag!r}: Value holds no image")
    return decode_png(value.image.encoded_image_string)
