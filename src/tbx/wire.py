"""Protobuf wire encoding of Events on the writer's hot path, without protobuf objects.

The bytes are identical to what protobuf serialises for the same ``Event`` (fields in field-number
order, proto3 defaults omitted): ``tests/test_wire.py`` checks that on many values. Field numbers
are those of ``tbx/proto/event.proto`` and ``summary.proto``:

* Event: ``wall_time`` = 1 (double, tag ``0x09``), ``step`` = 2 (varint, ``0x10``), ``summary`` =
  5 (bytes, ``0x2a``).
* Summary: ``value`` = 1 (``0x0a``). Value: ``tag`` = 1 (``0x0a``), ``simple_value`` = 2 (float,
  ``0x15``).
"""

from __future__ import annotations

import struct

__all__ = ["varint", "event_bytes", "scalar_value_head", "ScalarEventEncoder"]

_pack_d = struct.Struct("<d").pack
_pack_f = struct.Struct("<f").pack
_ZERO_D = b"\x00" * 8
_FLOAT32_MAX = 3.4028234663852886e38


def varint(n: int) -> bytes:
    """Base-128 varint of an int64 (negative values as their 64-bit two's complement)."""
    # Unrolled for the steps of most runs (below 2**28): no loop, one bytes object.
    if 0 <= n < 0x80:
        return bytes((n,))
    if 0 < n < 0x4000:
        return bytes((n & 0x7F | 0x80, n >> 7))
    if 0 < n < 0x200000:
        return bytes((n & 0x7F | 0x80, (n >> 7) & 0x7F | 0x80, n >> 14))
    if 0 < n < 0x10000000:
        return bytes((n & 0x7F | 0x80, (n >> 7) & 0x7F | 0x80, (n >> 14) & 0x7F | 0x80, n >> 21))
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _wall_and_step(wall_time: float, step: int) -> bytes:
    w = _pack_d(wall_time)
    head = b"\x09" + w if w != _ZERO_D else b""
    if step:
        head += b"\x10" + varint(step)
    return head


def event_bytes(wall_time: float, step: int, summary: bytes) -> bytes:
    """Serialized ``Event(wall_time, step, summary)`` from an already serialized Summary."""
    return _wall_and_step(wall_time, step) + b"\x2a" + varint(len(summary)) + summary


def scalar_value_head(tag: str) -> bytes:
    """Bytes of an Event's summary field up to the 4 float bytes of ``simple_value``.

    ``Event = wall_time, step, head, float32`` for a one-Value Summary ``(tag, simple_value)``:
    every length in it depends on the tag only.
    """
    t = tag.encode("utf-8")
    value = b"\x0a" + varint(len(t)) + t  # + 0x15 + 4 bytes
    vlen = len(value) + 5
    summary_len = 1 + len(varint(vlen)) + vlen
    return b"\x2a" + varint(summary_len) + b"\x0a" + varint(vlen) + value + b"\x15"


def float32_bytes(value: float) -> bytes:
    """Little-endian float32 of ``value``, rounded to nearest; beyond float32's range ±Inf (as a
    C cast and protobuf do) instead of struct's OverflowError."""
    try:
        return _pack_f(value)
    except OverflowError:
        return _pack_f(float("inf") if value > 0 else float("-inf"))


class ScalarEventEncoder:
    """Serializes ``Event(wall_time, step, Summary([Value(tag, simple_value)]))`` in a few
    microseconds, caching each tag's constant bytes.

    The caller validates ``tag`` (a non-empty str) before the first call with it, ``step`` (an
    int64) and ``value`` (a float).
    """

    __slots__ = ("heads", "_last_step", "_last_step_bytes")

    def __init__(self) -> None:
        self.heads: dict[str, bytes] = {}
        self._last_step = 0
        self._last_step_bytes = b""

    def encode(self, tag: str, value: float, step: int, wall_time: float) -> bytes:
        head = self.heads.get(tag)
        if head is None:
            head = self.heads[tag] = scalar_value_head(tag)
        if step == self._last_step:
            sb = self._last_step_bytes
        else:
            sb = b"\x10" + varint(step) if step else b""
            self._last_step = step
            self._last_step_bytes = sb
        w = _pack_d(wall_time)
        if w == _ZERO_D:
            w = b""
        else:
            w = b"\x09" + w
        if -_FLOAT32_MAX <= value <= _FLOAT32_MAX or value != value:
            f = _pack_f(value)
        else:
            f = float32_bytes(value)
        return w + sb + head + f
