"""Precision-recall curves: plugin ``pr_curves``.

Written as TensorBoard's pr_curves plugin expects (``tensorboard/plugins/pr_curve/summary.py``):
one ``Summary.Value`` with the tag as given (tensorboardX's layout; TensorBoard's own ``pb()``
appends ``/pr_curves``), metadata plugin ``pr_curves`` with content
``PrCurvePluginData(version=0, num_thresholds)``, and a ``DT_FLOAT`` tensor of shape
``[6, num_thresholds]`` whose rows are true positives, false positives, true negatives, false
negatives, precision and recall at the thresholds ``linspace(0, 1, num_thresholds)``.

The counts are computed as TensorBoard does: a prediction ``p`` falls in bucket
``floor(p * (num_thresholds - 1))``; ``TP[i]``/``FP[i]`` are the (weighted) positives/negatives
in buckets ``>= i``; ``TN = FP[0] - FP``, ``FN = TP[0] - TP``; ``precision = TP / max(1e-7, TP +
FP)``, ``recall = TP / max(1e-7, TP + FN)``. Unlike tensorboardX, any ``num_thresholds >= 2`` is
kept (tensorboardX silently caps it at 127).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tbx.proto.plugin_pr_curve_pb2 import PrCurvePluginData
from tbx.proto.summary_pb2 import Summary, SummaryMetadata

__all__ = [
    "PLUGIN_NAME",
    "PrCurve",
    "compute_curve",
    "pr_curve_summary",
    "pr_curve_raw_summary",
    "decode",
]

PLUGIN_NAME = "pr_curves"
DEFAULT_NUM_THRESHOLDS = 127  # tensorboardX's default (TensorBoard's own is 201)
_MINIMUM_COUNT = 1e-7
_ROWS = (
    "true_positive_counts",
    "false_positive_counts",
    "true_negative_counts",
    "false_negative_counts",
    "precision",
    "recall",
)


class PrCurve(NamedTuple):
    """One PR curve: six float32 arrays of shape (num_thresholds,), and num_thresholds (the
    metadata's value; the arrays' length when the metadata has none)."""

    true_positive_counts: np.ndarray
    false_positive_counts: np.ndarray
    true_negative_counts: np.ndarray
    false_negative_counts: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    num_thresholds: int


#: Largest ``num_thresholds``: a curve is a [6, N] float32 tensor (24 bytes a threshold), and one
#: record must stay far below protobuf's 2 GiB message limit (a million thresholds: 24 MB).
MAX_THRESHOLDS = 1_000_000


def _check_num_thresholds(num_thresholds) -> int:
    if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)):
        raise TypeError(f"num_thresholds must be an int >= 2, got {type(num_thresholds).__name__}")
    if not 2 <= num_thresholds <= MAX_THRESHOLDS:
        raise ValueError(
            f"num_thresholds must be an int in [2, {MAX_THRESHOLDS:,}], got {num_thresholds}"
        )
    return int(num_thresholds)


def _real(arr: np.ndarray, arg: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{arg} must hold real numbers or bools, got dtype {arr.dtype}")
    return arr


def compute_curve(labels, predictions, num_thresholds: int = DEFAULT_NUM_THRESHOLDS, weights=None):
    """The ``[6, num_thresholds]`` float64 array TP, FP, TN, FN, precision, recall.

    Args:
        labels: numpy array, any shape: bool, or numbers where 1 is positive and 0 negative
            (a fractional label counts partly positive, partly negative, as in tensorboardX).
        predictions: numpy array of ``labels``' shape, probabilities in [0, 1]; values outside
            are clipped to [0, 1] (as TensorBoard's pr_curve op does).
        num_thresholds: int >= 2.
        weights: None, a number, or a numpy array broadcastable to ``labels``' shape: each
            example counts this much.

    Raises:
        TypeError: a non-numeric array or a non-int ``num_thresholds``.
        ValueError: shapes differ (or ``weights`` does not broadcast), NaN/Inf in ``labels``,
            ``predictions`` or ``weights``, or ``num_thresholds < 2``.
    """
    n = _check_num_thresholds(num_thresholds)
    labels = _real(np.asarray(labels), "labels")
    predictions = _real(np.asarray(predictions), "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions must have the same shape, got {labels.shape} and "
            f"{predictions.shape}"
        )
    if predictions.dtype not in (np.float32, np.float64):
        predictions = predictions.astype(np.float32)
    if not np.isfinite(predictions).all():
        raise ValueError("predictions must be finite probabilities in [0, 1], got NaN or Inf")
    flabels = labels.astype(np.float64).reshape(-1)
    if not np.isfinite(flabels).all():
        raise ValueError("labels must be finite (bool, 0 or 1), got NaN or Inf")
    if weights is None:
        w = None
    else:
        w = _real(np.asarray(weights), "weights").astype(np.float64)
        try:
            w = np.broadcast_to(w, labels.shape).reshape(-1)
        except ValueError:
            raise ValueError(
                f"weights must be a number or an array broadcastable to labels' shape "
                f"{labels.shape}, got shape {w.shape}"
            ) from None
        if not np.isfinite(w).all():
            raise ValueError("weights must be finite, got NaN or Inf")
    p = np.clip(predictions.reshape(-1), 0, 1)
    # In the predictions' own float type, as TensorBoard and tensorboardX compute it.
    bucket = np.floor(p * p.dtype.type(n - 1)).astype(np.intp)
    pos = flabels if w is None else flabels * w
    neg = (1.0 - flabels) if w is None else (1.0 - flabels) * w
    tp = np.cumsum(np.bincount(bucket, weights=pos, minlength=n)[::-1])[::-1]
    fp = np.cumsum(np.bincount(bucket, weights=neg, minlength=n)[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(_MINIMUM_COUNT, tp + fp)
    recall = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _summary(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    from tbx.summary.tensor import numpy_to_tensor

    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=content)
    )
    tensor = numpy_to_tensor(np.asarray(data, dtype=np.float32))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def pr_curve_summary(
    tag: str, labels, predictions, num_thresholds: int = DEFAULT_NUM_THRESHOLDS, weights=None
) -> Summary:
    """Summary of the PR curve of ``predictions`` against ``labels`` (see
    :func:`compute_curve` for the arguments and errors)."""
    data = compute_curve(labels, predictions, num_thresholds, weights)
    return _summary(tag, data, int(num_thresholds))


def pr_curve_raw_summary(
    tag: str,
    true_positive_counts,
    false_positive_counts,
    true_negative_counts,
    false_negative_counts,
    precision,
    recall,
    num_thresholds: int = DEFAULT_NUM_THRESHOLDS,
    weights=None,
) -> Summary:
    """Summary of a PR curve given by its six rows.

    Args:
        true_positive_counts, false_positive_counts, true_negative_counts,
        false_negative_counts, precision, recall: numpy arrays of shape (T,), stored as
            float32; precision and recall in [0, 1].
        num_thresholds: T. Left at its default (127), the arrays' length is used.
        weights: accepted for tensorboardX compatibility and ignored (the counts are given).

    Raises:
        TypeError: a row is not numeric.
        ValueError: a row is not 1-D, the rows differ in length, fewer than 2 thresholds, or
            ``num_thresholds`` is not the default and differs from the length.
    """
    rows = [
        _real(np.asarray(r), name)
        for r, name in zip(
            (
                true_positive_counts,
                false_positive_counts,
                true_negative_counts,
                false_negative_counts,
                precision,
                recall,
            ),
            _ROWS,
            strict=True,
        )
    ]
    shapes = [r.shape for r in rows]
    if any(len(s) != 1 for s in shapes) or len(set(shapes)) != 1:
        raise ValueError(
            "true_positive_counts, false_positive_counts, true_negative_counts, "
            "false_negative_counts, precision and recall must be 1-D arrays of the same length "
            f"(num_thresholds,), got shapes {shapes}"
        )
    length = shapes[0][0]
    n = _check_num_thresholds(num_thresholds)
    if n != length and n != DEFAULT_NUM_THRESHOLDS:
        raise ValueError(f"num_thresholds is {n} but the arrays hold {length} thresholds")
    if length < 2:
        raise ValueError(f"a PR curve needs at least 2 thresholds, got {length}")
    return _summary(tag, np.stack(rows), length)


def decode(value: Summary.Value) -> PrCurve:
    """The :class:`PrCurve` of a pr_curves Value (exact inverse of the encoders' float32
    tensor).

    Raises:
        ValueError: the Value holds no tensor of shape [6, T].
    """
    if value.WhichOneof("value") != "tensor":
        raise ValueError(f"PR curve {value.tag!r}: Value holds no tensor")
    from tbx.summary.tensor import tensor_to_numpy

    data = np.asarray(tensor_to_numpy(value.tensor), dtype=np.float32)
    if data.ndim != 2 or data.shape[0] != 6:
        raise ValueError(f"PR curve {value.tag!r}: tensor shape {data.shape}, not [6, T]")
    n = data.shape[1]
    content = value.metadata.plugin_data.content
    if value.metadata.plugin_data.plugin_name == PLUGIN_NAME and content:
        n = PrCurvePluginData.FromString(content).num_thresholds or n
    return PrCurve(*(data[i].copy() for i in range(6)), num_thresholds=n)
