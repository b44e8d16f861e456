"""Model graphs: plugin ``graphs``. Not a Summary: an ``Event(graph_def=<serialized GraphDef>)``,
followed (for PyTorch models) by ``Event(tagged_run_metadata=TaggedRunMetadata(tag="profiler",
run_metadata=<serialized RunMetadata>))`` whose step stats name the device ``/device:CPU:0``, as
tensorboardX writes them. ``GraphDef.versions.producer`` is 22, as tensorboardX's.

PyTorch (:func:`torch_graph`): the model is traced with ``torch.jit.trace`` (in eval mode, its
training mode restored afterwards) and the inlined trace becomes a GraphDef:

* each used graph input: a node ``input/<name>``, op ``IO Node``;
* each parameter or buffer read: a node ``<module path>/<attribute>``, op ``prim::GetAttr``
  (a parameter read twice is one node);
* each output of each operation: a node ``<module path>/<value name>``, op the operation's kind
  (``aten::linear``, ``prim::Constant``, ...), its operation attributes as text in attr ``attr``;
* each graph output ``i`` (from 1): a node ``output/output.<i>``, op ``IO Node``.

``<module path>`` is ``<model class>/<class>[<attribute>]/...`` (``Net/Sequential[seq]/Linear[1]``),
which TensorBoard draws as nested boxes. Every tensor-valued node has attr ``_output_shapes``
(one ``TensorShapeProto``) when its shape is known. torch is imported only inside the functions.

ONNX (:func:`onnx_graph`): graph inputs become ``Variable`` nodes (attrs ``dtype``, ``shape``),
each operation a node named by its first output (op the ONNX ``op_type``, attr ``parameters``
its attributes as text), each graph output a node ``output/<name>``, op ``IO Node``.

Keras (:func:`keras_model_summary`): not an op graph but the model's configuration, which
TensorBoard's graphs dashboard draws as a conceptual graph: a Summary value (tag ``keras``)
whose ``SummaryMetadata`` names plugin ``graph_keras_model`` with content ``b"1"`` and whose
tensor is a ``DT_STRING`` scalar holding ``model.to_json()``, as Keras' own TensorBoard callback
writes it (step 0).
"""

from __future__ import annotations

import contextlib
import warnings

from tbx.proto.graph_pb2 import (
    AttrValue,
    DeviceStepStats,
    GraphDef,
    NodeDef,
    RunMetadata,
    StepStats,
    VersionDef,
)
from tbx.proto.summary_pb2 import Summary, SummaryMetadata
from tbx.proto.tensor_pb2 import TensorProto
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = [
    "PLUGIN_NAME", "PRODUCER", "KERAS_PLUGIN_NAME", "torch_graph", "onnx_graph", "onnx_graph_def",
    "decode", "keras_model_summary", "decode_keras_model",
]

PLUGIN_NAME = "graphs"
PRODUCER = 22
RUN_METADATA_TAG = "profiler"
KERAS_PLUGIN_NAME = "graph_keras_model"


def import_torch(what: str = "add_graph"):
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f'{what} needs PyTorch: pip install "tbx[torch]"') from exc
    return torch


def _shape_attr(sizes) -> AttrValue:
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in sizes])
    return AttrValue(list=AttrValue.ListValue(shape=[shape]))


def _sizes(value):
    try:
        if value.isCompleteTensor():
            return value.type().sizes()
    except RuntimeError:
        pass
    return None


def _node_attributes(node) -> str:
    parts = []
    for name in node.attributeNames():
        try:
            v = getattr(node, node.kindOf(name))(name)
        except Exception:  # noqa: BLE001 - an attribute torch cannot show is just left out
            continue
        text = repr(v)
        if len(text) > 200:
            text = text[:197] + "..."
        parts.append(f"{name}: {text}")
    return "{" + ", ".join(parts) + "}"


def _model_name(model) -> str:
    name = getattr(model, "original_name", None)
    if not isinstance(name, str) or not name:
        name = getattr(model, "_name", None) or type(model).__name__
    return name


@contextlib.contextmanager
def _eval_mode(model):
    training = getattr(model, "training", None)
    if isinstance(training, bool) and hasattr(model, "train"):
        model.train(False)
        try:
            yield
        finally:
            model.train(training)
    else:
        yield


def _trace(torch, model, args, use_strict_trace: bool):
    name = type(model).__name__
    if not callable(model):
        raise TypeError(f"add_graph: model must be a torch.nn.Module or a function, got {name}")
    if args is None:
        args = ()
    elif isinstance(args, list):
        args = tuple(args)
    try:
        with _eval_mode(model), torch.no_grad(), warnings.catch_warnings():
            # tbx's use of the tracer, not the caller's: its deprecation notice is noise here
            warnings.filterwarnings("ignore", r".*torch\.jit\.trace", DeprecationWarning)
            trace = torch.jit.trace(model, args, strict=use_strict_trace)
    except Exception as exc:  # noqa: BLE001 - any tracing failure is reported the same way
        raise RuntimeError(
            f"add_graph: tracing model {name} with torch.jit.trace failed "
            f"(input_to_model must be the model's input: a tensor or a tuple of tensors): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    graph = trace.graph
    torch._C._jit_pass_inline(graph)
    return trace, graph


def _scope_names(trace) -> tuple[str, dict[str, str]]:
    """The model's name and ``{trace scope alias: "Class[attr]"}``."""
    base = _model_name(trace)
    aliases = {}
    named = getattr(trace, "named_modules", None)
    if named is not None:
        for alias, module in named(prefix="__module"):
            aliases[alias] = f"{_model_name(module)}[{alias.rsplit('.', 1)[-1]}]"
    return base, aliases


def _path(base: str, aliases: dict, scope: str) -> str:
    parts = [base]
    for alias in scope.split("/") if scope else []:
        if alias == "__module":
            continue
        parts.append(aliases.get(alias, alias.rsplit(".", 1)[-1]))
    return "/".join(parts)


def graph_def_from_trace(trace, graph) -> GraphDef:
    """The GraphDef of an inlined ``torch.jit`` trace (layout in the module docstring)."""
    base, aliases = _scope_names(trace)
    nodes: list[NodeDef] = []
    names: dict[str, str] = {}  # debugName of a value -> name of its NodeDef
    module_of: dict[str, str] = {}  # debugName of a module value -> trace scope alias
    objects: dict[str, object] = {}  # debugName of a module value -> the module
    seen: set[str] = set()

    def add(name, op, inputs, sizes=None, text=None):
        node = NodeDef(name=name, op=op, input=inputs)
        if sizes is not None:
            node.attr["_output_shapes"].CopyFrom(_shape_attr(sizes))
        if text is not None:
            node.attr["attr"].CopyFrom(AttrValue(s=text.encode("utf-8")))
        nodes.append(node)
        seen.add(name)

    for value in graph.inputs():
        if value.type().kind() == "ClassType":
            module_of[value.debugName()] = "__module"
            objects[value.debugName()] = trace
            continue
        if not value.uses():
            continue
        name = f"input/{value.debugName()}"
        names[value.debugName()] = name
        add(name, "IO Node", [], _sizes(value))

    def inputs_of(node):
        return [names[v.debugName()] for v in node.inputs() if v.debugName() in names]

    for node in graph.nodes():
        kind = node.kind()
        if kind == "prim::GetAttr":
            parent = module_of.get(node.input().debugName(), "")
            attr = node.s("name")
            out = node.output()
            obj = getattr(objects.get(node.input().debugName()), attr, None)
            if out.type().kind() == "ClassType":
                module_of[out.debugName()] = f"{parent}.{attr}"
                objects[out.debugName()] = obj
                continue
            shape = getattr(obj, "shape", None)
            name = f"{_path(base, aliases, '/'.join(_alias_chain(parent)))}/{attr}"
            names[out.debugName()] = name
            if name not in seen:
                sizes = _sizes(out) if shape is None else list(shape)
                add(name, kind, [], sizes, _node_attributes(node))
            continue
        path = _path(base, aliases, node.scopeName())
        inputs = inputs_of(node)
        text = _node_attributes(node)
        for out in node.outputs():
            name = f"{path}/{out.debugName()}"
            while name in seen:  # a value named like a parameter of the same module
                name += "_"
            names[out.debugName()] = name
            add(name, kind, inputs, _sizes(out), text)

    for i, value in enumerate(graph.outputs(), start=1):
        inputs = [names[value.debugName()]] if value.debugName() in names else []
        add(f"output/output.{i}", "IO Node", inputs, _sizes(value))
    return GraphDef(node=nodes, versions=VersionDef(producer=PRODUCER))


def _alias_chain(alias: str) -> list[str]:
    """``"__module.a.b"`` -> ``["__module.a", "__module.a.b"]`` (scope aliases of each level)."""
    if not alias or alias == "__module":
        return []
    parts = alias.split(".")
    return [".".join(parts[: i + 1]) for i in range(1, len(parts))]


def step_stats() -> RunMetadata:
    """The RunMetadata tensorboardX writes beside a PyTorch graph (one CPU device)."""
    return RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))


def torch_graph(model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True):
    """Trace a PyTorch model and build its ``(GraphDef, RunMetadata)``.

    Args:
        model: a ``torch.nn.Module`` (or a function ``torch.jit.trace`` accepts).
        input_to_model: the input: a tensor, or a tuple/list of tensors (None: no input).
        verbose: print the traced graph.
        use_strict_trace: passed to ``torch.jit.trace`` as ``strict`` (False lets the trace
            record mutable containers such as lists and dicts).

    Raises:
        ImportError: torch is not installed (``pip install "tbx[torch]"``).
        TypeError: ``model`` is not callable.
        RuntimeError: tracing failed (the message names the model and the cause).
    """
    torch = import_torch()
    trace, graph = _trace(torch, model, input_to_model, use_strict_trace)
    if verbose:
        print(graph)
    return graph_def_from_trace(trace, graph), step_stats()


def onnx_graph(graph) -> GraphDef:
    """The GraphDef of an ``onnx.GraphProto`` (layout in the module docstring)."""
    nodes = []
    inputs = {}
    for value in graph.input:
        tensor_type = value.type.tensor_type
        shape = TensorShapeProto(
            dim=[TensorShapeProto.Dim(size=d.dim_value) for d in tensor_type.shape.dim]
        )
        node = NodeDef(name=value.name, op="Variable")
        node.attr["dtype"].CopyFrom(AttrValue(type=tensor_type.elem_type))
        node.attr["shape"].CopyFrom(AttrValue(shape=shape))
        nodes.append(node)
        inputs[value.name] = value.name
    for op in graph.node:
        text = ", ".join(
            " = ".join(str(v) for _, v in attr.ListFields()) for attr in op.attribute
        )
        name = op.output[0] if op.output else op.name
        node = NodeDef(name=name, op=op.op_type, input=[i for i in op.input if i])
        node.attr["parameters"].CopyFrom(AttrValue(s=text.encode("utf-8")))
        nodes.append(node)
    for value in graph.output:
        nodes.append(NodeDef(name=f"output/{value.name}", op="IO Node", input=[value.name]))
    return GraphDef(node=nodes, versions=VersionDef(producer=PRODUCER))


def onnx_graph_def(onnx_model_file) -> GraphDef:
    """The GraphDef of the ONNX model in the file ``onnx_model_file``.

    Raises:
        ImportError: onnx is not installed (``pip install "tbx[onnx]"``).
        OSError, ValueError: the file cannot be read or is not an ONNX model.
    """
    try:
        import onnx
    except ImportError as exc:
        raise ImportError('add_onnx_graph needs onnx: pip install "tbx[onnx]"') from exc
    try:
        model = onnx.load(onnx_model_file)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnx raises its own DecodeError types
        raise ValueError(f"{onnx_model_file!r} is not an ONNX model: {exc}") from exc
    return onnx_graph(model.graph)


def decode(graph_def: bytes) -> GraphDef:
    """The GraphDef of an ``Event.graph_def`` payload."""
    return GraphDef.FromString(graph_def)


def keras_model_summary(model_json: str, tag: str = "keras") -> Summary:
    """A Keras model's configuration (the JSON of ``model.to_json()``) as a Summary for the
    graphs dashboard's conceptual graph (format in the module's docstring).

    Raises:
        TypeError: ``model_json`` is not a ``str``.
    """
    if not isinstance(model_json, str):
        raise TypeError(f"model_json must be a str, got {type(model_json).__name__}")
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=KERAS_PLUGIN_NAME, content=b"1")
    )
    tensor = TensorProto(dtype="DT_STRING", string_val=[model_json.encode("utf-8")],
                         tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])


def decode_keras_model(value: Summary.Value) -> str:
    """The model JSON of a ``graph_keras_model`` Summary value.

    Raises:
        ValueError: the value holds no string tensor.
    """
    if not value.tensor.string_val:
        raise ValueError(f"{value.tag!r} holds no Keras model (no string tensor)")
    return value.tensor.string_val[0].decode("utf-8")
