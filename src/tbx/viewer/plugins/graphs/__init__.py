"""Graphs: a run's model graph (``add_graph``, ``add_onnx_graph``, TensorFlow graphs and
``tf.summary.trace_export`` run metadata), grouped by name scope and collapsed to the top level,
laid out in a web worker; node details and search. Routes: ``http_api.md``.

The front end (``index.js`` and its siblings, importing ``@dagrejs/dagre`` from npm) is bundled by
``web/build-plugins.mjs`` into ``tbx/viewer/static/dist/plugins/graphs/``; without that build
the tab says how to build it.
"""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin
from tbx.viewer.plugins.graphs import routes, sources

#: The bundled front end (``npm run build`` in ``web/``).
BUNDLE = Path(__file__).resolve().parents[2] / "static" / "dist" / "plugins" / "graphs"


def _module() -> Path:
    built = BUNDLE / "index.js"
    return built if built.is_file() else Path(__file__).with_name("not_built.js")


PLUGIN = Plugin(
    name="graphs",
    title="Graphs",
    plugin_names=sources.PLUGIN_NAMES,
    order=95,
    routes={"list": routes.list_route, "graph": routes.graph_route, "node": routes.node_route},
    module=_module(),
)
