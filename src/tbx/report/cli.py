"""``tbx report LOGDIR -o report.html [--runs REGEX] [--tags REGEX] [--width PX | --full]``."""

from __future__ import annotations

import argparse
import os
import re
import sys

__all__ = ["add_report_parser", "report_main"]


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand on an ``argparse`` subparsers object; its ``func``
    default runs :func:`report_main`."""
    from tbx.report.build import DEFAULT_WIDTH

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
            "column, spikes kept) unless --full. Prints the file's size. Needs pip install "
            "'tbx[viewer]'."
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
                   help=f"pixel columns per series for M4 downsampling (default {DEFAULT_WIDTH})")
    p.add_argument("--full", action="store_true", help="keep every point (a larger file)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing (by default: the size; a progress bar on a terminal)")
    p.set_defaults(func=report_main)
    return p


def _fail(msg: str) -> int:
    print(f"tbx report: error: {msg}", file=sys.stderr)
    return 2


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def report_main(args) -> int:
    """Run ``tbx report`` from parsed arguments; exit status 0, or 2 with a message naming
    the argument."""
    from tbx.reader._fs import is_url

    if not is_url(args.logdir) and not os.path.isdir(args.logdir):
        return _fail(f"LOGDIR {args.logdir!r} is not a folder")
    for name, pat in (("--runs", args.runs), ("--tags", args.tags)):
        if pat is not None:
            try:
                re.compile(pat)
            except re.error as exc:
                return _fail(f"{name} {pat!r} is not a valid regular expression: {exc}")
    if args.width < 1:
        return _fail(f"--width must be >= 1, got {args.width}")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        return _fail(f"the folder of OUT {args.output!r} does not exist")
    try:
        from tbx.report.build import build_report
    except ImportError as exc:
        return _fail(f"tbx report needs the viewer extra (pip install 'tbx[viewer]'): {exc}")
    kw = {"runs": args.runs, "tags": args.tags, "width": args.width, "full": args.full}
    try:
        if not args.quiet and sys.stderr.isatty():
            from tbx.reader._progress import progress_bar

            with progress_bar(f"reading {args.logdir}") as update:
                info = build_report(args.logdir, args.output, progress=update, **kw)
        else:
            info = build_report(args.logdir, args.output, **kw)
    except ImportError as exc:
        return _fail(f"tbx report needs the viewer extra (pip install 'tbx[viewer]'): {exc}")
    except FileNotFoundError as exc:
        return _fail(str(exc))
    if not args.quiet:
        kept = "every point" if args.full else f"M4 to {args.width} px per series"
        print(f"tbx report: wrote {info.path}: {_mb(info.size)} ({info.size:,} bytes); "
              f"{info.runs} runs, {info.series} scalar series, {info.points:,} of "
              f"{info.total_points:,} points ({kept}), {info.images} image tags, {info.texts} "
              f"text tags; {info.seconds:.2f} s")
    return 0
