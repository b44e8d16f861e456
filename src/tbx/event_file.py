"""EventFileWriter: one event file, written by a background thread.

The caller hands over serialized Events (``bytes``); a background thread frames them as TFRecords
(:mod:`tbx.record`), checks nothing and writes them in large ``os.write`` calls. The caller's cost
is a deque append: no lock, no queue of Python objects, no system call.

File name: ``events.out.tfevents.<10-digit seconds>.<hostname>.<pid>.<counter><filename_suffix>``
(TensorBoard's ``events.out.tfevents.<seconds>.<hostname>`` plus pid and a per-process counter, so
two writers of one process, or two processes in the same second, never share a file). The first
record is ``Event(wall_time, file_version="brain.Event:2")``.

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
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import threading
import time
import warnings
import weakref
from collections import deque

from tbx.record import frame_records

__all__ = ["EventFileWriter", "event_file_name", "DEFAULT_FLUSH_SECS"]

#: Default of ``flush_secs``: pending events reach the file at least this often (seconds). Short,
#: so that a live viewer is never more than a couple of seconds behind the training loop.
DEFAULT_FLUSH_SECS = 2.0

# Pending events that make the background thread write before flush_secs is up: keeps memory
# bounded on a fast loop while keeping wake-ups rare (one per this many events).
_WAKE_EVENTS = 16384

_counter = itertools.count(1)
_live_writers: weakref.WeakSet[EventFileWriter] = weakref.WeakSet()
_FILE_VERSION = "brain.Event:2"


def event_file_name(filename_suffix: str = "", wall_time: float | None = None) -> str:
    """A new event file name: ``events.out.tfevents.<seconds>.<host>.<pid>.<counter><suffix>``.

    The counter is unique within the process, so names never repeat in one process.
    """
    seconds = int(time.time() if wall_time is None else wall_time)
    return (
        f"events.out.tfevents.{seconds:010d}.{socket.gethostname()}."
        f"{os.getpid()}.{next(_counter)}{filename_suffix}"
    )


def _file_version_event(wall_time: float) -> bytes:
    # Built by protobuf; only once per file, so the import cost is paid once.
    from tbx.proto.event_pb2 import Event

    return Event(wall_time=wall_time, file_version=_FILE_VERSION).SerializeToString()


class EventFileWriter:
    """Writes serialized Events to a new event file in ``logdir``, off the caller's thread.

    Args:
        logdir: folder of the run; created if missing.
        max_queue: accepted for tensorboardX compatibility. Pending events are written when
            ``flush_secs`` is up or when more than ``max(max_queue, 16384)`` are pending; the
            caller never blocks on a full queue.
        flush_secs: longest time (seconds, > 0) an event waits before it is written to the file.
        filename_suffix: appended to the file name.

    Raises:
        ValueError: ``flush_secs`` is not a positive number.
        OSError: the folder or file cannot be created.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        max_queue: int = 10,
        flush_secs: float = DEFAULT_FLUSH_SECS,
        filename_suffix: str = "",
    ):
        if not isinstance(flush_secs, (int, float)) or isinstance(flush_secs, bool) or not (
            flush_secs > 0
        ):
            raise ValueError(f"flush_secs must be a positive number of seconds, got {flush_secs!r}")
        if not isinstance(filename_suffix, str):
            raise TypeError(f"filename_suffix must be a str, got {type(filename_suffix).__name__}")
        self._logdir = os.fspath(logdir)
        self._flush_secs = float(flush_secs)
        self._filename_suffix = filename_suffix
        self._max_queue = max_queue
        self._path: str | None = None
        self._fd = -1
        self._pending: deque[bytes] = deque()
        self._unwritten = b""  # framed bytes a failed write left behind, retried first
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        # 0 makes the next add_event_bytes call _kick(), which (re)opens the file.
        self._wake_at = 0
        self._reopen()
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
        """Write every event handed over so far to the file; on return a reader sees them.

        Raises:
            OSError: a write failed (the events stay pending and are retried).
        """
        with self._lock:
            if self._fd < 0:
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
            if self._fd >= 0:
                self._write_locked()
                try:
                    os.fsync(self._fd)
                except OSError:
                    pass
                os.close(self._fd)
                self._fd = -1
            self._thread = None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if self._pending or self._unwritten:
            warnings.warn(
                f"tbx: {len(self._pending)} events could not be written to {self._path}",
                RuntimeWarning,
                stacklevel=2,
            )

    def get_logdir(self) -> str:
        """The folder this writer writes into."""
        return self._logdir

    @property
    def path(self) -> str | None:
        """Path of the current event file (``None`` before the first one is opened)."""
        return self._path

    @property
    def closed(self) -> bool:
        return self._fd < 0

    # ------------------------------------------------------------------ internals

    def _kick(self) -> None:
        if self._wake_at == 0:
            with self._lock:
                if self._fd < 0:
                    self._open_locked()
            return
        if not self._wake.is_set():
            self._wake.set()

    def _reopen(self) -> None:
        with self._lock:
            self._open_locked()

    def _open_locked(self) -> None:
        os.makedirs(self._logdir, exist_ok=True)
        now = time.time()
        path = os.path.join(self._logdir, event_file_name(self._filename_suffix, now))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        self._fd = fd
        self._path = path
        self._stopping = False
        self._pending.appendleft(_file_version_event(now))
        self._write_locked()
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"tbx-event-writer:{os.path.basename(path)}", daemon=True
        )
        self._thread.start()
        self._wake_at = max(int(self._max_queue) if isinstance(self._max_queue, int) else 0,
                            _WAKE_EVENTS)

    def _write_locked(self) -> None:
        """Frame the pending events and write them; keep what a failed write leaves."""
        pending = self._pending
        if pending:
            # popleft only what is there now: an append racing with this lands after it and
            # stays pending (appends and poplefts of a deque are atomic).
            pop = pending.popleft
            self._unwritten += frame_records([pop() for _ in range(len(pending))])
        data = self._unwritten
        if not data or self._fd < 0:
            return
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except OSError as exc:
            self._error = exc
        finally:
            view.release()
            self._unwritten = data[done:]

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
        # The parent owns its file and its pending events; this process starts afresh.
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        if self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd = -1
        self._pending = deque()
        self._unwritten = b""
        self._wake_at = 0

    def __repr__(self) -> str:
        return f"EventFileWriter(path={self._path!r}, closed={self.closed})"


def _after_fork_in_child() -> None:
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
