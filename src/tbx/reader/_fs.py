"""Where event files live: a local folder or an fsspec URL.

A logdir is listed recursively; every folder holding event files (a base name containing
``tfevents``, as TensorBoard's ``io_wrapper.IsSummaryEventsFile``) is a run named by its path
relative to the logdir with ``/`` separators (``"."`` for the logdir itself). A remote store is
listed with ONE recursive listing (``fs.find(root, detail=True)``), never folder by folder. The
files of a run are read in name order (:func:`file_order`).
"""

from __future__ import annotations

import os
import re

__all__ = ["open_logdir", "LocalLogdir", "FsspecLogdir", "is_url"]


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


class LocalLogdir:
    """A logdir on the local file system."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def check(self) -> None:
        """Raises FileNotFoundError / NotADirectoryError naming the logdir."""
        if not os.path.exists(self.root):
            raise FileNotFoundError(f"logdir {self.root!r} does not exist")
        if not os.path.isdir(self.root):
            raise NotADirectoryError(f"logdir {self.root!r} is not a folder")

    def list_runs(self) -> dict[str, list[tuple[str, int]]]:
        """``run -> [(path, size in bytes), ...]`` in file-name order."""
        self.check()
        runs: dict[str, list[tuple[str, int]]] = {}
        seen: set[str] = set()  # real paths of folders walked: a symlink loop is walked once
        for folder, dirs, files in os.walk(self.root, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:
                dirs.clear()
                continue
            seen.add(real)
            dirs.sort()
            found = []
            for name in sorted(files, key=file_order):
                if not _is_event_file(name):
                    continue
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue  # vanished since the listing
                if os.path.isfile(path):
                    found.append((path, st.st_size))
            if found:
                rel = os.path.relpath(folder, self.root)
                runs[rel.replace(os.sep, "/")] = found
        return runs

    def read(self, path: str, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of ``path`` from byte ``offset`` (fewer at the end of the file;
        ``b""`` if the file vanished)."""
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

    def file_name(self, path: str) -> str:
        return os.path.basename(path)


class FsspecLogdir:
    """A logdir behind an fsspec URL (``s3://``, ``gs://``, ``memory://``, ...)."""

    def __init__(self, url: str):
        try:
            import fsspec
        except ImportError as exc:
            raise ImportError(
                f"logdir {url!r} is a URL: reading it needs fsspec (pip install 'tbx[fsspec]')"
            ) from exc
        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.root = self.root.rstrip("/")

    def check(self) -> None:
        if not self.fs.exists(self.root):
            raise FileNotFoundError(f"logdir {self.url!r} does not exist")
        if not self.fs.isdir(self.root):
            raise NotADirectoryError(f"logdir {self.url!r} is not a folder")

    def list_runs(self) -> dict[str, list[tuple[str, int]]]:
        self.check()
        listing = self.fs.find(self.root, detail=True)  # one recursive listing
        runs: dict[str, list[tuple[str, int]]] = {}
        root = self.root
        for path in sorted(listing):
            info = listing[path]
            if info.get("type", "file") != "file":
                continue
            folder, _, name = path.rpartition("/")
            if not _is_event_file(name):
                continue
            rel = folder[len(root):].strip("/") if folder.startswith(root) else folder
            runs.setdefault(rel or ".", []).append((path, int(info.get("size") or 0)))
        return {run: sorted(files, key=lambda f: file_order(f[0].rpartition("/")[2]))
                for run, files in sorted(runs.items())}

    def read(self, path: str, offset: int, size: int) -> bytes:
        if size <= 0:
            return b""
        try:
            return self.fs.cat_file(path, start=offset, end=offset + size)
        except FileNotFoundError:
            return b""

    def file_name(self, path: str) -> str:
        return path.rpartition("/")[2]


def open_logdir(logdir: str | os.PathLike) -> LocalLogdir | FsspecLogdir:
    """The store of ``logdir`` (a path or a URL).

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
    return LocalLogdir(path)
