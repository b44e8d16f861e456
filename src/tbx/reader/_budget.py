"""The memory budget of decoded series: a least-recently-used account of the bytes each
resident series holds (its point columns, serialized Values and decoded values).

When the total passes the limit, the least recently used series are evicted: they keep their
summary (count, step and wall-time ranges), their file ids and where their records lie, and
are read again from their event files when next asked for (:mod:`tbx.reader._replay`).
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["Budget", "parse_size"]

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20,
          "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
          "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}


def parse_size(text, name: str = "memory_budget") -> int | None:
    """Bytes of a size such as ``1073741824``, ``"512M"``, ``"2G"``, ``"1.5GiB"`` (units K, M,
    G, T are powers of 1024); ``None``, ``"none"`` or ``"unlimited"``: no limit.

    Raises:
        ValueError: not a size, or negative.
        TypeError: neither a number nor a string.
    """
    if text is None:
        return None
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise TypeError(f"{name} must be a number of bytes or a string such as '512M', got "
                        f"{type(text).__name__}")
    if isinstance(text, str):
        t = text.strip().upper().replace(" ", "")
        if t in ("NONE", "UNLIMITED"):
            return None
        num = t.rstrip("KMGTIB")
        unit = t[len(num):]
        try:
            value = float(num) * _UNITS[unit]
        except (KeyError, ValueError):
            raise ValueError(f"{name} {text!r} is not a size: use bytes or a number with K, M, "
                             "G or T (powers of 1024), e.g. '512M', or 'none'") from None
    else:
        value = float(text)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0 bytes, got {text!r}")
    return int(value)


class Budget:
    """Bytes held by resident series, least recently used first.

    ``limit``: bytes (``None``: unlimited, nothing is ever evicted and nothing is tracked).
    A series registers itself with :meth:`charge` whenever what it holds changes; the owner
    calls :meth:`trim` at points where evicting is safe (between blocks, after a query)."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.total = 0
        self.evictions = 0
        self._lru: OrderedDict = OrderedDict()  # series -> bytes charged

    @property
    def active(self) -> bool:
        return self.limit is not None

    def charge(self, s) -> None:
        """Account ``s.nbytes`` for series ``s`` and mark it most recently used."""
        if self.limit is None:
            return
        old = self._lru.pop(s, 0)
        self.total += s.nbytes - old
        self._lru[s] = s.nbytes

    def touch(self, s) -> None:
        """Mark ``s`` most recently used (when it is tracked)."""
        if s in self._lru:
            self._lru.move_to_end(s)

    def forget(self, s) -> None:
        """Stop accounting ``s`` (it was dropped or evicted)."""
        self.total -= self._lru.pop(s, 0)

    def trim(self, keep=()) -> int:
        """Evict least recently used series (never those in ``keep``, nor pinned ones) until
        the total is within the limit; returns the number evicted."""
        if self.limit is None or self.total <= self.limit:
            return 0
        n = 0
        for s in list(self._lru):
            if self.total <= self.limit:
                break
            if s in keep or s.pinned():
                continue
            self.forget(s)
            s.evict()
            n += 1
        self.evictions += n
        return n
