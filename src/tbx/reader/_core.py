"""The reader's engine behind :class:`tbx.reader.provider.LogdirProvider` (private).

Per refresh and per run, each event file is read from where the last read stopped, in blocks of
up to 64 MiB. A block goes through ``tbx._speedups.scan_events`` (or its pure-Python twin below):
one pass that checks the framing and both CRCs and splits every Summary Value into columns (record
ordinal, step, wall time, tag id, payload kind, number for ``simple_value`` and one-number tensors,
and the byte ranges of the Value and of its metadata). Records that are not Summaries
(``file_version``, ``session_log``, graphs) are decoded with protobuf. Rows are then grouped by tag
with numpy and appended to the tag's series; scalars never become Python objects, other kinds keep
each point's serialized Value and decode it only when asked (so a tag filter, or a viewer that
never opens a tag, costs no decoding).
"""

from __future__ import annotations

import re
import struct
import threading

import numpy as np

from tbx import record
from tbx.reader._fs import open_logdir
from tbx.reader.provider import (
    BLOB,
    SCALAR,
    TENSOR,
    BlobSeries,
    Changes,
    Corruption,
    ScalarSeries,
    TagInfo,
    TensorSeries,
)

_BLOCK = 64 << 20
_KIND_SIMPLE, _KIND_TENSOR_SCALAR, _KIND_OTHER = 0, 1, 2
#: Plugins whose tensors are blob sequences (TensorBoard's images, audio; tbx's video).
BLOB_PLUGINS = frozenset({"images", "audio", "video"})
#: Tag under which a run's GraphDef is kept (TensorBoard's graphs plugin uses the same name).
RUN_GRAPH_TAG = "__run_graph__"


def _compile(pattern: str | None, name: str):
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise TypeError(f"{name} must be a regular expression string, got {type(pattern).__name__}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{name} {pattern!r} is not a valid regular expression: {exc}") from None


def _pb():
    from tbx.proto import event_pb2, summary_pb2

    return event_pb2, summary_pb2


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class _Series:
    """One tag of one run: growable columns (capacity doubling; never written below ``n``, so a
    snapshot view stays valid), and for tensor/blob tags each point's serialized Value."""

    __slots__ = ("tag", "data_class", "plugin_name", "metadata", "n", "step", "wall", "value",
                 "file", "raws", "decoded")

    def __init__(self, tag: str):
        self.tag = tag
        self.data_class: str | None = None
        self.plugin_name = ""
        self.metadata = None  # SummaryMetadata proto: the first one the run sent
        self.n = 0
        self.step = np.empty(0, np.int64)
        self.wall = np.empty(0, np.float64)
        self.value = np.empty(0, np.float64)
        self.file = np.empty(0, np.int32)
        self.raws: list[bytes] = []
        self.decoded: list = []

    def append(self, step, wall, value, file_id: int, raws=None) -> None:
        k = len(step)
        if not k:
            return
        n = self.n
        if n == 0 and len(step) == len(wall):
            # adopt the block's columns as they are (no copy); the next append reallocates
            self.step = np.asarray(step, np.int64)
            self.wall = np.asarray(wall, np.float64)
            self.file = np.full(k, file_id, np.int32)
            if value is not None:
                self.value = np.asarray(value, np.float64)
            if raws is not None:
                self.raws.extend(raws)
            self.n = k
            return
        if n + k > len(self.step):
            cap = max(2 * len(self.step), n + k, 256)
            for name in ("step", "wall", "file") + (("value",) if value is not None else ()):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[:n] = old[:n]
                setattr(self, name, new)
        self.step[n : n + k] = step
        self.wall[n : n + k] = wall
        self.file[n : n + k] = file_id
        if value is not None:
            self.value[n : n + k] = value
        if raws is not None:
            self.raws.extend(raws)
        self.n = n + k

    def purge(self, min_step: int):
        """Drop points with ``step >= min_step`` into new arrays (old snapshots stay intact).
        Returns the keep mask over the old points, or ``None`` when nothing was dropped."""
        n = self.n
        keep = self.step[:n] < min_step
        if keep.all():
            return None
        self.step = self.step[:n][keep]
        self.wall = self.wall[:n][keep]
        self.file = self.file[:n][keep]
        if self.data_class == SCALAR:
            self.value = self.value[:n][keep]
        else:
            idx = np.flatnonzero(keep)
            self.raws = [self.raws[i] for i in idx]
            self.decoded = [self.decoded[i] for i in idx if i < len(self.decoded)]
            if len(self.decoded) != len(self.raws):
                self.decoded = self.decoded[: min(len(self.decoded), len(self.raws))]
        self.n = len(self.step)
        return keep

    def info(self) -> TagInfo:
        n = self.n
        if not n:
            return TagInfo(self.plugin_name, self.data_class or TENSOR, 0, None, None)
        s, w = self.step[:n], self.wall[:n]
        return TagInfo(self.plugin_name, self.data_class, n, int(s.min()), int(s.max()),
                       float(w.min()), float(w.max()))


class _File:
    __slots__ = ("path", "offset", "index", "size")

    def __init__(self, path: str, index: int):
        self.path = path
        self.offset = 0  # where the next read starts: the end of the last complete record
        self.index = index
        self.size = 0  # bytes at the last listing


class _Run:
    def __init__(self, name: str):
        self.name = name
        self.files: dict[str, _File] = {}
        self.file_names: list[str] = []
        self.tags_b: list[bytes] = []
        self.tag_index: dict[bytes, int] = {}
        self.slots: list[_Series | None] = []
        self.series: dict[str, _Series] = {}
        self.file_version: str | None = None
        self.most_recent_step = -1  # for the purge rule of runs without file_version >= 2


def _legacy(file_version: str | None) -> bool:
    """True when a run's ``file_version`` ("brain.Event:<n>") is missing or below 2."""
    if not file_version:
        return True
    try:
        return float(file_version.rpartition(":")[2]) < 2
    except ValueError:
        return True


def _metadata_for(plugin: str):
    _, summary_pb2 = _pb()
    dc = {"scalars": summary_pb2.DATA_CLASS_SCALAR, "images": summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
          "audio": summary_pb2.DATA_CLASS_BLOB_SEQUENCE}.get(plugin, summary_pb2.DATA_CLASS_TENSOR)
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin), data_class=dc
    )


def histogram_to_tensor(histo) -> np.ndarray:
    """A v1 ``HistogramProto`` as TensorBoard's v2 histogram tensor: float64 ``[k, 3]`` rows of
    ``(left edge, right edge, count)``; the first left edge is ``histo.min``, the last right edge
    ``histo.max`` (v1's last limit is a sentinel like DBL_MAX)."""
    limits = np.asarray(histo.bucket_limit, np.float64)
    counts = np.asarray(histo.bucket, np.float64)
    k = len(counts)
    if k == 0:
        return np.zeros((0, 3), np.float64)
    right = limits[:k].copy()
    if len(right) < k:
        right = np.concatenate([right, np.full(k - len(right), histo.max)])
    left = np.concatenate([[histo.min], right[:-1]])
    right[-1] = histo.max
    return np.stack([left, right, counts], axis=1)


def _decode_tensor_value(value) -> np.ndarray:
    which = value.WhichOneof("value")
    if which == "tensor":
        from tbx.summary.tensor import tensor_to_numpy

        return tensor_to_numpy(value.tensor)
    if which == "histo":
        return histogram_to_tensor(value.histo)
    if which == "simple_value":
        return np.asarray(value.simple_value, np.float32)
    if which is None:
        return np.zeros(0, np.float32)  # a Value carrying metadata only
    raise ValueError(f"tag {value.tag!r}: Value holds {which!r}, not a tensor")


def _decode_blob_value(value) -> list[bytes]:
    which = value.WhichOneof("value")
    if which == "tensor":
        t = value.tensor
        if t.string_val:
            return list(t.string_val)
        from tbx.summary.tensor import tensor_to_numpy

        arr = tensor_to_numpy(t)
        return [bytes(x) for x in arr.reshape(-1)] if arr.dtype == object else [arr.tobytes()]
    if which == "image":
        im = value.image
        return [str(im.width).encode(), str(im.height).encode(), im.encoded_image_string]
    if which == "audio":
        return [value.audio.encoded_audio_string, b""]
    raise ValueError(f"tag {value.tag!r}: Value holds {which!r}, not a blob sequence")


# Per tag: rec, step, wall, value, kind (dense), then ``extra`` (int64 5-tuples: row, value
# offset, value length, metadata offset, metadata length) for rows not a plain simple_value or
# carrying metadata; the format of ``tbx._speedups.scan_events``.
_ROW_DTYPES = (np.int32, np.int64, np.float64, np.float64, np.uint8)


class _Rows:
    """Per-tag rows being collected in Python (the fallback and protobuf-decoded Events), in
    ``scan_events``' output format."""

    def __init__(self):
        self.cols: dict[int, list[list]] = {}
        self.aux = bytearray()

    def add(self, tid: int, ordinal: int, ev, v, kind: int, value: float) -> None:
        c = self.cols.get(tid)
        if c is None:
            c = self.cols[tid] = [[] for _ in range(6)]
        row = len(c[0])
        c[0].append(ordinal)
        c[1].append(ev.step)
        c[2].append(ev.wall_time)
        c[3].append(value)
        c[4].append(kind)
        has_meta = v.HasField("metadata")
        if kind == _KIND_SIMPLE and not has_meta:
            return
        raw = v.SerializeToString()
        voff = len(self.aux)
        self.aux += raw
        if has_meta:
            m = v.metadata.SerializeToString()
            moff, mlen = len(self.aux), len(m)
            self.aux += m
        else:
            moff, mlen = 0, -1
        c[5] += (row, voff, len(raw), moff, mlen)

    def add_simple(self, tid: int, ordinal: int, step: int, wall: float, value: float) -> None:
        c = self.cols.get(tid)
        if c is None:
            c = self.cols[tid] = [[] for _ in range(6)]
        c[0].append(ordinal)
        c[1].append(step)
        c[2].append(wall)
        c[3].append(value)
        c[4].append(_KIND_SIMPLE)

    def result(self) -> dict[int, tuple]:
        return {t: tuple(np.asarray(col, dt).tobytes() for col, dt in
                         zip(c, (*_ROW_DTYPES, np.int64), strict=True))
                for t, c in self.cols.items()}


_unpack_d = struct.Struct("<d").unpack_from
_unpack_f = struct.Struct("<f").unpack_from


def _varint(b: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        c = b[pos]
        pos += 1
        result |= (c & 0x7F) << shift
        if c < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


def _simple_event(b: bytes):
    """``(wall_time, step, [(tag bytes, value)])`` of an Event that is exactly ``wall_time,
    step, Summary(Value(tag, simple_value)...)`` in canonical field order (what every scalar
    writer produces), else ``None`` (protobuf decodes it)."""
    n = len(b)
    pos = 0
    wall = 0.0
    step = 0
    try:
        if b[0] == 0x09:
            (wall,) = _unpack_d(b, 1)
            pos = 9
        if b[pos] == 0x10:
            step, pos = _varint(b, pos + 1)
            if step >= 1 << 63:
                step -= 1 << 64
        if b[pos] != 0x2A:
            return None
        size = b[pos + 1]
        if size < 0x80:
            pos += 2
        else:
            size, pos = _varint(b, pos + 1)
        if pos + size != n:
            return None
        out = []
        while pos < n:
            size = b[pos + 1]
            if b[pos] != 0x0A or size >= 0x80 or b[pos + 2] != 0x0A:
                return None  # a Value longer than 127 bytes is no plain scalar
            end = pos + 2 + size
            tsize = b[pos + 3]
            p = pos + 4 + tsize
            if tsize >= 0x80 or p + 5 != end or end > n or b[p] != 0x15:
                return None
            tag = b[pos + 4 : p]
            tag.decode("utf-8")  # protobuf rejects invalid UTF-8 in a string field
            out.append((tag, _unpack_f(b, p + 1)[0]))
            pos = end
        return wall, step, out
    except (IndexError, ValueError, struct.error):
        return None


def _scan_events_py(buf, tags_b: list[bytes], tag_index: dict[bytes, int]):
    """Pure-Python twin of ``tbx._speedups.scan_events`` (same outputs; plain scalar Events
    parsed by hand, every other through protobuf). Row byte ranges refer to the returned
    ``vbuf`` (serialized Values and metadata), ``others`` to ``buf``."""
    event_pb2, _ = _pb()
    scan = record._scan_records_py(buf, 0, strict=False)
    rows = _Rows()
    others: list[int] = []
    view = memoryview(buf)
    for ordinal, (s, n) in enumerate(zip(scan.starts, scan.lengths, strict=True)):
        data = bytes(view[s : s + n])
        simple = _simple_event(data)
        if simple is not None:
            wall, step, values = simple
            for key, value in values:
                tid = tag_index.get(key)
                if tid is None:
                    tid = tag_index[key] = len(tags_b)
                    tags_b.append(key)
                rows.add_simple(tid, ordinal, step, wall, value)
            continue
        try:
            ev = event_pb2.Event.FromString(data)
        except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
            others += (ordinal, s, n)
            continue
        if ev.WhichOneof("what") != "summary":
            others += (ordinal, s, n)
            continue
        for v in ev.summary.value:
            key = v.tag.encode("utf-8")
            tid = tag_index.get(key)
            if tid is None:
                tid = tag_index[key] = len(tags_b)
                tags_b.append(key)
            if v.WhichOneof("value") == "simple_value":
                rows.add(tid, ordinal, ev, v, _KIND_SIMPLE, v.simple_value)
            else:
                rows.add(tid, ordinal, ev, v, _KIND_OTHER, 0.0)
    corr = [(c.offset, c.skipped, c.reason) for c in scan.corruptions]
    others_b = np.asarray(others, np.int64).tobytes()
    return scan.end, corr, len(scan.starts), rows.result(), others_b, bytes(rows.aux)


class LogdirReader:
    """Engine of :class:`tbx.reader.provider.LogdirProvider`; same arguments and errors."""

    def __init__(self, logdir, *, run_filter: str | None = None, tag_filter: str | None = None,
                 only_files: set[str] | None = None):
        self._only_files = only_files  # paths as the store lists them (tbparse-style file reads)
        self._run_re = _compile(run_filter, "run_filter")
        self._tag_re = _compile(tag_filter, "tag_filter")
        self._fs = open_logdir(logdir)
        self._fs.check()
        self.logdir = logdir if isinstance(logdir, str) else str(logdir)
        self._runs: dict[str, _Run] = {}
        self._corruptions: list[Corruption] = []
        self._seen_corruptions: set[tuple[str, int]] = set()
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ reading

    def refresh(self, progress=None) -> Changes:
        changes = Changes()
        listing = self._fs.list_runs()
        todo = []
        for name, files in listing.items():
            if self._run_re is not None and not self._run_re.search(name):
                continue
            if self._only_files is not None and not any(p in self._only_files for p, _ in files):
                continue
            run = self._runs.get(name)
            if run is None:
                run = _Run(name)
                with self._lock:
                    self._runs[name] = run
                changes.new_runs.append(name)
            for path, size in files:
                if self._only_files is not None and path not in self._only_files:
                    continue
                f = run.files.get(path)
                if f is None:
                    f = _File(path, len(run.file_names))
                    with self._lock:
                        run.files[path] = f
                        run.file_names.append(self._fs.file_name(path))
                f.size = size
                if size > f.offset:
                    todo.append((run, f, size))
        total = sum(size - f.offset for _, f, size in todo)
        done = 0
        for run, f, size in todo:
            block = _BLOCK
            while f.offset < size:
                start = f.offset
                want = min(size - start, block)
                buf = self._fs.read(f.path, start, want)
                if not buf:
                    break
                end = self._process(run, f, buf, changes)
                changes.bytes_read += len(buf)
                f.offset = start + end
                done += end
                if progress is not None:
                    progress(done, total)
                if len(buf) < want or start + len(buf) >= size:
                    break  # what is left is an incomplete tail: resumed by the next refresh
                if end == 0:
                    block *= 2  # a record (or a damaged stretch) larger than the block
        if progress is not None:
            progress(total, total)
        return changes

    def _report(self, changes: Changes, path: str, offset: int, skipped: int, reason: str):
        key = (path, offset)
        if key in self._seen_corruptions:
            return
        self._seen_corruptions.add(key)
        c = Corruption(path, offset, skipped, reason)
        with self._lock:
            self._corruptions.append(c)
        changes.corruptions.append(c)
        import warnings

        warnings.warn(f"tbx: {c}", RuntimeWarning, stacklevel=4)

    def _new_slot(self, run: _Run, tid: int) -> _Series | None:
        name = run.tags_b[tid].decode("utf-8", errors="replace")
        if self._tag_re is not None and not self._tag_re.search(name):
            return None
        return _Series(name)

    def _process(self, run: _Run, f: _File, buf, changes: Changes) -> int:
        """Scan one block of ``f`` starting at ``f.offset``; returns the bytes consumed."""
        base = f.offset
        kernel = record.speedups()
        if kernel is not None:
            end, corr, _nrec, rows, others_b = kernel.scan_events(
                buf, 0, run.tags_b, run.tag_index)
            vbuf = buf
        else:
            end, corr, _nrec, rows, others_b, vbuf = _scan_events_py(
                buf, run.tags_b, run.tag_index)
        for off, skipped, reason in corr:
            self._report(changes, f.path, base + off, skipped, reason)
        others = np.frombuffer(others_b, np.int64).reshape(-1, 3)
        with self._lock:
            while len(run.slots) < len(run.tags_b):
                run.slots.append(self._new_slot(run, len(run.slots)))
            purges, extra, steps_of_others = self._handle_others(run, f, buf, others, changes)
            pending = self._group(run, rows, vbuf)
            if extra is not None:
                pending += self._group(run, extra[0], extra[1])
            tag_purges = self._legacy_purges(run, pending, steps_of_others) \
                if _legacy(run.file_version) else {}
            if purges or tag_purges:
                for tag, s in run.series.items():
                    mine = purges + tag_purges.get(id(s), [])
                    if not mine:
                        continue
                    smin = min(st for _, st in mine)
                    keep = s.purge(smin)
                    if keep is None:
                        continue
                    key = (run.name, tag)
                    new = changes.appended.get(key, 0)
                    old = len(keep) - new
                    if new:  # points added by this refresh that survive: still the last ones
                        changes.appended[key] = int(keep[old:].sum())
                    if not keep[:old].all():
                        changes.purged[key] = min(changes.purged.get(key, smin), smin)
            for s, g_rec, g_step, g_wall, g_val, g_raws in pending:
                mine = purges + tag_purges.get(id(s), [])
                if mine:
                    keep = np.ones(len(g_rec), bool)
                    for o, st in mine:
                        keep &= ~((g_rec < o) & (g_step >= st))
                    if not keep.all():
                        g_step, g_wall = g_step[keep], g_wall[keep]
                        if g_val is not None:
                            g_val = g_val[keep]
                        if g_raws is not None:
                            g_raws = [r for r, k in zip(g_raws, keep, strict=True) if k]
                s.append(g_step, g_wall, g_val, f.index, g_raws)
                key = (run.name, s.tag)
                if s.tag not in run.series:
                    run.series[s.tag] = s
                    changes.new_tags.append(key)
                if len(g_step):
                    changes.appended[key] = changes.appended.get(key, 0) + len(g_step)
        return end

    def _handle_others(self, run: _Run, f: _File, buf, others: np.ndarray, changes: Changes):
        """Decode the records the scan left to protobuf. Returns ``(purges, extra)``: purges as
        ``[(record ordinal, step)]``, extra Summary rows (as scan rows plus their buffer) or
        ``None``."""
        if not len(others):
            return [], None, []
        event_pb2, _ = _pb()
        view = memoryview(buf)
        purges: list[tuple[int, int]] = []
        summaries = []
        steps: list[tuple[int, int]] = []  # (ordinal, step) of the Events without a Summary
        for ordinal, off, n in others.tolist():
            try:
                ev = event_pb2.Event.FromString(bytes(view[off : off + n]))
            except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
                self._report(changes, f.path, f.offset + off - record.HEADER_SIZE,
                             n + record.HEADER_SIZE + record.FOOTER_SIZE, "undecodable Event")
                continue
            what = ev.WhichOneof("what")
            if what != "summary":
                steps.append((ordinal, ev.step))
            if what == "file_version":
                run.file_version = ev.file_version
                if ev.step > 0:
                    purges.append((ordinal, ev.step))
            elif what == "session_log":
                if ev.session_log.status == event_pb2.SessionLog.START:
                    purges.append((ordinal, ev.step))
            elif what == "summary":
                summaries.append((ordinal, ev))
            elif what in ("graph_def", "tagged_run_metadata"):
                if what == "graph_def":
                    tag, blob, plugin = RUN_GRAPH_TAG, ev.graph_def, "graphs"
                else:
                    tag = ev.tagged_run_metadata.tag
                    blob, plugin = ev.tagged_run_metadata.run_metadata, "graphs"
                summaries.append((ordinal, self._blob_event(ev, tag, blob, plugin)))
        extra = None
        if summaries:
            extra = self._rows_from_events(run, summaries)
        return purges, extra, steps

    @staticmethod
    def _legacy_purges(run: _Run, pending, steps_of_others):
        """TensorBoard's rule for runs without ``file_version >= 2``: a Summary Event whose step
        is below the most recent step drops, for its own tags only, the earlier points with a
        step >= its step. Returns ``{id(series): [(record ordinal, step)]}``."""
        records: dict[int, list] = {}  # ordinal -> [step, series...]
        for s, g_rec, g_step, *_ in pending:
            for o, st in zip(g_rec.tolist(), g_step.tolist(), strict=True):
                records.setdefault(o, [st]).append(s)
        for o, st in steps_of_others:
            records.setdefault(o, [st, None])
        out: dict[int, list] = {}
        recent = run.most_recent_step
        for o in sorted(records):
            st, *series = records[o]
            if series and series[0] is not None and st < recent:
                for s in series:
                    out.setdefault(id(s), []).append((o, st))
            else:
                recent = st
        run.most_recent_step = recent
        return out

    @staticmethod
    def _blob_event(ev, tag: str, blob: bytes, plugin: str):
        event_pb2, summary_pb2 = _pb()
        from tbx.proto.tensor_pb2 import TensorProto

        v = summary_pb2.Summary.Value(tag=tag, tensor=TensorProto(dtype=7, string_val=[blob]))
        v.metadata.CopyFrom(_metadata_for(plugin))
        return event_pb2.Event(wall_time=ev.wall_time, step=ev.step,
                               summary=summary_pb2.Summary(value=[v]))

    def _rows_from_events(self, run: _Run, items):
        """Scan-like rows (and their buffer) for Events decoded by protobuf."""
        rows = _Rows()
        for ordinal, ev in items:
            for v in ev.summary.value:
                key = v.tag.encode("utf-8")
                tid = run.tag_index.get(key)
                if tid is None:
                    tid = run.tag_index[key] = len(run.tags_b)
                    run.tags_b.append(key)
                    run.slots.append(self._new_slot(run, tid))
                rows.add(tid, ordinal, ev, v, _KIND_OTHER, 0.0)
        return rows.result(), bytes(rows.aux)

    def _group(self, run: _Run, rows, vbuf):
        """Rows of one block (``tag id -> columns``) for the kept tags: ``[(series, rec, step,
        wall, value|None, raws|None)]`` in tag id order."""
        out = []
        view = memoryview(vbuf)
        for t in sorted(rows):
            s = run.slots[t]
            if s is None:
                continue
            cols = rows[t]
            g_rec, g_step, g_wall, g_val, g_kind = (
                np.frombuffer(b, dt) for b, dt in zip(cols[:5], _ROW_DTYPES, strict=True))
            extra = np.frombuffer(cols[5], np.int64).reshape(-1, 5)
            if s.metadata is None:
                has = np.flatnonzero(extra[:, 4] >= 0)
                if len(has):
                    o, n = extra[has[0], 3:5].tolist()
                    _, summary_pb2 = _pb()
                    try:
                        s.metadata = summary_pb2.SummaryMetadata.FromString(bytes(view[o : o + n]))
                    except Exception:  # noqa: BLE001
                        s.metadata = None
                    if s.metadata is not None and s.data_class is None:
                        s.plugin_name = s.metadata.plugin_data.plugin_name
            if s.data_class is None:
                kind0 = int(g_kind[0])
                o = n = 0
                if len(extra) and extra[0, 0] == 0:
                    o, n = int(extra[0, 1]), int(extra[0, 2])
                if not self._classify(s, kind0, view, o, n):
                    continue
            if s.data_class == SCALAR:
                odd = extra[g_kind[extra[:, 0]] == _KIND_OTHER] if len(extra) else extra
                if len(odd):
                    g_val = g_val.copy()
                    keep = np.ones(len(g_val), bool)
                    for i, o, n in odd[:, :3].tolist():
                        x = self._scalar_of(view, o, n)
                        if x is None:
                            keep[i] = False
                        else:
                            g_val[i] = x
                    if not keep.all():
                        g_rec, g_step, g_wall, g_val = (g_rec[keep], g_step[keep], g_wall[keep],
                                                        g_val[keep])
                out.append((s, g_rec, g_step, g_wall, g_val, None))
            else:
                # every row of a tensor/blob tag has its Value range in extra (kind != simple)
                ok = np.zeros(len(g_step), bool)
                raws_all: list = [None] * len(g_step)
                for i, o, n in extra[:, :3].tolist():
                    raws_all[i] = bytes(view[o : o + n])
                    ok[i] = True
                if not ok.all():  # plain simple_values in a tensor tag: kept as float32 tensors
                    from tbx.proto.summary_pb2 import Summary

                    for i in np.flatnonzero(~ok).tolist():
                        raws_all[i] = Summary.Value(simple_value=float(g_val[i])) \
                            .SerializeToString()
                out.append((s, g_rec, g_step, g_wall, None, raws_all))
        return out

    @staticmethod
    def _scalar_of(view, off: int, n: int) -> float | None:
        _, summary_pb2 = _pb()
        from tbx.summary.scalar import decode

        try:
            return decode(summary_pb2.Summary.Value.FromString(bytes(view[off : off + n])))
        except Exception:  # noqa: BLE001 - not a number: the point is dropped
            return None

    @staticmethod
    def _classify(s: _Series, kind: int, view, off: int, n: int) -> bool:
        plugin = s.plugin_name
        if kind == _KIND_SIMPLE:
            s.data_class, s.plugin_name = SCALAR, plugin or "scalars"
        elif plugin == "scalars":
            s.data_class = SCALAR
        elif plugin in BLOB_PLUGINS:
            s.data_class = BLOB
        elif kind == _KIND_TENSOR_SCALAR:
            s.data_class = TENSOR
        else:
            _, summary_pb2 = _pb()
            try:
                which = summary_pb2.Summary.Value.FromString(bytes(view[off : off + n])) \
                    .WhichOneof("value")
            except Exception:  # noqa: BLE001
                return False
            if which == "histo":
                s.data_class, s.plugin_name = TENSOR, plugin or "histograms"
            elif which == "image":
                s.data_class, s.plugin_name = BLOB, plugin or "images"
            elif which == "audio":
                s.data_class, s.plugin_name = BLOB, plugin or "audio"
            elif which == "tensor":
                s.data_class = TENSOR
            elif which == "simple_value":
                s.data_class, s.plugin_name = SCALAR, plugin or "scalars"
            elif which is None and plugin:
                s.data_class = TENSOR  # metadata only (tensorboardX's hparams): empty tensors
            else:
                return False
        if s.metadata is None:
            s.metadata = _metadata_for(s.plugin_name)
        return True

    # ------------------------------------------------------------------ queries

    def runs(self) -> list[str]:
        with self._lock:
            return sorted(self._runs)

    def _run(self, run: str) -> _Run:
        try:
            return self._runs[run]
        except KeyError:
            raise KeyError(f"unknown run {run!r}") from None

    def _series(self, run: str, tag: str) -> _Series:
        r = self._run(run)
        try:
            return r.series[tag]
        except KeyError:
            raise KeyError(f"run {run!r} has no tag {tag!r}") from None

    def tags(self, run: str) -> dict[str, TagInfo]:
        with self._lock:
            return {t: s.info() for t, s in self._run(run).series.items()}

    def scalars(self, run: str, tag: str) -> ScalarSeries:
        with self._lock:
            s = self._series(run, tag)
            if s.data_class != SCALAR:
                raise TypeError(f"{run!r}/{tag!r} holds {s.data_class} data, not scalars")
            n = s.n
            return ScalarSeries(_readonly(s.step[:n]), _readonly(s.wall[:n]),
                                _readonly(s.value[:n]))

    def _decoded(self, run: str, tag: str, data_class: str, decode):
        with self._lock:
            s = self._series(run, tag)
            if s.data_class != data_class:
                raise TypeError(f"{run!r}/{tag!r} holds {s.data_class} data, not {data_class}")
            n = s.n
            step, wall = _readonly(s.step[:n]), _readonly(s.wall[:n])
            if len(s.decoded) < n:
                _, summary_pb2 = _pb()
                for raw in s.raws[len(s.decoded) : n]:
                    try:
                        s.decoded.append(decode(summary_pb2.Summary.Value.FromString(raw)))
                    except Exception:  # noqa: BLE001 - undecodable point: kept as None
                        s.decoded.append(None)
            return step, wall, tuple(s.decoded[:n])

    def tensors(self, run: str, tag: str) -> TensorSeries:
        return TensorSeries(*self._decoded(run, tag, TENSOR, _decode_tensor_value))

    def blobs(self, run: str, tag: str) -> BlobSeries:
        return BlobSeries(*self._decoded(run, tag, BLOB, _decode_blob_value))

    def raw_values(self, run: str, tag: str) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
        """``(step, wall_time, serialized Summary.Value per point)`` of a tensor or blob tag."""
        with self._lock:
            s = self._series(run, tag)
            n = s.n
            return _readonly(s.step[:n]), _readonly(s.wall[:n]), list(s.raws[:n])

    def file_ids(self, run: str, tag: str) -> tuple[np.ndarray, list[str]]:
        """Per point, the index of its event file in the run, and the run's file names."""
        with self._lock:
            r = self._run(run)
            s = self._series(run, tag)
            return _readonly(s.file[: s.n]), list(r.file_names)

    def metadata(self, run: str, tag: str):
        _, summary_pb2 = _pb()
        with self._lock:
            s = self._series(run, tag)
            out = summary_pb2.SummaryMetadata()
            if s.metadata is not None:
                out.CopyFrom(s.metadata)
            return out

    def corruptions(self) -> list[Corruption]:
        with self._lock:
            return list(self._corruptions)

    def files(self, run: str) -> list[tuple[str, int, int]]:
        """``(path, size in bytes at the last listing, offset where reading resumes)`` of each
        event file of ``run``, in name order; ``offset < size`` means an incomplete last record
        (a writer still writing, or a cut-off file)."""
        with self._lock:
            return [(f.path, f.size, f.offset) for f in self._run(run).files.values()]
