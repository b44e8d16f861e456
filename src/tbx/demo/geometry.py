"""3-D data the demo logs for the Mesh dashboard, from the model being trained.

* :func:`feature_cloud`: the validation digits' last hidden layer projected on its first three
  principal components, one point per digit coloured by its class: a point cloud that
  separates into ten clusters as training goes.
* :func:`loss_surface`: the validation loss around the trained weights on the plane spanned by
  two random directions (each scaled layer by layer to the norm of the weights it moves, as in
  Li et al., "Visualizing the Loss Landscape of Neural Nets", 2018): a triangle mesh whose
  height is the loss, coloured from low (blue) to high (red).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASS_COLORS", "feature_cloud", "loss_surface"]

#: One RGB colour per digit class (uint8, 10 x 3).
CLASS_COLORS = np.array([
    [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
], np.uint8)


def feature_cloud(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, colors)`` of ``features`` ``(N, D)`` (D >= 1) projected on their first three
    principal components (zero-padded when D < 3), scaled to unit RMS: float32 (1, N, 3), and
    :data:`CLASS_COLORS` of ``labels`` ``(N,)`` (ints in [0, 10)): uint8 (1, N, 3)."""
    x = np.asarray(features, np.float64)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    p = x @ vt[:3].T
    if p.shape[1] < 3:
        p = np.pad(p, ((0, 0), (0, 3 - p.shape[1])))
    rms = np.sqrt((p**2).sum(axis=1).mean()) or 1.0
    colors = CLASS_COLORS[np.asarray(labels, np.int64) % len(CLASS_COLORS)]
    return (p / rms).astype(np.float32)[None], colors[None]


def loss_surface(mlp, x, y, loss_of, size: int = 25, span: float = 1.0, seed: int = 0):
    """``(vertices, colors, faces)`` of the loss of ``mlp`` on ``(x, y)`` over a ``size`` x
    ``size`` grid of the plane ``w + a d1 + b d2``, ``a, b`` in ``[-span, span]``: vertices
    ``(a, b, loss)`` float32 (1, size**2, 3) (the loss scaled so its range spans 2 * span),
    colours uint8 (1, size**2, 3), faces int32 (1, 2 (size - 1)**2, 3). ``loss_of(mlp, x, y)``
    gives the loss; ``mlp.params`` is restored afterwards."""
    rng = np.random.default_rng(seed)
    base = {k: v.copy() for k, v in mlp.params.items()}
    dirs = []
    for _ in range(2):
        d = {}
        for k, w in base.items():
            r = rng.normal(size=w.shape)
            d[k] = r * (np.linalg.norm(w) / (np.linalg.norm(r) or 1.0)) if w.ndim > 1 else 0 * w
        dirs.append(d)
    ticks = np.linspace(-span, span, size)
    loss = np.empty((size, size))
    try:
        for i, a in enumerate(ticks):
            for j, b in enumerate(ticks):
                for k, w in base.items():
                    mlp.params[k] = (w + a * dirs[0][k] + b * dirs[1][k]).astype(np.float32)
                loss[i, j] = loss_of(mlp, x, y)
    finally:
        mlp.params.update(base)
    lo, hi = float(loss.min()), float(loss.max())
    t = (loss - lo) / ((hi - lo) or 1.0)
    aa, bb = np.meshgrid(ticks, ticks, indexing="ij")
    vertices = np.stack([aa, bb, (t - 0.5) * 2 * span], -1).reshape(-1, 3).astype(np.float32)
    t = t.reshape(-1)
    colors = np.stack([255 * t, 80 + 60 * np.sin(np.pi * t), 255 * (1 - t)], 1)
    idx = np.arange(size * size).reshape(size, size)
    a0, a1, b0, b1 = idx[:-1, :-1], idx[1:, :-1], idx[:-1, 1:], idx[1:, 1:]
    faces = np.concatenate([np.stack([a0, a1, b1], -1).reshape(-1, 3),
                            np.stack([a0, b1, b0], -1).reshape(-1, 3)]).astype(np.int32)
    return vertices[None], np.rint(colors).astype(np.uint8)[None], faces[None]
