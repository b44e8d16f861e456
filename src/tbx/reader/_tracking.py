"""Change tracking: what the reader knows of each event file, and whether a new listing can be
read by appending or the run must be read again from the start.

Event files only grow. Anything else makes the points read so far untrustworthy, and because a
purge in one file drops points of the files before it, the whole run is then re-read (runs are
small next to a logdir; this is rare). A run is re-read when, since the last refresh, one of its
event files:

* vanished;
* shrank (its size is below the size last listed);
* was replaced: another inode under the same name (local files), or its first bytes (the
  ``file_version`` record, which holds the writer's start time) changed; checked whenever the
  listing says the file changed (size, mtime, or the store's version fields), so in-place
  rewrites (``cp``) and object stores are covered too;
* or a file holding a record appeared, or became readable, before a file already read (in name
  order): a fresh read would have read it first. (A file that merely grows while later ones
  are read, as with several writers in one run, is appended in place: see
  :func:`tbx.reader._ingest.ingest`; only runs in the pre-2016 format are re-read then.)
"""

from __future__ import annotations

import struct

from tbx import record
from tbx.reader._types import FileEntry

__all__ = ["FileState", "HEAD_BYTES", "why_reread"]

#: Bytes kept from the start of each file to recognise it (a file_version record is ~40).
HEAD_BYTES = 64


class FileState:
    """What is known of one event file: ``path``; ``index`` in its run (for per-point file ids);
    ``size``, ``ident`` and ``stamp`` at the last listing (see
    :class:`~tbx.reader._types.FileEntry`); ``offset`` where reading resumes (the end of the last
    complete record, or of skipped garbage); ``seen``, the bytes examined (read again only when
    the file grows past it); ``done``, the end of the last block whose records were added
    (reading the file again up to there gives the same points); ``head``, its first bytes;
    ``span``, ``span_end``,
    ``span_reason``: an open stretch of garbage (see :func:`tbx.reader._scan.scan_file`)."""

    __slots__ = ("path", "index", "size", "ident", "stamp", "offset", "seen", "done", "head",
                 "span", "span_end", "span_reason")

    def __init__(self, entry: FileEntry, index: int):
        self.path = entry.path
        self.index = index
        self.size = entry.size
        self.ident = entry.ident
        self.stamp = entry.stamp
        self.offset = 0
        self.seen = 0
        self.done = 0
        self.head = b""
        self.span: int | None = None
        self.span_end = 0
        self.span_reason = ""

    def listed(self, entry: FileEntry) -> None:
        self.size, self.ident, self.stamp = entry.size, entry.ident, entry.stamp

    def note_head(self, base: int, buf: bytes) -> None:
        """Keep the file's first bytes from a block read at offset ``base``."""
        have = len(self.head)
        if have < HEAD_BYTES and base <= have < base + len(buf):
            self.head = self.head + buf[have - base : HEAD_BYTES - base]

    def resume_offset(self) -> int:
        """Where reading resumes, counting a reported garbage tail as read."""
        return self.offset if self.span is None else max(self.offset, self.span_end)


def _has_record(read, path: str, size: int) -> bool:
    """Whether ``path`` now starts with a complete record, or with damage (either way a fresh
    read would take something from it); False while it is unreadable or incomplete."""
    try:
        head = read(path, 0, record.HEADER_SIZE)
    except OSError:
        return False
    if len(head) < record.HEADER_SIZE:
        return False
    (length,) = struct.unpack_from("<Q", head)
    if record.masked_crc32c(head[:8]) != struct.unpack_from("<I", head, 8)[0]:
        return True
    return length + record.HEADER_SIZE + record.FOOTER_SIZE <= size


def _replaced(read, f: FileState, e: FileEntry) -> bool:
    if f.ident and e.ident and f.ident != e.ident:
        return True
    if e.stamp == f.stamp or not f.head:
        return False
    try:
        now = read(f.path, 0, len(f.head))
    except OSError:
        return False  # unreadable now: reported when reading
    return now != f.head


def why_reread(files: dict[str, FileState], entries: list[FileEntry], read,
               name=lambda p: p, legacy: bool = False) -> str | None:
    """Why a run whose files were ``files`` (by path) must be read again from the start, now
    that it lists ``entries`` (name order); ``None`` when reading the appended bytes suffices.
    ``read(path, offset, n)`` reads the few bytes needed to compare heads. ``legacy``: the run
    has no ``file_version >= 2`` (its purge rule depends on the order of every record, so a
    file that grows before files already read means a re-read)."""
    listed = {e.path: e for e in entries}
    for path, f in files.items():
        e = listed.get(path)
        if e is None:
            return f"event file {name(path)} vanished"
        if e.size < f.size:
            return f"event file {name(path)} shrank from {f.size} to {e.size} bytes"
        if _replaced(read, f, e):
            return f"event file {name(path)} was replaced"
    last_read = max((i for i, e in enumerate(entries)
                     if e.path in files and files[e.path].offset > 0), default=-1)
    for e in entries[:last_read]:
        f = files.get(e.path)
        if (f is None or f.offset == 0) and e.size > 0 and _has_record(read, e.path, e.size):
            return f"event file {name(e.path)} has records and comes before files already read"
        if legacy and f is not None and f.offset > 0 and e.size > f.seen:
            return f"event file {name(e.path)} grew before files already read (old format)"
    return None
