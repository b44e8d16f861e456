"""PR-curve series as JSON-ready points. Pure functions, no I/O.

Input: the reader's ``TensorSeries`` of plugin ``pr_curves``: one ``[6, T]`` array per point,
rows TP, FP, TN, FN, precision, recall at ``T`` thresholds evenly spaced in ``[0, 1]``
(:mod:`tbx.summary.pr_curve`).
"""

from __future__ import annotations

import numpy as np

from tbx.viewer.views import finite_or_none, sample_indices

__all__ = ["pr_curve_points"]


def pr_curve_points(series, samples: int) -> list[dict]:
    """Per sampled step, ``{"step", "wall_time", "thresholds", "tp", "fp", "tn", "fn",
    "precision", "recall"}`` (lists of floats, non-finite as ``None``).

    Raises:
        ValueError: a point is not a ``[6, T]`` array.
    """
    out = []
    for i in sample_indices(len(series), samples):
        if series.values[i] is None:
            continue
        a = np.asarray(series.values[i], dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != 6:
            raise ValueError(f"PR curve tensor of shape {list(a.shape)}, expected [6, T]")
        t = a.shape[1]
        row = {"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
               "thresholds": [j / max(t - 1, 1) for j in range(t)]}
        for name, r in zip(("tp", "fp", "tn", "fn", "precision", "recall"), a, strict=True):
            row[name] = [finite_or_none(v) for v in r]
        out.append(row)
    return out
