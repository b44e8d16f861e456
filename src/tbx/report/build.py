"""``tbx report``: read a logdir once and write it as one self-contained HTML file."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from tbx.report import data as D
from tbx.report.page import load_bundle, render_page

__all__ = ["ReportInfo", "build_report", "DEFAULT_WIDTH"]

#: Pixel columns each series is downsampled to (M4: at most 4 points a column).
DEFAULT_WIDTH = 2000


@dataclass(frozen=True)
class ReportInfo:
    """What :func:`build_report` wrote.

    Attributes:
        path: the HTML file.
        size: its size in bytes.
        runs: runs in the report (those with something shown).
        series: scalar series; points: scalar points in the file; total_points: scalar
        points in the logdir's selected series.
        images, texts: image and text tags included.
        seconds: time taken (reading included).
    """

    path: str
    size: int
    runs: int
    series: int
    points: int
    total_points: int
    images: int
    texts: int
    seconds: float


def build_report(logdir, output, *, runs: str | None = None, tags: str | None = None,
                 width: int = DEFAULT_WIDTH, full: bool = False, progress=None) -> ReportInfo:
    """Read ``logdir`` and write ``output``, one HTML file with everything inline (works from
    ``file://``, fetches nothing): every scalar tag of the selected runs as the viewer's
    interactive charts (zoom, hover, smoothing, run toggles), the hparams table with final
    metrics, the last image of each image tag, text summaries, and a header with the logdir,
    date (UTC), run count and tbx version.

    Args:
        logdir: a folder of runs or an fsspec URL.
        output: the HTML file to write (``str`` or path; its folder must exist).
        runs, tags: regular expressions (``re.search``, as ``tbx export``); only matching runs
            and tags are read and included.
        width: pixel columns each series is downsampled to with the viewer's M4 (first, last,
            minimum and maximum point of each column, so at most ``4 * width`` points per
            series); >= 1. Ignored when ``full``.
        full: keep every point.
        progress: optional ``progress(done_bytes, total_bytes)`` while reading.

    Returns:
        A :class:`ReportInfo`.

    Raises:
        ValueError: ``width`` < 1 or a bad regular expression.
        FileNotFoundError: ``logdir`` does not exist, or the report page is not built.
        OSError: ``output`` cannot be written.
    """
    from tbx import __version__
    from tbx.reader.provider import LogdirProvider
    from tbx.seriesmath import downsample_indices

    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    t0 = time.perf_counter()
    js, css = load_bundle()
    provider = LogdirProvider(logdir, run_filter=runs, tag_filter=tags)
    provider.refresh(progress=progress)
    block = D.SeriesBlock()
    scalars = []
    points = total = 0
    for run, tag in D.scalar_pairs(provider):
        s = provider.scalars(run, tag)
        n = len(s)
        if full or n <= 4 * width:
            idx = slice(None)
        else:
            idx = downsample_indices(s.step.astype(np.float64), s.value, int(width))
        step, wall, value = s.step[idx], s.wall_time[idx], s.value[idx]
        desc = block.add(step, wall, value)
        scalars.append({"run": run, "tag": tag, "n": len(step), "total": n,
                        "downsampled": len(step) < n, **desc})
        points += len(step)
        total += n
    hparams, images, text = (D.hparams_table(provider), D.last_images(provider),
                             D.text_items(provider))
    used = {x["run"] for x in [*scalars, *hparams["sessions"], *images, *text]}
    runs_list = [r for r in provider.runs() if r in used]  # runs with something to show
    meta = {
        "logdir": str(provider.logdir),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "width": int(width),
        "full": bool(full),
        "runs": runs_list,
        "scalars": scalars,
        "hparams": hparams,
        "images": images,
        "text": text,
    }
    page = render_page(meta, block.payload(), js, css)
    with open(output, "w", encoding="utf-8", newline="\n") as f:
        f.write(page)
    return ReportInfo(path=os.fspath(output), size=os.path.getsize(output), runs=len(runs_list),
                      series=len(scalars), points=points, total_points=total,
                      images=len(meta["images"]), texts=len(meta["text"]),
                      seconds=time.perf_counter() - t0)
