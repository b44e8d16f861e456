"""Decoding a stored point (a serialized ``Summary.Value``) into the provider's value forms,
and the SummaryMetadata of v1 forms that carry none.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOB_PLUGINS", "RUN_GRAPH_TAG", "histogram_to_tensor", "decode_tensor_value",
           "decode_blob_value", "metadata_for"]

#: Plugins whose tensors are blob sequences (TensorBoard's images, audio; tbx's video).
BLOB_PLUGINS = frozenset({"images", "audio", "video"})
#: Tag under which a run's GraphDef is kept (TensorBoard's graphs plugin uses the same name).
RUN_GRAPH_TAG = "__run_graph__"


def _pb():
    from tbx.proto import summary_pb2

    return summary_pb2


def metadata_for(plugin: str):
    """A ``SummaryMetadata`` naming ``plugin`` and its data class (for v1 forms without one)."""
    summary_pb2 = _pb()
    dc = {"scalars": summary_pb2.DATA_CLASS_SCALAR, "images": summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
          "audio": summary_pb2.DATA_CLASS_BLOB_SEQUENCE}.get(plugin, summary_pb2.DATA_CLASS_TENSOR)
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin), data_class=dc
    )


def histogram_to_tensor(histo) -> np.ndarray:
    """A v1 ``HistogramProto`` as TensorBoard's v2 histogram tensor: float64 ``[k, 3]`` rows of
    ``(left edge, right edge, count)``; the first left edge is ``histo.min``, the last right edge
    ``histo.max`` (v1's last limit is a sentinel like DBL_MAX)."""
    limits = np.asarray(histo.bucket_limit, np.float64)
    counts = np.asarray(histo.bucket, np.float64)
    k = len(counts)
    if k == 0:
        return np.zeros((0, 3), np.float64)
    right = limits[:k].copy()
    if len(right) < k:
        right = np.concatenate([right, np.full(k - len(right), histo.max)])
    left = np.concatenate([[histo.min], right[:-1]])
    right[-1] = histo.max
    return np.stack([left, right, counts], axis=1)


def decode_tensor_value(value) -> np.ndarray:
    """A ``Summary.Value`` of a tensor series as a numpy array (see :mod:`tbx.reader.provider`).

    Raises:
        ValueError: the Value holds an image or audio.
    """
    which = value.WhichOneof("value")
    if which == "tensor":
        from tbx.summary.tensor import tensor_to_numpy

        return tensor_to_numpy(value.tensor)
    if which == "histo":
        return histogram_to_tensor(value.histo)
    if which == "simple_value":
        return np.asarray(value.simple_value, np.float32)
    if which is None:
        return np.zeros(0, np.float32)  # a Value carrying metadata only
    raise ValueError(f"tag {value.tag!r}: Value holds {which!r}, not a tensor")


def decode_blob_value(value) -> list[bytes]:
    """A ``Summary.Value`` of a blob series as ``list[bytes]`` (see :mod:`tbx.reader.provider`).

    Raises:
        ValueError: the Value holds no tensor, image or audio.
    """
    which = value.WhichOneof("value")
    if which == "tensor":
        t = value.tensor
        if t.string_val:
            return list(t.string_val)
        from tbx.summary.tensor import tensor_to_numpy

        arr = tensor_to_numpy(t)
        return [bytes(x) for x in arr.reshape(-1)] if arr.dtype == object else [arr.tobytes()]
    if which == "image":
        im = value.image
        return [str(im.width).encode(), str(im.height).encode(), im.encoded_image_string]
    if which == "audio":
        return [value.audio.encoded_audio_string, b""]
    raise ValueError(f"tag {value.tag!r}: Value holds {which!r}, not a blob sequence")
