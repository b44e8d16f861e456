"""``--format parquet --partition-by run``: a logdir's table as a Hive-partitioned Parquet
dataset, one file per run, read as one table by DuckDB, Polars, Spark, Dask and pyarrow."""

from __future__ import annotations

import os
from urllib.parse import quote

from tbx._cliutil import UsageError

__all__ = ["export_dataset", "partition_name", "check_empty"]


def partition_name(run: str) -> str:
    """The folder of ``run`` in a dataset: ``run=`` and the name percent-encoded (RFC 3986
    unreserved characters kept; ``/``, ``=``, ``%`` and the rest as ``%XX`` of UTF-8), as
    pyarrow writes Hive partitions and DuckDB, Polars and Spark decode them."""
    return "run=" + quote(run, safe="")


def _fs(out: str):
    """``(filesystem, root path)``: fsspec's for a URL, else the local one (no fsspec needed)."""
    from tbx.reader._names import is_url

    if is_url(out):
        import fsspec

        return fsspec.core.url_to_fs(out)
    return None, os.path.abspath(out)


def check_empty(out: str) -> None:
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
