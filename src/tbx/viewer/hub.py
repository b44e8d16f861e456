"""The viewer's live core: the :class:`Hub` refreshes the provider in a background thread, keeps
change counters (cache keys for plugins) and fans changes out to live subscribers as server-sent
events.

Memory: one refresh's messages are built once and shared by every client (the same ``str``
objects); each client's queue (:class:`Subscriber`) holds at most :data:`CLIENT_BUFFER` bytes of
them. A client that falls that far behind (it stopped reading, or reads slower than the logdir
grows) has its queue emptied and gets one ``event: reload`` instead: the page then fetches
everything again. A message holds at most about :data:`MESSAGE_BYTES` (a bigger scalars update
is split), so the bytes in flight per client stay small too.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import threading

from tbx.viewer import MAX_RELOAD_INTERVAL
from tbx.viewer import views as V
from tbx.viewer.runinfo import RunInfo
from tbx.viewer.selection import RunSets

__all__ = ["Hub", "Subscriber", "MAX_DELTA", "CLIENT_BUFFER", "MESSAGE_BYTES", "RELOAD", "sse"]

log = logging.getLogger("tbx.viewer")

#: Live scalar points sent in one message per series; more says ``"reload": true``.
MAX_DELTA = 2000
#: Bytes of live messages queued for one client at most (then: ``reload``).
CLIENT_BUFFER = 32 * 1024 * 1024
#: About the largest live message (a scalars update is split into messages of this size).
MESSAGE_BYTES = 1024 * 1024


def sse(event: str, data) -> str:
    """One server-sent event: ``event: <event>`` and its JSON ``data`` (NaN/inf as null)."""
    return f"event: {event}\ndata: {json.dumps(V.json_safe(data), separators=(',', ':'))}\n\n"


#: What a client that fell behind gets instead of the messages it missed.
RELOAD = sse("reload", {"reason": "this page fell behind the live updates"})


class Subscriber:
    """One live client's queue of SSE messages, bounded to ``limit`` bytes. Used on the event
    loop's thread only.

    Attributes:
        size: bytes queued now.
        overflows: how many times the client fell behind (queue emptied, ``reload`` queued).
    """

    def __init__(self, limit: int = CLIENT_BUFFER):
        self.limit = int(limit)
        self.size = 0
        self.overflows = 0
        self._q: collections.deque[str] = collections.deque()
        self._ready = asyncio.Event()
        self._reload_pending = False

    def put(self, msg: str) -> None:
        """Queue ``msg``; past the limit, empty the queue and queue :data:`RELOAD` (once, until
        the client has taken it: the reload covers what comes meanwhile)."""
        if self._reload_pending:
            return
        if self.size + len(msg) > self.limit:
            self._q.clear()
            self._q.append(RELOAD)
            self.size = len(RELOAD)
            self._reload_pending = True
            self.overflows += 1
        else:
            self._q.append(msg)
            self.size += len(msg)
        self._ready.set()

    async def get(self, timeout: float) -> str | None:
        """The next message, or ``None`` after ``timeout`` seconds without one."""
        if not self._q:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except asyncio.TimeoutError:
                return None
        msg = self._q.popleft()
        self.size -= len(msg)
        if msg is RELOAD:
            self._reload_pending = False
        return msg


class Hub:
    """Owns the provider: refreshes it in a background thread every ``interval`` seconds and
    fans the changes out to live subscribers (asyncio queues of SSE messages).

    Attributes:
        version: grows by one with every refresh that changed anything.
        loaded: set once the first refresh ended.
        runsets: the posted run selections (:class:`tbx.viewer.selection.RunSets`).
        runinfo: cached hyperparameters and series stats (:class:`tbx.viewer.runinfo.RunInfo`).
    """

    def __init__(self, provider, interval: float = 1.0):
        self.provider = provider
        self.interval = float(interval)
        if not 0 < self.interval <= MAX_RELOAD_INTERVAL:
            raise ValueError(f"reload_interval must be a number of seconds in "
                             f"(0, {MAX_RELOAD_INTERVAL:g}], got {interval!r}")
        self.loaded = threading.Event()
        self.version = 0
        self._subs: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # change counters, bumped by each change of a series: keys (run, tag, plugin) and
        # (run, tag); never reset (a re-created series keeps counting, so cache keys differ)
        self._versions: dict[tuple, int] = {}
        self._runs: set[str] = set()
        self._on_drop: list = []  # callbacks run when a run vanished or a series was purged
        self._problems: list[dict] = []
        self._last_error: str | None = None
        self.runsets = RunSets()
        self.runinfo = RunInfo(provider, self.series_version, lambda: self.version)
        self._on_drop.append(self.runinfo.clear)

    # lifecycle -------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="tbx-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh_once()
                self._last_error = None
            except Exception as exc:  # keep serving what was read; report (once) and retry
                why = f"{type(exc).__name__}: {exc}"
                if why != self._last_error:
                    log.exception("tbx: refresh failed (retrying every %g s)", self.interval)
                self._last_error = why
            if not self.loaded.is_set():
                self.loaded.set()
                _warm_up()
            self._stop.wait(self.interval)

    def on_drop(self, callback) -> None:
        """Call ``callback()`` after a refresh in which a run or series vanished, or a series
        was purged or read again (plugins' caches are emptied this way)."""
        self._on_drop.append(callback)

    def series_version(self, run: str, tag: str, plugin: str | None = None) -> int:
        """Counter of the changes (appends, purges, resets, removal) of one series ``(run,
        tag, plugin)``, or of any series of the tag when ``plugin`` is ``None``."""
        key = (run, tag) if plugin is None else (run, tag, plugin)
        return self._versions.get(key, 0)

    def problems_json(self) -> list[dict]:
        """``provider.problems()`` as ``[{"path", "reason"}]`` (empty for a provider without
        them)."""
        problems = getattr(self.provider, "problems", None)
        return [] if problems is None else [{"path": p.path, "reason": p.reason}
                                           for p in problems()]

    def refresh_once(self):
        """One ``provider.refresh()``: counters bumped, caches emptied when something was
        dropped, new problems and corruptions logged once each, and the changes pushed to
        subscribers (:meth:`messages`)."""
        changes = self.provider.refresh()
        touched = dict.fromkeys([*changes.appended_series, *changes.purged_series,
                                 *changes.reset_series, *changes.removed_series])
        for key in touched:
            for k in (key, key[:2]):
                self._versions[k] = self._versions.get(k, 0) + 1
        runs = set(self.provider.runs())
        dropped = bool(self._runs - runs or changes.removed_series or changes.purged_series
                       or changes.reset_series)
        self._runs = runs
        for pr in changes.problems:
            log.warning("tbx: skipped %s: %s", pr.path, pr.reason)
        for c in changes.corruptions:
            log.warning("tbx: %s", c)
        problems = self.problems_json()
        problems_changed = problems != self._problems
        self._problems = problems
        if changes or dropped:
            self.version += 1
        if dropped:
            for cb in self._on_drop:
                cb()
        if (changes or problems_changed) and self._subs:
            msgs = self.messages(changes)
            if problems_changed:
                msgs.append(sse("problems", {"problems": problems}))
            if msgs and self._loop is not None:
                self._loop.call_soon_threadsafe(self._publish, msgs)
        return changes

    def _publish(self, msgs: list[str]) -> None:
        for sub in list(self._subs):
            for m in msgs:
                sub.put(m)

    def subscribe(self, limit: int | None = None) -> Subscriber:
        """A new live client's :class:`Subscriber` (call on the event loop's thread)."""
        sub = Subscriber(CLIENT_BUFFER if limit is None else limit)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub) -> None:
        self._subs.discard(sub)

    @property
    def subscribers(self) -> list[Subscriber]:
        return list(self._subs)

    # live messages -----------------------------------------------------------------------
    def messages(self, changes) -> list[str]:
        """SSE messages for one refresh's :class:`~tbx.reader.provider.Changes` (series are
        ``(run, tag, plugin)``):

        * ``event: tags`` ``{"runs": [new runs], "tags": [[run, tag]] (new tags), "series":
          [[run, tag, plugin]] (new series), "removed_runs": [run], "removed_series": [[run,
          tag, plugin]]}`` when runs or series appeared or vanished;
        * ``event: scalars`` ``{"series": [{"run", "tag", "plugin", "cut": step|null,
          "reset": bool, "total": points in the series, "n": new points, "step",
          "wall_time", "value"}]}``: the new points of each scalar series as base64
          little-endian float64 columns (omitted, with ``"reload": true``, past
          :data:`MAX_DELTA` points); ``cut``: drop every point with ``step >= cut`` before
          appending; ``reset``: the series was read again from the start (drop it and fetch
          it again); split into messages of about :data:`MESSAGE_BYTES`;
        * ``event: changed`` ``{"series": [{"run", "tag", "plugin", "reset"}]}`` for series of
          other data classes that were appended to, purged or reset.
        """
        p = self.provider
        out = []
        if (changes.new_runs or changes.new_tags or changes.new_series
                or changes.removed_runs or changes.removed_series):
            out.append(sse("tags", {
                "runs": list(changes.new_runs), "tags": [list(k) for k in changes.new_tags],
                "series": [list(k) for k in changes.new_series],
                "removed_runs": list(changes.removed_runs),
                "removed_series": [list(k) for k in changes.removed_series]}))
        reset = set(changes.reset_series)
        removed = set(changes.removed_series)
        keys = [k for k in dict.fromkeys([*changes.reset_series, *changes.purged_series,
                                          *changes.appended_series]) if k not in removed]
        infos: dict[str, dict] = {}
        scal, other = [], []
        size = 0
        for run, tag, plugin in keys:
            try:
                if run not in infos:
                    infos[run] = {(t, pl): i for t, pl, i in p.series(run)}
                info = infos[run].get((tag, plugin))
                if info is None:
                    continue
                key = (run, tag, plugin)
                n = min(int(changes.appended_series.get(key, 0)), info.count)
                # past MAX_DELTA only the count is sent: the series is not read (with a memory
                # budget, an evicted series would be read back from its files for nothing)
                s = p.scalars(run, tag, plugin=plugin) \
                    if info.data_class == "scalar" and n <= MAX_DELTA else None
            except (KeyError, TypeError):  # vanished since this refresh
                continue
            if info.data_class != "scalar":
                other.append({"run": run, "tag": tag, "plugin": plugin, "reset": key in reset})
                continue
            total = info.count if s is None else len(s)
            n = min(n, total)
            cut = changes.purged_series.get(key)
            d = {"run": run, "tag": tag, "plugin": plugin,
                 "cut": None if cut is None else int(cut), "reset": key in reset,
                 "total": total, "n": n}
            if s is None:
                d["reload"] = True
            else:
                lo = len(s) - n
                d["step"] = V.b64_f64(s.step[lo:])
                d["wall_time"] = V.b64_f64(s.wall_time[lo:])
                d["value"] = V.b64_f64(s.value[lo:])
            scal.append(d)
            size += 200 + 3 * 11 * n
            if size >= MESSAGE_BYTES:  # keep each message small: split the update
                out.append(sse("scalars", {"series": scal}))
                scal, size = [], 0
        if scal:
            out.append(sse("scalars", {"series": scal}))
        if other:
            out.append(sse("changed", {"series": other}))
        return out


def _warm_up() -> None:
    """Import what the first smoothed or downsampled request needs (scipy takes ~1 s)."""
    try:
        import scipy.signal  # noqa: F401
        import tsdownsample  # noqa: F401
    except ImportError:
        pass
