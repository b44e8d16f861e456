"""A plugin's own data: any ``plugin_name``, with bytes or a tensor.

For a viewer plugin (``tbx.viewer.plugin``) that shows a kind tbx does not know, e.g. a confusion
matrix. The Value holds a ``tensor`` and ``SummaryMetadata.plugin_data = {plugin_name,
content}``, the form TensorBoard's own v2 summaries use, so the official TensorBoard and every
reader keep the plugin name; ``content`` is the plugin's own metadata (labels, a version...),
opaque to tbx. The reader returns such a tag as a tensor series (a ``numpy`` array per point;
``bytes`` come back as an ``object`` array of ``bytes``) whose ``TagInfo.plugin_name`` is
``plugin_name``.

Data forms:

* ``bytes`` (or ``bytearray``, ``memoryview``) or ``str`` (UTF-8): a ``DT_STRING`` tensor of
  shape ``[]`` (one string);
* a ``list``/``tuple`` of those: a ``DT_STRING`` tensor of shape ``[n]``;
* any tensor-like (numpy, torch, jax, nested lists of numbers; :mod:`tbx.convert`): a tensor of
  its dtype and shape (bool, int8..int64, uint8..uint64, float16/32/64, complex).
"""

from __future__ import annotations

import re

import numpy as np

from tbx.proto import types_pb2
from tbx.proto.summary_pb2 import Summary, SummaryMetadata
from tbx.proto.tensor_pb2 import TensorProto
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ["RESERVED_PLUGIN_NAMES", "plugin_summary", "decode", "PluginData"]

#: Plugin names whose format a ``tbx.summary`` kind module owns (write those with ``add_<kind>``).
RESERVED_PLUGIN_NAMES = frozenset({
    "scalars", "histograms", "images", "audio", "video", "text", "pr_curves", "hparams",
    "custom_scalars", "mesh", "projector", "graphs",
})
_NAME = re.compile(r"[A-Za-z0-9_.-]+\Z")


def _check_name(plugin_name) -> str:
    if not isinstance(plugin_name, str):
        raise TypeError(f"plugin_name must be a str, got {type(plugin_name).__name__}")
    if not _NAME.match(plugin_name):
        raise ValueError(f"plugin_name must be non-empty letters, digits, '_', '.' or '-'; "
                         f"got {plugin_name!r}")
    if plugin_name in RESERVED_PLUGIN_NAMES:
        raise ValueError(f"plugin_name {plugin_name!r} is a built-in kind with its own format; "
                         f"use its add_* method (or pick another name)")
    return plugin_name


def _as_bytes(x) -> bytes | None:
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    return None


def _tensor(data) -> TensorProto:
    one = _as_bytes(data)
    if one is not None:
        return TensorProto(dtype=types_pb2.DT_STRING, string_val=[one],
                           tensor_shape=TensorShapeProto())
    if isinstance(data, (list, tuple)) and data and all(
            isinstance(x, (str, bytes, bytearray, memoryview)) for x in data):
        return TensorProto(dtype=types_pb2.DT_STRING,
                           string_val=[_as_bytes(x) for x in data],
                           tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(
                               size=len(data))]))
    from tbx.convert import to_numpy
    from tbx.summary.tensor import numpy_to_tensor

    a = to_numpy(data, "data")
    if a.dtype.kind not in "biufc":
        raise TypeError(f"data must be bytes, str, a list of those, or a numeric tensor-like; "
                        f"got an array of dtype {a.dtype}")
    return numpy_to_tensor(np.ascontiguousarray(a))


def plugin_summary(tag: str, data, plugin_name: str, content: bytes | str = b"") -> Summary:
    """Summary of one Value of a plugin's own data (module docstring for the forms of ``data``).

    Args:
        tag: the Value's tag (non-empty).
        data: bytes, str, a list of those, or a numeric tensor-like.
        plugin_name: the plugin that reads it: letters, digits, ``_``, ``.``, ``-``; not a
            built-in kind's name (:data:`RESERVED_PLUGIN_NAMES`).
        content: the plugin's metadata (``bytes``, or ``str`` stored as UTF-8), at most 1 MB.

    Raises:
        TypeError: a ``tag``, ``plugin_name`` or ``content`` of the wrong type, or ``data`` of
            no accepted form.
        ValueError: empty ``tag``, a bad or reserved ``plugin_name``, ``content`` over 1 MB.
    """
    from tbx.convert import check_tag

    check_tag(tag)
    name = _check_name(plugin_name)
    raw = _as_bytes(content)
    if raw is None:
        raise TypeError(f"content must be bytes or str, got {type(content).__name__}")
    if len(raw) > 1 << 20:
        raise ValueError(f"content must be at most 1 MB, got {len(raw)} bytes")
    value = Summary.Value(tag=tag, tensor=_tensor(data))
    value.metadata.CopyFrom(SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=name, content=raw)))
    return Summary(value=[value])


class PluginData(tuple):
    """``(plugin_name, content, data)`` of one Value, as :func:`decode` returns it."""

    __slots__ = ()

    def __new__(cls, plugin_name: str, content: bytes, data: np.ndarray):
        return super().__new__(cls, (plugin_name, content, data))

    plugin_name = property(lambda self: self[0], doc="the SummaryMetadata plugin name")
    content = property(lambda self: self[1], doc="the plugin's metadata bytes")
    data = property(lambda self: self[2], doc="the tensor as numpy (strings: object array)")


def decode(value: Summary.Value) -> PluginData:
    """The plugin name, metadata bytes and data (numpy; strings as an ``object`` array of
    ``bytes``) of a Value written by :func:`plugin_summary`.

    Raises:
        ValueError: the Value holds no tensor or names no plugin.
    """
    from tbx.summary.tensor import tensor_to_numpy

    if value.WhichOneof("value") != "tensor":
        raise ValueError(f"plugin data {value.tag!r}: Value holds no tensor")
    pd = value.metadata.plugin_data
    if not pd.plugin_name:
        raise ValueError(f"plugin data {value.tag!r}: no plugin name in its metadata")
    return PluginData(pd.plugin_name, bytes(pd.content), tensor_to_numpy(value.tensor))
