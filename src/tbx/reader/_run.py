"""A run as the reader holds it: its files, tag ids, tags (with the plugin each payload kind last
declared) and series, the purges read, and where each tag's records lie in its files (to read an
evicted series back, :mod:`tbx.reader._replay`).
"""

from __future__ import annotations

from tbx.reader._series import _Series

__all__ = ["legacy", "_Run", "_Tag"]


class _Tag:
    """A tag of a run: its ``name``, the plugin last declared (by a Value's metadata) per payload
    field number (``declared``), and its series per plugin (``by_plugin``; a series is listed
    in the run only once it holds a classified point)."""

    __slots__ = ("name", "declared", "by_plugin")

    def __init__(self, name: str):
        self.name = name
        self.declared: dict[int, str] = {}
        self.by_plugin: dict[str, _Series] = {}


class _Run:
    """Everything read of one run: its files (``tbx.reader._tracking.FileState`` by path, in
    the order first read), tag ids as the scanner interns them, and the series."""

    def __init__(self, name: str, budget=None):
        self.name = name
        self.budget = budget  # a tbx.reader._budget.Budget, or None (never evicted)
        self.files: dict = {}
        self.listed: list | None = None  # the file entries of the last listing read
        self.file_names: list[str] = []
        self.tags_b: list[bytes] = []
        self.tag_index: dict[bytes, int] = {}
        self.slots: list[_Tag | None] = []  # per tag id; None: left out by the tag filter
        self.series: dict[tuple[str, str], _Series] = {}  # (tag, plugin), first seen first
        self.first: dict[str, _Series] = {}  # tag -> the series written first to it
        self.file_version: str | None = None
        self.purges: list[tuple[int, int]] = []  # (file index, step) of every purge read
        self.most_recent_step = -1  # for the purge rule of runs without file_version >= 2
        self.was_legacy = False  # points were added under that rule
        self.meta_plugins: dict[bytes, str] = {}  # serialized SummaryMetadata -> plugin name
        # where records lie, to read an evicted series again: per tag, per event file path,
        # merged [start, end) byte ranges of the blocks holding its records; and per path the
        # blocks holding purges (read with every tag)
        self.ranges: dict[str, dict[str, list[list[int]]]] = {}
        self.control: dict[str, list[list[int]]] = {}

    def pinned(self) -> bool:
        """Series of runs in the pre-2016 format are never evicted (their purge rule depends
        on the order of every record of the run)."""
        return self.was_legacy or legacy(self.file_version)

    def note_range(self, tag: str | None, path: str, start: int, end: int) -> None:
        """Record that the block ``[start, end)`` of ``path`` holds records of ``tag`` (``None``:
        purges)."""
        by_path = self.control if tag is None else self.ranges.setdefault(tag, {})
        spans = by_path.setdefault(path, [])
        if spans and spans[-1][1] >= start - _GAP:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])

    def new_series(self, tag: str, plugin: str) -> _Series:
        return _Series(tag, plugin, self, self.budget)

    def add_series(self, s: _Series) -> bool:
        """List ``s`` in the run; True if it was not listed yet."""
        key = (s.tag, s.plugin_name)
        if key in self.series:
            return False
        self.series[key] = s
        self.first.setdefault(s.tag, s)
        return True


#: Gap (bytes) below which two byte ranges of a tag are merged into one read.
_GAP = 1 << 20


def legacy(file_version: str | None) -> bool:
    """True when a run's ``file_version`` ("brain.Event:<n>") is missing or below 2."""
    if not file_version:
        return True
    try:
        return float(file_version.rpartition(":")[2]) < 2
    except ValueError:
        return True
