"""The Graphs plugin's data routes (documented in ``http_api.md``). Each graph is parsed once
per change of its bytes and kept, with its JSON, in the plugin's cache."""

from __future__ import annotations

import json
import threading

from tbx.viewer.plugin import PluginError
from tbx.viewer.plugins.graphs import sources
from tbx.viewer.plugins.graphs.hierarchy import graph_model

#: Parsed graphs kept per plugin (the most recently used).
CACHE_GRAPHS = 4
_lock = threading.Lock()


def list_route(ctx, req) -> dict:
    """``{"runs": {run: [graph entry]}}`` (:func:`sources.list_graphs`) of every run that has a
    graph."""
    out = {}
    for run in ctx.provider.runs():
        try:
            entries = sources.list_graphs(ctx.provider, run)
        except KeyError:  # the run vanished meanwhile
            continue
        if entries:
            out[run] = entries
    return {"runs": out}


def _devices_key(provider, run: str) -> tuple:
    return tuple((tag, info.count, info.last_wall_time) for tag, info in provider.tags(run).items()
                 if info.plugin_name in sources.PLUGIN_NAMES and tag != sources.RUN_GRAPH_TAG)


class _Entry:
    __slots__ = ("raw", "devices", "graph", "model", "body", "lookup", "users")


def _entry(ctx, req) -> _Entry:
    run = req.run()
    tag = req.one("tag")
    index = req.int("index", 0, 0, 2**31 - 1)
    try:
        raw, kind = sources.graph_blob(ctx.provider, run, tag, index)
        dkey = _devices_key(ctx.provider, run)
    except (KeyError, IndexError) as exc:
        raise PluginError(str(exc.args[0] if exc.args else exc), 404) from None
    key = ("graph", run, tag, index)
    with _lock:
        hit = ctx.cache.get(key)
        if hit is not None and hit.devices == dkey and (hit.raw is raw or hit.raw == raw):
            ctx.cache[key] = ctx.cache.pop(key)  # most recently used last
            return hit
        try:
            graph = sources.parse_graph(raw, kind, sources.step_devices(ctx.provider, run))
        except ValueError as exc:
            raise PluginError(f"graph {tag!r} of run {run!r}: {exc}", 422) from None
        e = _Entry()
        e.raw, e.devices, e.graph = raw, dkey, graph
        e.model = graph_model(graph)
        e.body = json.dumps(e.model, separators=(",", ":")).encode("utf-8")
        e.lookup = e.users = None
        ctx.cache[key] = e
        graphs = [k for k in ctx.cache if isinstance(k, tuple) and k[0] == "graph"]
        for old in graphs[:-CACHE_GRAPHS]:
            del ctx.cache[old]
        return e


def graph_route(ctx, req):
    """The compact model (:func:`hierarchy.graph_model`) of graph ``tag``/``index`` of ``run``."""
    return req.binary(_entry(ctx, req).body, "application/json")


def node_route(ctx, req) -> dict:
    """Details (:func:`sources.node_details`) of node ``node`` (its index) of a graph."""
    e = _entry(ctx, req)
    i = req.int("node", None, 0, len(e.model["nodes"]["name"]) - 1)
    if i is None:
        raise PluginError("missing query parameter 'node'")
    with _lock:
        if e.lookup is None:
            e.lookup = {}
            for j, name in enumerate(e.model["nodes"]["name"]):
                e.lookup.setdefault(name, j)
            e.users = sources.consumers(e.model)
    return sources.node_details(e.graph, e.model, i, e.lookup, e.users)
