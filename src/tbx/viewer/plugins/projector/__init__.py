"""Projector: the embeddings of every run (``projector_config.pbtxt`` and the files it lists,
as ``add_embedding`` of tbx, tensorboardX and torch write them), projected on the server (PCA
over all points, t-SNE, UMAP, custom directions), searched, and drawn with WebGL. Routes:
``http_api.md``; data code: ``files``, ``columns``, ``project``, ``jobs``, ``store``.

The front end (``index.js``, ``scatter.js``, ``panel.js``, ``points.js``, ``colors.js``,
``style.js``, importing ``three`` from npm) is bundled by ``web/build-plugins.mjs`` into
``tbx/viewer/static/dist/plugins/projector/``; without that build the tab says how to build it.
"""

from __future__ import annotations

from pathlib import Path

from tbx.summary.embedding import PLUGIN_NAME
from tbx.viewer.plugin import Plugin
from tbx.viewer.plugins.projector import routes

#: The bundled front end (``npm run build`` in ``web/``).
BUNDLE = Path(__file__).resolve().parents[2] / "static" / "dist" / "plugins" / "projector"


def _module() -> Path:
    built = BUNDLE / "index.js"
    return built if built.is_file() else Path(__file__).with_name("not_built.js")


PLUGIN = Plugin(
    name="projector",
    title="Projector",
    plugin_names=(PLUGIN_NAME,),
    order=97,
    routes=routes.ROUTES,
    module=_module(),
    list_tags=routes.list_tags,
)
