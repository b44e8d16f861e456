"""add_graph (PyTorch, traced with torch.jit.trace) and add_onnx_graph: the GraphDef and step-stats
events tensorboardX writes, loaded by TensorBoard's EventAccumulator; the same operations and
shapes as torch.utils.tensorboard's converter; tracing failures and missing extras raise clear
errors and leave the writer usable."""

from __future__ import annotations

import sys
import types
from collections import Counter

import numpy as np
import pytest
from conftest import read_logdir_events
from kinds_helpers import accumulator, assert_kept_after_error

import tbx
from tbx.proto.graph_pb2 import RunMetadata
from tbx.summary import graph as graph_mod

torch = pytest.importorskip("torch")
nn = torch.nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.seq = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

    def forward(self, x):
        return self.seq(self.fc1(x)) * 2


class TwoInOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x, y):
        z = self.conv(x)
        return z.relu(), y + 1


def graph_events(logdir):
    events = read_logdir_events(logdir)
    graphs = [e for e in events if e.WhichOneof("what") == "graph_def"]
    metas = [e for e in events if e.WhichOneof("what") == "tagged_run_metadata"]
    return graphs, metas


def shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


def test_graph_of_a_module(logdir):
    model = Net()
    model.train()
    with tbx.SummaryWriter(logdir) as w:
        w.add_graph(model, torch.zeros(5, 4))
    assert model.training  # restored
    (g_event,), (m_event,) = graph_events(logdir)
    assert g_event.step == 0 and m_event.step == 0
    graph = graph_mod.decode(g_event.graph_def)
    assert graph.versions.producer == 22
    nodes = {n.name: n for n in graph.node}
    assert list(nodes) == [
        "input/x",
        "Net/Linear[fc1]/bias",
        "Net/Linear[fc1]/weight",
        "Net/Linear[fc1]/input.1",
        "Net/Sequential[seq]/ReLU[0]/input",
        "Net/Sequential[seq]/Linear[1]/bias",
        "Net/Sequential[seq]/Linear[1]/weight",
        "Net/Sequential[seq]/Linear[1]/51",
        "Net/23",
        "Net/24",
        "output/output.1",
    ]  # value names (input.1, 51, 23, 24) are torch's own (torch pinned in the dev extra)
    by_op = Counter(n.op for n in graph.node)
    assert by_op == Counter({"IO Node": 2, "prim::GetAttr": 4, "aten::linear": 2,
                             "aten::relu": 1, "prim::Constant": 1, "aten::mul": 1})
    x = nodes["input/x"]
    assert x.op == "IO Node" and shapes(x) == [[5, 4]]
    (fc1,) = [n for n in graph.node if n.op == "aten::linear" and "fc1" in n.name]
    assert list(fc1.input) == ["input/x", "Net/Linear[fc1]/weight", "Net/Linear[fc1]/bias"]
    assert shapes(fc1) == [[5, 3]]
    assert shapes(nodes["Net/Linear[fc1]/weight"]) == [[3, 4]]
    (relu,) = [n for n in graph.node if n.op == "aten::relu"]
    assert relu.name.startswith("Net/Sequential[seq]/ReLU[0]/") and list(relu.input) == [
        fc1.name
    ]
    out = nodes["output/output.1"]
    (mul,) = [n for n in graph.node if n.op == "aten::mul"]
    assert list(out.input) == [mul.name] and shapes(out) == [[5, 2]]
    names = set(nodes)
    assert all(i in names for n in graph.node for i in n.input)
    # the step stats event, as tensorboardX writes it
    assert m_event.tagged_run_metadata.tag == "profiler"
    meta = RunMetadata.FromString(m_event.tagged_run_metadata.run_metadata)
    assert [d.device for d in meta.step_stats.dev_stats] == ["/device:CPU:0"]
    # TensorBoard loads it
    acc = accumulator(logdir)
    tb_graph = acc.Graph()
    assert [n.name for n in tb_graph.node] == [n.name for n in graph.node]
    assert acc.Tags()["run_metadata"] == ["profiler"]


@pytest.mark.filterwarnings("ignore:.*torch.jit.trace:DeprecationWarning")
def test_same_operations_and_shapes_as_torch_utils_tensorboard(logdir):
    from torch.utils.tensorboard._pytorch_graph import graph as torch_graph

    model = TwoInOut()
    args = (torch.zeros(1, 1, 6, 6), torch.zeros(3))
    with tbx.SummaryWriter(logdir) as w:
        w.add_graph(model, args)
    (g_event,), _ = graph_events(logdir)
    ours = graph_mod.decode(g_event.graph_def)
    theirs, _ = torch_graph(model, args)

    def ops_and_shapes(g):
        return sorted(
            (n.op, str([[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]))
            for n in g.node
            if n.op not in ("IO Node", "prim::GetAttr", "Parameter")
        )

    assert ops_and_shapes(ours) == ops_and_shapes(theirs)
    io_nodes = [n.name for n in ours.node if n.op == "IO Node"]
    assert io_nodes == ["input/x", "input/y", "output/output.1"]  # one tuple output
    assert len(accumulator(logdir).Graph().node) == len(ours.node)


def test_list_input_function_and_verbose(logdir, capsys):
    def fn(a, b):
        return a * b + 1

    with tbx.SummaryWriter(logdir) as w:
        w.add_graph(fn, [torch.ones(2), torch.ones(2)], verbose=True)
    assert "aten::mul" in capsys.readouterr().out
    (g_event,), _ = graph_events(logdir)
    ops = [n.op for n in graph_mod.decode(g_event.graph_def).node]
    assert "aten::mul" in ops and "aten::add" in ops


def test_shared_parameter_is_one_node(logdir):
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(self.lin(x))

    with tbx.SummaryWriter(logdir) as w:
        w.add_graph(Shared(), torch.zeros(1, 2))
    (g_event,), _ = graph_events(logdir)
    graph = graph_mod.decode(g_event.graph_def)
    names = [n.name for n in graph.node]
    assert len(names) == len(set(names))
    assert names.count("Shared/Linear[lin]/weight") == 1


def test_tracing_failure_is_a_clear_error_and_writer_stays_usable(logdir):
    model = Net()
    model.train()
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(RuntimeError, match=r"tracing model Net with torch.jit.trace failed"):
        w.add_graph(model, torch.zeros(5, 7))  # wrong input size
    with pytest.raises(RuntimeError, match=r"tracing model Net .*failed"):
        w.add_graph(model)  # no input
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        w.add_graph(42, torch.zeros(1))
    assert model.training
    assert graph_events(logdir) == ([], [])
    assert_kept_after_error(w, logdir)
    w.add_graph(model, torch.zeros(5, 4))
    w.flush()
    assert len(graph_events(logdir)[0]) == 1
    w.close()


def test_missing_torch_names_the_extra(logdir, monkeypatch):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[torch\]"'):
        w.add_graph(object(), None)
    monkeypatch.undo()
    assert_kept_after_error(w, logdir)
    w.close()


def test_missing_onnx_names_the_extra(logdir, monkeypatch):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[onnx\]"'):
        w.add_onnx_graph("model.onnx")
    monkeypatch.undo()
    assert_kept_after_error(w, logdir)
    w.close()


def _fake_onnx_graph():
    """An object shaped like onnx.GraphProto (onnx itself is optional)."""
    ns = types.SimpleNamespace

    def value(name, elem_type, dims):
        dim = [ns(dim_value=d) for d in dims]
        return ns(name=name, type=ns(tensor_type=ns(elem_type=elem_type, shape=ns(dim=dim))))

    class Attr(ns):
        def ListFields(self):  # noqa: N802 - protobuf's name
            return [(None, self.name), (None, self.i)]

    node = ns(op_type="Relu", name="r", input=["x"], output=["y"],
              attribute=[Attr(name="alpha", i=2)])
    return ns(input=[value("x", 1, [1, 3])], output=[value("y", 1, [1, 3])], node=[node])


def test_onnx_graph_layout():
    graph = graph_mod.onnx_graph(_fake_onnx_graph())
    nodes = {n.name: n for n in graph.node}
    assert list(nodes) == ["x", "y", "output/y"]
    assert nodes["x"].op == "Variable" and nodes["x"].attr["dtype"].type == 1
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [1, 3]
    assert nodes["y"].op == "Relu" and list(nodes["y"].input) == ["x"]
    assert nodes["y"].attr["parameters"].s == b"alpha = 2"
    assert list(nodes["output/y"].input) == ["y"]


def test_add_onnx_graph_with_onnx(logdir, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with tbx.SummaryWriter(logdir) as w:
        w.add_onnx_graph(str(path))
    (g_event,), _ = graph_events(logdir)
    names = [n.name for n in graph_mod.decode(g_event.graph_def).node]
    assert names == ["x", "y", "output/y"]
    assert [n.name for n in accumulator(logdir).Graph().node] == names


def test_graph_events_not_written_with_write_to_disk_false(tmp_path):
    w = tbx.SummaryWriter(tmp_path / "off", write_to_disk=False)
    w.add_graph(Net(), torch.zeros(1, 4))
    w.close()
    assert not (tmp_path / "off").exists()
    assert np is not None


def test_keras_model_summary_as_tensorboard_reads_it(logdir):
    """The conceptual-graph Summary Keras writes (tag "keras", plugin graph_keras_model, a
    scalar string tensor): TensorBoard's accumulator returns the JSON, its keras_util draws it."""
    pytest.importorskip("tensorboard")
    import json

    from tensorboard.plugins.graph import keras_util
    from tensorboard.util import tensor_util

    model = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "Dense", "config": {"name": "d1", "units": 2}},
        {"class_name": "Dense", "config": {"name": "d2", "units": 1}}]}}
    summary = graph_mod.keras_model_summary(json.dumps(model))
    value = summary.value[0]
    assert value.tag == "keras" and value.metadata.plugin_data.plugin_name == "graph_keras_model"
    assert value.metadata.plugin_data.content == b"1"
    assert graph_mod.decode_keras_model(value) == json.dumps(model)
    with tbx.SummaryWriter(logdir) as w:
        w.file_writer.add_summary(summary, 0)
    acc = accumulator(logdir)
    text = tensor_util.make_ndarray(acc.Tensors("keras")[0].tensor_proto).item()
    assert json.loads(text) == model
    graph = keras_util.keras_model_to_graph_def(json.loads(text))
    assert [n.name for n in graph.node] == ["seq/d1", "seq/d2"]
    with pytest.raises(TypeError, match="model_json must be a str"):
        graph_mod.keras_model_summary(model)
