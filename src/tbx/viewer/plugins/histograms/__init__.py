"""Histograms: each histogram tag's buckets over steps (offset or overlay). Routes:
``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin, tensor_points_route
from tbx.viewer.plugins.histograms.data import histogram_points

points = tensor_points_route(histogram_points,
                             "``points?run&tag&samples``: sampled steps' buckets.")


PLUGIN = Plugin(
    name="histograms",
    title="Histograms",
    plugin_names=("histograms",),
    order=30,
    routes={"points": points},
    module=Path(__file__).with_name("index.js"),
)
