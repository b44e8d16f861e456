"""Histogram series as JSON-ready points. Pure functions, no I/O.

Input: the reader's ``TensorSeries`` of plugin ``histograms``: one float64 ``[k, 3]`` array of
``(left edge, right edge, count)`` rows per point (``None`` for a point it could not decode).
"""

from __future__ import annotations

import numpy as np

from tbx.viewer.views import finite_or_none, sample_indices

__all__ = ["as_buckets", "clamp_edges", "histogram_points"]


def as_buckets(a) -> np.ndarray:
    """``a`` as a float64 ``[k, 3]`` array.

    Raises:
        ValueError: another shape.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"histogram tensor of shape {list(a.shape)}, expected [k, 3]")
    return a


def clamp_edges(h: np.ndarray) -> np.ndarray:
    """``h`` (float64 ``[k, 3]``) with every edge clamped to ``[h[0, 0], h[-1, 1]]`` (a copy;
    ``h`` itself when empty or the range is not ordered)."""
    if not h.shape[0]:
        return h
    lo, hi = h[0, 0], h[-1, 1]
    if not lo <= hi:
        return h
    out = h.copy()
    np.clip(out[:, :2], lo, hi, out=out[:, :2])
    return out


def histogram_points(series, samples: int) -> list[dict]:
    """Per sampled step (at most ``samples``, first and last kept), ``{"step", "wall_time",
    "left", "right", "count"}`` (bucket edges and counts as lists of floats; non-finite values
    as ``None``). Undecodable points are skipped.

    Edges are clamped to the histogram's recorded range (the first bucket's left edge and the
    last one's right edge: a v1 ``histo``'s ``min`` and ``max``), so no bucket is drawn where no
    value was: a constant histogram (every value 0.5, bucket [0.4707, 0.5178)) becomes one
    bucket [0.5, 0.5].

    Raises:
        ValueError: a point is not a ``[k, 3]`` array.
    """
    out = []
    for i in sample_indices(len(series), samples):
        if series.values[i] is None:
            continue
        h = clamp_edges(as_buckets(series.values[i]))
        out.append({
            "step": int(series.step[i]),
            "wall_time": float(series.wall_time[i]),
            "left": [finite_or_none(v) for v in h[:, 0]],
            "right": [finite_or_none(v) for v in h[:, 1]],
            "count": [finite_or_none(v) for v in h[:, 2]],
        })
    return out
