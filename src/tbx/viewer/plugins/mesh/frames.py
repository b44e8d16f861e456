"""Meshes and point clouds of a run, for the Mesh page: which meshes a run has, and one frame
(one step, one batch sample) as a compact binary. Pure functions over the reader's provider.

A mesh is written as up to three tags, one per component (``<name>_VERTEX``, ``_FACE``,
``_COLOR`` by tbx and TensorBoard, ``<name>_1``/``_2``/``_3`` by tensorboardX), tied together by
``MeshPluginData.name`` in their metadata (:func:`tbx.summary.mesh.decode_metadata`). The
components shown are the tags that exist; the ``components`` bitmask, when the writer set it,
further limits them (tensorboardX leaves it 0: then every existing component is shown, so its
point clouds without faces still display).

Frame binary (little-endian)::

    b"TBXM" | uint32 version (1) | uint32 header length H | H bytes of JSON header (UTF-8,
    space-padded to a multiple of 4) | float32 vertices [N * 3] | uint32 faces [F * 3]
    | uint8 colors [N * 3, or nothing]

Header: ``step``, ``wall_time``, ``sample`` and ``samples`` (batch index and size),
``vertices`` (N), ``faces`` (F), ``colors`` (bool), ``components`` (names shown), ``config``
(the mesh's config dict or null), ``bounds`` (``[[min x, y, z], [max x, y, z]]`` of the finite
vertices; null when none), ``dropped_faces`` (faces naming a vertex outside [0, N), left out).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

from tbx.summary import mesh as mesh_summary

__all__ = ["PLUGIN_NAME", "Frame", "mesh_tags", "mesh_list", "mesh_frame", "encode_frame",
           "decode_frame"]

PLUGIN_NAME = mesh_summary.PLUGIN_NAME
MAGIC = b"TBXM"
VERSION = 1
_KINDS = ("VERTEX", "FACE", "COLOR")
_BIT = {"VERTEX": 1 << 1, "FACE": 1 << 2, "COLOR": 1 << 3}


@dataclass(frozen=True)
class Frame:
    """One mesh at one step: ``vertices`` float32 (N, 3), ``faces`` uint32 (F, 3) (F may be 0),
    ``colors`` uint8 (N, 3) or None, and the header fields of the module docstring."""

    step: int
    wall_time: float
    sample: int
    samples: int
    vertices: np.ndarray
    faces: np.ndarray
    colors: np.ndarray | None
    components: tuple
    config: dict | None
    dropped_faces: int = 0

    def header(self) -> dict:
        finite = self.vertices[np.isfinite(self.vertices).all(axis=1)]
        bounds = None
        if len(finite):
            bounds = [finite.min(axis=0).tolist(), finite.max(axis=0).tolist()]
        return {
            "step": self.step, "wall_time": self.wall_time, "sample": self.sample,
            "samples": self.samples, "vertices": len(self.vertices), "faces": len(self.faces),
            "colors": self.colors is not None, "components": list(self.components),
            "config": self.config, "bounds": bounds, "dropped_faces": self.dropped_faces,
        }


def mesh_tags(provider, run: str) -> dict[str, dict]:
    """``name -> {"tags": {component: tag}, "components": bitmask, "config": dict | None}`` of
    every mesh of ``run`` (names sorted). Tags whose metadata cannot be read are left out.

    Raises:
        KeyError: unknown run.
    """
    out: dict[str, dict] = {}
    for tag, info in provider.tags(run).items():
        if info.plugin_name != PLUGIN_NAME or info.count == 0:
            continue
        try:
            meta = mesh_summary.decode_metadata(provider.metadata(run, tag))
        except ValueError:
            continue
        if meta.content_type not in _KINDS:
            continue
        entry = out.setdefault(meta.name or tag, {"tags": {}, "components": 0, "config": None})
        entry["tags"][meta.content_type] = tag
        entry["components"] |= meta.components
        if meta.content_type == "VERTEX" or entry["config"] is None:
            entry["config"] = meta.config
    return {k: out[k] for k in sorted(out) if "VERTEX" in out[k]["tags"]}


def _shown(entry: dict) -> tuple:
    mask = entry["components"]
    return tuple(k for k in _KINDS if k in entry["tags"] and (not mask or mask & _BIT[k]))


def mesh_list(provider, run: str) -> dict[str, dict]:
    """``name -> {"steps": [int], "wall_times": [float], "components": [str], "config",
    "vertices": N, "faces": F, "samples": B}`` of every mesh of ``run``; N, F and B are those of
    the last step.

    Raises:
        KeyError: unknown run.
    """
    out = {}
    for name, entry in mesh_tags(provider, run).items():
        series = provider.tensors(run, entry["tags"]["VERTEX"])
        shown = _shown(entry)
        last = np.asarray(series.values[-1])
        faces = 0
        if "FACE" in shown:
            f = provider.tensors(run, entry["tags"]["FACE"])
            faces = int(np.asarray(f.values[-1]).shape[1]) if np.ndim(f.values[-1]) == 3 else 0
        out[name] = {
            "steps": series.step.tolist(),
            "wall_times": series.wall_time.tolist(),
            "components": list(shown),
            "config": entry["config"],
            "vertices": int(last.shape[1]) if last.ndim == 3 else 0,
            "faces": faces,
            "samples": int(last.shape[0]) if last.ndim == 3 else 0,
        }
    return out


def _at_step(series, step: int):
    hits = np.flatnonzero(series.step == step)
    if not len(hits):
        return None, None
    i = int(hits[-1])
    return np.asarray(series.values[i]), float(series.wall_time[i])


def mesh_frame(provider, run: str, name: str, step: int | None = None, sample: int = 0) -> Frame:
    """The mesh ``name`` of ``run`` at ``step`` (None: the last step), batch sample ``sample``.

    Raises:
        KeyError: unknown run, mesh or step (the message names which).
        ValueError: ``sample`` outside [0, B), or the vertices are not a (B, N, 3) array.
    """
    entry = mesh_tags(provider, run).get(name)
    if entry is None:
        raise KeyError(f"run {run!r} has no mesh {name!r}")
    shown = _shown(entry)
    vseries = provider.tensors(run, entry["tags"]["VERTEX"])
    if step is None:
        step = int(vseries.step[-1])
    v, wall = _at_step(vseries, step)
    if v is None:
        raise KeyError(f"mesh {name!r} of run {run!r} has no step {step}")
    if v.ndim != 3 or v.shape[2] != 3:
        raise ValueError(f"mesh {name!r}: vertices have shape {v.shape}, not (B, N, 3)")
    b = v.shape[0]
    if not 0 <= sample < b:
        raise ValueError(f"sample must be in [0, {b}), got {sample}")
    vertices = np.ascontiguousarray(v[sample], dtype=np.float32)
    n = len(vertices)
    faces = np.zeros((0, 3), np.uint32)
    dropped = 0
    if "FACE" in shown:
        f, _ = _at_step(provider.tensors(run, entry["tags"]["FACE"]), step)
        if f is not None and f.ndim == 3 and f.shape[2] == 3 and f.shape[0] == b:
            f = np.asarray(f[sample])
            ok = np.isfinite(f).all(axis=1) & (f >= 0).all(axis=1) & (f < n).all(axis=1)
            dropped = int(len(f) - ok.sum())
            faces = np.ascontiguousarray(f[ok], dtype=np.uint32)
    colors = None
    if "COLOR" in shown:
        c, _ = _at_step(provider.tensors(run, entry["tags"]["COLOR"]), step)
        if c is not None and c.ndim == 3 and c.shape[:2] == (b, n) and c.shape[2] == 3:
            c = np.nan_to_num(np.asarray(c[sample], dtype=np.float64))
            colors = np.ascontiguousarray(np.clip(np.rint(c), 0, 255), dtype=np.uint8)
    present = tuple(k for k in shown if k == "VERTEX" or (k == "FACE" and len(faces))
                    or (k == "COLOR" and colors is not None))
    return Frame(step, wall, sample, b, vertices, faces, colors, present, entry["config"],
                 dropped)


def encode_frame(frame: Frame) -> bytes:
    """The frame binary (layout in the module docstring)."""
    head = json.dumps(frame.header(), allow_nan=False).encode("utf-8")
    head += b" " * (-len(head) % 4)
    parts = [MAGIC, struct.pack("<II", VERSION, len(head)), head,
             frame.vertices.astype("<f4", copy=False).tobytes(),
             frame.faces.astype("<u4", copy=False).tobytes()]
    if frame.colors is not None:
        parts.append(frame.colors.tobytes())
    return b"".join(parts)


def decode_frame(data: bytes) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray | None]:
    """``(header, vertices, faces, colors)`` of a frame binary (the inverse of
    :func:`encode_frame`; used by tests and tools).

    Raises:
        ValueError: not a frame binary of this version, or cut short.
    """
    if data[:4] != MAGIC or len(data) < 12:
        raise ValueError("not a mesh frame (no TBXM header)")
    version, hlen = struct.unpack_from("<II", data, 4)
    if version != VERSION:
        raise ValueError(f"mesh frame version {version}, expected {VERSION}")
    head = json.loads(data[12 : 12 + hlen])
    off = 12 + hlen
    n, f = head["vertices"], head["faces"]
    need = off + 12 * n + 12 * f + (3 * n if head["colors"] else 0)
    if len(data) != need:
        raise ValueError(f"mesh frame has {len(data)} bytes, expected {need}")
    vertices = np.frombuffer(data, "<f4", 3 * n, off).reshape(n, 3)
    off += 12 * n
    faces = np.frombuffer(data, "<u4", 3 * f, off).reshape(f, 3)
    off += 12 * f
    colors = np.frombuffer(data, np.uint8, 3 * n, off).reshape(n, 3) if head["colors"] else None
    return head, vertices, faces, colors
