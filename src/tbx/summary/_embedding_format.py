"""The contents of the projector's files (:mod:`tbx.summary.embedding` has the layout and the
rules): the text of ``metadata.tsv`` both ways, the bytes of ``tensors.tsv``, the PNG of
``sprite.png`` and its grid. Pure functions, no I/O."""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["format_metadata_tsv", "format_tensors_tsv", "make_sprite", "sprite_layout",
           "parse_metadata_tsv", "sprite_grid"]

_ROWS_PER_WRITE = 4096


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
    """The text of ``metadata.tsv`` for ``n`` points (rules: :mod:`tbx.summary.embedding`).

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


def sprite_layout(n: int, h: int, w: int) -> tuple[int, int]:
    """``(per_row, rows)`` of the sprite of ``n`` thumbnails of ``h x w`` pixels."""
    per_row = max(1, math.ceil(math.sqrt(n * h * w) / w))
    rows = per_row if h == w else -(-n // per_row)
    return per_row, rows


def make_sprite(nhwc: np.ndarray) -> bytes:
    """PNG bytes of the sprite of ``(N, H, W, C)`` uint8 thumbnails (layout:
    :mod:`tbx.summary.embedding`)."""
    from tbx.summary.image import _MODES, _save_png, import_pil

    n, h, w, c = nhwc.shape
    per_row, rows = sprite_layout(n, h, w)
    cells = np.zeros((rows * per_row, h, w, c), dtype=np.uint8)
    cells[:n] = nhwc
    grid = cells.reshape(rows, per_row, h, w, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * h, per_row * w, c)
    pil = import_pil("add_embedding with label_img", "embedding")
    arr = grid[:, :, 0] if c == 1 else grid
    return _save_png(pil.fromarray(np.ascontiguousarray(arr), _MODES[c]))


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
