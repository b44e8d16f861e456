"""``tbx report LOGDIR -o report.html [--runs REGEX] [--tags REGEX] [--width PX]
[--max-size MB | --full]``."""

from __future__ import annotations

import argparse
import re
import sys

from tbx._cliutil import (
    NOTHING_MATCHED,
    NothingMatched,
    UsageError,
    check_output,
    check_path,
    error,
    output_failed,
)

__all__ = ["add_report_parser", "report_main"]


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand on an ``argparse`` subparsers object; its ``func``
    default runs :func:`report_main`."""
    from tbx.report.build import DEFAULT_MAX_SIZE, DEFAULT_WIDTH, MIN_WIDTH

    p = subparsers.add_parser(
        "report",
        help="write a logdir as one self-contained HTML file (interactive charts, no server)",
        description=(
            "Read LOGDIR once and write one HTML file with everything inline (scripts, styles, "
            "data; it fetches nothing and works opened from disk or sent by mail): every scalar "
            "tag as the web viewer's interactive charts (zoom, hover, smoothing, run toggles), "
            "the hparams table with final metrics, the last image of each image tag, text "
            "summaries, and a header with the logdir, date, run count and tbx version. Each "
            "series is downsampled with M4 to --width pixel columns (at most 4 points a "
            "column, spikes kept; the points kept are stored exactly), lowered until the "
            "file fits in --max-size, unless --full. Prints the width used and the file's "
            "size. Needs pip install 'tbx[viewer]'. Exit status 1 when OUT could not be "
            "written (a full disk, ...), 2 for a bad argument or path (OUT is a local file "
            "whose folder exists, checked before reading), 3 when --runs or --tags matched "
            "nothing (nothing is written)."
        ),
    )
    p.add_argument("logdir", metavar="LOGDIR",
                   help="folder of runs (or an fsspec URL such as s3://bucket/logs)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the HTML file to write")
    p.add_argument("--runs", "--run", dest="runs", metavar="REGEX", default=None,
                   help="only runs whose name matches this regular expression (re.search)")
    p.add_argument("--tags", "--tag", dest="tags", metavar="REGEX", default=None,
                   help="only tags matching this regular expression (re.search)")
    p.add_argument("--width", type=int, default=DEFAULT_WIDTH, metavar="PX",
                   help=f"pixel columns per chart for M4 downsampling, at most (default "
                        f"{DEFAULT_WIDTH}; lowered, not below {MIN_WIDTH}, to fit --max-size)")
    p.add_argument("--max-size", type=float, default=DEFAULT_MAX_SIZE / 1e6, metavar="MB",
                   help=f"size budget of the file in MB (10^6 bytes; default "
                        f"{DEFAULT_MAX_SIZE / 1e6:g}; 0: no budget)")
    p.add_argument("--full", action="store_true",
                   help="keep every point (no downsampling; --width and --max-size ignored)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only warnings (by default also the width used and the size; "
                        "a progress bar on a terminal)")
    p.set_defaults(func=report_main)
    return p


def _fail(msg: str, status: int = 2) -> int:
    return error("report", msg, status)


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def report_main(args) -> int:
    """Run ``tbx report`` from parsed arguments; exit status 0, 1 when OUT could not be written
    for a reason other than its path, 2 with a message naming the argument, or 3 when
    ``--runs``/``--tags`` matched nothing (nothing is written)."""
    try:
        check_path(args.logdir, "LOGDIR", folder=True)
    except UsageError as exc:
        return _fail(str(exc))
    for name, pat in (("--runs", args.runs), ("--tags", args.tags)):
        if pat is not None:
            try:
                re.compile(pat)
            except re.error as exc:
                return _fail(f"{name} {pat!r} is not a valid regular expression: {exc}")
    if args.width < 1:
        return _fail(f"--width must be >= 1, got {args.width}")
    if not args.max_size >= 0 or args.max_size == float("inf"):
        return _fail(f"--max-size must be a number of MB >= 0 (0: no budget), got "
                     f"{args.max_size}")
    max_size = round(args.max_size * 1e6) or None
    if max_size is None and args.max_size > 0:
        return _fail(f"--max-size {args.max_size} MB is less than a byte")
    try:
        check_output(args.output, url="tbx report writes a local file (copy it afterwards)")
    except UsageError as exc:
        return _fail(str(exc))
    try:
        from tbx.report.build import build_report
    except ImportError as exc:
        return _fail(f"tbx report needs the viewer extra (pip install 'tbx[viewer]'): {exc}")
    kw = {"runs": args.runs, "tags": args.tags, "width": args.width, "max_size": max_size,
          "full": args.full}
    try:
        if not args.quiet and sys.stderr.isatty():
            from tbx.reader._progress import progress_bar

            with progress_bar(f"reading {args.logdir}") as update:
                info = build_report(args.logdir, args.output, progress=update, **kw)
        else:
            info = build_report(args.logdir, args.output, **kw)
    except ImportError as exc:
        return _fail(f"tbx report needs the viewer extra (pip install 'tbx[viewer]'): {exc}")
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and exc.strerror is None:
            return _fail(str(exc))  # tbx's own: the logdir vanished, the page is not built
        failed = output_failed(exc, args.output)
        return _fail(str(failed), failed.status)
    except NothingMatched as exc:
        return _fail(exc.said_as("--runs" if exc.what == "run" else "--tags"), NOTHING_MATCHED)
    if not args.quiet:
        if info.width is None:
            kept = "every point (--full)"
        elif info.width < args.width:
            kept = (f"M4 to {info.width} px per chart, lowered from {args.width} px to fit "
                    f"--max-size {_mb(info.max_size)}")
        else:
            kept = f"M4 to {info.width} px per chart"
        print(f"tbx report: wrote {info.path}: {_mb(info.size)} ({info.size:,} bytes); "
              f"{info.runs} runs, {info.series} scalar series, {info.points:,} of "
              f"{info.total_points:,} points ({kept}), {info.images} image tags, {info.texts} "
              f"text tags; {info.seconds:.2f} s")
    if not info.within_budget:
        print(f"tbx report: warning: {_mb(info.size)} is over --max-size "
              f"{_mb(info.max_size)} even at {info.width} px per chart (images, text and "
              f"{info.series} series' descriptors take the room): raise --max-size, or select "
              f"fewer runs or tags with --runs/--tags", file=sys.stderr)
    return 0
