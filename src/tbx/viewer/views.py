"""Helpers shared by the viewer's core and its plugins: JSON-safe numbers, base64 columns,
even sampling of points, media types from magic bytes, accepted ranges of query parameters in
words. Pure functions, no I/O."""

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
    "echo_value",
    "int_range_words",
    "float_range_words",
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


#: Integer bounds from here on are no practical limit: not named unless passed.
_NO_LIMIT = 2**31 - 1


def echo_value(v: str) -> str:
    """A query value as quoted in an error, cut to 40 characters."""
    return repr(v if len(v) <= 40 else v[:40] + "...")


def _big(n: int) -> str:
    """``n`` as people read a large bound: ``2^62``, ``2^31 - 1``, ``-2^63``, else digits."""
    m = abs(n)
    for k, word in ((m.bit_length() - 1, ""), (m.bit_length(), " - 1")):
        if k >= 20 and (m == 2**k if not word else m == 2**k - 1):
            return f"{'-' if n < 0 else ''}2^{k}{word}"
    return str(n)


def int_range_words(lo: int, hi: int, x: int) -> str:
    """The integers ``[lo, hi]`` (``lo <= hi``) in words, for an error about the value ``x``:
    "an integer from 0 to 20000", "a non-negative integer" (``hi`` from 2^31 - 1 up is no
    practical limit, named only when ``x`` passes it: "... no larger than 2^62")."""
    if hi < _NO_LIMIT:
        return f"an integer from {_big(lo)} to {_big(hi)}"
    kind = {0: "a non-negative integer", 1: "a positive integer"}.get(lo)
    if kind is None:
        kind = "an integer" if lo <= -_NO_LIMIT else f"an integer >= {lo}"
    if x > hi:
        return f"{kind} no larger than {_big(hi)}"
    if x < lo and lo <= -_NO_LIMIT:
        return f"{kind} no smaller than {_big(lo)}"
    return kind


def _num(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def float_range_words(lo: float, hi: float, hi_open: bool) -> str:
    """The finite numbers in ``[lo, hi]`` (``[lo, hi)`` with ``hi_open``) in words: "a finite
    number", "a number from 0 to 1 (1 excluded)", "a finite number >= 2"."""
    low, high = math.isfinite(lo), math.isfinite(hi)
    if low and high:
        return f"a number from {_num(lo)} to {_num(hi)}" + (
            f" ({_num(hi)} excluded)" if hi_open else "")
    if low:
        return f"a finite number >= {_num(lo)}"
    if high:
        return f"a finite number {'<' if hi_open else '<='} {_num(hi)}"
    return "a finite number"
