"""Scalars: line charts of scalar series, downsampled on the server for the chart's width,
smoothed (TensorBoard's debiased EMA), zoomable, live; CSV and JSON downloads (streamed). A
chart of many runs asks
by selection (``runset``), gets at most ``limit`` series (ranked by last/min/max value) and a
notice saying so; runs can be grouped into one line with a band per group. Routes:
``http_api.md``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from starlette.responses import Response, StreamingResponse

from tbx import seriesmath as M
from tbx.viewer import views as V
from tbx.viewer.plugin import Plugin, PluginError
from tbx.viewer.plugins.scalars import download as D
from tbx.viewer.plugins.scalars import groups as G
from tbx.viewer.plugins.scalars import limit as L
from tbx.viewer.plugins.scalars import series as S
from tbx.viewer.runinfo import STAT_KEYS

#: Series (or groups) one chart gets by default, and the largest ``limit`` accepted.
LIMIT = 500
MAX_LIMIT = 5000
#: About the most points one response holds: past it, each series gets fewer pixel columns.
POINTS_BUDGET = 400_000
#: Fewest pixel columns a series is downsampled to.
MIN_WIDTH = 16
#: Header of a ``series`` answer holding what was shown of what was asked (JSON).
INFO_HEADER = "X-Tbx-Series"


def _tags(req) -> list[str]:
    tags = list(dict.fromkeys(req.params.getlist("tag")))
    if not tags:
        raise PluginError("missing query parameter 'tag'")
    if len(tags) > 1000:
        raise PluginError(f"{len(tags)} tags requested, at most 1000")
    return tags


def pairs(ctx, req) -> tuple[object, list[tuple[str, str]]]:
    """The selection (:meth:`PluginRequest.selection`) and its ``(run, tag)`` pairs that
    exist and are scalar series, in run then tag order. Errors: 400 without a selection or
    tags; 404 for an unknown run or run set, or when no pair exists."""
    sel = req.selection()
    tags = _tags(req)
    out = []
    for r in sel.runs:
        try:
            rt = ctx.runinfo.tags(r, "scalars")  # a tag may also hold other kinds: its scalars
        except KeyError:  # vanished meanwhile
            continue
        for t in tags:
            i = rt.get(t)
            if i is not None and i.data_class == "scalar":
                out.append((r, t))
    if not out:
        raise PluginError("none of the requested tags is a scalar tag of the requested runs", 404)
    return sel, out


def smoothed(ctx, run: str, tag: str, s, weight: float):
    """Smoothed values of a scalar series, cached per weight in the plugin's cache until the
    series changes (the reader's snapshots are views of one buffer: same address and length,
    same change counter = same data)."""
    key = (run, tag, weight)
    ident = (ctx.version(run, tag, "scalars"), s.value.__array_interface__["data"][0],
             len(s.value))
    hit = ctx.cache.get(key)
    if hit is not None and hit[0] == ident:
        return hit[1], hit[2]
    sm, state = M.ema(s.value, weight)
    if len(ctx.cache) >= 256:  # ~200 MB at most for 100k-point series
        ctx.cache.clear()
    ctx.cache[key] = (ident, sm, state)
    return sm, state


def _options(req) -> dict:
    o = {
        "width": req.int("width", 1000, 0, 20000),
        "weight": req.float("smoothing", 0.0, 0.0, 1.0, hi_open=True),
        "xaxis": req.choice("x", "step", ("step", "relative", "wall_time")),
        "xmin": req.float("xmin", None),
        "xmax": req.float("xmax", None),
        "limit": req.int("limit", LIMIT, 1, MAX_LIMIT),
        "rank": req.choice("rank", "last", STAT_KEYS),
        "order": req.choice("order", "asc", L.ORDERS),
    }
    if o["xmin"] is not None and o["xmax"] is not None and o["xmin"] > o["xmax"]:
        raise PluginError("xmin must not exceed xmax")
    return o


def _x(s, xaxis: str):
    if xaxis == "step":
        return s.step
    if xaxis == "wall_time":
        return s.wall_time
    return s.wall_time - (float(s.wall_time[0]) if len(s) else 0.0)


def _stat(ctx, run, tag, key):
    st = ctx.runinfo.stats(run, tag, "scalars")
    return None if st is None else getattr(st, key)


def _limited(ctx, sel, prs, o):
    """The pairs to show and the answer's info (what was left out, and why; when some were,
    ``ranked_step``: the largest last step of the selected series the ranking saw)."""
    limited = len(prs) > o["limit"]
    stats = [ctx.runinfo.stats(r, t, "scalars") for r, t in prs] if limited else []
    keep = L.rank(prs, [None if st is None else getattr(st, o["rank"]) for st in stats],
                  o["limit"], o["order"], [i for i, (r, _) in enumerate(prs) if r in sel.pinned])
    shown = [prs[i] for i in keep]
    unit = "runs" if len({t for _, t in prs}) == 1 else "series"
    pinned = sum(r in sel.pinned for r, _ in shown) if len(shown) < len(prs) else 0
    steps = [st.last_step for st in stats if st is not None and st.last_step is not None]
    info = {"selected": len(prs), "shown": len(shown), "unit": unit, "limit": o["limit"],
            "rank": o["rank"], "order": o["order"], "pinned": pinned,
            "ranked_step": max(steps) if steps else None,
            "notice": L.notice(len(shown), len(prs), unit, o["rank"], o["order"], pinned)}
    return shown, info


#: Answers of more values than this (8 bytes each) are sent in pieces, not built whole.
STREAM_VALUES = 1 << 20


def _respond(out, info) -> Response:
    headers = {"Cache-Control": "no-store",
               INFO_HEADER: json.dumps(V.json_safe(info), separators=(",", ":"),
                                       ensure_ascii=True)}
    if S.packed_values(out) > STREAM_VALUES:
        return StreamingResponse(S.iter_pack(out), media_type="application/x-tbx-series",
                                 headers=headers)
    return Response(S.pack(out), media_type="application/x-tbx-series", headers=headers)


def series_route(ctx, req):
    """``series``: binary series (:mod:`.series`) of the selected runs' tags, at most
    ``limit`` of them (or, with ``group``, one line and band per group)."""
    o = _options(req)
    sel, prs = pairs(ctx, req)
    group = req.choice("group", "none", ("none", "regex", "hparam"))
    if group != "none":
        return _grouped(ctx, req, sel, prs, o, group)
    if req.one("since", required=False):
        raise PluginError("since applies to grouped charts only (group=regex or group=hparam): "
                          "without group, ask for xmin instead")
    shown, info = _limited(ctx, sel, prs, o)
    width = o["width"]
    if width and len(shown):  # many series: fewer columns each, about the same total points
        width = min(width, max(MIN_WIDTH, POINTS_BUDGET // (4 * len(shown))))
    info["width"] = width
    out = []
    weight = o["weight"]
    for run, tag in shown:
        s = ctx.provider.scalars(run, tag, plugin="scalars")
        total = len(s)
        first_wall = float(s.wall_time[0]) if total else None
        if weight > 0:
            sm, state = smoothed(ctx, run, tag, s, weight)
        else:
            sm, state = None, M.ema(s.value[-1:], 0.0)[1] if total else (0.0, 0)
        x = _x(s, o["xaxis"])
        sel_ = M.select(x, o["xmin"], o["xmax"])
        xs, vs = x[sel_], s.value[sel_]
        idx = np.arange(len(vs)) if width == 0 else M.downsample_indices(xs, vs, width)
        if sm is not None and width and len(idx) < len(vs):
            idx = np.union1d(idx, M.downsample_indices(xs, sm[sel_], width))
        if len(idx) == len(vs):  # every point: views, not copies (a whole 10M-point series)
            cols = [s.step[sel_], s.wall_time[sel_], vs]
        else:
            cols = [s.step[sel_][idx], s.wall_time[sel_][idx], vs[idx]]
        names = ["step", "wall_time", "value"]
        if sm is not None:
            cols.append(sm[sel_] if len(idx) == len(vs) else sm[sel_][idx])
            names.append("smoothed")
        desc = {"run": run, "tag": tag, "n": int(len(idx)), "total": total,
                "downsampled": bool(len(idx) < len(vs)), "columns": names,
                "ema": [V.finite_or_none(state[0]) or 0.0, int(state[1])],
                "first_wall_time": first_wall,
                "step_range": [int(s.step.min()), int(s.step.max())] if total else None,
                "pinned": run in sel.pinned}
        out.append((desc, cols))
    return _respond(out, info)


def _grouped(ctx, req, sel, prs, o, group):
    """One line and band per group (and, for the groups named by ``expand``, their members
    on the same x values), per tag; at most ``limit`` groups and ``limit`` members. With
    ``since`` (a live append): only the rows from :func:`groups.since_start` on, of every
    group (no ranking, no downsampling, no smoothing), each descriptor saying where they
    start (``from``)."""
    key = req.one("group_by", required=False) or ""
    agg = req.choice("agg", "mean", ("mean", "median"))
    band = req.choice("band", "minmax", ("minmax", "std", "none"))
    expand = set(req.params.getlist("expand"))
    since = req.float("since", None)
    if since is not None and (o["weight"] > 0 or o["xmin"] is not None
                              or o["xmax"] is not None):
        raise PluginError("since cannot be combined with smoothing, xmin or xmax (a live "
                          "append is of raw rows: smooth them on the client)")
    runs_of: dict[str, list[str]] = {}
    for r, t in prs:
        runs_of.setdefault(t, []).append(r)

    def hparams_of(run):
        try:
            return ctx.runinfo.hparams(run)
        except KeyError:
            return {}

    out = []
    info = {"unit": "groups", "limit": o["limit"], "rank": o["rank"], "order": o["order"],
            "group": group, "group_by": key, "agg": agg, "band": band, "groups": [],
            "selected": 0, "shown": 0, "members_selected": 0, "members_shown": 0,
            "since": since}
    width = o["width"]
    for tag, runs in runs_of.items():
        try:
            assigned = G.assign(runs, group, key, hparams_of)
        except ValueError as exc:
            raise PluginError(str(exc)) from None
        members = {}
        for r in runs:
            s = ctx.provider.scalars(r, tag, plugin="scalars")
            members[r] = G.prepare(_x(s, o["xaxis"]), s.value)
        start = None
        if since is None:
            g = G.grid([x for x, _ in members.values()])
            g = g[M.select(g, o["xmin"], o["xmax"])]
        else:
            start = G.since_start(members.values(), since)
            g = np.empty(0) if start is None else \
                G.grid([x for x, _ in members.values()], start=start)
        lines = {}
        for label, rs in assigned.items():
            line, lo, hi, count = G.aggregate([members[r] for r in rs], g, agg, band)
            if o["weight"] > 0:
                line, lo, hi = (M.ema(a, o["weight"])[0] for a in (line, lo, hi))
            lines[label] = (line, lo, hi, count)
        labels = list(lines)
        if since is None:
            stat = [_last_min_max(lines[lb][0], o["rank"]) for lb in labels]
            keep = [labels[i] for i in L.rank(labels, stat, o["limit"], o["order"])]
        else:
            keep = labels
        info["selected"] += len(labels)
        info["shown"] += len(keep)
        if since is None and width and len(g) > 4 * width:
            idx = np.unique(np.concatenate(
                [M.downsample_indices(g, lines[lb][0], width) for lb in keep]))
        else:
            idx = np.arange(len(g))
        xs = g[idx]
        for label in keep:
            line, lo, hi, count = lines[label]
            out.append(({"kind": "group", "group": label, "run": None, "tag": tag,
                         "members": len(assigned[label]), "n": int(len(idx)),
                         "total": int(len(g)), "downsampled": bool(len(idx) < len(g)),
                         "from": start, "columns": ["x", "value", "lo", "hi", "count"]},
                        [xs, line[idx], lo[idx], hi[idx], count[idx]]))
            info["groups"].append({"group": label, "tag": tag,
                                   "members": len(assigned[label])})
        wanted = [(lb, r) for lb in keep if lb in expand for r in assigned[lb]]
        info["members_selected"] += len(wanted)
        if wanted:
            ranks = [_stat(ctx, r, tag, o["rank"]) for _, r in wanted] \
                if len(wanted) > o["limit"] else []
            for i in L.rank(wanted, ranks, o["limit"], o["order"]):
                label, r = wanted[i]
                x, y = members[r]
                v = G.on_grid(x, y, xs)
                if o["weight"] > 0:
                    v = M.ema(v, o["weight"])[0]
                out.append(({"kind": "member", "group": label, "run": r, "tag": tag,
                             "n": int(len(idx)), "from": start, "columns": ["x", "value"]},
                            [xs, v]))
                info["members_shown"] += 1
    info["notice"] = L.notice(info["shown"], info["selected"], "groups", o["rank"], o["order"])
    if info["members_shown"] < info["members_selected"]:
        info["notice"] = "; ".join(filter(None, [info["notice"], L.notice(
            info["members_shown"], info["members_selected"], "members", o["rank"],
            o["order"])]))
    return _respond(out, info)


def rank_route(ctx, req):
    """``rank``: which series ``series`` would send now (the same selection, ``tag``,
    ``limit``, ``rank`` and ``order``), without their points: ``{"shown": [[run, tag]],
    "selected", "shown_count", "ranked_step", "notice"}``. A live chart showing only some
    series asks this now and then, and loads again only when the answer differs."""
    o = _options(req)
    sel, prs = pairs(ctx, req)
    shown, info = _limited(ctx, sel, prs, o)
    return {"shown": [list(p) for p in shown], "selected": info["selected"],
            "shown_count": info["shown"], "ranked_step": info["ranked_step"],
            "notice": info["notice"]}


def _last_min_max(a: np.ndarray, key: str):
    f = a[np.isfinite(a)]
    if not f.size:
        return None
    return float(f[-1] if key == "last" else f.min() if key == "min" else f.max())


def _download(ctx, req, fmt: str):
    pairs_ = pairs(ctx, req)[1]  # errors answered before the stream starts
    snaps = [(run, tag, ctx.provider.scalars(run, tag, plugin="scalars")) for run, tag in pairs_]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", pairs_[0][1])[:80] or "scalars"  # the first tag
    body = D.csv_rows(snaps) if fmt == "csv" else D.json_series(snaps)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store"})


def csv_route(ctx, req):
    """``series.csv``: every point of the selected runs' tags as CSV, streamed (no limit)."""
    return _download(ctx, req, "csv")


def json_route(ctx, req):
    """``series.json``: every point of the selected runs' tags as JSON, streamed (no limit)."""
    return _download(ctx, req, "json")


PLUGIN = Plugin(
    name="scalars",
    title="Scalars",
    plugin_names=("scalars",),
    order=10,
    routes={"series": series_route, "rank": rank_route, "series.csv": csv_route,
            "series.json": json_route},
    module=Path(__file__).with_name("index.js"),
)
