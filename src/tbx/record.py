"""TFRecord framing of event files: masked CRC32C, writing and scanning records.

Format (TensorFlow's ``record_writer`` / ``record_reader``), every integer little-endian::

    uint64 length | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)

``masked_crc32c(b) = ((c >> 15) | (c << 17)) + 0xA282EAD8 (mod 2**32)`` with ``c`` the CRC32C
(Castagnoli) of ``b``.

Reading rules, shared by every reader of tbx:

* A record whose bytes are not all there yet (fewer than 12 header bytes, or a valid header whose
  length runs past the end of the data) is an *incomplete tail*: scanning stops before it and
  reports its offset, so a reader of a file that is still being written resumes there later.
  Nothing is allocated for the announced length.
* A header whose CRC does not match is corruption: the length cannot be trusted. In strict mode
  :class:`CorruptRecordError` is raised; otherwise the corruption is reported and scanning
  resynchronises at the next offset where a header with a valid CRC starts.
* A header whose length is ``>= 2**31`` (protobuf's limit on a message) is corruption too, even
  with a valid CRC ("length field too large"): nothing is ever allocated for a length read from
  a file.
* A data CRC mismatch under a valid header is corruption of that record only: raised in strict
  mode, otherwise reported and skipped (its payload is never returned).

Implementations: the C module ``tbx._speedups`` (built by ``hatch_build.py``) provides
:func:`frame_records` and :func:`scan_records` with exactly these semantics (hardware CRC32C when
the CPU has SSE4.2); this module falls back to pure Python (``google-crc32c``) when it is missing
or when the environment variable ``TBX_NO_SPEEDUPS=1`` is set at import.
:func:`use_speedups` switches at run time (tests run every case both ways).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import google_crc32c

__all__ = [
    "HEADER_SIZE",
    "FOOTER_SIZE",
    "CorruptRecordError",
    "Corruption",
    "RecordScan",
    "masked_crc32c",
    "frame_record",
    "frame_records",
    "scan_records",
    "find_header",
    "MAX_RECORD_LENGTH",
    "speedups",
    "use_speedups",
]

HEADER_SIZE = 12  # uint64 length + uint32 masked CRC of the length
FOOTER_SIZE = 4  # uint32 masked CRC of the data
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
#: Largest record length accepted (exclusive): protobuf messages are limited to 2 GiB.
MAX_RECORD_LENGTH = 1 << 31


#: Layout version of ``tbx._speedups`` this code expects (its ``ABI`` constant).
_KERNEL_ABI = 2


def _import_kernel():
    try:
        from tbx import _speedups
    except ImportError:
        return None
    if getattr(_speedups, "ABI", None) != _KERNEL_ABI:
        import warnings

        warnings.warn("tbx: the built C speedups are stale (rebuild with `pip install -e .`); "
                      "using pure Python", RuntimeWarning, stacklevel=3)
        return None
    return _speedups


def _load_speedups():
    if os.environ.get("TBX_NO_SPEEDUPS") == "1":
        return None
    return _import_kernel()


_kernel = _load_speedups()


def speedups():
    """The C kernel module ``tbx._speedups`` in use, or ``None`` (pure Python)."""
    return _kernel


def use_speedups(enabled: bool) -> bool:
    """Use the C kernel (``True``, when it is built) or pure Python (``False``) from now on, in
    this module and in the reader. Returns whether the kernel is now in use."""
    global _kernel
    _kernel = _import_kernel() if enabled else None
    return _kernel is not None


_crc = google_crc32c.value
_pack_q = struct.Struct("<Q").pack
_pack_i = struct.Struct("<I").pack
_unpack_qi = struct.Struct("<QI").unpack_from
_unpack_i = struct.Struct("<I").unpack_from


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """Masked CRC32C of ``data`` as TFRecord stores it: an int in ``[0, 2**32)``."""
    c = _crc(data if type(data) is bytes else bytes(data))
    return ((((c >> 15) | (c << 17)) & _U32) + _MASK_DELTA) & _U32


def frame_record(data: bytes) -> bytes:
    """One framed record: header, ``data``, footer (``len(data) + 16`` bytes)."""
    data = bytes(data)
    header = _pack_q(len(data))
    return b"".join((header, _pack_i(masked_crc32c(header)), data, _pack_i(masked_crc32c(data))))


def _frame_records_py(payloads: Iterable[bytes]) -> bytes:
    parts: list[bytes] = []
    append = parts.append
    crc = _crc
    for data in payloads:
        if type(data) is not bytes:
            data = bytes(data)  # google_crc32c takes read-only bytes only
        header = _pack_q(len(data))
        c = crc(header)
        append(header)
        append(_pack_i(((((c >> 15) | (c << 17)) & _U32) + _MASK_DELTA) & _U32))
        append(data)
        c = crc(data)
        append(_pack_i(((((c >> 15) | (c << 17)) & _U32) + _MASK_DELTA) & _U32))
    return b"".join(parts)


def frame_records(payloads: Iterable[bytes]) -> bytes:
    """Frame many records into one buffer, in order, ready for a single write.

    Args:
        payloads: the records' data, each ``bytes`` (serialized Events in an event file).

    Returns:
        The concatenation of :func:`frame_record` of each payload.
    """
    k = _kernel
    if k is not None:
        return k.frame_records(payloads if isinstance(payloads, (list, tuple)) else list(payloads))
    return _frame_records_py(payloads)


class CorruptRecordError(ValueError):
    """A record failed its CRC check. ``source`` names the file, ``offset`` is the byte offset of
    the record's header in it, ``reason`` says which check failed."""

    def __init__(self, source: str, offset: int, reason: str):
        self.source = source
        self.offset = offset
        self.reason = reason
        super().__init__(f"{source}: corrupt record at byte offset {offset}: {reason}")


@dataclass(frozen=True)
class Corruption:
    """One corruption found by a lenient scan: ``offset`` of the bad record's header in the file,
    ``skipped`` bytes passed over (up to the next good header), and the ``reason``."""

    source: str
    offset: int
    skipped: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: corrupt record at byte offset {self.offset} ({self.reason}); " \
            f"skipped {self.skipped} bytes"


@dataclass
class RecordScan:
    """Result of :func:`scan_records`.

    ``starts[i]`` and ``lengths[i]`` locate the data of the i-th good record (absolute offsets in
    the scanned buffer; the footer follows). ``end`` is the offset scanning stopped at: the end of
    the last complete record, i.e. where an incomplete tail starts, and where to resume.
    ``corruptions`` lists what a lenient scan skipped.
    """

    starts: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    end: int = 0
    corruptions: list[Corruption] = field(default_factory=list)

    def payloads(self, buf: bytes | memoryview) -> list[memoryview]:
        """The good records' data as views into ``buf`` (the buffer that was scanned)."""
        view = memoryview(buf)
        return [view[s : s + n] for s, n in zip(self.starts, self.lengths, strict=True)]


def _header_ok(view: memoryview, pos: int) -> bool:
    length, want = _unpack_qi(view, pos)
    return masked_crc32c(bytes(view[pos : pos + 8])) == want and length < MAX_RECORD_LENGTH


_RESYNC_CHUNK = 1 << 18


def _resync(view: memoryview, pos: int, limit: int) -> int:
    """First offset ``p`` with ``pos < p < limit`` whose 12 bytes form a header with a valid CRC
    (``view`` must hold ``limit + 11`` bytes), or ``limit``.

    numpy first keeps only the offsets whose length field is below ``MAX_RECORD_LENGTH`` (its
    top 33 bits zero) and that are not a zero length with a zero CRC (never a valid header:
    the masked CRC of 8 zero bytes is not 0), one chunk at a time; only those few get a CRC
    check. Damaged stretches and zero-filled tails cost a few vector passes per byte, not a
    Python loop."""
    import numpy as np

    arr = np.frombuffer(view, np.uint8)
    p = pos + 1
    while p < limit:
        hi = min(limit, p + _RESYNC_CHUNK)
        n = hi - p
        w = arr[p : hi + HEADER_SIZE - 1]
        ok = (w[3 : 3 + n] < 0x80) & (w[4 : 4 + n] == 0) & (w[5 : 5 + n] == 0) \
            & (w[6 : 6 + n] == 0) & (w[7 : 7 + n] == 0)
        ok &= (w[0:n] | w[1 : 1 + n] | w[2 : 2 + n] | w[3 : 3 + n]
               | w[8 : 8 + n] | w[9 : 9 + n] | w[10 : 10 + n] | w[11 : 11 + n]) != 0
        for c in np.flatnonzero(ok).tolist():
            if _header_ok(view, p + c):
                return p + c
        p = hi
    return limit


def find_header(buf: bytes | bytearray | memoryview, start: int = 0) -> int:
    """Offset of the first record header with a valid CRC (and a length below
    ``MAX_RECORD_LENGTH``) at or after ``start`` in ``buf``; ``max(start, len(buf) - 11)`` when
    there is none (a header may still begin in the last 11 bytes). Vectorised: about a
    nanosecond a byte on garbage and zeros."""
    view = memoryview(buf).cast("B")
    limit = len(view) - HEADER_SIZE + 1
    if start >= limit:
        return max(start, 0)
    return _resync(view, start - 1, limit)


def scan_records(
    buf: bytes | bytearray | memoryview,
    start: int = 0,
    *,
    source: str = "<bytes>",
    strict: bool = True,
    base_offset: int = 0,
) -> RecordScan:
    """Locate and CRC-check the records of ``buf`` from byte ``start``.

    Args:
        buf: bytes of an event file (or a block of one that starts at a record boundary).
        start: offset in ``buf`` of the first record's header.
        source: name used in errors and corruption reports (the file's path).
        strict: raise :class:`CorruptRecordError` on the first CRC mismatch (default); with
            ``False``, report it in ``RecordScan.corruptions`` and go on.
        base_offset: added to offsets in errors and reports (the file offset of ``buf[0]``).

    Returns:
        A :class:`RecordScan`. An incomplete tail is never an error: ``end`` points at it.

    Raises:
        CorruptRecordError: in strict mode, on a header or data CRC mismatch or a length field
            ``>= MAX_RECORD_LENGTH``.
    """
    k = _kernel
    if k is not None:
        import numpy as np

        starts, lengths, end, found = k.scan_records(buf, start, strict)
        result = RecordScan(
            np.frombuffer(starts, dtype=np.int64).tolist(),
            np.frombuffer(lengths, dtype=np.int64).tolist(),
            end,
            [Corruption(source, base_offset + o, n, r) for o, n, r in found],
        )
        if strict and found:
            o, _, r = found[0]
            raise CorruptRecordError(source, base_offset + o, r)
        return result
    return _scan_records_py(buf, start, source=source, strict=strict, base_offset=base_offset)


def _scan_records_py(
    buf: bytes | bytearray | memoryview,
    start: int = 0,
    *,
    source: str = "<bytes>",
    strict: bool = True,
    base_offset: int = 0,
    max_length: int | None = None,
) -> RecordScan:
    view = memoryview(buf).cast("B")
    size = len(view)
    result = RecordScan()
    starts, lengths = result.starts, result.lengths
    crc = _crc
    pos = start
    while pos + HEADER_SIZE <= size:
        length, want = _unpack_qi(view, pos)
        c = crc(bytes(view[pos : pos + 8]))
        bad_crc = ((((c >> 15) | (c << 17)) & _U32) + _MASK_DELTA) & _U32 != want
        if bad_crc or length >= MAX_RECORD_LENGTH:
            reason = "header CRC mismatch" if bad_crc else "length field too large"
            if strict:
                raise CorruptRecordError(source, base_offset + pos, reason)
            nxt = _resync(view, pos, size - HEADER_SIZE + 1)
            if nxt >= size - HEADER_SIZE + 1:
                # No later header in what we have: it may still arrive; keep the tail.
                result.corruptions.append(Corruption(source, base_offset + pos, 0, reason))
                break
            result.corruptions.append(Corruption(source, base_offset + pos, nxt - pos, reason))
            pos = nxt
            continue
        if max_length is not None and length > max_length:
            break  # left to the caller (the C kernel's scan_events ``limit``)
        data_start = pos + HEADER_SIZE
        data_end = data_start + length
        if data_end + FOOTER_SIZE > size:
            break  # incomplete tail: its bytes have not all arrived
        (want,) = _unpack_i(view, data_end)
        c = crc(bytes(view[data_start:data_end]))  # google_crc32c takes no memoryview
        if ((((c >> 15) | (c << 17)) & _U32) + _MASK_DELTA) & _U32 != want:
            if strict:
                raise CorruptRecordError(source, base_offset + pos, "data CRC mismatch")
            result.corruptions.append(
                Corruption(source, base_offset + pos, data_end + FOOTER_SIZE - pos,
                           "data CRC mismatch")
            )
        else:
            starts.append(data_start)
            lengths.append(length)
        pos = data_end + FOOTER_SIZE
    result.end = pos
    return result
