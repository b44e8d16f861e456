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

import math
import os
import posixpath
import warnings

import numpy as np

from tbx.proto.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

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
_ROWS_PER_WRITE = 4096


def _escape_tag(tag: str) -> str:
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def embedding_subdir(global_step: int, tag: str) -> str:
    """``"<step:05d>/<escaped tag>"``: the folder of one embedding, relative to the logdir."""
    return f"{str(global_step).zfill(5)}/{_escape_tag(tag)}"


def _escape_cell(text: str) -> str:
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _cell(x) -> str:
    if isinstance(x, bytes):
        x = x.decode("utf-8", errors="replace")
    return _escape_cell(str(x))


def _as_list(value, arg: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{arg} must be a list, got {type(value).__name__}")
    from tbx.convert import to_numpy

    try:
        return to_numpy(value, arg).tolist()
    except TypeError:
        raise TypeError(f"{arg} must be a list, got {type(value).__name__}") from None


def _metadata_lines(metadata, n: int, metadata_header) -> list[str]:
    labels = _as_list(metadata, "metadata")
    if len(labels) != n:
        raise ValueError(
            f"metadata has {len(labels)} labels but mat has {n} rows; give one label per row"
        )
    header = None if metadata_header is None else _as_list(metadata_header, "metadata_header")
    if header is not None and len(header) == 0:
        header = None
    if header is not None and len(header) == 1:
        for i, row in enumerate(labels):
            if isinstance(row, (list, tuple)) and len(row) != 1:
                raise ValueError(
                    f"metadata[{i}] has {len(row)} values but metadata_header has 1 column"
                )
        warnings.warn(
            "metadata_header with a single column is not written: TensorBoard's projector "
            "rejects a header on single-column metadata",
            stacklevel=4,
        )
        labels = [
            row[0] if isinstance(row, (list, tuple)) and len(row) == 1 else row for row in labels
        ]
        header = None
    if header is None:
        rows = [_cell(x) for x in labels]
    else:
        width = len(header)
        rows = ["\t".join(_cell(h) for h in header)]
        for i, row in enumerate(labels):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
                raise ValueError(
                    f"metadata[{i}] must be a list of {width} values (one per metadata_header "
                    f"column), got {type(row).__name__}"
                )
            if len(row) != width:
                raise ValueError(
                    f"metadata[{i}] has {len(row)} values but metadata_header has {width} "
                    f"columns"
                )
            rows.append("\t".join(_cell(x) for x in row))
    return [r if r.strip() else '""' + r for r in rows]


def format_metadata_tsv(metadata, n: int, metadata_header=None) -> str:
    """The text of ``metadata.tsv`` for ``n`` points (rules in the module docstring).

    Raises:
        TypeError: ``metadata`` or ``metadata_header`` not a list.
        ValueError: ``len(metadata) != n``; with a header of 2 or more columns, a row that is
            not a list of that many values.
    """
    return "".join(line + "\n" for line in _metadata_lines(metadata, n, metadata_header))


_POW10 = 10.0 ** np.arange(-64, 64)  # _POW10[k + 64] == 10.0 ** k
_ZERO, _PLUS, _MINUS, _DOT, _E, _TAB, _NEWLINE = 48, 43, 45, 46, 101, 9, 10


def _format_rows(mat: np.ndarray) -> bytes:
    """ASCII lines of a finite float32 matrix, every value as ``±d.dddddddde±XX`` (9
    significant digits, 15 characters), tab-separated, built with numpy array operations only.

    Nine significant digits identify every float32 (they are finer than half its spacing even
    when the ninth digit is off by one), so parsing them as float32 gives back the exact value
    written, -0.0, subnormals and ±3.4e38 included.
    """
    n, d = mat.shape
    a = np.abs(mat.astype(np.float64))
    zero = a == 0
    a[zero] = 1.0
    e = np.floor(np.log10(a)).astype(np.int32)  # decimal exponent, corrected both ways
    e += a >= _POW10[e + 65]
    e -= a < _POW10[e + 64]
    m = np.rint(a / _POW10[e + 56]).astype(np.uint32)  # 9-digit mantissa, 1e8 <= m <= 1e9
    carry = m >= 1_000_000_000
    m[carry] = 100_000_000
    e += carry
    m[zero] = 0
    e[zero] = 0
    cols = np.empty((16, n, d), np.uint8)  # one row per character position, then transposed
    cols[0] = np.where(np.signbit(mat), _MINUS, _PLUS)
    cols[2] = _DOT
    for pos in (10, 9, 8, 7, 6, 5, 4, 3, 1):
        m, digit = np.divmod(m, np.uint32(10))
        np.add(digit, _ZERO, out=cols[pos], casting="unsafe")
    cols[11] = _E
    cols[12] = np.where(e < 0, _MINUS, _PLUS)
    e = np.abs(e)
    np.add(e // 10, _ZERO, out=cols[13], casting="unsafe")
    np.add(e % 10, _ZERO, out=cols[14], casting="unsafe")
    cols[15] = _TAB
    cols[15, :, -1] = _NEWLINE
    return np.ascontiguousarray(cols.transpose(1, 2, 0)).tobytes()


def format_tensors_tsv(mat: np.ndarray):
    """Yield the bytes of ``tensors.tsv`` for a finite 2-D float32 matrix, in chunks of rows
    (see :func:`_format_rows`)."""
    for start in range(0, mat.shape[0], _ROWS_PER_WRITE):
        yield _format_rows(mat[start : start + _ROWS_PER_WRITE])


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


def _sprite_layout(n: int, h: int, w: int) -> tuple[int, int]:
    per_row = max(1, math.ceil(math.sqrt(n * h * w) / w))
    rows = per_row if h == w else -(-n // per_row)
    return per_row, rows


def make_sprite(nhwc: np.ndarray) -> bytes:
    """PNG bytes of the sprite of ``(N, H, W, C)`` uint8 thumbnails (layout in the module
    docstring)."""
    from tbx.summary.image import _MODES, _save_png, import_pil

    n, h, w, c = nhwc.shape
    per_row, rows = _sprite_layout(n, h, w)
    cells = np.zeros((rows * per_row, h, w, c), dtype=np.uint8)
    cells[:n] = nhwc
    grid = cells.reshape(rows, per_row, h, w, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * h, per_row * w, c)
    pil = import_pil("add_embedding with label_img", "embedding")
    arr = grid[:, :, 0] if c == 1 else grid
    return _save_png(pil.fromarray(np.ascontiguousarray(arr), _MODES[c]))


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
        per_row, rows = _sprite_layout(n, h, w)
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


def parse_metadata_tsv(text: str) -> tuple[list[str] | None, list[list[str]]]:
    """Split the text of a ``metadata.tsv`` as the projector does: lines end with ``\\n``
    (a ``\\r`` before it is dropped), blank lines are skipped, and the first line is a header
    exactly when it holds a tab. Cells are returned as written (escapes kept).

    Returns:
        ``(header or None, rows)``, each row a list of ``str`` (rows may differ in length; the
        caller decides what a short row means).
    """
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None, []
    rows = [line.split("\t") for line in lines]
    if "\t" in lines[0]:
        return rows[0], rows[1:]
    return None, rows


def split_tensor_name(tensor_name: str) -> tuple[str, int | None]:
    """``"<tag>:<step:05d>"`` (the ``tensor_name`` tbx, tensorboardX and torch write) ->
    ``(tag, step)``; any other name -> ``(name, None)``."""
    tag, sep, step = tensor_name.rpartition(":")
    if sep and tag and step.isdigit():
        return tag, int(step)
    return tensor_name, None


def sprite_grid(width: int, height: int, single_image_dim) -> tuple[int, int]:
    """``(per_row, rows)``: how many thumbnails of ``single_image_dim = (w, h)`` pixels a
    sprite of ``width x height`` pixels holds per row and how many rows (row-major cells from
    the top-left corner, as the projector reads them); thumbnail ``i`` is cell
    ``(i // per_row, i % per_row)``.

    Raises:
        ValueError: ``single_image_dim`` is not two positive sizes.
    """
    dims = list(single_image_dim)
    if len(dims) != 2 or min(dims) < 1:
        raise ValueError(
            f"single_image_dim must be [width, height] in pixels, both >= 1; got {dims}"
        )
    w, h = dims
    return width // w, height // h
