"""One table of points (``--kind scalars | histograms | text | hparams``) written as CSV, Parquet
or JSON to a local file, an fsspec URL or standard output (``-``)."""

from __future__ import annotations

import sys

from tbx._cliutil import UsageError

__all__ = ["write_table"]


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

    from tbx.reader._names import is_url

    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    mode = "wb" if binary else "w"
    if out == "-":
        return contextlib.nullcontext(sys.stdout)
    if is_url(out):
        import fsspec

        return fsspec.open(out, mode, **text)
    return open(out, mode, **text)


def write_table(df, args, fmt: str) -> None:
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
