"""Histograms: each histogram tag's buckets over steps (offset or overlay). Routes:
``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin, PluginError
from tbx.viewer.plugins.histograms.data import histogram_points


def points(ctx, req):
    """``points?run&tag&samples``: sampled steps' buckets."""
    run = req.run()
    tag, info = req.tag(run)
    samples = req.int("samples", 100, 1, 10000)
    if info.data_class != "tensor":
        raise PluginError(f"tag {tag!r} of run {run!r} holds {info.data_class} data, not tensor")
    s = ctx.provider.tensors(run, tag, plugin=info.plugin_name)
    try:
        pts = histogram_points(s, samples)
    except ValueError as e:
        raise PluginError(f"cannot show {run!r}/{tag!r}: {e}", 422) from None
    return {"run": run, "tag": tag, "total": len(s), "points": pts}


PLUGIN = Plugin(
    name="histograms",
    title="Histograms",
    plugin_names=("histograms",),
    order=30,
    routes={"points": points},
    module=Path(__file__).with_name("index.js"),
)
