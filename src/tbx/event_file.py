"""EventFileWriter: one event file (or stream of segments), written by a background thread.

The caller hands over serialized Events (``bytes``); a background thread frames them as TFRecords
(:mod:`tbx.record`) and writes them in large writes. The caller's cost is a deque append: no
lock, no protobuf object, no system call (except in worker processes: see below).

File names and where the data goes (a local file, or immutable segments on an object store) are
in :mod:`tbx.event_sinks`.

Guarantees:

* ``flush()`` is a barrier: when it returns, every event handed over before it is in the file
  (visible to any reader).
* Without ``flush()``, data reaches the file at least every ``flush_secs`` seconds, and sooner when
  many events are pending.
* ``close()`` flushes, fsyncs and closes; it is idempotent. Handing over an event after ``close()``
  opens a new file in the same folder (tensorboardX's behaviour); existing files are never
  truncated.
* Every writer still open at interpreter exit is closed.
* In a process forked while a writer was open, the writer forgets the parent's file and pending
  events and, on its first event, opens a file of its own (new pid in the name) in the same folder.

Worker processes (``sync``): a process made by ``os.fork`` or started by ``multiprocessing``
(fork, forkserver, spawn; ``Process``, ``Pool``, ``ProcessPoolExecutor``) often ends without
running ``atexit`` or finishing a background thread: fork and forkserver children leave through
``os._exit``, and ``Pool.terminate()`` (what ``with Pool(...)`` does on exit) kills idle workers
with SIGTERM. So in such a process a writer to a local path writes *synchronously*: each event is
framed and written to the file by the call that hands it over, before the call returns (in the
OS's page cache: it survives the process ending by ``os._exit``, SIGTERM or SIGKILL; not a power
cut). A writer to an fsspec URL stays buffered there (one upload per event would be too costly)
and warns once, at its first event in that process, that data logged since the last upload is
lost if the process is killed: call ``flush()`` before a worker's task returns. Writers in the
process that runs the script keep the buffered fast path.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import warnings
import weakref
from collections import deque

from tbx.event_sinks import (
    LocalFile,
    SegmentStore,
    event_file_name,
    file_version_event,
    is_url,
)
from tbx.record import frame_records

__all__ = [
    "EventFileWriter",
    "event_file_name",
    "is_url",
    "in_worker_process",
    "DEFAULT_FLUSH_SECS",
]

#: Default of ``flush_secs``: pending events reach the file at least this often (seconds). Short,
#: so that a live viewer is never more than a couple of seconds behind the training loop.
DEFAULT_FLUSH_SECS = 2.0

# Pending events that make the background thread write before flush_secs is up: keeps memory
# bounded on a fast loop while keeping wake-ups rare (one per this many events).
_WAKE_EVENTS = 16384

_live_writers: weakref.WeakSet[EventFileWriter] = weakref.WeakSet()
_forked = False  # True in a process made by os.fork (multiprocessing's fork and forkserver too)
_exit_hook_pid = 0  # pid in which the multiprocessing exit hook was registered


def in_worker_process() -> bool:
    """True in a process made by ``os.fork`` or started by :mod:`multiprocessing` (any start
    method): a process that may end through ``os._exit`` or a signal, skipping ``atexit``."""
    if _forked:
        return True
    mp = sys.modules.get("multiprocessing")
    return mp is not None and mp.parent_process() is not None


def _register_worker_exit_hook() -> None:
    """Close every writer when a multiprocessing child ends normally: its atexit handlers do not
    run under fork and forkserver (they leave through ``os._exit``), multiprocessing's exit
    finalizers do (``multiprocessing.util.Finalize`` with an exit priority)."""
    global _exit_hook_pid
    if _exit_hook_pid == os.getpid() or "multiprocessing" not in sys.modules:
        return
    _exit_hook_pid = os.getpid()
    from multiprocessing import util

    util.Finalize(None, _close_all_at_exit, exitpriority=10)


class EventFileWriter:
    """Writes serialized Events to a new event file in ``logdir``, off the caller's thread.

    Args:
        logdir: folder of the run (created if missing), or an fsspec URL (``s3://bucket/run``;
            needs ``pip install "tbx[fsspec]"`` plus the store's package, e.g. s3fs).
        max_queue: accepted for tensorboardX compatibility. Pending events are written when
            ``flush_secs`` is up or when more than ``max(max_queue, 16384)`` are pending; the
            caller never blocks on a full queue.
        flush_secs: longest time (seconds, > 0) an event waits before it is written.
        filename_suffix: appended to the file name.
        lazy: open the file only when the first event arrives (no empty file for a writer that
            never logs, e.g. one unpickled in a worker process).
        sync: ``True``: every event is written to the file before the call handing it over
            returns (no background thread; for a URL, one segment per event). ``False``:
            buffered, written by a background thread. ``None`` (default): ``True`` for a local
            path in a worker process (:func:`in_worker_process`, decided when the file opens,
            and again in a forked child), else ``False``.

    Raises:
        ValueError: ``flush_secs`` is not a positive number.
        TypeError: ``filename_suffix`` is not a str.
        OSError: the folder or file cannot be created.
        ImportError: a URL was given and fsspec is not installed.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        max_queue: int = 10,
        flush_secs: float = DEFAULT_FLUSH_SECS,
        filename_suffix: str = "",
        lazy: bool = False,
        *,
        sync: bool | None = None,
    ):
        if (
            not isinstance(flush_secs, (int, float))
            or isinstance(flush_secs, bool)
            or not (flush_secs > 0)
        ):
            raise ValueError(f"flush_secs must be a positive number of seconds, got {flush_secs!r}")
        if not isinstance(filename_suffix, str):
            raise TypeError(f"filename_suffix must be a str, got {type(filename_suffix).__name__}")
        self._logdir = os.fspath(logdir)
        self._remote = is_url(self._logdir)
        if self._remote:
            import importlib.util

            if importlib.util.find_spec("fsspec") is None:
                raise ImportError(
                    f"logging to {self._logdir!r} needs fsspec: pip install \"tbx[fsspec]\""
                )
        self._flush_secs = float(flush_secs)
        self._filename_suffix = filename_suffix
        self._max_queue = max_queue if isinstance(max_queue, int) else 0
        if sync not in (None, True, False):
            raise TypeError(f"sync must be None, True or False, got {sync!r}")
        self._sync_mode = sync
        self._sync = False  # decided by _open_locked
        self._sink: LocalFile | SegmentStore | None = None
        self._opened: list[LocalFile | SegmentStore] = []  # every file opened, in order
        self._path: str | None = None
        self._pending: deque[bytes] = deque()
        self._unwritten = b""  # framed bytes a failed write left behind, retried first
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._warned_buffered = False
        # 0 makes the next add_event_bytes call _kick(), which (re)opens the file.
        self._wake_at = 0
        if not lazy:
            with self._lock:
                self._open_locked()
        _live_writers.add(self)

    # ------------------------------------------------------------------ caller side

    def add_event_bytes(self, data: bytes) -> None:
        """Hand over one serialized Event (``bytes``). Never blocks on I/O."""
        pending = self._pending
        pending.append(data)
        if len(pending) >= self._wake_at:
            self._kick()

    def add_event(self, event) -> None:
        """Hand over one Event message (``tbx.proto.event_pb2.Event``)."""
        self.add_event_bytes(event.SerializeToString())

    def flush(self) -> None:
        """Write every event handed over so far; on return a reader sees them.

        Raises:
            OSError: a write failed (the unwritten events are kept and retried).
        """
        with self._lock:
            if self._sink is None:
                if not self._pending:
                    return
                self._open_locked()
            self._write_locked()
            if self._error is not None:
                err, self._error = self._error, None
                raise err

    def close(self) -> None:
        """Flush, fsync and close the file, and stop the background thread. Idempotent."""
        thread = self._thread
        with self._lock:
            self._stopping = True
            self._wake_at = 0
            if self._sink is None and self._pending:
                self._open_locked()  # events handed over but never opened for: keep them
                self._stopping = True
                self._wake_at = 0
                thread = self._thread
            if self._sink is not None:
                self._write_locked()
                self._sink.close()
                self._sink = None
            self._thread = None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if self._unwritten:
            warnings.warn(
                f"tbx: {len(self._unwritten)} bytes could not be written to {self._path}: "
                f"{self._error}",
                RuntimeWarning,
                stacklevel=2,
            )

    def get_logdir(self) -> str:
        """The folder (or URL) this writer writes into."""
        return self._logdir

    @property
    def path(self) -> str | None:
        """Path of the current event file (for a URL: the last segment written); ``None``
        before the first one is opened."""
        return self._sink.path if self._sink is not None else self._path

    def written_files(self) -> list[str]:
        """Paths of every event file this writer has opened, in the order it opened them (for
        a URL: the URLs of the segments uploaded so far)."""
        out: list[str] = []
        for sink in self._opened:
            out.extend(sink.segment_urls() if isinstance(sink, SegmentStore) else [sink.path])
        return out

    @property
    def closed(self) -> bool:
        return self._sink is None

    @property
    def bytes_uploaded(self) -> int:
        """For a URL: bytes sent to the store so far by the current stream (framed records)."""
        return getattr(self._sink, "bytes_uploaded", 0)

    # ------------------------------------------------------------------ internals

    def _kick(self) -> None:
        if self._wake_at <= 1:  # 0: no file open yet; 1: synchronous
            with self._lock:
                if self._sink is None:
                    self._open_locked()  # writes the pending events of a local file
                elif self._sync:
                    pending = self._pending
                    fd = getattr(self._sink, "fd", -1)
                    if len(pending) == 1 and not self._unwritten and fd >= 0:
                        # the common case, one event: frame it and write it in one system call
                        data = frame_records((pending.popleft(),))
                        try:
                            done = os.write(fd, data)
                        except OSError as exc:
                            self._error, done = exc, 0
                        if done < len(data):
                            self._unwritten = data[done:]
                            if self._error is None:
                                self._write_locked()
                    else:
                        self._write_locked()
                err, self._error = self._error, None
            if err is not None:
                warnings.warn(
                    f"tbx: writing {self._path} failed: {err}; the events are kept and "
                    f"retried on the next call",
                    RuntimeWarning,
                    stacklevel=4,
                )
            return
        if not self._wake.is_set():
            self._wake.set()

    def _reopen(self) -> None:
        with self._lock:
            if self._sink is None:
                self._open_locked()

    def _open_locked(self) -> None:
        now = time.time()
        name = event_file_name("" if self._remote else self._filename_suffix, now)
        worker = in_worker_process()
        sync = self._sync_mode
        if sync is None:
            sync = worker and not self._remote
        if self._remote:
            sink = SegmentStore(self._logdir, name)
            sink.suffix = self._filename_suffix
        else:
            sink = LocalFile(self._logdir, name)
        self._sink = sink
        self._path = sink.path
        self._opened.append(sink)
        self._stopping = False
        self._sync = sync
        self._pending.appendleft(file_version_event(now))
        if worker:
            _register_worker_exit_hook()
            if not sync and not self._warned_buffered:
                self._warned_buffered = True
                warnings.warn(
                    f"tbx: a writer to {self._logdir!r} is used in a worker process (pid "
                    f"{os.getpid()}): its events are uploaded every {self._flush_secs:g} s and "
                    f"at flush() and close(); what was logged since the last upload is lost if "
                    f"the process is killed (Pool.terminate(), the end of a 'with Pool' block) "
                    f"or leaves through os._exit. Call writer.flush() before the task returns.",
                    RuntimeWarning,
                    stacklevel=5,
                )
        if sync:
            self._write_locked()  # header and every pending event, before the caller returns
            self._thread = None
            self._wake_at = 1
            return
        if not self._remote:
            self._write_locked()  # the file starts with its header at once, as tensorboardX's
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"tbx-event-writer:{name}", daemon=True
        )
        self._thread.start()
        self._wake_at = max(self._max_queue, _WAKE_EVENTS)

    def _write_locked(self) -> None:
        """Frame the pending events and write them; keep what a failed write leaves."""
        pending = self._pending
        if pending:
            # popleft only what is there now: an append racing with this lands after it and
            # stays pending (appends and poplefts of a deque are atomic).
            pop = pending.popleft
            self._unwritten += frame_records([pop() for _ in range(len(pending))])
        data = self._unwritten
        if not data or self._sink is None:
            return
        try:
            done = self._sink.write(data)
        except Exception as exc:  # noqa: BLE001 - kept, retried, raised at flush()
            self._error = exc
            done = getattr(exc, "tbx_written", 0)
        self._unwritten = data[done:] if done else data

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait(self._flush_secs)
            wake.clear()
            with self._lock:
                if self._stopping or wake is not self._wake:
                    return
                self._write_locked()
                if self._error is not None:
                    warnings.warn(
                        f"tbx: writing {self._path} failed: {self._error}; retrying",
                        RuntimeWarning,
                        stacklevel=1,
                    )

    def _after_fork_in_child(self) -> None:
        # The parent owns its file and its pending events; this process starts afresh (and, as
        # a worker process, writes synchronously: see the module docstring).
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        if self._sink is not None:
            try:
                self._sink.close(sync=False)
            except OSError:
                pass
        self._sink = None
        self._opened = []
        self._pending = deque()
        self._unwritten = b""
        self._wake_at = 0

    def __repr__(self) -> str:
        return f"EventFileWriter(path={self.path!r}, closed={self.closed})"


def _after_fork_in_child() -> None:
    global _forked
    _forked = True
    for writer in list(_live_writers):
        writer._after_fork_in_child()


def _close_all_at_exit() -> None:
    for writer in list(_live_writers):
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - exiting; nothing better to do
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)
