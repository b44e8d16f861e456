"""The reader's engine behind :class:`tbx.reader.provider.LogdirProvider` (private).

One refresh: list the logdir (:mod:`~tbx.reader._fs`); drop the runs that vanished; for each
other run decide whether its appended bytes can be read or it must be read again from the start
(:mod:`~tbx.reader._tracking`); scan the new bytes of each file block by block
(:mod:`~tbx.reader._scan`) and add the rows to the series (:mod:`~tbx.reader._ingest`,
:mod:`~tbx.reader._series`). A run read again from the start is built aside and swapped in
whole, so readers never see it half read. A file or folder that cannot be read is skipped and
reported (:meth:`LogdirReader.problems`); every other run is still read.

Memory: with a budget (``memory_budget``), the least recently used series are evicted once the
points held pass it (:mod:`~tbx.reader._budget`) and read back from their files when asked for
(:mod:`~tbx.reader._replay`); a refresh still counts, ranges and tracks them.

What to list: everything at each refresh, or (``watch=True``) only what changed
(:mod:`~tbx.reader._watch`); a run whose listed files did not change is not looked at.

The read methods and reading evicted series back live in :mod:`~tbx.reader._queries`.

Imports run one way: ``provider`` -> ``_core`` -> ``_queries`` -> ``_replay`` -> ``_ingest`` ->
``_tracking``, ``_run``, ``_series``, ``_decode``, ``_budget``, ``_scan``, ``_watch``, ``_fs`` ->
``_prefix``, ``_events_py``, ``_types``.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tbx.reader import _scan
from tbx.reader._budget import Budget, parse_size
from tbx.reader._fs import open_logdir
from tbx.reader._ingest import ingest
from tbx.reader._queries import Queries, _trim_heap
from tbx.reader._run import _Run, _Tag, legacy
from tbx.reader._series import decode_tensor_value
from tbx.reader._tracking import FileState, why_reread
from tbx.reader._types import (
    MIN_STEP,
    Changes,
    Corruption,
    Listing,
    Problem,
)
from tbx.reader._watch import Lister

log = logging.getLogger("tbx.reader")

#: Object stores: bytes and files fetched at once before reading them (see ``_batches``; the
#: next batch is fetched while one is read, so about twice this is held at most).
PREFETCH_BYTES = 128 << 20
PREFETCH_FILES = 512

#: Bytes read between two returns of freed heap to the OS during a long refresh (evicted
#: series and read blocks are freed into malloc's arenas, which otherwise keep them until
#: the refresh ends: a logdir of many GB would hold hundreds of MB more than its budget).
TRIM_EVERY = 256 << 20

#: The name tbparse_compat and frames import (the function lives in ``_series``).
_decode_tensor_value = decode_tensor_value


def _compile(pattern: str | None, name: str):
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise TypeError(f"{name} must be a regular expression string, got {type(pattern).__name__}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{name} {pattern!r} is not a valid regular expression: {exc}") from None


def _names(names, name: str) -> frozenset[str] | None:
    """``names`` (an iterable of str, or None) as a frozenset; TypeError otherwise."""
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise TypeError(f"{name} must be an iterable of names (str), e.g. a list, got "
                        f"{type(names).__name__}")
    out = frozenset(names)
    bad = [x for x in out if not isinstance(x, str)]
    if bad:
        raise TypeError(f"{name} must hold str names, got {type(bad[0]).__name__}")
    return out


def _why(exc: OSError) -> str:
    return f"[Errno {exc.errno}] {exc.strerror}" if exc.strerror else str(exc)


class LogdirReader(Queries):
    """Engine of :class:`tbx.reader.provider.LogdirProvider`; same arguments and errors, plus
    ``only_files`` (read only these paths, as the store lists them: tbparse-style file reads;
    a local store then looks at these files only, walking no folder)."""

    def __init__(self, logdir, *, run_filter: str | None = None, tag_filter: str | None = None,
                 only_files: set[str] | None = None, follow_symlinks: bool = False,
                 run_names=None, tag_names=None, memory_budget=None, watch: bool = False):
        self._budget = Budget(parse_size(memory_budget))
        self._only_files = only_files
        self._run_re = _compile(run_filter, "run_filter")
        self._tag_re = _compile(tag_filter, "tag_filter")
        self._run_names = _names(run_names, "run_names")
        self._tag_names = _names(tag_names, "tag_names")
        self._fs = open_logdir(logdir, follow_symlinks=follow_symlinks, only_files=only_files)
        self._fs.check()
        # a tag selection, for the scan: rows of other tags are dropped as they are scanned and
        # long records of other tags are seeked past unread (local files; an object store is
        # read in whole blocks, one request each, and filtered after the scan)
        local = getattr(self._fs, "prefetch", None) is None
        self._want = self._wanted if local and (self._tag_re or self._tag_names) else None
        self._lister = Lister(self._fs, watch, only=self._run_names)
        self._listing: Listing | None = None
        self._retry: set[str] = set()  # runs to read again whatever the listing says
        self.logdir = logdir if isinstance(logdir, str) else str(logdir)
        self._runs: dict[str, _Run] = {}
        self._corruptions: list[Corruption] = []
        self._seen_corruptions: dict[tuple[str, int], Corruption] = {}
        self._problems: dict[tuple[str, str], Problem] = {}
        self._new_corruptions: list[Corruption] = []  # found by the refresh under way
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ reading

    def refresh(self, progress=None) -> Changes:
        changes = Changes()
        listing = self._lister.listing()
        if listing is None:  # watched or polled: nothing to list now
            if not self._retry:
                return changes
            listing = Listing(self._listing.runs, self._listing.problems, set())
        self._listing = listing
        problems = list(listing.problems)
        runs = {}
        for name, entries in listing.runs.items():
            if self._run_re is not None and not self._run_re.search(name):
                continue
            if self._run_names is not None and name not in self._run_names:
                continue
            if self._only_files is not None:
                entries = [e for e in entries if e.path in self._only_files]
                if not entries:
                    continue
            runs[name] = entries
        for name in sorted(set(self._runs) - set(runs)):
            log.info("tbx: run %r vanished (no event files left): dropped", name)
            self._drop(name, changes)
        if listing.changed is None:
            names = list(runs)
        else:  # only the runs listed again, and those left to retry
            names = sorted((listing.changed | self._retry) & runs.keys())
        todo = []
        for name in names:
            entries = runs[name]
            run = self._runs.get(name)
            if run is None:
                todo.append((_Run(name, self._budget), entries, None))
                continue
            if run.listed == entries and name not in self._retry:
                continue  # nothing changed since the last listing
            why = why_reread(run.files, entries, self._fs.read, self._fs.file_name,
                             legacy=legacy(run.file_version))
            if why is None:
                todo.append((run, entries, run))
            else:
                log.info("tbx: run %r: %s: read again from the start", name, why)
                self._forget_corruptions(run)
                todo.append((_Run(name, self._budget), entries, run))
        total = sum(e.size - (run.files[e.path].seen if e.path in run.files else 0)
                    for run, entries, _ in todo for e in entries)
        done = [0, max(total, 0), progress, 0]  # [read, to read, progress, untrimmed]
        resets: set = set()  # series changed otherwise than "cut at the end, then appended"
        retry = set()
        for batch in self._batches(todo):
            for run, entries, old in batch:
                had = len(problems)
                self._read_run(run, entries, changes, resets, problems, done)
                run.listed = entries
                if len(problems) > had or any(run.files[e.path].seen < e.size
                                              for e in entries):
                    retry.add(run.name)  # read again next time, whatever the listing says
                if old is not run:
                    self._swap_in(run, old, changes, resets)
        self._retry = retry | {n for n in self._retry - set(names) if n in runs}
        if progress is not None:
            progress(done[1], done[1])
        self._note_problems(problems, changes)
        self._finish(changes, resets)
        if changes.bytes_read > _scan.BLOCK:
            _trim_heap()  # the read blocks' memory, back to the OS
        req = getattr(self._fs, "requests", None)
        if req is not None and log.isEnabledFor(logging.DEBUG):
            log.debug("tbx: %s: %d runs listed again, %d read; requests so far: %d listings, "
                      "%d reads, %d bytes", self.logdir, len(names), len(todo),
                      req["listings"], req["reads"], req["bytes"])
        return changes

    def all_names(self) -> dict[str, list[str]]:
        """See :meth:`tbx.reader.provider.LogdirProvider.all_names`."""
        with self._lock:
            listed = self._listing.runs if self._listing is not None else {}
            return {name: [t.decode("utf-8", errors="replace") for t in self._runs[name].tags_b]
                    if name in self._runs else [] for name in sorted(listed)}

    def _batches(self, todo):
        """``todo`` in batches whose first blocks are fetched at once (object stores: many
        requests in flight instead of one at a time), the next batch's fetch under way on a
        worker thread while this thread reads the current one."""
        fetch = getattr(self._fs, "fetch", None)
        if fetch is None:
            yield todo
            return
        with ThreadPoolExecutor(1, thread_name_prefix="tbx-fetch") as pool:
            ahead = None
            for batch, ranges in self._plan(todo):
                future = pool.submit(fetch, ranges)
                if ahead is not None:
                    self._fs.serve(ahead[1].result())
                    yield ahead[0]
                ahead = (batch, future)
            if ahead is not None:
                self._fs.serve(ahead[1].result())
                yield ahead[0]

    @staticmethod
    def _plan(todo):
        """``(batch, ranges)``: ``todo`` cut where the first blocks of its new bytes reach
        :data:`PREFETCH_BYTES` or :data:`PREFETCH_FILES`."""
        batch, ranges, size = [], [], 0
        for item in todo:
            run, entries, _ = item
            for e in entries:
                f = run.files.get(e.path)
                start = f.offset if f is not None else 0
                if e.size > (f.seen if f is not None else 0) and e.size > start:
                    end = min(e.size, start + _scan.BLOCK)
                    ranges.append((e.path, start, end))
                    size += end - start
            batch.append(item)
            if size >= PREFETCH_BYTES or len(ranges) >= PREFETCH_FILES:
                yield batch, ranges
                batch, ranges, size = [], [], 0
        if batch:
            yield batch, ranges

    def _read_run(self, run: _Run, entries, changes: Changes, resets: set, problems: list,
                  done) -> None:
        self._place_files(run, entries)
        for e in entries:
            f = run.files[e.path]
            f.listed(e)
            if e.size <= f.seen:
                continue
            try:
                for blk in _scan.scan_file(self._fs.read, f, e.size, run.tags_b, run.tag_index,
                                           self._fs.data_from, want=self._want):
                    f.note_head(blk.base, blk.buf)
                    with self._lock:
                        ingest(run, f, blk, changes, resets, self._report, self._new_slot,
                               self._materialize)
                        self._budget.trim()
                    n = len(blk.buf)
                    changes.bytes_read += n
                    done[0] += n
                    done[3] += n
                    if done[3] >= TRIM_EVERY:
                        _trim_heap()
                        done[3] = 0
                    if done[2] is not None:
                        done[2](min(done[0], done[1]), done[1])
            except OSError as exc:
                problems.append(Problem(e.path, f"cannot read event file: {_why(exc)}"))

    def _place_files(self, run: _Run, entries) -> None:
        """Add the new files of ``run``; file indices stay in name order (a file listed before
        known ones renumbers them, and the per-point file ids with them)."""
        new = [e for e in entries if e.path not in run.files]
        if not new:
            return
        with self._lock:
            for e in new:
                run.files[e.path] = FileState(e, len(run.file_names))
                run.file_names.append(self._fs.file_name(e.path))
            order = [run.files[e.path].index for e in entries]
            if order == sorted(order):
                return
            remap = np.empty(len(order), np.int32)
            remap[order] = np.arange(len(order), dtype=np.int32)
            for e, old in zip(entries, order, strict=True):
                run.files[e.path].index = int(remap[old])
            run.files = {e.path: run.files[e.path] for e in entries}
            run.file_names = [self._fs.file_name(e.path) for e in entries]
            run.purges = [(int(remap[i]), st) for i, st in run.purges]
            for s in run.series.values():
                s.remap_files(remap)

    def _swap_in(self, run: _Run, old: _Run | None, changes: Changes, resets: set) -> None:
        """Publish a run read from the start; what it replaced is reported as reset/removed."""
        name = run.name
        with self._lock:
            self._runs[name] = run
            if old is not None:
                self._release(old)
        if old is None:
            changes.new_runs.append(name)
            return
        again = {(name, *k) for k in old.series if k in run.series}
        changes.new_series[:] = [k for k in changes.new_series if k not in again]
        resets |= again
        changes.removed_series += [(name, *k) for k in old.series if k not in run.series]

    def _drop(self, name: str, changes: Changes) -> None:
        with self._lock:
            run = self._runs.pop(name)
            self._release(run)
        self._forget_corruptions(run)
        changes.removed_runs.append(name)
        changes.removed_series += [(name, *k) for k in run.series]

    def _release(self, run: _Run) -> None:
        """Stop accounting the series of a run that was dropped or replaced."""
        for s in run.series.values():
            self._budget.forget(s)

    def _forget_corruptions(self, run: _Run) -> None:
        """Forget what was reported about ``run``'s files (they are read again, or gone)."""
        paths = set(run.files)
        with self._lock:
            self._corruptions = [c for c in self._corruptions if c.source not in paths]
            self._seen_corruptions = {k: c for k, c in self._seen_corruptions.items()
                                      if k[0] not in paths}

    def _report(self, path: str, offset: int, skipped: int, reason: str) -> None:
        """Report a corruption once; a garbage stretch reported again longer (it went on)
        replaces its earlier report."""
        key = (path, offset)
        old = self._seen_corruptions.get(key)
        if old is not None and old.skipped >= skipped:
            return
        c = Corruption(path, offset, skipped, reason)
        self._seen_corruptions[key] = c
        if old is None:
            self._corruptions.append(c)
            warnings.warn(f"tbx: {c}", RuntimeWarning, stacklevel=2)
        else:
            self._corruptions = [c if x is old else x for x in self._corruptions]
            self._new_corruptions[:] = [x for x in self._new_corruptions if x is not old]
        self._new_corruptions.append(c)

    def _note_problems(self, problems: list[Problem], changes: Changes) -> None:
        now = {(p.path, p.reason): p for p in problems}
        for key, p in now.items():
            if key not in self._problems:
                changes.problems.append(p)
                warnings.warn(f"tbx: skipped {p}", RuntimeWarning, stacklevel=3)
        with self._lock:
            self._problems = now

    def _finish(self, changes: Changes, resets: set) -> None:
        """Report ``resets`` (series known before this refresh) as reset, fill the per-tag
        fields of ``changes`` from the per-series ones (the tag's first series only) and
        collect the corruptions reported during the refresh."""
        changes.corruptions += self._new_corruptions
        self._new_corruptions.clear()
        with self._lock:
            new = set(changes.new_series)
            for key in sorted(resets - new):
                run = self._runs.get(key[0])
                s = run.series.get(key[1:]) if run is not None else None
                if s is None:
                    continue
                changes.reset_series.append(key)
                changes.purged_series[key] = MIN_STEP
                changes.appended_series[key] = s.n
                if not s.n:
                    del changes.appended_series[key]

            def first(key) -> bool:
                run = self._runs.get(key[0])
                return run is not None and run.first.get(key[1]) is run.series.get(key[1:])

            for src, dst in ((changes.appended_series, changes.appended),
                             (changes.purged_series, changes.purged)):
                for key, v in src.items():
                    if first(key):
                        dst[key[:2]] = v
            changes.new_tags += [key[:2] for key in changes.new_series if first(key)]

    def _wanted(self, tag: bytes) -> bool:
        """Whether the tag filters keep ``tag`` (as the file holds it)."""
        name = tag.decode("utf-8", errors="replace")
        if self._tag_re is not None and not self._tag_re.search(name):
            return False
        return self._tag_names is None or name in self._tag_names

    def _new_slot(self, run: _Run, tid: int) -> _Tag | None:
        if not self._wanted(run.tags_b[tid]):
            return None
        return _Tag(run.tags_b[tid].decode("utf-8", errors="replace"))
