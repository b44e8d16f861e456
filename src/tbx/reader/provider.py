"""The reader's provider interface: the only way the viewer (and any other consumer) reads a logdir.

Stable contract (additions only; no signature changes):

* :class:`LogdirProvider` ``(logdir)`` — a local path or an fsspec URL (``s3://``, ``gs://``,
  ``memory://``...; needs the ``fsspec`` extra). Nothing is read until the first
  :meth:`LogdirProvider.refresh`.
* :meth:`LogdirProvider.refresh` reads what was appended since the last call (new bytes of known
  files, new files, new runs) and returns a :class:`Changes`.
* :meth:`~LogdirProvider.runs`, :meth:`~LogdirProvider.tags`, :meth:`~LogdirProvider.scalars`,
  :meth:`~LogdirProvider.tensors`, :meth:`~LogdirProvider.blobs`,
  :meth:`~LogdirProvider.metadata`, :meth:`~LogdirProvider.corruptions` read the state as of the
  last completed refresh.

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

Which class a tag has follows its plugin: ``simple_value`` and plugin ``scalars`` -> scalar;
plugins ``images``, ``audio`` and ``video`` -> blob; every other tensor -> tensor. The plugin name
comes from the :class:`SummaryMetadata` of the FIRST Value of the tag in the run (writers send it
only once); :meth:`LogdirProvider.metadata` returns it (for v1 forms, a metadata naming the plugin
TensorBoard would use).

Correctness rules (TensorBoard's ``event_accumulator``):

* Several event files in one run folder are read in file-name order as one stream.
* ``SessionLog(status=START)`` at step ``s`` (what ``purge_step`` writes), and a ``file_version``
  Event at a step ``s > 0``, drop every earlier point of the run with ``step >= s``.
* In a run without a ``file_version >= 2`` Event (files older than 2016), TensorBoard's older rule
  applies instead: a Summary Event whose step is below the most recent step drops the earlier
  points of its own tags with ``step >=`` its step.
* A record with a bad CRC is skipped and reported in :meth:`LogdirProvider.corruptions`; the
  records after it are still read.

Thread safety: one thread may call :meth:`~LogdirProvider.refresh` while any number of threads
call the read methods. Every returned series is an immutable snapshot (read-only arrays): later
refreshes never change it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np

from tbx.record import Corruption

__all__ = [
    "LogdirProvider",
    "Changes",
    "TagInfo",
    "ScalarSeries",
    "TensorSeries",
    "BlobSeries",
    "Corruption",
    "SCALAR",
    "TENSOR",
    "BLOB",
]

#: Data class names used in :attr:`TagInfo.data_class`.
SCALAR = "scalar"
TENSOR = "tensor"
BLOB = "blob"


@dataclass(frozen=True)
class TagInfo:
    """What one tag of one run holds.

    Attributes:
        plugin_name: TensorBoard plugin (``"scalars"``, ``"histograms"``, ``"images"``,
            ``"audio"``, ``"text"``, ``"pr_curves"``, ``"hparams"``, ...; ``""`` when the
            writer named none for a tensor).
        data_class: ``"scalar"``, ``"tensor"`` or ``"blob"``.
        count: number of points (after purges).
        first_step, last_step: smallest and largest step (int; ``None`` when ``count == 0``).
        first_wall_time, last_wall_time: smallest and largest wall time (float seconds since
            the epoch; ``None`` when ``count == 0``).
    """

    plugin_name: str
    data_class: str
    count: int
    first_step: int | None
    last_step: int | None
    first_wall_time: float | None = None
    last_wall_time: float | None = None


@dataclass(frozen=True)
class ScalarSeries:
    """Every point of a scalar tag, in file order, as read-only numpy columns of equal length.

    Attributes:
        step: int64 steps.
        wall_time: float64 seconds since the Unix epoch.
        value: float64 values (float32 ``simple_value`` widened exactly; NaN and ±Inf kept).
    """

    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class TensorSeries:
    """Every point of a tensor tag: read-only ``step`` (int64) and ``wall_time`` (float64
    seconds) columns, and ``values``, a tuple of one ``numpy.ndarray`` per point (see the module
    docstring for its form)."""

    step: np.ndarray
    wall_time: np.ndarray
    values: tuple

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class BlobSeries:
    """Every point of a blob tag: read-only ``step`` (int64) and ``wall_time`` (float64 seconds)
    columns, and ``values``, a tuple of one ``list[bytes]`` per point (see the module docstring
    for its layout per plugin)."""

    step: np.ndarray
    wall_time: np.ndarray
    values: tuple

    def __len__(self) -> int:
        return len(self.step)


@dataclass
class Changes:
    """What one :meth:`LogdirProvider.refresh` changed.

    Attributes:
        appended: ``(run, tag) -> number of points added`` (counted after this refresh's
            purges; the new points are the last ones of the series).
        purged: ``(run, tag) -> step``: points of the series with ``step >= step`` that existed
            before this refresh were dropped by a purge/restart. A series can be in both dicts
            (dropped, then appended again).
        new_runs: runs seen for the first time, in name order.
        new_tags: ``(run, tag)`` seen for the first time.
        corruptions: corruptions found by this refresh (also kept in
            :meth:`LogdirProvider.corruptions`).
        bytes_read: bytes read from files by this refresh.
    """

    appended: dict[tuple[str, str], int] = field(default_factory=dict)
    purged: dict[tuple[str, str], int] = field(default_factory=dict)
    new_runs: list[str] = field(default_factory=list)
    new_tags: list[tuple[str, str]] = field(default_factory=list)
    corruptions: list[Corruption] = field(default_factory=list)
    bytes_read: int = 0

    def __bool__(self) -> bool:
        return bool(self.appended or self.purged or self.new_runs or self.new_tags
                    or self.corruptions)


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

    Raises:
        FileNotFoundError: ``logdir`` does not exist (checked here, and again by ``refresh``).
        NotADirectoryError: ``logdir`` is a file.
        ValueError: ``run_filter`` or ``tag_filter`` is not a valid regular expression.
        ImportError: ``logdir`` is a URL and fsspec is not installed.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        *,
        run_filter: str | None = None,
        tag_filter: str | None = None,
    ):
        from tbx.reader._core import LogdirReader

        self._reader = LogdirReader(logdir, run_filter=run_filter, tag_filter=tag_filter)
        self._refresh_lock = threading.Lock()

    @property
    def logdir(self) -> str:
        """The logdir as given (a path or URL string)."""
        return self._reader.logdir

    def refresh(self, progress=None) -> Changes:
        """Read what was appended since the last refresh: new bytes of known files (from the
        byte offset where the last read stopped), new event files, new runs.

        A cut-off last record (a writer still writing) is not an error: reading stops before it
        and resumes there next time. Concurrent calls are serialised.

        Args:
            progress: optional callable ``progress(done_bytes, total_bytes)`` called while
                reading (used by the CLI's progress bar).

        Returns:
            A :class:`Changes`.

        Raises:
            FileNotFoundError: the logdir no longer exists.
            OSError: a file could not be read (files that vanish between listing and reading
                are skipped silently).
        """
        with self._refresh_lock:
            return self._reader.refresh(progress=progress)

    def runs(self) -> list[str]:
        """Names of the runs with at least one event file, sorted."""
        return self._reader.runs()

    def tags(self, run: str) -> dict[str, TagInfo]:
        """``tag -> TagInfo`` of every tag of ``run`` (insertion order = first seen).

        Raises:
            KeyError: unknown run.
        """
        return self._reader.tags(run)

    def scalars(self, run: str, tag: str) -> ScalarSeries:
        """Every point of a scalar tag (full resolution).

        Raises:
            KeyError: unknown run or tag.
            TypeError: the tag's data class is not ``"scalar"``.
        """
        return self._reader.scalars(run, tag)

    def tensors(self, run: str, tag: str) -> TensorSeries:
        """Every point of a tensor tag, decoded on first request and cached.

        Raises:
            KeyError: unknown run or tag.
            TypeError: the tag's data class is not ``"tensor"``.
        """
        return self._reader.tensors(run, tag)

    def blobs(self, run: str, tag: str) -> BlobSeries:
        """Every point of a blob tag (images, audio, video), decoded on first request and cached.

        Raises:
            KeyError: unknown run or tag.
            TypeError: the tag's data class is not ``"blob"``.
        """
        return self._reader.blobs(run, tag)

    def metadata(self, run: str, tag: str):
        """The tag's ``tbx.proto.summary_pb2.SummaryMetadata`` (a copy): the first one the run
        sent for the tag, or, for v1 forms without one, a metadata naming the plugin.

        Raises:
            KeyError: unknown run or tag.
        """
        return self._reader.metadata(run, tag)

    def corruptions(self) -> list[Corruption]:
        """Every corruption found so far (``source`` file path, byte ``offset`` of the bad
        record, ``skipped`` bytes, ``reason``), in the order found."""
        return self._reader.corruptions()

    def files(self, run: str) -> list[tuple[str, int, int]]:
        """``(path, size, offset)`` of each event file of ``run`` in name order: ``size`` in
        bytes at the last listing, ``offset`` where the next read starts (``offset < size``: an
        incomplete last record, e.g. a writer still writing).

        Raises:
            KeyError: unknown run.
        """
        return self._reader.files(run)

    def __repr__(self) -> str:
        return f"LogdirProvider({self.logdir!r})"
