"""add_pr_curve / add_pr_curve_raw: TensorBoard's pr_curves math and layout, any number of
thresholds, weights; read back by tbx's decoder and by TensorBoard."""

from __future__ import annotations

import numpy as np
import pytest
from kinds_helpers import accumulator, assert_kept_after_error, values

import tbx
from tbx.summary import pr_curve as P


def read_curves(logdir, tag):
    return [(s, P.decode(v)) for s, _, v in values(logdir, tag)]


def tb_curves(logdir, tag):
    """[(step, ndarray)] and the parsed plugin metadata, as TensorBoard reads them."""
    from tensorboard.plugins.pr_curve import metadata
    from tensorboard.util import tensor_util

    acc = accumulator(logdir)
    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)[tag]
    meta = metadata.parse_plugin_metadata(content)
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)], meta


def reference_curve(labels, predictions, n, weights=None):
    """Straightforward per-threshold loop of TensorBoard's definition."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    p = np.clip(np.asarray(predictions).reshape(-1), 0, 1)
    bucket = np.floor(p * p.dtype.type(n - 1)).astype(int)
    w = np.ones_like(labels) if weights is None else np.broadcast_to(weights, labels.shape)
    out = np.zeros((6, n))
    for i in range(n):
        sel = bucket >= i
        out[0, i] = np.sum((labels * w)[sel])
        out[1, i] = np.sum(((1 - labels) * w)[sel])
    out[2] = out[1, 0] - out[1]
    out[3] = out[0, 0] - out[0]
    out[4] = out[0] / np.maximum(1e-7, out[0] + out[1])
    out[5] = out[0] / np.maximum(1e-7, out[0] + out[3])
    return out.astype(np.float32)


def test_hand_computed_curve(logdir):
    labels = np.array([1, 0, 1, 1])
    predictions = np.array([0.9, 0.2, 0.6, 0.1], dtype=np.float32)
    with tbx.SummaryWriter(logdir) as w:
        w.add_pr_curve("pr", labels, predictions, 4, num_thresholds=5, walltime=2.0)
    ((step, c),) = read_curves(logdir, "pr")
    assert step == 4 and c.num_thresholds == 5
    assert c.true_positive_counts.tolist() == [3, 2, 2, 1, 0]
    assert c.false_positive_counts.tolist() == [1, 0, 0, 0, 0]
    assert c.true_negative_counts.tolist() == [0, 1, 1, 1, 1]
    assert c.false_negative_counts.tolist() == [0, 1, 1, 2, 3]
    assert c.precision.tolist() == [0.75, 1, 1, 1, 0]
    np.testing.assert_array_equal(c.recall, np.float32([1, 2 / 3, 2 / 3, 1 / 3, 0]))
    ((tb_step, arr),), meta = tb_curves(logdir, "pr")
    assert tb_step == 4 and arr.dtype == np.float32 and arr.shape == (6, 5)
    assert (meta.version, meta.num_thresholds) == (0, 5)
    np.testing.assert_array_equal(arr, np.stack(c[:6]))


@pytest.mark.parametrize("num_thresholds", [127, 50, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_tensorboardx(tmp_path, num_thresholds, weighted):
    import tensorboardX

    rng = np.random.default_rng(num_thresholds)
    labels = rng.integers(0, 2, 1000)
    predictions = rng.random(1000).astype(np.float32)
    weights = rng.random(1000) if weighted else None
    with tbx.SummaryWriter(tmp_path / "tbx") as w:
        w.add_pr_curve("pr", labels, predictions, 1, num_thresholds, weights)
    with tensorboardX.SummaryWriter(str(tmp_path / "tx")) as w:
        w.add_pr_curve("pr", labels, predictions, 1, num_thresholds, weights)
    ((_, ours),) = read_curves(tmp_path / "tbx", "pr")
    ((_, theirs),) = read_curves(tmp_path / "tx", "pr")
    for a, b in zip(ours[:6], theirs[:6], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    want = reference_curve(labels, predictions, num_thresholds, weights)
    np.testing.assert_allclose(np.stack(ours[:6]), want, rtol=1e-6)
    if not weighted:  # integer counts: exact
        np.testing.assert_array_equal(np.stack(ours[:6]), want)


def test_more_than_127_thresholds(tmp_path):
    import tensorboardX

    rng = np.random.default_rng(7)
    labels = rng.random(3000) < 0.3
    predictions = rng.random(3000)
    with tbx.SummaryWriter(tmp_path / "tbx") as w:
        w.add_pr_curve("pr", labels, predictions, num_thresholds=500)
    ((_, c),) = read_curves(tmp_path / "tbx", "pr")
    assert c.num_thresholds == 500
    np.testing.assert_array_equal(np.stack(c[:6]), reference_curve(labels, predictions, 500))
    ((_, arr),), meta = tb_curves(tmp_path / "tbx", "pr")
    assert arr.shape == (6, 500) and meta.num_thresholds == 500
    # tensorboardX silently caps at 127
    with tensorboardX.SummaryWriter(str(tmp_path / "tx")) as w:
        w.add_pr_curve("pr", labels, predictions, num_thresholds=500)
    ((_, theirs),) = read_curves(tmp_path / "tx", "pr")
    assert theirs.num_thresholds == 127 and theirs.precision.shape == (127,)


def test_weights(logdir):
    labels = np.array([1, 0, 1, 0, 1])
    predictions = np.array([0.8, 0.7, 0.3, 0.1, 0.95])
    with tbx.SummaryWriter(logdir) as w:
        w.add_pr_curve("double", labels, predictions, num_thresholds=11, weights=2.0)
        w.add_pr_curve("plain", labels, predictions, num_thresholds=11)
        w.add_pr_curve("mask", labels, predictions, num_thresholds=11, weights=[1, 1, 0, 1, 1])
        w.add_pr_curve("dropped", labels[[0, 1, 3, 4]], predictions[[0, 1, 3, 4]], 0, 11)
    (_, double), (_, plain) = read_curves(logdir, "double")[0], read_curves(logdir, "plain")[0]
    for i in range(4):
        np.testing.assert_array_equal(double[i], 2 * plain[i])
    np.testing.assert_array_equal(double.precision, plain.precision)
    np.testing.assert_array_equal(double.recall, plain.recall)
    (_, mask), (_, dropped) = read_curves(logdir, "mask")[0], read_curves(logdir, "dropped")[0]
    np.testing.assert_array_equal(np.stack(mask[:6]), np.stack(dropped[:6]))


def test_predictions_clipped_to_unit_interval(logdir):
    labels = np.array([1, 0, 1])
    with tbx.SummaryWriter(logdir) as w:
        w.add_pr_curve("out", labels, np.array([1.5, -0.5, 0.5]), num_thresholds=3)
        w.add_pr_curve("in", labels, np.array([1.0, 0.0, 0.5]), num_thresholds=3)
    (_, out), (_, inside) = read_curves(logdir, "out")[0], read_curves(logdir, "in")[0]
    np.testing.assert_array_equal(np.stack(out[:6]), np.stack(inside[:6]))
    assert out.true_positive_counts.tolist() == [2, 2, 1]


def test_torch_inputs(logdir):
    torch = pytest.importorskip("torch")
    labels = torch.tensor([True, False, True, True])
    predictions = torch.tensor([0.9, 0.2, 0.6, 0.1], dtype=torch.bfloat16)
    with tbx.SummaryWriter(logdir) as w:
        w.add_pr_curve("pr", labels, predictions, num_thresholds=5)
    ((_, c),) = read_curves(logdir, "pr")
    want = reference_curve(
        labels.numpy(), predictions.float().numpy(), 5
    )  # bfloat16 -> float32 exactly
    np.testing.assert_array_equal(np.stack(c[:6]), want)


def test_raw_round_trip(logdir):
    rows = np.array(
        [
            [10, 8, 5, 0],
            [6, 3, 1, 0],
            [0, 3, 5, 6],
            [0, 2, 5, 10],
            [0.625, 8 / 11, 5 / 6, 0],
            [1, 0.8, 0.5, 0],
        ]
    )
    with tbx.SummaryWriter(logdir) as w:
        w.add_pr_curve_raw("raw", *rows, global_step=3)
        w.add_pr_curve_raw("raw4", *rows, global_step=3, num_thresholds=4)
    for tag in ("raw", "raw4"):
        ((step, c),) = read_curves(logdir, tag)
        assert step == 3 and c.num_thresholds == 4  # default 127 -> the arrays' length
        np.testing.assert_array_equal(np.stack(c[:6]), rows.astype(np.float32))
        ((_, arr),), meta = tb_curves(logdir, tag)
        np.testing.assert_array_equal(arr, rows.astype(np.float32))
        assert meta.num_thresholds == 4


def test_raw_bad_input(logdir):
    rows = [np.zeros(4)] * 5 + [np.zeros(3)]
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(ValueError, match=r"same length \(num_thresholds,\)"):
            w.add_pr_curve_raw("raw", *rows)
        with pytest.raises(ValueError, match="num_thresholds is 10 but the arrays hold 4"):
            w.add_pr_curve_raw("raw", *([np.zeros(4)] * 6), num_thresholds=10)
        with pytest.raises(ValueError, match="1-D"):
            w.add_pr_curve_raw("raw", *([np.zeros((2, 4))] * 6))
        assert_kept_after_error(w, logdir)
    assert values(logdir, "raw") == []


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(labels=[1, 0], predictions=[0.5]), ValueError, r"same shape, got \(2,\) and \(1,\)"),
        (dict(predictions=[0.5, np.nan]), ValueError, "predictions must be finite"),
        (dict(labels=[1, np.inf]), ValueError, "labels must be finite"),
        (dict(num_thresholds=1), ValueError, r"num_thresholds must be an int in \[2, "),
        (dict(num_thresholds=10**8), ValueError,
         r"num_thresholds must be an int in \[2, 1,000,000\]"),
        (dict(num_thresholds=2.5), TypeError, "num_thresholds must be an int"),
        (dict(weights=[1.0, 2.0, 3.0]), ValueError, "weights must be a number or an array"),
        (dict(labels="ab"), TypeError, "labels must be a number"),
        (dict(predictions=np.array(["a", "b"])), TypeError, "predictions must hold real"),
        (dict(tag=3), TypeError, "tag must be a str"),
    ],
)
def test_bad_input(logdir, kwargs, exc, match):
    kwargs = {"tag": "pr", "labels": [1, 0], "predictions": [0.5, 0.25], **kwargs}
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(exc, match=match):
            w.add_pr_curve(**kwargs)
        assert_kept_after_error(w, logdir)
    assert values(logdir, "pr") == []
