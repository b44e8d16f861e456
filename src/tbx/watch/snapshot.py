"""What ``tbx watch`` shows, as plain data: per-(run, tag) statistics of scalar series, the
chart points of one tag, sparklines, and the ``--once`` snapshot in text or JSON.

Pure functions over a :class:`tbx.reader.provider.LogdirProvider` (state as of its last
refresh) and numpy; no terminal I/O. The live TUI (:mod:`tbx.watch.app`) and ``--once`` both use
them, so both show the same numbers.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import numpy as np

__all__ = [
    "SeriesStats",
    "series_stats",
    "scalar_pairs",
    "compile_filter",
    "chart_points",
    "sparkline",
    "fmt_value",
    "snapshot",
    "format_text",
    "format_json",
]

SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class SeriesStats:
    """Summary of one scalar series (every point, never sampled).

    Attributes:
        run, tag: the series.
        count: number of points.
        step: step of the last point in file order (the latest), ``None`` when empty.
        value: value of that point (float; NaN and ±inf kept), ``None`` when empty.
        wall_time: its wall time (float seconds since the epoch), ``None`` when empty.
        min, max: smallest and largest finite value (``None`` when there is none).
        first_step: step of the first point, ``None`` when empty.
    """

    run: str
    tag: str
    count: int
    step: int | None
    value: float | None
    wall_time: float | None
    min: float | None
    max: float | None
    first_step: int | None


def series_stats(run: str, tag: str, series) -> SeriesStats:
    """:class:`SeriesStats` of a :class:`~tbx.reader.provider.ScalarSeries`."""
    n = len(series)
    if not n:
        return SeriesStats(run, tag, 0, None, None, None, None, None, None)
    v = series.value
    finite = v[np.isfinite(v)]
    lo = float(finite.min()) if finite.size else None
    hi = float(finite.max()) if finite.size else None
    return SeriesStats(run, tag, n, int(series.step[-1]), float(v[-1]),
                       float(series.wall_time[-1]), lo, hi, int(series.step[0]))


def compile_filter(pattern: str | None, name: str) -> re.Pattern | None:
    """A case-insensitive regular expression (as the web viewer's filter boxes), ``None`` for
    an empty pattern.

    Raises:
        ValueError: ``pattern`` is not a valid regular expression (message names ``name``).
    """
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"{name} {pattern!r} is not a valid regular expression: {exc}") from None


def scalar_pairs(provider, run_re: re.Pattern | None = None,
                 tag_re: re.Pattern | None = None) -> list[tuple[str, str]]:
    """``(run, tag)`` of every scalar series whose run and tag match the filters
    (``re.search``), runs in name order, tags in first-seen order."""
    out = []
    for run in provider.runs():
        if run_re is not None and not run_re.search(run):
            continue
        try:
            tags = provider.tags(run)
        except KeyError:  # the run vanished since runs() was called
            continue
        for tag, info in tags.items():
            if info.data_class != "scalar" or (tag_re is not None and not tag_re.search(tag)):
                continue
            out.append((run, tag))
    return out


def chart_points(series, *, width: int, smoothing: float = 0.0, last_steps: int | None = None,
                 log_y: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(step, value)`` float64 arrays to draw one series on ``width`` columns: the points of
    the last ``last_steps`` steps (all when ``None``), smoothed with the viewer's debiased EMA
    (``smoothing`` in ``[0, 1)``) over the whole series, downsampled with the viewer's M4 to
    ``width``; non-finite values (and values <= 0 when ``log_y``) dropped.

    Raises:
        ValueError: ``smoothing`` outside ``[0, 1)`` or ``width`` < 1.
    """
    from tbx.seriesmath import downsample_indices, ema, select

    step = series.step
    value = series.value
    if smoothing > 0:
        value = ema(value, smoothing)[0]
    if last_steps is not None and len(step):
        sel = select(step, float(step.max()) - last_steps, None)
        step, value = step[sel], value[sel]
    x = np.asarray(step, dtype=np.float64)
    y = np.asarray(value, dtype=np.float64)
    keep = np.isfinite(y) & (y > 0 if log_y else True)
    x, y = x[keep], y[keep]
    if not len(x):
        return x, y
    idx = downsample_indices(x, y, width)
    return x[idx], y[idx]


def sparkline(values: np.ndarray, width: int) -> str:
    """``values`` (finite ones; NaN/inf skipped) as at most ``width`` block characters
    (``▁`` lowest .. ``█`` highest), each the mean of an equal share of the points."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not v.size or width < 1:
        return ""
    cols = min(width, v.size)
    edges = np.linspace(0, v.size, cols + 1).astype(np.int64)
    means = np.add.reduceat(v, edges[:-1]) / np.diff(edges)
    lo, hi = float(means.min()), float(means.max())
    if hi <= lo:
        return SPARK[3] * cols
    levels = np.clip(((means - lo) / (hi - lo) * (len(SPARK) - 1)).round(), 0, len(SPARK) - 1)
    return "".join(SPARK[int(i)] for i in levels)


def fmt_value(v: float | None) -> str:
    """A value as the web viewer's legend shows it: 6 significant digits, exponent form for
    magnitudes >= 1e6 or < 1e-3; ``-`` for ``None``."""
    if v is None:
        return "-"
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if a != 0 and (a >= 1e6 or a < 1e-3):
        return f"{v:.4e}"
    return f"{v:.6g}"


def snapshot(provider, run_re=None, tag_re=None) -> list[SeriesStats]:
    """:class:`SeriesStats` of every scalar series matching the filters (see
    :func:`scalar_pairs`)."""
    out = []
    for run, tag in scalar_pairs(provider, run_re, tag_re):
        try:
            out.append(series_stats(run, tag, provider.scalars(run, tag)))
        except KeyError:
            continue
    return out


def format_text(provider, stats: list[SeriesStats], spark_width: int = 16) -> str:
    """The ``--once --format text`` snapshot: a header line, then one row per series (run,
    tag, step, latest, min, max, points, sparkline over every point), columns aligned."""
    runs = sorted({s.run for s in stats})
    lines = [f"tbx watch {provider.logdir}: {len(runs)} run{'s' if len(runs) != 1 else ''}, "
             f"{len(stats)} scalar series"]
    header = ("run", "tag", "step", "latest", "min", "max", "points", "trend")
    rows = []
    for s in stats:
        spark = sparkline(provider.scalars(s.run, s.tag).value, spark_width) if s.count else ""
        rows.append((s.run, s.tag, "-" if s.step is None else str(s.step), fmt_value(s.value),
                     fmt_value(s.min), fmt_value(s.max), str(s.count), spark))
    if rows:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        right = {2, 3, 4, 5, 6}
        for r in [header, *rows]:
            cells = [c.rjust(w) if i in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(r, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
    else:
        lines.append("no scalar series")
    return "\n".join(lines) + "\n"


def _json_number(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def format_json(provider, stats: list[SeriesStats]) -> str:
    """The ``--once --format json`` snapshot: ``{"logdir", "time" (UTC ISO 8601), "runs":
    [names], "scalars": [{"run", "tag", "count", "step", "value", "wall_time", "min", "max",
    "first_step"}]}``; NaN is ``null`` and ±inf ``"Infinity"``/``"-Infinity"`` (as
    ``tbx export --format json``)."""
    doc = {
        "logdir": str(provider.logdir),
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": sorted({s.run for s in stats}),
        "scalars": [{k: _json_number(v) for k, v in asdict(s).items()} for s in stats],
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"
