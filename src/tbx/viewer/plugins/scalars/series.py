"""Scalar series for the viewer: smoothing, downsampling, and the binary transport.

Pure functions over numpy columns; no I/O. Every function takes the full-resolution series
(``step`` int64, ``wall_time`` float64 seconds since the epoch, ``value`` float64 or float32),
one point per index, in the order the reader returns them.

Binary transport (``application/x-tbx-series``), all numbers little-endian::

    offset 0   4 bytes   magic b"TBXS"
    offset 4   uint32    format version (1)
    offset 8   uint32    number of series N
    offset 12  uint32    J: length in bytes of the JSON header
    offset 16  J bytes   UTF-8 JSON: a list of N descriptors (see below), then space padding
                         (0x20) up to the next multiple of 8 bytes
    then, for each series in descriptor order, its columns back to back, each column
    ``n`` float64 values (8-byte aligned, so a Float64Array view needs no copy):
        step        float64[n]  (integers; exact up to 2**53)
        wall_time   float64[n]  seconds since the epoch
        value       float64[n]  raw values; NaN and +-inf kept
        smoothed    float64[n]  only when the descriptor's ``columns`` lists it

Each descriptor: ``{"run": str, "tag": str, "n": points sent, "total": points in the full
series, "downsampled": bool, "columns": ["step", "wall_time", "value"(, "smoothed")],
"ema": [accumulator, count] (the smoothing state after the series' last point, so a client
can continue the curve over live deltas), "first_wall_time": float|null, "step_range":
[min, max]|null}``.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from tbx.viewer.views import json_safe

__all__ = [
    "MAGIC",
    "ema",
    "downsample_indices",
    "select",
    "pack",
    "unpack",
]

MAGIC = b"TBXS"
VERSION = 1
_HEADER = struct.Struct("<4sIII")


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
    has no more than ``4 * width`` points.

    Raises:
        ValueError: ``width`` < 1, or ``x`` and ``y`` differ in length.
    """
    n = len(y)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if len(x) != n:
        raise ValueError("x and y differ in length")
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
        return np.unique(np.asarray(idx, dtype=np.int64))
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
    return np.unique(np.concatenate(parts).astype(np.int64))


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


def pack(series: list[tuple[dict, list[np.ndarray]]]) -> bytes:
    """Encode ``[(descriptor, columns), ...]`` in the binary transport (module docstring).

    Each ``columns`` list holds the arrays named by ``descriptor["columns"]``, all of length
    ``descriptor["n"]``; they are converted to little-endian float64."""
    header = json.dumps(json_safe([d for d, _ in series]), allow_nan=False,
                        separators=(",", ":")).encode()
    pad = (-(_HEADER.size + len(header))) % 8
    chunks = [_HEADER.pack(MAGIC, VERSION, len(series), len(header) + pad), header, b" " * pad]
    for desc, cols in series:
        for c in cols:
            a = np.ascontiguousarray(c, dtype="<f8")
            if a.size != desc["n"]:
                raise ValueError("column length differs from descriptor's n")
            chunks.append(a.tobytes())
    return b"".join(chunks)


def unpack(data: bytes) -> list[tuple[dict, dict[str, np.ndarray]]]:
    """Decode :func:`pack`'s bytes into ``[(descriptor, {column name: float64 array})]``.

    Raises:
        ValueError: bad magic, version or length.
    """
    magic, version, count, hlen = _HEADER.unpack_from(data, 0)
    if magic != MAGIC or version != VERSION:
        raise ValueError("not a tbx series payload")
    descs = json.loads(data[_HEADER.size : _HEADER.size + hlen])
    if len(descs) != count:
        raise ValueError("descriptor count mismatch")
    off = _HEADER.size + hlen
    out = []
    for d in descs:
        cols = {}
        for name in d["columns"]:
            end = off + 8 * d["n"]
            if end > len(data):
                raise ValueError("payload too short")
            cols[name] = np.frombuffer(data, dtype="<f8", count=d["n"], offset=off)
            off = end
        out.append((d, cols))
    return out
