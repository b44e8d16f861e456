"""Distributions: percentile bands of histogram series. Pure functions, no I/O.

Input: the reader's ``TensorSeries`` of plugin ``histograms`` (float64 ``[k, 3]`` arrays of
``(left edge, right edge, count)``).
"""

from __future__ import annotations

import numpy as np

from tbx.viewer.views import finite_or_none, sample_indices

__all__ = ["DISTRIBUTION_BPS", "percentiles", "distribution_points"]

#: Percentiles (basis points) of the distributions dashboard's bands, as TensorBoard's.
DISTRIBUTION_BPS = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)


def percentiles(h, bps=DISTRIBUTION_BPS) -> list[float | None]:
    """Values at the given basis points (1/100 of a percent) of a ``[k, 3]`` histogram, by
    linear interpolation inside the bucket that holds each rank; ``None`` for an empty one.

    Bucket edges are first clamped to the histogram's recorded range, the first bucket's left
    edge and the last bucket's right edge (for a v1 ``histo`` these are its ``min`` and ``max``,
    as TensorBoard's ``data_compat`` converts it), as TensorBoard's distribution compressor
    does; so every value lies in that range, and a constant histogram (all values 0.5, in a
    bucket spanning [0.4707, 0.5178)) gives 0.5 at every basis point.

    Raises:
        ValueError: ``h`` is not ``[k, 3]``.
    """
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 2 or h.shape[1] != 3:
        raise ValueError(f"histogram tensor of shape {list(h.shape)}, expected [k, 3]")
    counts = np.clip(np.nan_to_num(h[:, 2]), 0, None)
    total = counts.sum()
    if not h.shape[0] or total <= 0:
        return [None] * len(bps)
    lo, hi = h[0, 0], h[-1, 1]
    if lo <= hi:  # (not for NaN edges or a reversed range)
        h = h.copy()
        np.clip(h[:, :2], lo, hi, out=h[:, :2])
    else:
        lo, hi = -np.inf, np.inf
    cum = np.cumsum(counts)
    nz = np.flatnonzero(counts)
    out = []
    for bp in bps:
        target = total * bp / 10000.0
        if bp <= 0:
            v = h[nz[0], 0]
        elif bp >= 10000:
            v = h[nz[-1], 1]
        else:
            i = min(int(np.searchsorted(cum, target, side="left")), len(cum) - 1)
            prev = cum[i - 1] if i else 0.0
            frac = (target - prev) / counts[i] if counts[i] else 0.0
            v = h[i, 0] + frac * (h[i, 1] - h[i, 0])
        out.append(finite_or_none(float(min(max(v, lo), hi))))
    return out


def distribution_points(series, samples: int) -> list[dict]:
    """Per sampled step, ``{"step", "wall_time", "bps": [values at DISTRIBUTION_BPS]}``."""
    return [
        {"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
         "bps": percentiles(series.values[i])}
        for i in sample_indices(len(series), samples) if series.values[i] is not None
    ]
