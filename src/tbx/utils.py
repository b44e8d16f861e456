"""tensorboardX's ``utils``: figures to images and image layouts (``from tbx.utils import ...``).

Same functions, arguments and return values as ``tensorboardX.utils``; errors are
``TypeError``/``ValueError`` naming the argument (tensorboardX asserts). The image layouts are
tensorboardX's (a grayscale image becomes three equal RGB channels); ``tbx.SummaryWriter`` itself
keeps grayscale as one channel (see :mod:`tbx.summary.image`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["figure_to_image", "graphviz_to_image", "make_grid", "convert_to_HWC",
           "convert_to_NTCHW"]


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """Render a matplotlib Figure (Agg canvas, no display needed) to ``(3, H, W)`` uint8 RGB, or
    a list of same-size figures to ``(N, 3, H, W)``; with ``close`` each is closed afterwards.

    Raises:
        ImportError: matplotlib is not installed (``pip install "tbx[figures]"``).
        TypeError: not a Figure or a list of them.
        ValueError: an empty list, or figures of different sizes.
    """
    from tbx.summary.image import figure_to_array

    pixels = figure_to_array(figures, close)
    return np.moveaxis(pixels, -1, -3)


def graphviz_to_image() -> None:
    """tensorboardX's placeholder: does nothing and returns None."""
    return None


def _check(tensor, input_format, lengths: tuple[int, ...], letters: str) -> tuple[np.ndarray, str]:
    from tbx.convert import to_numpy

    tensor = to_numpy(tensor, "tensor")
    if not isinstance(input_format, str):
        raise TypeError(f"input_format must be a str, got {type(input_format).__name__}")
    fmt = input_format.upper()
    if len(fmt) not in lengths or len(set(fmt)) != len(fmt) or not set(fmt) <= set(letters):
        raise ValueError(
            f"input_format must name each axis once with the letters {letters!r}, "
            f"{' or '.join(map(str, lengths))} of them; got {input_format!r}"
        )
    if tensor.ndim != len(fmt):
        raise ValueError(
            f"tensor of shape {tuple(tensor.shape)} has {tensor.ndim} dimensions but "
            f"input_format {input_format!r} has {len(fmt)}"
        )
    return tensor, fmt


def make_grid(I, ncols: int = 8) -> np.ndarray:  # noqa: E741 - tensorboardX's argument name
    """Tile ``(N, C, H, W)`` images (``C`` 1, 3 or 4; grayscale repeated to RGB) into one
    ``(C, rows * H, cols * W)`` image of the same dtype, ``cols = min(N, ncols)``, row-major,
    empty cells zero.

    Raises:
        TypeError: ``I`` is not a numpy array (tensorboardX's rule).
        ValueError: not 4-D with 1, 3 or 4 channels; ``ncols`` < 1.
    """
    from tbx.summary.image import make_grid as tile

    if not isinstance(I, np.ndarray):
        raise TypeError(f"I must be a numpy array (N, C, H, W), got {type(I).__name__}")
    if I.ndim != 4 or I.shape[1] not in (1, 3, 4):
        raise ValueError(f"I must have shape (N, C, H, W) with C 1, 3 or 4, got {I.shape}")
    if int(ncols) < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    if I.shape[1] == 1:
        I = np.concatenate([I, I, I], 1)  # noqa: E741
    return tile(I.transpose(0, 2, 3, 1), int(ncols)).transpose(2, 0, 1)


def convert_to_HWC(tensor, input_format: str) -> np.ndarray:  # noqa: N802 - tensorboardX's name
    """An image or batch as one ``(H, W, C)`` image, same dtype: ``input_format`` is an order of
    ``HW``, ``CHW`` or ``NCHW``; a batch is tiled by :func:`make_grid`; ``C == 1`` and ``HW``
    become three equal channels.

    Raises:
        TypeError: ``input_format`` not a str; ``tensor`` not numeric.
        ValueError: ``input_format`` not such an order, or its length differs from
            ``tensor.ndim``.
    """
    tensor, fmt = _check(tensor, input_format, (2, 3, 4), "NCHW")
    if len(fmt) == 4:
        return make_grid(tensor.transpose([fmt.index(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        if "N" in fmt:
            raise ValueError(f"a 3-letter input_format is an order of 'CHW', got {input_format!r}")
        hwc = tensor.transpose([fmt.index(c) for c in "HWC"])
        return np.concatenate([hwc, hwc, hwc], 2) if hwc.shape[2] == 1 else hwc
    if set(fmt) != {"H", "W"}:
        raise ValueError(f"a 2-letter input_format is 'HW' or 'WH', got {input_format!r}")
    hw = tensor.transpose([fmt.index(c) for c in "HW"])
    return np.stack([hw, hw, hw], 2)


def convert_to_NTCHW(tensor, input_format: str) -> np.ndarray:  # noqa: N802
    """A video batch reordered to ``(N, T, C, H, W)``; ``input_format`` is an order of the
    letters N, T, C, H, W. Raises as :func:`convert_to_HWC`."""
    tensor, fmt = _check(tensor, input_format, (5,), "NTCHW")
    return tensor.transpose([fmt.index(c) for c in "NTCHW"])
