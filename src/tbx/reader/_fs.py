"""Where event files live: a local folder or an fsspec URL. File discovery only; what changed
since the last listing is :mod:`tbx.reader._tracking`'s job.

A logdir is listed recursively; every folder holding event files (a base name containing
``tfevents``, as TensorBoard's ``io_wrapper.IsSummaryEventsFile``) is a run named by its path
relative to the logdir with ``/`` separators (``"."`` for the logdir itself). Names that are not
valid UTF-8 are shown with ``\\xNN`` escapes (:func:`display_name`); the files are still read
through their real paths. The files of a run are read in name order (:func:`file_order`).
Naming rules: :mod:`tbx.reader._names`; a remote store: :mod:`tbx.reader._store`.

Local rules (the viewer reads only below LOGDIR):

* A symbolic link is followed only when its target, fully resolved, is inside the logdir
  (``follow_symlinks=True`` follows every link); a link that leads out is skipped and reported.
* A folder is walked once, however many links lead to it (loops end).
* Folders on pseudo file systems (``/proc``, ``/sys``, ``/dev``, cgroups, ... : the kernel's
  ``proc``, ``sysfs``, ``devtmpfs``... mounts in ``/proc/self/mountinfo``) are never walked.
* A folder that cannot be listed is skipped and reported; the rest is listed.
* With ``only_files`` (reading given event files, e.g. ``tbx inspect FILE``), only those files
  are looked at (one ``stat`` each): no folder is walked.
"""

from __future__ import annotations

import errno
import os
import stat

from tbx.reader._names import display_name, file_order, is_event_file, is_url
from tbx.reader._store import FsspecLogdir
from tbx.reader._types import FileEntry, Listing, Problem

__all__ = ["open_logdir", "LocalLogdir", "pseudo_devices"]


#: File system types that are never walked: kernel interfaces, not data.
PSEUDO_FS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs",
    "securityfs", "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "binfmt_misc",
    "autofs", "efivarfs", "selinuxfs", "nsfs", "rpc_pipefs", "nfsd",
})
_PSEUDO_PATHS = ("/proc", "/sys", "/dev")


def pseudo_devices(mountinfo: str = "/proc/self/mountinfo") -> frozenset[int]:
    """``st_dev`` of every mounted pseudo file system (:data:`PSEUDO_FS`), from ``mountinfo``;
    empty where there is none (then :data:`_PSEUDO_PATHS` is checked by path)."""
    devs = set()
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                left, sep, right = line.partition(" - ")
                if not sep:
                    continue
                fields, fstype = left.split(), right.split(" ", 1)[0]
                if fstype in PSEUDO_FS and len(fields) > 2 and ":" in fields[2]:
                    major, minor = fields[2].split(":", 1)
                    devs.add(os.makedev(int(major), int(minor)))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(devs)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


class LocalLogdir:
    """A logdir on the local file system.

    Args:
        root: the folder.
        follow_symlinks: follow links whose target is outside ``root`` too (pseudo file
            systems are still never walked, and loops still end).
        only_files: paths of event files directly in ``root``: list only these (run ``"."``),
            never walking a folder; ``None`` (default) lists the whole tree.
    """

    def __init__(self, root: str, follow_symlinks: bool = False, only_files=None):
        self.root = os.path.abspath(root)
        self.follow_symlinks = bool(follow_symlinks)
        self.only_files = None if only_files is None else sorted(
            {os.path.join(self.root, os.path.basename(p)) for p in only_files
             if os.path.dirname(os.path.abspath(p)) == self.root})
        self._pseudo = pseudo_devices()

    def check(self) -> None:
        """Raises FileNotFoundError / NotADirectoryError naming the logdir."""
        if not os.path.exists(self.root):
            raise FileNotFoundError(f"logdir {self.root!r} does not exist")
        if not os.path.isdir(self.root):
            raise NotADirectoryError(f"logdir {self.root!r} is not a folder")

    def _is_pseudo(self, folder: str, st: os.stat_result) -> bool:
        if self._pseudo:
            return st.st_dev in self._pseudo
        real = os.path.realpath(folder)
        return any(_inside(real, p) for p in _PSEUDO_PATHS)

    def list_runs(self, only: frozenset[str] | None = None) -> Listing:
        """Every run below the logdir and its event files (see the module docstring).

        ``only``: run names; then only those runs' folders are listed (not below them, nor
        anything else), by the same rules. A name that is no folder of the logdir lists
        nothing (one holding ``\\x`` escapes, :func:`display_name`, makes it list the whole
        logdir to find it)."""
        self.check()
        runs: dict[str, list[FileEntry]] = {}
        problems: list[Problem] = []
        if self.only_files is not None:
            found = []
            for path in self.only_files:
                if not is_event_file(os.path.basename(path)):
                    continue
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    problems.append(Problem(path, f"cannot read file: {_why(exc)}"))
                    continue
                if stat.S_ISREG(st.st_mode):
                    found.append(FileEntry(path, st.st_size, (st.st_dev, st.st_ino),
                                           (st.st_size, st.st_mtime_ns)))
            if found:
                runs["."] = sorted(found, key=lambda f: file_order(os.path.basename(f.path)))
            return Listing(runs, problems)
        if only is None:
            self.walk([(self.root, ".")], runs, problems)
            return Listing(dict(sorted(runs.items())), problems)
        root_real = os.path.realpath(self.root)
        for name in sorted(only):
            folder = self._run_folder(name)
            if folder is None or not os.path.isdir(folder):
                if "\\x" in name:  # not valid UTF-8 as the OS has it: found by a whole walk
                    return self.list_runs()
                continue
            if not self.follow_symlinks and not _inside(os.path.realpath(folder), root_real):
                continue  # a link out of the logdir: never followed
            found: dict[str, list[FileEntry]] = {}
            self.walk([(folder, name)], found, problems, known=_Everything())
            if name in found:
                runs[name] = found[name]
        return Listing(dict(sorted(runs.items())), problems)

    def _run_folder(self, name: str) -> str | None:
        """The folder of run ``name`` (``"."`` or ``a/b`` relative to the logdir), or ``None``
        when the name cannot be one (empty, ``..`` or ``.`` parts)."""
        if name == ".":
            return self.root
        parts = name.split("/")
        if any(p in ("", ".", "..") or os.sep in p or (os.altsep and os.altsep in p)
               for p in parts):
            return None
        return os.path.join(self.root, *parts)

    def walk(self, stack, runs: dict, problems: list, dirs: dict | None = None,
             known=None) -> bool:
        """List the folders of ``stack`` (``[(folder, run name)]``) and, depth first, the
        folders below them, adding runs to ``runs`` and what was skipped to ``problems``;
        ``dirs`` (when given) receives every folder listed (path -> run name). Folders in
        ``known`` are not descended into (they are listed already). Returns whether a
        symbolic link was met (then only a whole listing is sure to be right)."""
        root_real = os.path.realpath(self.root)
        seen: set[tuple[int, int]] = set()
        links = False
        while stack:
            folder, rel = stack.pop()
            try:
                st = os.stat(folder)
            except OSError:
                continue  # vanished, or a dangling link
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            if self._is_pseudo(folder, st):
                continue
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except FileNotFoundError:
                continue  # vanished since it was seen
            except OSError as exc:
                problems.append(Problem(folder, f"cannot list folder: {_why(exc)}"))
                continue
            if dirs is not None:
                dirs[folder] = rel
            found, subdirs = [], []
            for e in entries:
                if e.is_symlink():
                    links = True
                    if not self.follow_symlinks:
                        target = os.path.realpath(e.path)
                        if not _inside(target, root_real):
                            problems.append(Problem(e.path, f"symbolic link to {target!r} "
                                                            "leads out of the logdir (not "
                                                            "followed)"))
                            continue
                try:
                    is_dir = e.is_dir()
                except OSError:
                    continue
                if is_dir:
                    if known is None or e.path not in known:
                        subdirs.append((e.path, e.name if rel == "." else f"{rel}/{e.name}"))
                elif is_event_file(e.name):
                    try:
                        fst = e.stat()
                    except OSError:
                        continue  # vanished since the listing, or a dangling link
                    if stat.S_ISREG(fst.st_mode):
                        found.append(FileEntry(e.path, fst.st_size, (fst.st_dev, fst.st_ino),
                                               (fst.st_size, fst.st_mtime_ns)))
            stack.extend(reversed(subdirs))
            if found:
                found.sort(key=lambda f: file_order(os.path.basename(f.path)))
                runs[display_name(rel)] = found
        return links

    def read(self, path: str, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of ``path`` from byte ``offset`` (fewer at the end of the file;
        ``b""`` if the file vanished).

        Raises:
            OSError: the file cannot be read (e.g. PermissionError).
        """
        if size <= 0:
            return b""
        try:
            with open(path, "rb", buffering=0) as f:
                f.seek(offset)
                data = f.read(size)
                if data is None or len(data) >= size:
                    return data or b""
                parts = [data]  # a short read before the end of the file: keep going
                got = len(data)
                while got < size:
                    more = f.read(size - got)
                    if not more:
                        break
                    parts.append(more)
                    got += len(more)
                return b"".join(parts)
        except FileNotFoundError:
            return b""

    def data_from(self, path: str, offset: int) -> int:
        """The first offset ``>= offset`` that is not in a hole of a sparse file (holes read as
        zero bytes without being stored), or ``offset`` when that is unknown."""
        seek_data = getattr(os, "SEEK_DATA", None)
        if seek_data is None:
            return offset
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return offset
        try:
            return os.lseek(fd, offset, seek_data)
        except OSError as exc:  # ENXIO: only a hole up to the end; EINVAL: not supported
            return os.fstat(fd).st_size if exc.errno == errno.ENXIO else offset
        finally:
            os.close(fd)

    def file_name(self, path: str) -> str:
        return display_name(os.path.basename(path))


class _Everything:
    """A ``known`` for :meth:`LocalLogdir.walk` holding every folder: none is descended into."""

    def __contains__(self, _path) -> bool:
        return True


def _why(exc: OSError) -> str:
    return f"[Errno {exc.errno}] {exc.strerror}" if exc.strerror else str(exc)


def open_logdir(logdir: str | os.PathLike, follow_symlinks: bool = False, only_files=None):
    """The store of ``logdir`` (a path or a URL): a :class:`LocalLogdir` (``only_files``: list
    only these files, see there) or :class:`FsspecLogdir` (which lists the tree whatever
    ``only_files`` says; the reader keeps only those files).

    Raises:
        TypeError: ``logdir`` is not a str or path.
        ImportError: a URL without fsspec installed.
    """
    if not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"logdir must be a path or URL string, got {type(logdir).__name__}")
    path = os.fspath(logdir)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if is_url(path) and not path.startswith("file://"):
        return FsspecLogdir(path)
    if path.startswith("file://"):
        path = path[len("file://"):]
    return LocalLogdir(path, follow_symlinks=follow_symlinks, only_files=only_files)
