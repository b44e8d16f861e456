"""Record scanning: an event file, block by block, into per-tag rows.

:func:`scan_file` reads one file from where the last read stopped in blocks of at most
:data:`BLOCK` bytes (memory stays bounded whatever the file holds). Each block goes through
``tbx._speedups.scan_events`` (or its pure-Python twin
:func:`~tbx.reader._events_py.scan_events_py`): one pass that
checks the framing and both CRCs and splits every Summary Value into columns (record ordinal,
step, wall time, tag id, payload kind, number for ``simple_value`` and one-number tensors, and
the byte ranges of the Value and of its metadata). Records that are not Summaries
(``file_version``, ``session_log``, graphs) are left to protobuf (``others``).

Damage: a stretch that holds no record header (garbage, or a zero-filled tail as a crash or
``truncate -s`` leaves) is skipped once, reported once as one :class:`~tbx.record.Corruption`
with its byte range, and never read again; runs of zero bytes are skipped at memory speed. A
record longer than :data:`MAX_RECORD` is skipped and reported rather than read into memory.

Selecting tags (``want``): rows of other tags are dropped by the scan itself, reads are small
(:data:`SELECT_BLOCK`), and long records of other tags are seeked past unread, judged by their
first bytes (:mod:`tbx.reader._prefix`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from tbx import record
from tbx.reader._events_py import (
    KIND_OTHER,
    KIND_SIMPLE,
    KIND_TENSOR_SCALAR,
    ROW_DTYPES,
    Rows,
    payload_field,
    scan_events_py,
)
from tbx.reader._prefix import PREFIX, summary_tag

__all__ = ["BLOCK", "MAX_RECORD", "KIND_SIMPLE", "KIND_TENSOR_SCALAR", "KIND_OTHER",
           "ROW_DTYPES", "Rows", "Block", "scan_file", "scan_block", "scan_events_py",
           "zero_run_end", "payload_field"]

#: Bytes read at once from a file.
BLOCK = 64 << 20
#: Reads that select tags (``want``): records longer than this many bytes are judged by their
#: first bytes and seeked past when of another tag. Below it, reading a record costs less than
#: the extra read call a skip makes (a record of 16 KiB is read and CRC-checked in a few
#: microseconds from the page cache; a read call and a pass of the scan loop cost ~10-30);
#: images, audio, large tensors and graphs are above it, scalars and most histograms below.
SKIP_ABOVE = 16 << 10
#: Reads that select tags: the first read after a long record, doubling up to SELECT_BLOCK
#: (a smaller read buffer than :data:`BLOCK`: the memory of a selective read follows what it
#: returns).
SELECT_FIRST = 1 << 10
SELECT_BLOCK = 4 << 20
#: Longest record read (header + data + footer); longer ones are skipped and reported.
MAX_RECORD = 256 << 20
_unpack_q = struct.Struct("<Q").unpack_from
_HEADER_GAP = record.HEADER_SIZE - 1  # a header needs 12 bytes: the last 11 cannot start one


def scan_block(buf, start: int, tags_b: list[bytes], tag_index: dict[bytes, int], want=None,
               limit: int | None = None):
    """``(end, corruptions, rows, others, vbuf)`` of ``buf`` from offset ``start``, through the C
    kernel when it is in use; offsets are relative to ``buf``.

    ``want``: ``None`` (every tag), or ``want(tag bytes) -> bool``: rows of the tags it rejects
    are not returned (records left to protobuf, ``others``, are returned whatever their tags).
    ``limit``: stop before the first record whose data is longer than ``limit`` bytes (``end``
    is then its offset; only its length CRC was checked)."""
    kernel = record.speedups()
    if kernel is not None:
        if (want is None and limit is None) or not getattr(kernel, "SELECT", 0):
            # (a kernel built before ``SELECT``: every row, no limit; the caller's ingest
            # drops other tags' rows, and long records are then read, not skipped)
            out = kernel.scan_events(buf, start, tags_b, tag_index)
        else:
            out = kernel.scan_events(buf, start, tags_b, tag_index, want,
                                     -1 if limit is None else limit)
        end, corr, _nrec, rows, others_b = out
        return end, corr, rows, others_b, buf
    return scan_events_py(buf, start, tags_b, tag_index, want, limit)


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
              data_from=None, block: int | None = None, want=None,
              skip_above: int | None = None):
    """Yield the :class:`Block` s of file ``f`` (a :class:`tbx.reader._tracking.FileState`) from
    ``f.offset`` up to ``size`` bytes, advancing ``f.offset`` (where reading resumes) and
    ``f.seen`` (bytes examined) after each block has been consumed.

    ``read(path, offset, n)`` reads bytes; its OSError propagates (the file is then left where
    it was). ``data_from(path, offset)``, when given, says where the data after a hole of a
    sparse file starts: inside a garbage stretch, holes (zeros) are skipped without reading.

    A garbage stretch is reported when it ends, or up to the end of the bytes present (then
    again, with the same offset and more bytes, if it goes on); the open stretch is kept in
    ``f.span`` (start offset), ``f.span_end`` (reported up to) and ``f.span_reason``.
    ``block``: bytes read at once (default :data:`BLOCK`, or :data:`SELECT_BLOCK` with ``want``).
    A block's ``buf``, ``vbuf`` and ``rows`` are emptied when the next block is asked for (so
    that two read buffers are never held at once): copy what must outlive the loop body.

    ``want`` (``None``: every tag; else ``want(tag bytes) -> bool``) selects tags: rows of other
    tags are dropped by the scan, and a record whose data is longer than ``skip_above`` bytes
    (default :data:`SKIP_ABOVE`) is judged by its first :data:`~tbx.reader._prefix.PREFIX`
    bytes: when it is one Value of a tag not wanted (:func:`~tbx.reader._prefix.summary_tag`)
    it is seeked past without being read (its length CRC is checked, its data and data CRC are
    never read, so damage inside it goes unseen); otherwise it is read in full. Each read
    takes the record cut at the end of the previous one (its header gave its length) and
    :data:`SELECT_FIRST` bytes more after a long record, twice as many after each read without
    one, up to ``block``: the bytes read of a skipped record stay small next to those read of
    the records around it.
    """
    select = want is not None
    first = block = block or (SELECT_BLOCK if select else BLOCK)
    if select:
        skip_above = SKIP_ABOVE if skip_above is None else skip_above
        block = ahead = min(SELECT_FIRST, first)  # bytes read past the next known record
    whole = 0  # a long record to read in full at f.offset (bytes)
    last = None
    while f.offset < size:
        if last is not None:  # consumed: its buffers go before the next read (not beside it)
            last.buf = last.vbuf = b""
            last.rows = {}
            last = buf = vbuf = rows = None
        if f.span is not None and data_from is not None:
            hole_end = min(data_from(f.path, f.offset), size)
            if hole_end - _HEADER_GAP > f.offset:
                f.offset = hole_end - _HEADER_GAP
                f.seen = max(f.seen, f.offset)
        start = f.offset
        want_n = min(size - start, whole or block)
        limit = skip_above if select and not whole else None
        whole = 0
        buf = read(f.path, start, want_n)
        if not buf:
            return
        n = len(buf)
        pos = 0
        if f.span is not None:  # inside garbage: skip zeros in bulk, then to the next header
            pos = record.find_header(buf, max(0, min(zero_run_end(buf), n) - _HEADER_GAP))
        end, corr, rows, others_b, vbuf = scan_block(buf, pos, tags_b, tag_index, want, limit)
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
        long = _long_record(buf, end, limit) if limit is not None and tail is None else None
        last = Block(start, buf, end, rows, np.frombuffer(others_b, np.int64).reshape(-1, 3),
                     vbuf, [c for c in out if c is not None])
        yield last
        f.offset = start + new_end
        f.seen = max(f.seen, start + n)
        if long is not None:
            at = start + end
            need = long + record.HEADER_SIZE + record.FOOTER_SIZE
            head = buf[end + record.HEADER_SIZE : end + record.HEADER_SIZE + PREFIX]
            if len(head) < min(PREFIX, long):
                head = read(f.path, at + record.HEADER_SIZE, min(PREFIX, long))
            tag = summary_tag(head, long)
            block = ahead = min(SELECT_FIRST, first)
            if tag is not None and not want(tag):
                if at + need > size:
                    return  # not all there yet
                f.offset = at + need  # seeked past, unread
                f.seen = max(f.seen, f.offset)
                continue
            if need <= MAX_RECORD:
                whole = need
                continue
            skipped = _too_long(f, at, long, size)
            if skipped is None:
                return
            yield skipped
            continue
        at_end = n < want_n or start + n >= size
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
                block = max(block, need + ahead if select else need)  # select: and what follows
                continue
            skipped = _too_long(f, start, length, size)
            if skipped is None:
                return  # not all there yet
            yield skipped
        if select:  # the record cut at the end of buf (its header says how long), and more
            ahead = min(ahead * 2, first)
            block = ahead + (_cut_record(buf, new_end) if tail is None else 0)
        else:
            block = first


def _cut_record(buf, end: int) -> int:
    """Bytes of the record whose header starts at ``buf[end]`` but which ``buf`` does not hold
    whole (0 when its header is not all in ``buf`` or is damaged)."""
    if len(buf) - end < record.HEADER_SIZE:
        return 0
    length, crc = struct.unpack_from("<QI", buf, end)
    if record.masked_crc32c(bytes(buf[end : end + 8])) != crc or length > MAX_RECORD:
        return 0
    return length + record.HEADER_SIZE + record.FOOTER_SIZE


def _long_record(buf, end: int, limit: int) -> int | None:
    """The data length of the record whose header starts at ``buf[end]`` when it is longer
    than ``limit`` and its length CRC is right, else ``None``."""
    if len(buf) - end < record.HEADER_SIZE:
        return None
    length, crc = struct.unpack_from("<QI", buf, end)
    if length <= limit or record.masked_crc32c(bytes(buf[end : end + 8])) != crc:
        return None
    return length


def _too_long(f, start: int, length: int, size: int) -> Block | None:
    """Skip the record of ``length`` bytes at ``start`` (longer than :data:`MAX_RECORD`): the
    block reporting it, or ``None`` when it is not all there yet."""
    need = length + record.HEADER_SIZE + record.FOOTER_SIZE
    if start + need > size:
        return None
    f.offset = start + need
    f.seen = max(f.seen, f.offset)
    return Block(start, b"", 0, {}, np.empty((0, 3), np.int64), b"", [(
        start, need, f"record of {length} bytes is longer than the reader's limit "
                     f"({MAX_RECORD} bytes): skipped")])


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
