"""Which of many series a chart shows: at most ``limit``, ranked by their last, minimum or
maximum value, pinned runs always kept; and the notice that says so on the chart. Pure
functions; no I/O."""

from __future__ import annotations

import numpy as np

__all__ = ["rank", "notice", "ORDERS", "WORDS"]

ORDERS = ("asc", "desc")
#: How a notice names an order.
WORDS = {"asc": "lowest", "desc": "highest"}


def rank(items, values, limit: int, order: str = "asc", pinned=()) -> list[int]:
    """Indices (ascending) of the items to keep.

    Args:
        items: the candidates (only their number matters here).
        values: one float (or ``None``) per item, the ranking value; ``None`` and NaN rank
            after every number, whichever the order.
        limit: items kept at most (>= 1).
        order: ``"asc"`` keeps the lowest values, ``"desc"`` the highest.
        pinned: indices always kept (they count towards ``limit``; if there are more pinned
            items than ``limit``, the first ``limit`` of them).

    Raises:
        ValueError: ``limit`` < 1 or an unknown ``order``.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if order not in ORDERS:
        raise ValueError(f"order must be 'asc' or 'desc', got {order!r}")
    n = len(items)
    if n <= limit:
        return list(range(n))
    pins = sorted(set(pinned))[:limit]
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=np.float64)
    key = v if order == "asc" else -v
    key = np.where(np.isnan(key), np.inf, key)
    if pins:
        key[pins] = -np.inf  # first, then dropped from the ranked part
    ranked = np.argsort(key, kind="stable")[:limit]
    return sorted(int(i) for i in ranked)


def _n(x: int) -> str:
    return f"{x:,}"


def notice(shown: int, total: int, unit: str, by: str, order: str, pinned: int = 0) -> str:
    """The chart's notice: ``"showing 500 of 10,000 runs: the 500 with the lowest last
    value"`` (and ``", 3 pinned runs included"``); ``""`` when nothing was left out."""
    if shown >= total:
        return ""
    ranked = shown - pinned
    text = (f"showing {_n(shown)} of {_n(total)} {unit}: the {_n(ranked)} with the "
            f"{WORDS[order]} {by} value")
    if pinned:
        text += f", and {_n(pinned)} pinned"
    return text
