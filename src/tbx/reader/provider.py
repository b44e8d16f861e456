"""The reader's provider interface: the only way the viewer (and any other consumer) reads a logdir.

Stable contract (additions only; no signature changes):

* :class:`LogdirProvider` ``(logdir)`` — a local path or an fsspec URL (``s3://``, ``gs://``,
  ``memory://``...; needs the ``fsspec`` extra). Nothing is read until the first
  :meth:`LogdirProvider.refresh`.
* :meth:`LogdirProvider.refresh` brings the state up to date and returns a :class:`Changes`:
  what was appended (new bytes of known files, new files, new runs), and what vanished, shrank or
  was replaced since the last call. After every refresh the provider holds exactly what a fresh
  provider reading the logdir now would hold (same runs, series and points).
* :meth:`~LogdirProvider.runs`, :meth:`~LogdirProvider.series`, :meth:`~LogdirProvider.tags`,
  :meth:`~LogdirProvider.scalars`, :meth:`~LogdirProvider.tensors`,
  :meth:`~LogdirProvider.blobs`, :meth:`~LogdirProvider.metadata`,
  :meth:`~LogdirProvider.corruptions`, :meth:`~LogdirProvider.problems`,
  :meth:`~LogdirProvider.files` read the state as of the last completed refresh.

Series: a series is identified by ``(run, tag, plugin)``. One tag may carry several kinds (a
tag ``weights`` logged with ``add_scalar``, ``add_histogram`` and ``add_image`` is three series:
``("run", "weights", "scalars")``, ``(..., "histograms")``, ``(..., "images")``). The plugin of
a Value is the one its ``SummaryMetadata`` names; a Value without metadata takes the plugin last
named for its tag by a Value of the same payload (writers send metadata once), else its
payload's: ``simple_value`` -> ``"scalars"``, ``histo`` -> ``"histograms"``, ``image`` ->
``"images"``, ``audio`` -> ``"audio"``, ``tensor`` -> ``""``. :meth:`~LogdirProvider.series`
lists every series; the ``plugin=`` argument of the read methods picks one. Without
``plugin=``, a read method takes the tag's FIRST series (the kind written first to the tag in
the run; what :meth:`~LogdirProvider.tags` describes), or, when that one is of another data
class, the tag's first series of the class asked for (``scalars`` -> scalar, ...).

Data model (TensorBoard's three data classes, ``tensorboard/data/provider.py``):

* ``"scalar"``: a :class:`ScalarSeries` — numpy columns ``step`` (int64), ``wall_time`` (float64,
  seconds since the Unix epoch) and ``value`` (float64), every point (never sampled).
* ``"tensor"``: a :class:`TensorSeries` — ``step``, ``wall_time`` columns and ``values``, one
  ``numpy.ndarray`` per point: the Value's TensorProto as :func:`tbx.summary.tensor.tensor_to_numpy`
  decodes it. v1 ``histo`` Values are converted as TensorBoard's ``data_compat`` does: a float64
  ``[k, 3]`` array of ``(left edge, right edge, count)`` rows.
* ``"blob"``: a :class:`BlobSeries` — ``step``, ``wall_time`` columns and ``values``, one
  ``list[bytes]`` per point: the Value's string tensor flattened in row-major order (TensorBoard's
  blob sequence). Images: ``[width, height, encoded_image, ...]`` (width and height as ASCII
  decimal); audio: ``[encoded_audio, label, encoded_audio, label, ...]``. v1 ``image`` / ``audio``
  Values are converted the same way (``[width, height, encoded]``, ``[encoded, b""]``).

A series' data class follows its plugin and first point: ``simple_value`` and plugin
``scalars`` -> scalar; plugins ``images``, ``audio`` and ``video`` (and v1 ``image``/``audio``
payloads) -> blob; every other tensor -> tensor. :meth:`LogdirProvider.metadata` returns the
first ``SummaryMetadata`` the run sent for the series (for v1 forms without one, a metadata
naming the plugin TensorBoard would use).

Correctness rules (TensorBoard's ``event_accumulator``):

* Several event files in one run folder are read in file-name order as one stream.
* ``SessionLog(status=START)`` at step ``s`` (what ``purge_step`` writes), and a ``file_version``
  Event at a step ``s > 0``, drop every earlier point of the run with ``step >= s``.
* In a run without a ``file_version >= 2`` Event (files older than 2016), TensorBoard's older rule
  applies instead: a Summary Event whose step is below the most recent step drops the earlier
  points of its own series with ``step >=`` its step.

Files that change (event files only grow; anything else is noticed):

* A run whose folder or event files vanished is dropped (``Changes.removed_runs``).
* When an event file of a run vanished, shrank, was replaced under the same name (another inode,
  or different first bytes: log rotation, a re-run, ``cp``), or a file holding records appeared
  before files already read (name order), the run is read again from the start and swapped in
  whole; its series are in ``Changes.reset_series`` (and ``removed_series`` for those gone).
  Each such event is logged once on the ``tbx.reader`` logger (level INFO).

Damage and things that cannot be read (never an exception; every other run is still read):

* A record with a bad CRC is skipped and reported in :meth:`LogdirProvider.corruptions`; the
  records after it are still read. A stretch that holds no record (garbage, a zero-filled tail)
  is reported ONCE as one corruption with its byte range (``offset``, ``skipped`` bytes) and is
  never read again; memory stays bounded by the 64 MiB read block whatever a file holds
  (a record longer than 256 MiB is skipped and reported).
* A file that cannot be read (e.g. no permission) or a folder that cannot be listed is skipped
  and listed in :meth:`LogdirProvider.problems` while the problem lasts (and in
  ``Changes.problems`` the first time); it is read once it can be.
* Local logdirs: symbolic links are followed only to targets inside the logdir (others are
  listed in ``problems()``) unless ``follow_symlinks=True``; pseudo file systems (``/proc``,
  ``/sys``, ``/dev``...) are never walked; a folder reached twice (link loops) is walked once.
* Run and file names that are not valid UTF-8 are shown with ``\\xNN`` escapes (a folder
  ``b"bad\\xff"`` is the run ``"bad\\\\xff"``); everything else works as for any name.

Thread safety: one thread may call :meth:`~LogdirProvider.refresh` while any number of threads
call the read methods. Every returned series is an immutable snapshot (read-only arrays): later
refreshes never change it.
"""

from __future__ import annotations

import os
import threading

from tbx.reader._core import LogdirReader
from tbx.reader._types import (
    BLOB,
    MIN_STEP,
    SCALAR,
    TENSOR,
    BlobSeries,
    Changes,
    Corruption,
    Problem,
    ScalarSeries,
    TagInfo,
    TensorSeries,
)

__all__ = [
    "LogdirProvider",
    "Changes",
    "TagInfo",
    "ScalarSeries",
    "TensorSeries",
    "BlobSeries",
    "Corruption",
    "Problem",
    "SCALAR",
    "TENSOR",
    "BLOB",
    "MIN_STEP",
]


class LogdirProvider:
    """Reads a logdir incrementally and serves its series (see the module docstring).

    Args:
        logdir: a local folder (``str`` or ``os.PathLike``) or an fsspec URL such as
            ``"s3://bucket/logs"`` or ``"memory://logs"`` (needs ``pip install tbx[fsspec]``).
            Every folder below it holding event files (``*tfevents*``) is a run named by its
            path relative to ``logdir`` with ``/`` separators (``"."`` for ``logdir`` itself).
        run_filter: optional regular expression (``str``); only runs it matches
            (``re.search``) are read.
        tag_filter: optional regular expression (``str``); only tags it matches
            (``re.search``) are kept and decoded.
        follow_symlinks: ``True`` to follow symbolic links that lead outside a local
            ``logdir`` (by default they are skipped and listed in :meth:`problems`).
        run_names: optional iterable of run names (``str``, exact); only these runs are read
            (with ``run_filter`` too: runs matching both).
        tag_names: optional iterable of tag names (``str``, exact); only these tags are kept.
        memory_budget: bytes of points to hold at most (an int, or a string such as
            ``"512M"``, ``"2G"``; ``None``: no limit, the default). Past it, the least recently
            read series are evicted: they keep their :class:`TagInfo`, and are read back from
            their event files (only the byte ranges that hold their records) the next time
            they are asked for. Scalars are held compactly (steps as a progression when they
            are one, values as float32 when they all are), so the budget holds more points
            than 24 bytes each.
        watch: ``True`` for a long-lived reader (the viewer): a refresh lists only what
            changed and costs nothing while nothing does. A local logdir is watched with
            ``watchfiles`` (one watcher for the tree; no file handle per run) and listed
            whole every 2 minutes in case an event was lost; object stores, network file
            systems and logdirs that cannot be watched are listed with back-off (2 s, doubled
            after each listing that found nothing new, up to 60 s). A change is then seen
            within about half a second (watched) or the current back-off (polled), not at
            the very next refresh. ``False`` (default): every refresh lists the logdir.

    Raises:
        FileNotFoundError: ``logdir`` does not exist (checked here, and again by ``refresh``).
        NotADirectoryError: ``logdir`` is a file.
        ValueError: ``run_filter`` or ``tag_filter`` is not a valid regular expression.
        TypeError: ``run_names`` or ``tag_names`` is a single string or holds non-strings.
        ValueError: ``memory_budget`` is not a size.
        ImportError: ``logdir`` is a URL and fsspec is not installed.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        *,
        run_filter: str | None = None,
        tag_filter: str | None = None,
        follow_symlinks: bool = False,
        run_names=None,
        tag_names=None,
        memory_budget=None,
        watch: bool = False,
    ):
        self._reader = LogdirReader(logdir, run_filter=run_filter, tag_filter=tag_filter,
                                    follow_symlinks=follow_symlinks, run_names=run_names,
                                    tag_names=tag_names, memory_budget=memory_budget,
                                    watch=watch)
        self._refresh_lock = threading.Lock()

    @property
    def logdir(self) -> str:
        """The logdir as given (a path or URL string)."""
        return self._reader.logdir

    def refresh(self, progress=None) -> Changes:
        """Bring the state up to date: read the new bytes of known files (from the byte offset
        where the last read stopped), new event files and new runs; drop what vanished; read a
        run again from the start when one of its files shrank or was replaced (see the module
        docstring).

        A cut-off last record (a writer still writing) is not an error: reading stops before it
        and resumes there next time. Concurrent calls are serialised.

        Args:
            progress: optional callable ``progress(done_bytes, total_bytes)`` called while
                reading (used by the CLI's progress bar).

        Returns:
            A :class:`Changes`.

        Raises:
            FileNotFoundError: the logdir no longer exists.
            OSError: the logdir itself cannot be listed (a file or folder below it that cannot
                be read is skipped and reported in :meth:`problems` instead).
        """
        with self._refresh_lock:
            return self._reader.refresh(progress=progress)

    def runs(self) -> list[str]:
        """Names of the runs with at least one event file, sorted."""
        return self._reader.runs()

    def all_names(self) -> dict[str, list[str]]:
        """Every run listed at the last refresh, whatever ``run_filter`` and ``run_names`` say,
        in name order, with the tags met in its records whatever ``tag_filter`` and
        ``tag_names`` say (first-seen order; ``[]`` for a run the run filters left out, which
        is not read). What the filters chose from, e.g. to say what exists when they matched
        nothing."""
        return self._reader.all_names()

    def series(self, run: str) -> list[tuple[str, str, TagInfo]]:
        """``(tag, plugin, TagInfo)`` of every series of ``run``, first seen first.

        Raises:
            KeyError: unknown run.
        """
        return self._reader.series(run)

    def tags(self, run: str, plugin: str | None = None) -> dict[str, TagInfo]:
        """``tag -> TagInfo`` of the tags of ``run`` (insertion order = first seen): with
        ``plugin=None`` every tag, described by its first series (the kind written first to
        it); with a plugin name, the tags holding a series of that plugin.

        Raises:
            KeyError: unknown run.
        """
        return self._reader.tags(run, plugin)

    def scalars(self, run: str, tag: str, plugin: str | None = None, *,
                wall_time: bool = True) -> ScalarSeries:
        """Every point of a scalar series (full resolution); ``plugin=None``: the tag's first
        scalar series (see the module docstring).

        Args:
            wall_time: ``False`` when the wall times are not needed (a chart over steps): the
                returned ``wall_time`` is then ``None``, and a series read back from its files
                does not hold them (8 bytes a point fewer) until they are asked for.

        Raises:
            KeyError: unknown run, tag, or no series of ``plugin`` for the tag.
            TypeError: the series' data class is not ``"scalar"``.
        """
        return self._reader.scalars(run, tag, plugin, wall_time)

    def tensors(self, run: str, tag: str, plugin: str | None = None) -> TensorSeries:
        """Every point of a tensor series, decoded on first request and cached;
        ``plugin=None``: the tag's first tensor series.

        Raises:
            KeyError: unknown run, tag, or no series of ``plugin`` for the tag.
            TypeError: the series' data class is not ``"tensor"``.
        """
        return self._reader.tensors(run, tag, plugin)

    def blobs(self, run: str, tag: str, plugin: str | None = None) -> BlobSeries:
        """Every point of a blob series (images, audio, video), decoded on first request and
        cached; ``plugin=None``: the tag's first blob series.

        Raises:
            KeyError: unknown run, tag, or no series of ``plugin`` for the tag.
            TypeError: the series' data class is not ``"blob"``.
        """
        return self._reader.blobs(run, tag, plugin)

    def metadata(self, run: str, tag: str, plugin: str | None = None):
        """The series' ``tbx.proto.summary_pb2.SummaryMetadata`` (a copy): the first one the run
        sent for it, or, for v1 forms without one, a metadata naming the plugin;
        ``plugin=None``: the tag's first series.

        Raises:
            KeyError: unknown run, tag, or no series of ``plugin`` for the tag.
        """
        return self._reader.metadata(run, tag, plugin)

    def evict(self, run: str | None = None) -> int:
        """Drop the points held for every series (of ``run``, or of all runs), whatever the
        memory budget; each keeps its :class:`TagInfo` and is read back from its event files
        when next asked for. Returns the number of series evicted.

        Raises:
            KeyError: unknown run.
        """
        return self._reader.evict(run)

    def memory(self) -> dict:
        """The memory budget's state: ``limit`` (bytes or ``None``), ``resident_bytes``
        (bytes of points held, counted when a limit is set), ``resident_series``,
        ``evictions`` (series evicted so far)."""
        return self._reader.memory()

    def corruptions(self) -> list[Corruption]:
        """Every corruption of the files as they are now (``source`` file path, byte
        ``offset`` where the damage starts, ``skipped`` bytes, ``reason``), in the order
        found. A file read again from the start is reported again."""
        return self._reader.corruptions()

    def problems(self) -> list[Problem]:
        """What is skipped as of the last refresh because it cannot be read (``path``,
        ``reason``): event files that cannot be opened, folders that cannot be listed,
        symbolic links leading out of the logdir."""
        return self._reader.problems()

    def files(self, run: str) -> list[tuple[str, int, int]]:
        """``(path, size, offset)`` of each event file of ``run`` in name order: ``size`` in
        bytes at the last listing, ``offset`` where the next read starts (``offset < size``: an
        incomplete last record, e.g. a writer still writing; bytes reported as damage count as
        read).

        Raises:
            KeyError: unknown run.
        """
        return self._reader.files(run)

    def close(self) -> None:
        """Stop watching the logdir (``watch=True``); the state read so far stays readable.
        Idempotent."""
        self._reader.close()

    def __enter__(self) -> LogdirProvider:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LogdirProvider({self.logdir!r})"
