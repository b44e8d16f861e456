"""Text: plugin ``text``.

Written as tensorboardX does: tag ``<tag>/text_summary``, ``SummaryMetadata`` with plugin
``text`` and content ``TextPluginData(version=0)``, and a ``DT_STRING`` tensor of shape ``[1]``
holding the UTF-8 text (Markdown, rendered by TensorBoard's text dashboard).
"""

from __future__ import annotations

from tbx.proto import types_pb2
from tbx.proto.plugin_text_pb2 import TextPluginData
from tbx.proto.summary_pb2 import Summary, SummaryMetadata
from tbx.proto.tensor_pb2 import TensorProto
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ["PLUGIN_NAME", "TAG_SUFFIX", "text_summary", "decode"]

PLUGIN_NAME = "text"
TAG_SUFFIX = "/text_summary"

_METADATA = SummaryMetadata(
    plugin_data=SummaryMetadata.PluginData(
        plugin_name=PLUGIN_NAME, content=TextPluginData(version=0).SerializeToString()
    )
)


def text_summary(tag: str, text: str) -> Summary:
    """Summary of one text: tag ``tag + "/text_summary"``, a ``[1]`` string tensor.

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text_string must be a str, got {type(text).__name__}")
    tensor = TensorProto(
        dtype="DT_STRING",
        string_val=[text.encode("utf-8")],
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
    )
    value = Summary.Value(tag=tag + TAG_SUFFIX, tensor=tensor)
    value.metadata.CopyFrom(_METADATA)
    return Summary(value=[value])


def decode(value: Summary.Value) -> str | list:
    """The text of a text Value: a ``str`` for a one-element tensor; for a tensor of several
    strings (TensorBoard renders those as a table), nested lists of ``str`` in the tensor's
    shape. Bytes that are not valid UTF-8 are replaced (U+FFFD).

    Raises:
        ValueError: the Value holds no string tensor.
    """
    if value.WhichOneof("value") != "tensor" or value.tensor.dtype != types_pb2.DT_STRING:
        raise ValueError(f"text {value.tag!r}: Value holds no string tensor")
    strings = [s.decode("utf-8", errors="replace") for s in value.tensor.string_val]
    shape = [d.size for d in value.tensor.tensor_shape.dim]
    if len(strings) == 1:
        return strings[0]
    import numpy as np

    return np.array(strings, dtype=object).reshape(shape).tolist()
