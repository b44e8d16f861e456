"""Demo graphs for the Graphs dashboard's tests, screenshots and benchmarks (no torch needed).

* :func:`small_graph`: a known 12-node graph shaped like a traced PyTorch model (module paths
  ``Net/Linear[fc1]``, ``Net/Sequential[seq]/ReLU[0]``...), with ``_output_shapes``.
* :func:`synthetic_graph`: ``n`` nodes of a deep network in nested scopes
  (``model/stage<i>/block<j>/<op>_<k>``), chained with skip connections; for scale tests.
* :func:`write_demo`: a logdir with both, as ``add_graph`` would write them.
"""

from __future__ import annotations

import os

from tbx.proto.graph_pb2 import AttrValue, GraphDef, NodeDef, VersionDef
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ["small_graph", "synthetic_graph", "write_demo", "SMALL_SHAPES"]

#: Output shape of each node of :func:`small_graph` that has one.
SMALL_SHAPES = {
    "input/x": (1, 4),
    "Net/Linear[fc1]/weight": (3, 4),
    "Net/Linear[fc1]/bias": (3,),
    "Net/Linear[fc1]/input.1": (1, 3),
    "Net/Sequential[seq]/ReLU[0]/input.3": (1, 3),
    "Net/Sequential[seq]/Linear[1]/weight": (2, 3),
    "Net/Sequential[seq]/Linear[1]/bias": (2,),
    "Net/Sequential[seq]/Linear[1]/x.1": (1, 2),
    "Net/mul": (1, 2),
    "output/output.1": (1, 2),
}


def _node(name: str, op: str, inputs=(), shape=None, **attrs) -> NodeDef:
    node = NodeDef(name=name, op=op, input=list(inputs))
    if shape is not None:
        dims = [TensorShapeProto.Dim(size=d) for d in shape]
        node.attr["_output_shapes"].CopyFrom(
            AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)])))
    for key, text in attrs.items():
        node.attr[key].CopyFrom(AttrValue(s=text.encode()))
    return node


def small_graph() -> GraphDef:
    """``Net(x) = seq(fc1(x)) * 2`` with ``seq = Sequential(ReLU(), Linear(3, 2))``: 12 nodes in
    the groups ``input``, ``Net`` (holding ``Linear[fc1]`` and ``Sequential[seq]``, itself holding
    ``ReLU[0]`` and ``Linear[1]``) and ``output``; shapes :data:`SMALL_SHAPES`."""
    s = SMALL_SHAPES
    fc1, seq = "Net/Linear[fc1]", "Net/Sequential[seq]"
    nodes = [
        _node("input/x", "IO Node", (), s["input/x"]),
        _node(f"{fc1}/weight", "prim::GetAttr", (), s[f"{fc1}/weight"], attr="{ name : weight }"),
        _node(f"{fc1}/bias", "prim::GetAttr", (), s[f"{fc1}/bias"], attr="{ name : bias }"),
        _node(f"{fc1}/input.1", "aten::linear", ("input/x", f"{fc1}/weight", f"{fc1}/bias"),
              s[f"{fc1}/input.1"], attr="{}"),
        _node(f"{seq}/ReLU[0]/input.3", "aten::relu", (f"{fc1}/input.1",),
              s[f"{seq}/ReLU[0]/input.3"], attr="{}"),
        _node(f"{seq}/Linear[1]/weight", "prim::GetAttr", (), s[f"{seq}/Linear[1]/weight"],
              attr="{ name : weight }"),
        _node(f"{seq}/Linear[1]/bias", "prim::GetAttr", (), s[f"{seq}/Linear[1]/bias"],
              attr="{ name : bias }"),
        _node(f"{seq}/Linear[1]/x.1", "aten::linear",
              (f"{seq}/ReLU[0]/input.3", f"{seq}/Linear[1]/weight", f"{seq}/Linear[1]/bias"),
              s[f"{seq}/Linear[1]/x.1"], attr="{}"),
        _node("Net/2", "prim::Constant", (), None, attr="{ value : 2}"),
        _node("Net/mul", "aten::mul", (f"{seq}/Linear[1]/x.1", "Net/2"), s["Net/mul"],
              attr="{}"),
        _node("Net/out", "prim::TupleConstruct", ("Net/mul",), None),
        _node("output/output.1", "IO Node", ("Net/mul",), s["output/output.1"]),
    ]
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


def synthetic_graph(n: int, stages: int = 4, blocks: int = 8) -> GraphDef:
    """A graph of ``n`` nodes (``n >= 3``): ``input/x``, ``output/y`` and ``n - 2`` operations
    spread over ``stages`` stages of ``blocks`` blocks each (``model/stage<i>/block<j>/``),
    each block a chain of ``conv2d_<k>``, ``relu_<k+1>``, ``addv2_<k+2>`` units whose add also
    takes the unit's input (a skip connection); shapes ``1x64x56x56``. Deterministic.

    Raises:
        ValueError: ``n < 3`` or ``stages``/``blocks`` below 1.
    """
    if n < 3 or stages < 1 or blocks < 1:
        raise ValueError(f"need n >= 3, stages >= 1, blocks >= 1; got {n}, {stages}, {blocks}")
    ops = ("Conv2D", "Relu", "AddV2")
    per_block, extra = divmod(n - 2, stages * blocks)
    nodes = [_node("input/x", "Placeholder", (), (1, 64, 56, 56))]
    prev = "input/x"
    for b in range(stages * blocks):
        scope = f"model/stage{b // blocks}/block{b % blocks}"
        unit_in = prev
        for k in range(per_block + (1 if b < extra else 0)):
            op = ops[k % 3]
            if op == "Conv2D":
                unit_in = prev
            name = f"{scope}/{op.lower()}_{k}"
            inputs = (prev, unit_in) if op == "AddV2" else (prev,)
            nodes.append(_node(name, op, inputs, (1, 64, 56, 56)))
            prev = name
    nodes.append(_node("output/y", "Identity", (prev,), (1, 64, 56, 56)))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


def write_demo(logdir: str | os.PathLike, sizes=(2000,)) -> None:
    """Write run ``small`` (:func:`small_graph`) and one run ``synthetic_<n>`` per size in
    ``sizes`` (:func:`synthetic_graph`) under ``logdir``, as ``add_graph`` writes graphs."""
    from tbx import FileWriter
    from tbx.proto.event_pb2 import Event

    graphs = [("small", small_graph())] + [(f"synthetic_{n}", synthetic_graph(n))
                                            for n in sizes]
    for run, graph in graphs:
        w = FileWriter(os.path.join(os.fspath(logdir), run))
        try:
            w.add_event(Event(step=0, graph_def=graph.SerializeToString()))
        finally:
            w.close()
