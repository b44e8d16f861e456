"""Run selections: which runs a data request is about, without one query parameter per run.

A page showing a sweep of 10,000 runs cannot name its runs in a URL (one ``run=`` each makes a
130 KB URL that servers refuse). Instead it posts the selected runs once, as the JSON body of
``POST /api/runsets`` (``{"runs": [name, ...], "pinned": [name, ...]}``), gets back an ``id``,
and names the selection by ``runset=<id>`` in every data request. The id is derived from the
content (the same runs and pins always give the same id), so posting again is harmless. The
server keeps the last :data:`MAX_SETS` sets it was given (least recently used dropped first); a
request naming a dropped or unknown id gets a 404 saying to post the runs again.

Data routes accept one of three selectors (:func:`resolve`):

* ``runset=<id>``: a posted set (its runs in the posted order, its pinned runs);
* ``run_re=<regex>``: every run whose name the Python regular expression matches
  (``re.search``);
* ``run=<name>``, repeated: the named runs (small selections; kept for API clients).

Pure Python, thread-safe, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["RunSet", "RunSets", "Selection", "SelectionError", "resolve", "MAX_SETS",
           "MAX_RUNS"]

#: Run sets the server keeps (least recently used dropped first).
MAX_SETS = 64
#: Runs in one run set at most.
MAX_RUNS = 1_000_000


class SelectionError(ValueError):
    """A bad selection: ``status`` 400 (bad parameter) or 404 (unknown run or run set)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class RunSet:
    """A posted selection: ``runs`` in the order given (duplicates dropped) and ``pinned``,
    runs always shown (a chart keeps them when it shows only some of the runs)."""

    runs: tuple[str, ...]
    pinned: frozenset[str]


@dataclass(frozen=True)
class Selection:
    """The runs one request is about.

    Attributes:
        runs: known runs (present in the provider now), in the selector's order (``run`` and
            ``runset``: as given; ``run_re``: the provider's sorted order).
        pinned: the selected runs that are pinned (``runset`` only; else empty).
        by: which selector was used: ``"runset"``, ``"run_re"`` or ``"run"``.
    """

    runs: list[str]
    pinned: frozenset[str]
    by: str


def _names(value, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise SelectionError(f"{what} must be a list of run names (strings)")
    if len(value) > MAX_RUNS:
        raise SelectionError(f"{what} holds {len(value)} runs, at most {MAX_RUNS} are accepted")
    return list(dict.fromkeys(value))


class RunSets:
    """The server's store of posted run sets (bounded, least recently used dropped first)."""

    def __init__(self, max_sets: int = MAX_SETS):
        self.max_sets = int(max_sets)
        self._sets: OrderedDict[str, RunSet] = OrderedDict()
        self._lock = threading.Lock()

    def add_json(self, body: bytes) -> tuple[str, RunSet]:
        """Store the run set of a JSON body ``{"runs": [str], "pinned": [str]}`` (``pinned``
        optional; pinned runs not in ``runs`` are added to it). Returns ``(id, run set)``.

        Raises:
            SelectionError: (400) the body is not such JSON.
        """
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # nested too deep: not a run set
            raise SelectionError("the body must be JSON: {\"runs\": [name, ...], "
                                 "\"pinned\": [name, ...]}") from None
        if not isinstance(data, dict) or "runs" not in data:
            raise SelectionError("the body must be a JSON object with a \"runs\" list")
        extra = set(data) - {"runs", "pinned"}
        if extra:
            raise SelectionError(f"unknown field(s) {', '.join(sorted(extra))}; expected "
                                 "\"runs\" and \"pinned\"")
        return self.add(_names(data["runs"], "runs"), _names(data.get("pinned", []), "pinned"))

    def add(self, runs, pinned=()) -> tuple[str, RunSet]:
        """Store ``runs`` (and ``pinned``); returns ``(id, run set)``, the id a 24-character
        hex digest of the content."""
        runs = list(dict.fromkeys(runs))
        pins = list(dict.fromkeys(pinned))
        seen = set(runs)
        runs += [p for p in pins if p not in seen]
        rs = RunSet(tuple(runs), frozenset(pins))
        h = hashlib.sha256(json.dumps([runs, sorted(pins)], separators=(",", ":"))
                           .encode("utf-8", "surrogatepass")).hexdigest()[:24]
        with self._lock:
            self._sets[h] = rs
            self._sets.move_to_end(h)
            while len(self._sets) > self.max_sets:
                self._sets.popitem(last=False)
        return h, rs

    def get(self, set_id: str) -> RunSet | None:
        """The run set of ``set_id``, or ``None`` when unknown (never posted, or dropped)."""
        with self._lock:
            rs = self._sets.get(set_id)
            if rs is not None:
                self._sets.move_to_end(set_id)
            return rs

    def __len__(self) -> int:
        return len(self._sets)


def resolve(params, provider, runsets: RunSets, *, max_named: int = 10_000) -> Selection:
    """The :class:`Selection` of a request's query parameters (``runset``, ``run_re`` or
    repeated ``run``; exactly one kind).

    Args:
        params: the query parameters (``getlist(name)``, as starlette's ``QueryParams``).
        provider: the data provider (``runs()``).
        runsets: the server's :class:`RunSets`.
        max_named: repeated ``run`` parameters accepted at most.

    Raises:
        SelectionError: none or several kinds of selector, a selector given twice, a bad
            regular expression, too many ``run`` (400); an unknown run set id, or a ``run``
            that is not a known run (404).
    """
    given = [k for k in ("runset", "run_re", "run") if params.getlist(k)]
    if not given:
        raise SelectionError("missing query parameter 'run' (or 'runset', 'run_re'): which "
                             "runs to show")
    if len(given) > 1:
        raise SelectionError(f"give one of runset, run_re or run, not {' and '.join(given)}")
    by = given[0]
    vals = params.getlist(by)
    known = provider.runs()
    if by == "run":
        if len(vals) > max_named:
            raise SelectionError(f"{len(vals)} 'run' parameters, at most {max_named}: post "
                                 "the runs to /api/runsets and pass runset=<id>")
        have = set(known)
        for r in vals:
            if r not in have:
                raise SelectionError(f"unknown run {r!r}", 404)
        return Selection(list(dict.fromkeys(vals)), frozenset(), by)
    if len(vals) > 1:
        raise SelectionError(f"query parameter {by!r} given {len(vals)} times, expected once")
    if by == "run_re":
        try:
            rx = re.compile(vals[0])
        except re.error as exc:
            raise SelectionError(f"run_re is not a valid regular expression: {exc}") from None
        return Selection([r for r in known if rx.search(r)], frozenset(), by)
    rs = runsets.get(vals[0])
    if rs is None:
        raise SelectionError(f"unknown run set {vals[0]!r} (the server keeps the last "
                             f"{runsets.max_sets}): POST the runs to /api/runsets again", 404)
    have = set(known)
    runs = [r for r in rs.runs if r in have]
    return Selection(runs, frozenset(p for p in rs.pinned if p in have), by)
