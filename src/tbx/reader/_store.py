"""A logdir behind an fsspec URL (``s3://``, ``gs://``, ``memory://``, ...): listed with ONE
recursive listing (``fs.find(root, detail=True)``), never folder by folder, and read with
concurrent ranged requests. Runs and files are named as for a local logdir
(:mod:`tbx.reader._fs`, :mod:`tbx.reader._names`)."""

from __future__ import annotations

from tbx.reader._names import display_name, file_order, is_event_file
from tbx.reader._obstore import s3_getter
from tbx.reader._types import FileEntry, Listing

__all__ = ["FsspecLogdir", "FETCH_CONCURRENCY"]


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
        self._get = None if url.startswith(("s3://", "s3a://")) else False  # None: not yet known
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
            if not is_event_file(name):
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
        if self._get is None:
            self._get = s3_getter(self.fs, self.root) or False
        done: dict[tuple[str, int], bytes] = {}
        made = 0
        if self._get:
            try:
                got = self._get(ranges, self.concurrency)
            except Exception:  # noqa: BLE001 - s3fs below asks again, raising nothing
                got = [None] * len(ranges)
            made = len(ranges)
            done = {(path, start): data for (path, start, _end), data in zip(ranges, got,
                                                                              strict=True)
                    if isinstance(data, bytes)}
            ranges = [r for r in ranges if (r[0], r[1]) not in done]
            if not ranges:
                return done, made
        paths, starts, ends = (list(x) for x in zip(*ranges, strict=True))
        extra = {"batch_size": self.concurrency} if self._async else {}
        try:
            got = self.fs.cat_ranges(paths, starts, ends, on_error="return", **extra)
        except Exception:  # noqa: BLE001 - e.g. a store without cat_ranges: one by one
            return done, made
        fallback = {(path, start): data for (path, start, _end), data in zip(ranges, got,
                                                                              strict=True)
                    if isinstance(data, bytes)}
        if made and fallback and not done:
            self._get = False  # obstore failed where s3fs did not (e.g. a bucket's region)
        return done | fallback, made + len(ranges)

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
