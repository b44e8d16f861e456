"""The raw side of :class:`tbx.reader.tbparse_compat.SummaryReader`: one event file as
TensorBoard's ``EventAccumulator`` presents it (``raw_tags``, ``raw_events``), and tbparse's
static helpers for histograms, images and audio. Neither TensorFlow nor tensorboard is needed.

Raw events are read like ``EventAccumulator`` reads one file: every Value goes by its payload
field (``simple_value`` -> scalars, ``histo`` -> histograms and distributions, ``image``,
``audio``, ``tensor`` -> tensors); tags in first-seen order; the first metadata of a tag names its
plugin and content (``hparams`` and ``text`` list those plugins' tags); ``SessionLog(START)`` at
step ``s`` drops the earlier points with ``step >= s`` (files with ``file_version >= 2``), and in
older files an out-of-order step drops its own tags' later points.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ScalarEvent", "TensorEvent", "HistogramEvent", "HistogramValue", "ImageEvent", "AudioEvent",
    "RawFile", "RAW_TAG_TYPES", "histogram_to_cdf", "histogram_to_pdf", "histogram_to_bins",
    "tensor_to_histogram", "tensor_to_image", "tensor_to_audio", "decode_image", "decode_wav",
]


@dataclass(frozen=True)
class ScalarEvent:
    wall_time: float
    step: int
    value: float


@dataclass(frozen=True)
class TensorEvent:
    wall_time: float
    step: int
    tensor_proto: object  # tbx.proto.tensor_pb2.TensorProto


@dataclass(frozen=True)
class HistogramValue:
    min: float
    max: float
    num: float
    sum: float
    sum_squares: float
    bucket_limit: list
    bucket: list


@dataclass(frozen=True)
class HistogramEvent:
    wall_time: float
    step: int
    histogram_value: HistogramValue


@dataclass(frozen=True)
class ImageEvent:
    wall_time: float
    step: int
    encoded_image_string: bytes
    width: int
    height: int


@dataclass(frozen=True)
class AudioEvent:
    wall_time: float
    step: int
    encoded_audio_string: bytes
    content_type: str
    sample_rate: float
    length_frames: int


#: ``event_type`` values :meth:`RawFile.tags` takes (tbparse's ``get_raw_tags``).
RAW_TAG_TYPES = ("images", "audio", "histograms", "scalars", "tensors", "graph", "meta_graph",
                 "run_metadata", "hparams", "text")
_STORES = ("images", "audio", "histograms", "scalars", "distributions", "tensors")


def _file_version(text: str) -> float:
    try:
        return float(text.rpartition(":")[2])
    except ValueError:
        return 0.0


class RawFile:
    """Every event of one event file, as ``EventAccumulator`` keeps them (read on creation).

    Raises:
        OSError: the file cannot be read.
    """

    def __init__(self, path: str | os.PathLike):
        from tbx.proto.event_pb2 import Event, SessionLog
        from tbx.record import scan_records

        self.stores: dict[str, dict[str, list]] = {k: {} for k in _STORES}
        self.plugin_content: dict[str, dict[str, bytes]] = {}
        self.graph = self.meta_graph = False
        self.run_metadata: dict[str, bytes] = {}
        with open(path, "rb") as f:
            data = f.read()
        scan = scan_records(data, source=os.fspath(path), strict=False)
        seen_metadata: set[str] = set()
        version = 0.0
        recent = -math.inf  # most recent step, for files older than file_version 2
        for payload in scan.payloads(data):
            try:
                ev = Event.FromString(bytes(payload))
            except Exception:  # noqa: BLE001 - an undecodable record: skipped
                continue
            if ev.HasField("file_version"):
                version = _file_version(ev.file_version)
            if version >= 2:
                if ev.HasField("session_log") and ev.session_log.status == SessionLog.START:
                    self._purge(ev.step, None)
            elif ev.step < recent and ev.HasField("summary"):
                self._purge(ev.step, {v.tag for v in ev.summary.value})
            else:
                recent = ev.step
            which = ev.WhichOneof("what")
            if which == "graph_def":
                self.graph = True
            elif which == "meta_graph_def":
                self.meta_graph = True
            elif which == "tagged_run_metadata":
                self.run_metadata[ev.tagged_run_metadata.tag] = ev.tagged_run_metadata.run_metadata
            elif which == "summary":
                for v in ev.summary.value:
                    self._add(ev, v, seen_metadata)

    def _add(self, ev, v, seen_metadata: set) -> None:
        tag = v.tag
        if v.HasField("metadata") and tag not in seen_metadata:
            seen_metadata.add(tag)
            pd = v.metadata.plugin_data
            if pd.plugin_name:
                self.plugin_content.setdefault(pd.plugin_name, {})[tag] = pd.content
        which = v.WhichOneof("value")
        w, s = ev.wall_time, ev.step
        if which == "simple_value":
            self.stores["scalars"].setdefault(tag, []).append(ScalarEvent(w, s, v.simple_value))
        elif which == "histo":
            h = v.histo
            hv = HistogramValue(h.min, h.max, h.num, h.sum, h.sum_squares, list(h.bucket_limit),
                                list(h.bucket))
            for store in ("histograms", "distributions"):
                self.stores[store].setdefault(tag, []).append(HistogramEvent(w, s, hv))
        elif which == "image":
            im = v.image
            self.stores["images"].setdefault(tag, []).append(
                ImageEvent(w, s, im.encoded_image_string, im.width, im.height))
        elif which == "audio":
            a = v.audio
            self.stores["audio"].setdefault(tag, []).append(AudioEvent(
                w, s, a.encoded_audio_string, a.content_type, a.sample_rate, a.length_frames))
        elif which == "tensor":
            self.stores["tensors"].setdefault(tag or v.node_name, []).append(
                TensorEvent(w, s, v.tensor))

    def _purge(self, step: int, tags: set | None) -> None:
        for store in self.stores.values():
            for tag, events in store.items():
                if tags is None or tag in tags:
                    events[:] = [e for e in events if e.step < step]

    def tags(self) -> dict:
        """``EventAccumulator.Tags()`` plus ``hparams`` and ``text`` (their plugins' tags)."""
        out = {k: list(self.stores[k]) for k in _STORES}
        out.update(graph=self.graph, meta_graph=self.meta_graph,
                   run_metadata=list(self.run_metadata))
        out["hparams"] = list(self.plugin_content.get("hparams", {}))
        out["text"] = list(self.plugin_content.get("text", {}))
        return out

    def events(self, event_type: str, tag: str) -> list | bytes:
        """The events of one tag (for ``hparams``: its plugin content bytes).

        Raises:
            KeyError: unknown event type or tag.
        """
        if event_type == "hparams":
            return self.plugin_content.get("hparams", {})[tag]
        store = {"text": "tensors"}.get(event_type, event_type)
        if store not in ("images", "audio", "histograms", "scalars", "tensors"):
            raise KeyError(event_type)
        return list(self.stores[store][tag])


# ------------------------------------------------------------------------- tbparse's helpers


def histogram_to_cdf(counts, limits, x) -> np.ndarray:
    """The cumulative fraction of the values at each ``x``, interpolated linearly inside each
    bucket (tbparse's ``histogram_to_cdf``).

    Args:
        counts: (K,) bucket counts; the first is the empty bucket before ``limits[0]``.
        limits: (K,) right edges; ``limits[0]`` is the left edge of the first counted bucket.
        x: (M,) strictly increasing positions.

    Returns:
        float64 (M,): 0 at and below ``limits[0]``, 1 above ``limits[-1]``.

    Raises:
        ValueError: ``counts`` and ``limits`` differ in length, or ``x`` is not increasing.
    """
    counts, limits, x = np.asarray(counts), np.asarray(limits), np.asarray(x)
    if len(counts) != len(limits):
        raise ValueError(f"counts and limits differ in length: {len(counts)} and {len(limits)}")
    if not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing")
    n = np.sum(counts)
    cumsum = np.cumsum(counts)
    y = np.empty(len(x), np.float64)
    below, above = x <= limits[0], x > limits[-1]
    y[below], y[above] = 0, n
    inside = ~(below | above)
    xi = x[inside]
    upper_idx = np.searchsorted(limits, xi, side="left")  # limits[j-1] < x <= limits[j]
    lower, upper = limits[upper_idx - 1], limits[upper_idx]
    y[inside] = (cumsum[upper_idx - 1] * (upper - xi) + cumsum[upper_idx] * (xi - lower)) / (
        upper - lower)
    return y / n


def histogram_to_pdf(counts, limits, x) -> tuple[np.ndarray, np.ndarray]:
    """``(centers, density)``: the midpoints of consecutive ``x`` and the slope of
    :func:`histogram_to_cdf` between them (tbparse's ``histogram_to_pdf``)."""
    x = np.asarray(x)
    y = histogram_to_cdf(counts, limits, x)
    return (x[1:] + x[:-1]) / 2, (y[1:] - y[:-1]) / (x[1:] - x[:-1])


def histogram_to_bins(counts, limits, lower_bound=None, upper_bound=None, n_bins: int = 30):
    """Re-bucket a histogram into ``n_bins`` equal bins over ``[lower_bound, upper_bound]``,
    spreading each bucket's count over the bins it overlaps (TensorBoard's histogram
    dashboard rule, as tbparse's ``histogram_to_bins``). Without both bounds, or with equal
    bounds ``b``, the range is ``[b / 1.1 - 1, b * 1.1 + 1]`` (``b = 0`` without bounds).

    Returns:
        ``(centers, counts)``: two lists of ``n_bins`` floats.

    Raises:
        ValueError: ``counts`` and ``limits`` differ in length, or ``counts[0] != 0``.
    """
    if len(counts) != len(limits):
        raise ValueError(f"counts and limits differ in length: {len(counts)} and {len(limits)}")
    if counts[0] != 0:
        raise ValueError("counts[0] must be 0 (the empty bucket before limits[0])")
    if lower_bound is None or upper_bound is None:
        lower_bound = upper_bound = 0
    if upper_bound == lower_bound:
        lower_bound, upper_bound = lower_bound / 1.1 - 1, lower_bound * 1.1 + 1
    width = (upper_bound - lower_bound) / n_bins
    centers, bins = [], []
    k = 1  # the bucket being spread
    for i in range(n_bins):
        left = lower_bound + i * width
        right = left + width
        total = 0
        while k < len(counts):
            b_right = min(upper_bound, limits[k])
            b_left = max(lower_bound, limits[k - 1])
            if b_right - b_left > 0:
                overlap = min(b_right, right) - max(b_left, left)
                if overlap > 0:
                    total += (overlap / (b_right - b_left)) * counts[k]
            else:  # an empty-width bucket counts in the bin holding its point
                last = right >= upper_bound
                if b_left >= left and (b_right <= right if last else b_right < right):
                    total += counts[k]
            if b_right > right:
                break
            k += 1
        centers.append(left + width / 2)
        bins.append(total)
    return centers, bins


def tensor_to_histogram(tensor) -> dict:
    """A v2 histogram tensor (rows ``(left edge, right edge, count)``) as tbparse's histogram
    dict: ``limits`` (the first left edge, then the right edges), ``counts`` (0, then the
    counts), ``min``/``max`` (the outer edges), ``num`` (the total), ``sum`` and ``sum_squares``
    (NaN: unknown)."""
    t = np.asarray(tensor)
    limits = np.concatenate([t[:1, 0], t[:, 1]])
    counts = np.concatenate([[0], t[:, 2]])
    return {"limits": limits, "counts": counts, "min": limits[0], "max": limits[-1],
            "num": np.sum(counts), "sum": np.nan, "sum_squares": np.nan}


def decode_image(data: bytes) -> np.ndarray:
    """Pixels of an encoded image as TensorFlow's ``decode_image`` gives them: ``(H, W, C)``
    uint8 (C as stored: 1, 3 or 4), or ``(T, H, W, 3)`` for a GIF."""
    if data[:6] in (b"GIF87a", b"GIF89a"):
        from tbx.summary.video import decode_gif

        return decode_gif(data)[0]
    from tbx.summary.image import decode_png

    return decode_png(data)


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """``(samples, sample_rate)`` of a 16-bit PCM WAV as TensorFlow's ``decode_wav`` gives
    them: float32 ``(L, C)``, ``pcm / 32768``.

    Raises:
        ValueError: not a 16-bit PCM WAV.
    """
    import io
    import wave

    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2:
                raise ValueError("WAV is not 16-bit PCM")
            channels, rate = w.getnchannels(), w.getframerate()
            pcm = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a WAV file: {exc}") from None
    frames = np.frombuffer(pcm, "<i2").reshape(-1, channels)
    return (frames / np.float32(32768)).astype(np.float32), rate


def tensor_to_image(tensor) -> dict:
    """tbparse's ``tensor_to_image``: a blob sequence ``[width, height, encoded, ...]`` as
    ``{"image": pixels, "width": int, "height": int}``; several images are stacked on a first
    axis, one is not."""
    images = np.stack([decode_image(bytes(b)) for b in list(tensor)[2:]], axis=0)
    if images.shape[0] == 1:
        images = images.squeeze(axis=0)
    return {"image": images, "width": int(tensor[0]), "height": int(tensor[1])}


def tensor_to_audio(tensor) -> dict:
    """tbparse's ``tensor_to_audio``: rows ``[encoded WAV, label]`` as ``{"audio": float32
    samples, "content_type": "audio/wav", "length_frames", "sample_rate"}``; several clips are
    stacked on a first axis, one is not."""
    t = np.asarray(tensor, dtype=object).reshape(-1, 2)
    decoded = [decode_wav(bytes(b)) for b in t[:, 0]]
    audio = np.stack([a for a, _ in decoded], axis=0)
    rate = np.stack([np.int32(r) for _, r in decoded], axis=0)
    length = audio.shape[1]
    if audio.shape[0] == 1:
        audio, rate = audio.squeeze(axis=0), rate.squeeze(axis=0)
    return {"audio": audio, "content_type": "audio/wav", "length_frames": length,
            "sample_rate": rate}
