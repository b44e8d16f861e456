"""Embeddings: plugin ``projector``. Not events but files beside them, in the layout TensorBoard's
projector reads and tensorboardX writes::

    <logdir>/projector_config.pbtxt              one ``embeddings { ... }`` entry per call
    <logdir>/<step:05d>/<tag>/tensors.tsv        the (N, D) matrix, one row per line, tab-separated
    <logdir>/<step:05d>/<tag>/metadata.tsv       labels (optional)
    <logdir>/<step:05d>/<tag>/sprite.png         thumbnails (optional)

``<step:05d>`` is ``str(global_step).zfill(5)``; in ``<tag>``, ``%``, ``/`` and ``\\`` are
written ``%25``, ``%2f`` and ``%5c`` (tensorboardX's escaping), so a tag is one folder.
``projector_config.pbtxt`` holds ``ProjectorConfig`` (``tbx/proto/projector_config.proto``, the
same fields as TensorBoard's) in protobuf text format; each call appends its entry, or replaces the
entry of the same ``tensor_name`` (``"<tag>:<step:05d>"``) when one exists.

Formats, as the projector parses them:

* ``tensors.tsv``: float32 values written as ``±d.dddddddde±XX`` (9 significant digits, so
  parsing them back as float32 gives exactly the values written), formatted by numpy array
  operations rather than per value in Python: 10,000 x 128 in well under a second.
* ``metadata.tsv``: without ``metadata_header``, one label per line (``str`` of each element), no
  header. With a ``metadata_header`` of 2 or more columns, the header line and then one row per
  point (the projector takes the first line as a header exactly when it has a tab). A single
  column never has a header (the projector rejects one), so a one-name ``metadata_header`` is
  dropped with a warning. In labels, tab, newline and carriage return are written as the two
  characters ``\\t``, ``\\n``, ``\\r`` so rows never break; a row that would be blank (which the
  projector skips) gets ``""`` in front.
* ``sprite.png``: thumbnails ``(N, C, H, W)`` in a row-major grid of
  ``ceil(sqrt(N * H / W))`` per row (a square grid for square thumbnails, padded at the bottom
  to a square image as tensorboardX does), unused cells black (transparent for RGBA);
  ``C`` is 1 (grayscale), 3 (RGB) or 4 (RGBA); pixels as :func:`tbx.summary.image.to_uint8`.
  ``single_image_dim`` is ``[W, H]``. TensorBoard shows sprites up to 8192 pixels a side.
"""

from __future__ import annotations

import os
import posixpath
import warnings

import numpy as np

from tbx.proto.projector_config_pb2 import EmbeddingInfo, ProjectorConfig
from tbx.summary._embedding_format import (
    format_metadata_tsv,
    format_tensors_tsv,
    make_sprite,
    parse_metadata_tsv,
    sprite_grid,
    sprite_layout,
)

__all__ = [
    "PLUGIN_NAME",
    "CONFIG_FILE",
    "MAX_SPRITE_SIZE",
    "embedding_subdir",
    "check_embedding",
    "format_tensors_tsv",
    "format_metadata_tsv",
    "make_sprite",
    "write_embedding",
    "read_projector_config",
    "read_embedding",
    "parse_metadata_tsv",
    "split_tensor_name",
    "sprite_grid",
]

PLUGIN_NAME = "projector"
CONFIG_FILE = "projector_config.pbtxt"
TENSORS_FILE = "tensors.tsv"
METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"
#: Largest sprite side, in pixels, TensorBoard's projector loads.
MAX_SPRITE_SIZE = 8192


def _escape_tag(tag: str) -> str:
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def embedding_subdir(global_step: int, tag: str) -> str:
    """``"<step:05d>/<escaped tag>"``: the folder of one embedding, relative to the logdir."""
    return f"{str(global_step).zfill(5)}/{_escape_tag(tag)}"


def _label_nhwc(label_img, n: int) -> np.ndarray:
    from tbx.convert import to_numpy
    from tbx.summary.image import to_nhwc

    arr = to_numpy(label_img, "label_img")
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"label_img must have shape (N, C, H, W) (or (N, H, W) for grayscale); got shape "
            f"{tuple(arr.shape)}"
        )
    if arr.shape[0] != n:
        raise ValueError(
            f"label_img has {arr.shape[0]} images but mat has {n} rows; give one image per row"
        )
    return to_nhwc(arr, "NCHW" if arr.ndim == 4 else "NHW", "label_img")


def check_embedding(mat, metadata=None, label_img=None, metadata_header=None):
    """Validate and convert the arguments of :func:`write_embedding`.

    Returns:
        ``(mat as (N, D) float32, metadata.tsv text or None, (N, H, W, C) uint8 or None)``.

    Raises:
        TypeError: ``mat`` not numeric; ``metadata`` not a list.
        ValueError: ``mat`` not 2-D with N, D >= 1 or not finite; ``metadata`` or
            ``label_img`` of another length than N; ``label_img`` not (N, C, H, W) with C 1, 3
            or 4; a sprite larger than 8192 pixels a side.
    """
    from tbx.convert import to_numpy

    arr = to_numpy(mat, "mat")
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(
            f"mat must have shape (N, D), one D-dimensional point per row, N, D >= 1; got shape "
            f"{tuple(arr.shape)}"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"mat must hold real numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):  # beyond float32's range becomes Inf, refused below
        arr = np.asarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("mat holds NaN or infinite values (or values beyond float32's range)")
    n = arr.shape[0]
    meta = None if metadata is None else format_metadata_tsv(metadata, n, metadata_header)
    images = None
    if label_img is not None:
        images = _label_nhwc(label_img, n)
        _, h, w, _ = images.shape
        per_row, rows = sprite_layout(n, h, w)
        if per_row * w > MAX_SPRITE_SIZE or rows * h > MAX_SPRITE_SIZE:
            raise ValueError(
                f"the sprite of {n} label images of {h}x{w} pixels would be "
                f"{per_row * w}x{rows * h} pixels; TensorBoard loads at most "
                f"{MAX_SPRITE_SIZE} a side: use smaller images"
            )
    return arr, meta, images


def _is_url(path: str) -> bool:
    return "://" in path


def _makedirs(path: str) -> None:
    if _is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        fs.makedirs(p, exist_ok=True)
    else:
        os.makedirs(path, exist_ok=True)


def _open(path: str, mode: str):
    if _is_url(path):
        import fsspec

        kw = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
        return fsspec.open(path, mode, **kw)
    if "b" in mode:
        return open(path, mode)
    return open(path, mode, encoding="utf-8", newline="\n")


def _exists(path: str) -> bool:
    if _is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        return fs.exists(p)
    return os.path.exists(path)


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + rel if _is_url(base) else os.path.join(base, *rel.split("/"))


def write_embedding(
    logdir: str,
    mat,
    metadata=None,
    label_img=None,
    global_step: int = 0,
    tag: str = "default",
    metadata_header=None,
) -> EmbeddingInfo:
    """Write one embedding's files under ``logdir`` and add its entry to
    ``projector_config.pbtxt``. Every argument is checked (:func:`check_embedding`) before
    anything is written.

    Args:
        logdir: the run's folder (a local path or an fsspec URL).
        mat: ``(N, D)`` points, any real dtype, written as float32.
        metadata: ``N`` labels (or, with ``metadata_header``, ``N`` rows of column values).
        label_img: ``(N, C, H, W)`` thumbnails (C 1, 3 or 4), uint8 or floats in [0, 1].
        global_step: the step, used in the folder name.
        tag: the embedding's name.
        metadata_header: column names for multi-column ``metadata``.

    Returns:
        The ``EmbeddingInfo`` written to the config.

    Raises:
        TypeError, ValueError: see :func:`check_embedding`.
        OSError: a file cannot be written.
    """
    arr, meta, images = check_embedding(mat, metadata, label_img, metadata_header)
    sprite = None if images is None else make_sprite(images)
    subdir = embedding_subdir(global_step, tag)
    folder = _join(os.fspath(logdir), subdir)
    if _exists(folder):
        warnings.warn(
            f"embedding folder {folder} exists and is overwritten; give each add_embedding "
            f"call of a tag its own global_step",
            stacklevel=3,
        )
    _makedirs(folder)
    info = EmbeddingInfo(
        tensor_name=f"{tag}:{str(global_step).zfill(5)}",
        tensor_path=posixpath.join(subdir, TENSORS_FILE),
        tensor_shape=list(arr.shape),
    )
    with _open(_join(folder, TENSORS_FILE), "wb") as f:
        for chunk in format_tensors_tsv(arr):
            f.write(chunk)
    if meta is not None:
        with _open(_join(folder, METADATA_FILE), "w") as f:
            f.write(meta)
        info.metadata_path = posixpath.join(subdir, METADATA_FILE)
    if sprite is not None:
        with _open(_join(folder, SPRITE_FILE), "wb") as f:
            f.write(sprite)
        info.sprite.image_path = posixpath.join(subdir, SPRITE_FILE)
        info.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])
    _add_to_config(os.fspath(logdir), info)
    return info


def _add_to_config(logdir: str, info: EmbeddingInfo) -> None:
    from google.protobuf import text_format

    path = _join(logdir, CONFIG_FILE)
    config = None
    if _exists(path):
        try:
            config = read_projector_config(logdir)
        except (text_format.ParseError, UnicodeDecodeError):
            config = None  # not ours to repair: append below
    if config is not None and any(e.tensor_name == info.tensor_name for e in config.embeddings):
        for e in config.embeddings:
            if e.tensor_name == info.tensor_name:
                e.CopyFrom(info)
        with _open(path, "w") as f:
            f.write(text_format.MessageToString(config))
        return
    with _open(path, "a") as f:
        f.write(text_format.MessageToString(ProjectorConfig(embeddings=[info])))


def read_projector_config(logdir: str) -> ProjectorConfig:
    """The ``ProjectorConfig`` of ``<logdir>/projector_config.pbtxt`` (empty if missing).

    Raises:
        google.protobuf.text_format.ParseError: the file is not a ProjectorConfig.
    """
    from google.protobuf import text_format

    config = ProjectorConfig()
    path = _join(os.fspath(logdir), CONFIG_FILE)
    if _exists(path):
        with _open(path, "r") as f:
            text_format.Parse(f.read(), config)
    return config


def read_embedding(logdir: str, info: EmbeddingInfo) -> dict:
    """Read back one embedding of a config (:func:`read_projector_config`).

    Returns:
        ``{"mat": (N, D) float32, "metadata": list of rows (each a list of str) or None,
        "metadata_header": list of str or None, "sprite": (H, W, C) uint8 or None,
        "single_image_dim": (W, H) or None}``. Labels come back as written (escaped).
    """
    logdir = os.fspath(logdir)
    with _open(_join(logdir, info.tensor_path), "r") as f:
        rows = [line.split("\t") for line in f.read().split("\n") if line]
    mat = np.array(rows, dtype=np.float32).reshape(len(rows), -1)
    out = {"mat": mat, "metadata": None, "metadata_header": None, "sprite": None,
           "single_image_dim": None}
    if info.metadata_path:
        with _open(_join(logdir, info.metadata_path), "r") as f:
            out["metadata_header"], out["metadata"] = parse_metadata_tsv(f.read())
    if info.sprite.image_path:
        from tbx.summary.image import decode_png

        with _open(_join(logdir, info.sprite.image_path), "rb") as f:
            out["sprite"] = decode_png(f.read())
        out["single_image_dim"] = tuple(info.sprite.single_image_dim)
    return out


def split_tensor_name(tensor_name: str) -> tuple[str, int | None]:
    """``"<tag>:<step:05d>"`` (the ``tensor_name`` tbx, tensorboardX and torch write) ->
    ``(tag, step)``; any other name -> ``(name, None)``."""
    tag, sep, step = tensor_name.rpartition(":")
    if sep and tag and step.isdigit():
        return tag, int(step)
    return tensor_name, None
