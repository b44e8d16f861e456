"""Confusion matrices for tbx: ``add_confusion_matrix`` writes them, the ``Confusion matrix`` tab
shows each (run, tag) as a heatmap with a step slider, live."""

import json
from pathlib import Path

import numpy as np

from tbx.viewer.plugin import Plugin

PLUGIN_NAME = "confusion_matrix"


def add_confusion_matrix(writer, tag, matrix, labels, step=None):
    """Log ``matrix`` (``[k, k]`` counts: row = true class, column = predicted class) with its
    ``k`` class ``labels`` at ``step``. Raises ValueError for another shape."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape != (len(labels), len(labels)):
        raise ValueError(f"matrix must be [k, k] for k={len(labels)} labels, got {m.shape}")
    content = json.dumps({"labels": [str(x) for x in labels]})
    writer.add_plugin_data(tag, m, PLUGIN_NAME, step, content=content)


def matrices(ctx, req):
    """``matrices?run&tag``: ``{"labels", "steps": [int], "matrices": [[[float]]]}``."""
    run = req.run()
    tag, info = req.tag(run)  # info.plugin_name: a tag may also hold other kinds
    s = ctx.provider.tensors(run, tag, plugin=info.plugin_name)
    labels = json.loads(ctx.provider.metadata(run, tag, plugin=info.plugin_name)
                        .plugin_data.content or b"{}")
    ok = [i for i, v in enumerate(s.values) if v is not None]
    return {"labels": labels.get("labels", []), "steps": [int(s.step[i]) for i in ok],
            "matrices": [np.asarray(s.values[i]).tolist() for i in ok]}


PLUGIN = Plugin(name="confusion_matrix", title="Confusion matrix", plugin_names=(PLUGIN_NAME,),
                order=85, routes={"matrices": matrices},
                module=Path(__file__).with_name("index.js"))
