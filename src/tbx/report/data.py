"""What ``tbx report`` puts in its HTML file, read from a provider: scalar series (downsampled
with the viewer's M4) in a compact binary block, the hparams table, the last image of each
image tag, and text summaries rendered to safe HTML. Pure functions over a refreshed
:class:`~tbx.reader.provider.LogdirProvider`; no file output.

Series block (decoded by ``web/src/report.js``): three sections back to back, the ``step``
columns of every series (in the order of the descriptors), then their ``wall_time`` columns,
then their ``value`` columns; the whole compressed with zlib (deflate, RFC 1950; the page
inflates it with the browser's ``DecompressionStream("deflate")``) and written as base64. A
column is ``n`` little-endian numbers of the type its descriptor names, byte-shuffled (byte 0
of every element, then byte 1, ...: it compresses better), ``n * size`` bytes; offsets follow
from the order. Per series the descriptor ``{"n", "columns": {"step": type, "wall_time": type,
"value": type}, "first_wall_time": float | None, "ms_per_step": float}`` (see
:meth:`SeriesBlock.add`) says how to read it:

* ``step``: ``"i4d"`` int32 deltas (``step[0]`` is the first delta from 0), or ``"f8"`` the
  steps as float64 when a delta does not fit in int32 (exact up to 2**53);
* ``wall_time``: ``"i4p"`` milliseconds since the series' ``first_wall_time`` (wall times are
  kept to the millisecond), as int32 residuals of a prediction from the step:
  ``ms[0] = r[0] = 0`` and ``ms[i] = ms[i-1] + floor((step[i] - step[i-1]) * ms_per_step) +
  r[i]`` (float64 arithmetic; small residuals when a run logs at an even pace), or ``"f8"``
  seconds since ``first_wall_time`` when a residual does not fit in int32;
* ``value``: ``"f4"`` float32 when every value is a float32 (``simple_value`` always is; so
  exact), else ``"f8"``.
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


#: Bytes per element of each column type.
SIZES = {"i4d": 4, "i4p": 4, "f4": 4, "f8": 8}
SECTIONS = ("step", "wall_time", "value")


def _shuffle(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    return a.view(np.uint8).reshape(-1, a.itemsize).T.tobytes()


def _int32(a: np.ndarray) -> np.ndarray | None:
    if a.size and (a.min() < -(2**31) or a.max() >= 2**31):
        return None
    return a.astype("<i4")


class SeriesBlock:
    """Accumulates the encoded columns of many series (see the module docstring).

    Args:
        level: zlib compression level, 0-9.
    """

    def __init__(self, level: int = 9):
        self.level = level
        self._sections: dict[str, list[bytes]] = {k: [] for k in SECTIONS}
        self.points = 0

    def add(self, step: np.ndarray, wall_time: np.ndarray, value: np.ndarray) -> dict:
        """Encode one series' points (equal-length ``step`` int64, ``wall_time`` float64
        seconds since the epoch, ``value`` float64); returns its descriptor ``{"n",
        "columns": {"step", "wall_time", "value"}: type, "first_wall_time": float | None,
        "ms_per_step": float}``."""
        step = np.asarray(step, dtype=np.int64)
        n = int(step.size)
        types = {}
        d = _int32(np.diff(step, prepend=np.int64(0)))
        types["step"] = self._put("step", d, "i4d", step.astype("<f8"), "f8")
        wall = np.asarray(wall_time, dtype=np.float64)
        first = float(wall[0]) if n else None
        rel = wall - (first or 0.0)
        ms = np.round(rel * 1000.0)
        rate = 0.0
        resid = None
        if not n or (np.isfinite(ms).all() and np.abs(ms).max() < 2.0**53):
            ms = ms.astype(np.int64)
            if n > 1 and step[-1] != step[0]:
                rate = float(ms[-1] - ms[0]) / float(step[-1] - step[0])
            pred = np.floor(np.diff(step, prepend=step[:1]).astype(np.float64) * rate)
            if not pred.size or np.abs(pred).max() < 2.0**53:  # exact in int64 and in JS
                resid = _int32(np.diff(ms, prepend=np.int64(0)) - pred.astype(np.int64))
        types["wall_time"] = self._put("wall_time", resid, "i4p", rel.astype("<f8"), "f8")
        v = np.asarray(value, dtype=np.float64)
        v32 = v.astype("<f4")
        exact = np.array_equal(v32.astype(np.float64), v, equal_nan=True)
        types["value"] = self._put("value", v32 if exact else None, "f4", v.astype("<f8"), "f8")
        self.points += n
        return {"n": n, "columns": types, "first_wall_time": first, "ms_per_step": rate}

    def _put(self, section: str, a: np.ndarray | None, kind: str, fallback: np.ndarray,
             fallback_kind: str) -> str:
        if a is None:
            a, kind = fallback, fallback_kind
        self._sections[section].append(_shuffle(a))
        return kind

    def raw(self) -> bytes:
        """The uncompressed block."""
        return b"".join(c for k in SECTIONS for c in self._sections[k])

    def payload(self) -> str:
        """The whole block, zlib-compressed, as base64 (ASCII)."""
        return base64.b64encode(zlib.compress(self.raw(), self.level)).decode("ascii")

    def quick_size(self) -> int:
        """Length of :meth:`payload` were it compressed at zlib's fastest level (1): several
        times faster, and on these blocks 3-7 % larger than at level 9 (measured on random
        walks), so a quick upper estimate of the size."""
        return 4 * ((len(zlib.compress(self.raw(), 1)) + 2) // 3)


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
