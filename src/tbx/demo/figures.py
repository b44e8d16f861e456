"""The matplotlib figures ``tbx demo`` logs: the confusion matrix and the misclassified
validation digits (built on :class:`matplotlib.figure.Figure`, no pyplot: no backend or display
is involved)."""

from __future__ import annotations

import math

import numpy as np

from tbx.demo.data import IMAGE_SIDE, N_CLASSES

__all__ = ["confusion_figure", "misclassified_figure"]


def confusion_figure(y_true, y_pred, title: str):
    from matplotlib.figure import Figure  # no pyplot: no backend or display is involved
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=np.arange(N_CLASSES))
    fig = Figure(figsize=(5, 4.6), dpi=80)
    ax = fig.add_subplot()
    ConfusionMatrixDisplay(cm, display_labels=np.arange(N_CLASSES)).plot(
        ax=ax, colorbar=False, cmap="Blues"
    )
    ax.set_title(title)
    fig.tight_layout()
    return fig


def misclassified_figure(x, y_true, y_pred, title: str, limit: int = 32):
    """One axes: a mosaic of up to ``limit`` misclassified digits, each captioned
    ``predicted / true`` (one axes keeps matplotlib fast)."""
    from matplotlib.figure import Figure  # no pyplot: no backend or display is involved

    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:limit]
    cols = 8
    rows = max(1, math.ceil(len(shown) / cols))
    cell_w, cell_h = IMAGE_SIDE + 2, IMAGE_SIDE + 5  # room for the caption above each digit
    mosaic = np.zeros((rows * cell_h, cols * cell_w), np.float32)
    fig = Figure(figsize=(cols * 0.8, rows * 1.0 + 0.5), dpi=80)
    ax = fig.add_subplot()
    for k, i in enumerate(shown):
        r, c = divmod(k, cols)
        top, left = r * cell_h + 4, c * cell_w + 1
        mosaic[top : top + IMAGE_SIDE, left : left + IMAGE_SIDE] = x[i].reshape(
            IMAGE_SIDE, IMAGE_SIDE
        )
        ax.text(
            left + IMAGE_SIDE / 2 - 0.5,
            top - 1.2,
            f"{y_pred[i]} / {y_true[i]}",
            ha="center",
            va="bottom",
            fontsize=9,
            color="crimson",
        )
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    more = f" (first {len(shown)})" if len(wrong) > len(shown) else ""
    ax.set_title(f"{title}: {len(wrong)} misclassified{more}, predicted / true", fontsize=10)
    fig.tight_layout()
    return fig
