"""Groups of runs drawn as one line: which run belongs to which group, and a group's line and
band over its members' series. Pure functions over numpy columns; no I/O.

A group's line is computed on one grid of x values shared by every group of the chart: the
union of the members' x values (steps, or seconds), or, when that union exceeds ``cap``
values, ``cap`` evenly spaced values between its ends. Each member is read at each grid x by
linear interpolation between its own two nearest points (exact where it logged that x) and
only inside its own x range (no extrapolation); its NaN and ±inf points are left out. At each x
the group's line is the mean (or median) of the members that have a value there, and its band
is their minimum and maximum, or the line ± their standard deviation (population, ddof 0).

Members that have not arrived yet: a row at x is computed over the members that have a value
there, so the rows past the smallest last x of the members are provisional: they change when a
member that had not reached them logs its next point (its value there then exists, read
exactly or by interpolation between its previous last point and the new one). Live appends
are computed only from where they can change anything (:func:`since_start`): every row from
the last point each appending member had before the new ones; the rows before that are final
for those appends, so the rows kept plus the rows recomputed equal a computation over
everything.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np

__all__ = ["NO_MATCH", "assign", "label_of_value", "grid", "prepare", "aggregate", "on_grid",
           "since_start", "GRID_MAX"]

#: Group of the runs a regex does not match, or that lack the hparam.
NO_MATCH = "(no match)"
#: Grid values at most (before M4 downsampling to the chart's width).
GRID_MAX = 16_384
#: Members x grid cells interpolated at once (memory: 8 bytes each).
_CHUNK_CELLS = 4_000_000


def label_of_value(name: str, v) -> str:
    """A group label for hparam ``name`` with value ``v``: ``"lr=0.001"``, ``"opt=adam"``,
    ``"amp=True"``."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return f"{name}={v}"


def _sort_key(item):
    label, _runs, value = item
    if value is None:
        return (2, 0.0, label)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return (0, float(value), label)
    return (1, 0.0, str(value))


def assign(runs, by: str, key: str, hparams_of) -> dict[str, list[str]]:
    """Group ``runs``.

    Args:
        runs: run names, in the order members are listed.
        by: ``"regex"``: the label is the regex's capture groups joined by ``/`` (the whole
            match when it has none), from ``re.search`` on the run name; ``"hparam"``: the
            label is ``name=value`` of the hparam ``key``.
        key: the regex source, or the hparam name.
        hparams_of: ``hparams_of(run) -> {name: value}``.

    Returns:
        ``{label: [run, ...]}``; runs the regex does not match, or lacking the hparam, are in
        the group :data:`NO_MATCH`, listed last. Groups are ordered by label (by value for
        numeric hparams).

    Raises:
        ValueError: ``by`` unknown, an empty ``key``, or a bad regex.
    """
    if by not in ("regex", "hparam"):
        raise ValueError(f"group must be 'regex' or 'hparam', got {by!r}")
    if not key:
        raise ValueError("group_by is empty: give a regex (group=regex) or an hparam name "
                         "(group=hparam)")
    groups: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    if by == "regex":
        try:
            rx = re.compile(key)
        except re.error as exc:
            raise ValueError(f"group_by is not a valid regular expression: {exc}") from None
        for run in runs:
            m = rx.search(run)
            if m is None:
                label = NO_MATCH
            elif m.groups():
                label = "/".join(g for g in m.groups() if g is not None) or m.group(0)
            else:
                label = m.group(0)
            groups.setdefault(label, []).append(run)
            values.setdefault(label, label)
    else:
        for run in runs:
            hp = hparams_of(run)
            if key in hp and hp[key] is not None:
                label = label_of_value(key, hp[key])
                values.setdefault(label, hp[key])
            else:
                label = NO_MATCH
            groups.setdefault(label, []).append(run)
    items = [(g, r, None if g == NO_MATCH else values.get(g)) for g, r in groups.items()]
    items.sort(key=_sort_key)
    return {g: r for g, r, _ in items}


def prepare(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A member's finite points as float64 ``(x, y)`` sorted by x (stable)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y) & np.isfinite(x)
    if not keep.all():
        x, y = x[keep], y[keep]
    if len(x) > 1 and np.any(x[1:] < x[:-1]):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    return x, y


def grid(xs, cap: int = GRID_MAX, start: float | None = None) -> np.ndarray:
    """The shared grid of x values (float64, ascending) for members' x columns ``xs``; with
    ``start``, only the values ``>= start`` (the rows of a live append, :func:`since_start`)."""
    parts = [np.asarray(x, dtype=np.float64) for x in xs if len(x)]
    if start is not None:
        parts = [x[x >= start] for x in parts]
        parts = [x for x in parts if len(x)]
    if not parts:
        return np.empty(0)
    u = np.unique(np.concatenate(parts))
    if len(u) > cap:
        u = np.linspace(u[0], u[-1], cap)
    return u


def since_start(members, since: float) -> float | None:
    """Where the rows change when members log new points at x ``>= since``: the smallest x of
    the last point before ``since`` of every member with points at or past ``since`` (the
    interpolation between that point and the new ones changes the rows after it), or
    ``since`` itself when a member has none before it. ``None`` when no member has points at
    or past ``since`` (nothing changes).

    Args:
        members: prepared ``(x, y)`` pairs (:func:`prepare`: finite, sorted by x).
        since: the smallest x of the new points (in the chart's x units).
    """
    start = None
    for x, _ in members:
        if not len(x) or x[-1] < since:
            continue
        i = int(np.searchsorted(x, since, side="left"))
        s = float(x[i - 1]) if i > 0 else float(since)
        start = s if start is None else min(start, s)
    return start


def on_grid(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A prepared member read at grid values ``g``: interpolated inside its x range, NaN
    outside it (float64, ``len(g)``)."""
    out = np.full(len(g), np.nan)
    if not len(x):
        return out
    a = int(np.searchsorted(g, x[0], side="left"))
    b = int(np.searchsorted(g, x[-1], side="right"))
    if b > a:
        out[a:b] = np.interp(g[a:b], x, y)
    return out


def aggregate(members, g: np.ndarray, agg: str = "mean", band: str = "minmax"):
    """A group's line and band on grid ``g``.

    Args:
        members: prepared ``(x, y)`` pairs (:func:`prepare`).
        g: the grid (:func:`grid`).
        agg: ``"mean"`` or ``"median"``.
        band: ``"minmax"`` (members' minimum and maximum), ``"std"`` (line ± standard
            deviation) or ``"none"`` (``lo`` and ``hi`` equal the line).

    Returns:
        ``(line, lo, hi, count)``: float64 arrays of ``len(g)`` (NaN where no member has a
        value) and the int64 number of members with a value at each x.

    Raises:
        ValueError: unknown ``agg`` or ``band``.
    """
    if agg not in ("mean", "median"):
        raise ValueError(f"agg must be 'mean' or 'median', got {agg!r}")
    if band not in ("minmax", "std", "none"):
        raise ValueError(f"band must be 'minmax', 'std' or 'none', got {band!r}")
    n = len(g)
    line = np.full(n, np.nan)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    count = np.zeros(n, dtype=np.int64)
    m = len(members)
    if not m or not n:
        return line, lo, hi, count
    step = max(64, _CHUNK_CELLS // m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        for a in range(0, n, step):
            sub = g[a:a + step]
            block = np.vstack([on_grid(x, y, sub) for x, y in members])
            c = np.sum(~np.isnan(block), axis=0)
            count[a:a + step] = c
            center = np.nanmedian(block, axis=0) if agg == "median" else np.nanmean(block, axis=0)
            line[a:a + step] = center
            if band == "minmax":
                lo[a:a + step] = np.nanmin(block, axis=0)
                hi[a:a + step] = np.nanmax(block, axis=0)
            elif band == "std":
                sd = np.nanstd(block, axis=0)
                lo[a:a + step] = center - sd
                hi[a:a + step] = center + sd
            else:
                lo[a:a + step] = center
                hi[a:a + step] = center
    return line, lo, hi, count
