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

from tbx.viewer import views as V

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
    """

    def __init__(self, provider, interval: float = 1.0):
        self.provider = provider
        self.interval = float(interval)
        self.loaded = threading.Event()
        self.version = 0
        self._subs: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._versions: dict[tuple[str, str], int] = {}  # bumped by each change of a series
        self._runs: set[str] = set()
        self._on_drop: list = []  # callbacks run when a run vanished or a series was purged

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
            except Exception:  # keep serving what was read; report and retry
                log.exception("refresh failed")
            if not self.loaded.is_set():
                self.loaded.set()
                _warm_up()
            self._stop.wait(self.interval)

    def on_drop(self, callback) -> None:
        """Call ``callback()`` after a refresh in which a run vanished or a series was purged
        (plugins' caches are emptied this way)."""
        self._on_drop.append(callback)

    def series_version(self, run: str, tag: str) -> int:
        """Counter of one series' changes (appends and purges)."""
        return self._versions.get((run, tag), 0)

    def refresh_once(self):
        """One ``provider.refresh()``; the changes are pushed to subscribers."""
        changes = self.provider.refresh()
        for key in (*changes.appended, *changes.purged):
            self._versions[key] = self._versions.get(key, 0) + 1
        runs = set(self.provider.runs())
        dropped = bool(self._runs - runs) or bool(changes.purged)
        self._runs = runs
        if changes or dropped:
            self.version += 1
        if dropped:
            for cb in self._on_drop:
                cb()
        if changes and self._subs:
            msgs = self.messages(changes)
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
        """SSE messages for one refresh's :class:`~tbx.reader.provider.Changes`:

        * ``event: tags`` ``{"runs": [new runs], "tags": [[run, tag]]}`` when runs or tags
          appeared;
        * ``event: scalars`` ``{"series": [{"run", "tag", "cut": step|null, "total": points in
          the series, "n": new points, "step", "wall_time", "value"}]}``: the new points of
          each scalar series as base64 little-endian float64 columns (omitted, with
          ``"reload": true``, past 2000 points); ``cut`` means drop every point with
          ``step >= cut`` before appending;
        * ``event: changed`` ``{"series": [{"run", "tag", "plugin"}]}`` for other kinds.
        """
        p = self.provider
        out = []
        if changes.new_runs or changes.new_tags:
            out.append(sse("tags", {"runs": list(changes.new_runs),
                                    "tags": [list(k) for k in changes.new_tags]}))
        keys = list(dict.fromkeys([*changes.purged, *changes.appended]))
        scal, other = [], []
        size = 0
        for run, tag in keys:
            try:
                info = p.tags(run)[tag]
            except KeyError:
                continue
            if info.data_class != "scalar":
                other.append({"run": run, "tag": tag, "plugin": info.plugin_name})
                continue
            s = p.scalars(run, tag)
            n = int(changes.appended.get((run, tag), 0))
            cut = changes.purged.get((run, tag))
            d = {"run": run, "tag": tag, "cut": None if cut is None else int(cut),
                 "total": len(s), "n": n}
            if n > MAX_DELTA:
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
