"""Graphs plugin data: GraphDef -> groups by name scope with boundary-summarised edges (exact
groups, ports, counts and shapes of a known graph; invariants on random graphs; series and chunk
splitting of huge levels), graph sources of a run as TensorBoard reads them (graph_def events,
RunMetadata with function graphs written with TensorBoard's own protos, step-stats devices),
and node details."""

from __future__ import annotations

import random

import pytest

import tbx
from tbx.proto.event_pb2 import Event, TaggedRunMetadata
from tbx.proto.graph_pb2 import GraphDef, NodeDef
from tbx.reader.provider import LogdirProvider
from tbx.viewer.plugins.graphs import demo_data, sources
from tbx.viewer.plugins.graphs.hierarchy import (
    graph_model,
    parse_input,
    shape_text,
)


def ref_of(model, name):
    """The ref (node index, or -(group + 1)) of a node or group name."""
    if name in model["nodes"]["name"]:
        return model["nodes"]["name"].index(name)
    return -(model["groups"]["name"].index(name) + 1)


def names_of(model, refs):
    g, n = model["groups"]["name"], model["nodes"]["name"]
    return [g[-r - 1] if r < 0 else n[r] for r in refs]


def edges_of(model, group_name):
    j = model["groups"]["name"].index(group_name)
    flat = model["groups"]["edges"][j]
    names = lambda r: names_of(model, [r])[0]  # noqa: E731
    return {(names(flat[i]), names(flat[i + 1])): (flat[i + 2], flat[i + 3])
            for i in range(0, len(flat), 4)}


def group(model, name):
    j = model["groups"]["name"].index(name)
    cols = model["groups"]
    return {k: cols[k][j] for k in cols}


def test_small_graph_groups_edges_ports_and_shapes():
    m = graph_model(demo_data.small_graph())
    assert names_of(m, group(m, "")["children"]) == ["input", "Net", "output"]
    net = group(m, "Net")
    assert names_of(m, net["children"]) == [
        "Net/Linear[fc1]", "Net/Sequential[seq]", "Net/2", "Net/mul", "Net/out"]
    assert names_of(m, group(m, "Net/Sequential[seq]")["children"]) == [
        "Net/Sequential[seq]/ReLU[0]", "Net/Sequential[seq]/Linear[1]"]
    assert [group(m, g)["count"] for g in ("", "input", "Net", "Net/Linear[fc1]",
                                          "Net/Sequential[seq]", "output")] == [12, 1, 10, 3, 4, 1]
    assert group(m, "Net/Linear[fc1]")["ops"] == ["prim::GetAttr", 2, "aten::linear", 1]
    assert group(m, "Net")["label"] == "Net" and group(m, "Net")["kind"] == "scope"
    # each edge at the lowest common group, summarised to that group's children
    assert edges_of(m, "") == {("input", "Net"): (1, 0), ("Net", "output"): (1, 0)}
    assert edges_of(m, "Net") == {
        ("Net/Linear[fc1]", "Net/Sequential[seq]"): (1, 0),
        ("Net/Sequential[seq]", "Net/mul"): (1, 0),
        ("Net/2", "Net/mul"): (1, 0),
        ("Net/mul", "Net/out"): (1, 0),
    }
    assert edges_of(m, "Net/Linear[fc1]") == {
        ("Net/Linear[fc1]/weight", "Net/Linear[fc1]/input.1"): (1, 0),
        ("Net/Linear[fc1]/bias", "Net/Linear[fc1]/input.1"): (1, 0),
    }
    assert names_of(m, group(m, "Net")["in"]) == ["Net/Linear[fc1]"]
    assert names_of(m, group(m, "Net")["out"]) == ["Net/mul"]
    seq = group(m, "Net/Sequential[seq]")
    assert names_of(m, seq["in"]) == ["Net/Sequential[seq]/ReLU[0]"]
    assert names_of(m, seq["out"]) == ["Net/Sequential[seq]/Linear[1]"]
    nodes = m["nodes"]
    for name, shape in demo_data.SMALL_SHAPES.items():
        assert nodes["shape"][nodes["name"].index(name)] == "x".join(map(str, shape))
    assert nodes["shape"][nodes["name"].index("Net/2")] == ""
    mul = nodes["name"].index("Net/mul")
    ptr, idx = nodes["in_ptr"], nodes["in_idx"]
    assert names_of(m, idx[ptr[mul]:ptr[mul + 1]]) == [
        "Net/Sequential[seq]/Linear[1]/x.1", "Net/2"]
    assert m["stats"] == {"nodes": 12, "edges": 11, "groups": 8, "missing_inputs": 0}


def test_inputs_control_output_index_missing_and_namesake_group():
    g = GraphDef(node=[
        NodeDef(name="a", op="Const"),
        NodeDef(name="a/b", op="Add", input=["a:1", "^c/d", "nowhere"]),
        NodeDef(name="c/d", op="NoOp"),
        NodeDef(name="e", op="Identity", input=["^c/d", "^c/d"]),
    ])
    m = graph_model(g)
    assert names_of(m, group(m, "a")["children"]) == ["a", "a/b"]  # the node inside its group
    assert edges_of(m, "a") == {("a", "a/b"): (1, 0)}
    assert edges_of(m, "") == {("c", "a"): (1, 1), ("c", "e"): (2, 1)}
    assert m["stats"]["missing_inputs"] == 1 and m["stats"]["edges"] == 4
    b = m["nodes"]["name"].index("a/b")
    ptr, idx = m["nodes"]["in_ptr"], m["nodes"]["in_idx"]
    assert idx[ptr[b]:ptr[b + 1]] == [0, -(2 + 1)]
    assert parse_input("^x/y") == ("x/y", 0, True)
    assert parse_input("x/y:12") == ("x/y", 12, False)
    assert parse_input("x:y") == ("x:y", 0, False)


def random_graph(rng, n):
    scopes = ["", "a", "a/b", "a/b/c", "d", "d/e", "f"]
    nodes = []
    for i in range(n):
        s = rng.choice(scopes)
        name = f"{s}/op_{i}" if s else f"op_{i}"
        inputs = [nodes[rng.randrange(i)].name for _ in range(rng.randrange(3))] if i else []
        if inputs and rng.random() < 0.2:
            inputs[0] = "^" + inputs[0]
        nodes.append(NodeDef(name=name, op=rng.choice(["A", "B", "C"]), input=inputs))
    return GraphDef(node=nodes)


@pytest.mark.parametrize("seed", range(6))
def test_every_edge_drawn_once_at_the_lowest_common_group(seed):
    rng = random.Random(seed)
    g = random_graph(rng, 300)
    m = graph_model(g, max_children=7)
    G = m["groups"]
    parent = G["parent"]

    def chain(ref):  # [(group, child ref)] from the node up to the root
        out, g_ = [], m["nodes"]["group"][ref]
        while g_ >= 0:
            out.append((g_, ref))
            ref, g_ = -(g_ + 1), parent[g_]
        return out

    expected = [{} for _ in G["name"]]
    ins = [set() for _ in G["name"]]
    outs = [set() for _ in G["name"]]
    index = {n.name: i for i, n in enumerate(g.node)}
    for v, node in enumerate(g.node):
        for text in node.input:
            u = index[text.lstrip("^")]
            cu, cv = chain(u), chain(v)
            gv = {grp: ref for grp, ref in cv}
            for grp, ref in cu:  # lowest group holding both
                if grp in gv:
                    key = (ref, gv[grp])
                    expected[grp][key] = expected[grp].get(key, 0) + 1
                    break
                outs[grp].add(ref)
            gu = {grp for grp, _ in cu}
            for grp, ref in cv:
                if grp in gu:
                    break
                ins[grp].add(ref)
    for j in range(len(G["name"])):
        flat = G["edges"][j]
        got = {(flat[i], flat[i + 1]): flat[i + 2] for i in range(0, len(flat), 4)}
        assert got == expected[j]
        assert set(G["in"][j]) == ins[j] and set(G["out"][j]) == outs[j]
        assert len(G["children"][j]) <= 7
    assert sum(len(e) // 4 for e in G["edges"]) <= m["stats"]["edges"]
    # every node is the child of exactly its group; counts add up
    seen = sorted(r for ch in G["children"] for r in ch if r >= 0)
    assert seen == list(range(300))
    assert G["count"][0] == 300
    for j in range(len(G["name"])):
        below = sum(1 if r >= 0 else G["count"][-r - 1] for r in G["children"][j])
        assert G["count"][j] == below


def test_huge_flat_level_is_split_into_series_then_chunks():
    nodes = [NodeDef(name=f"conv_{i}", op="Conv2D") for i in range(1000)]
    nodes += [NodeDef(name="loss", op="Mean"), NodeDef(name="relu_1", op="Relu"),
              NodeDef(name="relu_2", op="Relu", input=["relu_1"])]
    m = graph_model(GraphDef(node=nodes), max_children=200)
    G = m["groups"]
    root = names_of(m, G["children"][0])
    assert root == ["conv_[0-999]", "loss", "relu_[1-2]"]
    conv = group(m, "conv_[0-999]")
    assert conv["kind"] == "series" and conv["count"] == 1000
    assert [G["label"][-r - 1] for r in conv["children"]] == [
        "[0-199]", "[200-399]", "[400-599]", "[600-799]", "[800-999]"]
    first = group(m, "conv_[0-999]/[0-199]")
    assert first["kind"] == "chunk" and names_of(m, first["children"])[:2] == ["conv_0", "conv_1"]
    assert max(len(c) for c in G["children"]) <= 200
    assert edges_of(m, "relu_[1-2]") == {("relu_1", "relu_2"): (1, 0)}


def test_shapes_dtypes_and_devices_text():
    from tbx.proto.graph_pb2 import AttrValue
    from tbx.proto.tensor_shape_pb2 import TensorShapeProto

    n = NodeDef(name="x", op="Placeholder", device="/device:GPU:0")
    n.attr["dtype"].CopyFrom(AttrValue(type=1))
    n.attr["shape"].CopyFrom(AttrValue(shape=TensorShapeProto(
        dim=[TensorShapeProto.Dim(size=-1), TensorShapeProto.Dim(size=28)])))
    k = NodeDef(name="k", op="Split")
    k.attr["T"].CopyFrom(AttrValue(type=9))
    k.attr["_output_shapes"].CopyFrom(AttrValue(list=AttrValue.ListValue(shape=[
        TensorShapeProto(), TensorShapeProto(unknown_rank=True)])))
    m = graph_model(GraphDef(node=[n, k]))
    assert m["nodes"]["shape"] == ["?x28", "(), ?"]
    assert m["nodes"]["dtype"] == ["float32", "int64"]
    assert m["nodes"]["device"] == [0, -1] and m["devices"] == ["/device:GPU:0"]
    assert shape_text(TensorShapeProto(dim=[TensorShapeProto.Dim(size=3)])) == "3"


def test_graph_sources_of_a_run_and_node_details(tmp_path):
    demo_data.write_demo(tmp_path, sizes=(50,))
    p = LogdirProvider(tmp_path)
    p.refresh()
    assert p.runs() == ["small", "synthetic_50"]
    entries = sources.list_graphs(p, "small")
    assert [(e["tag"], e["index"], e["kind"], e["label"]) for e in entries] == [
        ("__run_graph__", 0, "graph_def", "graph")]
    graph = sources.load_graph(p, "small", "__run_graph__", 0)
    assert graph == demo_data.small_graph()
    m = graph_model(graph)
    lookup = {n: i for i, n in enumerate(m["nodes"]["name"])}
    users = sources.consumers(m)
    d = sources.node_details(graph, m, lookup["Net/Linear[fc1]/input.1"], lookup, users)
    assert d["op"] == "aten::linear" and d["shape"] == "1x3"
    assert [(i["name"], i["node"]) for i in d["inputs"]] == [
        ("input/x", 0), ("Net/Linear[fc1]/weight", 1), ("Net/Linear[fc1]/bias", 2)]
    assert d["outputs"] == [{"name": "Net/Sequential[seq]/ReLU[0]/input.3", "node": 4}]
    assert ["_output_shapes", "[1x3]"] in d["attrs"] and ["attr", "{}"] in d["attrs"]
    with pytest.raises(KeyError, match="no graph tag"):
        sources.graph_blob(p, "small", "nope", 0)
    with pytest.raises(IndexError, match=r"\[0, 1\)"):
        sources.graph_blob(p, "small", "__run_graph__", 1)
    with pytest.raises(IndexError):
        sources.node_details(graph, m, 12, lookup, users)


def test_pytorch_graph_keeps_module_nesting_and_shapes(tmp_path):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with tbx.SummaryWriter(tmp_path / "r") as w:
        w.add_graph(model, torch.zeros(1, 3, 8, 8))
    p = LogdirProvider(tmp_path)
    p.refresh()
    # the profiler RunMetadata tensorboardX writes beside it holds no graph: not listed
    assert [e["tag"] for e in sources.list_graphs(p, "r")] == ["__run_graph__"]
    m = graph_model(sources.load_graph(p, "r", "__run_graph__"))
    assert names_of(m, m["groups"]["children"][0]) == ["input", "Sequential", "output"]
    assert names_of(m, group(m, "Sequential")["children"]) == [
        "Sequential/Conv2d[0]", "Sequential/ReLU[1]", "Sequential/Flatten[2]",
        "Sequential/Linear[3]"]
    conv = [i for i, op in enumerate(m["nodes"]["op"]) if op == "aten::_convolution"]
    assert [m["nodes"]["shape"][i] for i in conv] == ["1x4x6x6"]


def test_run_metadata_function_graphs_written_by_tensorboard_protos(tmp_path):
    """tf.summary.trace_export's form: a Summary Value of plugin graph_run_metadata_graph whose
    string tensor is a RunMetadata (TensorBoard's own proto) with function graphs, merged under
    graph_<i>/; and a tagged RunMetadata whose step stats give node devices."""
    from tensorboard.compat.proto import config_pb2, graph_pb2, step_stats_pb2
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto

    from tbx.proto.summary_pb2 import Summary as TbxSummary

    def tb_graph(*names):
        g = graph_pb2.GraphDef()
        for i, name in enumerate(names):
            node = g.node.add(name=name, op="Op")
            if i:
                node.input.append(names[i - 1])
        return g

    meta = config_pb2.RunMetadata()
    meta.function_graphs.add().pre_optimization_graph.CopyFrom(tb_graph("x", "f/y"))
    meta.function_graphs.add().pre_optimization_graph.CopyFrom(tb_graph("x", "z"))
    value = Summary.Value(
        tag="trace",
        metadata=SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="graph_run_metadata_graph", content=b"1")),
        tensor=TensorProto(dtype=7, string_val=[meta.SerializeToString()]))
    stats = config_pb2.RunMetadata(step_stats=step_stats_pb2.StepStats(dev_stats=[
        step_stats_pb2.DeviceStepStats(device="/job:w/device:GPU:1", node_stats=[
            step_stats_pb2.NodeExecStats(node_name="a")])]))
    w = tbx.FileWriter(tmp_path / "tf")
    w.add_event(Event(step=3, summary=TbxSummary.FromString(
        Summary(value=[value]).SerializeToString())))
    w.add_event(Event(step=0, graph_def=GraphDef(node=[NodeDef(name="a", op="A"),
                                                       NodeDef(name="b", op="B")])
                      .SerializeToString()))
    w.add_event(Event(step=0, tagged_run_metadata=TaggedRunMetadata(
        tag="step_0", run_metadata=stats.SerializeToString())))
    w.close()
    p = LogdirProvider(tmp_path)
    p.refresh()
    entries = sources.list_graphs(p, "tf")
    assert [(e["tag"], e["kind"], e["step"]) for e in entries] == [
        ("__run_graph__", "graph_def", 0), ("trace", "run_metadata", 3)]
    merged = sources.load_graph(p, "tf", "trace")
    assert [(n.name, list(n.input)) for n in merged.node] == [
        ("graph_1/x", []), ("graph_1/f/y", ["graph_1/x"]),
        ("graph_2/x", []), ("graph_2/z", ["graph_2/x"])]
    run_graph = sources.load_graph(p, "tf", "__run_graph__")
    assert [(n.name, n.device) for n in run_graph.node] == [
        ("a", "/job:w/device:GPU:1"), ("b", "")]


def test_attr_text_forms():
    from tbx.proto.graph_pb2 import AttrValue
    from tbx.proto.tensor_pb2 import TensorProto
    from tbx.proto.tensor_shape_pb2 import TensorShapeProto

    assert sources.attr_text(AttrValue(i=3)) == "3"
    assert sources.attr_text(AttrValue(f=0.5)) == "0.5"
    assert sources.attr_text(AttrValue(b=True)) == "True"
    assert sources.attr_text(AttrValue(type=3)) == "int32"
    assert sources.attr_text(AttrValue(list=AttrValue.ListValue(i=[1, 2]))) == "[1, 2]"
    assert sources.attr_text(AttrValue(s=b"x" * 1000)) == "x" * 499 + "…"
    t = TensorProto(dtype=3, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=2)]),
                    int_val=[4, 5])
    assert sources.attr_text(AttrValue(tensor=t)) == "tensor int32 [2] [4 5]"
    assert sources.attr_text(AttrValue()) == ""


KERAS2_FUNCTIONAL = {
    "class_name": "Functional",
    "config": {
        "name": "net",
        "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "dtype": "float32",
                                                                 "batch_input_shape": [None, 8]},
             "inbound_nodes": []},
            {"class_name": "Dense", "name": "d1", "config": {"name": "d1", "units": 4,
                                                             "activation": "relu"},
             "inbound_nodes": [[["x", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "d2", "config": {"name": "d2", "units": 4},
             "inbound_nodes": [[["d1", 0, 0, {}]]]},
            {"class_name": "Add", "name": "add", "config": {"name": "add"},
             "inbound_nodes": [[["d1", 0, 0, {}], ["d2", 0, 0, {}]]]},
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["add", 0, 0]],
    },
}


def test_keras2_functional_config_as_a_conceptual_graph():
    import json

    from tbx.viewer.plugins.graphs.keras import keras_graph

    g = keras_graph(json.dumps(KERAS2_FUNCTIONAL))
    assert [(n.name, n.op, list(n.input)) for n in g.node] == [
        ("net/x", "InputLayer", []), ("net/d1", "Dense", ["net/x"]),
        ("net/d2", "Dense", ["net/d1"]), ("net/add", "Add", ["net/d1", "net/d2"])]
    d1 = g.node[1]
    assert d1.attr["units"].s == b"4" and d1.attr["activation"].s == b'"relu"'
    assert graph_model(g)["nodes"]["dtype"][0] == "float32"
    with pytest.raises(ValueError, match="not a Keras model"):
        keras_graph("[1, 2]")
    with pytest.raises(ValueError, match="JSON"):
        keras_graph("{nope")


def test_keras_model_written_by_tbx_is_listed_and_nested_models_are_scopes(tmp_path,
                                                                            monkeypatch):
    """A real Keras 3 functional model holding a Sequential, written as Keras' TensorBoard
    callback writes it (tbx.summary.graph.keras_model_summary), read back as a graph."""
    import os
    import sys

    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "torch") != "torch":
        pytest.skip("keras already imported with another backend")
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"KERAS_BACKEND is {keras.backend.backend()}, not torch")
    from tbx.summary.graph import keras_model_summary

    keras.utils.clear_session()  # Keras numbers auto-named layers per process (input_layer_4)
    inp = keras.Input((8,), name="x")
    h = keras.layers.Dense(4, name="d1")(inp)
    block = keras.Sequential([keras.layers.Dense(3, name="s1"), keras.layers.ReLU(name="s2")],
                             name="block")
    out = keras.layers.Add(name="add")([block(h), keras.layers.Dense(3, name="skip")(h)])
    model = keras.Model(inp, out, name="net")
    w = tbx.FileWriter(tmp_path / "k")
    w.add_summary(keras_model_summary(model.to_json()), 0)
    w.close()
    p = LogdirProvider(tmp_path)
    p.refresh()
    entries = sources.list_graphs(p, "k")
    assert [(e["tag"], e["kind"], e["label"]) for e in entries] == [
        ("keras", "keras", "keras (Keras model)")]
    g = sources.load_graph(p, "k", "keras")
    edges = {(n.name, i) for n in g.node for i in n.input}
    assert edges == {("net/d1", "net/x"), ("net/block/input_layer", "net/d1"),
                     ("net/block/s1", "net/block/input_layer"), ("net/block/s2", "net/block/s1"),
                     ("net/skip", "net/d1"), ("net/add", "net/block/s2"), ("net/add", "net/skip")}
    m = graph_model(g)
    assert names_of(m, group(m, "net")["children"]) == [
        "net/x", "net/d1", "net/block", "net/skip", "net/add"]
    assert m["nodes"]["op"][m["nodes"]["name"].index("net/block/s2")] == "ReLU"
