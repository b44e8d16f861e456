"""Where a run's graphs come from, as TensorBoard's graphs plugin reads them, and the details of
one node. Pure functions over the reader's provider.

Graph sources of a run (each point of each is one graph the page can pick):

* tag ``__run_graph__`` (plugin ``graphs``): an ``Event.graph_def`` (``add_graph``,
  ``add_onnx_graph``, TensorFlow's ``FileWriter.add_graph``): a serialized ``GraphDef``;
* tags of plugins ``graph_run_metadata`` and ``graph_run_metadata_graph`` (TensorFlow's
  ``tf.summary.trace_export``): a serialized ``RunMetadata`` whose ``function_graphs``' pre-
  optimisation graphs are the graph (several are merged, each under a scope ``graph_<i>``, as
  TensorBoard merges them);
* other tags of plugin ``graphs`` (an ``Event.tagged_run_metadata``, kept by the reader under its
  tag) and of plugin ``graph_tagged_run_metadata``: a ``RunMetadata``; a graph only when it holds
  function or partition graphs. Its step stats name the device of each node they list, which
  fills in the device of nodes of the run's graphs that name none.

* tags of plugin ``graph_keras_model`` (Keras' TensorBoard callback, ``tbx.integrations.keras``):
  a model configuration (JSON), shown as its conceptual graph of layers
  (:func:`tbx.viewer.plugins.graphs.keras.keras_graph`).
"""

from __future__ import annotations

import numpy as np

from tbx.proto.graph_pb2 import GraphDef, RunMetadata

__all__ = ["RUN_GRAPH_TAG", "PLUGIN_NAMES", "list_graphs", "graph_blob", "step_devices",
           "parse_graph", "load_graph", "node_details",
           "consumers", "attr_text", "merge_graph_defs"]

RUN_GRAPH_TAG = "__run_graph__"
KERAS_PLUGIN = "graph_keras_model"
PLUGIN_NAMES = ("graphs", "graph_run_metadata", "graph_run_metadata_graph",
                "graph_tagged_run_metadata", KERAS_PLUGIN)
_OP_GRAPH_PLUGINS = ("graph_run_metadata", "graph_run_metadata_graph")
#: Longest attribute text sent to the page (longer ones are cut, with "…").
MAX_ATTR_TEXT = 500


def _blob(value) -> bytes:
    flat = np.asarray(value, dtype=object).ravel()
    if not flat.size:
        return b""
    item = flat[0]
    return item if isinstance(item, bytes) else bytes(item)


def _graph_tags(provider, run: str) -> list[tuple[str, str]]:
    return [(tag, info.plugin_name) for tag, info in provider.tags(run).items()
            if info.plugin_name in PLUGIN_NAMES and info.count]


def _run_metadata(raw: bytes) -> RunMetadata | None:
    try:
        return RunMetadata.FromString(raw)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError: not a RunMetadata
        return None


def _metadata_graphs(meta: RunMetadata) -> list:
    graphs = [fg.pre_optimization_graph for fg in meta.function_graphs
              if fg.HasField("pre_optimization_graph")]
    return graphs or list(meta.partition_graphs)


def _kind(tag: str, plugin: str) -> str:
    if tag == RUN_GRAPH_TAG and plugin == "graphs":
        return "graph_def"
    return "keras" if plugin == KERAS_PLUGIN else "run_metadata"


def list_graphs(provider, run: str) -> list[dict]:
    """The graphs of ``run``: ``[{"tag", "index" (point of the tag), "step", "wall_time",
    "kind" ("graph_def", "run_metadata" or "keras"), "label"}]``, the run's own graph first.

    Raises:
        KeyError: unknown run.
    """
    out = []
    for tag, plugin in _graph_tags(provider, run):
        series = provider.tensors(run, tag)
        kind = _kind(tag, plugin)
        for i in range(len(series)):
            if kind == "run_metadata" and plugin not in _OP_GRAPH_PLUGINS:
                meta = _run_metadata(_blob(series.values[i]))
                if meta is None or not _metadata_graphs(meta):
                    continue  # profile data only
            step = int(series.step[i])
            name = {"graph_def": "graph", "keras": f"{tag} (Keras model)"}.get(kind, tag)
            out.append({"tag": tag, "index": i, "step": step,
                        "wall_time": float(series.wall_time[i]), "kind": kind,
                        "label": name if len(series) == 1 else f"{name} (step {step})"})
    out.sort(key=lambda e: (e["kind"] != "graph_def", e["kind"] == "keras", e["tag"],
                            e["index"]))
    return out


def merge_graph_defs(graphs: list) -> GraphDef:
    """One GraphDef of several: a single one is returned as is; otherwise the nodes of graph
    ``i`` (from 1) are renamed ``graph_<i>/<name>`` and their inputs likewise, so that equal
    names in different graphs stay different nodes (TensorBoard's rule)."""
    if len(graphs) == 1:
        return graphs[0]
    out = GraphDef()
    for i, g in enumerate(graphs, start=1):
        if g.versions.producer and not out.versions.producer:
            out.versions.CopyFrom(g.versions)
        for node in g.node:
            new = out.node.add()
            new.CopyFrom(node)
            new.name = f"graph_{i}/{node.name}"
            new.input[:] = [f"^graph_{i}/{x[1:]}" if x.startswith("^") else f"graph_{i}/{x}"
                            for x in node.input]
    return out


def graph_blob(provider, run: str, tag: str, index: int = 0) -> tuple[bytes, str]:
    """``(raw bytes, kind)`` of point ``index`` of graph tag ``tag`` of ``run``; ``kind`` is
    ``"graph_def"``, ``"run_metadata"`` or ``"keras"`` (see :func:`list_graphs`).

    Raises:
        KeyError: unknown run, or ``tag`` is not a graph tag of the run.
        IndexError: ``index`` outside the tag's points.
    """
    plugins = dict(_graph_tags(provider, run))
    if tag not in plugins:
        raise KeyError(f"run {run!r} has no graph tag {tag!r}")
    series = provider.tensors(run, tag)
    if not 0 <= index < len(series):
        raise IndexError(f"index must be in [0, {len(series)}) for tag {tag!r}, got {index}")
    return _blob(series.values[index]), _kind(tag, plugins[tag])


def step_devices(provider, run: str) -> dict[str, str]:
    """``node name -> device`` from the step stats of every RunMetadata of ``run`` that is not
    an op graph (the first device naming a node wins)."""
    devices: dict[str, str] = {}
    for tag, plugin in _graph_tags(provider, run):
        if tag == RUN_GRAPH_TAG or plugin in _OP_GRAPH_PLUGINS or plugin == KERAS_PLUGIN:
            continue
        for value in provider.tensors(run, tag).values:
            meta = _run_metadata(_blob(value))
            if meta is None:
                continue
            for dev in meta.step_stats.dev_stats:
                for ns in dev.node_stats:
                    devices.setdefault(ns.node_name, dev.device)
    return devices


def parse_graph(raw: bytes, kind: str, devices: dict[str, str] | None = None) -> GraphDef:
    """The GraphDef in ``raw`` (``kind`` from :func:`graph_blob`); nodes naming no device get
    theirs from ``devices`` (:func:`step_devices`) when it lists them.

    Raises:
        ValueError: the bytes are not a GraphDef, not a RunMetadata holding a graph, or not a
            Keras model configuration.
    """
    if kind == "keras":
        from tbx.viewer.plugins.graphs.keras import keras_graph

        graph = keras_graph(raw.decode("utf-8", "replace"))
    elif kind == "graph_def":
        try:
            graph = GraphDef.FromString(raw)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError
            raise ValueError(f"not a GraphDef: {exc}") from None
    else:
        meta = _run_metadata(raw)
        graphs = _metadata_graphs(meta) if meta is not None else []
        if not graphs:
            raise ValueError("a RunMetadata holding no graph")
        graph = merge_graph_defs(graphs)
    if devices:
        for node in graph.node:
            if not node.device and node.name in devices:
                node.device = devices[node.name]
    return graph


def load_graph(provider, run: str, tag: str, index: int = 0) -> GraphDef:
    """The GraphDef of point ``index`` of graph tag ``tag`` of ``run`` (:func:`graph_blob`,
    :func:`parse_graph` with the run's :func:`step_devices`).

    Raises:
        KeyError, IndexError: as :func:`graph_blob`.
        ValueError: as :func:`parse_graph`.
    """
    raw, kind = graph_blob(provider, run, tag, index)
    return parse_graph(raw, kind, step_devices(provider, run))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ATTR_TEXT else text[: MAX_ATTR_TEXT - 1] + "…"


def _scalar_text(which: str, value) -> str:
    from tbx.viewer.plugins.graphs.hierarchy import dtype_text, shape_text

    if which == "s":
        return value.decode("utf-8", "replace")
    if which == "type":
        return dtype_text(value) or str(value)
    if which == "shape":
        return shape_text(value)
    if which == "tensor":
        from tbx.summary.tensor import tensor_to_numpy

        try:
            a = tensor_to_numpy(value)
        except Exception:  # noqa: BLE001 - an odd tensor is shown by its dtype only
            return f"tensor {dtype_text(value.dtype)}"
        body = np.array2string(a, threshold=20, edgeitems=3)
        return f"tensor {a.dtype} {list(a.shape)} {body}"
    if which == "func":
        return f"function {value.name}"
    if which == "f":
        return repr(float(value))
    return str(value)


def attr_text(value) -> str:
    """An ``AttrValue`` as one line of text (lists as ``[a, b]``; at most ``MAX_ATTR_TEXT``
    characters)."""
    which = value.WhichOneof("value")
    if which is None:
        return ""
    if which != "list":
        return _cut(_scalar_text(which, getattr(value, which)))
    items = []
    for field, values in value.list.ListFields():
        items.extend(_scalar_text(field.name, v) for v in values)
    return _cut("[" + ", ".join(items) + "]")


def consumers(model: dict) -> list[list[int]]:
    """``[[v]]``: for each node, the nodes that take it as an input (each once, in order)."""
    nodes = model["nodes"]
    ptr, idx = nodes["in_ptr"], nodes["in_idx"]
    out: list[list[int]] = [[] for _ in nodes["name"]]
    for v in range(len(ptr) - 1):
        for k in range(ptr[v], ptr[v + 1]):
            u = idx[k]
            u = u if u >= 0 else -u - 1
            if not out[u] or out[u][-1] != v:
                out[u].append(v)
    return out


def node_details(graph: GraphDef, model: dict, index: int, lookup: dict[str, int],
                 users: list[list[int]]) -> dict:
    """Everything the page shows about node ``index`` of ``graph``: ``name``, ``op``,
    ``device``, ``shape``, ``dtype``, ``attrs`` (``[[key, text]]`` sorted by key), ``inputs``
    (``[{"name", "node" (index, -1 when not in the graph), "output", "control"}]``) and
    ``outputs`` (``[{"name", "node"}]``: the nodes that take this one as an input).

    ``model`` is the graph's :func:`~tbx.viewer.plugins.graphs.hierarchy.graph_model`,
    ``lookup`` maps node names to indices, ``users`` is :func:`consumers` of the model.

    Raises:
        IndexError: ``index`` outside the graph's nodes.
    """
    from tbx.viewer.plugins.graphs.hierarchy import parse_input

    nodes = model["nodes"]
    if not 0 <= index < len(nodes["name"]):
        raise IndexError(f"node index must be in [0, {len(nodes['name'])}), got {index}")
    node = graph.node[index]
    inputs = []
    for text in node.input:
        name, output, control = parse_input(text)
        inputs.append({"name": name, "node": lookup.get(name, -1), "output": output,
                       "control": control})
    return {
        "name": node.name,
        "op": node.op,
        "device": node.device,
        "shape": nodes["shape"][index],
        "dtype": nodes["dtype"][index],
        "attrs": [[k, attr_text(node.attr[k])] for k in sorted(node.attr)],
        "inputs": inputs,
        "outputs": [{"name": nodes["name"][j], "node": j} for j in users[index]],
    }
