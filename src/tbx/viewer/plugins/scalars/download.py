"""Downloads of scalar series: every point as CSV or JSON, streamed in blocks of
:data:`BLOCK` points, so a request holds one block's text at a time whatever the series'
length. Pure functions over arrays (no I/O)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["BLOCK", "FORMULA_START", "spreadsheet_safe", "csv_rows", "json_series"]

#: Points formatted per block of text.
BLOCK = 32_768
#: First characters that make a spreadsheet read a cell as a formula (OWASP's list, "CSV
#: injection"): such text cells get a leading ``'``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a ``'`` in front when it starts with one of :data:`FORMULA_START`
    (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``), else unchanged."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cells(*cells: str) -> str:
    buf = io.StringIO()
    # "\r\n" as the terminator makes the writer quote cells holding a \r or a \n
    csv.writer(buf, lineterminator="\r\n").writerow([spreadsheet_safe(c) for c in cells])
    return buf.getvalue()[:-2]


def csv_rows(series: Iterable[tuple[str, str, object]]) -> Iterator[str]:
    """CSV text ``run,tag,step,wall_time,value`` (a header, then one line per point, ``\\n``
    line ends), in blocks. ``series``: ``(run, tag, ScalarSeries)``. Floats are written as
    Python's ``repr`` (shortest round-trip form; ``nan``, ``inf``); run and tag cells are
    quoted as the ``csv`` module does and made :func:`spreadsheet_safe`."""
    yield "run,tag,step,wall_time,value\n"
    for run, tag, s in series:
        prefix = _csv_cells(run, tag) + ","
        for lo in range(0, len(s.step), BLOCK):
            hi = lo + BLOCK
            yield "".join([f"{prefix}{st},{wt!r},{v!r}\n" for st, wt, v in zip(
                s.step[lo:hi].tolist(), s.wall_time[lo:hi].tolist(), s.value[lo:hi].tolist(),
                strict=True)])


def _floats(a: np.ndarray) -> str:
    """A JSON list of the floats of ``a`` (NaN and +-inf as ``null``), without brackets."""
    vals = a.tolist()
    if not np.isfinite(a).all():
        vals = [v if v == v and v not in (np.inf, -np.inf) else None for v in vals]
    return json.dumps(vals, separators=(",", ":"))[1:-1]


def _column(name: str, a: np.ndarray, ints: bool) -> Iterator[str]:
    yield f'"{name}":['
    for lo in range(0, len(a), BLOCK):
        chunk = a[lo:lo + BLOCK]
        text = json.dumps(chunk.tolist(), separators=(",", ":"))[1:-1] if ints else _floats(chunk)
        yield ("," if lo else "") + text
    yield "]"


def json_series(series: Iterable[tuple[str, str, object]]) -> Iterator[str]:
    """JSON text ``[{"run", "tag", "step": [int], "wall_time": [float], "value": [float]}]`` of
    every point (NaN and +-inf as ``null``), in blocks. ``series``: ``(run, tag,
    ScalarSeries)``."""
    yield "["
    for i, (run, tag, s) in enumerate(series):
        head = json.dumps({"run": run, "tag": tag}, ensure_ascii=False)[:-1]
        yield ("," if i else "") + head + ","
        yield from _column("step", s.step, ints=True)
        yield ","
        yield from _column("wall_time", s.wall_time, ints=False)
        yield ","
        yield from _column("value", s.value, ints=False)
        yield "}"
    yield "]"
