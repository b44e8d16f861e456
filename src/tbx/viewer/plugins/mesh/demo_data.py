"""Demo meshes for the Mesh dashboard's tests, screenshots and benchmarks: a coloured point
cloud of any size and a coloured triangle mesh (a torus), both deterministic.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["point_cloud", "torus", "write_demo"]


def point_cloud(n: int, step: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, colors)`` of ``n`` points on a sphere of radius 1 + step / 10 (a Fibonacci
    lattice): float32 (1, n, 3) and uint8 (1, n, 3), colour from position (x, y, z in
    [-1, 1] -> red, green, blue in [0, 255]).

    Raises:
        ValueError: ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    i = np.arange(n, dtype=np.float64) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    unit = np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], 1)
    colors = np.rint((unit + 1) * 127.5).astype(np.uint8)
    vertices = (unit * (1 + step / 10)).astype(np.float32)
    return vertices[None], colors[None]


def torus(rings: int = 48, segments: int = 24, radius: float = 1.0, tube: float = 0.35):
    """``(vertices, colors, faces)`` of a torus: float32 (1, rings * segments, 3), uint8 colours
    (a hue around the ring), int32 (1, 2 * rings * segments, 3) triangles.

    Raises:
        ValueError: ``rings`` or ``segments`` below 3.
    """
    if rings < 3 or segments < 3:
        raise ValueError(f"rings and segments must be at least 3, got {rings}, {segments}")
    u = np.repeat(np.arange(rings) * 2 * np.pi / rings, segments)
    v = np.tile(np.arange(segments) * 2 * np.pi / segments, rings)
    r = radius + tube * np.cos(v)
    vertices = np.stack([r * np.cos(u), r * np.sin(u), tube * np.sin(v)], 1).astype(np.float32)
    hue = u / (2 * np.pi)
    colors = np.stack([np.abs(np.sin(np.pi * (hue + k / 3))) for k in range(3)], 1)
    colors = np.rint(colors * 255).astype(np.uint8)
    a = np.arange(rings * segments).reshape(rings, segments)
    b = np.roll(a, -1, axis=0)
    c = np.roll(a, -1, axis=1)
    d = np.roll(b, -1, axis=1)
    faces = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3),
                            np.stack([a, d, c], -1).reshape(-1, 3)]).astype(np.int32)
    return vertices[None], colors[None], faces[None]


def write_demo(logdir: str | os.PathLike, points: int = 10_000, steps: int = 3) -> None:
    """Runs ``a`` and ``b`` under ``logdir``, each with a point cloud ``cloud``
    (:func:`point_cloud`, ``steps`` steps) and a mesh ``torus`` (:func:`torus`, step 0)."""
    from tbx import SummaryWriter

    for run in ("a", "b"):
        with SummaryWriter(os.path.join(os.fspath(logdir), run)) as w:
            for step in range(steps):
                v, c = point_cloud(points, step)
                w.add_mesh("cloud", v, colors=c, global_step=step)
            v, c, f = torus()
            w.add_mesh("torus", v, colors=c, faces=f, global_step=0)
