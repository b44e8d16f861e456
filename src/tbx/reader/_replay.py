"""Reading evicted series back from their event files.

An evicted series (see :mod:`tbx.reader._budget`) is read again as a fresh read of its run
would read it, keeping only its tag: the same scanner and the same ingest (plugin of each
Value, purges, several writers in one run), over the byte ranges where the run's blocks held
records of the tag or purges (:meth:`tbx.reader._series._Run.note_range`), up to the end of
the records already added (``FileState.done``). A run with damage (corruptions) is read whole,
so that the scanner meets the damage exactly as the first read did. The result is therefore
the series as it stands, point for point.
"""

from __future__ import annotations

from tbx.reader._ingest import ingest
from tbx.reader._run import _Run, _Tag
from tbx.reader._scan import scan_file
from tbx.reader._tracking import FileState
from tbx.reader._types import Changes, FileEntry

__all__ = ["plan", "replay", "Stale", "REPLAY_BLOCK"]

#: Bytes read at once when reading series back (smaller than a refresh's blocks: a request
#: thread's transient memory, beside the budget).
REPLAY_BLOCK = 16 << 20


class Stale(Exception):
    """An event file no longer starts with the bytes it had: it was replaced (the next
    refresh reads its run again)."""


def plan(run: _Run, tags, whole: bool) -> list[tuple[str, int, list, bytes]]:
    """What to read to get ``tags`` of ``run`` back: ``[(path, file index, [(start, end)],
    head bytes)]`` in file order (call with the reader's lock held). ``whole``: every file
    from its start (runs with damage)."""
    out = []
    for path, f in run.files.items():
        if f.done <= 0:
            continue
        if whole:
            spans = [(0, f.done)]
        else:
            spans = []
            for tag in tags:
                spans += run.ranges.get(tag, {}).get(path, ())
            if not spans:
                continue
            spans += run.control.get(path, ())
            spans = _merge(spans, f.done)
        out.append((path, f.index, spans, f.head))
    out.sort(key=lambda x: x[1])
    return out


def _merge(spans, limit: int) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted((a, min(b, limit)) for a, b in spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        elif a < b:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _ignore(*_args) -> None:
    pass


def replay(store, name: str, file_version, tags, todo) -> dict:
    """Series ``(tag, plugin) -> _Series`` (resident, not budgeted) of ``tags`` read from the
    ranges of ``todo`` (a :func:`plan`) through ``store`` (``read``, ``data_from``).

    Raises:
        Stale: a file's first bytes changed since it was read.
        OSError: a file cannot be read.
    """
    fresh = _Run(name)
    fresh.file_version = file_version  # as its first file's header set it in the first read
    wanted = set(tags)

    def new_slot(run, tid):
        tag = run.tags_b[tid].decode("utf-8", errors="replace")
        return _Tag(tag) if tag in wanted else None

    def want(tag: bytes) -> bool:
        return tag.decode("utf-8", errors="replace") in wanted

    # local files: other tags' rows dropped by the scan, their long records seeked past (an
    # object store is read in whole blocks: a request each)
    select = want if getattr(store, "prefetch", None) is None else None

    for path, index, spans, head in todo:
        f = FileState(FileEntry(path, 0, (), ()), index)
        for start, end in spans:
            f.offset = f.seen = start
            f.span = None
            for blk in scan_file(store.read, f, end, fresh.tags_b, fresh.tag_index,
                                 store.data_from, REPLAY_BLOCK, want=select):
                if blk.base == 0 and head and bytes(blk.buf[: len(head)]) != head \
                        and len(blk.buf) >= len(head):
                    raise Stale(path)
                ingest(fresh, f, blk, Changes(), set(), _ignore, new_slot)
    return fresh.series
