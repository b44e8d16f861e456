"""The histograms and distributions plugins' numbers (issue 17, item 3): percentiles never leave
the recorded [min, max], a constant histogram is the constant, and on event files written by
tbx and by tensorboardX the nine percentiles equal TensorBoard's own (its ``data_compat``
conversion of v1 ``histo`` and its distribution ``compressor``)."""

from __future__ import annotations

import numpy as np
import pytest

import tbx
from tbx.reader.provider import LogdirProvider
from tbx.viewer.plugins.distributions.data import DISTRIBUTION_BPS, percentiles
from tbx.viewer.plugins.histograms.data import clamp_edges, histogram_points

INPUTS = {
    "const": np.full(1000, 0.5),
    "one": np.array([3.0]),
    "offset": 1e6 + np.random.default_rng(1).normal(0, 1, 5000),
    "normal": np.random.default_rng(2).normal(0, 1, 10000),
    "negative_const": np.full(10, -7.25),
    "two_values": np.array([1.0] * 30 + [2.0] * 70),
}


def _tensor_series(logdir):
    p = LogdirProvider(str(logdir))
    p.refresh()
    (run,) = p.runs()
    return {tag: p.tensors(run, tag) for tag in p.tags(run)}


def _tensorboard_percentiles(logdir, tag):
    """TensorBoard's values: its event reader, data_compat and compressor."""
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.data_compat import migrate_value
    from tensorboard.plugins.distribution import compressor
    from tensorboard.util import tensor_util

    out = []
    for path in sorted(logdir.rglob("events.out.tfevents.*")):
        for ev in event_file_loader.EventFileLoader(str(path)).Load():
            for v in ev.summary.value:
                if v.tag != tag:
                    continue
                v2 = migrate_value(summary_pb2.Summary.Value.FromString(v.SerializeToString()))
                buckets = tensor_util.make_ndarray(v2.tensor)
                out.append([v for _, v in compressor.compress_histogram(buckets)])
    return out


@pytest.mark.parametrize("writer", ["tbx", "tensorboardX"])
def test_percentiles_equal_tensorboards(tmp_path, writer):
    if writer == "tbx":
        w = tbx.SummaryWriter(str(tmp_path))
    else:
        tbx_x = pytest.importorskip("tensorboardX")
        w = tbx_x.SummaryWriter(str(tmp_path))
    for tag, values in INPUTS.items():
        w.add_histogram(tag, values, 0)
    w.close()
    series = _tensor_series(tmp_path)
    for tag, values in INPUTS.items():
        (tb,) = _tensorboard_percentiles(tmp_path, tag)
        ours = percentiles(series[tag].values[0])
        assert ours == pytest.approx(tb, rel=1e-6, abs=1e-9), (tag, ours, tb)
        lo, hi = float(values.min()), float(values.max())
        assert all(lo <= v <= hi for v in ours), (tag, ours)
        assert ours[0] == lo and ours[-1] == hi
    # every value 0.5, one bucket [0.4707, 0.5178): all nine are 0.5 (TensorBoard 2.21 agrees)
    assert percentiles(series["const"].values[0]) == [0.5] * 9
    assert percentiles(series["one"].values[0]) == [3.0] * 9
    assert percentiles(series["negative_const"].values[0]) == [-7.25] * 9


def test_constant_histogram_draws_as_the_constant(tmp_path):
    w = tbx.SummaryWriter(str(tmp_path))
    for tag, values in INPUTS.items():
        w.add_histogram(tag, values, 0)
    w.close()
    series = _tensor_series(tmp_path)
    (p,) = histogram_points(series["const"], 10)
    drawn = [(lo, hi) for lo, hi, c in zip(p["left"], p["right"], p["count"], strict=True) if c]
    assert drawn == [(0.5, 0.5)]
    assert sum(p["count"]) == 1000
    for tag, values in INPUTS.items():
        (p,) = histogram_points(series[tag], 10)
        edges = [e for e in p["left"] + p["right"] if e is not None]
        assert min(edges) == values.min() and max(edges) == values.max(), tag


@pytest.mark.parametrize(("h", "want"), [
    # a one-bucket tensor: interpolation inside it
    ([[0.0, 4.0, 10.0]], [0.0, 0.2672, 0.6348, 1.234, 2.0, 2.766, 3.3652, 3.7328, 4.0]),
    # a zero-width bucket: the constant
    ([[2.5, 2.5, 7.0]], [2.5] * 9),
    # a bucket edge below the first left edge (v1 layout): clamped before interpolating
    ([[0.5, 0.4707, 0.0], [0.4707, 0.5, 1000.0]], [0.5] * 9),
    # empty
    ([[0.0, 1.0, 0.0]], [None] * 9),
    (np.zeros((0, 3)), [None] * 9),
])
def test_percentiles_of_tensors(h, want):
    got = percentiles(h)
    assert got == pytest.approx(want) if want[0] is not None else got == want


def test_clamp_edges_and_bad_shapes():
    h = np.array([[0.5, 0.4707, 0.0], [0.4707, 0.5, 9.0]])
    assert clamp_edges(h).tolist() == [[0.5, 0.5, 0.0], [0.5, 0.5, 9.0]]
    assert h[0, 1] == 0.4707  # not modified in place
    nan = np.array([[np.nan, 1.0, 1.0]])
    assert clamp_edges(nan) is nan
    with pytest.raises(ValueError, match=r"expected \[k, 3\]"):
        percentiles(np.zeros((2, 2)))
    assert len(DISTRIBUTION_BPS) == 9
