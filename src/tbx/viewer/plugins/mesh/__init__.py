"""Mesh: point clouds and triangle meshes (``add_mesh``, TensorBoard's mesh summaries, and
tensorboardX's), drawn with three.js, one view per run with linked cameras, a step slider.
Routes: ``http_api.md``.

The front end (``index.js`` and ``scene.js``, importing ``three`` from npm) is bundled by
``web/build-plugins.mjs`` into ``tbx/viewer/static/dist/plugins/mesh/``; without that build the
tab says how to build it.
"""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin
from tbx.viewer.plugins.mesh import frames, routes

#: The bundled front end (``npm run build`` in ``web/``).
BUNDLE = Path(__file__).resolve().parents[2] / "static" / "dist" / "plugins" / "mesh"


def _module() -> Path:
    built = BUNDLE / "index.js"
    return built if built.is_file() else Path(__file__).with_name("not_built.js")


PLUGIN = Plugin(
    name="mesh",
    title="Mesh",
    plugin_names=(frames.PLUGIN_NAME,),
    order=96,
    routes={"list": routes.list_route, "frame": routes.frame_route},
    module=_module(),
)
