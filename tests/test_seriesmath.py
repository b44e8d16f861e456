"""tbx.seriesmath: M4 downsampling (extremes and gaps kept; the same indices as before the
sorted dedupe), the debiased EMA against TensorBoard's loop, and that the module needs no web
framework."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tsdownsample")
pytest.importorskip("scipy")

from tbx import seriesmath as M  # noqa: E402


def test_downsample_keeps_extremes_and_gaps():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_000)
    y[12345] = 100
    y[54321] = -100
    y[80000:80010] = np.nan
    x = np.arange(y.size)
    idx = M.downsample_indices(x, y, 1000)
    assert len(idx) <= 4000 + 1000
    assert 12345 in idx and 54321 in idx and 0 in idx and y.size - 1 in idx
    assert np.isnan(y[idx]).any()
    # unsorted x falls back to index columns
    idx2 = M.downsample_indices(x[::-1].copy(), y, 1000)
    assert 12345 in idx2
    with pytest.raises(ValueError):
        M.downsample_indices(x, y, 0)


def _np_unique_downsample(x, y, width):
    """downsample_indices as it was with np.unique (the reference for the sorted dedupe)."""
    from tsdownsample import M4Downsampler

    n = len(y)
    if n <= 4 * width:
        return np.arange(n, dtype=np.int64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    xf = np.ascontiguousarray(x, dtype=np.float64)
    ordered = bool(np.all(xf[1:] >= xf[:-1]))
    finite = np.isfinite(y)
    if finite.all():
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


@pytest.mark.parametrize("seed", range(12))
def test_sorted_dedupe_gives_np_uniques_indices(seed):
    rng = np.random.default_rng(seed)
    for _ in range(15):
        n = int(rng.integers(1, 30_000))
        width = int(rng.integers(1, 600))
        kind = rng.integers(4)
        y = rng.normal(size=n).cumsum() if kind else rng.integers(-3, 3, size=n).astype(float)
        if rng.random() < 0.5:  # gaps: NaN and inf runs
            for _ in range(int(rng.integers(1, 20))):
                a = int(rng.integers(0, n))
                y[a:a + int(rng.integers(1, 50))] = rng.choice([np.nan, np.inf, -np.inf])
        order = rng.integers(3)
        if order == 0:
            x = np.arange(n, dtype=np.float64)
        elif order == 1:  # repeated steps (a restart without purge), still non-decreasing
            x = np.sort(rng.integers(0, max(n // 3, 1), size=n)).astype(np.float64)
        else:  # steps going back: index columns
            x = rng.permutation(n).astype(np.float64)
        got = M.downsample_indices(x, y, width)
        want = _np_unique_downsample(x, y, width)
        assert got.dtype == np.int64 and np.array_equal(got, want), (n, width, kind, order)


def test_sorted_unique_unsorted_input():
    a = np.array([5, 1, 5, 3, 3, 9, 0], dtype=np.int64)
    assert np.array_equal(M._sorted_unique(a), np.unique(a))
    assert M._sorted_unique(np.array([], np.int64)).tolist() == []
    assert M._sorted_unique(np.array([7])).tolist() == [7]


@pytest.mark.parametrize("w", [0.01, 0.6, 0.99, 0.999])
def test_ema_matches_tensorboard_loop(w):
    v = np.concatenate([[1.0, np.nan, 3.0, np.inf, 5.0, 6.0],
                        np.random.default_rng(0).normal(size=300)])
    out, (acc, n) = M.ema(v, w)
    last, k, ref = 0.0, 0, []
    for x in v:
        if not np.isfinite(x):
            ref.append(x)
            continue
        last = last * w + (1 - w) * x
        k += 1
        ref.append(last / (1 - w**k))
    assert np.allclose(out, ref, equal_nan=True, rtol=1e-9, atol=1e-12) and n == k
    assert acc == pytest.approx(last, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError):
        M.ema(v, 1.0)


def test_select_range_and_neighbours():
    x = np.arange(10, dtype=np.float64)
    assert M.select(x, 3, 5) == slice(2, 7)
    assert M.select(x, None, None) == slice(0, 10)
    m = M.select(np.array([5.0, 1.0, 9.0, 2.0]), 0.5, 1.5)
    assert m.tolist() == [True, True, True, False]


def test_imports_no_web_framework():
    code = ("import sys, numpy as np\n"
            "from tbx import seriesmath as M\n"
            "M.downsample_indices(np.arange(10_000.0), np.arange(10_000.0), 10)\n"
            "M.ema(np.arange(5.0), 0.5)\n"
            "from tbx.watch import snapshot\n"
            "bad = [m for m in ('starlette', 'uvicorn', 'tbx.viewer') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
