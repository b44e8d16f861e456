"""From a scanned block to series: which series each row belongs to, purges, appends.

A row goes to the series ``(tag, plugin)`` where the plugin is, in this order: the plugin named
by the Value's own ``SummaryMetadata``; else the plugin last named for this tag by a Value with
the same payload (writers send metadata once); else the payload's own: ``simple_value`` ->
``scalars``, ``histo`` -> ``histograms``, ``image`` -> ``images``, ``audio`` -> ``audio``,
``tensor`` -> ``""``. One tag can so hold scalars, histograms and images at once, each its own
series. A series' data class is decided by its first point (see :mod:`tbx.reader.provider`).

Purges follow TensorBoard's ``event_accumulator`` (see :mod:`tbx.reader.provider`).
"""

from __future__ import annotations

import numpy as np

from tbx import record
from tbx.reader._run import _Run, _Tag, legacy
from tbx.reader._scan import (
    KIND_OTHER,
    KIND_SIMPLE,
    KIND_TENSOR_SCALAR,
    ROW_DTYPES,
    Rows,
    payload_field,
)
from tbx.reader._series import BLOB_PLUGINS, RUN_GRAPH_TAG, _Series, metadata_for
from tbx.reader._types import BLOB, SCALAR, TENSOR

__all__ = ["ingest", "legacy"]

_F_SIMPLE, _F_TENSOR, _F_NONE = 2, 8, 0
#: Plugin of a payload (field number of ``Summary.Value``) when no metadata names one.
_DEFAULT_PLUGIN = {2: "scalars", 4: "images", 5: "histograms", 6: "audio"}
_META_CACHE = 4096


def _pb():
    from tbx.proto import event_pb2, summary_pb2

    return event_pb2, summary_pb2


def ingest(run: _Run, f, blk, changes, resets: set, report, new_slot, materialize=None) -> None:
    """Add block ``blk`` (a :class:`tbx.reader._scan.Block`) of file ``f`` to ``run``; record
    what changed in ``changes`` (per-series fields) and, in ``resets``, the series whose change
    is not "points dropped from the end, then appended" (to be reported as reset);
    ``report(path, offset, skipped, reason)`` reports damage; ``new_slot(run, tag_id)`` makes
    the ``_Tag`` of a new tag id (``None`` when the tag filter leaves it out);
    ``materialize(run, series list)`` reads evicted series back from their files (needed before
    a purge or an insert changes their points). Call with the reader's lock held.

    The run's files form one stream in name order, and a file may grow after later ones were
    read (several writers in one run): its new points go before the later files' points, its
    purges drop only points earlier in the stream, and purges read from later files drop its
    new points."""
    for off, skipped, reason in blk.corruptions:
        report(f.path, off, skipped, reason)
    if not blk.rows and not len(blk.others):
        return
    while len(run.slots) < len(run.tags_b):
        run.slots.append(new_slot(run, len(run.slots)))
    purges, extra, steps_of_others = _handle_others(run, f, blk, report, new_slot)
    pending = _group(run, blk.rows, blk.vbuf)
    if extra is not None:
        pending += _group(run, extra[0], extra[1])
    tag_purges = {}
    if legacy(run.file_version):
        tag_purges = _legacy_purges(run, pending, steps_of_others)
        run.was_legacy = run.was_legacy or bool(pending)
    name, fi = run.name, f.index
    later = min((st for i, st in run.purges if i > fi), default=None)
    if purges or tag_purges:
        cold = [s for s in run.series.values() if not (s.resident and s.has_wall)]
        if cold and materialize is not None:
            materialize(run, cold)
        for (tag, plugin), s in run.series.items():
            mine = purges + tag_purges.get(id(s), [])
            if not mine:
                continue
            smin = min(st for _, st in mine)
            keep = s.purge(smin, fi)
            if keep is None:
                continue
            key = (name, tag, plugin)
            if (s.steps() >= smin).any():  # later files keep points past the cut
                resets.add(key)
            new = changes.appended_series.get(key, 0)
            old = len(keep) - new
            if new:  # points added by this refresh that survive: still the last ones
                changes.appended_series[key] = int(keep[old:].sum())
            if not keep[:old].all():
                changes.purged_series[key] = min(changes.purged_series.get(key, smin), smin)
    run.purges += [(fi, st) for _, st in purges]
    for s, g_rec, g_step, g_wall, g_val, g_raws in pending:
        mine = purges + tag_purges.get(id(s), [])
        if mine or later is not None:
            keep = np.ones(len(g_rec), bool)
            for o, st in mine:
                keep &= ~((g_rec < o) & (g_step >= st))
            if later is not None:
                keep &= g_step < later
            if not keep.all():
                g_step, g_wall = g_step[keep], g_wall[keep]
                if g_val is not None:
                    g_val = g_val[keep]
                if g_raws is not None:
                    g_raws = [r for r, k in zip(g_raws, keep, strict=True) if k]
        key = (name, s.tag, s.plugin_name)
        pos = s.insert_at(fi)
        if pos == s.n:
            s.append(g_step, g_wall, g_val, fi, g_raws)
        elif len(g_step):
            if not (s.resident and s.has_wall) and materialize is not None:
                materialize(run, [s])
            s.insert(pos, g_step, g_wall, g_val, fi, g_raws)
            resets.add(key)
        if run.add_series(s):
            changes.new_series.append(key)
        if len(g_step):
            changes.appended_series[key] = changes.appended_series.get(key, 0) + len(g_step)
    # noted last: a series read back above must not get this block's points twice
    end = blk.base + blk.end
    for tag in dict.fromkeys(p[0].tag for p in pending):
        run.note_range(tag, f.path, blk.base, end)
    if purges:
        run.note_range(None, f.path, blk.base, end)
    f.done = max(f.done, end)


def _handle_others(run: _Run, f, blk, report, new_slot):
    """Decode the records the scan left to protobuf. Returns ``(purges, extra, steps)``: purges
    as ``[(record ordinal, step)]``, extra Summary rows (as scan rows plus their buffer) or
    ``None``, and ``(ordinal, step)`` of the Events without a Summary."""
    if not len(blk.others):
        return [], None, []
    event_pb2, _ = _pb()
    view = memoryview(blk.buf)
    purges: list[tuple[int, int]] = []
    summaries = []
    steps: list[tuple[int, int]] = []
    for ordinal, off, n in blk.others.tolist():
        try:
            ev = event_pb2.Event.FromString(bytes(view[off : off + n]))
        except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
            report(f.path, blk.base + off - record.HEADER_SIZE,
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
                tag, blob = RUN_GRAPH_TAG, ev.graph_def
            else:
                tag, blob = ev.tagged_run_metadata.tag, ev.tagged_run_metadata.run_metadata
            summaries.append((ordinal, _blob_event(ev, tag, blob, "graphs")))
    extra = _rows_from_events(run, summaries, new_slot) if summaries else None
    return purges, extra, steps


def _legacy_purges(run: _Run, pending, steps_of_others):
    """TensorBoard's rule for runs without ``file_version >= 2``: a Summary Event whose step
    is below the most recent step drops, for its own series only, the earlier points with a
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


def _blob_event(ev, tag: str, blob: bytes, plugin: str):
    event_pb2, summary_pb2 = _pb()
    from tbx.proto.tensor_pb2 import TensorProto

    v = summary_pb2.Summary.Value(tag=tag, tensor=TensorProto(dtype=7, string_val=[blob]))
    v.metadata.CopyFrom(metadata_for(plugin))
    return event_pb2.Event(wall_time=ev.wall_time, step=ev.step,
                           summary=summary_pb2.Summary(value=[v]))


def _rows_from_events(run: _Run, items, new_slot):
    """Scan-like rows (and their buffer) for Events decoded by protobuf."""
    rows = Rows()
    for ordinal, ev in items:
        for v in ev.summary.value:
            key = v.tag.encode("utf-8")
            tid = run.tag_index.get(key)
            if tid is None:
                tid = run.tag_index[key] = len(run.tags_b)
                run.tags_b.append(key)
                run.slots.append(new_slot(run, tid))
            rows.add(tid, ordinal, ev, v, KIND_OTHER, 0.0)
    return rows.result(), bytes(rows.aux)


def _meta_plugin(run: _Run, view, off: int, n: int) -> str:
    raw = bytes(view[off : off + n])
    plugin = run.meta_plugins.get(raw)
    if plugin is None:
        _, summary_pb2 = _pb()
        try:
            plugin = summary_pb2.SummaryMetadata.FromString(raw).plugin_data.plugin_name
        except Exception:  # noqa: BLE001 - undecodable metadata names no plugin
            plugin = ""
        if len(run.meta_plugins) < _META_CACHE:
            run.meta_plugins[raw] = plugin
    return plugin


def _split(run: _Run, tag: _Tag, g_kind, extra, view):
    """The rows of one tag in one block by plugin: ``[(plugin, row mask or None for all,
    extra rows renumbered, payload field of each row)]`` in the order each plugin first
    appears."""
    n = len(g_kind)
    if not len(extra):  # plain simple_values without metadata: the common case
        return [(tag.declared.get(_F_SIMPLE) or "scalars", None, extra, None)]
    xr = extra[:, 0]
    kinds = g_kind[xr]
    fx = np.where(kinds == KIND_SIMPLE, _F_SIMPLE,
                  np.where(kinds == KIND_TENSOR_SCALAR, _F_TENSOR, -1))
    for i in np.flatnonzero(fx < 0).tolist():
        o, ln = int(extra[i, 1]), int(extra[i, 2])
        fx[i] = payload_field(view, o, o + ln)
    field = np.full(n, _F_SIMPLE, np.int64)
    field[xr] = fx
    names: list[str] = []

    def code_of(p: str) -> int:
        if p not in names:
            names.append(p)
        return names.index(p)

    named_rows, named_codes = [], []  # rows whose metadata names a plugin, in row order
    for i in np.flatnonzero(extra[:, 4] >= 0).tolist():
        p = _meta_plugin(run, view, int(extra[i, 3]), int(extra[i, 4]))
        if p:
            named_rows.append(int(xr[i]))
            named_codes.append(code_of(p))
    named_rows = np.asarray(named_rows, np.int64)
    named_codes = np.asarray(named_codes, np.int64)
    code = np.empty(n, np.int64)
    for fnum in np.unique(field).tolist():
        idx = np.flatnonzero(field == fnum)
        cur = code_of(tag.declared.get(fnum) or _DEFAULT_PLUGIN.get(fnum, ""))
        mine = field[named_rows] == fnum
        if not mine.any():
            code[idx] = cur
            continue
        marks, mcodes = named_rows[mine], named_codes[mine]
        k = np.searchsorted(marks, idx, side="right") - 1
        code[idx] = np.where(k >= 0, mcodes[np.maximum(k, 0)], cur)
        tag.declared[fnum] = names[int(mcodes[-1])]
    if len(names) == 1 or (code == code[0]).all():
        return [(names[int(code[0])], None, extra, field)]
    out = []
    firsts = sorted((int(np.argmax(code == c)), c) for c in np.unique(code).tolist())
    for _, c in firsts:
        sel = code == c
        renum = np.cumsum(sel) - 1
        ex = extra[sel[xr]].copy()
        ex[:, 0] = renum[ex[:, 0]]
        out.append((names[c], sel, ex, field[sel]))
    return out


def _group(run: _Run, rows, vbuf):
    """Rows of one block (``tag id -> columns``) for the kept tags: ``[(series, rec, step,
    wall, value|None, raws|None)]``."""
    out = []
    view = memoryview(vbuf)
    for t in sorted(rows):
        tag = run.slots[t]
        if tag is None:
            continue
        cols = rows[t]
        g_rec, g_step, g_wall, g_val, g_kind = (
            np.frombuffer(b, dt) for b, dt in zip(cols[:5], ROW_DTYPES, strict=True))
        extra = np.frombuffer(cols[5], np.int64).reshape(-1, 5)
        for plugin, sel, ex, field in _split(run, tag, g_kind, extra, view):
            s = tag.by_plugin.get(plugin)
            if s is None:
                s = tag.by_plugin[plugin] = run.new_series(tag.name, plugin)
            if sel is None:
                cols_s = (g_rec, g_step, g_wall, g_val, g_kind)
            else:
                cols_s = (g_rec[sel], g_step[sel], g_wall[sel], g_val[sel], g_kind[sel])
            got = _series_rows(s, *cols_s, ex, _F_SIMPLE if field is None else int(field[0]),
                               view)
            if got is not None:
                out.append(got)
    return out


def _series_rows(s: _Series, g_rec, g_step, g_wall, g_val, g_kind, extra, field0: int, view):
    """``(series, rec, step, wall, value|None, raws|None)`` for the rows of one series, or
    ``None`` when its first point cannot be classified (the rows are dropped)."""
    if s.metadata is None:
        has = np.flatnonzero(extra[:, 4] >= 0)
        if len(has):
            o, n = extra[has[0], 3:5].tolist()
            _, summary_pb2 = _pb()
            try:
                s.metadata = summary_pb2.SummaryMetadata.FromString(bytes(view[o : o + n]))
            except Exception:  # noqa: BLE001
                s.metadata = None
    if s.data_class is None and not _classify(s, field0):
        return None
    if s.data_class == SCALAR:
        odd = extra[g_kind[extra[:, 0]] == KIND_OTHER] if len(extra) else extra
        if len(odd):
            g_val = g_val.copy()
            keep = np.ones(len(g_val), bool)
            for i, o, n in odd[:, :3].tolist():
                x = _scalar_of(view, o, n)
                if x is None:
                    keep[i] = False
                else:
                    g_val[i] = x
            if not keep.all():
                g_rec, g_step, g_wall, g_val = g_rec[keep], g_step[keep], g_wall[keep], g_val[keep]
        return s, g_rec, g_step, g_wall, g_val, None
    # every row of a tensor/blob series has its Value range in extra (kind != simple)
    ok = np.zeros(len(g_step), bool)
    raws_all: list = [None] * len(g_step)
    for i, o, n in extra[:, :3].tolist():
        raws_all[i] = bytes(view[o : o + n])
        ok[i] = True
    if not ok.all():  # plain simple_values in a tensor series: kept as float32 tensors
        _, summary_pb2 = _pb()
        for i in np.flatnonzero(~ok).tolist():
            raws_all[i] = summary_pb2.Summary.Value(simple_value=float(g_val[i])) \
                .SerializeToString()
    return s, g_rec, g_step, g_wall, None, raws_all


def _scalar_of(view, off: int, n: int) -> float | None:
    _, summary_pb2 = _pb()
    from tbx.summary.scalar import decode

    try:
        return decode(summary_pb2.Summary.Value.FromString(bytes(view[off : off + n])))
    except Exception:  # noqa: BLE001 - not a number: the point is dropped
        return None


def _classify(s: _Series, field: int) -> bool:
    """Set the data class of a new series from its plugin and first point's payload field."""
    plugin = s.plugin_name
    if field == _F_SIMPLE or plugin == "scalars":
        s.data_class = SCALAR
    elif plugin in BLOB_PLUGINS or field in (4, 6):
        s.data_class = BLOB
    elif field in (5, _F_TENSOR) or (field == _F_NONE and plugin):
        s.data_class = TENSOR  # field 0: metadata only (tensorboardX's hparams): empty tensors
    else:
        return False
    if s.metadata is None:
        s.metadata = metadata_for(plugin)
    return True
