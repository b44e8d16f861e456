"""add_histogram / add_histogram_raw: exact buckets (tensorboardX's for the default bins),
self-consistent protos, read back by tbx's decoder and by TensorBoard's EventAccumulator."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from kinds_helpers import accumulator, assert_kept_after_error, values

import tbx
from tbx.summary import _histogram_grid as G
from tbx.summary import histogram as H

# Every test runs with the C kernel's one-pass histogram and with the numpy fallback.
pytestmark = pytest.mark.usefixtures("impl")


def read_hist(logdir, tag):
    """[(step, Histogram)] decoded by tbx."""
    return [(s, H.decode(v)) for s, _, v in values(logdir, tag)]


def tb_hist(logdir, tag):
    """[(step, HistogramValue)] as TensorBoard's EventAccumulator reads them."""
    return [(e.step, e.histogram_value) for e in accumulator(logdir).Histograms(tag)]


def tensorboardx_hist(tmp_path, values_, **kwargs):
    """The HistogramProto tensorboardX writes for ``values_``."""
    import tensorboardX

    d = tmp_path / "tensorboardX"
    with tensorboardX.SummaryWriter(str(d)) as w:
        w.add_histogram("h", values_, 0, **kwargs)
    (v,) = [v for *_, v in values(d, "h")]
    return v.histo


def assert_consistent(h, finite_values):
    """num = sum of counts; min/max/sum of the counted values; every value in its bucket
    (bucket i holds limits[i-1] <= v < limits[i], the last one closed)."""
    x = np.asarray(finite_values, dtype=np.float64).reshape(-1)
    assert h.num == x.size == h.bucket_counts.sum()
    assert h.bucket_counts[0] == 0
    assert (h.min, h.max) == (x.min(), x.max())
    # the sum within float64 rounding of the exact one, relative to the values' magnitude (the
    # values may cancel: any summation order is then off by up to ~n * eps * sum|x|)
    assert abs(h.sum - math.fsum(x)) <= 1e-12 * np.abs(x).sum() + 1e-300
    counts, _ = np.histogram(x, bins=h.bucket_limits)
    np.testing.assert_array_equal(counts, h.bucket_counts[1:])


def test_default_edges_are_tensorboardx_edges(tmp_path):
    import tensorboardX

    w = tensorboardX.SummaryWriter(str(tmp_path), write_to_disk=False)
    edges = H.default_bucket_edges()
    assert edges.shape == (1549,)
    np.testing.assert_array_equal(edges, np.array(w.default_bins))
    assert edges[774] == 0.0 and edges[775] == 1e-12 and edges[-1] < 1e20 < edges[-1] * 1.1


def test_hand_computed_histogram(logdir):
    data = [0, 1, 1, 2, 3, 3, 3, 4]
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h", np.array(data), 5, bins=4, walltime=10.0)
    ((step, h),) = read_hist(logdir, "h")
    assert step == 5
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (0.0, 4.0, 8.0, 17.0, 49.0)
    # numpy's edges 0, 1, 2, 3, 4; an empty bucket marks the left edge 0.
    assert h.bucket_limits.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert h.bucket_counts.tolist() == [0.0, 1.0, 2.0, 1.0, 4.0]
    ((tb_step, hv),) = tb_hist(logdir, "h")
    assert tb_step == 5
    assert (hv.min, hv.max, hv.num, hv.sum, hv.sum_squares) == (0.0, 4.0, 8.0, 17.0, 49.0)
    assert list(hv.bucket_limit) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert list(hv.bucket) == [0.0, 1.0, 2.0, 1.0, 4.0]


def _edge_values():
    e = H.default_bucket_edges()
    inner = e[1:-1]
    return np.r_[e, np.nextafter(inner, np.inf), np.nextafter(inner, -np.inf)]


rng = np.random.default_rng(1234)
CASES = {
    "normal_f32_small": rng.standard_normal(1000).astype(np.float32),
    "normal_f32_large": rng.standard_normal(200_000).astype(np.float32),
    "wide_f64": rng.standard_normal(50_000) * 10.0 ** rng.integers(-14, 19, 50_000),
    "edges_and_neighbours_f64": np.tile(_edge_values(), 3),
    "edges_f32": np.tile(H.default_bucket_edges().astype(np.float32), 4),
    "int64": rng.integers(-1000, 1000, 10_000),
    "zeros": np.zeros(5000, dtype=np.float32),
    "negative_zeros": np.full(5000, -0.0),
    "relu_like": np.maximum(rng.standard_normal(20_000), 0).astype(np.float32),
    "single": np.array([3.5]),
    "all_equal": np.full(10_000, -7.25, dtype=np.float32),
    "float16": rng.standard_normal(10_000).astype(np.float16),
    "top_edge": np.r_[np.full(5000, H.default_bucket_edges()[-1]), 1.0],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_bins_match_tensorboardx(tmp_path, name):
    data = CASES[name]
    logdir = tmp_path / "tbx"
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h", data, 3)
    ((_, h),) = read_hist(logdir, "h")
    t = tensorboardx_hist(tmp_path, data)
    np.testing.assert_array_equal(h.bucket_limits, np.array(t.bucket_limit))
    np.testing.assert_array_equal(h.bucket_counts, np.array(t.bucket))
    assert (h.min, h.max, h.num) == (t.min, t.max, t.num)
    # tbx's sum is compensated (C kernel) or blockwise, tensorboardX's pairwise: equal to
    # rounding, relative to the values' magnitude (the edges cancel: there tensorboardX's sum is
    # off from the exact 0 by up to 2**18, tbx's by ~1e-9)
    magnitude = np.abs(np.asarray(data, dtype=np.float64)).sum()
    assert abs(h.sum - t.sum) <= 1e-12 * magnitude + 1e-9
    assert h.sum_squares == pytest.approx(t.sum_squares, rel=1e-12)
    assert_consistent(h, data)
    ((_, hv),) = tb_hist(logdir, "h")
    assert list(hv.bucket_limit) == h.bucket_limits.tolist()
    assert list(hv.bucket) == h.bucket_counts.tolist()
    assert (hv.min, hv.max, hv.num, hv.sum, hv.sum_squares) == (
        h.min,
        h.max,
        h.num,
        h.sum,
        h.sum_squares,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_equals_binary_search(dtype):
    """The table lookup used for large inputs gives the same bins as a binary search over the
    continued grid (numpy.histogram's rule), values on and beside every edge included."""
    g = G.get_grid()
    with np.errstate(over="ignore"):
        edges = g.edges[1:-1].astype(dtype)
    finite = np.isfinite(edges)
    edges = edges[finite & (edges != 0)]
    data = np.r_[
        edges,
        np.nextafter(edges, dtype(np.inf)),
        np.nextafter(edges, dtype(-np.inf)),
        rng.standard_normal(100_000).astype(dtype) * dtype(1e3),
        np.zeros(10, dtype),
        -np.zeros(10, dtype),
    ]
    data = data[np.isfinite(data)]
    got, vmin, vmax, total, squares = G.default_fast(g, data)
    want, _ = np.histogram(data.astype(np.float64), bins=g.edges)
    np.testing.assert_array_equal(got, want)
    d = data.astype(np.float64)
    assert (vmin, vmax) == (d.min(), d.max())
    # the stats, on well-conditioned data (the edges above cancel catastrophically)
    normal = rng.standard_normal(100_000).astype(dtype) * dtype(3)
    _, vmin, vmax, total, squares = G.default_fast(g, normal)
    d = normal.astype(np.float64)
    assert (vmin, vmax) == (d.min(), d.max())
    assert total == pytest.approx(d.sum(), rel=1e-9)
    assert squares == pytest.approx(np.sum(d * d), rel=1e-12)


def test_fast_path_stops_at_non_finite():
    g = G.get_grid()
    data = rng.standard_normal(100_000)
    data[77_777] = np.nan
    assert G.default_fast(g, data) is None
    data[77_777] = -np.inf
    assert G.default_fast(g, data) is None


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # TensorBoard's
def test_huge_values_are_counted(logdir):
    data = np.array([1e28, -1e28, 3e27, 1.0, 1.7e308, -1.7e308])
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h", data)
    ((_, h),) = read_hist(logdir, "h")
    assert_consistent(h, data)
    assert (h.min, h.max, h.num) == (-1.7e308, 1.7e308, 6.0)
    # beyond 1e20 the exponential grid continues: buckets stay 10% wide
    (i,) = np.flatnonzero((h.bucket_limits[:-1] <= 1e28) & (1e28 < h.bucket_limits[1:]))
    assert h.bucket_limits[i + 1] / h.bucket_limits[i] == pytest.approx(1.1)
    ((_, hv),) = tb_hist(logdir, "h")
    assert hv.num == 6.0 and sum(hv.bucket) == 6.0


def test_tensorboardx_drops_huge_values_but_counts_them(tmp_path):
    """The inconsistency tbx fixes: tensorboardX's num counts values its buckets drop."""
    t = tensorboardx_hist(tmp_path, np.array([1e28, 1.0]))
    assert t.num == 2 and sum(t.bucket) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda torch: torch.tensor([0.5, 1.5, -2.0, 1.5], dtype=torch.bfloat16),
        lambda torch: torch.tensor([0.5, 1.5, -2.0, 1.5], dtype=torch.float16),
        lambda torch: np.array([0.5, 1.5, -2.0, 1.5], dtype=np.float16),
        lambda torch: [0.5, 1.5, -2.0, 1.5],
        lambda torch: torch.tensor([0.5, 1.5, -2.0, 1.5], requires_grad=True) * 1,
    ],
)
def test_input_types_give_same_histogram(logdir, make):
    torch = pytest.importorskip("torch")
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h", make(torch), 1)
        w.add_histogram("ref", np.array([0.5, 1.5, -2.0, 1.5], dtype=np.float64), 1)
    ((_, h),) = read_hist(logdir, "h")
    ((_, ref),) = read_hist(logdir, "ref")
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (-2.0, 1.5, 4.0, 1.5, 8.75)
    np.testing.assert_array_equal(h.bucket_limits, ref.bucket_limits)
    np.testing.assert_array_equal(h.bucket_counts, ref.bucket_counts)


def test_bool_and_int_input(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("b", np.array([True, False, True]), bins=2)
        w.add_histogram("i", np.array([[1, 2], [3, 4]], dtype=np.int8), bins=3)
    ((_, b),) = read_hist(logdir, "b")
    assert (b.min, b.max, b.num, b.sum, b.sum_squares) == (0.0, 1.0, 3.0, 2.0, 2.0)
    assert b.bucket_limits.tolist() == [0.0, 0.5, 1.0] and b.bucket_counts.tolist() == [0, 1, 2]
    ((_, i),) = read_hist(logdir, "i")
    assert (i.num, i.sum, i.sum_squares) == (4.0, 10.0, 30.0)
    assert i.bucket_counts.tolist() == [0, 1, 1, 2]


def test_non_finite_left_out_with_one_warning(logdir):
    data = np.array([1.0, np.nan, np.inf, 2.0, -np.inf, 2.0], dtype=np.float32)
    with tbx.SummaryWriter(logdir) as w:
        with pytest.warns(RuntimeWarning) as record:
            w.add_histogram("weights/fc1", data, 2)
    assert len(record) == 1
    msg = str(record[0].message)
    assert "'weights/fc1'" in msg and "3 non-finite" in msg
    assert record[0].filename == __file__  # points at the caller's line
    ((_, h),) = read_hist(logdir, "weights/fc1")
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (1.0, 2.0, 3.0, 5.0, 9.0)
    assert h.bucket_counts.sum() == 3
    ((_, hv),) = tb_hist(logdir, "weights/fc1")
    assert hv.num == 3.0 and sum(hv.bucket) == 3.0


def test_all_non_finite_writes_nothing(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.warns(RuntimeWarning, match="2 non-finite.*nothing to write"):
            w.add_histogram("h", [np.nan, np.inf])
        assert_kept_after_error(w, logdir)
    assert read_hist(logdir, "h") == []


def test_no_warning_for_finite_values(logdir):
    with tbx.SummaryWriter(logdir) as w, warnings.catch_warnings():
        warnings.simplefilter("error")
        w.add_histogram("h", np.arange(10.0))


def test_values_outside_explicit_edges_left_out(logdir):
    with tbx.SummaryWriter(logdir) as w:
        with pytest.warns(RuntimeWarning, match="2 value.*outside the bins"):
            w.add_histogram("h", [-5.0, 0.5, 1.5, 9.0], bins=[0.0, 1.0, 2.0])
    ((_, h),) = read_hist(logdir, "h")
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (0.5, 1.5, 2.0, 2.0, 2.5)
    assert h.bucket_limits.tolist() == [0.0, 1.0, 2.0] and h.bucket_counts.tolist() == [0, 1, 1]


@pytest.mark.parametrize("bins", [10, "auto", "fd", "doane", "sqrt", [0, 0.25, 0.5, 1.0]])
def test_numpy_bins_match_numpy_and_tensorboardx(tmp_path, bins):
    data = rng.random(5000)
    logdir = tmp_path / "tbx"
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h", data, bins=bins)
    ((_, h),) = read_hist(logdir, "h")
    counts, edges = np.histogram(data, bins=bins)
    nz = np.flatnonzero(counts)
    assert h.bucket_limits.tolist() == edges[nz[0] : nz[-1] + 2].tolist()
    assert h.bucket_counts.tolist() == [0] + counts[nz[0] : nz[-1] + 1].tolist()
    t = tensorboardx_hist(tmp_path, data, bins=bins)
    assert h.bucket_limits.tolist() == list(t.bucket_limit)
    assert h.bucket_counts.tolist() == list(t.bucket)


def test_max_bins_divisible_matches_tensorboardx(tmp_path):
    data = np.arange(100.0)
    logdir = tmp_path / "tbx"
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h", data, bins=100, max_bins=10)
    ((_, h),) = read_hist(logdir, "h")
    assert h.bucket_counts.tolist() == [0] + [10] * 10
    assert h.bucket_limits.tolist() == pytest.approx([0.0] + [9.9 * k for k in range(1, 11)])
    t = tensorboardx_hist(tmp_path, data, bins=100, max_bins=10)
    assert h.bucket_limits.tolist() == list(t.bucket_limit)
    assert h.bucket_counts.tolist() == list(t.bucket)


def test_max_bins_is_an_upper_bound(logdir):
    data = rng.standard_normal(10_000)
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram("h7", data, bins=100, max_bins=7)
        w.add_histogram("tf30", data, max_bins=30)
        w.add_histogram("tf", data)
    for tag, limit in [("h7", 7), ("tf30", 30)]:
        ((_, h),) = read_hist(logdir, tag)
        assert len(h.bucket_counts) - 1 <= limit
        assert_consistent(h, data)
    ((_, full),) = read_hist(logdir, "tf")
    ((_, merged),) = read_hist(logdir, "tf30")
    assert len(full.bucket_counts) - 1 > 30
    assert set(merged.bucket_limits) <= set(full.bucket_limits)


def test_histogram_raw_round_trip(logdir):
    limits = [0.0, 1.0, 2.5, 10.0]
    counts = [0, 3, 4, 1]
    with tbx.SummaryWriter(logdir) as w:
        w.add_histogram_raw(
            "raw", 0.25, 9.5, 8, 20.5, 120.25, np.array(limits), counts, 7, walltime=3.0
        )
    ((step, wall, v),) = values(logdir, "raw")
    assert (step, wall) == (7, 3.0)
    h = H.decode(v)
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (0.25, 9.5, 8.0, 20.5, 120.25)
    assert h.bucket_limits.tolist() == limits and h.bucket_counts.tolist() == counts
    ((_, hv),) = tb_hist(logdir, "raw")
    assert (hv.min, hv.max, hv.num, hv.sum, hv.sum_squares) == (0.25, 9.5, 8.0, 20.5, 120.25)
    assert list(hv.bucket_limit) == limits and list(hv.bucket) == counts


def test_histogram_raw_length_mismatch(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(ValueError, match="same length, got 3 and 2"):
            w.add_histogram_raw("raw", 0, 1, 2, 1, 1, [0.0, 0.5, 1.0], [1, 1])
        assert_kept_after_error(w, logdir)
    assert values(logdir, "raw") == []


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(values=np.array([])), ValueError, "empty"),
        (dict(values=[]), ValueError, "empty"),
        (dict(values="abc"), TypeError, "values must be a number"),
        (dict(values=np.array([1 + 2j])), TypeError, "real numbers"),
        (dict(values=[1.0], bins=0), ValueError, "bins must be a positive int"),
        (dict(values=[1.0], bins=[2.0, 1.0]), ValueError, "strictly increasing"),
        (dict(values=[1.0], bins="nonsense"), ValueError, "numpy.histogram"),
        (dict(values=[1.0], max_bins=0), ValueError, "max_bins must be"),
        (dict(values=[1.0], global_step=1.5), ValueError, "global_step"),
        (dict(tag="", values=[1.0]), ValueError, "tag"),
    ],
)
def test_bad_input(logdir, kwargs, exc, match):
    kwargs = {"tag": "h", **kwargs}
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(exc, match=match):
            w.add_histogram(**kwargs)
        assert_kept_after_error(w, logdir)
    assert values(logdir, "h") == []


def test_decode_tensor_form():
    """TensorBoard's v2 histograms (a [K, 3] tensor) decode too."""
    from tbx.proto.summary_pb2 import Summary
    from tbx.summary.tensor import numpy_to_tensor

    arr = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 5.0]])
    h = H.decode(Summary.Value(tag="t", tensor=numpy_to_tensor(arr)))
    assert (h.min, h.max, h.num) == (0.0, 3.0, 7.0)
    assert math.isnan(h.sum) and math.isnan(h.sum_squares)
    assert h.bucket_limits.tolist() == [1.0, 3.0] and h.bucket_counts.tolist() == [2.0, 5.0]


@pytest.mark.parametrize("bins", ["tensorflow", 10, "auto", "fd", "doane", "sqrt", "stone"])
@pytest.mark.parametrize(
    "data",
    [np.full(10, 3.0), np.array([2.5]), np.full(5000, -1e28), np.array([1e28, 1e28 * (1 + 1e-15)])],
    ids=["equal", "single", "equal_-1e28", "narrow_1e28"],
)
def test_equal_and_huge_values_with_any_bins(logdir, bins, data):
    with tbx.SummaryWriter(logdir) as w, warnings.catch_warnings():
        warnings.simplefilter("error")
        w.add_histogram("h", data, bins=bins)
    ((_, h),) = read_hist(logdir, "h")
    assert_consistent(h, data)
    assert np.all(np.diff(h.bucket_limits) > 0)


def test_numpy_rule_overflow_is_a_clear_error(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(ValueError, match="use bins='tensorflow'"):
            w.add_histogram("h", [1.7e308, -1.7e308], bins="doane")
        w.add_histogram("h", [1.7e308, -1.7e308])  # the default bins handle it
        assert_kept_after_error(w, logdir)
    ((_, h),) = read_hist(logdir, "h")
    assert (h.min, h.max, h.num) == (-1.7e308, 1.7e308, 2.0)
