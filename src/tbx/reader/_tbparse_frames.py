"""tbparse 0.0.9's DataFrames, built the way tbparse builds them, from tbx's reader.

tbparse reads a folder as a tree: one frame per event file (a *leaf*), then at every folder level
the children's frames (in name order; sub-folders' ``dir_name`` prefixed with their name) are
concatenated, sorted by ``dir_name``, ``file_name``, ``tag`` (long format) and ``step``, and in
wide format merged: one row per ``dir_name``/``file_name``/``step``, one column per tag, several
values of one cell becoming a list (NaN left out). The functions here repeat those steps with
the same pandas operations on frames of the same shape and dtypes, so the results are equal to
tbparse's -- values, dtypes, column order and row order, including where a single-key sort is
not stable. Only the leaves' inputs come from tbx (see :mod:`tbx.reader.tbparse_compat`).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["VALUE_COLUMNS", "leaf_frame", "stack", "prefix_dir", "merge_cell", "fast_pivot"]

#: Per event type, the value columns of a leaf frame in tbparse's order, then the extras it
#: may add (each only when requested in ``extra_columns``).
VALUE_COLUMNS = {
    "scalars": (["value"], []),
    "tensors": (["value"], []),
    "text": (["value"], []),
    "hparams": (["value"], []),
    "histograms": (["counts", "limits"], ["max", "min", "num", "sum", "sum_squares"]),
    "images": (["value"], ["height", "width"]),
    "audio": (["value"], ["content_type", "length_frames", "sample_rate"]),
}
_TRAILING = ("wall_time", "dir_name", "file_name")


def _concat(parts: list) -> list | np.ndarray:
    if parts and all(isinstance(p, np.ndarray) and p.dtype != object for p in parts):
        return np.concatenate(parts)
    out: list = []
    for p in parts:
        out.extend(p.tolist() if isinstance(p, np.ndarray) and p.dtype != object else p)
    return out


def leaf_frame(pd, event_type: str, pieces: list, *, pivot: bool, extra: set, file_name: str):
    """The frame tbparse builds for one event file, before sorting.

    Args:
        pieces: ``[(tag, step, wall_time, {column: values})]`` in tag order, each a sequence
            of equal length (numpy arrays for numbers, lists otherwise); ``step`` and
            ``wall_time`` are None for hparams.
        file_name: the event file's base name.
    """
    length = sum(len(next(iter(cols.values()))) for _, _, _, cols in pieces)
    main, extras = VALUE_COLUMNS[event_type]
    wanted = main + [c for c in extras if c in extra]
    cols: dict = {}
    if "dir_name" in extra:
        cols["dir_name"] = [""] * length
    if "file_name" in extra:
        cols["file_name"] = [file_name] * length
    if "wall_time" in extra and event_type != "hparams":
        cols["wall_time"] = _concat([w for _, _, w, _ in pieces])
    if pieces and event_type != "hparams":
        cols["step"] = _concat([s for _, s, _, _ in pieces])
    if not pivot:
        if pieces:
            cols["tag"] = [t for t, _, _, c in pieces for _ in range(len(c[main[0]]))]
        for c in wanted:
            if pieces:
                cols[c] = _concat([values[c] for _, _, _, values in pieces])
    else:
        start = 0
        for tag, _, _, values in pieces:
            n = len(values[main[0]])
            for c in wanted:
                name = tag if c == "value" else f"{tag}/{c}"
                col = cols.get(name)
                if col is None:
                    col = cols[name] = [np.nan] * length
                v = values[c]
                col[start : start + n] = v.tolist() if isinstance(v, np.ndarray) and \
                    v.dtype != object else list(v)
            start += n
    for c in _TRAILING:
        if c in cols:
            cols[c] = cols.pop(c)
    return pd.DataFrame.from_dict(cols)


def merge_cell(s):
    """One wide-format cell from the values of a group: one value as is; several merged into a
    list (lists flattened, NaN and None-like scalars left out); none left: NaN."""
    import pandas as pd

    if len(s) == 1:
        return s
    items: list = []
    for v in s:
        if isinstance(v, list):
            items.extend(v)
        elif np.isscalar(v):
            if not pd.isnull(v):
                items.append(v)
        else:
            items.append(v)
    if not items:
        return np.nan
    return items[0] if len(items) == 1 else items


def stack(pd, frames: list, *, pivot: bool, extra: set):
    """tbparse's frame of a folder (or a file) from its children's frames."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        return pd.DataFrame()
    group = [c for c in ("dir_name", "file_name") if c in extra]
    if not pivot:
        group.append("tag")
    group.append("step")
    group = [c for c in group if c in df.columns]
    df = df.sort_values(group, ignore_index=True)
    if not pivot:
        return df
    keys = group if group else [True] * len(df)
    with warnings.catch_warnings():  # merge_cell returns a one-value group as is, as tbparse
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        merged = df.groupby(keys, sort=False).aggregate(merge_cell).reset_index()
    middle = sorted(c for c in df.columns if c not in ("step", *_TRAILING))
    order = ["step", *middle, *_TRAILING]
    return merged[[c for c in order if c in df.columns]]


def prefix_dir(df, name: str):
    """A sub-folder's frame seen from its parent: ``dir_name`` prefixed with ``name``."""
    if "dir_name" not in df.columns:
        return df
    df = df.copy()
    own = df["dir_name"] == ""
    df.loc[own, "dir_name"] = name
    df.loc[~own, "dir_name"] = name + "/" + df.loc[~own, "dir_name"]
    return df


def fast_pivot(pd, rows: list, extra: set):
    """The wide scalar frame when no cell holds two values, or None.

    ``rows``: ``[(dir_name, file_name, tag, step, value)]`` arrays per piece. Equal to
    :func:`stack`'s result in that case (one row per key, sorted; NaN where a tag has no value)
    without a Python call per cell.
    """
    group = [c for c in ("dir_name", "file_name") if c in extra]
    by_tag: dict[str, list] = {}
    for dir_name, file_name, tag, step, value in rows:
        idx = {"dir_name": np.full(len(step), dir_name, dtype=object),
               "file_name": np.full(len(step), file_name, dtype=object),
               "step": np.asarray(step, np.int64)}
        index = pd.MultiIndex.from_arrays([idx[k] for k in (*group, "step")],
                                          names=[*group, "step"])
        by_tag.setdefault(tag, []).append(pd.Series(np.asarray(value, np.float64), index=index))
    columns = []
    for tag in sorted(by_tag):
        col = pd.concat(by_tag[tag]) if len(by_tag[tag]) > 1 else by_tag[tag][0]
        if not col.index.is_unique:
            return None
        columns.append(col.rename(tag))
    if not columns:
        return pd.DataFrame()
    wide = pd.concat(columns, axis=1, sort=True).reset_index()
    for c in group:
        wide[c] = wide[c].astype("str")
    return wide[["step", *sorted(by_tag), *group]]
