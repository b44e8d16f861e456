"""Runs: a table of every run with its hyperparameters and the last, minimum and maximum of
chosen scalar metrics; sort, regex filter, select, pin, hide. The selection made here drives
every other dashboard (through the page API). Routes: ``http_api.md``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tbx.viewer.plugin import Plugin, PluginError

#: Metrics summarised at most per request.
MAX_METRICS = 50
#: Metrics shown by default when the runs name none (hparams experiments) of their own.
DEFAULT_METRICS = 3


def scalar_tags(ctx, runs) -> list[str]:
    """Every scalar tag of ``runs``, the most common first (then first seen)."""
    seen: Counter = Counter()
    for run in runs:
        try:
            tags = ctx.runinfo.tags(run, "scalars")
        except KeyError:  # vanished meanwhile
            continue
        seen.update(t for t, i in tags.items() if i.data_class == "scalar")
    return [t for t, _ in seen.most_common()]


def table(ctx, req):
    """``table``: every run, its hparams, and the stats of the ``metric`` tags (columnar)."""
    runs = ctx.provider.runs()
    all_tags = scalar_tags(ctx, runs)
    metrics = list(dict.fromkeys(req.params.getlist("metric")))
    if len(metrics) > MAX_METRICS:
        raise PluginError(f"{len(metrics)} metrics requested, at most {MAX_METRICS}")
    if not metrics and req.one("metrics", required=False) != "none":
        named = [m for m in ctx.runinfo.metric_tags(runs) if m in all_tags]
        metrics = named or all_tags[:DEFAULT_METRICS]
    hp_names: dict[str, None] = {}
    hps = []
    for run in runs:
        try:
            hp = ctx.runinfo.hparams(run)
        except KeyError:
            hp = {}
        hps.append(hp)
        for k in hp:
            hp_names.setdefault(k)
    stats = {}
    for m in metrics:
        cols = {"last": [], "min": [], "max": [], "step": []}
        for run in runs:
            try:
                st = ctx.runinfo.stats(run, m)
            except KeyError:
                st = None
            cols["last"].append(None if st is None else st.last)
            cols["min"].append(None if st is None else st.min)
            cols["max"].append(None if st is None else st.max)
            cols["step"].append(None if st is None else st.last_step)
        stats[m] = cols
    return {
        "runs": runs,
        "hparams": list(hp_names),
        "hparam_values": {k: [hp.get(k) for hp in hps] for k in hp_names},
        "metrics": metrics,
        "stats": stats,
        "scalar_tags": all_tags,
    }


PLUGIN = Plugin(
    name="runs",
    title="Runs",
    plugin_names=(),
    order=15,
    routes={"table": table},
    module=Path(__file__).with_name("index.js"),
    list_tags=lambda ctx: {},
    is_active=lambda ctx: bool(ctx.provider.runs()),
)
