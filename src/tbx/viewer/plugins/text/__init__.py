"""Text: each text tag's values per step as sanitised HTML (Markdown, tables for 2-D string
tensors), newest first. Routes: ``http_api.md``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tbx.viewer.plugin import Plugin, PluginError
from tbx.viewer.views import as_str, sample_indices


def text_value(a):
    """A text tensor (object array of bytes) as ``str`` (one element) or nested lists of
    ``str``."""
    a = np.asarray(a, dtype=object)
    if a.size == 1:
        return as_str(a.reshape(-1)[0])
    return np.vectorize(as_str, otypes=[object])(a).tolist()


def points(ctx, req):
    """``points?run&tag&samples``: sampled steps' HTML, newest first."""
    from tbx.viewer.plugins.text.render import text_html

    run = req.run()
    tag, info = req.tag(run)
    samples = req.int("samples", 100, 1, 10000)
    if info.data_class != "tensor":
        raise PluginError(f"tag {tag!r} of run {run!r} holds {info.data_class} data, not tensor")
    s = ctx.provider.tensors(run, tag, plugin=info.plugin_name)
    pts = [{"step": int(s.step[i]), "wall_time": float(s.wall_time[i]),
            "html": text_html(text_value(s.values[i]))}
           for i in sample_indices(len(s), samples)[::-1] if s.values[i] is not None]
    return {"run": run, "tag": tag, "total": len(s), "points": pts}


PLUGIN = Plugin(
    name="text",
    title="Text",
    plugin_names=("text",),
    order=70,
    routes={"points": points},
    module=Path(__file__).with_name("index.js"),
)
