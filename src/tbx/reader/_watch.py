"""What to list at each refresh: everything (the default), or only what changed.

With ``watch=True`` a refresh costs nothing while nothing changes:

* a local logdir is watched with ``watchfiles`` (inotify, FSEvents, ReadDirectoryChangesW; one
  watcher for the whole tree, never a file handle per run): a refresh lists only the folders
  where something happened, and returns at once when nothing did. A whole listing still runs
  every :data:`RESCAN` seconds in case an event was lost, and once shortly after the watcher
  started (it starts after the first listing was read). A
  logdir holding symbolic links is listed whole whenever something changed (a link can make
  one folder appear under several names);
* object stores (``s3://``, ``gs://``, ...), network file systems (NFS, SMB, FUSE mounts,
  where the kernel sees no remote change) and local logdirs that cannot be watched (no
  ``watchfiles``, or the watch limit reached) are listed whole with back-off: after
  :data:`POLL_MIN` seconds, then twice as long after each listing that found nothing new, up to
  :data:`POLL_MAX` (object stores, where listings are paid requests) or :data:`POLL_MAX_LOCAL`;
  back to the minimum as soon as something changed.

A listing says which runs it re-listed (``changed``), so a refresh looks only at those.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from tbx.reader._fs import LocalLogdir
from tbx.reader._names import display_name
from tbx.reader._types import Listing

__all__ = ["Lister", "RESCAN", "POLL_MIN", "POLL_MAX", "NETWORK_FS"]

log = logging.getLogger("tbx.reader")

#: Seconds between whole listings of a watched local logdir.
RESCAN = 120.0
#: Back-off bounds (seconds) of polled logdirs.
POLL_MIN, POLL_MAX, POLL_MAX_LOCAL = 2.0, 60.0, 10.0
#: File system types whose changes made elsewhere produce no local events: polled.
NETWORK_FS = ("nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "9p", "afs", "ceph",
              "glusterfs", "lustre", "gpfs", "beegfs", "davfs", "sshfs", "fuse", "virtiofs")
#: watchfiles' grouping of events (ms): how long after a write a refresh sees it at most.
_DEBOUNCE_MS, _STEP_MS = 400, 100


def mount_type(path: str, mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """The file system type of the mount holding ``path`` (Linux), or ``None``."""
    real = os.path.realpath(path)
    best, kind = "", None
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                left, sep, right = line.partition(" - ")
                fields = left.split()
                if not sep or len(fields) < 5:
                    continue
                point = fields[4].replace("\\040", " ")
                inside = real == point or real.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, right.split(" ", 1)[0]
    except OSError:
        return None
    return kind


def _networked(kind: str | None) -> bool:
    return kind is not None and (kind in NETWORK_FS or kind.startswith("fuse."))


class _Watcher:
    """A watchfiles thread collecting the paths that changed below ``root``."""

    def __init__(self, root: str):
        import watchfiles

        self._paths: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.failed: BaseException | None = None
        self.events = 0

        def run():
            try:
                for batch in watchfiles.watch(
                        root, watch_filter=None, debounce=_DEBOUNCE_MS, step=_STEP_MS,
                        stop_event=self._stop, raise_interrupt=False,
                        ignore_permission_denied=True):
                    with self._lock:
                        self._paths.update(p for _, p in batch)
                        self.events += len(batch)
            except BaseException as exc:  # noqa: BLE001 - reported; the logdir is polled
                self.failed = exc

        self._thread = threading.Thread(target=run, name="tbx-watch", daemon=True)
        self._thread.start()

    def take(self) -> set[str]:
        with self._lock:
            out, self._paths = self._paths, set()
        return out

    def close(self) -> None:
        self._stop.set()


class Lister:
    """Lists ``store`` (a :class:`~tbx.reader._fs.LocalLogdir` or
    :class:`~tbx.reader._store.FsspecLogdir`) for each refresh. ``watch=False``: a whole
    listing every time. ``watch=True``: see the module docstring. ``only``: run names; a
    listing (unless watched) lists only their folders. :meth:`listing` returns ``None`` when
    nothing needs listing."""

    def __init__(self, store, watch: bool = False, only: frozenset[str] | None = None):
        self.store = store
        self.only = only  # run names: list only their folders (unless watched)
        self.watch = bool(watch)
        self.mode = "list"
        self._watcher: _Watcher | None = None
        self._last: Listing | None = None
        self._due = 0.0
        self._interval = POLL_MIN
        self._rescan_at = 0.0
        self._links = False
        self._dirs: dict[str, str] = {}  # folder -> run name, of every folder listed
        self._folder_problems: dict[str, list] = {}
        self.listings = 0  # whole listings made
        if not self.watch:
            return
        self.mode = "poll"
        if isinstance(store, LocalLogdir) and store.only_files is None \
                and not _networked(mount_type(store.root)):
            try:
                import watchfiles  # noqa: F401
            except ImportError:
                log.info("tbx: watchfiles is not installed: %s is polled", store.root)
            else:
                self.mode = "watch"  # the watcher starts after the first listing

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def poke(self) -> None:
        """List at the next refresh whatever the back-off says."""
        self._due = 0.0
        self._rescan_at = 0.0

    # ------------------------------------------------------------------ listings
    def listing(self) -> Listing | None:
        now = time.monotonic()
        if self.mode == "watch" and self._watcher is not None and self._watcher.failed:
            log.warning("tbx: cannot watch %s (%s): polling it instead", self.store.root,
                        self._watcher.failed)
            self.close()
            self.mode = "poll"
        if self.mode == "list" or self._last is None:
            return self._whole(now)
        if self.mode == "poll":
            if now < self._due:
                return None
            return self._whole(now)
        if self._watcher is None:
            # started once the first listing was read (setting up one watch per folder takes
            # a while on a large tree); what changed meanwhile is found by a whole listing soon
            # after
            self._watcher = _Watcher(self.store.root)
            self._rescan_at = now + 2.0
        paths = self._watcher.take()
        if now >= self._rescan_at:
            return self._whole(now)
        if not paths:
            return None
        if self._links:
            return self._whole(now)
        return self._partial(paths)

    def _whole(self, now: float) -> Listing:
        self.listings += 1
        if isinstance(self.store, LocalLogdir) and self.mode == "watch":
            self.store.check()
            runs: dict = {}
            problems: list = []
            dirs: dict[str, str] = {}
            self._links = self.store.walk([(self.store.root, ".")], runs, problems, dirs)
            self._dirs = dirs
            self._folder_problems = {}
            for p in problems:
                self._folder_problems.setdefault(os.path.dirname(p.path), []).append(p)
            new = Listing(dict(sorted(runs.items())), problems)
            self._rescan_at = now + RESCAN
        elif self.only is not None:
            new = self.store.list_runs(self.only)
        else:
            new = self.store.list_runs()
        if self.mode == "poll":
            same = self._last is not None and new.runs == self._last.runs \
                and new.problems == self._last.problems
            top = POLL_MAX_LOCAL if isinstance(self.store, LocalLogdir) else POLL_MAX
            self._interval = min(self._interval * 2, top) if same else POLL_MIN
            self._due = now + self._interval
        self._last = new
        return new

    def _partial(self, paths: set[str]) -> Listing:
        """Re-list the folders where ``paths`` changed (and new folders below them)."""
        store, root = self.store, self.store.root
        if not os.path.isdir(root):
            return self._whole(time.monotonic())  # raises FileNotFoundError
        inside = root.rstrip(os.sep) + os.sep
        todo: dict[str, str] = {}
        gone: set[str] = set()
        for p in paths:
            if p != root and not p.startswith(inside):
                continue
            folder = p if (p in self._dirs or os.path.isdir(p)) else os.path.dirname(p)
            if not os.path.isdir(folder):
                gone.add(folder)  # the folder (or the folder of a file) vanished
                continue
            todo[folder] = self._dirs.get(folder) or _rel(root, folder)
        runs = dict(self._last.runs)
        changed: set[str] = set()
        for folder in gone:  # a vanished folder takes everything below it
            cut = folder.rstrip(os.sep) + os.sep
            for d in [d for d in self._dirs if d == folder or d.startswith(cut)]:
                name = display_name(self._dirs.pop(d))
                runs.pop(name, None)
                changed.add(name)
                self._folder_problems.pop(d, None)
        for folder, rel in sorted(todo.items()):
            # parents first (sorted): a new folder met by its parent's listing is known here
            listed: dict = {}
            problems: list = []
            dirs: dict[str, str] = {}
            known = set(self._dirs)
            known.discard(folder)
            if store.walk([(folder, rel)], listed, problems, dirs, known=known):
                self._links = True
            self._dirs.update(dirs)
            for d in dirs:
                self._folder_problems.pop(d, None)
            for q in problems:
                self._folder_problems.setdefault(os.path.dirname(q.path), []).append(q)
            for r in dirs.values():
                name = display_name(r)
                changed.add(name)
                if name in listed:
                    runs[name] = listed[name]
                else:
                    runs.pop(name, None)
        problems = [q for ps in self._folder_problems.values() for q in ps
                    if q.path not in self._dirs]
        new = Listing(dict(sorted(runs.items())) if changed else self._last.runs, problems)
        new.changed = changed
        self._last = new
        return new


def _rel(root: str, folder: str) -> str:
    rel = os.path.relpath(folder, root)
    return "." if rel == "." else rel.replace(os.sep, "/")
