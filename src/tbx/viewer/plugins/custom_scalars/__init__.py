"""Custom scalars: the chart layouts written by ``add_custom_scalars`` (multiline charts of tags
matching regular expressions, margin charts of value/lower/upper tags), drawn with the scalars
plugin's series. Routes: ``http_api.md``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tbx.viewer.plugin import Plugin

PLUGIN_NAME = "custom_scalars"


def layout(ctx, req):
    """``layout``: layouts of every run (the last one each run wrote), decoded by
    :mod:`tbx.summary.custom_scalars`, merged by category title; identical charts once."""
    from tbx.proto.summary_pb2 import Summary
    from tbx.summary import custom_scalars as C
    from tbx.summary.tensor import numpy_to_tensor

    p = ctx.provider
    cats: dict[str, dict] = {}
    for run, tags in ctx.tags((PLUGIN_NAME,)).items():
        for tag, info in tags.items():
            if info.data_class != "tensor":
                continue
            s = p.tensors(run, tag, plugin=info.plugin_name)
            if not len(s) or s.values[-1] is None:
                continue
            try:
                lay = C.decode(Summary.Value(tag=tag, tensor=numpy_to_tensor(
                    np.asarray(s.values[-1], dtype=object))))
            except (ValueError, TypeError):
                continue
            for title, charts in lay.items():
                cat = cats.setdefault(title, {"title": title, "closed": False, "charts": []})
                for name, (kind, spec) in charts.items():
                    if kind == "Multiline":
                        chart = {"title": name, "kind": "multiline", "tags": list(spec)}
                    else:
                        triples = [spec] if spec and isinstance(spec[0], str) else spec
                        chart = {"title": name, "kind": "margin", "series": [
                            {"value": v, "lower": lo, "upper": hi} for v, lo, hi in triples]}
                    if chart not in cat["charts"]:
                        cat["charts"].append(chart)
    return {"categories": list(cats.values())}


def list_tags(ctx):
    """The scalar tags (what the layouts' charts draw)."""
    return ctx.tags(("scalars",))


def is_active(ctx):
    return bool(ctx.tags((PLUGIN_NAME,)))


PLUGIN = Plugin(
    name="custom_scalars",
    title="Custom scalars",
    plugin_names=(PLUGIN_NAME,),
    order=20,
    routes={"layout": layout},
    module=Path(__file__).with_name("index.js"),
    list_tags=list_tags,
    is_active=is_active,
)
