"""The scalars plugin's binary transport of series (the smoothing and downsampling are
:mod:`tbx.seriesmath`, shared with ``tbx watch`` and ``tbx report``). Pure functions; no I/O.

Binary transport (``application/x-tbx-series``), all numbers little-endian::

    offset 0   4 bytes   magic b"TBXS"
    offset 4   uint32    format version (1)
    offset 8   uint32    number of series N
    offset 12  uint32    J: length in bytes of the JSON header
    offset 16  J bytes   UTF-8 JSON: a list of N descriptors (see below), then space padding
                         (0x20) up to the next multiple of 8 bytes
    then, for each series in descriptor order, its columns back to back, each column
    ``n`` float64 values (8-byte aligned, so a Float64Array view needs no copy):
        step        float64[n]  (integers; exact up to 2**53)
        wall_time   float64[n]  seconds since the epoch
        value       float64[n]  raw values; NaN and +-inf kept
        smoothed    float64[n]  only when the descriptor's ``columns`` lists it

Each descriptor: ``{"run": str, "tag": str, "n": points sent, "total": points in the full
series, "downsampled": bool, "columns": ["step", "wall_time", "value"(, "smoothed")],
"ema": [accumulator, count] (the smoothing state after the series' last point, so a client
can continue the curve over live deltas), "first_wall_time": float|null, "step_range":
[min, max]|null}``.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from tbx.viewer.views import json_safe

__all__ = [
    "MAGIC",
    "pack",
    "unpack",
]

MAGIC = b"TBXS"
VERSION = 1
_HEADER = struct.Struct("<4sIII")


def pack(series: list[tuple[dict, list[np.ndarray]]]) -> bytes:
    """Encode ``[(descriptor, columns), ...]`` in the binary transport (module docstring).

    Each ``columns`` list holds the arrays named by ``descriptor["columns"]``, all of length
    ``descriptor["n"]``; they are converted to little-endian float64.

    Raises:
        ValueError: a column's length differs from its descriptor's ``n``.
    """
    return b"".join(iter_pack(series))


def packed_values(series: list[tuple[dict, list[np.ndarray]]]) -> int:
    """How many float64 values :func:`pack` writes for ``series`` (8 bytes each)."""
    return sum(int(d["n"]) * len(cols) for d, cols in series)


def iter_pack(series: list[tuple[dict, list[np.ndarray]]], chunk: int = 1 << 20):
    """:func:`pack`'s bytes in pieces of at most ``chunk`` values (8 MiB by default), so that
    a large answer (a 10M-point series sent whole) is never held as one more copy.

    Raises:
        ValueError: (before the first piece) a column's length differs from its
            descriptor's ``n``.
    """
    for desc, cols in series:
        if any(len(c) != desc["n"] for c in cols):
            raise ValueError("column length differs from descriptor's n")
    header = json.dumps(json_safe([d for d, _ in series]), allow_nan=False,
                        separators=(",", ":")).encode()
    pad = (-(_HEADER.size + len(header))) % 8
    yield _HEADER.pack(MAGIC, VERSION, len(series), len(header) + pad) + header + b" " * pad
    for _, cols in series:
        for c in cols:
            for i in range(0, len(c), chunk):
                yield np.ascontiguousarray(c[i : i + chunk], dtype="<f8").tobytes()


def unpack(data: bytes) -> list[tuple[dict, dict[str, np.ndarray]]]:
    """Decode :func:`pack`'s bytes into ``[(descriptor, {column name: float64 array})]``.

    Raises:
        ValueError: bad magic, version or length.
    """
    magic, version, count, hlen = _HEADER.unpack_from(data, 0)
    if magic != MAGIC or version != VERSION:
        raise ValueError("not a tbx series payload")
    descs = json.loads(data[_HEADER.size : _HEADER.size + hlen])
    if len(descs) != count:
        raise ValueError("descriptor count mismatch")
    off = _HEADER.size + hlen
    out = []
    for d in descs:
        cols = {}
        for name in d["columns"]:
            end = off + 8 * d["n"]
            if end > len(data):
                raise ValueError("payload too short")
            cols[name] = np.frombuffer(data, dtype="<f8", count=d["n"], offset=off)
            off = end
        out.append((d, cols))
    return out
