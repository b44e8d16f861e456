"""Helpers shared by the viewer's core and its plugins: JSON-safe numbers, base64 columns,
even sampling of points, media types from magic bytes. Pure functions, no I/O."""

from __future__ import annotations

import base64
import math

import numpy as np

__all__ = [
    "json_safe",
    "finite_or_none",
    "b64_f64",
    "sample_indices",
    "as_str",
    "sniff_media_type",
]


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


def as_str(b) -> str:
    """Bytes as UTF-8 text (undecodable bytes replaced), anything else as ``str(b)``."""
    return b.decode("utf-8", errors="replace") if isinstance(b, (bytes, bytearray)) else str(b)


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
