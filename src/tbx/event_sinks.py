"""Where an event file's bytes go: a local file, or immutable segments on an object store.

File name: ``events.out.tfevents.<10-digit seconds>.<hostname>.<pid>.<counter><filename_suffix>``
(TensorBoard's ``events.out.tfevents.<seconds>.<hostname>`` plus the pid and a per-process
counter of 6 digits, so two writers of one process, or two processes in the same second, never
share a file, and a process's files sort in creation order). The first record is
``Event(wall_time, file_version="brain.Event:2")``.

Where the data goes:

* a local path: one append-only file, written with ``os.write`` (no user-space buffer, so a
  forked child can never flush the parent's bytes into it);
* an fsspec URL (``s3://``, ``gs://``, ``memory://``, any protocol but ``file``): object stores
  cannot append, and re-uploading a growing file on every flush (what tensorboardX and TensorBoard
  do) costs bandwidth quadratic in the run's length. Instead each flush uploads one complete,
  immutable *segment*: an event file of its own named
  ``events.out.tfevents.<seconds>.<host>.<pid>.<counter>.<segment:06d><suffix>``, starting with its
  own ``file_version`` record. The names sort in write order, and TensorBoard and tbx's reader read
  a run's files in name order as one stream, so upload cost is linear in the data.

Both sinks have ``write(framed_bytes) -> int``, ``close(sync)`` and ``path``;
:class:`tbx.event_file.EventFileWriter` drives them.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import socket
import time

__all__ = [
    "LocalFile",
    "SegmentStore",
    "event_file_name",
    "file_version_event",
    "is_url",
    "FILE_VERSION",
]

FILE_VERSION = "brain.Event:2"
_counter = itertools.count(1)


def is_url(path: str) -> bool:
    """True for an fsspec URL other than a local file (``s3://b/x``, ``memory://x``)."""
    head, sep, _ = path.partition("://")
    return bool(sep) and head not in ("", "file", "local") and "/" not in head


def event_file_name(filename_suffix: str = "", wall_time: float | None = None) -> str:
    """A new event file name: ``events.out.tfevents.<seconds>.<host>.<pid>.<counter><suffix>``.

    The counter is unique within the process, so names never repeat in one process; it is
    zero-padded to 6 digits so that a process's files sort in creation order (TensorBoard reads
    a run's files in name order).
    """
    seconds = int(time.time() if wall_time is None else wall_time)
    return (
        f"events.out.tfevents.{seconds:010d}.{socket.gethostname()}."
        f"{os.getpid()}.{next(_counter):06d}{filename_suffix}"
    )


def file_version_event(wall_time: float) -> bytes:
    # Built by protobuf; once per file, so the import cost is paid once.
    from tbx.proto.event_pb2 import Event

    return Event(wall_time=wall_time, file_version=FILE_VERSION).SerializeToString()


class LocalFile:
    """An append-only local event file."""

    def __init__(self, logdir: str, name: str):
        os.makedirs(logdir, exist_ok=True)
        self.path = os.path.join(logdir, name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        self.fd = os.open(self.path, flags, 0o644)

    def write(self, data: bytes) -> int:
        """Write all of ``data`` (framed records) and return its length. On an error, the
        exception carries ``tbx_written``: the bytes written before it."""
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                done += os.write(self.fd, view[done:])
        except OSError as exc:
            exc.tbx_written = done
            raise
        finally:
            view.release()
        return done

    def close(self, sync: bool = True) -> None:
        if self.fd < 0:
            return
        if sync:
            try:
                os.fsync(self.fd)
            except OSError:
                pass
        os.close(self.fd)
        self.fd = -1


#: URL protocol -> tbx extra that installs its fsspec implementation.
_STORE_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


class SegmentStore:
    """Immutable segments on an fsspec filesystem: every write() is one new object."""

    def __init__(self, logdir: str, name: str):
        import fsspec  # optional dependency: `pip install "tbx[fsspec]"`

        self.protocol = logdir.partition("://")[0]
        try:
            self.fs, self.root = fsspec.core.url_to_fs(logdir)
        except ImportError as exc:
            extra = _STORE_EXTRAS.get(self.protocol)
            hint = f'pip install "tbx[{extra}]"' if extra else "install its fsspec package"
            raise ImportError(f"logging to {logdir!r} needs the store's package: {hint} "
                              f"({exc})") from exc
        self.stem = name  # events.out.tfevents.<secs>.<host>.<pid>.<counter>
        self.suffix = ""
        self.segment = 0
        self.path = f"{self.protocol}://{posixpath.join(self.root, name)}"
        self.bytes_uploaded = 0
        self._first = True  # the first segment's header comes with the pending events
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except Exception:  # noqa: BLE001 - object stores have no real folders
            pass

    def write(self, data: bytes) -> int:
        if not data:
            return 0
        # Each segment is a complete event file: it starts with its own file_version record.
        if not self._first:
            from tbx.record import frame_record

            data = frame_record(file_version_event(time.time())) + data
        name = f"{self.stem}.{self.segment:06d}{self.suffix}"
        with self.fs.open(posixpath.join(self.root, name), "wb") as f:
            f.write(data)
        self._first = False
        self.segment += 1
        self.bytes_uploaded += len(data)
        self.path = f"{self.protocol}://{posixpath.join(self.root, name)}"
        return len(data)

    def close(self, sync: bool = True) -> None:
        pass

    def segment_urls(self) -> list[str]:
        """URLs of the segments written so far, in write order."""
        root = posixpath.join(self.root, self.stem)
        return [f"{self.protocol}://{root}.{i:06d}{self.suffix}" for i in range(self.segment)]
