"""Series storage: one growable set of numpy columns per (run, tag, plugin), and the decoding of a
stored point into the provider's value forms.

A run holds its tags (``_Tag``: the name, and for each payload kind the plugin the writer last
declared for it) and its series (``_Series``) in first-seen order. Scalars never become Python
objects; other kinds keep each point's serialized ``Summary.Value`` and decode it when asked.
"""

from __future__ import annotations

import numpy as np

from tbx.reader._decode import (
    BLOB_PLUGINS,
    RUN_GRAPH_TAG,
    decode_blob_value,
    decode_tensor_value,
    histogram_to_tensor,
    metadata_for,
)
from tbx.reader._types import SCALAR, TENSOR, TagInfo

__all__ = ["BLOB_PLUGINS", "RUN_GRAPH_TAG", "histogram_to_tensor", "decode_tensor_value",
           "decode_blob_value", "metadata_for"]



def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class _Series:
    """One (tag, plugin) of one run.

    Always kept: ``n`` (points), the step and wall-time ranges, the point count per event file
    (``files``: ``[[file id, count]]`` in file order; points are kept in file order) and
    ``version`` (bumped by every change). While ``resident``, the points themselves, compactly
    and exactly: steps as ``s0 + i * ds`` while they form an arithmetic progression (else an
    int64 column), values as float32 while every value is a float32 (else float64), wall times
    (unless read without them: ``has_wall``), and for tensor/blob series each point's
    serialized Value and its decoded form once asked for. Columns grow by capacity doubling and
    are never written below ``n``, so a handed-out view stays valid; purges and inserts build
    new arrays. An evicted series (``evict``) is read again from its files when asked for.
    """

    __slots__ = ("tag", "data_class", "plugin_name", "metadata", "n", "files", "smin", "smax",
                 "wmin", "wmax", "version", "resident", "has_wall", "step", "s0", "ds", "wall",
                 "value", "raws", "decoded", "nbytes", "rawb", "decb", "run", "budget")

    def __init__(self, tag: str, plugin: str, run=None, budget=None):
        self.tag = tag
        self.data_class: str | None = None
        self.plugin_name = plugin
        self.metadata = None  # SummaryMetadata proto: the first one the run sent
        self.run = run  # the _Run holding it (pinning: legacy runs are never evicted)
        self.budget = budget
        self.n = 0
        self.files: list[list[int]] = []
        self.smin = self.smax = 0
        self.wmin = self.wmax = 0.0
        self.version = 0
        self.resident = True
        self.has_wall = True
        self._clear()

    def _clear(self) -> None:
        self.step = None  # None: arithmetic, s0 + i * ds (ds None while n < 2)
        self.s0, self.ds = 0, None
        self.wall = np.empty(0, np.float64)
        self.value = np.empty(0, np.float32)
        self.raws: list[bytes] = []
        self.decoded: list = []
        self.nbytes = 0
        self.rawb = 0  # bytes of raws, and of decoded values
        self.decb = 0

    # ---------------------------------------------------------------- accounting
    def pinned(self) -> bool:
        run = self.run
        return run is not None and run.pinned()

    def _charge(self) -> None:
        if self.budget is not None and self.resident:
            nb = len(self.wall) * 8 + self.value.nbytes + self.rawb + self.decb
            if self.step is not None:
                nb += self.step.nbytes
            self.nbytes = nb
            self.budget.charge(self)

    def _recount(self) -> None:
        self.rawb = sum(len(r) + 40 for r in self.raws)
        self.decb = sum(_size_of(d) for d in self.decoded)

    def evict(self) -> None:
        """Drop the points (the summary, file counts and version stay)."""
        self.resident = False
        self.has_wall = True
        self._clear()

    # ---------------------------------------------------------------- summary
    def _note(self, step, wall, file_id: int) -> None:
        k = len(step)
        smin, smax = int(step.min()), int(step.max())
        wmin, wmax = _wrange(wall)
        if self.n:
            smin, smax = min(smin, self.smin), max(smax, self.smax)
            wmin, wmax = _nanmin(wmin, self.wmin), _nanmax(wmax, self.wmax)
        self.smin, self.smax, self.wmin, self.wmax = smin, smax, wmin, wmax
        if self.files and self.files[-1][0] == file_id:
            self.files[-1][1] += k
        else:
            self.files.append([file_id, k])
        self.version += 1

    def file_ids(self) -> np.ndarray:
        """int32 event-file index of each point."""
        if not self.files:
            return np.empty(0, np.int32)
        ids, counts = zip(*self.files, strict=True)
        return np.repeat(np.asarray(ids, np.int32), np.asarray(counts, np.int64))

    def remap_files(self, remap) -> None:
        self.files = [[int(remap[i]), c] for i, c in self.files]

    # ---------------------------------------------------------------- points
    def append(self, step, wall, value, file_id: int, raws=None) -> None:
        """Append points (all of file ``file_id``, which is the series' last file or a later
        one); on an evicted series only the summary changes."""
        k = len(step)
        if not k:
            return
        step = np.asarray(step, np.int64)
        n = self.n
        self._note(step, wall, file_id)
        self.n = n + k
        if not self.resident:
            return
        self._append_steps(n, step)
        if self.has_wall:
            self.wall = _put(self.wall, n, np.asarray(wall, np.float64))
        if value is not None:
            value = np.asarray(value, np.float64)
            if self.value.dtype == np.float32:
                v32 = value.astype(np.float32)
                if np.array_equal(v32, value, equal_nan=True):
                    value = v32
                else:
                    self.value = self.value[:n].astype(np.float64)
            self.value = _put(self.value, n, value)
        if raws is not None:
            self.raws.extend(raws)
            self.rawb += sum(len(r) + 40 for r in raws)
        self._charge()

    def _append_steps(self, n: int, step: np.ndarray) -> None:
        if self.step is None:
            k = len(step)
            if n == 0:
                s0, ds = int(step[0]), (int(step[1]) - int(step[0]) if k > 1 else None)
            else:
                s0, ds = self.s0, self.ds
                last = s0 + (n - 1) * (ds or 0)
                if ds is None:
                    ds = int(step[0]) - last
                if int(step[0]) != last + ds:
                    ds = False
            if ds is not False and (k < 2 or _is_arith(step, ds)):
                self.s0, self.ds = s0, ds
                return
            self.step = self.steps(n)  # no longer a progression: a column from here on
        self.step = _put(self.step, n, step)

    def steps(self, n: int | None = None) -> np.ndarray:
        """int64 steps of the first ``n`` (default all) points (a new array when compact)."""
        n = self.n if n is None else n
        if self.step is not None:
            return self.step[:n]
        return _arith(self.s0, self.ds or 0, n)

    def insert_at(self, file_id: int) -> int:
        """Where points of file ``file_id`` go: after every point of that file or an earlier
        one (points are kept in file order)."""
        if not self.files or self.files[-1][0] <= file_id:
            return self.n
        return sum(c for i, c in self.files if i <= file_id)

    def insert(self, pos: int, step, wall, value, file_id: int, raws=None) -> None:
        """Insert points of file ``file_id`` before point ``pos`` into new arrays (old
        snapshots stay intact). The series must be resident."""
        k = len(step)
        if not k:
            return
        step = np.asarray(step, np.int64)
        n = self.n
        old = self.steps()
        ids = self.file_ids()
        self._note(step, wall, file_id)
        ids = np.concatenate([ids[:pos], np.full(k, file_id, np.int32), ids[pos:]])
        self.files = _runs_of(ids)
        self.n = n + k

        def put(a, new, dtype):
            return np.concatenate([a[:pos], np.asarray(new, dtype), a[pos:n]])

        self._set_steps(put(old, step, np.int64))
        if self.has_wall:
            self.wall = put(self.wall, wall, np.float64)
        if value is not None:
            vals = np.asarray(value, np.float64)
            if self.value.dtype == np.float32 and \
                    np.array_equal(vals.astype(np.float32), vals, equal_nan=True):
                vals = vals.astype(np.float32)
            self.value = put(self.value, vals, np.result_type(self.value.dtype, vals.dtype))
        if raws is not None:
            self.raws = self.raws[:pos] + list(raws) + self.raws[pos:n]
            del self.decoded[pos:]
            self._recount()
        self._charge()

    def _set_steps(self, step: np.ndarray) -> None:
        n = len(step)
        ds = int(step[1]) - int(step[0]) if n > 1 else None
        if n == 0 or n == 1 or _is_arith(step, ds):
            self.step, self.s0, self.ds = None, (int(step[0]) if n else 0), ds
        else:
            self.step = step

    def purge(self, min_step: int, upto_file: int | None = None):
        """Drop points with ``step >= min_step`` (of files ``<= upto_file`` only, when given)
        into new arrays (old snapshots stay intact). The series must be resident. Returns the
        keep mask over the old points, or ``None`` when nothing was dropped."""
        n = self.n
        step = self.steps()
        keep = step < min_step
        ids = self.file_ids()
        if upto_file is not None:
            keep |= ids > upto_file
        if keep.all():
            return None
        step, ids = step[keep], ids[keep]
        self._set_steps(step)
        self.files = _runs_of(ids)
        if self.has_wall:
            self.wall = self.wall[:n][keep]
        if self.data_class == SCALAR:
            self.value = self.value[:n][keep]
        else:
            idx = np.flatnonzero(keep)
            self.raws = [self.raws[i] for i in idx]
            self.decoded = [self.decoded[i] for i in idx if i < len(self.decoded)]
            if len(self.decoded) != len(self.raws):
                self.decoded = self.decoded[: min(len(self.decoded), len(self.raws))]
            self._recount()
        self.n = len(step)
        self.version += 1
        if self.n:
            self.smin, self.smax = int(step.min()), int(step.max())
            if self.has_wall:
                self.wmin, self.wmax = _wrange(self.wall[: self.n])
        self._charge()
        return keep

    def fit(self) -> None:
        """Give back the spare capacity of the columns (new arrays of exactly ``n``; old
        snapshots keep theirs)."""
        n = self.n
        if not self.resident:
            return
        if self.step is not None and len(self.step) > n:
            self.step = self.step[:n].copy()
        if len(self.wall) > n:
            self.wall = self.wall[:n].copy()
        if len(self.value) > n:
            self.value = self.value[:n].copy()
        self._charge()

    def install(self, other: _Series) -> None:
        """Take the points of ``other`` (the same series read again from its files)."""
        self.step, self.s0, self.ds = other.step, other.s0, other.ds
        self.wall, self.value = other.wall, other.value
        self.has_wall = other.has_wall
        self.raws, self.decoded = other.raws, other.decoded
        self.rawb, self.decb = other.rawb, other.decb
        self.resident = True
        self._charge()

    def info(self) -> TagInfo:
        n = self.n
        if not n:
            return TagInfo(self.plugin_name, self.data_class or TENSOR, 0, None, None)
        return TagInfo(self.plugin_name, self.data_class, n, self.smin, self.smax,
                       self.wmin, self.wmax)

    def columns(self):
        """Read-only ``(step, wall_time)`` of the current points (``wall_time`` ``None`` when
        read without them). The series must be resident."""
        n = self.n
        return (_readonly(self.steps()),
                _readonly(self.wall[:n]) if self.has_wall else None)

    def values(self) -> np.ndarray:
        """Read-only float64 values of a resident scalar series."""
        v = self.value[: self.n]
        return _readonly(v if v.dtype == np.float64 else v.astype(np.float64))


def _put(a: np.ndarray, n: int, new: np.ndarray) -> np.ndarray:
    """``a`` with ``new`` written at ``[n : n + len(new)]``, grown (capacity doubling, into a
    new array) when needed."""
    k = len(new)
    if n + k > len(a):
        cap = max(2 * len(a), n + k, 256) if n else k
        grown = np.empty(cap, a.dtype if n else new.dtype)
        grown[:n] = a[:n]
        a = grown
    a[n : n + k] = new
    return a


def _arith(s0: int, ds: int, n: int) -> np.ndarray:
    out = np.arange(n, dtype=np.int64)
    out *= np.int64(ds) if -(1 << 63) <= ds < (1 << 63) else np.int64(0)
    out += np.int64(s0)
    return out


def _is_arith(step: np.ndarray, ds) -> bool:
    """True when ``step`` is ``step[0] + i * ds`` exactly (ds representable as int64)."""
    if ds is None or not -(1 << 63) <= ds < (1 << 63):
        return False
    if len(step) < 3:
        return len(step) < 2 or int(step[1]) - int(step[0]) == ds
    d = np.diff(step)
    # np.diff wraps modulo 2**64; so does the expansion, which therefore stays exact
    return bool((d == np.int64(ds)).all()) and _no_wrap(step, ds)


def _no_wrap(step: np.ndarray, ds: int) -> bool:
    first, last = int(step[0]), int(step[-1])
    return first + (len(step) - 1) * ds == last


def _runs_of(ids: np.ndarray) -> list[list[int]]:
    if not len(ids):
        return []
    cut = np.flatnonzero(np.diff(ids)) + 1
    starts = np.concatenate([[0], cut])
    counts = np.diff(np.concatenate([starts, [len(ids)]]))
    return [[int(ids[s]), int(c)] for s, c in zip(starts, counts, strict=True)]


def _wrange(wall) -> tuple[float, float]:
    """Smallest and largest wall time, NaN left out (NaN when all are)."""
    w = np.asarray(wall, np.float64)
    lo, hi = float(w.min()), float(w.max())
    if lo != lo or hi != hi:
        w = w[~np.isnan(w)]
        if not len(w):
            return float("nan"), float("nan")
        lo, hi = float(w.min()), float(w.max())
    return lo, hi


def _nanmin(a: float, b: float) -> float:
    return b if a != a else a if b != b else min(a, b)


def _nanmax(a: float, b: float) -> float:
    return b if a != a else a if b != b else max(a, b)


def _size_of(d) -> int:
    if d is None:
        return 16
    if isinstance(d, np.ndarray):
        return d.nbytes + 112
    if isinstance(d, list):
        return sum(len(x) + 40 for x in d) + 56
    return 64


def decoded(s: _Series, decode) -> tuple:
    """The first ``s.n`` points of a resident tensor/blob series decoded (cached; an
    undecodable point is ``None``). Call with the reader's lock held."""
    n = s.n
    if len(s.decoded) < n:
        from tbx.proto import summary_pb2

        for raw in s.raws[len(s.decoded) : n]:
            try:
                d = decode(summary_pb2.Summary.Value.FromString(raw))
            except Exception:  # noqa: BLE001 - undecodable point: kept as None
                d = None
            s.decoded.append(d)
            s.decb += _size_of(d)
        s._charge()
    return tuple(s.decoded[:n])
