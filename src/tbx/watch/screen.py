"""What the ``tbx watch`` dashboard shows, without a terminal library: the runs' colours and
markers, the chart grid for a window size, the pages of tags, the zoom and smoothing steps of
the keys, and the two status lines. Pure functions; :mod:`tbx.watch.app` draws them with
textual.
"""

from __future__ import annotations

import math
import time

__all__ = [
    "PALETTE",
    "MARKERS",
    "SMOOTHING",
    "CHART_MIN_LINES",
    "rgb",
    "run_color",
    "run_marker",
    "marker_char",
    "group_of",
    "grid_size",
    "paginate",
    "next_zoom",
    "next_smoothing",
    "head_line",
    "view_line",
]

#: The web viewer's run palette (web/src/state.js), so a run has the same colour in both.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#7b4173",
           "#3182bd"]
#: plotext line markers per run when there is no colour (NO_COLOR).
MARKERS = ["braille", "*", "+", "x", "o", "#", "%", "@", "=", "~"]
#: Smoothing weights the ``s`` key cycles through (the web viewer's slider goes from 0 to 0.99).
SMOOTHING = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)
#: Below this many lines the table alone is shown (its sparklines stand in for the charts).
CHART_MIN_LINES = 16
#: A column of charts per this many terminal columns, a row per this many lines.
CHART_COLS_PER = 60
CHART_ROWS_PER = 10


def rgb(hex_color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as an ``(r, g, b)`` tuple of 0..255."""
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def _index(runs: list[str], run: str) -> int:
    return runs.index(run) if run in runs else 0


def run_color(runs: list[str], run: str) -> str:
    """The colour of ``run`` (its position in the sorted run list ``runs``, as the web
    viewer assigns them)."""
    return PALETTE[_index(runs, run) % len(PALETTE)]


def run_marker(runs: list[str], run: str) -> str:
    """The plotext marker of ``run`` without colour: ``"braille"`` for the first run, then
    ``*``, ``+``, ..."""
    return MARKERS[_index(runs, run) % len(MARKERS)]


def marker_char(marker: str) -> str:
    """The character a plotext marker draws (a braille dot pattern for ``"braille"``), for the
    legend and the table."""
    return "⢕" if marker == "braille" else marker


def group_of(tag: str) -> str:
    """A tag's group: the part before its first ``/`` (``"(no prefix)"`` without one), as the
    web viewer groups tags."""
    i = tag.find("/")
    return tag[:i] if i > 0 else "(no prefix)"


def grid_size(width: int, height: int) -> tuple[int, int]:
    """``(columns, rows)`` of charts for a ``width`` x ``height`` terminal: a column per
    :data:`CHART_COLS_PER` columns, a row per :data:`CHART_ROWS_PER` lines of the three fifths
    of the screen the charts get; ``(0, 0)`` under :data:`CHART_MIN_LINES` lines."""
    if height < CHART_MIN_LINES:
        return 0, 0
    rows = max(1, ((height - 4) * 3 // 5) // CHART_ROWS_PER)
    return max(1, width // CHART_COLS_PER), rows


def paginate(tags: list[str], per_page: int) -> list[tuple[str, list[str]]]:
    """Pages of ``(group, tags)``: tags grouped by :func:`group_of` (groups in first-seen
    order), each group cut into pages of ``per_page`` tags (one page per group when
    ``per_page`` is 0)."""
    groups: dict[str, list[str]] = {}
    for t in tags:
        groups.setdefault(group_of(t), []).append(t)
    pages = []
    for g, ts in groups.items():
        size = per_page or len(ts)
        pages.extend((g, ts[i:i + size]) for i in range(0, len(ts), size))
    return pages


def next_zoom(zoom: int | None, span: int) -> int | None:
    """The ``z`` key: from all steps (``None``) to the last 10^k steps (the largest power of
    ten below ``span``, the step range shown), each press dividing by 10, after 10 back to
    all steps."""
    if zoom is None:
        top = 10 ** int(math.log10(span)) if span >= 10 else 0
        return top if top and top < span else (top // 10 or None)
    return zoom // 10 if zoom > 10 else None


def next_smoothing(weight: float) -> float:
    """The ``s`` key: the next weight of :data:`SMOOTHING` above ``weight``, after the last
    back to 0."""
    nxt = [w for w in SMOOTHING if w > weight + 1e-9]
    return nxt[0] if nxt else 0.0


def head_line(logdir, n_runs: int, n_tags: int, last_change: float | None,
              error: str | None = None) -> str:
    """The first status line: runs, tags, local time of the last change, logdir (and the
    last refresh's error first)."""
    when = (time.strftime("%H:%M:%S", time.localtime(last_change)) if last_change
            else "reading...")
    head = (f"tbx watch | {n_runs} run{'' if n_runs == 1 else 's'}, {n_tags} "
            f"tag{'' if n_tags == 1 else 's'} | {when} | {logdir}")
    return f"refresh failed: {error} | " + head if error else head


def view_line(pages: list[tuple[str, list[str]]], page: int, *, smoothing: float,
              smoothing_ready: bool, zoom: int | None, log_y: bool,
              filters: dict[str, str]) -> str:
    """The second status line: the page shown (``[i/n] group``), smoothing (``(loading)``
    while scipy is imported), zoom, y scale, and the run and tag filters when set."""
    if pages:
        where = f"[{page + 1}/{len(pages)}] {pages[page][0]}"
    else:
        where = "[0/0] no scalar tags" + (" match" if any(filters.values()) else "")
    smooth = f"smoothing {smoothing:g}"
    if smoothing and not smoothing_ready:
        smooth += " (loading)"
    parts = [where, smooth, "all steps" if zoom is None else f"last {zoom:,} steps",
             "log y" if log_y else "linear y"]
    for k in ("run", "tag"):
        if filters.get(k):
            parts.append(f"{k}s /{filters[k]}/")
    return " | ".join(parts)
