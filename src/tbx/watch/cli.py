"""``tbx watch LOGDIR [--runs REGEX] [--tags REGEX] [--interval S] [--smoothing W]
[--once [--format text|json]]``."""

from __future__ import annotations

import argparse
import sys

from tbx._cliutil import (
    NOTHING_MATCHED,
    NothingMatched,
    UsageError,
    check_matched,
    check_path,
    error,
)

__all__ = ["add_watch_parser", "watch_main"]


def add_watch_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``watch`` subcommand on an ``argparse`` subparsers object; its ``func``
    default runs :func:`watch_main`."""
    p = subparsers.add_parser(
        "watch",
        help="live terminal dashboard of a logdir's scalars (works over SSH)",
        description=(
            "Show LOGDIR's scalars in the terminal and follow new points live: braille line "
            "charts of one page of tags at a time (runs in stable colours), and per run and "
            "tag the latest step and value, min, max and a sparkline. Keys: n/p next/previous "
            "page of tags, z zoom to the last N steps, l log y, s smoothing, r/t run/tag "
            "filter, q quit. Needs a terminal of at least 80x24 for charts (smaller: the table "
            "only) and pip install 'tbx[watch]'; NO_COLOR turns colours off. With --once, "
            "prints a snapshot to standard output and exits (no extra needed)."
        ),
    )
    p.add_argument("logdir", metavar="LOGDIR",
                   help="folder of runs (or an fsspec URL such as s3://bucket/logs)")
    p.add_argument("--runs", "--run", dest="runs", metavar="REGEX", default=None,
                   help="only runs matching this regular expression (case-insensitive search, "
                        "as the web viewer's filter; editable live with r)")
    p.add_argument("--tags", "--tag", dest="tags", metavar="REGEX", default=None,
                   help="only tags matching this regular expression (case-insensitive; t)")
    p.add_argument("--interval", type=float, default=1.0, metavar="S",
                   help="seconds between reads of new data (default 1, as tbx serve)")
    p.add_argument("--smoothing", type=float, default=0.6, metavar="W",
                   help="initial smoothing weight of the charts, in [0, 1) (default 0.6)")
    p.add_argument("--once", action="store_true",
                   help="print a snapshot (one row per run and tag) and exit")
    p.add_argument("--format", choices=("text", "json"), default=None,
                   help="snapshot format with --once (default text)")
    p.set_defaults(func=watch_main)
    return p


def _fail(msg: str, status: int = 2) -> int:
    return error("watch", msg, status)


def watch_main(args) -> int:
    """Run ``tbx watch`` from parsed arguments. Exit status 0, 2 with a message naming the
    argument (missing logdir, bad regex, bad number, no terminal, missing extra), or 3 when
    ``--once`` found no scalar series matching ``--runs``/``--tags`` (the message lists what
    there is).

    The live dashboard reads through a watching provider (``LogdirProvider(watch=True)``, as
    ``tbx serve``): a local logdir is watched with ``watchfiles`` and others are listed with
    back-off, so a refresh of an unchanged logdir lists and reads nothing."""
    from tbx.watch.snapshot import compile_filter

    try:
        check_path(args.logdir, "LOGDIR", folder=True)
    except UsageError as exc:
        return _fail(str(exc))
    try:
        run_re = compile_filter(args.runs, "--runs")
        tag_re = compile_filter(args.tags, "--tags")
    except ValueError as exc:
        return _fail(str(exc))
    if not args.interval > 0:
        return _fail(f"--interval must be > 0, got {args.interval}")
    if not 0.0 <= args.smoothing < 1.0:
        return _fail(f"--smoothing must be in [0, 1), got {args.smoothing}")
    if args.format is not None and not args.once:
        return _fail("--format needs --once")
    from tbx.reader.provider import LogdirProvider

    if args.once:
        provider = LogdirProvider(args.logdir)
        from tbx.watch.snapshot import format_json, format_text, scalar_pairs, snapshot

        provider.refresh()
        stats = snapshot(provider, run_re, tag_re)
        if not stats and (run_re is not None or tag_re is not None):
            runs = [r for r in provider.runs() if run_re is None or run_re.search(r)]
            scalar: dict[str, list[str]] = {r: [] for r in provider.runs()}
            for r, t in scalar_pairs(provider):
                scalar[r].append(t)
            try:
                check_matched(scalar, runs, False, run_filter=args.runs if run_re else None,
                              tag_filter=args.tags if tag_re else None, run_option="--runs",
                              tag_option="--tags", noun="scalar tag")
            except NothingMatched as exc:
                return _fail(str(exc), NOTHING_MATCHED)
        out = format_json if args.format == "json" else format_text
        sys.stdout.write(out(provider, stats))
        return 0
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        return _fail("the live dashboard needs a terminal; use --once for a snapshot")
    try:
        from tbx.watch.app import WatchApp
    except ImportError as exc:
        return _fail(f"the live dashboard needs the watch extra (pip install 'tbx[watch]'): "
                     f"{exc}")
    provider = LogdirProvider(args.logdir, watch=True)  # an idle refresh lists nothing
    try:
        WatchApp(provider, interval=args.interval, run_filter=args.runs, tag_filter=args.tags,
                 smoothing=args.smoothing).run()
    finally:
        provider.close()
    return 0
