"""Where event files live: a local folder or an fsspec URL. File discovery only; what changed
since the last listing is :mod:`tbx.reader._tracking`'s job.

A logdir is listed recursively; every folder holding event files (a base name containing
``tfevents``, as TensorBoard's ``io_wrapper.IsSummaryEventsFile``) is a run named by its path
relative to the logdir with ``/`` separators (``"."`` for the logdir itself). Names that are not
valid UTF-8 are shown with ``\\xNN`` escapes (:func:`display_name`); the files are still read
through their real paths. A remote store is listed with ONE recursive listing
(``fs.find(root, detail=True)``), never folder by folder. The files of a run are read in name
order (:func:`file_order`).

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
import re
import stat
from dataclasses import dataclass

from tbx.reader._types import Problem

__all__ = ["open_logdir", "LocalLogdir", "FsspecLogdir", "FileEntry", "Listing", "is_url",
           "display_name", "file_order"]


def is_url(path: str) -> bool:
    """True for ``scheme://...`` strings (fsspec URLs); Windows drive paths are not URLs."""
    head, sep, _ = path.partition("://")
    return bool(sep) and len(head) > 1 and head.replace("+", "").replace("-", "").isalnum()


def _is_event_file(name: str) -> bool:
    return "tfevents" in name


_DIGITS = re.compile(r"(\d+)")


def file_order(name: str) -> tuple:
    """Sort key of event file names: name order, with runs of digits compared as numbers, so
    ``...<pid>.10`` comes after ``...<pid>.9`` (TensorBoard's fixed-width timestamps sort the
    same either way)."""
    parts = _DIGITS.split(name)
    return tuple((0, int(p), "") if i % 2 else (1, 0, p) for i, p in enumerate(parts))


def display_name(name: str) -> str:
    """``name`` (an OS name decoded with ``surrogateescape``) as printable UTF-8: bytes that are
    not valid UTF-8 become ``\\xNN`` escapes, e.g. ``b"bad\\xff"`` -> ``"bad\\\\xff"``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class FileEntry:
    """One event file as listed: ``path`` (as the store names it), ``size`` in bytes,
    ``ident`` (what says "the same file": ``(st_dev, st_ino)`` locally, ``()`` when the store
    has none) and ``stamp`` (changes whenever the content may have changed: size and mtime, or
    the store's version fields)."""

    path: str
    size: int
    ident: tuple
    stamp: tuple


@dataclass
class Listing:
    """``runs``: run name -> its event files in name order; ``problems``: what was skipped;
    ``changed``: the runs that were listed again (the others are as in the previous listing),
    or ``None`` when every run was."""

    runs: dict[str, list[FileEntry]]
    problems: list[Problem]
    changed: set[str] | None = None


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
                if not _is_event_file(os.path.basename(path)):
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
                elif _is_event_file(e.name):
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


#: Requests in flight when many objects are fetched at once (unless fsspec's
#: ``gather_batch_size`` says otherwise). A remote store answers in a round trip each, so more in
#: flight is sooner; a server on this machine is bound by its own CPU, which more in flight does
#: not raise (``benchmarks/bench_scale.py s3``).
FETCH_CONCURRENCY = 64

#: fsspec ``info`` fields that change when an object is rewritten.
_VERSION_FIELDS = ("mtime", "LastModified", "last_modified", "ETag", "etag", "created",
                   "updated", "generation", "md5Hash", "version_id")


class FsspecLogdir:
    """A logdir behind an fsspec URL (``s3://``, ``gs://``, ``memory://``, ...).

    One listing is one recursive ``find`` (S3 returns 1,000 keys a request); the existence
    check costs requests only when the listing finds nothing. :meth:`fetch` reads the new bytes
    of many objects at once (``cat_ranges``: concurrent on fsspec's async file systems such as
    s3fs and gcsfs, one ranged GET per object, at most :attr:`concurrency` requests in flight:
    ``fsspec.config.conf["gather_batch_size"]`` when set, else :data:`FETCH_CONCURRENCY`; for
    ``s3://`` the S3 client's connection pool is sized to match unless fsspec's config sets
    ``config_kwargs["max_pool_connections"]``: botocore's default pool of 10 would cap it);
    :meth:`serve` hands them to the :meth:`read` calls that ask for exactly them.
    ``requests`` counts listings, reads and bytes (logged at DEBUG on ``tbx.reader`` after each
    refresh)."""

    def __init__(self, url: str):
        try:
            import fsspec
            import fsspec.asyn
        except ImportError as exc:
            raise ImportError(
                f"logdir {url!r} is a URL: reading it needs fsspec (pip install 'tbx[fsspec]')"
            ) from exc
        self.url = url
        self.concurrency = int(fsspec.config.conf.get("gather_batch_size", FETCH_CONCURRENCY))
        options = {}
        if url.startswith(("s3://", "s3a://")) and self.concurrency > 0:
            client = dict(fsspec.config.conf.get("s3", {}).get("config_kwargs") or {})
            client.setdefault("max_pool_connections", self.concurrency)
            options["config_kwargs"] = client
        self.fs, self.root = fsspec.core.url_to_fs(url, **options)
        self._async = isinstance(self.fs, fsspec.asyn.AsyncFileSystem)
        self.root = self.root.rstrip("/")
        self.requests = {"listings": 0, "reads": 0, "bytes": 0}
        self._ready: dict[tuple[str, int], bytes] = {}

    #: Selected runs listed one folder each, up to this many (more: one recursive listing).
    ONLY_LISTINGS = 64

    def check(self) -> None:
        """Raises FileNotFoundError / NotADirectoryError naming the logdir, or PermissionError
        when the store refuses to answer without credentials (e.g. botocore's "Unable to
        locate credentials"), naming the logdir and the store's own message. One ``info``
        (on S3: a HEAD and a one-key listing; ``isdir`` would list every run folder)."""
        self.requests["listings"] += 1
        try:
            kind = self.fs.info(self.root).get("type")
        except FileNotFoundError:
            raise FileNotFoundError(f"logdir {self.url!r} does not exist") from None
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - the store's own error types, as an OSError
            raise PermissionError(f"logdir {self.url!r} cannot be listed: {exc}") from exc
        if kind != "directory":
            raise NotADirectoryError(f"logdir {self.url!r} is not a folder")

    def list_runs(self, only: frozenset[str] | None = None) -> Listing:
        """Every run and its event files: one recursive listing. ``only``: run names; when
        there are at most :attr:`ONLY_LISTINGS`, each of their folders is listed by itself
        (one request each, not below it) instead of the whole prefix."""
        if hasattr(self.fs, "invalidate_cache"):
            self.fs.invalidate_cache(self.root)
        if only is not None and len(only) <= self.ONLY_LISTINGS:
            listing = {}
            for name in sorted(only):
                if name != "." and any(p in ("", ".", "..") for p in name.split("/")):
                    continue
                self.requests["listings"] += 1
                folder = self.root if name == "." else f"{self.root}/{name}"
                try:
                    found = self.fs.ls(folder, detail=True)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                listing.update((i["name"], i) for i in found
                               if i["name"].rpartition("/")[0] == folder)
        else:
            self.requests["listings"] += 1
            listing = self.fs.find(self.root, detail=True)  # one recursive listing
        if not listing and only is None:
            self.check()  # an empty folder, or none at all
        runs: dict[str, list[FileEntry]] = {}
        root = self.root
        for path in sorted(listing):
            info = listing[path]
            if info.get("type", "file") != "file":
                continue
            folder, _, name = path.rpartition("/")
            if not _is_event_file(name):
                continue
            rel = folder[len(root):].strip("/") if folder.startswith(root) else folder
            size = int(info.get("size") or 0)
            stamp = (size, *(str(info.get(k)) for k in _VERSION_FIELDS if k in info))
            runs.setdefault(display_name(rel or "."), []).append(FileEntry(path, size, (), stamp))
        return Listing({run: sorted(files, key=lambda f: file_order(f.path.rpartition("/")[2]))
                        for run, files in sorted(runs.items())}, [])

    def fetch(self, ranges: list[tuple[str, int, int]]) -> tuple[dict[tuple[str, int], bytes], int]:
        """The byte ranges ``[(path, start, end)]``, fetched concurrently: ``({(path, start):
        bytes}, requests made)``. A range that fails is left out (:meth:`read` then asks again
        and raises its error). Safe to call from another thread than the one reading (it counts
        nothing: :meth:`serve` does)."""
        if not ranges:
            return {}, 0
        paths, starts, ends = (list(x) for x in zip(*ranges, strict=True))
        extra = {"batch_size": self.concurrency} if self._async else {}
        try:
            got = self.fs.cat_ranges(paths, starts, ends, on_error="return", **extra)
        except Exception:  # noqa: BLE001 - e.g. a store without cat_ranges: one by one
            return {}, 0
        return {(path, start): data for (path, start, _end), data in zip(ranges, got,
                                                                          strict=True)
                if isinstance(data, bytes)}, len(ranges)

    def serve(self, fetched: tuple[dict[tuple[str, int], bytes], int]) -> None:
        """Keep what :meth:`fetch` returned for the :meth:`read` calls that ask for exactly
        those ranges (what an earlier call left unread goes), and count its requests."""
        self._ready, made = fetched
        self.requests["reads"] += made
        self.requests["bytes"] += sum(len(d) for d in self._ready.values())

    def prefetch(self, ranges: list[tuple[str, int, int]]) -> None:
        """:meth:`fetch` then :meth:`serve`, on the calling thread."""
        self.serve(self.fetch(ranges))

    def read(self, path: str, offset: int, size: int) -> bytes:
        if size <= 0:
            return b""
        data = self._ready.pop((path, offset), None)
        if data is not None and len(data) == size:
            return data
        self.requests["reads"] += 1
        try:
            data = self.fs.cat_file(path, start=offset, end=offset + size)
        except FileNotFoundError:
            return b""
        self.requests["bytes"] += len(data)
        return data

    def data_from(self, path: str, offset: int) -> int:
        return offset  # object stores have no holes to skip

    def file_name(self, path: str) -> str:
        return display_name(path.rpartition("/")[2])


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
