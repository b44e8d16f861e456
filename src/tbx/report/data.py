"""What ``tbx report`` puts in its HTML file, read from a provider: scalar series (downsampled
with the viewer's M4) in a compact binary block, the hparams table, the last image of each
image tag, and text summaries rendered to safe HTML. Pure functions over a refreshed
:class:`~tbx.reader.provider.LogdirProvider`; no file output.

Binary block (decoded by ``web/src/report.js``): the series' columns back to back, then
compressed with zlib (deflate, RFC 1950; the page inflates it with the browser's
``DecompressionStream("deflate")``). Every column is byte-shuffled (byte 0 of every element,
then byte 1, ...: it compresses better) little-endian numbers; its descriptor
``{"offset": bytes from the block's start, "n": elements, "type": ..., "size": bytes per
element}`` says how to read it:

* ``step``: ``"i4d"`` int32 deltas (``step[0]`` is the first delta from 0), or ``"f8"`` the
  steps as float64 when a delta does not fit in int32 (exact up to 2**53);
* ``value``: ``"f4"`` float32 when every value is a float32 (``simple_value`` always is; exact),
  else ``"f8"``;
* ``wall_time``: ``"i4d"`` int32 deltas of milliseconds since the series' ``first_wall_time``
  (so wall times are kept to the millisecond), or ``"f8"`` seconds since that time.
"""

from __future__ import annotations

import base64
import zlib

import numpy as np

__all__ = [
    "SeriesBlock",
    "scalar_pairs",
    "hparams_table",
    "last_images",
    "text_items",
]

#: Text points kept per (run, tag), evenly spread, always the last (the viewer's default).
TEXT_SAMPLES = 100
#: Content types of images that the page shows inline.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _shuffle(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    return a.view(np.uint8).reshape(-1, a.itemsize).T.tobytes()


def _int_deltas(a: np.ndarray) -> np.ndarray | None:
    d = np.diff(np.asarray(a, dtype=np.int64), prepend=np.int64(0))
    if d.size and (d.min() < -(2**31) or d.max() >= 2**31):
        return None
    return d.astype("<i4")


class SeriesBlock:
    """Accumulates the encoded columns of many series (see the module docstring)."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._size = 0

    def _column(self, a: np.ndarray, kind: str) -> dict:
        data = _shuffle(a)
        desc = {"offset": self._size, "n": int(a.size), "type": kind, "size": a.itemsize}
        self._chunks.append(data)
        self._size += len(data)
        return desc

    def add(self, step: np.ndarray, wall_time: np.ndarray, value: np.ndarray) -> dict:
        """Encode one series' points (equal-length step int64, wall_time float64 seconds,
        value float64); returns ``{"columns": {"step", "wall_time", "value"}: descriptors,
        "first_wall_time": float | None}``."""
        cols = {}
        d = _int_deltas(step)
        cols["step"] = (self._column(d, "i4d") if d is not None
                        else self._column(np.asarray(step, dtype="<f8"), "f8"))
        v = np.asarray(value, dtype=np.float64)
        v32 = v.astype("<f4")
        exact = np.array_equal(v32.astype(np.float64), v, equal_nan=True)
        cols["value"] = self._column(v32 if exact else v.astype("<f8"), "f4" if exact else "f8")
        first = float(wall_time[0]) if len(wall_time) else None
        rel = np.asarray(wall_time, dtype=np.float64) - (first or 0.0)
        ms = np.round(rel * 1000.0)
        d = _int_deltas(ms) if np.isfinite(ms).all() else None
        cols["wall_time"] = (self._column(d, "i4d") if d is not None
                             else self._column(rel.astype("<f8"), "f8"))
        return {"columns": cols, "first_wall_time": first}

    def payload(self) -> str:
        """The whole block, zlib-compressed, as base64 (ASCII)."""
        raw = b"".join(self._chunks)
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    @property
    def raw_size(self) -> int:
        return self._size


def scalar_pairs(provider) -> list[tuple[str, str]]:
    """``(run, tag)`` of every scalar series, runs in name order, tags in first-seen order;
    ``_hparams_/`` tags left out (as the viewer's scalars dashboard does)."""
    out = []
    for run in provider.runs():
        for tag, info in provider.tags(run).items():
            if info.data_class == "scalar" and not tag.startswith("_hparams_/"):
                out.append((run, tag))
    return out


def hparams_table(provider) -> dict:
    """The hparams dashboard's table, as the viewer's hparams plugin computes it (its
    ``sessions`` route, called here with a context over ``provider``): ``{"hparams": [names],
    "metrics": [tags], "sessions": [{"run", "group", "hparams": {name: value}, "metrics":
    {tag: last value}}]}``; non-finite numbers are ``None``."""
    from types import SimpleNamespace

    from tbx.viewer.plugin import PluginContext
    from tbx.viewer.plugins.hparams import PLUGIN, sessions

    return sessions(PluginContext(PLUGIN, SimpleNamespace(provider=provider)), None)


def last_images(provider) -> list[dict]:
    """The last image of each image tag of each run: ``{"run", "tag", "step", "total" (points
    of the tag), "count" (images at that step), "width", "height", "src" (a ``data:`` URI)}``;
    images whose bytes are not PNG, JPEG, GIF or WebP (by magic number) are left out."""
    from tbx.viewer.views import sniff_media_type

    out = []
    for run in provider.runs():
        for tag, info in provider.tags(run).items():
            if info.plugin_name != "images" or info.data_class != "blob" or not info.count:
                continue
            s = provider.blobs(run, tag)
            for i in range(len(s) - 1, -1, -1):  # the last point that holds an image
                v = s.values[i]
                if v is None or len(v) < 3:
                    continue
                data = bytes(v[2])
                mt = sniff_media_type(data)
                if mt not in IMAGE_TYPES:
                    break
                try:
                    w, h = int(v[0]), int(v[1])
                except ValueError:
                    w = h = 0
                out.append({"run": run, "tag": tag, "step": int(s.step[i]), "total": len(s),
                            "count": len(v) - 2, "width": w, "height": h,
                            "src": f"data:{mt};base64," + base64.b64encode(data).decode()})
                break
    return out


def text_items(provider) -> list[dict]:
    """Text summaries of every run: ``{"run", "tag", "total", "points": [{"step", "html"}]}``,
    at most :data:`TEXT_SAMPLES` points per tag (evenly spread, newest first), each rendered
    as the viewer renders it (Markdown, raw HTML disabled, then an allow-list sanitiser)."""
    from tbx.viewer.plugins.text import text_value
    from tbx.viewer.plugins.text.render import text_html
    from tbx.viewer.views import sample_indices

    out = []
    for run in provider.runs():
        for tag, info in provider.tags(run).items():
            if info.plugin_name != "text" or info.data_class != "tensor" or not info.count:
                continue
            s = provider.tensors(run, tag)
            pts = [{"step": int(s.step[i]), "html": text_html(text_value(s.values[i]))}
                   for i in sample_indices(len(s), TEXT_SAMPLES)[::-1] if s.values[i] is not None]
            out.append({"run": run, "tag": tag, "total": len(s), "points": pts})
    return out
