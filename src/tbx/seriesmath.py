"""Scalar series math shared by the viewer, ``tbx watch`` and ``tbx report``: TensorBoard's
debiased exponential moving average (smoothing), M4 downsampling to a chart's pixel columns, and
the points of an x range.

Pure functions over numpy columns; no I/O, no web framework (scipy and tsdownsample are imported
when first needed), so every front end can use them. Every function takes the full-resolution
series (``step`` int64, ``wall_time`` float64 seconds since the epoch, ``value`` float64 or
float32), one point per index, in the order the reader returns them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ema", "downsample_indices", "select"]


def _sorted_unique(idx: np.ndarray) -> np.ndarray:
    """``np.unique(idx)`` (sorted, duplicates dropped, int64), without a sort when ``idx`` is
    already non-decreasing (M4's output is)."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size < 2:
        return idx.copy()
    if not bool(np.all(idx[1:] >= idx[:-1])):
        idx = np.sort(idx)
    keep = np.empty(idx.size, dtype=bool)
    keep[0] = True
    np.not_equal(idx[1:], idx[:-1], out=keep[1:])
    return idx[keep]


def ema(values: np.ndarray, weight: float) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased exponential moving average, as TensorBoard's scalar dashboard draws it.

    ``acc_k = weight * acc_{k-1} + (1 - weight) * v_k`` over the finite values only
    (``acc_0 = 0``), and ``smoothed_k = acc_k / (1 - weight ** count_k)`` where ``count_k`` is the
    number of finite values up to k. Non-finite values (NaN, +-inf) are passed through
    unchanged and do not enter the average.

    Args:
        values: 1-D array, any float dtype.
        weight: in ``[0, 1)``; 0 returns the values unchanged (as float64).

    Returns:
        ``(smoothed float64[n], (accumulator, count))``: the state after the last point.

    Raises:
        ValueError: ``weight`` outside ``[0, 1)``.
    """
    if not 0.0 <= weight < 1.0 or weight != weight:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if weight == 0.0 or v.size == 0:
        count = int(finite.sum())
        last = float(v[finite][-1]) if count else 0.0
        return v.copy(), (last, count)
    from scipy.signal import lfilter

    fv = v[finite]
    acc, _ = lfilter([1.0 - weight], [1.0, -weight], fv, zi=[0.0])
    state = (float(acc[-1]) if fv.size else 0.0, int(fv.size))
    # 1 - weight**count: differs from 1 only for the first k points (weight**k < 2**-60)
    k = min(fv.size, int(np.ceil(-60 * np.log(2) / np.log(weight))) + 1)
    acc[:k] /= -np.expm1(np.arange(1, k + 1, dtype=np.float64) * np.log(weight))
    out = v.copy()
    out[finite] = acc
    return out, state


def downsample_indices(x: np.ndarray, y: np.ndarray, width: int) -> np.ndarray:
    """Indices of the points to draw ``y`` against ``x`` on ``width`` pixel columns.

    M4: for each pixel column (equal ranges of ``x``), the first, last, minimum and maximum
    finite points, so spikes stay visible; plus, per column, the first point of each run of
    non-finite values, so gaps (NaN) stay visible. When ``x`` is not non-decreasing the
    columns are equal ranges of the index instead. Returns sorted unique int64 indices, at
    most about ``4 * width`` plus one per column holding a gap; every index when the series
    has no more than ``4 * width`` points. A width of 1 is taken as 2 columns (M4 needs two
    bins), so at most 8 points.

    Raises:
        ValueError: ``width`` < 1, or ``x`` and ``y`` differ in length.
    """
    n = len(y)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if len(x) != n:
        raise ValueError("x and y differ in length")
    width = max(width, 2)
    if n <= 4 * width:
        return np.arange(n, dtype=np.int64)
    from tsdownsample import M4Downsampler

    y = np.ascontiguousarray(y, dtype=np.float64)
    xf = np.ascontiguousarray(x, dtype=np.float64)
    ordered = bool(np.all(xf[1:] >= xf[:-1]))
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    if all_finite:
        if ordered:
            idx = M4Downsampler().downsample(xf, y, n_out=4 * width)
        else:
            idx = M4Downsampler().downsample(y, n_out=4 * width)
        return _sorted_unique(idx)
    where = np.flatnonzero(finite)
    parts = []
    if where.size > 4 * width:
        ys = y[where]
        if ordered:
            sub = M4Downsampler().downsample(np.ascontiguousarray(xf[where]), ys, n_out=4 * width)
        else:
            sub = M4Downsampler().downsample(ys, n_out=4 * width)
        parts.append(where[np.asarray(sub, dtype=np.int64)])
    else:
        parts.append(where)
    # First index of every run of non-finite values, at most one per pixel column.
    bad = ~finite
    starts = np.flatnonzero(bad & ~np.concatenate(([False], bad[:-1])))
    if starts.size:
        if ordered and xf[-1] > xf[0]:
            col = ((xf[starts] - xf[0]) * (width / (xf[-1] - xf[0]))).astype(np.int64)
        else:
            col = starts * width // n
        _, first = np.unique(col, return_index=True)
        parts.append(starts[first])
    return _sorted_unique(np.concatenate(parts))


def select(x: np.ndarray, xmin: float | None, xmax: float | None) -> slice | np.ndarray:
    """Points whose ``x`` lies in ``[xmin, xmax]`` plus one neighbour on each side (so the
    line reaches the chart's edges). A slice when ``x`` is non-decreasing, else a boolean mask
    widened by one index on each side."""
    n = len(x)
    if xmin is None and xmax is None:
        return slice(0, n)
    lo = -np.inf if xmin is None else xmin
    hi = np.inf if xmax is None else xmax
    if n and np.all(x[1:] >= x[:-1]):
        a = int(np.searchsorted(x, lo, side="left"))
        b = int(np.searchsorted(x, hi, side="right"))
        return slice(max(a - 1, 0), min(b + 1, n))
    m = (x >= lo) & (x <= hi)
    wide = m.copy()
    wide[1:] |= m[:-1]
    wide[:-1] |= m[1:]
    return wide
