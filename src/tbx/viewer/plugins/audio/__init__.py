"""Audio: each audio tag's clips per step, with a step slider and labels. Routes:
``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin, PluginError
from tbx.viewer.views import as_str


def audio_points(series) -> list[dict]:
    """Audio (blob ``[encoded, label, ...]``): per step ``{"step", "wall_time", "index",
    "count", "labels"}``."""
    out = []
    for i in range(len(series)):
        v = series.values[i]
        if v is None:
            continue
        out.append({"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
                    "index": i, "count": (len(v) + 1) // 2,
                    "labels": [as_str(v[j]) for j in range(1, len(v), 2)]})
    return out


def _series(ctx, req):
    run = req.run()
    tag, info = req.tag(run)
    if info.data_class != "blob":
        raise PluginError(f"tag {tag!r} of run {run!r} holds {info.data_class} data, not blob")
    return run, tag, ctx.provider.blobs(run, tag, plugin=info.plugin_name)


def points(ctx, req):
    """``points?run&tag``: every step's clip count and labels."""
    run, tag, s = _series(ctx, req)
    return {"run": run, "tag": tag, "total": len(s), "points": audio_points(s)}


def blob(ctx, req):
    """``blob?run&tag&index&item``: the encoded clip (WAV, ...)."""
    index = req.int("index", None, 0, 2**62)
    item = req.int("item", 0, 0, 2**31)
    if index is None:
        raise PluginError("missing query parameter 'index'")
    run, tag, s = _series(ctx, req)
    if index >= len(s):
        raise PluginError(f"index {index} out of range: {run!r}/{tag!r} has {len(s)} points", 404)
    v = s.values[index]
    if v is None or 2 * item >= len(v):
        raise PluginError(f"item {item} out of range at index {index}", 404)
    return req.binary(v[2 * item], cache_seconds=3600)


PLUGIN = Plugin(
    name="audio",
    title="Audio",
    plugin_names=("audio",),
    order=60,
    routes={"points": points, "blob": blob},
    module=Path(__file__).with_name("index.js"),
)
