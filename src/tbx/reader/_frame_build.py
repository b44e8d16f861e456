"""Building the DataFrames of :mod:`tbx.reader.frames` with pandas: the row frames of each kind,
the long scalar frame built column by column, and empty frames that carry the dtypes of frames
with rows."""

from __future__ import annotations

import numpy as np

__all__ = ["pandas_module", "STR", "str_dtype", "empty_frame", "rows_frame", "long_frame"]


def pandas_module():
    """pandas, or ImportError saying how to install it."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("DataFrames need pandas: pip install 'tbx[pandas]'") from exc
    return pd


#: Marks a column of strings: the dtype pandas gives a column of ``str`` (``str`` from pandas 3,
#: ``object`` before), so that an empty frame has the dtype of one with rows.
STR = object()


def str_dtype(pd):
    """The dtype pandas gives a column of ``str``."""
    return pd.Series(["x"]).dtype


def empty_frame(pd, dtypes: dict, names: list[str]):
    """A frame with no rows and the columns ``names``: ``run`` and ``tag`` categorical over
    string categories, the others of ``dtypes`` (see :func:`rows_frame`)."""
    text = str_dtype(pd)
    data = {}
    for c in names:
        if c in ("run", "tag") and c not in dtypes:
            data[c] = pd.Categorical([], categories=pd.Index([], dtype=text))
        else:
            dtype = dtypes.get(c)
            data[c] = pd.Series([], dtype=text if dtype is STR else dtype or object)
    return pd.DataFrame(data, columns=names)


def code_dtype(categories) -> type:
    """The integer type pandas keeps the codes of a Categorical of ``categories`` in."""
    n = len(categories)
    return np.int8 if n < 127 else np.int16 if n < 32767 else np.int32


def long_frame(pd, items, get):
    """The long scalar frame of ``items`` (``[(run, tag, plugin, count)]``), each series
    fetched by ``get(run, tag, plugin)`` and copied into preallocated columns one at a time, so
    that memory holds the frame and one series at most on top of the reader's own."""
    counts = np.array([c for *_, c in items], dtype=np.int64)
    total = int(counts.sum())
    runs = sorted({k[0] for k in items})
    tags = list(dict.fromkeys(k[1] for k in items))
    run_code = {r: i for i, r in enumerate(runs)}
    tag_code = {t: i for i, t in enumerate(tags)}
    step = np.empty(total, np.int64)
    wall = np.empty(total, np.float64)
    value = np.empty(total, np.float64)
    lengths = []
    o = 0
    for (r, t, plugin, _count) in items:
        s = get(r, t, plugin)
        n = len(s)
        if o + n > total:  # grew since it was listed: make room
            extra = o + n - total
            step, wall, value = (np.concatenate([a, np.empty(extra, a.dtype)])
                                 for a in (step, wall, value))
            total += extra
        step[o : o + n] = s.step
        wall[o : o + n] = s.wall_time
        value[o : o + n] = s.value
        lengths.append(n)
        o += n
        del s
    step, wall, value = step[:o], wall[:o], value[:o]
    lengths = np.asarray(lengths, np.int64)
    rc = np.repeat(np.array([run_code[k[0]] for k in items], code_dtype(runs)), lengths)
    tc = np.repeat(np.array([tag_code[k[1]] for k in items], code_dtype(tags)), lengths)
    text = str_dtype(pd)
    data = {
        "run": pd.Categorical.from_codes(rc, categories=pd.Index(runs, dtype=text)),
        "tag": pd.Categorical.from_codes(tc, categories=pd.Index(tags, dtype=text)),
        "step": step,
        "wall_time": wall,
        "value": value,
    }
    return pd.DataFrame(data, copy=False)


def rows_frame(rows, columns: dict):
    """The frame of ``rows`` with ``run, tag, step, wall_time`` then ``columns`` (name ->
    dtype: a numpy dtype, ``STR`` for strings, ``None`` for Python objects): numeric columns
    get their dtype and an empty frame gets every column's dtype, as a frame with rows."""
    pd = pandas_module()
    names = ["run", "tag", "step", "wall_time", *columns]
    if not rows:
        return empty_frame(pd, {"step": np.int64, "wall_time": np.float64, **columns}, names)
    df = pd.DataFrame(rows, columns=names)
    for c, dtype in {"step": np.int64, "wall_time": np.float64, **columns}.items():
        if dtype is not None and dtype is not STR:
            df[c] = df[c].astype(dtype)
    for c in ("run", "tag"):
        df[c] = df[c].astype("category")
    return df
