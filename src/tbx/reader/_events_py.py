"""The pure-Python twin of the C kernel's Event scan (``tbx._speedups.scan_events``): rows of
Summary Values per tag, in the kernel's output format (see :mod:`tbx.reader._scan`). Plain
scalar Events (``wall_time, step, Summary(Value(tag, simple_value)...)`` in field order, what
every scalar writer produces) are parsed by hand, every other Event by protobuf.
"""

from __future__ import annotations

import struct

import numpy as np

from tbx import record

__all__ = ["KIND_SIMPLE", "KIND_TENSOR_SCALAR", "KIND_OTHER", "ROW_DTYPES", "Rows", "varint",
           "payload_field", "scan_events_py"]

KIND_SIMPLE, KIND_TENSOR_SCALAR, KIND_OTHER = 0, 1, 2
# Per tag: rec, step, wall, value, kind (dense), then ``extra`` (int64 5-tuples: row, value
# offset, value length, metadata offset, metadata length) for rows not a plain simple_value or
# carrying metadata; the format of ``tbx._speedups.scan_events``.
ROW_DTYPES = (np.int32, np.int64, np.float64, np.float64, np.uint8)


def _pb():
    from tbx.proto import event_pb2, summary_pb2

    return event_pb2, summary_pb2


class Rows:
    """Per-tag rows being collected in Python (the fallback and protobuf-decoded Events), in
    ``scan_events``' output format."""

    def __init__(self):
        self.cols: dict[int, list[list]] = {}
        self.aux = bytearray()

    def add(self, tid: int, ordinal: int, ev, v, kind: int, value: float) -> None:
        c = self.cols.get(tid)
        if c is None:
            c = self.cols[tid] = [[] for _ in range(6)]
        row = len(c[0])
        c[0].append(ordinal)
        c[1].append(ev.step)
        c[2].append(ev.wall_time)
        c[3].append(value)
        c[4].append(kind)
        has_meta = v.HasField("metadata")
        if kind == KIND_SIMPLE and not has_meta:
            return
        raw = v.SerializeToString()
        voff = len(self.aux)
        self.aux += raw
        if has_meta:
            m = v.metadata.SerializeToString()
            moff, mlen = len(self.aux), len(m)
            self.aux += m
        else:
            moff, mlen = 0, -1
        c[5] += (row, voff, len(raw), moff, mlen)

    def add_simple(self, tid: int, ordinal: int, step: int, wall: float, value: float) -> None:
        c = self.cols.get(tid)
        if c is None:
            c = self.cols[tid] = [[] for _ in range(6)]
        c[0].append(ordinal)
        c[1].append(step)
        c[2].append(wall)
        c[3].append(value)
        c[4].append(KIND_SIMPLE)

    def result(self) -> dict[int, tuple]:
        return {t: tuple(np.asarray(col, dt).tobytes() for col, dt in
                         zip(c, (*ROW_DTYPES, np.int64), strict=True))
                for t, c in self.cols.items()}


_unpack_d = struct.Struct("<d").unpack_from
_unpack_f = struct.Struct("<f").unpack_from


def varint(b, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        c = b[pos]
        pos += 1
        result |= (c & 0x7F) << shift
        if c < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


def payload_field(b, pos: int, end: int) -> int:
    """Field number of the payload of the serialized ``Summary.Value`` in ``b[pos:end]``:
    2 ``simple_value``, 3 old-style histogram, 4 ``image``, 5 ``histo``, 6 ``audio``, 8
    ``tensor`` (the last one wins, as in protobuf's oneof), 0 when it has none."""
    found = 0
    try:
        while pos < end:
            key, pos = varint(b, pos)
            fn, wt = key >> 3, key & 7
            if wt == 0:
                _, pos = varint(b, pos)
            elif wt == 1:
                pos += 8
            elif wt == 2:
                n, pos = varint(b, pos)
                pos += n
            elif wt == 5:
                pos += 4
            else:
                break
            if fn in (2, 3, 4, 5, 6, 8):
                found = fn
    except (IndexError, ValueError):
        pass
    return found


def _simple_event(b: bytes):
    """``(wall_time, step, [(tag bytes, value)])`` of an Event that is exactly ``wall_time,
    step, Summary(Value(tag, simple_value)...)`` in canonical field order (what every scalar
    writer produces), else ``None`` (protobuf decodes it)."""
    n = len(b)
    pos = 0
    wall = 0.0
    step = 0
    try:
        if b[0] == 0x09:
            (wall,) = _unpack_d(b, 1)
            pos = 9
        if b[pos] == 0x10:
            step, pos = varint(b, pos + 1)
            if step >= 1 << 63:
                step -= 1 << 64
        if b[pos] != 0x2A:
            return None
        size = b[pos + 1]
        if size < 0x80:
            pos += 2
        else:
            size, pos = varint(b, pos + 1)
        if pos + size != n:
            return None
        out = []
        while pos < n:
            size = b[pos + 1]
            if b[pos] != 0x0A or size >= 0x80 or b[pos + 2] != 0x0A:
                return None  # a Value longer than 127 bytes is no plain scalar
            end = pos + 2 + size
            tsize = b[pos + 3]
            p = pos + 4 + tsize
            if tsize >= 0x80 or p + 5 != end or end > n or b[p] != 0x15:
                return None
            tag = b[pos + 4 : p]
            tag.decode("utf-8")  # protobuf rejects invalid UTF-8 in a string field
            out.append((tag, _unpack_f(b, p + 1)[0]))
            pos = end
        return wall, step, out
    except (IndexError, ValueError, struct.error):
        return None


def scan_events_py(buf, start: int, tags_b: list[bytes], tag_index: dict[bytes, int],
                   want=None, limit: int | None = None):
    """Pure-Python twin of ``tbx._speedups.scan_events`` (same outputs; plain scalar Events
    parsed by hand, every other through protobuf). Row byte ranges refer to the returned
    ``vbuf`` (serialized Values and metadata), ``others`` to ``buf``. ``want`` (``None`` or
    ``want(tag bytes) -> bool``) and ``limit`` as :func:`scan_block`."""
    event_pb2, _ = _pb()
    scan = record._scan_records_py(buf, start, strict=False, max_length=limit)
    rows = Rows()
    if want is not None:
        rows = _WantedRows(want, tags_b)
    others: list[int] = []
    view = memoryview(buf)
    for ordinal, (s, n) in enumerate(zip(scan.starts, scan.lengths, strict=True)):
        data = bytes(view[s : s + n])
        simple = _simple_event(data)
        if simple is not None:
            wall, step, values = simple
            for key, value in values:
                tid = tag_index.get(key)
                if tid is None:
                    tid = tag_index[key] = len(tags_b)
                    tags_b.append(key)
                rows.add_simple(tid, ordinal, step, wall, value)
            continue
        try:
            ev = event_pb2.Event.FromString(data)
        except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
            others += (ordinal, s, n)
            continue
        if ev.WhichOneof("what") != "summary":
            others += (ordinal, s, n)
            continue
        for v in ev.summary.value:
            key = v.tag.encode("utf-8")
            tid = tag_index.get(key)
            if tid is None:
                tid = tag_index[key] = len(tags_b)
                tags_b.append(key)
            if v.WhichOneof("value") == "simple_value":
                rows.add(tid, ordinal, ev, v, KIND_SIMPLE, v.simple_value)
            else:
                rows.add(tid, ordinal, ev, v, KIND_OTHER, 0.0)
    corr = [(c.offset, c.skipped, c.reason) for c in scan.corruptions]
    others_b = np.asarray(others, np.int64).tobytes()
    return scan.end, corr, rows.result(), others_b, bytes(rows.aux)


class _WantedRows(Rows):
    """:class:`Rows` that drop the rows of tags ``want(tag bytes)`` rejects (asked once per
    tag id)."""

    def __init__(self, want, tags_b: list[bytes]):
        super().__init__()
        self._want, self._tags_b, self._keep = want, tags_b, {}

    def _kept(self, tid: int) -> bool:
        k = self._keep.get(tid)
        if k is None:
            k = self._keep[tid] = bool(self._want(self._tags_b[tid]))
        return k

    def add(self, tid, *args) -> None:
        if self._kept(tid):
            super().add(tid, *args)

    def add_simple(self, tid, *args) -> None:
        if self._kept(tid):
            super().add_simple(tid, *args)
