"""The viewer's built-in plugins: one folder each (Python, ``index.js``, ``http_api.md``).

A folder ``tbx/viewer/plugins/<name>/`` defines ``PLUGIN = tbx.viewer.plugin.Plugin(...)``; the
line below registers it. Installed packages add plugins through the ``tbx.plugins`` entry-point
group instead (see ``docs/plugins.md``).
"""

#: Module names (``tbx.viewer.plugins.<name>``) of the built-in plugins, one line each.
BUILTIN = [
    "scalars",
    "custom_scalars",
    "histograms",
    "distributions",
    "images",
    "audio",
    "text",
    "pr_curves",
    "hparams",
    "graphs",
    "mesh",
    "projector",
    "runs",
]
