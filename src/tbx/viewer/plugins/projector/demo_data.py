"""A small known embedding for the Projector's tests, screenshots and benchmarks.

``python -m tbx.viewer.plugins.projector.demo_data LOGDIR [N] [D]`` writes it with
``tbx.SummaryWriter``.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["make_points", "write_demo"]

COLOURS = ["red", "green", "blue"]


def make_points(n: int = 300, d: int = 16, seed: int = 0) -> tuple[np.ndarray, list[list[str]]]:
    """``n`` points in ``d`` dimensions around three centres, and their metadata rows
    ``[name, colour, size]``: ``name`` is ``"p<i>"``, ``colour`` the centre (``i % 3``),
    ``size`` the number ``i % 7`` (a numeric column).

    Returns:
        ``(mat (n, d) float32, rows)``.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(3, d))
    group = np.arange(n) % 3
    mat = (centres[group] + rng.normal(0, 1, size=(n, d))).astype(np.float32)
    rows = [[f"p{i}", COLOURS[g], str(i % 7)] for i, g in enumerate(group)]
    return mat, rows


def thumbnails(n: int, size: int = 8) -> np.ndarray:
    """``(n, 3, size, size)`` uint8 thumbnails: point ``i`` is a flat colour of its group."""
    rgb = np.array([[255, 0, 0], [0, 160, 0], [0, 0, 255]], dtype=np.uint8)
    img = np.zeros((n, 3, size, size), dtype=np.uint8)
    img[:] = rgb[np.arange(n) % 3][:, :, None, None]
    return img


def write_demo(logdir, n: int = 300, d: int = 16, steps=(0, 10), seed: int = 0) -> np.ndarray:
    """Write the demo embedding (tag ``"demo"``) at each of ``steps`` (the points drift a
    little from step to step), with metadata and thumbnails. Returns the matrices as
    ``(len(steps), n, d)`` float32."""
    import tbx

    base, rows = make_points(n, d, seed)
    rng = np.random.default_rng(seed + 1)
    mats = []
    with tbx.SummaryWriter(logdir) as w:
        for i, step in enumerate(steps):
            mat = (base + i * rng.normal(0, 0.3, size=base.shape)).astype(np.float32)
            w.add_embedding(mat, metadata=rows, metadata_header=["name", "colour", "size"],
                            label_img=thumbnails(n), global_step=step, tag="demo")
            mats.append(mat)
    return np.stack(mats)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: python -m tbx.viewer.plugins.projector.demo_data LOGDIR [N] [D]")
    write_demo(args[0], *(int(a) for a in args[1:3]))
