"""Scalars: plugin ``scalars``.

Forms written, as tensorboardX and ``torch.utils.tensorboard`` write them:

* default: ``Summary.Value(tag, simple_value=float32)``, with ``SummaryMetadata(display_name,
  summary_description)`` only when either is given;
* ``new_style``: ``Value(tag, tensor=TensorProto(dtype=DT_FLOAT, float_val=[v]))`` with plugin
  ``scalars`` metadata; with ``double_precision`` the tensor is ``DT_DOUBLE`` / ``double_val``.

The hot path (``SummaryWriter.add_scalar``) writes the default form's bytes directly through
:class:`tbx.wire.ScalarEventEncoder`; the bytes equal this module's protobuf output.
"""

from __future__ import annotations

import numpy as np

from tbx.proto.summary_pb2 import Summary, SummaryMetadata
from tbx.proto.tensor_pb2 import TensorProto

__all__ = ["PLUGIN_NAME", "scalar_summary", "decode"]

PLUGIN_NAME = "scalars"


def scalar_summary(
    tag: str,
    value: float,
    display_name: str = "",
    summary_description: str = "",
    new_style: bool = False,
    double_precision: bool = False,
) -> Summary:
    """Summary of one scalar.

    Args:
        tag: the series name, written as given.
        value: the number (a Python float; NaN and ±Inf kept).
        display_name, summary_description: optional metadata shown by TensorBoard.
        new_style: write a 0-d tensor with plugin ``scalars`` metadata instead of
            ``simple_value``.
        double_precision: with ``new_style``, keep float64 (``DT_DOUBLE``) instead of float32.
    """
    if not new_style:
        v = Summary.Value(tag=tag, simple_value=value)
        if display_name or summary_description:
            v.metadata.display_name = display_name
            v.metadata.summary_description = summary_description
        return Summary(value=[v])
    if double_precision:
        tensor = TensorProto(dtype="DT_DOUBLE", double_val=[value])
    else:
        tensor = TensorProto(dtype="DT_FLOAT", float_val=[value])
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME),
        display_name=display_name,
        summary_description=summary_description,
    )
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def decode(value: Summary.Value) -> float:
    """The number of a scalar Value: ``simple_value``, or a one-element tensor of any numeric
    dtype (float16/32/64, bfloat16, ints, bool).

    Raises:
        ValueError: the Value holds neither form, or a tensor with other than one element.
    """
    which = value.WhichOneof("value")
    if which == "simple_value":
        return value.simple_value
    if which == "tensor":
        from tbx.summary.tensor import tensor_to_numpy

        arr = tensor_to_numpy(value.tensor)
        if arr.size != 1:
            raise ValueError(f"scalar {value.tag!r}: tensor has {arr.size} elements, not 1")
        return float(np.asarray(arr, dtype=np.float64).reshape(()))
    raise ValueError(f"scalar {value.tag!r}: Value holds {which!r}, not a scalar")
