"""Distributions: percentile bands of each histogram tag over steps (TensorBoard's
distributions dashboard). Routes: ``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin, tensor_points_route
from tbx.viewer.plugins.distributions.data import distribution_points

points = tensor_points_route(distribution_points,
                             "``points?run&tag&samples``: sampled steps' percentile values.")


PLUGIN = Plugin(
    name="distributions",
    title="Distributions",
    plugin_names=("histograms",),
    order=40,
    routes={"points": points},
    module=Path(__file__).with_name("index.js"),
)
