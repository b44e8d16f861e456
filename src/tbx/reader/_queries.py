"""The reader's queries (private): what :class:`tbx.reader.provider.LogdirProvider`'s read methods
answer from the state a refresh built, and reading evicted series back on demand.

A series evicted by the memory budget (:mod:`~tbx.reader._budget`) is read back from its event
files (:mod:`~tbx.reader._replay`) outside the reader's lock, so a refresh goes on meanwhile, and
installed only if the series did not change in between (else read again; after three changes,
while holding the lock).
"""

from __future__ import annotations

import numpy as np

from tbx.reader._names import file_order
from tbx.reader._replay import Stale, plan, replay
from tbx.reader._run import _Run
from tbx.reader._series import (
    _readonly,
    _Series,
    decode_blob_value,
    decode_tensor_value,
    decoded,
)
from tbx.reader._types import (
    BLOB,
    SCALAR,
    TENSOR,
    BlobSeries,
    Corruption,
    Problem,
    ScalarSeries,
    TagInfo,
    TensorSeries,
)

__all__ = ["Queries"]

#: Bytes a resident scalar point takes at most (int64 step, float64 wall time and value).
_SCALAR_BYTES = 24


def _trim_heap() -> None:
    """Return freed heap pages to the OS (glibc keeps them for reuse otherwise, so a reader's
    read buffers would stay in its RSS after a large read); nothing elsewhere."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None



class Queries:
    """Read methods of :class:`tbx.reader._core.LogdirReader` (which holds ``_lock``,
    ``_runs``, ``_budget``, ``_fs``, ``_lister``, ``_corruptions``, ``_problems``)."""

    def _damaged(self, run: _Run) -> bool:
        paths = run.files
        return any(c.source in paths for c in self._corruptions)

    def _install(self, s: _Series, fresh: _Series | None, wall: bool) -> None:
        if fresh is None or fresh.n != s.n:
            got = 0 if fresh is None else fresh.n
            if got == s.n == 0:
                s.resident = True
                return
            raise RuntimeError(f"tbx: reading {s.tag!r} ({s.plugin_name}) of run "
                               f"{s.run.name!r} back gave {got} points, not {s.n}")
        if not wall:
            fresh.wall = np.empty(0, np.float64)
            fresh.has_wall = False
        fresh.fit()  # read whole: no spare capacity held (up to half its columns)
        s.install(fresh)

    def _materialize(self, run: _Run, series, wall: bool = True) -> None:
        """Read evicted ``series`` of ``run`` back (with the lock held)."""
        tags = {s.tag for s in series}
        got = replay(self._fs, run.name, run.file_version, tags,
                     plan(run, tags, self._damaged(run)))
        for s in series:
            self._install(s, got.get((s.tag, s.plugin_name)), wall)
        _trim_heap()

    def _companions(self, s: _Series) -> list[_Series]:
        """Other evicted scalar series of ``s``'s run worth reading in the same pass (their
        records are interleaved with ``s``'s, so the pass reads their bytes anyway): as many
        as fit in half the room left in the budget, in the run's order."""
        b = self._budget
        if b.limit is None:
            return []
        room = (b.limit - b.total) // 2 - _SCALAR_BYTES * s.n
        out = []
        for o in s.run.series.values():
            if o is s or o.resident or o.data_class != SCALAR or not o.n:
                continue
            need = _SCALAR_BYTES * o.n
            if need <= room:
                out.append(o)
                room -= need
        return out

    def _read(self, run: str, tag: str, plugin, data_class, wall: bool, read):
        """``read(series)`` of a resident series, reading it back first if it was evicted:
        outside the lock (a refresh goes on meanwhile), then installed if the series did not
        change meanwhile; after three changes, while holding the lock. Evicted scalar series
        of the same run come back in the same pass while the budget has room for them."""
        def ready(s):
            return s.resident and (s.has_wall or not wall)

        def find():
            s = self._find(run, tag, plugin, data_class)
            if data_class is not None and s.data_class != data_class:
                raise TypeError(f"{run!r}/{tag!r} holds {s.data_class} data, not "
                                f"{'scalars' if data_class == SCALAR else data_class}")
            return s

        for _ in range(3):
            with self._lock:
                s = find()
                if ready(s):
                    self._budget.touch(s)
                    return self._done(s, read)
                r, fv = s.run, s.run.file_version
                others = self._companions(s)
                versions = {o: o.version for o in (s, *others)}
                tags = {o.tag for o in versions}
                todo = plan(r, tags, self._damaged(r))
            try:
                got = replay(self._fs, r.name, fv, tags, todo)
            except Stale:
                continue
            with self._lock:
                if ready(s) or s.version != versions[s] or self._runs.get(r.name) is not r:
                    continue
                for o in others:
                    if not o.resident and o.version == versions[o]:
                        self._install(o, got.get((o.tag, o.plugin_name)), wall)
                self._install(s, got.get((s.tag, s.plugin_name)), wall)
                del got
                _trim_heap()  # the pass's buffers, freed in this thread's malloc arena
                return self._done(s, read)
        with self._lock:
            s = find()
            if not ready(s):
                self._materialize(s.run, [s], wall)
            return self._done(s, read)

    def _done(self, s: _Series, read):
        self._budget.trim(keep={s})  # within the budget before ``read`` makes its answer
        out = read(s)
        self._budget.trim(keep={s})
        return out

    # ------------------------------------------------------------------ queries

    def close(self) -> None:
        self._lister.close()

    def runs(self) -> list[str]:
        with self._lock:
            return sorted(self._runs)

    def _run(self, run: str) -> _Run:
        try:
            return self._runs[run]
        except KeyError:
            raise KeyError(f"unknown run {run!r}") from None

    def _find(self, run: str, tag: str, plugin: str | None = None,
              data_class: str | None = None) -> _Series:
        r = self._run(run)
        if plugin is not None:
            s = r.series.get((tag, plugin))
            if s is None:
                raise KeyError(f"run {run!r} has no tag {tag!r} of plugin {plugin!r}")
            return s
        s = r.first.get(tag)
        if s is None:
            raise KeyError(f"run {run!r} has no tag {tag!r}")
        if data_class is not None and s.data_class != data_class:
            for (t, _), other in r.series.items():
                if t == tag and other.data_class == data_class:
                    return other
        return s

    def series(self, run: str) -> list[tuple[str, str, TagInfo]]:
        with self._lock:
            return [(t, p, s.info()) for (t, p), s in self._run(run).series.items()]

    def tags(self, run: str, plugin: str | None = None) -> dict[str, TagInfo]:
        with self._lock:
            r = self._run(run)
            if plugin is None:
                return {t: s.info() for t, s in r.first.items()}
            return {t: s.info() for (t, p), s in r.series.items() if p == plugin}

    def scalars(self, run: str, tag: str, plugin: str | None = None,
                wall_time: bool = True) -> ScalarSeries:
        def read(s):
            step, wall = s.columns()
            return ScalarSeries(step, wall, s.values())

        return self._read(run, tag, plugin, SCALAR, wall_time, read)

    def _decoded(self, run, tag, plugin, data_class: str, decode):
        return self._read(run, tag, plugin, data_class, True,
                          lambda s: (*s.columns(), decoded(s, decode)))

    def tensors(self, run: str, tag: str, plugin: str | None = None) -> TensorSeries:
        return TensorSeries(*self._decoded(run, tag, plugin, TENSOR, decode_tensor_value))

    def blobs(self, run: str, tag: str, plugin: str | None = None) -> BlobSeries:
        return BlobSeries(*self._decoded(run, tag, plugin, BLOB, decode_blob_value))

    def raw_values(self, run: str, tag: str, plugin: str | None = None):
        """``(step, wall_time, serialized Summary.Value per point)`` of a tensor or blob
        series."""
        return self._read(run, tag, plugin, None, True,
                          lambda s: (*s.columns(), list(s.raws[: s.n])))

    def file_ids(self, run: str, tag: str, plugin: str | None = None):
        """Per point, the index of its event file in the run, and the run's file names."""
        with self._lock:
            s = self._find(run, tag, plugin)
            return _readonly(s.file_ids()), list(self._run(run).file_names)

    def evict(self, run: str | None = None) -> int:
        """Evict every resident series (of ``run``, or of every run) whatever the budget;
        returns how many. They are read back from their files when next asked for."""
        n = 0
        with self._lock:
            runs = [self._run(run)] if run is not None else list(self._runs.values())
            for r in runs:
                if r.pinned():
                    continue
                for s in r.series.values():
                    if s.resident and s.n:
                        self._budget.forget(s)
                        s.evict()
                        n += 1
        return n

    def fit(self) -> None:
        """Give back the spare capacity of every resident series (a reader that is read
        once, such as ``tbx.read``'s; a live one would only grow them again)."""
        with self._lock:
            for r in self._runs.values():
                for s in r.series.values():
                    s.fit()
        _trim_heap()

    def memory(self) -> dict:
        """``{"limit", "resident_bytes", "resident_series", "evictions"}`` of the budget
        (bytes are counted only when a budget is set)."""
        with self._lock:
            b = self._budget
            return {"limit": b.limit, "resident_bytes": b.total,
                    "resident_series": sum(s.resident and s.n > 0 for r in self._runs.values()
                                           for s in r.series.values()),
                    "evictions": b.evictions}

    def metadata(self, run: str, tag: str, plugin: str | None = None):
        from tbx.proto import summary_pb2

        with self._lock:
            s = self._find(run, tag, plugin)
            out = summary_pb2.SummaryMetadata()
            if s.metadata is not None:
                out.CopyFrom(s.metadata)
            return out

    def corruptions(self) -> list[Corruption]:
        with self._lock:
            return list(self._corruptions)

    def problems(self) -> list[Problem]:
        with self._lock:
            return list(self._problems.values())

    def files(self, run: str) -> list[tuple[str, int, int]]:
        """``(path, size at the last listing, offset where reading resumes)`` of each event
        file of ``run``, in name order; ``offset < size`` means an incomplete last record (a
        writer still writing, or a cut-off file). Bytes reported as damage count as read."""
        with self._lock:
            files = sorted(self._run(run).files.values(),
                           key=lambda f: file_order(self._fs.file_name(f.path)))
            return [(f.path, f.size, f.resume_offset()) for f in files]
