"""Record scanning: an event file, block by block, into per-tag rows.

:func:`scan_file` reads one file from where the last read stopped in blocks of at most
:data:`BLOCK` bytes (memory stays bounded whatever the file holds). Each block goes through
``tbx._speedups.scan_events`` (or its pure-Python twin :func:`scan_events_py`): one pass that
checks the framing and both CRCs and splits every Summary Value into columns (record ordinal,
step, wall time, tag id, payload kind, number for ``simple_value`` and one-number tensors, and
the byte ranges of the Value and of its metadata). Records that are not Summaries
(``file_version``, ``session_log``, graphs) are left to protobuf (``others``).

Damage: a stretch that holds no record header (garbage, or a zero-filled tail as a crash or
``truncate -s`` leaves) is skipped once, reported once as one :class:`~tbx.record.Corruption`
with its byte range, and never read again; runs of zero bytes are skipped at memory speed. A
record longer than :data:`MAX_RECORD` is skipped and reported rather than read into memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from tbx import record

__all__ = ["BLOCK", "MAX_RECORD", "KIND_SIMPLE", "KIND_TENSOR_SCALAR", "KIND_OTHER",
           "ROW_DTYPES", "Rows", "Block", "scan_file", "scan_block", "scan_events_py",
           "zero_run_end", "payload_field"]

#: Bytes read at once from a file.
BLOCK = 64 << 20
#: Longest record read (header + data + footer); longer ones are skipped and reported.
MAX_RECORD = 256 << 20
KIND_SIMPLE, KIND_TENSOR_SCALAR, KIND_OTHER = 0, 1, 2
# Per tag: rec, step, wall, value, kind (dense), then ``extra`` (int64 5-tuples: row, value
# offset, value length, metadata offset, metadata length) for rows not a plain simple_value or
# carrying metadata; the format of ``tbx._speedups.scan_events``.
ROW_DTYPES = (np.int32, np.int64, np.float64, np.float64, np.uint8)
_HEADER_GAP = record.HEADER_SIZE - 1  # a header needs 12 bytes: the last 11 cannot start one


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
_unpack_q = struct.Struct("<Q").unpack_from


def _varint(b, pos: int) -> tuple[int, int]:
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
            key, pos = _varint(b, pos)
            fn, wt = key >> 3, key & 7
            if wt == 0:
                _, pos = _varint(b, pos)
            elif wt == 1:
                pos += 8
            elif wt == 2:
                n, pos = _varint(b, pos)
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
            step, pos = _varint(b, pos + 1)
            if step >= 1 << 63:
                step -= 1 << 64
        if b[pos] != 0x2A:
            return None
        size = b[pos + 1]
        if size < 0x80:
            pos += 2
        else:
            size, pos = _varint(b, pos + 1)
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


def scan_events_py(buf, start: int, tags_b: list[bytes], tag_index: dict[bytes, int]):
    """Pure-Python twin of ``tbx._speedups.scan_events`` (same outputs; plain scalar Events
    parsed by hand, every other through protobuf). Row byte ranges refer to the returned
    ``vbuf`` (serialized Values and metadata), ``others`` to ``buf``."""
    event_pb2, _ = _pb()
    scan = record._scan_records_py(buf, start, strict=False)
    rows = Rows()
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


def scan_block(buf, start: int, tags_b: list[bytes], tag_index: dict[bytes, int]):
    """``(end, corruptions, rows, others, vbuf)`` of ``buf`` from offset ``start``, through the C
    kernel when it is in use; offsets are relative to ``buf``."""
    kernel = record.speedups()
    if kernel is not None:
        end, corr, _nrec, rows, others_b = kernel.scan_events(buf, start, tags_b, tag_index)
        return end, corr, rows, others_b, buf
    return scan_events_py(buf, start, tags_b, tag_index)


def zero_run_end(buf, start: int = 0) -> int:
    """Offset of the first non-zero byte of ``buf`` at or after ``start`` (``len(buf)`` if
    none), in 1 MiB steps."""
    a = np.frombuffer(buf, np.uint8)
    p, n = start, len(a)
    while p < n:
        c = a[p : p + (1 << 20)]
        if c.any():
            return p + int(np.argmax(c != 0))
        p += len(c)
    return n


@dataclass
class Block:
    """One scanned block: ``buf`` holds the file's bytes from offset ``base``; ``end`` (relative
    to ``buf``) is where its complete records stop; ``rows``, ``others`` and ``vbuf`` as
    :func:`scan_block` returns them; ``corruptions`` are ``(file offset, bytes skipped,
    reason)``."""

    base: int
    buf: bytes
    end: int
    rows: dict
    others: np.ndarray
    vbuf: bytes
    corruptions: list


def scan_file(read, f, size: int, tags_b: list[bytes], tag_index: dict[bytes, int],
              data_from=None, block: int | None = None):
    """Yield the :class:`Block` s of file ``f`` (a :class:`tbx.reader._tracking.FileState`) from
    ``f.offset`` up to ``size`` bytes, advancing ``f.offset`` (where reading resumes) and
    ``f.seen`` (bytes examined) after each block has been consumed.

    ``read(path, offset, n)`` reads bytes; its OSError propagates (the file is then left where
    it was). ``data_from(path, offset)``, when given, says where the data after a hole of a
    sparse file starts: inside a garbage stretch, holes (zeros) are skipped without reading.

    A garbage stretch is reported when it ends, or up to the end of the bytes present (then
    again, with the same offset and more bytes, if it goes on); the open stretch is kept in
    ``f.span`` (start offset), ``f.span_end`` (reported up to) and ``f.span_reason``.
    ``block``: bytes read at once (default :data:`BLOCK`).
    """
    first = block = block or BLOCK
    while f.offset < size:
        if f.span is not None and data_from is not None:
            hole_end = min(data_from(f.path, f.offset), size)
            if hole_end - _HEADER_GAP > f.offset:
                f.offset = hole_end - _HEADER_GAP
                f.seen = max(f.seen, f.offset)
        start = f.offset
        want = min(size - start, block)
        buf = read(f.path, start, want)
        if not buf:
            return
        n = len(buf)
        pos = 0
        if f.span is not None:  # inside garbage: skip zeros in bulk, then to the next header
            pos = record.find_header(buf, max(0, min(zero_run_end(buf), n) - _HEADER_GAP))
        end, corr, rows, others_b, vbuf = scan_block(buf, pos, tags_b, tag_index)
        out, tail = [], None
        for off, skipped, reason in corr:
            if skipped == 0:  # no header from `off` to the end of what was read
                tail, tail_reason = off, reason
            elif f.span is not None and off == pos:  # the open stretch ends here
                out.append(_close(f, start + off + skipped))
            else:
                out.append((start + off, skipped, reason))
        if f.span is not None and tail != pos and n - pos >= record.HEADER_SIZE:
            out.append(_close(f, start + pos))  # a header starts right where zeros end
        if tail is not None:
            if f.span is None:
                f.span, f.span_reason = start + tail, tail_reason
            new_end = max(tail, n - _HEADER_GAP)
        else:
            new_end = end
        yield Block(start, buf, end, rows, np.frombuffer(others_b, np.int64).reshape(-1, 3),
                    vbuf, [c for c in out if c is not None])
        f.offset = start + new_end
        f.seen = max(f.seen, start + n)
        at_end = n < want or start + n >= size
        if at_end:
            if f.span is not None and start + n > max(f.span, f.span_end):
                # report what is there; if the stretch goes on, it is reported again, longer
                yield Block(start + n, b"", 0, {}, np.empty((0, 3), np.int64), b"",
                            [_close(f, start + n, keep_open=True)])
            return
        if new_end == 0:  # a record longer than the block starts at buf[0]
            (length,) = _unpack_q(buf, 0)
            need = length + record.HEADER_SIZE + record.FOOTER_SIZE
            if need <= MAX_RECORD:
                block = max(block, need)
                continue
            if start + need > size:
                return  # not all there yet
            f.offset = start + need
            f.seen = max(f.seen, f.offset)
            yield Block(start, b"", 0, {}, np.empty((0, 3), np.int64), b"", [(
                start, need, f"record of {length} bytes is longer than the reader's limit "
                             f"({MAX_RECORD} bytes): skipped")])
        block = first


def _close(f, stop: int, keep_open: bool = False):
    """The corruption tuple of ``f``'s open stretch up to ``stop``; the stretch ends there (or,
    with ``keep_open``, is known up to there and may go on)."""
    start, reason = f.span, f.span_reason
    if keep_open:
        f.span_end = stop
    else:
        f.span, f.span_end = None, 0
    if stop <= start:
        return None
    return (start, stop - start, reason)
