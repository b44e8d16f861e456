"""The default histogram buckets (``bins="tensorflow"``, :mod:`tbx.summary.histogram`):
tensorboardX's exponential edges continued to the float64 maximum, and the counting of values
into them. Large inputs take a table lookup on the float32 bits (in C when ``tbx._speedups`` is
built, else numpy, block by block), values near an edge a binary search, so the counts are
always numpy.histogram's over the same edges."""

from __future__ import annotations

import numpy as np

__all__ = ["get_grid", "default_bucket_edges", "default_counts", "default_fast"]

_FIRST_EDGE = 1e-12
_FACTOR = 1.1
_TOP = 1e20  # tensorboardX's positive edges are those below this
_KEY_SHIFT = 13  # float32 bits >> this: 2**19 ranges of 2**13 neighbouring floats
_BLOCK = 1 << 16  # values per block of the fast path


class _Grid:
    """The default exponential edges, built once.

    ``edges`` is the grid continued to the float64 maximum (``[-max, ..., -1e-12, 0, 1e-12,
    ..., max]``); tensorboardX's 1549 edges are the slice ``edges[lo:hi]``.
    """

    def __init__(self) -> None:
        # Repeated multiplication in float64, like tensorboardX's loop, so the edges below
        # 1e20 are bit-identical to its edges.
        with np.errstate(over="ignore"):
            pos = np.cumprod(np.r_[_FIRST_EDGE, np.full(8000, _FACTOR)])
        big = np.finfo(np.float64).max
        pos = pos[pos < big]
        self.n_std = int(np.count_nonzero(pos < _TOP))  # tensorboardX's positive edge count
        pos = np.r_[pos, big]
        self.m = len(pos)  # positive edges of the continued grid
        self.edges = np.concatenate([-pos[::-1], [0.0], pos])
        self.zero = self.m  # index of the 0 edge
        self.lo = self.zero - self.n_std
        self.hi = self.zero + self.n_std + 1
        self.top_std = float(pos[self.n_std - 1])  # tensorboardX's last edge, ~1e20 (inclusive)
        self.nbins = len(self.edges) - 1
        assert self.nbins < 2**15  # bins fit the int16 lookup table
        self._tables: dict[bool, np.ndarray] = {}

    def table(self, widen: bool) -> np.ndarray:
        """int16 (2**19,): the bin of every float32 whose bits >> 13 are the index, or
        ``nbins`` when the range straddles an edge (or holds Inf/NaN). With ``widen``, each
        range is first widened by one float32 step on both sides (for rounded float64s)."""
        tab = self._tables.get(widen)
        if tab is None:
            keys = np.arange(1 << (32 - _KEY_SHIFT), dtype=np.uint32) << _KEY_SHIFT
            first = keys.view(np.float32)
            last = (keys | np.uint32((1 << _KEY_SHIFT) - 1)).view(np.float32)
            special = (keys & np.uint32(0x7F800000)) == np.uint32(0x7F800000)
            with np.errstate(invalid="ignore", over="ignore"):
                lo = np.fmin(first, last)
                hi = np.fmax(first, last)
                if widen:
                    lo = np.nextafter(lo, np.float32(-np.inf))
                    hi = np.nextafter(hi, np.float32(np.inf))
                lo[special] = 0.0
                hi[special] = 0.0
            blo = exact_bins(self, lo.astype(np.float64), closed_top=False)
            bhi = exact_bins(self, hi.astype(np.float64), closed_top=False)
            tab = np.where((blo == bhi) & ~special, blo, self.nbins).astype(np.int16)
            self._tables[widen] = tab
        return tab


_grid: _Grid | None = None


def get_grid() -> _Grid:
    global _grid
    if _grid is None:
        _grid = _Grid()
    return _grid


def default_bucket_edges() -> np.ndarray:
    """tensorboardX's default bucket edges (float64, shape (1549,)): ``-e[::-1], 0, e`` with
    ``e = 1e-12 * 1.1**k < 1e20``. A read-only view of a cached array."""
    g = get_grid()
    out = g.edges[g.lo : g.hi]
    out.flags.writeable = False
    return out


def exact_bins(g: _Grid, v: np.ndarray, closed_top: bool) -> np.ndarray:
    """Bin index in the continued grid of each value of ``v`` (float64), by binary search."""
    j = np.searchsorted(g.edges, v, side="right") - 1
    np.clip(j, 0, g.nbins - 1, out=j)
    if closed_top:
        # numpy.histogram closes tensorboardX's top edge: v == ~1e20 is in the bucket below it.
        j[v == g.top_std] -= 1
    return j


def default_counts(g: _Grid, x: np.ndarray, closed_top: bool) -> np.ndarray:
    """Counts over the continued grid's bins of the finite values ``x`` (1-D), by binary
    search (numpy.histogram's rule)."""
    idx = exact_bins(g, x.astype(np.float64, copy=False), closed_top)
    return np.bincount(idx, minlength=g.nbins)


def default_fast(g: _Grid, x: np.ndarray):
    """``(counts, min, max, sum, sum_squares)`` of ``x`` (1-D, contiguous float) over the
    continued grid in one pass of blocks, or ``None`` as soon as a non-finite value is seen.

    A float32's bits >> 13 name a range of 2**13 neighbouring floats; a table gives the bin of
    every range that lies inside one bin, and "ambiguous" (nbins) for the few that straddle an
    edge (~1%), whose values are then placed by an exact binary search. Blocks keep every
    temporary in the CPU cache.
    """
    f32 = x.dtype == np.float32
    # float64 values are rounded to float32 for the lookup: ranges widened by one step.
    table = g.table(widen=not f32 and x.dtype != np.float16)
    kernel = _kernel()
    if kernel is not None and x.dtype in (np.float32, np.float64) and x.flags.c_contiguous:
        return _kernel_fast(kernel, g, x, table)
    n, amb_bin = x.size, g.nbins
    block = min(n, _BLOCK)
    keys = np.empty(block, np.uint32)
    bins = np.empty(block, table.dtype)
    xd = np.empty(block, np.float64) if x.dtype != np.float64 else None
    x32 = None if f32 else np.empty(block, np.float32)
    counts = np.zeros(g.nbins + 1, np.intp)
    ambiguous = []
    vmin, vmax, total, squares = np.inf, -np.inf, 0.0, 0.0
    for i in range(0, n, block):
        m = min(block, n - i)
        xc = x[i : i + m]
        if xd is None:
            d = xc
        else:
            d = xd[:m]
            d[:] = xc
        lo, hi = d.min(), d.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):  # min and max propagate NaN
            return None
        vmin = min(vmin, lo)
        vmax = max(vmax, hi)
        total += d.sum()
        squares += np.einsum("i,i->", d, d)  # not BLAS: no thread pool to wake
        if f32:
            bits = xc.view(np.uint32)
        else:
            with np.errstate(over="ignore"):
                x32[:m] = xc
            bits = x32[:m].view(np.uint32)
        np.right_shift(bits, _KEY_SHIFT, out=keys[:m])
        b = np.take(table, keys[:m], out=bins[:m])
        c = np.bincount(b, minlength=g.nbins + 1)
        if c[-1]:
            ambiguous.append(np.flatnonzero(b == amb_bin) + i)
        counts += c
    if ambiguous:
        sel = np.concatenate(ambiguous)
        exact = exact_bins(g, x[sel].astype(np.float64), closed_top=vmax <= g.top_std)
        counts[: g.nbins] += np.bincount(exact, minlength=g.nbins)
    return counts[: g.nbins], float(vmin), float(vmax), float(total), float(squares)


def _kernel():
    """tbx's C kernel when it is built and has ``histogram`` (see tbx/_speedups.c), else None."""
    from tbx.record import speedups

    k = speedups()
    return k if k is not None and hasattr(k, "histogram") else None


def _kernel_fast(kernel, g: _Grid, x: np.ndarray, table: np.ndarray):
    """:func:`default_fast` in one pass of C: same bins, same statistics (float64 sums)."""
    x = x.astype(x.dtype.newbyteorder("="), copy=False)
    res = kernel.histogram(x, x.dtype == np.float64, table, g.nbins, _KEY_SHIFT)
    if res is None:
        return None
    counts_b, ambiguous_b, vmin, vmax, total, squares = res
    counts = np.frombuffer(counts_b, dtype=np.int64).astype(np.intp)
    ambiguous = np.frombuffer(ambiguous_b, dtype=np.int64)
    if ambiguous.size:
        exact = exact_bins(g, x[ambiguous].astype(np.float64), closed_top=vmax <= g.top_std)
        counts[: g.nbins] += np.bincount(exact, minlength=g.nbins)
    return counts[: g.nbins], float(vmin), float(vmax), float(total), float(squares)
