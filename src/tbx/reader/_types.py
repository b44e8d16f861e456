"""The values the reader hands out. :mod:`tbx.reader.provider` re-exports them and documents the
contract; they live here, below every other module of the reader, so that imports run one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tbx.record import Corruption

__all__ = [
    "SCALAR",
    "TENSOR",
    "BLOB",
    "MIN_STEP",
    "TagInfo",
    "ScalarSeries",
    "TensorSeries",
    "BlobSeries",
    "Problem",
    "Changes",
    "Corruption",
    "FileEntry",
    "Listing",
]

#: Data class names used in :attr:`TagInfo.data_class`.
SCALAR = "scalar"
TENSOR = "tensor"
BLOB = "blob"

#: The smallest int64: a purge "cut" at this step drops every point of a series.
MIN_STEP = -(1 << 63)


@dataclass(frozen=True)
class TagInfo:
    """What one series (run, tag, plugin) holds.

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
    """Every point of a scalar series, in file order, as read-only numpy columns of equal length.

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
    """Every point of a tensor series: read-only ``step`` (int64) and ``wall_time`` (float64
    seconds) columns, and ``values``, a tuple of one ``numpy.ndarray`` per point (see
    :mod:`tbx.reader.provider` for its form)."""

    step: np.ndarray
    wall_time: np.ndarray
    values: tuple

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class BlobSeries:
    """Every point of a blob series: read-only ``step`` (int64) and ``wall_time`` (float64
    seconds) columns, and ``values``, a tuple of one ``list[bytes]`` per point (see
    :mod:`tbx.reader.provider` for its layout per plugin)."""

    step: np.ndarray
    wall_time: np.ndarray
    values: tuple

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class Problem:
    """Something below the logdir that could not be read, so it was skipped: ``path`` (a file,
    a folder or a symbolic link, as the store names it) and ``reason`` (one line, e.g.
    ``"cannot read event file: [Errno 13] Permission denied"``)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


#: A series' identity: ``(run, tag, plugin)``.
SeriesKey = tuple[str, str, str]


@dataclass
class Changes:
    """What one :meth:`LogdirProvider.refresh` changed (see :mod:`tbx.reader.provider`).

    Per series, keyed ``(run, tag, plugin)``:

    Attributes:
        appended_series: ``(run, tag, plugin) -> number of points added``; the new points are
            the last ones of the series (counted after this refresh's purges).
        purged_series: ``(run, tag, plugin) -> step``: points with ``step >= step`` that
            existed before this refresh were dropped (``MIN_STEP`` = every point). A series
            can be in both (dropped, then appended again).
        new_series: ``(run, tag, plugin)`` seen for the first time, in the order found.
        reset_series: ``(run, tag, plugin)`` re-read from the start because an event file of
            its run vanished, shrank, was replaced or appeared out of name order: drop what
            you hold and fetch it again. Each is also in ``purged_series`` (``MIN_STEP``) and
            in ``appended_series`` (its whole length).
        removed_series: ``(run, tag, plugin)`` that no longer exist (their run or files
            vanished).
        new_runs: runs seen for the first time, in name order.
        removed_runs: runs whose folder or event files vanished, in name order.
        corruptions: corruptions found by this refresh (also kept in ``corruptions()``).
        problems: files, folders or links skipped for the first time by this refresh (also
            kept in ``problems()`` while they last).
        bytes_read: bytes read from files by this refresh.

    Per tag, keyed ``(run, tag)``: the same for the tag's FIRST series (the kind written first
    to that tag in the run; what ``tags(run)`` describes), kept for callers that predate
    ``(run, tag, plugin)`` keys:

    Attributes:
        appended: ``(run, tag) -> number of points added``.
        purged: ``(run, tag) -> step``.
        new_tags: ``(run, tag)`` seen for the first time.
    """

    appended: dict[tuple[str, str], int] = field(default_factory=dict)
    purged: dict[tuple[str, str], int] = field(default_factory=dict)
    new_runs: list[str] = field(default_factory=list)
    new_tags: list[tuple[str, str]] = field(default_factory=list)
    corruptions: list[Corruption] = field(default_factory=list)
    bytes_read: int = 0
    appended_series: dict[SeriesKey, int] = field(default_factory=dict)
    purged_series: dict[SeriesKey, int] = field(default_factory=dict)
    new_series: list[SeriesKey] = field(default_factory=list)
    reset_series: list[SeriesKey] = field(default_factory=list)
    removed_series: list[SeriesKey] = field(default_factory=list)
    removed_runs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.appended or self.purged or self.new_runs or self.new_tags
                    or self.corruptions or self.appended_series or self.purged_series
                    or self.new_series or self.reset_series or self.removed_series
                    or self.removed_runs or self.problems)


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
