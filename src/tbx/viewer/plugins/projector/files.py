"""The projector's files beside a run's event files, read the way TensorBoard's projector reads
them (format: :mod:`tbx.summary.embedding`).

A run's config is ``<run>/projector_config.pbtxt`` (tbx, tensorboardX, torch) or
``<run>/plugins/projector/projector_config.pbtxt`` (TensorFlow's plugin assets). Each
``embeddings`` entry names a tensor file (``tensor_path``: TSV, one point per line; or raw
little-endian float32 of ``tensor_shape`` as TensorBoard falls back to), an optional
``metadata_path`` and an optional sprite. Relative paths are relative to the config's folder and
may not leave it (TensorBoard's rule).

Bad input never hides the rest: a config that does not parse, a missing file, NaN rows, short
metadata or a sprite too small for its points each become a message naming the file (the
``problems`` of :func:`list_embeddings` and :class:`Embedding`) while everything else is served.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

import numpy as np

from tbx.reader._names import is_url
from tbx.summary import embedding as fmt

from .columns import Column, encode_columns

__all__ = ["EmbeddingRef", "Embedding", "list_embeddings", "load_embedding", "file_signature"]

CONFIG_PLACES = (fmt.CONFIG_FILE, "plugins/projector/" + fmt.CONFIG_FILE)


@dataclass(frozen=True)
class EmbeddingRef:
    """One ``embeddings`` entry of a run's config, its paths made absolute.

    Attributes:
        run: the run (provider name).
        name: the entry's ``tensor_name`` (``"<tag>:<step:05d>"`` as writers make it).
        tag, step: ``name`` split (:func:`tbx.summary.embedding.split_tensor_name`).
        tensor_path, metadata_path, sprite_path: absolute paths or URLs (``""`` when absent).
        single_image_dim: ``(w, h)`` of one thumbnail in pixels, or ``()``.
        tensor_shape: the config's ``tensor_shape`` (``()`` when the writer gave none).
        config_path: the config file the entry came from.
    """

    run: str
    name: str
    tag: str
    step: int | None
    tensor_path: str
    metadata_path: str
    sprite_path: str
    single_image_dim: tuple[int, ...]
    tensor_shape: tuple[int, ...]
    config_path: str

    def to_json(self) -> dict:
        return {
            "run": self.run, "name": self.name, "tag": self.tag, "step": self.step,
            "shape": list(self.tensor_shape) or None,
            "has_metadata": bool(self.metadata_path), "has_sprite": bool(self.sprite_path),
        }


@dataclass
class Embedding:
    """One embedding loaded.

    Attributes:
        ref: where it came from.
        mat: ``(N, D)`` float32 points (read-only); rows holding NaN or Inf are kept in place.
        finite: ``(N,)`` bool, rows with only finite values (the ones projected and searched).
        columns: metadata columns (:class:`~.columns.Column`), ``[]`` without metadata.
        sprite: ``{"width", "height", "single_image_dim": [w, h], "per_row", "count"}`` (count =
            thumbnails present, at most N) or ``None``.
        problems: messages about bad input, each naming its file.
        signature: file signatures (path, size, mtime) the data came from (a cache key).
    """

    ref: EmbeddingRef
    mat: np.ndarray
    finite: np.ndarray
    columns: list[Column] = field(default_factory=list)
    sprite: dict | None = None
    problems: list[str] = field(default_factory=list)
    signature: tuple = ()

    def info(self) -> dict:
        """JSON description (no per-point data)."""
        n, d = self.mat.shape
        return {
            **self.ref.to_json(), "shape": [n, d], "finite_rows": int(self.finite.sum()),
            "columns": [c.to_json() for c in self.columns], "sprite": self.sprite,
            "problems": list(self.problems),
        }


# -- file access (local paths and fsspec URLs) ---------------------------------------------

def _fs(path: str):
    import fsspec

    return fsspec.core.url_to_fs(path)


def file_signature(path: str) -> tuple | None:
    """``(path, size, mtime)`` of a file, ``None`` when it does not exist."""
    try:
        if is_url(path):
            fs, p = _fs(path)
            info = fs.info(p)
            return (path, info.get("size"), str(info.get("mtime", info.get("LastModified"))))
        st = os.stat(path)
        return (path, st.st_size, st.st_mtime_ns)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _read_bytes(path: str) -> bytes:
    if is_url(path):
        fs, p = _fs(path)
        return fs.cat_file(p)
    with open(path, "rb") as f:
        return f.read()


def _join(folder: str, rel: str) -> str:
    if is_url(folder):
        return posixpath.join(folder.rstrip("/"), rel)
    return os.path.join(folder, *rel.split("/"))


def _asset_path(config_path: str, rel: str) -> str:
    """Absolute path of a path written in a config; ValueError if it leaves the config's
    folder (TensorBoard refuses those too)."""
    if is_url(config_path):
        folder = config_path.rsplit("/", 1)[0]
        path = posixpath.normpath(posixpath.join(folder.split("://", 1)[1], rel))
        if not (path + "/").startswith(folder.split("://", 1)[1] + "/"):
            raise ValueError(f"{rel!r} in {config_path} leaves the config's folder")
        return folder.split("://", 1)[0] + "://" + path
    folder = os.path.realpath(os.path.dirname(config_path))
    path = os.path.realpath(os.path.join(folder, os.path.expanduser(rel)))
    if os.path.commonpath([folder, path]) != folder:
        raise ValueError(f"{rel!r} in {config_path} leaves the config's folder")
    return path


# -- config ----------------------------------------------------------------------------------

def list_embeddings(run: str, run_dir: str) -> tuple[list[EmbeddingRef], list[str]]:
    """The embeddings the configs of one run list, in config order, and the problems found
    (a config that does not parse, an entry without a tensor file or with a path leaving its
    folder). Reads only the config files."""
    from google.protobuf import text_format

    from tbx.proto.projector_config_pb2 import ProjectorConfig

    refs: list[EmbeddingRef] = []
    problems: list[str] = []
    for place in CONFIG_PLACES:
        path = _join(run_dir, place)
        if file_signature(path) is None:
            continue
        config = ProjectorConfig()
        try:
            text_format.Parse(_read_bytes(path).decode("utf-8"), config)
        except (text_format.ParseError, UnicodeDecodeError) as e:
            problems.append(f"{path}: not a projector config ({e})")
            continue
        for info in config.embeddings:
            if not info.tensor_path:
                problems.append(
                    f"{path}: embedding {info.tensor_name!r} has no tensor_path (tensors in "
                    f"checkpoints are not read)"
                )
                continue
            name = info.tensor_name or posixpath.basename(info.tensor_path)
            try:
                paths = [
                    _asset_path(path, p) if p else ""
                    for p in (info.tensor_path, info.metadata_path, info.sprite.image_path)
                ]
            except ValueError as e:
                problems.append(str(e))
                continue
            tag, step = fmt.split_tensor_name(name)
            refs.append(EmbeddingRef(
                run=run, name=name, tag=tag, step=step, tensor_path=paths[0],
                metadata_path=paths[1], sprite_path=paths[2],
                single_image_dim=tuple(info.sprite.single_image_dim),
                tensor_shape=tuple(info.tensor_shape), config_path=path,
            ))
    return refs, problems


# -- tensors ---------------------------------------------------------------------------------

def _looks_binary(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 3  # a character cut at the end is still text
    return b"\0" in head


def read_tensor(path: str, shape: tuple[int, ...] = ()) -> np.ndarray:
    """The ``(N, D)`` float32 matrix of a tensor file: TSV (one point per line, values
    separated by tabs, blank lines skipped; ``nan``/``inf`` kept as such) or, when the file is
    not text and ``shape`` is ``(N, D)`` with ``N * D * 4`` bytes, raw float32.

    Raises:
        FileNotFoundError: no such file.
        ValueError: naming the file: not numbers, rows of different lengths, no rows.
    """
    if file_signature(path) is None:
        raise FileNotFoundError(f"tensor file {path} does not exist")
    with _open_binary(path) as f:
        head = f.read(65536)
    if _looks_binary(head):
        data = _read_bytes(path)
        if len(shape) == 2 and shape[0] * shape[1] * 4 == len(data):
            return np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)
        raise ValueError(
            f"tensor file {path} is neither text (TSV) nor raw float32 of the config's "
            f"tensor_shape {list(shape)} ({len(data)} bytes)"
        )
    try:
        with _open_binary(path) as f:  # parsed as it is read: no copy of the whole text
            mat = _parse_tsv(f, path)
    except ValueError as e:
        raise ValueError(f"tensor file {path}: {e}") from None
    if mat.size == 0:
        raise ValueError(f"tensor file {path} holds no points")
    return mat


def _open_binary(path: str):
    if is_url(path):
        fs, p = _fs(path)
        return fs.open(p, "rb")
    return open(path, "rb")


def _parse_tsv(f, path: str) -> np.ndarray:
    """Parse an open TSV file; on a bad line, read the file again to say which."""
    try:
        import pandas as pd
    except ImportError:  # numpy's C parser: about 4 times slower than pandas'
        try:
            return np.loadtxt(f, delimiter="\t", dtype=np.float32, ndmin=2, comments=None)
        except ValueError:
            raise ValueError(_first_bad_line(_read_bytes(path))) from None
    try:
        frame = pd.read_csv(f, sep="\t", header=None, dtype=np.float32, engine="c",
                            skip_blank_lines=True, keep_default_na=False,
                            na_values=["nan", "NaN", "-nan", "NAN"])
    except pd.errors.EmptyDataError:
        return np.zeros((0, 0), np.float32)
    except (pd.errors.ParserError, ValueError):
        raise ValueError(_first_bad_line(_read_bytes(path))) from None
    return frame.to_numpy(dtype=np.float32)


def _first_bad_line(data: bytes) -> str:
    """Say which line of a TSV matrix is not a row of numbers (the slow path of errors)."""
    width = None
    lines = data.decode("utf-8", "replace").split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cells = line.split("\t")
        width = len(cells) if width is None else width
        if len(cells) != width:
            return f"line {number} has {len(cells)} values where the first row has {width}"
        for cell in cells:
            try:
                float(cell)
            except ValueError:
                return f"line {number}: {cell[:40]!r} is not a number"
    return "not a matrix of numbers separated by tabs"


# -- metadata and sprite ---------------------------------------------------------------------

def read_metadata(path: str, n: int, problems: list[str]) -> list[Column]:
    """The metadata columns of ``n`` points; a count or width mismatch is reported in
    ``problems`` (missing cells become ``""``, extra rows and cells are dropped)."""
    try:
        text = _read_bytes(path).decode("utf-8", errors="replace")
    except FileNotFoundError:
        problems.append(f"metadata file {path} does not exist: no labels")
        return []
    header, rows = fmt.parse_metadata_tsv(text)
    if not rows:
        problems.append(f"metadata file {path} holds no rows: no labels")
        return []
    names = header if header is not None else ["label"]
    if len(rows) != n:
        problems.append(
            f"metadata file {path} has {len(rows)} rows for {n} points"
            + (f": points {len(rows)}..{n - 1} have no labels" if len(rows) < n
               else f": rows after {n} are ignored")
        )
    widths = np.fromiter((len(r) for r in rows[:n]), dtype=np.int64, count=min(n, len(rows)))
    bad = np.flatnonzero(widths != len(names))
    if len(bad):
        problems.append(
            f"metadata file {path}: {len(bad)} rows do not have {len(names)} cells (first: "
            f"row {bad[0] + 1} has {widths[bad[0]]}); missing cells are empty"
        )
    return encode_columns(names, rows, n)


def sprite_info(ref: EmbeddingRef, n: int, problems: list[str]) -> dict | None:
    """Size checks of the sprite (decoding only its header); ``None`` when it cannot be used."""
    path = ref.sprite_path
    try:
        data = _read_bytes(path)
    except FileNotFoundError:
        problems.append(f"sprite file {path} does not exist: no thumbnails")
        return None
    size = _image_size(data)
    if size is None:
        problems.append(f"sprite file {path} is not a PNG or JPEG image: no thumbnails")
        return None
    width, height = size
    try:
        per_row, rows = fmt.sprite_grid(width, height, ref.single_image_dim)
    except ValueError as e:
        problems.append(f"sprite of {ref.config_path} ({ref.name}): {e}; no thumbnails")
        return None
    w, h = ref.single_image_dim
    count = min(n, per_row * rows)
    if count < n:
        problems.append(
            f"sprite file {path} is {width}x{height} pixels: it holds {per_row * rows} "
            f"thumbnails of {w}x{h} pixels for {n} points; points {count}..{n - 1} have none"
        )
    return {"width": width, "height": height, "single_image_dim": [w, h], "per_row": per_row,
            "count": count}


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image
    except ImportError:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return None
    import io

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # Pillow raises several kinds for a bad image
        return None


# -- one embedding ---------------------------------------------------------------------------

def signature_of(ref: EmbeddingRef) -> tuple:
    """Signatures of every file of ``ref`` (changes when any is rewritten)."""
    paths = (ref.tensor_path, ref.metadata_path, ref.sprite_path)
    return tuple(file_signature(p) if p else None for p in paths)


def load_embedding(ref: EmbeddingRef) -> Embedding:
    """Read an embedding's tensor, metadata and sprite header.

    Raises:
        FileNotFoundError, ValueError: the tensor file is missing or unreadable (named); the
            metadata and sprite only ever add ``problems``.
    """
    signature = signature_of(ref)
    mat = read_tensor(ref.tensor_path, ref.tensor_shape)
    mat.setflags(write=False)
    n = mat.shape[0]
    problems: list[str] = []
    finite = np.isfinite(mat).all(axis=1)
    bad = np.flatnonzero(~finite)
    if len(bad):
        shown = ", ".join(str(i) for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
        problems.append(
            f"tensor file {ref.tensor_path}: {len(bad)} of {n} rows hold NaN or Inf (rows "
            f"{shown}); they are left out of projections, neighbours and search"
        )
    columns = read_metadata(ref.metadata_path, n, problems) if ref.metadata_path else []
    sprite = sprite_info(ref, n, problems) if ref.sprite_path else None
    return Embedding(ref=ref, mat=mat, finite=finite, columns=columns, sprite=sprite,
                     problems=problems, signature=signature)


def read_sprite(ref: EmbeddingRef) -> bytes:
    """The sprite file's bytes. Raises FileNotFoundError when there is none."""
    if not ref.sprite_path:
        raise FileNotFoundError(f"embedding {ref.name!r} of run {ref.run!r} has no sprite")
    return _read_bytes(ref.sprite_path)
