"""Histograms: plugin ``histograms``.

Written as tensorboardX writes them: ``Summary.Value(tag, histo=HistogramProto)`` with no
metadata (TensorBoard's histogram and distribution dashboards read it). ``bucket_limit[i]`` is the
right edge of bucket ``i``; the first bucket is always empty and only marks the left edge of the
second one, so that a viewer sees where the data start.

Default bins (``bins="tensorflow"``) are tensorboardX's: the edges ``1e-12 * 1.1**k`` (built by
repeated multiplication, as tensorboardX does) below ``1e20``, mirrored to the negative side, plus
``0``; bucket ``[e_i, e_{i+1})`` holds ``e_i <= v < e_{i+1}`` and the top bucket is closed (as
``numpy.histogram``). For data inside those edges the buckets are exactly tensorboardX's. Data
beyond ``±1e20`` (which tensorboardX silently drops, while counting them in ``num``) go to the
same exponential grid continued up to the float64 maximum, so every finite value is counted.

Every histogram is self-consistent: ``num`` is the sum of the bucket counts, and ``min``,
``max``, ``sum`` and ``sum_squares`` (float64) are those of the counted values. Non-finite values
(NaN, ±Inf), and values outside explicit ``bins`` edges, are left out and reported by one
``warnings.warn``.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from tbx.proto.summary_pb2 import HistogramProto, Summary
from tbx.summary._histogram_grid import (
    default_bucket_edges,
    default_counts,
    default_fast,
    get_grid,
)

__all__ = [
    "PLUGIN_NAME",
    "Histogram",
    "default_bucket_edges",
    "histogram_summary",
    "histogram_raw_summary",
    "make_histogram",
    "histogram_proto",
    "decode",
]

PLUGIN_NAME = "histograms"

_FAST_MIN = 4096  # inputs at least this large take the fast path


class Histogram(NamedTuple):
    """The content of a ``HistogramProto``.

    ``bucket_limits`` (float64, shape (K,)) are the right edges, ``bucket_counts`` (float64,
    shape (K,)) the counts. Written by tbx, bucket ``i > 0`` holds the values ``v`` with
    ``bucket_limits[i-1] <= v < bucket_limits[i]`` (the last bucket also ``v ==
    bucket_limits[-1]``): numpy.histogram's rule, as tensorboardX; bucket 0 is empty.
    TensorFlow's comment reads ``(limit[i-1], limit[i]]``: only values exactly on an edge differ.
    """

    min: float
    max: float
    num: float
    sum: float
    sum_squares: float
    bucket_limits: np.ndarray
    bucket_counts: np.ndarray


def _trim_merge(counts: np.ndarray, edges: np.ndarray, max_bins: int | None):
    """Right-edge limits and counts of the span of non-empty bins, with one empty bucket in
    front (its limit is the span's left edge); at most ``max_bins`` counted buckets."""
    nz = np.flatnonzero(counts)
    start, last = int(nz[0]), int(nz[-1])
    span = counts[start : last + 1]
    if max_bins is not None and span.size > max_bins:
        k = -(-span.size // max_bins)
        cuts = np.arange(0, span.size, k)
        span = np.add.reduceat(span, cuts)
        right = np.r_[edges[start + cuts[1:]], edges[last + 1]]
    else:
        right = edges[start + 1 : last + 2]
    limits = np.r_[edges[start], right].astype(np.float64)
    return limits, np.r_[0, span].astype(np.float64)


def _numpy_histogram(xd: np.ndarray, bins, vmin: float, vmax: float):
    """numpy.histogram; for a bin count or rule on data whose range is too narrow to split at
    its magnitude (all values equal near 1e28: numpy's ``v ± 0.5`` cannot be told apart from
    ``v``), one bucket ``[vmin - d, vmax + d]`` with ``d = 2**-40`` of the magnitude."""
    try:
        with np.errstate(all="ignore"):  # the rules' statistics may overflow near 1e308
            return np.histogram(xd, bins=bins)
    except ValueError as exc:
        if isinstance(bins, np.ndarray) or "finite-sized bins" not in str(exc):
            raise
        d = max(abs(vmin), abs(vmax)) * 2.0**-40
        return np.array([xd.size]), np.array([vmin - d, vmax + d])


def _check_max_bins(max_bins):
    if max_bins is None:
        return None
    if isinstance(max_bins, bool) or not isinstance(max_bins, (int, np.integer)) or max_bins < 1:
        raise ValueError(f"max_bins must be None or a positive int, got {max_bins!r}")
    return int(max_bins)


def make_histogram(
    values,
    bins="tensorflow",
    max_bins: int | None = None,
    tag: str = "values",
    stacklevel: int = 2,
) -> Histogram | None:
    """Bucket ``values`` into a :class:`Histogram`.

    Args:
        values: numpy array of any shape and real dtype (bool, ints, float16/32/64); flattened.
        bins: ``"tensorflow"`` (tensorboardX's default exponential edges), or anything
            ``numpy.histogram`` accepts: an int (equal-width bins over the data's range), a rule
            name (``"auto"``, ``"fd"``, ``"doane"``, ``"scott"``, ``"stone"``, ``"rice"``,
            ``"sturges"``, ``"sqrt"``), or a monotonically increasing 1-D edge array.
        max_bins: at most this many counted buckets: neighbouring buckets of the non-empty span
            are merged, ``ceil(span / max_bins)`` at a time, starting at the first non-empty one.
        tag: named in the warning about left-out values.
        stacklevel: of that warning (2: the caller of this function).

    Returns:
        the Histogram; ``None`` (after a warning) when no value is finite / inside the edges.

    Raises:
        ValueError: ``values`` is empty; bad ``bins`` or ``max_bins``.
        TypeError: ``values`` is not of a real dtype.
    """
    max_bins = _check_max_bins(max_bins)
    x = np.asarray(values)
    if x.size == 0:
        raise ValueError(f"values of histogram {tag!r} is empty: give at least one number")
    if x.dtype.kind == "b":
        x = x.astype(np.float32)
    elif x.dtype.kind in "iu":
        x = x.astype(np.float64)
    elif x.dtype.kind != "f":
        raise TypeError(
            f"values of histogram {tag!r} must be real numbers (bool, int or float), got "
            f"dtype {x.dtype}"
        )
    x = np.ascontiguousarray(x.reshape(-1))
    default = isinstance(bins, str) and bins == "tensorflow"
    if not default:
        if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
            if bins < 1:
                raise ValueError(f"bins must be a positive int, got {bins}")
        elif not isinstance(bins, str):
            bins = np.asarray(bins, dtype=np.float64)
            if bins.ndim != 1 or bins.size < 2 or np.any(np.diff(bins) <= 0):
                raise ValueError(
                    "bins must be 'tensorflow', a positive int, a numpy rule name ('auto', "
                    "'fd', 'doane', 'sqrt', ...) or a strictly increasing 1-D array of at "
                    "least 2 edges"
                )
    g = get_grid() if default else None
    fast = default_fast(g, x) if default and x.size >= _FAST_MIN else None
    if fast is None:
        finite = np.isfinite(x)
        n_bad = 0
        if not finite.all():
            n_bad = int(x.size - np.count_nonzero(finite))
            x = x[finite]
        notes = [f"{n_bad} non-finite value(s) (NaN/Inf)"] if n_bad else []
        if not default and isinstance(bins, np.ndarray) and x.size:
            inside = (x >= bins[0]) & (x <= bins[-1])
            if not inside.all():
                n_out = int(x.size - np.count_nonzero(inside))
                notes.append(f"{n_out} value(s) outside the bins [{bins[0]!r}, {bins[-1]!r}]")
                x = x[inside]
        if notes:
            warnings.warn(
                f"histogram {tag!r}: left out "
                + " and ".join(notes)
                + ("; nothing to write" if x.size == 0 else ""),
                RuntimeWarning,
                stacklevel=stacklevel,
            )
        if x.size == 0:
            return None
        if default and x.size >= _FAST_MIN:
            fast = default_fast(g, x)
    if fast is not None:
        counts, vmin, vmax, total, squares = fast
        edges = g.edges
    else:
        xd = x.astype(np.float64, copy=False)
        vmin, vmax = float(xd.min()), float(xd.max())
        total, squares = float(xd.sum()), float(np.einsum("i,i->", xd, xd))
        if default:
            counts = default_counts(g, x, closed_top=vmax <= g.top_std)
            edges = g.edges
        else:
            try:
                counts, edges = _numpy_histogram(xd, bins, vmin, vmax)
            except (ValueError, TypeError, IndexError, OverflowError) as exc:
                hint = ""
                if max(abs(vmin), abs(vmax)) > 1e150:
                    hint = " (values this large overflow numpy's bin rules: use bins='tensorflow')"
                raise ValueError(
                    f"bins {bins!r} rejected by numpy.histogram: {exc}{hint}"
                ) from None
    limits, bucket_counts = _trim_merge(counts, edges, max_bins)
    return Histogram(
        min=vmin,
        max=vmax,
        num=float(x.size),
        sum=total,
        sum_squares=squares,
        bucket_limits=limits,
        bucket_counts=bucket_counts,
    )


def histogram_proto(h: Histogram) -> HistogramProto:
    """The ``HistogramProto`` of a :class:`Histogram` (tensorboardX's ``make_histogram``
    result)."""
    return HistogramProto(
        min=h.min,
        max=h.max,
        num=h.num,
        sum=h.sum,
        sum_squares=h.sum_squares,
        bucket_limit=h.bucket_limits.tolist(),
        bucket=h.bucket_counts.tolist(),
    )


def _summary(tag: str, h: Histogram) -> Summary:
    return Summary(value=[Summary.Value(tag=tag, histo=histogram_proto(h))])


def histogram_summary(
    tag: str, values, bins="tensorflow", max_bins: int | None = None, stacklevel: int = 2
) -> Summary | None:
    """Summary of the histogram of ``values`` (see :func:`make_histogram` for the arguments
    and errors); ``None`` when no value could be counted (a warning says why)."""
    h = make_histogram(values, bins, max_bins, tag, stacklevel + 1)
    return None if h is None else _summary(tag, h)


def _number(x, arg: str) -> float:
    from tbx.convert import to_float

    return to_float(x, arg)


def histogram_raw_summary(
    tag: str, min, max, num, sum, sum_squares, bucket_limits, bucket_counts
) -> Summary:
    """Summary of a histogram given by its fields (tensorboardX's ``histogram_raw``).

    Args:
        min, max, num, sum, sum_squares: numbers (stored as float64).
        bucket_limits: right edge of each bucket, shape (K,), increasing.
        bucket_counts: count of each bucket, shape (K,).

    Raises:
        ValueError: ``bucket_limits`` and ``bucket_counts`` differ in length or are not 1-D;
            ``bucket_limits`` decreases somewhere; a count is negative or not finite.
        TypeError: a field is not a number / array of numbers.
    """
    from tbx.convert import to_numpy

    limits = np.asarray(to_numpy(bucket_limits, "bucket_limits"), dtype=np.float64)
    counts = np.asarray(to_numpy(bucket_counts, "bucket_counts"), dtype=np.float64)
    if limits.ndim != 1 or counts.ndim != 1:
        raise ValueError(
            f"bucket_limits and bucket_counts must be 1-D (K,), got shapes {limits.shape} and "
            f"{counts.shape}"
        )
    if limits.size != counts.size:
        raise ValueError(
            f"bucket_limits and bucket_counts must have the same length, got {limits.size} and "
            f"{counts.size} (bucket_limits are the right edges: numpy.histogram's edges[1:])"
        )
    if limits.size and not np.all(limits[1:] >= limits[:-1]):
        raise ValueError("bucket_limits must be non-decreasing (the buckets' right edges)")
    if counts.size and not (np.all(np.isfinite(counts)) and np.all(counts >= 0)):
        raise ValueError("bucket_counts must be finite and >= 0")
    h = Histogram(
        _number(min, "min"),
        _number(max, "max"),
        _number(num, "num"),
        _number(sum, "sum"),
        _number(sum_squares, "sum_squares"),
        limits,
        counts,
    )
    return _summary(tag, h)


def decode(value: Summary.Value) -> Histogram:
    """The :class:`Histogram` of a histogram Value: the ``histo`` form, or the tensor form of
    TensorBoard's v2 histograms (shape (K, 3): left edge, right edge, count per bucket; there
    ``min``/``max`` are the outer edges, ``sum``/``sum_squares`` are unknown and NaN).

    Raises:
        ValueError: the Value holds neither form.
    """
    which = value.WhichOneof("value")
    if which == "histo":
        h = value.histo
        return Histogram(
            h.min,
            h.max,
            h.num,
            h.sum,
            h.sum_squares,
            np.array(h.bucket_limit, dtype=np.float64),
            np.array(h.bucket, dtype=np.float64),
        )
    if which == "tensor":
        from tbx.summary.tensor import tensor_to_numpy

        arr = np.asarray(tensor_to_numpy(value.tensor), dtype=np.float64)
        if arr.ndim == 2 and arr.shape[1] == 3:
            counts = arr[:, 2].copy()
            lo = float(arr[0, 0]) if len(arr) else math.nan
            hi = float(arr[-1, 1]) if len(arr) else math.nan
            return Histogram(
                lo, hi, float(counts.sum()), math.nan, math.nan, arr[:, 1].copy(), counts
            )
    raise ValueError(f"histogram {value.tag!r}: Value holds {which!r}, not a histogram")
