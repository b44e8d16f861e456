"""Our protos: generated code up to date, field numbers identical to TensorFlow/TensorBoard's,
and no descriptor clash with tensorboard's or tensorboardX's protos in one process."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "src" / "tbx" / "proto"

# (our module, our message, their module, their message)
PAIRS = [
    ("event_pb2", "Event", "tensorboard.compat.proto.event_pb2", "Event"),
    ("event_pb2", "SessionLog", "tensorboard.compat.proto.event_pb2", "SessionLog"),
    ("event_pb2", "LogMessage", "tensorboard.compat.proto.event_pb2", "LogMessage"),
    ("event_pb2", "TaggedRunMetadata", "tensorboard.compat.proto.event_pb2", "TaggedRunMetadata"),
    ("event_pb2", "SourceMetadata", "tensorboard.compat.proto.event_pb2", "SourceMetadata"),
    ("summary_pb2", "Summary", "tensorboard.compat.proto.summary_pb2", "Summary"),
    ("summary_pb2", "Summary.Value", "tensorboard.compat.proto.summary_pb2", "Summary.Value"),
    ("summary_pb2", "Summary.Image", "tensorboard.compat.proto.summary_pb2", "Summary.Image"),
    ("summary_pb2", "Summary.Audio", "tensorboard.compat.proto.summary_pb2", "Summary.Audio"),
    ("summary_pb2", "SummaryMetadata", "tensorboard.compat.proto.summary_pb2", "SummaryMetadata"),
    ("summary_pb2", "SummaryMetadata.PluginData", "tensorboard.compat.proto.summary_pb2",
     "SummaryMetadata.PluginData"),
    ("summary_pb2", "SummaryDescription", "tensorboard.compat.proto.summary_pb2",
     "SummaryDescription"),
    ("summary_pb2", "HistogramProto", "tensorboard.compat.proto.histogram_pb2", "HistogramProto"),
    ("tensor_pb2", "TensorProto", "tensorboard.compat.proto.tensor_pb2", "TensorProto"),
    ("tensor_shape_pb2", "TensorShapeProto", "tensorboard.compat.proto.tensor_shape_pb2",
     "TensorShapeProto"),
    ("tensor_shape_pb2", "TensorShapeProto.Dim", "tensorboard.compat.proto.tensor_shape_pb2",
     "TensorShapeProto.Dim"),
    ("graph_pb2", "GraphDef", "tensorboard.compat.proto.graph_pb2", "GraphDef"),
    ("graph_pb2", "NodeDef", "tensorboard.compat.proto.node_def_pb2", "NodeDef"),
    ("graph_pb2", "AttrValue", "tensorboard.compat.proto.attr_value_pb2", "AttrValue"),
    ("graph_pb2", "AttrValue.ListValue", "tensorboard.compat.proto.attr_value_pb2",
     "AttrValue.ListValue"),
    ("graph_pb2", "NameAttrList", "tensorboard.compat.proto.attr_value_pb2", "NameAttrList"),
    ("graph_pb2", "VersionDef", "tensorboard.compat.proto.versions_pb2", "VersionDef"),
    ("graph_pb2", "RunMetadata", "tensorboard.compat.proto.config_pb2", "RunMetadata"),
    ("graph_pb2", "StepStats", "tensorboard.compat.proto.step_stats_pb2", "StepStats"),
    ("graph_pb2", "DeviceStepStats", "tensorboard.compat.proto.step_stats_pb2",
     "DeviceStepStats"),
    ("graph_pb2", "NodeExecStats", "tensorboard.compat.proto.step_stats_pb2", "NodeExecStats"),
    ("graph_pb2", "AllocatorMemoryUsed", "tensorboard.compat.proto.step_stats_pb2",
     "AllocatorMemoryUsed"),
    ("plugin_text_pb2", "TextPluginData", "tensorboard.plugins.text.plugin_data_pb2",
     "TextPluginData"),
    ("plugin_pr_curve_pb2", "PrCurvePluginData", "tensorboard.plugins.pr_curve.plugin_data_pb2",
     "PrCurvePluginData"),
    ("plugin_mesh_pb2", "MeshPluginData", "tensorboard.plugins.mesh.plugin_data_pb2",
     "MeshPluginData"),
    ("layout_pb2", "Layout", "tensorboard.plugins.custom_scalar.layout_pb2", "Layout"),
    ("layout_pb2", "Category", "tensorboard.plugins.custom_scalar.layout_pb2", "Category"),
    ("layout_pb2", "Chart", "tensorboard.plugins.custom_scalar.layout_pb2", "Chart"),
    ("layout_pb2", "MultilineChartContent", "tensorboard.plugins.custom_scalar.layout_pb2",
     "MultilineChartContent"),
    ("layout_pb2", "MarginChartContent", "tensorboard.plugins.custom_scalar.layout_pb2",
     "MarginChartContent"),
    ("layout_pb2", "MarginChartContent.Series", "tensorboard.plugins.custom_scalar.layout_pb2",
     "MarginChartContent.Series"),
    ("projector_config_pb2", "ProjectorConfig",
     "tensorboard.plugins.projector.projector_config_pb2", "ProjectorConfig"),
    ("projector_config_pb2", "EmbeddingInfo",
     "tensorboard.plugins.projector.projector_config_pb2", "EmbeddingInfo"),
    ("projector_config_pb2", "SpriteMetadata",
     "tensorboard.plugins.projector.projector_config_pb2", "SpriteMetadata"),
    ("plugin_hparams_pb2", "Experiment", "tensorboard.plugins.hparams.api_pb2", "Experiment"),
    ("plugin_hparams_pb2", "HParamInfo", "tensorboard.plugins.hparams.api_pb2", "HParamInfo"),
    ("plugin_hparams_pb2", "MetricInfo", "tensorboard.plugins.hparams.api_pb2", "MetricInfo"),
    ("plugin_hparams_pb2", "MetricName", "tensorboard.plugins.hparams.api_pb2", "MetricName"),
    ("plugin_hparams_pb2", "Interval", "tensorboard.plugins.hparams.api_pb2", "Interval"),
    ("plugin_hparams_pb2", "HParamsPluginData",
     "tensorboard.plugins.hparams.plugin_data_pb2", "HParamsPluginData"),
    ("plugin_hparams_pb2", "SessionStartInfo",
     "tensorboard.plugins.hparams.plugin_data_pb2", "SessionStartInfo"),
    ("plugin_hparams_pb2", "SessionEndInfo",
     "tensorboard.plugins.hparams.plugin_data_pb2", "SessionEndInfo"),
]


def _message(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj.DESCRIPTOR


def _enum_values(field):
    if field.enum_type is None:
        return None
    return {v.name: v.number for v in field.enum_type.values}


@pytest.mark.parametrize("ours,our_msg,theirs,their_msg", PAIRS, ids=[p[1] for p in PAIRS])
def test_fields_match_tensorboard(ours, our_msg, theirs, their_msg):
    mine = _message(importlib.import_module(f"tbx.proto.{ours}"), our_msg)
    ref = _message(importlib.import_module(theirs), their_msg)
    assert mine.fields, our_msg
    for field in mine.fields:
        assert field.name in ref.fields_by_name, f"{our_msg}.{field.name} not in TensorBoard's"
        other = ref.fields_by_name[field.name]
        assert field.number == other.number, f"{our_msg}.{field.name}"
        assert field.type == other.type, f"{our_msg}.{field.name}"
        assert field.is_repeated == other.is_repeated, f"{our_msg}.{field.name}"
        if field.message_type is not None:
            assert field.message_type.name == other.message_type.name
        if field.enum_type is not None:
            assert _enum_values(field) == {
                k: v for k, v in _enum_values(other).items() if k in _enum_values(field)
            }
        oneof = field.containing_oneof
        assert (oneof.name if oneof else None) == (
            other.containing_oneof.name if other.containing_oneof else None
        ), f"{our_msg}.{field.name}"


def test_data_type_enum_matches_tensorflow():
    from tensorboard.compat.proto import types_pb2 as theirs

    from tbx.proto import types_pb2 as ours

    for name, number in ours.DataType.items():
        assert theirs.DataType.Value(name) == number, name


def test_same_bytes_as_tensorboard_protos():
    """A filled Event serialises to the same bytes with our protos and TensorBoard's."""
    from tensorboard.compat.proto import event_pb2 as tb_event

    from tbx.proto import event_pb2

    def fill(mod_event, summary_mod):
        e = mod_event.Event(wall_time=1.5, step=-7)
        v = e.summary.value.add(tag="a/b c", simple_value=0.25)
        v.metadata.plugin_data.plugin_name = "scalars"
        v.metadata.display_name = "A"
        h = e.summary.value.add(tag="h").histo
        h.min, h.max, h.num = -1.0, 2.0, 3.0
        h.bucket_limit.extend([0.0, 2.0])
        h.bucket.extend([1.0, 2.0])
        return e.SerializeToString()

    assert fill(event_pb2, None) == fill(tb_event, None)


def test_no_descriptor_clash_with_tensorboard_and_tensorboardx():
    code = (
        "import tbx.proto.event_pb2, tbx.proto.graph_pb2, tbx.proto.plugin_hparams_pb2\n"
        "import tbx.proto.layout_pb2, tbx.proto.plugin_mesh_pb2, tbx.proto.projector_config_pb2\n"
        "import tbx.proto.plugin_pr_curve_pb2, tbx.proto.plugin_text_pb2\n"
        "import tensorboardX, tensorboardX.proto.event_pb2\n"
        "import tensorboard.compat.proto.event_pb2, tensorboard.plugins.hparams.plugin_data_pb2\n"
        "import tensorboard.plugins.mesh.plugin_data_pb2\n"
        "import tensorboard.plugins.pr_curve.plugin_data_pb2\n"
        "import tensorboard.plugins.custom_scalar.layout_pb2\n"
        "import tensorboard.plugins.projector.projector_config_pb2\n"
        "print(tbx.proto.event_pb2.Event.DESCRIPTOR.full_name)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "tbx.Event"


def test_generated_code_is_up_to_date(tmp_path):
    pytest.importorskip("grpc_tools", reason="grpcio-tools (dev extra) regenerates the protos")
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    generated = sorted((tmp_path / "tbx" / "proto").glob("*_pb2.py*"))
    checked_in = sorted(PROTO_DIR.glob("*_pb2.py*"))
    assert [p.name for p in generated] == [p.name for p in checked_in]
    for new in generated:
        old = PROTO_DIR / new.name
        assert new.read_text() == old.read_text(), (
            f"{old.name} is stale: run `python scripts/gen_protos.py`"
        )
