"""PR curves: precision against recall per step, with a step slider. Routes: ``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin, tensor_points_route
from tbx.viewer.plugins.pr_curves.data import pr_curve_points

points = tensor_points_route(pr_curve_points,
                             "``points?run&tag&samples``: sampled steps' curves.")


PLUGIN = Plugin(
    name="pr_curves",
    title="PR curves",
    plugin_names=("pr_curves",),
    order=80,
    routes={"points": points},
    module=Path(__file__).with_name("index.js"),
)
