"""``tbx export``: a logdir's points as a table, or as files with an index.

Tables (``--kind scalars | histograms | text | hparams``): one CSV, Parquet or JSON file of every
point (never sampled), from :func:`tbx.read`.

Datasets (``--format parquet --partition-by run``): OUT is a folder holding one Parquet file per
run, ``OUT/run=<run>/part-0.parquet`` (Hive-style partitions; the run name percent-encoded, ``/``
included), that DuckDB, Polars, Spark, Dask and pyarrow read as one table with a ``run`` column
(schema: :func:`export_dataset`).

Files (``--kind images | audio | plugins``): OUT is a folder; each point's data is written as a
file ``OUT/<run>/<tag>/<step>_<n>.<ext>`` (run and tag percent-encoded into one folder name each,
``n`` counting the files of that tag and step) and listed in ``OUT/index.csv``, one row per file:
``run, tag, step, wall_time, path`` (``path`` relative to OUT; ``plugins`` adds ``plugin``).

* ``images``: each image as its encoded file (PNG, GIF for videos, JPEG: ``.png``, ``.gif``,
  ``.jpg``; other formats ``.bin``);
* ``audio``: each clip as its encoded file (``.wav``; other formats ``.bin``);
* ``plugins``: the data of plugins tbx does not know (a third party's, or tensors naming no
  plugin), as raw bytes: each element of a string tensor as a ``.bin`` file, any other tensor as
  a ``.npy`` file (``numpy.load``); the plugin's metadata content (``SummaryMetadata.
  plugin_data.content``), when not empty, as ``OUT/<run>/<tag>/plugin_content.bin``.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import quote

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

__all__ = ["add_export_parser", "run_export", "TABLE_KINDS", "FILE_KINDS", "KNOWN_PLUGINS",
           "export_files", "export_dataset", "partition_name", "PARTITION_BY"]

EXPORT_FORMATS = ("csv", "parquet", "json")
TABLE_KINDS = ("scalars", "histograms", "text", "hparams")
FILE_KINDS = ("images", "audio", "plugins")
#: Plugins whose data tbx reads (and exports as tables or images/audio); ``plugins`` exports the
#: others.
KNOWN_PLUGINS = frozenset({"scalars", "histograms", "images", "audio", "video", "text",
                           "pr_curves", "hparams", "custom_scalars", "mesh", "graphs",
                           "projector"})
#: Columns a dataset can be partitioned by.
PARTITION_BY = ("run",)
_EXTENSIONS = ((b"\x89PNG", "png"), (b"GIF8", "gif"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "wav"))


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


def _jsonable(v):
    import numpy as np

    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, float) and v != v:
        return None
    return v


def _write_json(df, out) -> None:
    import json
    import math

    cols = list(df.columns)
    arrays = [df[c].tolist() if str(df[c].dtype) != "category" else df[c].astype(object).tolist()
              for c in cols]
    out.write("[")
    first = True
    for row in zip(*arrays, strict=True):
        rec = {}
        for c, v in zip(cols, row, strict=True):
            v = _jsonable(v)
            if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
                v = None if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
            rec[c] = v
        out.write(("\n" if first else ",\n") + json.dumps(rec, allow_nan=False))
        first = False
    out.write("\n]\n")


def _opened(out: str, binary: bool):
    """A file open for writing ``out``: standard output for ``-`` (left open), fsspec's file for
    a URL, else a local file (text: UTF-8, newlines written as given)."""
    import contextlib

    from tbx.reader._fs import is_url

    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    mode = "wb" if binary else "w"
    if out == "-":
        return contextlib.nullcontext(sys.stdout)
    if is_url(out):
        import fsspec

        return fsspec.open(out, mode, **text)
    return open(out, mode, **text)


def _write_table(df, args, fmt: str) -> None:
    if args.kind == "histograms":
        for c in ("bucket_limits", "bucket_counts"):
            df[c] = [a.tolist() for a in df[c]]
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise UsageError(f"--format parquet needs pyarrow (pip install 'tbx[parquet]'): "
                             f"{exc}") from None
    elif fmt == "csv" and args.kind == "histograms":
        import json

        for c in ("bucket_limits", "bucket_counts"):
            df[c] = [json.dumps(a) for a in df[c]]
    with _opened(args.output, binary=fmt == "parquet") as f:
        if fmt == "parquet":
            df.to_parquet(f, index=False)
        elif fmt == "csv":
            df.to_csv(f, index=False, float_format=None, lineterminator="\n")
        else:
            _write_json(df, f)


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
        _writing(args, _check_empty, args.output)
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
        _writing(args, _write_table, df, args, fmt)
        what, target = f"{len(df)} rows of {args.kind}", args.output
    if args.output != "-" and not args.quiet:
        print(f"tbx export: {what} from {len(data.runs)} runs -> {target} ({fmt})",
              file=sys.stderr)
    return 0


def _writing(args, func, *a):
    """``func(*a)``, its errors from writing -o raised as :class:`tbx._cliutil.OutputFailed`:
    OSError always, any error of the store when -o is a URL (botocore's, ...)."""
    from tbx.reader._fs import is_url

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


# ------------------------------------------------------------------------------------ files


def _component(name: str) -> str:
    """One folder name for a run or tag: percent-encoded (``/`` included), never ``.``/``..``."""
    out = quote(name, safe="")
    return out.replace(".", "%2E") if out in (".", "..") else out


def _extension(data: bytes, default: str = "bin") -> str:
    for magic, ext in _EXTENSIONS:
        if data.startswith(magic):
            return ext
    return default


def _points(data, kind: str):
    """``(run, tag, plugin, step, wall_time, [(bytes, ext)])`` per point, and per tag the
    plugin content to write (``plugins`` only)."""
    import numpy as np

    from tbx.reader.provider import BLOB, TENSOR

    p = data.provider
    for run in p.runs():
        for tag, plugin, info in p.series(run):  # a tag may hold several kinds
            if kind == "images" and info.data_class == BLOB and plugin in ("images", "video"):
                s = p.blobs(run, tag, plugin=plugin)
                items = [[(bytes(b), _extension(bytes(b))) for b in (v or [])[2:]]
                         for v in s.values]
            elif kind == "audio" and info.data_class == BLOB and plugin == "audio":
                s = p.blobs(run, tag, plugin=plugin)
                items = [[(bytes(b), _extension(bytes(b))) for b in (v or [])[0::2]]
                         for v in s.values]
            elif kind == "plugins" and info.data_class == TENSOR and plugin not in KNOWN_PLUGINS:
                s = p.tensors(run, tag, plugin=plugin)
                items = []
                for v in s.values:
                    if v is None:
                        items.append([])
                    elif v.dtype == object:
                        items.append([(bytes(x), "bin") for x in v.reshape(-1)])
                    else:
                        import io

                        buf = io.BytesIO()
                        np.save(buf, v, allow_pickle=False)
                        items.append([(buf.getvalue(), "npy")])
                content = p.metadata(run, tag, plugin=plugin).plugin_data.content
                yield run, tag, plugin, None, None, [(content, "plugin_content")] if content \
                    else []
            else:
                continue
            for st, w, files in zip(s.step.tolist(), s.wall_time.tolist(), items, strict=True):
                yield run, tag, plugin, st, w, files


def export_files(data, kind: str, out: str) -> int:
    """Write the ``kind`` points of a :class:`tbx.reader.frames.Logdir` as files below ``out``
    with ``out/index.csv`` (see the module docstring); returns the number of files listed.

    Raises:
        OSError: a file or folder cannot be written.
    """
    import csv

    os.makedirs(out, exist_ok=True)
    counts: dict[tuple, int] = {}
    rows = 0
    with open(os.path.join(out, "index.csv"), "w", newline="", encoding="utf-8") as f:
        index = csv.writer(f, lineterminator="\n")
        index.writerow(["run", "tag", "step", "wall_time", "path"] +
                       (["plugin"] if kind == "plugins" else []))
        for run, tag, plugin, step, wall, files in _points(data, kind):
            folder = os.path.join(_component(run), _component(tag))
            os.makedirs(os.path.join(out, folder), exist_ok=True)
            for blob, ext in files:
                if step is None:  # the plugin's metadata content
                    with open(os.path.join(out, folder, "plugin_content.bin"), "wb") as g:
                        g.write(blob)
                    continue
                n = counts.get((run, tag, step), 0)
                counts[(run, tag, step)] = n + 1
                rel = os.path.join(folder, f"{step}_{n}.{ext}")
                with open(os.path.join(out, rel), "wb") as g:
                    g.write(blob)
                index.writerow([run, tag, step, repr(wall), rel.replace(os.sep, "/")] +
                               ([plugin] if kind == "plugins" else []))
                rows += 1
    return rows


# --------------------------------------------------------------------------------- datasets


def partition_name(run: str) -> str:
    """The folder of ``run`` in a dataset: ``run=`` and the name percent-encoded (RFC 3986
    unreserved characters kept; ``/``, ``=``, ``%`` and the rest as ``%XX`` of UTF-8), as
    pyarrow writes Hive partitions and DuckDB, Polars and Spark decode them."""
    return "run=" + quote(run, safe="")


def _fs(out: str):
    """``(filesystem, root path)``: fsspec's for a URL, else the local one (no fsspec needed)."""
    from tbx.reader._fs import is_url

    if is_url(out):
        import fsspec

        return fsspec.core.url_to_fs(out)
    return None, os.path.abspath(out)


def _check_empty(out: str) -> None:
    fs, root = _fs(out)
    if fs is None:
        if os.path.isfile(root):
            raise UsageError(f"-o {out!r} is a file; --partition-by writes a folder")
        busy = os.path.isdir(root) and any(os.scandir(root))
    else:
        busy = fs.exists(root) and bool(fs.ls(root))
    if busy:
        raise UsageError(f"-o {out!r} is not empty: a dataset goes into a new or empty folder "
                         "(files left from another export would join the table)")


def _scalar_tables(data):
    """``(run, pyarrow.Table)`` per run holding scalars: columns ``tag``, ``step``,
    ``wall_time``, ``value`` in tag (first-seen) then file order."""
    import numpy as np
    import pyarrow as pa

    from tbx.reader.provider import SCALAR

    p = data.provider
    for run in p.runs():
        tags = [t for t, i in p.tags(run).items() if i.data_class == SCALAR]
        parts = [p.scalars(run, t) for t in tags]
        n = [len(s) for s in parts]
        if not sum(n):
            continue
        codes = np.repeat(np.arange(len(tags), dtype=np.int32), n)
        yield run, pa.table({
            "tag": pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(tags, pa.string())),
            "step": pa.array(np.concatenate([s.step for s in parts]), pa.int64()),
            "wall_time": pa.array(np.concatenate([s.wall_time for s in parts]), pa.float64()),
            "value": pa.array(np.concatenate([s.value for s in parts]), pa.float64()),
        })


def _frame_tables(df):
    import pyarrow as pa

    if not len(df):
        return
    for run, part in df.groupby("run", observed=True, sort=True):
        part = part.drop(columns=["run"])
        for c in ("tag",):
            if c in part and str(part[c].dtype) == "category":
                part[c] = part[c].astype(str)
        yield str(run), pa.Table.from_pandas(part, preserve_index=False)


def export_dataset(data, kind: str, out: str, *, threads: int = 2) -> tuple[int, int]:
    """Write the ``kind`` table of a :class:`tbx.reader.frames.Logdir` as a Hive-partitioned
    Parquet dataset: one file ``out/run=<run>/part-0.parquet`` per run that has rows
    (:func:`partition_name`). The run is not a column of the files: readers take it from the
    folder names (DuckDB ``read_parquet('out/*/*.parquet', hive_partitioning=true)``, Polars
    ``scan_parquet(out, hive_partitioning=True)``, ``pyarrow.dataset.dataset(out,
    partitioning="hive")``, Spark ``spark.read.parquet(out)``).

    Schema of each file for ``kind="scalars"`` (every point, never sampled):

    ===========  ====================================  =====================================
    column       Parquet type                          meaning
    ===========  ====================================  =====================================
    tag          string (dictionary-encoded)           the scalar's tag
    step         int64                                 the Event's step
    wall_time    double                                seconds since the Unix epoch
    value        double                                the value (float32 ``simple_value``
                                                       widened exactly; NaN and ±Inf kept)
    ===========  ====================================  =====================================

    Rows are in tag (first-seen) order, then file order. Other kinds write the columns of their
    :mod:`tbx.reader.frames` frame without ``run``.

    Args:
        data: the read logdir (:func:`tbx.read`).
        kind: ``"scalars"``, ``"histograms"``, ``"text"`` or ``"hparams"``.
        out: a new or empty folder, or an fsspec URL (``s3://bucket/prefix``).
        threads: files written at once.

    Returns:
        ``(files written, rows written)``.

    Raises:
        ImportError: pyarrow is missing (``pip install 'tbx[parquet]'``).
        OSError: a file cannot be written.
    """
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise UsageError(f"--format parquet needs pyarrow (pip install 'tbx[parquet]'): "
                         f"{exc}") from None
    from concurrent.futures import ThreadPoolExecutor

    fs, root = _fs(out)
    if kind == "scalars":
        tables = _scalar_tables(data)
    else:
        df = getattr(data, kind)
        if kind == "histograms":
            for c in ("bucket_limits", "bucket_counts"):
                df[c] = [a.tolist() for a in df[c]]
        tables = _frame_tables(df)

    def write(item) -> int:
        run, table = item
        folder = f"{root.rstrip('/')}/{partition_name(run)}"
        if fs is None:
            os.makedirs(folder, exist_ok=True)
            pq.write_table(table, os.path.join(folder, "part-0.parquet"))
        else:
            fs.makedirs(folder, exist_ok=True)
            with fs.open(f"{folder}/part-0.parquet", "wb") as f:
                pq.write_table(table, f)
        return table.num_rows

    if fs is None:
        os.makedirs(root, exist_ok=True)
    files = rows = 0
    pending: list = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for item in tables:  # a few runs' tables in memory at a time, not the whole logdir's
            pending.append(pool.submit(write, item))
            if len(pending) >= 2 * max(1, threads):
                rows += pending.pop(0).result()
                files += 1
        for f in pending:
            rows += f.result()
            files += 1
    return files, rows
