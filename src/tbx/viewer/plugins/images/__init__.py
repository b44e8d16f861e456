"""Images: each image tag's images per step, with a step slider; full size on click. Routes:
``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin, PluginError


def image_points(series) -> list[dict]:
    """Images (blob ``[width, height, encoded, ...]``): per step ``{"step", "wall_time",
    "index", "width", "height", "count"}``; ``index`` and ``item < count`` address
    ``blob``."""
    out = []
    for i in range(len(series)):
        v = series.values[i]
        if v is None:
            continue
        try:
            w, h = int(v[0]), int(v[1])
        except (ValueError, IndexError, TypeError):
            w = h = 0
        out.append({"step": int(series.step[i]), "wall_time": float(series.wall_time[i]),
                    "index": i, "width": w, "height": h, "count": max(len(v) - 2, 0)})
    return out


def _series(ctx, req):
    run = req.run()
    tag, info = req.tag(run)
    if info.data_class != "blob":
        raise PluginError(f"tag {tag!r} of run {run!r} holds {info.data_class} data, not blob")
    return run, tag, ctx.provider.blobs(run, tag, plugin=info.plugin_name)


def points(ctx, req):
    """``points?run&tag``: every step's image count and size."""
    run, tag, s = _series(ctx, req)
    return {"run": run, "tag": tag, "total": len(s), "points": image_points(s)}


def blob(ctx, req):
    """``blob?run&tag&index&item``: the encoded image (PNG, JPEG, GIF...)."""
    index = req.int("index", None, 0, 2**62)
    item = req.int("item", 0, 0, 2**31)
    if index is None:
        raise PluginError("missing query parameter 'index'")
    run, tag, s = _series(ctx, req)
    if index >= len(s):
        raise PluginError(f"index {index} out of range: {run!r}/{tag!r} has {len(s)} points", 404)
    v = s.values[index]
    if v is None or 2 + item >= len(v):
        raise PluginError(f"item {item} out of range at index {index}", 404)
    return req.binary(v[2 + item], cache_seconds=3600)


PLUGIN = Plugin(
    name="images",
    title="Images",
    plugin_names=("images",),
    order=50,
    routes={"points": points, "blob": blob},
    module=Path(__file__).with_name("index.js"),
)
