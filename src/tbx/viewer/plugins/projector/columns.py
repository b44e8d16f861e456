"""Metadata columns, encoded once per embedding: every column as its distinct values
(``categories``) and one int32 code per point, so colouring, legends and search work on the
distinct values, not on N strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Column", "encode_columns", "search", "CATEGORICAL_MAX"]

#: A column with at most this many distinct values is coloured with a categorical palette.
CATEGORICAL_MAX = 20


@dataclass(frozen=True)
class Column:
    """One metadata column of N points.

    Attributes:
        name: the header's name (``"label"`` for a file without header).
        categories: distinct values as written, sorted (numerically when ``numeric``).
        codes: ``(N,)`` int32 index into ``categories``, ``-1`` for a point without a value.
        numeric: every value is a number (then ``values`` holds them).
        values: ``(N,)`` float64 numbers (NaN where missing), or ``None``.
        counts: ``(len(categories),)`` int64 points per category.
    """

    name: str
    categories: list[str]
    codes: np.ndarray
    numeric: bool
    values: np.ndarray | None
    counts: np.ndarray

    @property
    def kind(self) -> str:
        """``"categorical"`` (few distinct values), ``"numeric"`` or ``"text"``."""
        if len(self.categories) <= CATEGORICAL_MAX:
            return "categorical"
        return "numeric" if self.numeric else "text"

    def to_json(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "distinct": len(self.categories)}
        if self.numeric and self.values is not None and np.isfinite(self.values).any():
            out["min"] = float(np.nanmin(self.values))
            out["max"] = float(np.nanmax(self.values))
        return out


def _numbers(categories: list[str]) -> np.ndarray | None:
    if not categories:
        return None
    try:
        return np.array([float(c) for c in categories], dtype=np.float64)
    except ValueError:
        return None


def encode_column(name: str, cells: list[str]) -> Column:
    """Encode one column's cells (``""`` = missing)."""
    index: dict[str, int] = {}
    raw = np.fromiter((index.setdefault(c, len(index)) for c in cells), dtype=np.int32,
                      count=len(cells))
    present = [c for c in index if c != ""]
    numbers = _numbers(present)
    if numbers is not None:
        order = np.argsort(numbers, kind="stable")
    else:
        order = np.argsort(np.array(present, dtype=object), kind="stable")
    categories = [present[i] for i in order]
    remap = np.full(len(index), -1, dtype=np.int32)
    rank = {c: r for r, c in enumerate(categories)}
    for c, i in index.items():
        remap[i] = rank.get(c, -1)
    codes = remap[raw] if len(raw) else raw
    counts = np.bincount(codes[codes >= 0], minlength=len(categories)).astype(np.int64)
    values = None
    if numbers is not None:
        table = np.append(numbers[order], np.nan)  # code -1 -> NaN
        values = table[codes]
    return Column(name=name, categories=categories, codes=codes, numeric=numbers is not None,
                  values=values, counts=counts)


def encode_columns(names: list[str], rows: list[list[str]], n: int) -> list[Column]:
    """Columns of ``n`` points from metadata rows (missing rows and cells are ``""``; extra
    rows and cells are dropped)."""
    rows = rows[:n]
    out = []
    for j, name in enumerate(names):
        cells = [r[j] if j < len(r) else "" for r in rows]
        cells.extend([""] * (n - len(cells)))
        out.append(encode_column(name, cells))
    return out


def search(columns: list[Column], query: str, column: str | None = None,
           regex: bool = False, case: bool = False) -> np.ndarray:
    """Indices (sorted int64) of the points whose value in ``column`` (every column when
    ``None``) contains ``query`` (a substring, or with ``regex`` a Python regular expression
    searched anywhere in the value); case-insensitive unless ``case``.

    Raises:
        ValueError: ``column`` is not a column name; ``regex`` and ``query`` does not compile.
    """
    chosen = [c for c in columns if column is None or c.name == column]
    if column is not None and not chosen:
        names = ", ".join(repr(c.name) for c in columns) or "none"
        raise ValueError(f"column must be one of the metadata columns ({names}); got {column!r}")
    flags = 0 if case else re.IGNORECASE
    try:
        pattern = re.compile(query if regex else re.escape(query), flags)
    except re.error as e:
        raise ValueError(f"query is not a valid regular expression: {e}") from None
    hit = None
    for c in chosen:
        matched = np.array([bool(pattern.search(v)) for v in c.categories], dtype=bool)
        rows = np.zeros(len(c.codes), dtype=bool)
        if matched.any():
            rows = np.append(matched, False)[c.codes]  # code -1 -> index -1 -> False
        hit = rows if hit is None else hit | rows
    if hit is None:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(hit)
