"""README's "Switching" section lists every public name of tensorboardX and tbparse, and every
name it says tbx has is there."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

import tbx

tensorboardX = pytest.importorskip("tensorboardX")
tbparse = pytest.importorskip("tbparse")

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
TBX_MODULES = ["summary", "x2num", "utils", "writer", "global_writer", "record_writer",
               "event_file_writer", "embedding", "onnx_graph", "openvino_graph", "comet_utils",
               "visdom_writer", "torchvis", "crc32c"]


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Switching")
    return text[start: text.index("\n## ", start + 1)]


def _listed(name: str, text: str) -> bool:
    return re.search(r"`[^`\n]*(?<!\w)" + re.escape(name) + r"(?!\w)[^`\n]*`", text) \
        is not None


def _public(obj) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


def _module_names(mod) -> set[str]:
    """Names a module defines or imports at its top level (public ones)."""
    return {n for n in vars(mod) if not n.startswith("_")}


def test_every_tensorboardx_name_is_listed():
    section = _section()
    names = _module_names(tensorboardX) | {"__version__"}
    for cls in (tensorboardX.SummaryWriter, tensorboardX.FileWriter,
                tensorboardX.GlobalSummaryWriter):
        names |= _public(cls)
    w = tensorboardX.SummaryWriter(write_to_disk=False)
    names |= {n for n in vars(w) if not n.startswith("_")}
    for m in TBX_MODULES:
        try:
            mod = importlib.import_module(f"tensorboardX.{m}")
        except ImportError:
            continue
        names |= {n for n, v in vars(mod).items() if not n.startswith("_")
                  and (getattr(v, "__module__", None) == mod.__name__ or m == "summary"
                       or not callable(v))}
    typing_and_stdlib = {"Optional", "Union", "Any", "List", "Dict", "Tuple", "time", "json",
                         "io", "logging", "np", "os", "re", "struct", "copy", "boto3", "storage",
                         "S3_ENABLED", "GCS_ENABLED", "REGISTERED_FACTORIES", "vis_formats",
                         "gc", "wraps", "math", "socket", "atexit", "threading", "queue",
                         "six", "multiprocessing", "numbers", "string", "datetime", "functools",
                         "CRC_TABLE", "CRC_INIT", "version", "torch", "mp", "Queue", "Lock",
                         "Value", "Thread", "contextlib", "pathlib"}
    missing = sorted(n for n in names - typing_and_stdlib if not _listed(n, section))
    assert not missing, f"README's Switching section does not list {missing}"


def test_every_tbparse_name_is_listed():
    from tbparse import summary_reader

    section = _section()
    names = _public(tbparse.SummaryReader) | _module_names(summary_reader) | {"__version__",
                                                                            "version"}
    missing = sorted(n for n in names if not _listed(n, section))
    assert not missing, f"README's Switching section does not list {missing}"


def test_what_the_section_promises_exists():
    from tbparse import summary_reader

    from tbx.reader import tbparse_compat

    for name in tbx.summary.FUNCTIONS:
        assert callable(getattr(tbx.summary, name))
    for name in ("Summary", "SummaryMetadata", "HistogramProto", "TensorProto",
                 "TensorShapeProto", "TextPluginData", "PrCurvePluginData", "MeshPluginData",
                 "layout_pb2", "make_np", "convert_to_HWC", "convert_to_NTCHW"):
        assert getattr(tbx.summary, name) is not None
    for name in ("make_np", "check_nan", "prepare_pytorch", "prepare_mxnet", "prepare_chainer",
                 "prepare_theano"):
        assert callable(getattr(tbx.x2num, name))
    from tbx import utils

    for name in ("figure_to_image", "make_grid", "convert_to_HWC", "convert_to_NTCHW",
                 "graphviz_to_image"):
        assert callable(getattr(utils, name))
    skip = {"add_openvino_graph", "default_bins"}  # listed as different
    for cls_x, cls_t in ((tensorboardX.SummaryWriter, tbx.SummaryWriter),
                         (tensorboardX.FileWriter, tbx.FileWriter)):
        for name in _public(cls_x) - skip:
            assert hasattr(cls_t, name), (cls_t, name)
    g = tbx.GlobalSummaryWriter(write_to_disk=False)  # add_* are built per instance
    for name in _public(tensorboardX.GlobalSummaryWriter):
        assert hasattr(g, name), name
    g.close()
    for name in _public(tbparse.SummaryReader):
        assert hasattr(tbx.SummaryReader, name), name
    for name in ("ALL_EVENT_TYPES", "ALL_EXTRA_COLUMNS", "REDUCED_EVENT_TYPES", "PLUGIN_TAGS",
                 "PLUGIN_RAW_TAGS", "SCALARS", "TENSORS", "HISTOGRAMS", "IMAGES", "AUDIO",
                 "HPARAMS", "TEXT", "ScalarEvent", "TensorEvent", "HistogramEvent",
                 "ImageEvent", "AudioEvent", "make_ndarray"):
        mine = getattr(tbparse_compat, name)
        theirs = getattr(summary_reader, name)
        if isinstance(theirs, (set, dict, str)):
            assert mine == theirs, name
