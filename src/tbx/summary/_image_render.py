"""Pixels made from other things, for :mod:`tbx.summary.image`: boxes and labels drawn on a
Pillow image (tensorboardX's ``draw_boxes``), and matplotlib figures rendered to arrays."""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["check_boxes", "draw_boxes", "figure_to_array"]


def check_boxes(boxes: np.ndarray, labels) -> tuple[np.ndarray, list[str] | None]:
    if boxes.ndim == 1 and boxes.shape[0] == 4:
        boxes = boxes[np.newaxis]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"box_tensor must have shape (N, 4), rows (xmin, ymin, xmax, ymax) in pixels; got "
            f"shape {tuple(boxes.shape)}"
        )
    if boxes.dtype.kind not in "biuf":
        raise TypeError(f"box_tensor must hold numbers, got dtype {boxes.dtype}")
    boxes = boxes.astype(np.float64)
    if not np.isfinite(boxes).all():
        raise ValueError("box_tensor holds NaN or infinite coordinates")
    if labels is None:
        return boxes, None
    if isinstance(labels, str):
        labels = [labels]
    try:
        labels = [str(s) for s in labels]
    except TypeError:
        raise TypeError(
            f"labels must be a list of str (one per box), got {type(labels).__name__}"
        ) from None
    if len(labels) != boxes.shape[0]:
        raise ValueError(
            f"labels has {len(labels)} entries but box_tensor has {boxes.shape[0]} boxes; "
            f"give one label per box"
        )
    return boxes, labels


def draw_boxes(
    image, boxes, labels=None, color: str = "red", text_color: str = "black", thickness: int = 2
):
    """Draw boxes on a Pillow image: each outline ``thickness`` pixels wide inside its box, each
    label at its box's top-left corner (above the box when there is room) on a filled box of
    ``color``. A grayscale (``"L"``) image is converted to RGB first.

    Args:
        image: a ``PIL.Image.Image``; drawn on in place unless converted.
        boxes: numpy array ``(N, 4)`` (or ``(4,)``) ``(xmin, ymin, xmax, ymax)`` in pixels, any
            real dtype.
        labels: ``N`` strings (a single str for one box), or None.
        color, text_color, thickness: outline/label colours (Pillow colour names) and the
            outline width in pixels.

    Returns:
        the image drawn on (``image`` itself, or its RGB conversion).

    Raises:
        ValueError: ``boxes`` not of shape (N, 4) or not finite; ``len(labels) != N``.
        TypeError: ``boxes`` not numeric; ``labels`` not a list of strings.
    """
    boxes, labels = check_boxes(np.asarray(boxes), labels)
    from PIL import ImageDraw, ImageFont

    if image.mode == "L":
        image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default() if labels else None
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        draw.rectangle([x0, y0, x1, y1], outline=color, width=thickness)
        if labels and labels[i]:
            left, top, right, bottom = draw.textbbox((0, 0), labels[i], font=font)
            tw, th = right - left + 4, bottom - top + 4
            ty = y0 - th if y0 - th >= 0 else y0  # above the box if there is room
            draw.rectangle([x0, ty, x0 + tw, ty + th], fill=color)
            draw.text((x0 + 2 - left, ty + 2 - top), labels[i], fill=text_color, font=font)
    return image


def figure_to_array(figure, close: bool = True) -> np.ndarray:
    """Render a matplotlib Figure with the Agg canvas (no display needed) to ``(H, W, 3)``
    uint8 RGB, or a list of same-size figures to ``(N, H, W, 3)``; the alpha channel is
    dropped, as tensorboardX does. The figure keeps its own canvas (tensorboardX leaves an Agg
    canvas attached to it). With ``close``, each figure is closed afterwards
    (``pyplot.close``).

    Raises:
        ImportError: matplotlib is not installed (``pip install "tbx[figures]"``).
        TypeError: ``figure`` is not a Figure or a list of them.
        ValueError: an empty list, or figures of different sizes in a list.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover
        raise ImportError('add_figure needs matplotlib: pip install "tbx[figures]"') from exc
    figures = figure if isinstance(figure, (list, tuple)) else [figure]
    if not figures:
        raise ValueError("figure is an empty list; give a matplotlib Figure or a list of them")
    for f in figures:
        if not isinstance(f, Figure):
            raise TypeError(
                f"figure must be a matplotlib.figure.Figure or a list of them, got "
                f"{type(f).__module__}.{type(f).__qualname__}"
            )
    images = []
    for f in figures:
        original = f.canvas
        canvas = FigureCanvasAgg(f)  # attaches itself to the figure ...
        try:
            canvas.draw()
            rgba = np.asarray(canvas.buffer_rgba())
            images.append(rgba[:, :, :3].copy())
        finally:
            f.set_canvas(original)  # ... so give the figure its own canvas back
    pyplot = sys.modules.get("matplotlib.pyplot")
    if close and pyplot is not None:  # without pyplot loaded, no figure is open in it
        for f in figures:
            pyplot.close(f)
    if not isinstance(figure, (list, tuple)):
        return images[0]
    sizes = {im.shape for im in images}
    if len(sizes) != 1:
        raise ValueError(
            f"the figures of a list must render to one size, got (H, W, C) sizes "
            f"{sorted(sizes)}"
        )
    return np.stack(images)
