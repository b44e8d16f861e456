"""Meshes and point clouds: plugin ``mesh``.

Written as TensorBoard's mesh plugin expects (``tensorboard/plugins/mesh/summary_v2.py`` and
``metadata.py``): one ``Summary.Value`` per component, tagged ``<tag>_VERTEX``, ``<tag>_FACE``
and ``<tag>_COLOR``, each with a tensor of shape ``(B, N, 3)`` -- float32 vertices, int32 faces,
uint8 colors -- and metadata plugin ``mesh`` with content ``MeshPluginData(version=0, name=tag,
content_type, json_config, shape, components)``. ``components`` is the bitmask of the present
components (``1 << VERTEX | 1 << FACE | 1 << COLOR``), so a point cloud (no faces) displays;
``json_config`` is the JSON of ``config_dict`` with sorted keys (``"{}"`` when None).

tensorboardX differs: it tags the components ``<tag>_1``/``_2``/``_3``, stores all of them as
float32, leaves ``components`` 0 (which TensorBoard reads as "all three", so a point cloud
without faces does not display) and writes ``json_config`` ``"null"`` for no config.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from tbx.proto.plugin_mesh_pb2 import MeshPluginData
from tbx.proto.summary_pb2 import Summary, SummaryMetadata

__all__ = [
    "PLUGIN_NAME",
    "MeshComponent",
    "MeshInfo",
    "mesh_summary",
    "components_bitmask",
    "decode",
    "decode_metadata",
]

PLUGIN_NAME = "mesh"

_DTYPES = {
    MeshPluginData.VERTEX: np.float32,
    MeshPluginData.FACE: np.int32,
    MeshPluginData.COLOR: np.uint8,
}


class MeshComponent(NamedTuple):
    """One component of a mesh Value.

    ``name`` is the mesh's tag, ``content_type`` one of ``"VERTEX"``, ``"FACE"``, ``"COLOR"``,
    ``data`` the (B, N, 3) array (float32, int32 or uint8), ``components`` the bitmask of all
    components of the mesh, ``config`` the decoded ``config_dict`` (``{}`` when none was given;
    ``None`` for tensorboardX's ``"null"``).
    """

    name: str
    content_type: str
    data: np.ndarray
    components: int
    config: dict | None


class MeshInfo(NamedTuple):
    """What a mesh Value's metadata says (:func:`decode_metadata`).

    ``name`` is the mesh's tag, ``content_type`` one of ``"VERTEX"``, ``"FACE"``, ``"COLOR"``
    (``"UNDEFINED"`` for an unset one), ``components`` the bitmask as written (0 when the writer
    left it unset, as tensorboardX does), ``config`` the decoded ``json_config`` (``{}`` when
    empty, ``None`` for ``"null"``), ``shape`` the declared tensor shape.
    """

    name: str
    content_type: str
    components: int
    config: dict | None
    shape: tuple


def decode_metadata(metadata: SummaryMetadata) -> MeshInfo:
    """The :class:`MeshInfo` of a mesh Value's ``SummaryMetadata``.

    Raises:
        ValueError: the metadata names another plugin, its content is not a ``MeshPluginData``
            or its ``json_config`` is not JSON.
    """
    plugin = metadata.plugin_data.plugin_name
    if plugin != PLUGIN_NAME:
        raise ValueError(f"metadata names plugin {plugin!r}, not {PLUGIN_NAME!r}")
    try:
        meta = MeshPluginData.FromString(metadata.plugin_data.content)
        config = json.loads(meta.json_config) if meta.json_config else {}
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError, json's JSONDecodeError
        raise ValueError(f"mesh metadata is not MeshPluginData: {exc}") from None
    try:
        content_type = MeshPluginData.ContentType.Name(meta.content_type)
    except ValueError:
        content_type = "UNDEFINED"
    return MeshInfo(meta.name, content_type, meta.components, config, tuple(meta.shape))


def components_bitmask(content_types) -> int:
    """Bitmask of the present ``MeshPluginData.ContentType`` values (TensorBoard's rule)."""
    mask = 0
    for ct in content_types:
        mask |= 1 << int(ct)
    return mask


def _component(arr, arg: str, dtype) -> np.ndarray:
    a = np.asarray(arr)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{arg} must hold numbers, got dtype {a.dtype}")
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(
            f"{arg} must have shape (B, N, 3) (batch, points, xyz/rgb/vertex indices), got "
            f"{a.shape}"
        )
    return a


def mesh_summary(tag: str, vertices, colors=None, faces=None, config_dict=None) -> Summary:
    """Summary of one mesh (or point cloud, without ``faces``).

    Args:
        tag: the mesh's name; component tags are ``<tag>_VERTEX``, ``_FACE``, ``_COLOR``.
        vertices: numpy array (B, N, 3) of xyz coordinates, stored as float32.
        colors: None or (B, N, 3) RGB per vertex, integers in [0, 255], stored as uint8.
        faces: None or (B, F, 3) vertex indices of triangles, in [0, N), stored as int32.
        config_dict: None or a JSON-serialisable dict of three.js settings (camera, lights,
            material), as TensorBoard's mesh plugin takes it.

    Raises:
        ValueError: a shape other than above (batch sizes or N differing), colors outside
            [0, 255], face indices outside [0, N), non-finite vertices.
        TypeError: a non-numeric array or a config_dict that is not a JSON-serialisable dict.
    """
    v = _component(vertices, "vertices", np.float32)
    b, n = v.shape[:2]
    if not np.isfinite(v).all():
        raise ValueError("vertices must be finite, got NaN or Inf")
    parts = [(MeshPluginData.VERTEX, v.astype(np.float32))]
    if faces is not None:
        f = _component(faces, "faces", np.int32)
        if f.shape[0] != b:
            raise ValueError(
                f"faces must have shape (B, F, 3) with B = {b} as vertices, got {f.shape}"
            )
        if f.dtype.kind == "f" and not np.array_equal(f, np.floor(f)):
            raise ValueError("faces must hold integer vertex indices")
        if f.size and (f.min() < 0 or f.max() >= n):
            raise ValueError(
                f"faces must hold vertex indices in [0, {n}) (N = {n} vertices), got "
                f"[{f.min()}, {f.max()}]"
            )
        parts.append((MeshPluginData.FACE, f.astype(np.int32)))
    if colors is not None:
        c = _component(colors, "colors", np.uint8)
        if c.shape[:2] != (b, n):
            raise ValueError(
                f"colors must have shape (B, N, 3) = {(b, n, 3)} like vertices, got {c.shape}"
            )
        if c.size and not (np.isfinite(c).all() and c.min() >= 0 and c.max() <= 255):
            raise ValueError("colors must be RGB values in [0, 255]")
        parts.append((MeshPluginData.COLOR, np.round(c).astype(np.uint8)))
    if config_dict is None:
        json_config = "{}"
    elif not isinstance(config_dict, dict):
        raise TypeError(f"config_dict must be a dict or None, got {type(config_dict).__name__}")
    else:
        try:
            json_config = json.dumps(config_dict, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"config_dict must be JSON-serialisable: {exc}") from None

    from tbx.summary.tensor import numpy_to_tensor

    mask = components_bitmask(ct for ct, _ in parts)
    values = []
    for ct, arr in parts:
        content = MeshPluginData(
            version=0,
            name=tag,
            content_type=ct,
            json_config=json_config,
            shape=list(arr.shape),
            components=mask,
        ).SerializeToString()
        metadata = SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=content)
        )
        values.append(
            Summary.Value(
                tag=f"{tag}_{MeshPluginData.ContentType.Name(ct)}",
                tensor=numpy_to_tensor(arr),
                metadata=metadata,
            )
        )
    return Summary(value=values)


def decode(value: Summary.Value) -> MeshComponent:
    """The :class:`MeshComponent` of one mesh Value (exact inverse of :func:`mesh_summary`'s
    per-component Values).

    Raises:
        ValueError: the Value has no mesh metadata or no tensor.
    """
    plugin = value.metadata.plugin_data.plugin_name
    if plugin != PLUGIN_NAME or value.WhichOneof("value") != "tensor":
        raise ValueError(f"mesh {value.tag!r}: Value holds no mesh tensor")
    from tbx.summary.tensor import tensor_to_numpy

    meta = MeshPluginData.FromString(value.metadata.plugin_data.content)
    data = tensor_to_numpy(value.tensor)
    dtype = _DTYPES.get(meta.content_type)
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    config = json.loads(meta.json_config) if meta.json_config else {}
    return MeshComponent(
        name=meta.name,
        content_type=MeshPluginData.ContentType.Name(meta.content_type),
        data=data,
        components=meta.components or components_bitmask(_DTYPES),
        config=config,
    )
