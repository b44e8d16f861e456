"""The ``tbx`` command line: ``tbx <subcommand> ...``.

Each subcommand is one ``add_<name>_parser(subparsers)`` function that registers its parser and
sets ``func`` (called with the parsed arguments, returns the exit status); :data:`SUBCOMMANDS`
lists them. Adding a subcommand is adding a function to that list.

Exit status: 0 on success, 1 when ``inspect`` found corruption or something it could not read,
or writing an output failed for a reason other than its path (:class:`~tbx._cliutil.
OutputFailed`), 2 on bad arguments or a bad path, 3 (:data:`~tbx._cliutil.NOTHING_MATCHED`)
when a run or tag filter matched nothing or ``export`` found no data of its ``--kind``. Every
user error is one line on stderr, ``tbx <command>: error: <message>``, naming the argument and
what is accepted (never a traceback); argparse's errors too (:class:`~tbx._cliutil.Parser`).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from tbx._cliutil import (
    NOTHING_MATCHED,
    NothingMatched,
    OutputFailed,
    Parser,
    UsageError,
    check_matched,
    check_path,
    check_regex,
    error,
    want_progress,
)

__all__ = ["main", "build_parser", "SUBCOMMANDS", "UsageError"]


# ---------------------------------------------------------------------------------- export


def add_export_parser(subparsers) -> None:
    """``tbx export LOGDIR -o OUT``: tables, and files with an index (:mod:`tbx.export`)."""
    from tbx.export import add_export_parser as add

    add(subparsers)


# ---------------------------------------------------------------------------------- inspect


def add_inspect_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect",
        help="summarise the runs and tags of a logdir or event file, and any corruption",
        description=(
            "Read PATH (a logdir, or one event file) and print, per run and tag: the kind "
            "(plugin and data class), the number of points, the step range and the wall-time "
            "range (UTC); a tag used by several plugins has one line per plugin. Then every "
            "corruption found (file, byte offset, reason), every incomplete last record (a "
            "writer still writing, or a cut-off file), and every file, folder or link that was "
            "skipped because it cannot be read. Exit status 1 when corruption was found or "
            "something was skipped, 2 when PATH is neither a folder nor an event file (a file "
            "named *tfevents*), 3 when --run or --tag matched nothing."
        ),
    )
    p.add_argument("path", metavar="PATH", help="a logdir, an event file, or an fsspec URL")
    p.add_argument("--run", metavar="REGEX", default=None,
                   help="only runs whose name matches this regular expression (re.search)")
    p.add_argument("--tag", metavar="REGEX", default=None,
                   help="only tags matching this regular expression (re.search)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (it is shown only when stderr is a terminal)")
    p.set_defaults(func=run_inspect)


def _utc(t: float | None) -> str:
    if t is None:
        return "-"
    try:
        return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return repr(t)


def run_inspect(args) -> int:
    check_path(args.path, "PATH")
    check_regex(args.run, "--run")
    check_regex(args.tag, "--tag")
    import warnings

    from tbx.reader._core import LogdirReader
    from tbx.reader._names import is_url

    path = args.path
    if not is_url(path) and not os.path.isdir(path):
        if not (os.path.isfile(path) and "tfevents" in os.path.basename(path)):
            raise UsageError(f"PATH {path!r} is not an event file: expected a logdir (a "
                             f"folder) or an event file, a file named *tfevents* (such as "
                             f"events.out.tfevents.1700000000.host.1234.0)")
        root = os.path.dirname(os.path.abspath(path))  # read this file only, walk no folder
        reader = LogdirReader(root, only_files={os.path.join(root, os.path.basename(path))},
                              run_filter="^\\.$", tag_filter=args.tag)
    else:
        reader = LogdirReader(path, run_filter=args.run, tag_filter=args.tag)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # corruption is printed below
        if want_progress(args):
            from tbx.reader._progress import progress_bar

            with progress_bar(f"reading {path}") as update:
                reader.refresh(progress=update)
        else:
            reader.refresh()
    from tbx.reader._names import display_name as shown  # paths may hold non-UTF-8 bytes

    out = sys.stdout
    runs = reader.runs()
    corruptions = reader.corruptions()
    problems = reader.problems()
    unreadable = {pr.path for pr in problems}
    check_matched(reader.all_names(), runs, any(reader.series(r) for r in runs),
                  run_filter=args.run if os.path.isdir(path) or is_url(path) else None,
                  tag_filter=args.tag)
    if not runs:
        print(f"{path}: no event files", file=out)
    header = ("tag", "kind", "count", "steps", "wall time (UTC)")
    for run in runs:
        files = reader.files(run)
        total = sum(size for _, size, _ in files)
        print(f"run {run}  ({len(files)} file{'s' if len(files) != 1 else ''}, {total} bytes)",
              file=out)
        rows = []
        for tag, _plugin, info in reader.series(run):
            kind = f"{info.plugin_name or '-'}/{info.data_class}"
            steps = "-" if info.first_step is None else f"{info.first_step}..{info.last_step}"
            walls = "-" if info.first_wall_time is None else \
                f"{_utc(info.first_wall_time)} .. {_utc(info.last_wall_time)}"
            rows.append((tag, kind, str(info.count), steps, walls))
        if rows:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            for r in [header, *rows]:
                print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
                      .rstrip(), file=out)
        for fpath, size, offset in files:
            if offset < size and fpath not in unreadable:
                print(f"  incomplete last record: {shown(fpath)} at byte offset {offset} "
                      f"({size - offset} bytes not read)", file=out)
    if corruptions:
        print(f"corruption: {len(corruptions)} bad record(s)", file=out)
        for c in corruptions:
            print(f"  {shown(c.source)}: byte offset {c.offset}: {c.reason} ({c.skipped} bytes "
                  f"skipped)", file=out)
    else:
        print("corruption: none", file=out)
    if problems:
        print(f"skipped: {len(problems)} path(s) that cannot be read", file=out)
        for pr in problems:
            print(f"  {shown(pr.path)}: {shown(pr.reason)}", file=out)
    return 1 if corruptions or problems else 0


# ---------------------------------------------------------------------------------- main

#: Functions registering one subcommand each (``serve`` and ``demo`` go here too).
# ------------------------------------------------------------------------------------ serve


def add_serve_parser(subparsers) -> None:
    """``tbx serve LOGDIR``: the web viewer (options in :mod:`tbx.viewer.server`)."""
    from tbx.viewer.server import add_serve_parser as add

    add(subparsers)


# ------------------------------------------------------------------------------------- demo


def add_demo_parser(subparsers) -> None:
    """``tbx demo``: train on scikit-learn's digits and view it live (:mod:`tbx.demo.run`)."""
    from tbx.demo.run import add_demo_parser as add

    add(subparsers)


# ------------------------------------------------------------------------------- watch, report


def add_watch_parser(subparsers) -> None:
    """``tbx watch``: the live terminal dashboard (:mod:`tbx.watch.cli`)."""
    from tbx.watch.cli import add_watch_parser as add

    add(subparsers)


def add_report_parser(subparsers) -> None:
    """``tbx report``: one self-contained HTML file (:mod:`tbx.report.cli`)."""
    from tbx.report.cli import add_report_parser as add

    add(subparsers)


SUBCOMMANDS = [add_export_parser, add_inspect_parser, add_serve_parser, add_demo_parser,
               add_watch_parser, add_report_parser]


def build_parser() -> argparse.ArgumentParser:
    """The ``tbx`` parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = Parser(
        prog="tbx",
        description="tbx: TensorBoard event files — write, read back, export, inspect, view.",
    )
    from tbx import __version__

    parser.add_argument("--version", action="version", version=f"tbx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tbx`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as exc:
        return error(args.command, str(exc))
    except NothingMatched as exc:
        return error(args.command, str(exc), NOTHING_MATCHED)
    except OutputFailed as exc:
        return error(args.command, str(exc), exc.status)
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a missing logdir, an output path in a missing folder, ...
        return error(args.command, str(exc))


if __name__ == "__main__":
    sys.exit(main())
