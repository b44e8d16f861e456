"""Facts about runs that the run table, ranking and grouping need, cached until their data
changes: each run's hyperparameters (its hparams ``session_start_info``) and the last, minimum
and maximum value of a scalar series.

A run's hyperparameters are those of the first hparams session written into the run itself
(what ``SummaryWriter.add_hparams(..., name=None)``, TensorBoard's ``hp.hparams`` and Keras
write); a run holding none has none.
"""

from __future__ import annotations

import math
import threading
from typing import NamedTuple

import numpy as np

__all__ = ["Stats", "RunInfo", "STAT_KEYS"]

#: What a series can be ranked by.
STAT_KEYS = ("last", "min", "max")

_SSI = "_hparams_/session_start_info"
_EXPERIMENT = "_hparams_/experiment"


class Stats(NamedTuple):
    """Summary of one scalar series. ``last``: the value of its last point (file order);
    ``min``/``max``: over its finite values; ``last_step``: the step of its last point;
    ``count``: points. Each float is ``None`` when the series has no such value (empty, all
    NaN, or a NaN last point)."""

    last: float | None
    min: float | None
    max: float | None
    last_step: int | None
    count: int


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def series_stats(step: np.ndarray, value: np.ndarray) -> Stats:
    """:class:`Stats` of one series' columns (``step`` int64, ``value`` float64)."""
    n = len(value)
    if not n:
        return Stats(None, None, None, None, 0)
    finite = value[np.isfinite(value)]
    lo = _f(finite.min()) if finite.size else None
    hi = _f(finite.max()) if finite.size else None
    return Stats(_f(value[-1]), lo, hi, int(step[-1]), n)


class RunInfo:
    """Per-run hyperparameters and per-series :class:`Stats` over a provider, cached.

    Cache keys: a series' stats are kept while the series keeps the same snapshot (same
    buffer address and length: the reader appends into new snapshots) and change counter;
    a run's hyperparameters while its ``session_start_info`` tag info is unchanged.
    """

    def __init__(self, provider, version=None, changes=None, max_entries: int = 500_000):
        """``version(run, tag, plugin) -> int``: a series' change counter; ``changes() ->
        int``: a counter of every change (defaults: always 0)."""
        self.provider = provider
        self._version = version or (lambda run, tag, plugin=None: 0)
        self._changes = changes or (lambda: 0)
        self._tags: tuple[int, dict] = (-1, {})
        self._stats: dict[tuple[str, str], tuple] = {}
        self._hp: dict[str, tuple] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._stats.clear()
            self._hp.clear()
            self._tags = (-1, {})

    def tags(self, run: str, plugin: str | None = None) -> dict:
        """``provider.tags(run, plugin)``, kept until the next change of the logdir (a table
        of 10,000 runs asks for every run's tags).

        Raises:
            KeyError: unknown run.
        """
        return self._cached("tags", run, plugin)

    def series(self, run: str) -> list:
        """``provider.series(run)`` (``(tag, plugin, TagInfo)`` of every series), kept until
        the next change of the logdir.

        Raises:
            KeyError: unknown run.
        """
        return self._cached("series", run)

    def _cached(self, what: str, run: str, plugin: str | None = None):
        v = self._changes()
        ver, cache = self._tags
        if ver != v:
            cache = {}
            self._tags = (v, cache)
        key = (what, run, plugin)
        hit = cache.get(key)
        if hit is None:
            fn = getattr(self.provider, what)
            hit = cache[key] = fn(run) if plugin is None else fn(run, plugin)
        return hit

    def stats(self, run: str, tag: str, plugin: str | None = "scalars") -> Stats | None:
        """:class:`Stats` of the scalar series ``(run, tag, plugin)``; ``None`` when the run
        has no such scalar series.

        Raises:
            KeyError: unknown run.
        """
        info = self.tags(run, plugin).get(tag)
        if info is None or info.data_class != "scalar":
            return None
        s = self.provider.scalars(run, tag, plugin=plugin)
        ident = (self._version(run, tag, plugin), s.value.__array_interface__["data"][0],
                 len(s))
        key = (run, tag, plugin)
        hit = self._stats.get(key)
        if hit is not None and hit[0] == ident:
            return hit[1]
        st = series_stats(s.step, s.value)
        with self._lock:
            if len(self._stats) >= self._max:
                self._stats.clear()
            self._stats[key] = (ident, st)
        return st

    def hparams(self, run: str) -> dict:
        """``{name: value}`` (bool, str, float or None) of the run's hparams session; ``{}``
        when it has none.

        Raises:
            KeyError: unknown run.
        """
        info = self.tags(run, "hparams").get(_SSI)
        if info is None:
            return {}
        hit = self._hp.get(run)
        if hit is not None and hit[0] == info:
            return hit[1]
        values = self._decode(run)
        with self._lock:
            if len(self._hp) >= self._max:
                self._hp.clear()
            self._hp[run] = (info, values)
        return values

    def _decode(self, run: str) -> dict:
        from tbx.proto.summary_pb2 import Summary
        from tbx.summary import hparams as H

        try:
            d = H.decode(Summary.Value(tag=_SSI, metadata=self.provider.metadata(
                run, _SSI, plugin="hparams")))
        except (ValueError, KeyError):
            return {}
        if d.kind != "session_start_info":
            return {}
        out = {}
        for k in sorted(d.data["hparams"]):  # a protobuf map has no order
            v = d.data["hparams"][k]
            out[k] = _f(v) if isinstance(v, float) else v
        return out

    def metric_tags(self, runs) -> list[str]:
        """The metric tags named by the hparams experiments of ``runs`` (first-seen order)."""
        from tbx.proto.summary_pb2 import Summary
        from tbx.summary import hparams as H

        out: dict[str, None] = {}
        seen: set = set()
        for run in runs:
            try:
                if _EXPERIMENT not in self.tags(run, "hparams"):
                    continue
                md = self.provider.metadata(run, _EXPERIMENT, plugin="hparams")
            except KeyError:
                continue
            content = md.plugin_data.content
            if content in seen:  # a sweep writes the same experiment into every run
                continue
            seen.add(content)
            try:
                d = H.decode(Summary.Value(tag=_EXPERIMENT, metadata=md))
            except ValueError:
                continue
            if d.kind == "experiment":
                for m in d.data["metrics"]:
                    out.setdefault(m)
        return list(out)
