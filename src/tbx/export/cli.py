"""``tbx export LOGDIR -o OUT``: the parser, the checks made before reading, and the command
that reads the logdir and hands it to the table, file or dataset writer."""

from __future__ import annotations

import os
import sys

from tbx._cliutil import (
    NothingMatched,
    UsageError,
    check_matched,
    check_output,
    check_path,
    check_regex,
    output_failed,
    want_progress,
)
from tbx.export.dataset import check_empty, export_dataset
from tbx.export.files import KNOWN_PLUGINS, export_files
from tbx.export.table import write_table

__all__ = ["add_export_parser", "run_export", "TABLE_KINDS", "FILE_KINDS", "PARTITION_BY",
           "KIND_NOUN"]

EXPORT_FORMATS = ("csv", "parquet", "json")
TABLE_KINDS = ("scalars", "histograms", "text", "hparams")
FILE_KINDS = ("images", "audio", "plugins")
#: Columns a dataset can be partitioned by.
PARTITION_BY = ("run",)


def add_export_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="write every point of a logdir to CSV, Parquet or JSON, or images, audio and "
             "plugin data to files with an index",
        description=(
            "Read every run below LOGDIR and write one table with all its points (never "
            "sampled). Scalars give the columns run, tag, step, wall_time (seconds since the "
            "Unix epoch), value. Floats are written exactly (shortest round-trip form). With "
            "--kind images, audio or plugins, OUT is a folder: each point's data becomes a file "
            "OUT/<run>/<tag>/<step>_<n>.<ext> (run and tag percent-encoded), listed in "
            "OUT/index.csv with the columns run, tag, step, wall_time, path. Exit status 1 "
            "when writing OUT failed (a store that cannot be reached, ...), 2 for a bad "
            "argument or path (checked before reading), 3 when --run or --tag matched nothing "
            "or there is no data of --kind (nothing is written)."
        ),
    )
    p.add_argument("logdir", metavar="LOGDIR",
                   help="folder of runs (or an fsspec URL such as s3://bucket/logs)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file, or an fsspec URL such as s3://bucket/x.csv ('-' writes "
                        "CSV or JSON to standard output); a local folder for --kind images, "
                        "audio, plugins")
    p.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                   help="output format; default: from OUT's extension (.csv, .parquet, .json)")
    p.add_argument("--kind", choices=TABLE_KINDS + FILE_KINDS, default="scalars",
                   help="which data to export (default: scalars). histograms add min, max, num, "
                        "sum, sum_squares, bucket_limits, bucket_counts (lists); text adds text; "
                        "hparams is one row per run with hyperparameters and final metrics; "
                        "images and audio write each image or clip as its encoded file; plugins "
                        "writes the data of plugins tbx does not know as raw bytes (string "
                        "tensors: .bin per element; other tensors: .npy) and the plugin's "
                        "metadata content as plugin_content.bin")
    p.add_argument("--partition-by", choices=PARTITION_BY, default=None, dest="partition_by",
                   help="with --format parquet: OUT is a folder holding a Hive-partitioned "
                        "dataset, one file OUT/run=<run>/part-0.parquet per run (run names "
                        "percent-encoded), read as one table by DuckDB, Polars, Spark or Dask; "
                        "OUT may be an fsspec URL (s3://bucket/prefix)")
    p.add_argument("--run", metavar="REGEX", default=None,
                   help="only runs whose name matches this regular expression (re.search)")
    p.add_argument("--tag", metavar="REGEX", default=None,
                   help="only tags matching this regular expression (re.search); other tags "
                        "are not decoded")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (it is shown only when stderr is a terminal)")
    p.set_defaults(func=run_export)


def _export_format(args) -> str:
    if args.partition_by is not None:
        if args.kind in FILE_KINDS:
            raise UsageError(f"--partition-by applies to tables, not --kind {args.kind}")
        if args.format not in (None, "parquet"):
            raise UsageError(f"--partition-by needs --format parquet, not {args.format}")
        if args.output == "-":
            raise UsageError("--partition-by writes a folder; -o - (standard output) does not "
                             "apply")
        return "parquet"
    if args.kind in FILE_KINDS:
        if args.format not in (None, "csv"):
            raise UsageError(f"--format {args.format} does not apply to --kind {args.kind}: "
                             f"OUT is a folder of files with an index.csv")
        if args.output == "-":
            raise UsageError(f"-o - (standard output) works for tables only; --kind "
                             f"{args.kind} needs a folder")
        return "csv"
    if args.format is not None:
        return args.format
    ext = os.path.splitext(args.output)[1].lower().lstrip(".")
    if ext in EXPORT_FORMATS:
        return ext
    raise UsageError(f"--format is needed: cannot tell the format of OUT {args.output!r} from "
                     f"its extension (use one of {', '.join(EXPORT_FORMATS)})")


def _check_out(args) -> None:
    """The checks of -o made before anything is read (:func:`tbx._cliutil.check_output`)."""
    if args.output == "-":
        return
    if args.partition_by is not None:
        check_output(args.output, folder="--partition-by run")
    elif args.kind in FILE_KINDS:
        check_output(args.output, folder=f"--kind {args.kind}",
                     url=f"--kind {args.kind} writes a local folder")
    else:
        check_output(args.output)


def run_export(args) -> int:
    fmt = _export_format(args)
    check_path(args.logdir, "LOGDIR", folder=True)
    check_regex(args.run, "--run")
    check_regex(args.tag, "--tag")
    if fmt == "parquet" and args.output == "-":
        raise UsageError("-o - (standard output) works for csv and json only, not parquet")
    _check_out(args)
    import warnings

    from tbx.reader.frames import read

    if args.partition_by is not None:
        _writing(args, check_empty, args.output)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        data = read(args.logdir, run=args.run, tag=args.tag, progress=want_progress(args))
    for w in caught:  # damage and unreadable files: skipped, said once, the rest exported
        if issubclass(w.category, RuntimeWarning):
            print(f"tbx export: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    p = data.provider
    check_matched(p.all_names(), data.runs, any(p.series(r) for r in data.runs),
                  run_filter=args.run, tag_filter=args.tag)  # else NothingMatched: exit 3
    _check_kind(args, data)  # else NothingMatched: exit 3
    if args.partition_by is not None:
        files, rows = _writing(args, export_dataset, data, args.kind, args.output)
        what, target = f"{rows} rows of {args.kind} in {files} files", args.output
    elif args.kind in FILE_KINDS:
        n = _writing(args, export_files, data, args.kind, args.output)
        what = f"{n} files of {args.kind}"
        target = os.path.join(args.output, "index.csv")
    else:
        df = getattr(data, args.kind)
        _writing(args, write_table, df, args, fmt)
        what, target = f"{len(df)} rows of {args.kind}", args.output
    if args.output != "-" and not args.quiet:
        print(f"tbx export: {what} from {len(data.runs)} runs -> {target} ({fmt})",
              file=sys.stderr)
    return 0


def _writing(args, func, *a):
    """``func(*a)``, its errors from writing -o raised as :class:`tbx._cliutil.OutputFailed`:
    OSError always, any error of the store when -o is a URL (botocore's, ...)."""
    from tbx.reader._names import is_url

    if args.output == "-":  # standard output: a closed pipe is the caller's
        return func(*a)
    try:
        return func(*a)
    except (UsageError, NothingMatched):
        raise
    except OSError as exc:
        raise output_failed(exc, args.output) from None
    except Exception as exc:  # noqa: BLE001 - a store's own errors, said in one line
        if not is_url(args.output):
            raise
        raise output_failed(exc, args.output) from None


# ------------------------------------------------------------------------------------ kinds

#: The tags of each --kind in messages: ``noun`` + "s" when several.
KIND_NOUN = {"scalars": "scalar tag", "histograms": "histogram tag", "text": "text tag",
             "hparams": "hparams tag", "images": "image tag", "audio": "audio tag",
             "plugins": "unknown-plugin tag"}


def _of_kind(kind: str, plugin: str, tag: str, info) -> bool:
    """Whether the series ``(tag, plugin, info)`` holds data that ``--kind kind`` exports."""
    from tbx.reader.provider import BLOB, SCALAR, TENSOR

    if kind == "scalars":
        return info.data_class == SCALAR
    if kind in ("histograms", "text"):
        return info.data_class == TENSOR and info.plugin_name == kind
    if kind == "hparams":
        return plugin == "hparams" and tag == "_hparams_/session_start_info"
    if kind == "images":
        return info.data_class == BLOB and plugin in ("images", "video")
    if kind == "audio":
        return info.data_class == BLOB and plugin == "audio"
    return info.data_class == TENSOR and plugin not in KNOWN_PLUGINS  # plugins


def _kind_names(provider, runs, kind: str) -> dict[str, list[str]]:
    """run -> its tags holding ``kind`` data (first seen first)."""
    return {r: list(dict.fromkeys(t for t, plugin, info in provider.series(r)
                                  if _of_kind(kind, plugin, t, info))) for r in runs}


def _check_kind(args, data) -> None:
    """Raise NothingMatched (exit 3, nothing written) when no series read holds ``--kind`` data:
    with ``--tag``, listing the tags of that kind of the runs read (read again without the tag
    filter, which left their kinds unknown); with ``--run`` only, the kinds those runs hold;
    with no filter, the kinds the logdir holds."""
    kind, p = args.kind, data.provider
    if any(_kind_names(p, data.runs, kind).values()):
        return
    noun = KIND_NOUN[kind]
    if args.tag is not None:
        import warnings

        from tbx.reader.frames import read

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # said by the first read
            every = read(args.logdir, run=args.run)
        names = _kind_names(every.provider, data.runs, kind)
        check_matched(names, data.runs, False, tag_filter=args.tag, noun=noun)
    held = [k for k in KIND_NOUN if any(_kind_names(p, data.runs, k).values())]
    holds = ", ".join(held) if held else "nothing tbx exports"
    n = len(data.runs)
    where = f"run {data.runs[0]!r} holds" if n == 1 else f"the {n} runs read hold"
    if args.run is not None:
        raise NothingMatched("run", args.run, f"{where} {holds}", "--run", f"run with {kind}")
    have = (f"its {n} run{'s' if n > 1 else ''} {'hold' if n > 1 else 'holds'} {holds}" if n
            else "it holds no event files")
    raise NothingMatched("kind", kind, have, "--kind", kind,
                         message=f"LOGDIR {args.logdir!r} holds no {kind}; {have}")
