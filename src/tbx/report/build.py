"""``tbx report``: read a logdir once and write it as one self-contained HTML file, within a
size budget."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from tbx.report import data as D
from tbx.report.page import load_bundle, render_page

__all__ = ["ReportInfo", "build_report", "DEFAULT_WIDTH", "DEFAULT_MAX_SIZE", "MIN_WIDTH"]

#: Pixel columns each series is downsampled to at most (M4: at most 4 points a column).
DEFAULT_WIDTH = 2000
#: The file's size budget in bytes (5 MB); the width is lowered until the file fits.
DEFAULT_MAX_SIZE = 5_000_000
#: The budget never lowers the width below this many pixel columns.
MIN_WIDTH = 50
#: A width is passed over without compressing well when its block, compressed fast
#: (:meth:`~tbx.report.data.SeriesBlock.quick_size`), times this is already over the budget.
QUICK_MARGIN = 0.9


@dataclass(frozen=True)
class ReportInfo:
    """What :func:`build_report` wrote.

    Attributes:
        path: the HTML file.
        size: its size in bytes.
        width: pixel columns per chart the series were downsampled to (``None``: every point,
            ``full``); lower than the ``width`` asked for when the budget lowered it.
        max_size: the budget in bytes (``None``: none).
        within_budget: ``size <= max_size`` (always True without a budget). False only when
            even :data:`MIN_WIDTH` did not fit: what is not series (images, text, the page's
            code) or the many series' descriptors take the room.
        runs: runs in the report (those with something shown).
        series: scalar series; points: scalar points in the file; total_points: scalar
        points in the logdir's selected series.
        images, texts: image and text tags included.
        attempts: widths encoded to find one that fits (1 when the first fitted).
        seconds: time taken (reading included).
    """

    path: str
    size: int
    width: int | None
    max_size: int | None
    within_budget: bool
    runs: int
    series: int
    points: int
    total_points: int
    images: int
    texts: int
    attempts: int
    seconds: float


def _check_int(name: str, v, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")


def _estimate_width(width: int, lengths: np.ndarray, kept: dict, room: int, lo: int,
                    hi: int) -> int:
    """The largest width in ``[lo, hi]`` whose series block is estimated to fit in ``room``
    bytes, from what ``width`` gave; ``lo - 1`` when none is. Points kept at a width ``w``
    are about ``sum(min(n, k * w))`` over the series' lengths ``n``, ``k`` the points M4 kept
    per column in the series downsampled at ``width`` (4 at most); bytes per point as
    measured at ``width``, aimed 5 % under (fewer points take more bytes each).

    Args:
        kept: at ``width``: ``points`` kept in all, ``bytes`` of the block, and ``down_points``
            and ``down_series`` of the series that were downsampled.
    """
    if room <= 0 or not kept["points"]:
        return lo - 1
    target = room / (kept["bytes"] / kept["points"]) * 0.95
    k = kept["down_points"] / (kept["down_series"] * width) if kept["down_series"] else 4.0
    lo -= 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if np.minimum(lengths, k * mid).sum() <= target:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _fit(series: list, width: int | None, budget: int | None, render) -> tuple:
    """Encode ``series`` at ``width`` (``None``: every point) and, while the page
    ``render(w, descriptors, payload)`` is larger than ``budget`` bytes, at smaller widths
    (not below :data:`MIN_WIDTH`); once one fits, one step back up towards the smallest width
    found too large, when there is room. Returns ``(width, html, size in bytes, what was kept,
    attempts)``."""
    lengths = np.array([len(s) for _, _, s in series], dtype=np.float64)
    w, too_big, best, grown, attempts = width, None, None, False, 0
    while True:
        attempts += 1
        block, scalars, kept = _encode(series, w)
        if budget is not None and w > MIN_WIDTH and best is None:
            fixed = len(render(w, scalars, "").encode("utf-8"))
            quick = block.quick_size()
            if fixed + QUICK_MARGIN * quick > budget:  # too large however well compressed
                too_big = w
                w = max(MIN_WIDTH, _estimate_width(w, lengths, {**kept, "bytes": quick},
                                                   budget - fixed, MIN_WIDTH, w - 1))
                continue
        payload = block.payload()
        html = render(w, scalars, payload)
        size = len(html.encode("utf-8"))
        now = (w, html, size, kept)
        room = None if budget is None else budget - (size - len(payload))
        if budget is None or size <= budget:
            best = now
            if too_big is None or grown or size > 0.97 * budget:
                break
            grown = True  # one step up: the estimate aims low
            up = _estimate_width(w, lengths, {**kept, "bytes": len(payload)}, room, w + 1,
                                 too_big - 1)
            if up <= w:
                break
            w = up
            continue
        if best is not None or w <= MIN_WIDTH:  # the step up did not fit; nothing fits
            break
        too_big = w
        w = max(MIN_WIDTH, _estimate_width(w, lengths, {**kept, "bytes": len(payload)}, room,
                                           MIN_WIDTH, w - 1))
    return (*(best or now), attempts)


def _encode(series: list, w: int | None) -> tuple[D.SeriesBlock, list[dict], dict]:
    """Every ``(run, tag, ScalarSeries)`` of ``series`` downsampled with M4 to ``w`` columns
    (``None``: every point) into a :class:`~tbx.report.data.SeriesBlock`: ``(block, the
    series' descriptors, what was kept)`` (see :func:`_smaller_width`)."""
    from tbx.seriesmath import downsample_indices

    block = D.SeriesBlock()
    scalars = []
    down_points = down_series = 0
    for run, tag, s in series:
        n = len(s)
        if w is None or n <= 4 * w:
            idx = slice(None)
        else:
            idx = downsample_indices(s.step.astype(np.float64), s.value, w)
            down_points += len(idx)
            down_series += 1
        desc = block.add(s.step[idx], s.wall_time[idx], s.value[idx])
        scalars.append({"run": run, "tag": tag, "total": n, **desc})
    kept = {"points": block.points, "down_points": down_points, "down_series": down_series}
    return block, scalars, kept


def build_report(logdir, output, *, runs: str | None = None, tags: str | None = None,
                 width: int = DEFAULT_WIDTH, max_size: int | None = DEFAULT_MAX_SIZE,
                 full: bool = False, progress=None) -> ReportInfo:
    """Read ``logdir`` and write ``output``, one HTML file with everything inline (works from
    ``file://``, fetches nothing): every scalar tag of the selected runs as the viewer's
    interactive charts (zoom, hover, smoothing, run toggles), the hparams table with final
    metrics, the last image of each image tag, text summaries, and a header with the logdir,
    date (UTC), run count and tbx version.

    Each series is downsampled with the viewer's M4 to ``width`` pixel columns (the first,
    last, minimum and maximum point of each column, so at most ``4 * width`` points a series,
    every point kept stored exactly). When the file would be larger than ``max_size`` bytes,
    the width is lowered (not below :data:`MIN_WIDTH`) until it fits; the width used is in
    the result.

    Args:
        logdir: a folder of runs or an fsspec URL.
        output: the HTML file to write (``str`` or path; its folder must exist).
        runs, tags: regular expressions (``re.search``, as ``tbx export``); only matching runs
            and tags are read and included.
        width: pixel columns per chart at most; integer >= 1. Ignored when ``full``.
        max_size: size budget of the file in bytes (integer >= 1), or ``None`` for none.
            Ignored when ``full``.
        full: keep every point (no downsampling, no budget).
        progress: optional ``progress(done_bytes, total_bytes)`` while reading.

    Returns:
        A :class:`ReportInfo`.

    Raises:
        ValueError: ``width`` or ``max_size`` not an integer >= 1, or a bad regular
            expression.
        tbx._cliutil.NothingMatched: (a LookupError) ``runs`` or ``tags`` matched nothing
            (nothing is written; the message lists the runs or tags there are).
        FileNotFoundError: ``logdir`` does not exist, or the report page is not built.
        OSError: ``output`` cannot be written.
    """
    from tbx import __version__
    from tbx.reader.provider import LogdirProvider

    _check_int("width", width, 1)
    if max_size is not None:
        _check_int("max_size", max_size, 1)
    t0 = time.perf_counter()
    js, css = load_bundle()
    provider = LogdirProvider(logdir, run_filter=runs, tag_filter=tags)
    provider.refresh(progress=progress)
    from tbx._cliutil import check_matched

    kept = provider.runs()
    check_matched(provider.all_names(), kept, any(provider.series(r) for r in kept),
                  run_filter=runs, tag_filter=tags, run_option="runs", tag_option="tags")
    series = [(run, tag, provider.scalars(run, tag)) for run, tag in D.scalar_pairs(provider)]
    total = sum(len(s) for _, _, s in series)
    hparams, images, text = (D.hparams_table(provider), D.last_images(provider),
                             D.text_items(provider))
    used = {x["run"] for x in [*hparams["sessions"], *images, *text]}
    used.update(run for run, _, _ in series)
    runs_list = [r for r in provider.runs() if r in used]  # runs with something to show
    meta = {
        "logdir": str(provider.logdir),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "runs": runs_list,
        "hparams": hparams,
        "images": images,
        "text": text,
    }

    def render(w: int | None, scalars: list[dict], payload: str) -> str:
        return render_page({**meta, "width": w, "full": w is None, "scalars": scalars},
                           payload, js, css)

    budget = None if full else max_size
    w, html, size, kept, attempts = _fit(series, None if full else int(width), budget, render)
    with open(output, "w", encoding="utf-8", newline="\n") as f:
        f.write(html)
    return ReportInfo(path=os.fspath(output), size=os.path.getsize(output), width=w,
                      max_size=budget, within_budget=budget is None or size <= budget,
                      runs=len(runs_list), series=len(series), points=kept["points"],
                      total_points=total, images=len(images), texts=len(text),
                      attempts=attempts, seconds=time.perf_counter() - t0)
