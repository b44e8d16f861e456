"""Series storage: one growable set of numpy columns per (run, tag, plugin), and the decoding of a
stored point into the provider's value forms.

A run holds its tags (``_Tag``: the name, and for each payload kind the plugin the writer last
declared for it) and its series (``_Series``) in first-seen order. Scalars never become Python
objects; other kinds keep each point's serialized ``Summary.Value`` and decode it when asked.
"""

from __future__ import annotations

import numpy as np

from tbx.reader._types import SCALAR, TENSOR, TagInfo

__all__ = ["BLOB_PLUGINS", "RUN_GRAPH_TAG", "histogram_to_tensor", "decode_tensor_value",
           "decode_blob_value", "metadata_for"]

#: Plugins whose tensors are blob sequences (TensorBoard's images, audio; tbx's video).
BLOB_PLUGINS = frozenset({"images", "audio", "video"})
#: Tag under which a run's GraphDef is kept (TensorBoard's graphs plugin uses the same name).
RUN_GRAPH_TAG = "__run_graph__"


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class _Series:
    """One (tag, plugin) of one run: growable columns (capacity doubling; never written below
    ``n``, so a snapshot view stays valid), and for tensor/blob series each point's serialized
    Value."""

    __slots__ = ("tag", "data_class", "plugin_name", "metadata", "n", "step", "wall", "value",
                 "file", "raws", "decoded")

    def __init__(self, tag: str, plugin: str):
        self.tag = tag
        self.data_class: str | None = None
        self.plugin_name = plugin
        self.metadata = None  # SummaryMetadata proto: the first one the run sent
        self.n = 0
        self.step = np.empty(0, np.int64)
        self.wall = np.empty(0, np.float64)
        self.value = np.empty(0, np.float64)
        self.file = np.empty(0, np.int32)
        self.raws: list[bytes] = []
        self.decoded: list = []

    def append(self, step, wall, value, file_id: int, raws=None) -> None:
        k = len(step)
        if not k:
            return
        n = self.n
        if n == 0 and len(step) == len(wall):
            # adopt the block's columns as they are (no copy); the next append reallocates
            self.step = np.asarray(step, np.int64)
            self.wall = np.asarray(wall, np.float64)
            self.file = np.full(k, file_id, np.int32)
            if value is not None:
                self.value = np.asarray(value, np.float64)
            if raws is not None:
                self.raws.extend(raws)
            self.n = k
            return
        if n + k > len(self.step):
            cap = max(2 * len(self.step), n + k, 256)
            for name in ("step", "wall", "file") + (("value",) if value is not None else ()):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[:n] = old[:n]
                setattr(self, name, new)
        self.step[n : n + k] = step
        self.wall[n : n + k] = wall
        self.file[n : n + k] = file_id
        if value is not None:
            self.value[n : n + k] = value
        if raws is not None:
            self.raws.extend(raws)
        self.n = n + k

    def insert_at(self, file_id: int) -> int:
        """Where points of file ``file_id`` go: after every point of that file or an earlier
        one (points are kept in file order)."""
        n = self.n
        if n == 0 or self.file[n - 1] <= file_id:
            return n
        return int(np.searchsorted(self.file[:n], file_id, side="right"))

    def insert(self, pos: int, step, wall, value, file_id: int, raws=None) -> None:
        """Insert points before point ``pos``, into new arrays (old snapshots stay intact)."""
        n, k = self.n, len(step)
        if not k:
            return

        def put(old, new):
            return np.concatenate([old[:pos], np.asarray(new, old.dtype), old[pos:n]])

        self.step, self.wall = put(self.step, step), put(self.wall, wall)
        self.file = put(self.file, np.full(k, file_id, np.int32))
        if value is not None:
            self.value = put(self.value, value)
        if raws is not None:
            self.raws = self.raws[:pos] + list(raws) + self.raws[pos:n]
            del self.decoded[pos:]
        self.n = n + k

    def purge(self, min_step: int, upto_file: int | None = None):
        """Drop points with ``step >= min_step`` (of files ``<= upto_file`` only, when given)
        into new arrays (old snapshots stay intact). Returns the keep mask over the old points,
        or ``None`` when nothing was dropped."""
        n = self.n
        keep = self.step[:n] < min_step
        if upto_file is not None:
            keep |= self.file[:n] > upto_file
        if keep.all():
            return None
        self.step = self.step[:n][keep]
        self.wall = self.wall[:n][keep]
        self.file = self.file[:n][keep]
        if self.data_class == SCALAR:
            self.value = self.value[:n][keep]
        else:
            idx = np.flatnonzero(keep)
            self.raws = [self.raws[i] for i in idx]
            self.decoded = [self.decoded[i] for i in idx if i < len(self.decoded)]
            if len(self.decoded) != len(self.raws):
                self.decoded = self.decoded[: min(len(self.decoded), len(self.raws))]
        self.n = len(self.step)
        return keep

    def info(self) -> TagInfo:
        n = self.n
        if not n:
            return TagInfo(self.plugin_name, self.data_class or TENSOR, 0, None, None)
        s, w = self.step[:n], self.wall[:n]
        return TagInfo(self.plugin_name, self.data_class, n, int(s.min()), int(s.max()),
                       float(w.min()), float(w.max()))

    def columns(self):
        """Read-only ``(step, wall_time)`` views of the current points."""
        return _readonly(self.step[: self.n]), _readonly(self.wall[: self.n])


class _Tag:
    """A tag of a run: its ``name``, the plugin last declared (by a Value's metadata) per payload
    field number (``declared``), and its series per plugin (``by_plugin``; a series is listed
    in the run only once it holds a classified point)."""

    __slots__ = ("name", "declared", "by_plugin")

    def __init__(self, name: str):
        self.name = name
        self.declared: dict[int, str] = {}
        self.by_plugin: dict[str, _Series] = {}


class _Run:
    """Everything read of one run: its files (``tbx.reader._tracking.FileState`` by path, in
    the order first read), tag ids as the scanner interns them, and the series."""

    def __init__(self, name: str):
        self.name = name
        self.files: dict = {}
        self.file_names: list[str] = []
        self.tags_b: list[bytes] = []
        self.tag_index: dict[bytes, int] = {}
        self.slots: list[_Tag | None] = []  # per tag id; None: left out by the tag filter
        self.series: dict[tuple[str, str], _Series] = {}  # (tag, plugin), first seen first
        self.first: dict[str, _Series] = {}  # tag -> the series written first to it
        self.file_version: str | None = None
        self.purges: list[tuple[int, int]] = []  # (file index, step) of every purge read
        self.most_recent_step = -1  # for the purge rule of runs without file_version >= 2
        self.meta_plugins: dict[bytes, str] = {}  # serialized SummaryMetadata -> plugin name

    def add_series(self, s: _Series) -> bool:
        """List ``s`` in the run; True if it was not listed yet."""
        key = (s.tag, s.plugin_name)
        if key in self.series:
            return False
        self.series[key] = s
        self.first.setdefault(s.tag, s)
        return True


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


def decoded(s: _Series, decode) -> tuple:
    """The first ``s.n`` points of a tensor/blob series decoded (cached; an undecodable point
    is ``None``). Call with the reader's lock held."""
    n = s.n
    if len(s.decoded) < n:
        summary_pb2 = _pb()
        for raw in s.raws[len(s.decoded) : n]:
            try:
                s.decoded.append(decode(summary_pb2.Summary.Value.FromString(raw)))
            except Exception:  # noqa: BLE001 - undecodable point: kept as None
                s.decoded.append(None)
    return tuple(s.decoded[:n])
