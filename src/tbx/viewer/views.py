"""Per-plugin views of the reader's series, as JSON-ready dicts. Pure functions, no I/O.

Inputs are the reader's series (:mod:`tbx.reader.provider`): ``TensorSeries`` values are numpy
arrays, ``BlobSeries`` values are ``list[bytes]``.
"""

from __future__ import annotations

import base64
import math

import numpy as np

__all__ = [
    "sample_indices",
    "histogram_points",
    "distribution_points",
    "pr_curve_points",
    "text_value",
    "image_points",
    "audio_points",
    "blob_item",
    "sniff_media_type",
    "b64_f64",
    "finite_or_none",
    "DISTRIBUTION_BPS",
]

#: Percentiles (basis points) of the distributions dashboard's bands, as TensorBoard's.
DISTRIBUTION_BPS = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)


def json_safe(obj):
    """``obj`` (dicts, lists, tuples, floats, ...) with every NaN/±Inf float replaced by None:
    JSON has no such numbers, and event files from any writer may hold them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def finite_or_none(x) -> float | None:
    """A float for JSON: ``None`` for NaN and +-inf."""
    x = float(x)
    return x if math.isfinite(x) else None


def b64_f64(a: np.ndarray) -> str:
    """Base64 of the array as little-endian float64 (decoded by the page into a Float64Array)."""
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode("ascii")


def sample_indices(n: int, k: int) -> np.ndarray:
    """At most ``k`` indices of ``n`` points, evenly spread, always the first and last."""
    if n <= k:
        return np.arange(n)
    if k <= 1:
        return np.array([n - 1])
    return np.unique(np.round(np.linspace(0, n - 1, k)).astype(np.int64))


def _hist(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"histogram tensor of shape {list(a.shape)}, expected [k, 3]")
    return a


def histogram_points(series, samples: int) -> list[dict]:
    """Histograms: per sampled step, ``{"step", "wall_time", "left", "right", "count"}`` (the
    bucket edges and counts as lists of floats; non-finite edges as ``None``)."""
    out = []
    for i in sample_indices(len(series), samples):
        if series.values[i] is None:  # a point the reader could not decode
            continue
        h = _hist(series.values[i])
        out.append({
            "step": int(series.step[i]),
            "wall_time": float(series.wall_time[i]),
            "left": [finite_or_none(v) for v in h[:, 0]],
            "right": [finite_or_none(v) for v in h[:, 1]],
            "count": [finite_or_none(v) for v in h[:, 2]],
        })
    return out


def percentiles(h: np.ndarray, bps=DISTRIBUTION_BPS) -> list[float | None]:
    """Values at the given basis points (1/100 of a percent) of a ``[k, 3]`` histogram, by
    linear interpolation inside the bucket that holds each rank."""
    h = _hist(h)
    counts = np.clip(np.nan_to_num(h[:, 2]), 0, None)
    total = counts.sum()
    if not h.shape[0] or total <= 0:
        return [None] * len(bps)
    cum = np.cumsum(counts)
    nz = np.flatnonzero(counts)
    out = []
    for bp in bps:
        target = total * bp / 10000.0
        if bp <= 0:
            v = h[nz[0], 0]
        elif bp >= 10000:
            v = h[nz[-1], 1]
        else:
            i = min(int(np.searchsorted(cum, target, side="left")), len(cum) - 1)
            prev = cum[i - 1] if i else 0.0
            frac = (target - prev) / counts[i] if counts[i] else 0.0
            v = h[i, 0] + frac * (h[i, 1] - h[i, 0])
        out.append(finite_or_none(v))
    return out


def distribution_points(series, samples: int) -> list[dict]:
    """Distributions: per sampled step, ``{"step", "wall_time", "bps": [values at
    DISTRIBUTION_BPS]}``."""
    return [
        {"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
         "bps": percentiles(series.values[i])}
        for i in sample_indices(len(series), samples) if series.values[i] is not None
    ]


def pr_curve_points(series, samples: int) -> list[dict]:
    """PR curves (tensor ``[6, T]``: TP, FP, TN, FN, precision, recall): per sampled step,
    ``{"step", "wall_time", "precision", "recall", "thresholds", "tp", "fp", "tn", "fn"}``."""
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


def _s(b) -> str:
    return b.decode("utf-8", errors="replace") if isinstance(b, (bytes, bytearray)) else str(b)


def text_value(a):
    """A text tensor (object array of bytes) as ``str`` (one element) or nested lists of
    ``str``."""
    a = np.asarray(a, dtype=object)
    if a.size == 1:
        return _s(a.reshape(-1)[0])
    return np.vectorize(_s, otypes=[object])(a).tolist()


def image_points(series) -> list[dict]:
    """Images (blob ``[width, height, encoded, ...]``): per step ``{"step", "wall_time",
    "index", "width", "height", "count"}``; ``index`` addresses :func:`blob_item`."""
    out = []
    for i in range(len(series)):
        v = series.values[i]
        if v is None:
            continue
        try:
            w, h = int(v[0]), int(v[1])
        except (ValueError, IndexError, TypeError):
            w = h = 0
        out.append({"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
                    "index": i, "width": w, "height": h, "count": max(len(v) - 2, 0)})
    return out


def audio_points(series) -> list[dict]:
    """Audio (blob ``[encoded, label, ...]``): per step ``{"step", "wall_time", "index",
    "count", "labels"}``."""
    out = []
    for i in range(len(series)):
        v = series.values[i]
        if v is None:
            continue
        out.append({"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
                    "index": i, "count": (len(v) + 1) // 2,
                    "labels": [_s(v[j]) for j in range(1, len(v), 2)]})
    return out


def blob_item(plugin: str, values: list, item: int) -> bytes:
    """The ``item``-th media of one blob point: image ``values[2 + item]``, audio
    ``values[2 * item]``, anything else ``values[item]``.

    Raises:
        IndexError: no such item.
    """
    if item < 0 or values is None:
        raise IndexError(item)
    pos = {"images": 2 + item, "audio": 2 * item}.get(plugin, item)
    if pos >= len(values):
        raise IndexError(item)
    return bytes(values[pos])


_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
]


def sniff_media_type(data: bytes) -> str:
    """Content type from the bytes' magic number (never from names); unknown bytes are
    ``application/octet-stream``."""
    for magic, mt in _MAGIC:
        if data.startswith(magic):
            return mt
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"
