"""HParams: a table of sessions (runs that logged hyperparameters) with their final metrics,
sortable and filterable. Routes: ``http_api.md``."""

from __future__ import annotations

from pathlib import Path

from tbx.viewer.plugin import Plugin
from tbx.viewer.views import finite_or_none


def sessions(ctx, req):
    """``sessions``: sessions (runs with a ``session_start_info``), decoded by
    :mod:`tbx.summary.hparams`; a session's metrics are the last values of the experiment's
    metric tags in its run."""
    from tbx.proto.summary_pb2 import Summary
    from tbx.summary import hparams as H

    p = ctx.provider
    hp_names: dict[str, None] = {}
    metrics: dict[str, None] = {}
    found = []
    for run, tags in ctx.tags().items():
        start = None
        for tag, info in tags.items():
            try:
                d = H.decode(Summary.Value(tag=tag, metadata=p.metadata(
                    run, tag, plugin=info.plugin_name)))
            except ValueError:
                continue
            if d.kind == "experiment":
                for name in d.data["hparams"]:
                    hp_names.setdefault(name)
                for m in d.data["metrics"]:
                    metrics.setdefault(m)
            elif d.kind == "session_start_info":
                start = d.data
        if start is not None:
            values = {k: (v if not isinstance(v, float) else finite_or_none(v))
                      for k, v in start["hparams"].items()}
            for k in sorted(values):  # a protobuf map has no order
                hp_names.setdefault(k)
            found.append({"run": run, "hparams": values, "group": start["group_name"]})
    for sess in found:
        run = sess["run"]
        tags = p.tags(run, plugin="scalars")
        vals = {}
        for m in metrics:
            i = tags.get(m)
            if i is not None and i.data_class == "scalar" and i.count:
                vals[m] = finite_or_none(p.scalars(run, m, plugin="scalars").value[-1])
        sess["metrics"] = vals
    return {"hparams": list(hp_names), "metrics": list(metrics), "sessions": found}


PLUGIN = Plugin(
    name="hparams",
    title="HParams",
    plugin_names=("hparams",),
    order=90,
    routes={"sessions": sessions},
    module=Path(__file__).with_name("index.js"),
)
