"""``--kind images | audio | plugins``: each point's data as a file below OUT, listed in
``OUT/index.csv`` (layout: :mod:`tbx.export`)."""

from __future__ import annotations

import os
from urllib.parse import quote

__all__ = ["export_files", "KNOWN_PLUGINS"]

#: Plugins whose data tbx reads (and exports as tables or images/audio); ``plugins`` exports the
#: others.
KNOWN_PLUGINS = frozenset({"scalars", "histograms", "images", "audio", "video", "text",
                           "pr_curves", "hparams", "custom_scalars", "mesh", "graphs",
                           "projector"})
_EXTENSIONS = ((b"\x89PNG", "png"), (b"GIF8", "gif"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "wav"))


def _component(name: str) -> str:
    """One folder name for a run or tag: percent-encoded (``/`` included), never ``.``/``..``."""
    out = quote(name, safe="")
    return out.replace(".", "%2E") if out in (".", "..") else out


def _extension(data: bytes, default: str = "bin") -> str:
    for magic, ext in _EXTENSIONS:
        if data.startswith(magic):
            return ext
    return default


def _points(data, kind: str):
    """``(run, tag, plugin, step, wall_time, [(bytes, ext)])`` per point, and per tag the
    plugin content to write (``plugins`` only)."""
    import numpy as np

    from tbx.reader.provider import BLOB, TENSOR

    p = data.provider
    for run in p.runs():
        for tag, plugin, info in p.series(run):  # a tag may hold several kinds
            if kind == "images" and info.data_class == BLOB and plugin in ("images", "video"):
                s = p.blobs(run, tag, plugin=plugin)
                items = [[(bytes(b), _extension(bytes(b))) for b in (v or [])[2:]]
                         for v in s.values]
            elif kind == "audio" and info.data_class == BLOB and plugin == "audio":
                s = p.blobs(run, tag, plugin=plugin)
                items = [[(bytes(b), _extension(bytes(b))) for b in (v or [])[0::2]]
                         for v in s.values]
            elif kind == "plugins" and info.data_class == TENSOR and plugin not in KNOWN_PLUGINS:
                s = p.tensors(run, tag, plugin=plugin)
                items = []
                for v in s.values:
                    if v is None:
                        items.append([])
                    elif v.dtype == object:
                        items.append([(bytes(x), "bin") for x in v.reshape(-1)])
                    else:
                        import io

                        buf = io.BytesIO()
                        np.save(buf, v, allow_pickle=False)
                        items.append([(buf.getvalue(), "npy")])
                content = p.metadata(run, tag, plugin=plugin).plugin_data.content
                yield run, tag, plugin, None, None, [(content, "plugin_content")] if content \
                    else []
            else:
                continue
            for st, w, files in zip(s.step.tolist(), s.wall_time.tolist(), items, strict=True):
                yield run, tag, plugin, st, w, files


def export_files(data, kind: str, out: str) -> int:
    """Write the ``kind`` points of a :class:`tbx.reader.frames.Logdir` as files below ``out``
    with ``out/index.csv`` (see the module docstring); returns the number of files listed.

    Raises:
        OSError: a file or folder cannot be written.
    """
    import csv

    os.makedirs(out, exist_ok=True)
    counts: dict[tuple, int] = {}
    rows = 0
    with open(os.path.join(out, "index.csv"), "w", newline="", encoding="utf-8") as f:
        index = csv.writer(f, lineterminator="\n")
        index.writerow(["run", "tag", "step", "wall_time", "path"] +
                       (["plugin"] if kind == "plugins" else []))
        for run, tag, plugin, step, wall, files in _points(data, kind):
            folder = os.path.join(_component(run), _component(tag))
            os.makedirs(os.path.join(out, folder), exist_ok=True)
            for blob, ext in files:
                if step is None:  # the plugin's metadata content
                    with open(os.path.join(out, folder, "plugin_content.bin"), "wb") as g:
                        g.write(blob)
                    continue
                n = counts.get((run, tag, step), 0)
                counts[(run, tag, step)] = n + 1
                rel = os.path.join(folder, f"{step}_{n}.{ext}")
                with open(os.path.join(out, rel), "wb") as g:
                    g.write(blob)
                index.writerow([run, tag, step, repr(wall), rel.replace(os.sep, "/")] +
                               ([plugin] if kind == "plugins" else []))
                rows += 1
    return rows
