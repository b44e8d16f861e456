"""What :class:`tbx.reader.tbparse_compat.SummaryReader` takes from tbx's reader: per event file,
the points of each event type with the values tbparse computes for them.

tbparse sorts every Value by its payload field, as TensorBoard's ``EventAccumulator`` does:
``histo`` -> histograms, ``image`` -> images, ``audio`` -> audio, ``tensor`` -> text (plugin
``text``), nothing (plugin ``hparams``) or tensors; ``simple_value`` -> scalars. tbx's reader
keeps each tensor and blob point's serialized Value, so the same sorting applies to them; scalar
tags (``simple_value`` and plugin ``scalars`` tensors alike) are scalars. This module is the only
one of the tbparse layer that reads from the reader (``runs``, ``series``, ``scalars``,
``raw_values``, ``file_ids``).
"""

from __future__ import annotations

import numpy as np

from tbx.reader import _tbparse_raw as R
from tbx.reader.provider import SCALAR

__all__ = ["pieces", "convert"]

_KIND = {"histo": "histograms", "image": "images", "audio": "audio"}
_TEXT_SUFFIX = "/text_summary"
_HPARAMS_START = "_hparams_/session_start_info"


def pieces(reader, event_type: str, decode: bool = True) -> dict:
    """``{(run, file name): [(tag, step, wall_time, {column: values}, raw tag)]}`` of one event
    type: per event file, one piece per tag (tags in the run's first-seen order; hparams: one
    per hyperparameter of the file's first session, without step and wall time). ``tag`` is
    the shown tag (text without ``/text_summary``), ``raw tag`` the written one. With
    ``decode=False`` the value columns of tensor, blob and text points stay empty (for tags)."""
    out: dict = {}
    for run in reader.runs():
        for tag, plugin, info in reader.series(run):  # a tag may hold several kinds
            if event_type == "hparams":
                if tag == _HPARAMS_START and info.data_class != SCALAR:
                    _hparams(reader, run, tag, plugin, out)
            elif info.data_class == SCALAR:
                if event_type == "scalars":
                    _scalars(reader, run, tag, plugin, out)
            elif event_type != "scalars":
                _points(reader, run, tag, plugin, event_type, out, decode)
    return out


def _scalars(reader, run, tag, plugin, out) -> None:
    s = reader.scalars(run, tag, plugin)
    ids, names = reader.file_ids(run, tag, plugin)
    for i in dict.fromkeys(ids.tolist()):
        m = ids == i
        out.setdefault((run, names[i]), []).append(
            (tag, s.step[m], s.wall_time[m], {"value": s.value[m]}, tag))


def _values(reader, run, tag, plugin):
    from tbx.proto.summary_pb2 import Summary

    step, wall, raws = reader.raw_values(run, tag, plugin)
    ids, names = reader.file_ids(run, tag, plugin)
    for st, w, raw, i in zip(step.tolist(), wall.tolist(), raws, ids.tolist(), strict=True):
        yield st, w, Summary.Value.FromString(raw), names[i]


def _points(reader, run, tag, plugin, event_type, out, decode: bool) -> None:
    """The points of a tensor or blob tag whose payload field makes them ``event_type``."""
    rows: dict[str, dict[str, list]] = {}
    for st, w, value, name in _values(reader, run, tag, plugin):
        which = value.WhichOneof("value")
        kind = _KIND.get(which)
        if which == "tensor":
            kind = "text" if plugin == "text" else None if plugin == "hparams" else "tensors"
        if kind != event_type:
            continue
        try:
            item = convert(event_type, value) if decode else {}
        except Exception:  # noqa: BLE001 - an undecodable point is left out
            continue
        cols = rows.setdefault(name, {"step": [], "wall_time": []})
        cols["step"].append(st)
        cols["wall_time"].append(w)
        for k, v in item.items():
            cols.setdefault(k, []).append(v)
    shown = tag
    if event_type == "text" and tag.endswith(_TEXT_SUFFIX):
        shown = tag[: -len(_TEXT_SUFFIX)]
    for name, cols in rows.items():
        step = np.asarray(cols.pop("step"), np.int64)
        wall = np.asarray(cols.pop("wall_time"), np.float64)
        out.setdefault((run, name), []).append((shown, step, wall, cols, tag))


def _hparams(reader, run, tag, plugin, out) -> None:
    """Each file's first session-start metadata: one piece per hyperparameter, its value the
    one field set in the ``google.protobuf.Value``."""
    from tbx.proto.plugin_hparams_pb2 import HParamsPluginData

    done = set()
    for _, _, value, name in _values(reader, run, tag, plugin):
        if name in done or not value.HasField("metadata"):
            continue
        done.add(name)
        try:
            ssi = HParamsPluginData.FromString(value.metadata.plugin_data.content)
        except Exception:  # noqa: BLE001 - undecodable content: no hyperparameters
            continue
        for k, v in ssi.session_start_info.hparams.items():
            fields = v.ListFields()
            item = fields[0][1] if fields else None
            out.setdefault((run, name), []).append((k, None, None, {"value": [item]}, k))


def convert(event_type: str, value) -> dict:
    """One Value's columns, as tbparse computes them.

    Raises:
        ValueError, TypeError: the Value cannot be decoded as ``event_type``.
    """
    from tbx.summary.tensor import tensor_to_numpy

    if event_type == "tensors":
        arr = tensor_to_numpy(value.tensor)
        return {"value": arr.item() if arr.shape == () else arr}
    if event_type == "text":
        return {"value": tensor_to_numpy(value.tensor).item().decode("utf-8")}
    if event_type == "histograms":
        h = value.histo
        return {"counts": np.array(h.bucket, dtype=np.float64),
                "limits": np.array(h.bucket_limit, dtype=np.float64), "max": h.max,
                "min": h.min, "num": h.num, "sum": h.sum, "sum_squares": h.sum_squares}
    if event_type == "images":
        im = value.image
        return {"value": R.decode_image(im.encoded_image_string), "height": im.height,
                "width": im.width}
    if event_type == "audio":
        a = value.audio
        return {"value": R.decode_wav(a.encoded_audio_string)[0], "content_type": a.content_type,
                "length_frames": a.length_frames, "sample_rate": a.sample_rate}
    raise ValueError(f"unknown event type {event_type!r}")
