"""Scalars: line charts of scalar series, downsampled on the server for the chart's width,
smoothed (TensorBoard's debiased EMA), zoomable, live; CSV and JSON downloads (streamed).
Routes: ``http_api.md``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from starlette.responses import Response, StreamingResponse

from tbx import seriesmath as M
from tbx.viewer import views as V
from tbx.viewer.plugin import Plugin, PluginError
from tbx.viewer.plugins.scalars import download as D
from tbx.viewer.plugins.scalars import series as S

#: Series per request at most.
MAX_SERIES = 500


def pairs(ctx, req) -> list[tuple[str, str]]:
    """The ``(run, tag)`` pairs of the repeated ``run`` and ``tag`` parameters that exist and
    are scalar series. Errors: 400 without runs or tags or past :data:`MAX_SERIES`; 404 for an
    unknown run or when no pair exists."""
    runs = req.params.getlist("run")
    tags = req.params.getlist("tag")
    if not runs:
        raise PluginError("missing query parameter 'run'")
    if not tags:
        raise PluginError("missing query parameter 'tag'")
    if len(runs) * len(tags) > MAX_SERIES * 20:
        raise PluginError("too many run x tag pairs")
    p = ctx.provider
    known = set(p.runs())
    for r in runs:
        if r not in known:
            raise PluginError(f"unknown run {r!r}", 404)
    out = []
    for r in dict.fromkeys(runs):
        rt = p.tags(r, plugin="scalars")  # a tag may also hold other kinds: its scalars here
        for t in dict.fromkeys(tags):
            i = rt.get(t)
            if i is not None and i.data_class == "scalar":
                out.append((r, t))
    if not out:
        raise PluginError("none of the requested tags is a scalar tag of the requested runs", 404)
    if len(out) > MAX_SERIES:
        raise PluginError(f"{len(out)} series requested, at most {MAX_SERIES} per request")
    return out


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


def series_route(ctx, req):
    """``series``: binary series (:mod:`.series`) of every requested pair."""
    width = req.int("width", 1000, 0, 20000)
    weight = req.float("smoothing", 0.0, 0.0, 1.0, hi_open=True)
    xaxis = req.choice("x", "step", ("step", "relative", "wall_time"))
    xmin = req.float("xmin", None)
    xmax = req.float("xmax", None)
    if xmin is not None and xmax is not None and xmin > xmax:
        raise PluginError("xmin must not exceed xmax")
    out = []
    for run, tag in pairs(ctx, req):
        s = ctx.provider.scalars(run, tag, plugin="scalars")
        total = len(s)
        first_wall = float(s.wall_time[0]) if total else None
        if weight > 0:
            sm, state = smoothed(ctx, run, tag, s, weight)
        else:
            sm, state = None, M.ema(s.value[-1:], 0.0)[1] if total else (0.0, 0)
        if xaxis == "step":
            x = s.step
        elif xaxis == "wall_time":
            x = s.wall_time
        else:
            x = s.wall_time - (first_wall or 0.0)
        sel = M.select(x, xmin, xmax)
        xs, vs = x[sel], s.value[sel]
        idx = np.arange(len(vs)) if width == 0 else M.downsample_indices(xs, vs, width)
        if sm is not None and width and len(idx) < len(vs):
            idx = np.union1d(idx, M.downsample_indices(xs, sm[sel], width))
        cols = [s.step[sel][idx], s.wall_time[sel][idx], vs[idx]]
        names = ["step", "wall_time", "value"]
        if sm is not None:
            cols.append(sm[sel][idx])
            names.append("smoothed")
        desc = {"run": run, "tag": tag, "n": int(len(idx)), "total": total,
                "downsampled": bool(len(idx) < len(vs)), "columns": names,
                "ema": [V.finite_or_none(state[0]) or 0.0, int(state[1])],
                "first_wall_time": first_wall,
                "step_range": [int(s.step.min()), int(s.step.max())] if total else None}
        out.append((desc, cols))
    return Response(S.pack(out), media_type="application/x-tbx-series",
                    headers={"Cache-Control": "no-store"})


def _download(ctx, req, fmt: str):
    pairs_ = pairs(ctx, req)  # errors answered before the stream starts
    snaps = [(run, tag, ctx.provider.scalars(run, tag, plugin="scalars")) for run, tag in pairs_]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", pairs_[0][1])[:80] or "scalars"  # the first tag
    body = D.csv_rows(snaps) if fmt == "csv" else D.json_series(snaps)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store"})


def csv_route(ctx, req):
    """``series.csv``: every point of the requested pairs as CSV, streamed."""
    return _download(ctx, req, "csv")


def json_route(ctx, req):
    """``series.json``: every point of the requested pairs as JSON, streamed."""
    return _download(ctx, req, "json")


PLUGIN = Plugin(
    name="scalars",
    title="Scalars",
    plugin_names=("scalars",),
    order=10,
    routes={"series": series_route, "series.csv": csv_route, "series.json": json_route},
    module=Path(__file__).with_name("index.js"),
)
