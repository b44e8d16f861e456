"""A Keras model's configuration (``model.to_json()``, written as a ``graph_keras_model``
Summary: :func:`tbx.summary.graph.keras_model_summary`) as a GraphDef of its layers: the
conceptual graph. Pure functions.

Each layer is a node named ``<model>/<layer>`` whose op is the layer's class (``Dense``,
``Conv2D``...); a model used as a layer (a nested ``Sequential`` or functional model) is a
scope holding its own layers, fed by the layers that feed it. Inputs come from the layers'
``inbound_nodes`` in either form Keras writes: Keras 3 (``{"args": [...]}`` holding
``__keras_tensor__`` entries with ``keras_history: [layer, node, tensor]``) and Keras 2 (lists of
``[layer, node, tensor, kwargs]``); the layers of a ``Sequential`` are chained in order. A
layer's simple configuration values (numbers, strings, booleans and lists of them, except its
name) become string attributes; its dtype becomes attribute ``dtype``.
"""

from __future__ import annotations

import json

from tbx.proto.graph_pb2 import AttrValue, GraphDef, NodeDef
from tbx.proto.types_pb2 import DataType

__all__ = ["keras_graph"]

_MODELS = {"Sequential", "Functional", "Model"}
_SKIP = {"name", "trainable", "dtype", "layers", "input_layers", "output_layers"}


def _dtype(cfg: dict) -> int:
    d = cfg.get("dtype")
    if isinstance(d, dict):  # Keras 3: a DTypePolicy
        d = (d.get("config") or {}).get("name")
    if not isinstance(d, str):
        return 0
    d = d.split("_")[-1]  # "mixed_float16" -> "float16"
    try:
        return DataType.Value("DT_" + {"float32": "FLOAT", "float64": "DOUBLE",
                                       "float16": "HALF"}.get(d, d.upper()))
    except ValueError:
        return 0


def _simple(v) -> bool:
    if isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, list) and all(x is None or isinstance(x, (bool, int, float, str))
                                       for x in v)


def _history(obj, out: list) -> None:
    """Collect ``(layer, node, tensor)`` of every input reference inside ``obj``."""
    if isinstance(obj, dict):
        hist = (obj.get("config") or {}).get("keras_history") \
            if obj.get("class_name") == "__keras_tensor__" else None
        if isinstance(hist, list) and hist and isinstance(hist[0], str):
            out.append(hist[0])
            return
        for v in obj.values():
            _history(v, out)
    elif isinstance(obj, list):
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int):
            out.append(obj[0])  # Keras 2: [layer, node_index, tensor_index, kwargs]
            return
        for v in obj:
            _history(v, out)


def _layer_name(layer: dict) -> str:
    return str(layer.get("name") or (layer.get("config") or {}).get("name") or
               layer.get("class_name") or "layer")


class _Builder:
    def __init__(self):
        self.nodes: list[NodeDef] = []
        self.names: set[str] = set()

    def node(self, name: str, layer: dict, inputs: list[str]) -> str:
        while name in self.names:
            name += "_"
        self.names.add(name)
        cfg = layer.get("config") or {}
        n = NodeDef(name=name, op=str(layer.get("class_name") or "Layer"),
                    input=list(dict.fromkeys(inputs)))
        dtype = _dtype(cfg)
        if dtype:
            n.attr["dtype"].CopyFrom(AttrValue(type=dtype))
        for k, v in sorted(cfg.items()):
            if k not in _SKIP and v is not None and _simple(v):
                n.attr[k].CopyFrom(AttrValue(s=json.dumps(v).encode()))
        self.nodes.append(n)
        return name

    def model(self, spec: dict, scope: str, upstream: list[str]) -> list[str]:
        """Add the layers of model ``spec`` under ``scope``; returns its output node names."""
        cfg = spec.get("config") or {}
        layers = [x for x in cfg.get("layers") or [] if isinstance(x, dict)]
        if spec.get("class_name") == "Sequential":
            prev = upstream
            for layer in layers:
                prev = self.layer(layer, scope, prev)
            return prev
        outs: dict[str, list[str]] = {}
        inputs_of_model: list[str] = []
        _history(cfg.get("input_layers") or [], inputs_of_model)
        for layer in layers:
            name = _layer_name(layer)
            refs: list = []
            _history(layer.get("inbound_nodes") or [], refs)
            feeds = [o for r in refs for o in outs.get(r, [])]
            if not refs and name in inputs_of_model and upstream:
                i = inputs_of_model.index(name)
                feeds = upstream[i : i + 1] if len(inputs_of_model) > 1 else upstream
            outs[name] = self.layer(layer, scope, feeds)
        result: list[str] = []
        refs = []
        _history(cfg.get("output_layers") or [], refs)
        if not refs and layers:
            refs = [_layer_name(layers[-1])]
        for r in refs:
            result += outs.get(r, [])
        return result

    def layer(self, layer: dict, scope: str, inputs: list[str]) -> list[str]:
        name = f"{scope}/{_layer_name(layer)}"
        if layer.get("class_name") in _MODELS and (layer.get("config") or {}).get("layers"):
            return self.model(layer, name, inputs)
        return [self.node(name, layer, inputs)]


def keras_graph(model_json: str | bytes) -> GraphDef:
    """The conceptual graph of a Keras model configuration (layout in the module docstring).

    Raises:
        ValueError: ``model_json`` is not JSON of a Keras model (an object with ``config``).
    """
    try:
        spec = json.loads(model_json)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a Keras model configuration (JSON): {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError("not a Keras model configuration (no 'config' object)")
    b = _Builder()
    scope = str(spec["config"].get("name") or spec.get("class_name") or "model")
    if spec["config"].get("layers"):
        b.model(spec, scope, [])
    else:
        b.node(scope, spec, [])
    return GraphDef(node=b.nodes)
