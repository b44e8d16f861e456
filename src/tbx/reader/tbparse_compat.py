"""``tbx.SummaryReader``: tbparse's ``SummaryReader`` API over tbx's reader.

Switching is one import (``from tbx import SummaryReader``): same arguments (``log_path``,
``pivot``, ``extra_columns``, ``event_types``), same properties (``scalars``, ``tensors``,
``histograms``, ``images``, ``audio``, ``hparams``, ``text``, ``tags``, ``get_events``,
``get_tags``, ``log_path``) and the same DataFrame columns (tbparse 0.0.9, the shapes its
documentation shows):

* long format (``pivot=False``): ``step, tag, <value columns>`` then the requested extras in the
  order ``wall_time, dir_name, file_name``; rows sorted by ``dir_name``/``file_name`` (when
  requested), ``tag`` and ``step``;
* wide format (``pivot=True``): one row per step (per ``dir_name``/``file_name`` when requested),
  one column per tag (``tag/<extra>`` for extras such as histogram ``min``), tags sorted; several
  values for the same tag and step become a list.

Value columns: scalars ``value`` (float64); tensors ``value`` (ndarray, or a Python number for a
0-d tensor); histograms ``counts``, ``limits`` (float64 arrays) plus extras ``max, min, num, sum,
sum_squares``; images ``value`` (``(H, W, C)`` uint8, needs Pillow) plus ``height, width``; audio
``value`` (``(L, C)`` float samples) plus ``content_type, length_frames, sample_rate``; text
``value`` (str; the ``/text_summary`` suffix of tensorboardX/torch tags removed); hparams ``tag,
value`` (one row per hyperparameter, no step).

Differences, on purpose: TensorFlow is never needed (images and audio decode with Pillow and
``wave``); scalars include the tensor forms of every numeric dtype (tbparse lists those under
``tensors``); a run's files are one stream, so ``purge_step`` restarts apply across files
(tbparse reads each file alone).
"""

from __future__ import annotations

import os

import numpy as np

from tbx.reader.provider import BLOB, SCALAR

__all__ = ["SummaryReader", "ALL_EVENT_TYPES", "ALL_EXTRA_COLUMNS"]

SCALARS, TENSORS, HISTOGRAMS, IMAGES, AUDIO, HPARAMS, TEXT = (
    "scalars", "tensors", "histograms", "images", "audio", "hparams", "text")
#: Values accepted in ``event_types``.
ALL_EVENT_TYPES = frozenset({SCALARS, TENSORS, HISTOGRAMS, IMAGES, AUDIO, HPARAMS, TEXT})
#: Values accepted in ``extra_columns``.
ALL_EXTRA_COLUMNS = frozenset({"dir_name", "file_name", "wall_time", "min", "max", "num", "sum",
                               "sum_squares", "width", "height", "content_type",
                               "length_frames", "sample_rate"})
_TEXT_SUFFIX = "/text_summary"
_HPARAMS_START = "_hparams_/session_start_info"
_TRAILING = ("wall_time", "dir_name", "file_name")


class LogPathNotFoundError(FileNotFoundError, ValueError):
    """``log_path`` does not exist (a ValueError too, as tbparse raises)."""


class SummaryReader:
    """Reads an event file, or every event file below a folder, into DataFrames.

    Args:
        log_path: an event file, or a folder (read recursively; each sub-folder's files are
            labelled by ``dir_name``, its path relative to ``log_path``, ``""`` for the folder
            itself).
        pivot: wide format (one column per tag) instead of long format.
        extra_columns: a ``set`` of extra columns, among :data:`ALL_EXTRA_COLUMNS`.
        event_types: a ``set`` of event types to read, among :data:`ALL_EVENT_TYPES`
            (default: all).

    Raises:
        LogPathNotFoundError: ``log_path`` does not exist (a FileNotFoundError and ValueError).
        ValueError: ``extra_columns`` or ``event_types`` is not a ``set``.
        KeyError: ``extra_columns`` or ``event_types`` holds an unknown name.
    """

    def __init__(self, log_path: str | os.PathLike, *, pivot: bool = False,
                 extra_columns: set[str] | None = None, event_types: set[str] | None = None):
        extra = set() if extra_columns is None else extra_columns
        if not isinstance(extra, set):
            raise ValueError(f"extra_columns must be a set, got {type(extra).__name__}")
        bad = extra - ALL_EXTRA_COLUMNS
        if bad:
            raise KeyError(f"extra_columns: unknown column names {sorted(bad)}; "
                           f"known: {sorted(ALL_EXTRA_COLUMNS)}")
        types = set(ALL_EVENT_TYPES) if event_types is None else event_types
        if not isinstance(types, set):
            raise ValueError(f"event_types must be a set, got {type(types).__name__}")
        bad = types - ALL_EVENT_TYPES
        if bad:
            raise KeyError(f"event_types: unknown event types {sorted(bad)}; "
                           f"known: {sorted(ALL_EVENT_TYPES)}")
        self._log_path = os.fspath(log_path)
        self._pivot = bool(pivot)
        self._extra = set(extra)
        self._types = set(types)
        from tbx.reader._core import LogdirReader

        path = self._log_path
        if not os.path.exists(path):
            raise LogPathNotFoundError(f"log_path {path!r}: file or directory not found")
        if os.path.isfile(path):
            root = os.path.dirname(os.path.abspath(path))
            only = {os.path.join(root, os.path.basename(path))}
            self._reader = LogdirReader(root, only_files=only, run_filter="^\\.$")
        else:
            self._reader = LogdirReader(path)
        self._reader.refresh()
        self._cache: dict[str, object] = {}

    @property
    def log_path(self) -> str:
        """The file or folder given."""
        return self._log_path

    # ------------------------------------------------------------------ tags

    def _tag_kind(self, info) -> str | None:
        p = info.plugin_name
        if info.data_class == SCALAR:
            return SCALARS
        if info.data_class == BLOB:
            return IMAGES if p in ("images", "video") else AUDIO if p == "audio" else None
        if p == "histograms":
            return HISTOGRAMS
        if p == "text":
            return TEXT
        if p == "hparams":
            return HPARAMS
        return TENSORS

    def _runs(self) -> list[str]:
        """Runs in tbparse's walk order: at each folder level, entries by name, a run's own
        files and its sub-folders interleaved."""
        def key(run):
            parts = [] if run == "." else run.split("/")
            files = self._reader.files(run)
            first = os.path.basename(files[0][0]) if files else ""
            return (*parts, first)

        return sorted(self._reader.runs(), key=key)

    def _series_of(self, event_type: str):
        """``[(dir_name, run, tag, info)]`` of the tags of ``event_type``, runs in tbparse's
        walk order."""
        out = []
        for run in self._runs():
            for tag, info in self._reader.tags(run).items():
                if self._tag_kind(info) == event_type:
                    out.append(("" if run == "." else run, run, tag, info))
        return out

    @property
    def tags(self) -> dict[str, list[str]]:
        """``event type -> [tag, ...]`` for every event type read."""
        return self.get_tags()

    def get_tags(self, event_type: str | None = None):
        """Tags of one event type (a list), or of every type (a dict; empty lists for types
        left out by ``event_types``) when ``event_type`` is None.

        Raises:
            ValueError: unknown ``event_type``.
        """
        if event_type is None:
            return {t: self.get_tags(t) if t in self._types else []
                    for t in (SCALARS, TENSORS, HISTOGRAMS, IMAGES, AUDIO, HPARAMS, TEXT)}
        if event_type not in ALL_EVENT_TYPES:
            raise ValueError(f"event_type {event_type!r} is unknown; "
                             f"known: {sorted(ALL_EVENT_TYPES)}")
        if event_type == HPARAMS:
            return list(dict.fromkeys(self._hparams_rows()[0]))
        tags = [_display_tag(event_type, t) for _, _, t, _ in self._series_of(event_type)]
        return list(dict.fromkeys(tags))

    # ------------------------------------------------------------------ frames

    @property
    def scalars(self):
        """Scalar events (see the module docstring for the columns)."""
        return self.get_events(SCALARS)

    @property
    def tensors(self):
        """Tensor events of tags that are not text or hparams."""
        return self.get_events(TENSORS)

    @property
    def histograms(self):
        """Histogram events."""
        return self.get_events(HISTOGRAMS)

    @property
    def images(self):
        """Image events (decoded pixels; needs Pillow)."""
        return self.get_events(IMAGES)

    @property
    def audio(self):
        """Audio events (decoded samples)."""
        return self.get_events(AUDIO)

    @property
    def hparams(self):
        """Hyperparameters (``tag``, ``value``)."""
        return self.get_events(HPARAMS)

    @property
    def text(self):
        """Text events."""
        return self.get_events(TEXT)

    def get_events(self, event_type: str):
        """The DataFrame of one event type.

        Raises:
            ValueError: ``event_type`` is unknown, or was left out by ``event_types``.
        """
        if event_type not in ALL_EVENT_TYPES:
            raise ValueError(f"event_type {event_type!r} is unknown; "
                             f"known: {sorted(ALL_EVENT_TYPES)}")
        if event_type not in self._types:
            raise ValueError(f"event_type {event_type!r} was not read (see event_types)")
        if event_type not in self._cache:
            self._cache[event_type] = self._build(event_type)
        return self._cache[event_type].copy()

    def _build(self, event_type: str):
        import pandas as pd

        if event_type == HPARAMS:
            names, values, dirs, files = self._hparams_rows()
            cols: dict[str, list] = {}
            if "dir_name" in self._extra:
                cols["dir_name"] = dirs
            if "file_name" in self._extra:
                cols["file_name"] = files
            long = pd.DataFrame({"tag": names, "value": values, **cols})
            if not len(long):
                return pd.DataFrame()
            group = [c for c in ("dir_name", "file_name") if c in self._extra]
            if not self._pivot:
                return long.sort_values(group + ["tag"], kind="stable", ignore_index=True)
            return self._pivot_frame(pd, long, group, ["value"])
        parts = []
        value_cols: list[str] = []
        for dir_name, run, tag, info in self._series_of(event_type):
            part, cols = self._part(event_type, run, tag, info)
            if part is None or not len(part["step"]):
                continue
            value_cols = cols
            files = None
            if "file_name" in self._extra:
                ids, names = self._reader.file_ids(run, tag)
                files = np.asarray(names, dtype=object)[ids] if len(names) else None
            parts.append((_display_tag(event_type, tag), dir_name, files, part))
        if not parts:
            return pd.DataFrame()
        group = [c for c in ("dir_name", "file_name") if c in self._extra]
        if self._pivot and event_type == SCALARS and "wall_time" not in self._extra:
            fast = self._pivot_unique(pd, parts, group)
            if fast is not None:
                return fast
        long = self._long(pd, parts, value_cols)
        if not self._pivot:
            return long
        return self._pivot_frame(pd, long, group + ["step"], value_cols)

    def _long(self, pd, parts, value_cols):
        """The long frame, sorted (stable) by dir_name / file_name when requested, tag, step;
        built from numpy columns (no Python object per point for numbers)."""
        lengths = [len(p["step"]) for _, _, _, p in parts]
        tags = sorted({t for t, _, _, _ in parts})
        tag_rank = {t: i for i, t in enumerate(tags)}
        tag_codes = np.repeat([tag_rank[t] for t, _, _, _ in parts], lengths)
        step = np.concatenate([np.asarray(p["step"], np.int64) for _, _, _, p in parts])
        keys = [step, tag_codes]
        data: dict[str, object] = {}
        if "dir_name" in self._extra:
            dirs = sorted({d for _, d, _, _ in parts})
            dir_rank = {d: i for i, d in enumerate(dirs)}
            dir_codes = np.repeat([dir_rank[d] for _, d, _, _ in parts], lengths)
        if "file_name" in self._extra:
            file_col = np.concatenate([f if f is not None else np.full(n, "", object)
                                       for (_, _, f, _), n in zip(parts, lengths, strict=True)])
            names, file_codes = np.unique(file_col.astype(str), return_inverse=True)
            keys.append(file_codes)
        if "dir_name" in self._extra:
            keys.append(dir_codes)
        order = np.lexsort(keys)  # stable; the last key sorts first
        data["step"] = step[order]
        data["tag"] = np.asarray(tags, dtype=object)[tag_codes[order]]
        for c in value_cols:
            col = [p[c] for _, _, _, p in parts]
            if all(isinstance(x, np.ndarray) and x.dtype != object for x in col):
                data[c] = np.concatenate(col)[order]
            else:
                flat = np.empty(sum(lengths), dtype=object)
                flat[:] = [v for x in col for v in x]
                data[c] = flat[order]
        if "wall_time" in self._extra:
            data["wall_time"] = np.concatenate(
                [np.asarray(p["wall_time"], np.float64) for _, _, _, p in parts])[order]
        if "dir_name" in self._extra:
            data["dir_name"] = np.asarray(dirs, dtype=object)[dir_codes[order]]
        if "file_name" in self._extra:
            data["file_name"] = np.asarray(names, dtype=object)[file_codes[order]]
        return pd.DataFrame(data)

    def _pivot_unique(self, pd, parts, group):
        """Wide frame of one-value-per-cell data, or ``None`` when a (key, tag) repeats."""
        by_tag: dict[str, list] = {}
        for tag, dir_name, files, p in parts:
            idx = {"step": np.asarray(p["step"], np.int64)}
            if "dir_name" in group:
                idx["dir_name"] = np.full(len(idx["step"]), dir_name, dtype=object)
            if "file_name" in group:
                idx["file_name"] = files
            index = pd.MultiIndex.from_arrays([idx[k] for k in (*group, "step")],
                                              names=[*group, "step"])
            by_tag.setdefault(tag, []).append(pd.Series(np.asarray(p["value"]), index=index))
        columns = []
        for tag in sorted(by_tag):
            col = pd.concat(by_tag[tag]) if len(by_tag[tag]) > 1 else by_tag[tag][0]
            if not col.index.is_unique:
                return None
            columns.append(col.rename(tag))
        wide = pd.concat(columns, axis=1, sort=True).reset_index()
        return wide[["step", *sorted(by_tag), *group]]

    def _part(self, event_type: str, run: str, tag: str, info):
        """Columns (dict of lists/arrays) of one tag, and the names of its value columns."""
        want_wall = "wall_time" in self._extra
        if event_type == SCALARS:
            s = self._reader.scalars(run, tag)
            part = {"step": s.step, "value": s.value}
            if want_wall:
                part["wall_time"] = s.wall_time
            return part, ["value"]
        from tbx.proto.summary_pb2 import Summary

        step, wall, raws = self._reader.raw_values(run, tag)
        part: dict[str, list] = {"step": [], "wall_time": []}
        names: list[str] = []
        meta = self._reader.metadata(run, tag)
        for st, w, raw in zip(step.tolist(), wall.tolist(), raws, strict=True):
            value = Summary.Value.FromString(raw)
            if not value.HasField("metadata"):
                value.metadata.CopyFrom(meta)
            try:
                items = _convert(event_type, value)
            except Exception:  # noqa: BLE001 - undecodable point: skipped
                continue
            for item in items:
                part["step"].append(st)
                part["wall_time"].append(w)
                for k, v in item.items():
                    part.setdefault(k, []).append(v)
                names = [k for k in item if k == "value" or k in ("counts", "limits")
                         or k in self._extra]
        if not want_wall:
            part.pop("wall_time")
        for k in list(part):
            if k not in ("step", "wall_time") and k not in names:
                part.pop(k)
        return part, names

    def _hparams_rows(self):
        from tbx.proto.plugin_hparams_pb2 import HParamsPluginData

        names, values, dirs, files = [], [], [], []
        for run in self._runs():
            if _HPARAMS_START not in self._reader.tags(run):
                continue
            meta = self._reader.metadata(run, _HPARAMS_START)
            try:
                data = HParamsPluginData.FromString(meta.plugin_data.content)
            except Exception:  # noqa: BLE001
                continue
            ids, file_names = self._reader.file_ids(run, _HPARAMS_START)
            file_name = file_names[int(ids[0])] if len(ids) else ""
            for k, v in data.session_start_info.hparams.items():
                kind = v.WhichOneof("kind")
                names.append(k)
                values.append(None if kind in (None, "null_value") else getattr(v, kind))
                dirs.append("" if run == "." else run)
                files.append(file_name)
        return names, values, dirs, files

    def _pivot_frame(self, pd, long, group, value_cols):
        """Wide frame: one row per ``group`` key, one column per tag (``tag/col`` for the
        extras), several values of a cell merged into a list."""
        trailing = [c for c in ("wall_time",) if c in long.columns]
        cells: dict[tuple, dict[str, list]] = {}
        tag_cols: set[str] = set()
        keys = [long[c].tolist() for c in group] if group else None
        tags = long["tag"].tolist()
        columns = {c: long[c].tolist() for c in value_cols + trailing}
        for i, tag in enumerate(tags):
            key = tuple(k[i] for k in keys) if keys else ()
            cell = cells.setdefault(key, {})
            for c in value_cols:
                name = tag if c == "value" else f"{tag}/{c}"
                tag_cols.add(name)
                cell.setdefault(name, []).append(columns[c][i])
            for c in trailing:
                cell.setdefault(c, []).append(columns[c][i])
        rows = []
        for key, cell in cells.items():
            row = dict(zip(group, key, strict=True))
            for name, vals in cell.items():
                if name in trailing and len(set(vals)) == 1:
                    vals = vals[:1]
                row[name] = vals[0] if len(vals) == 1 else vals
            rows.append(row)
        ordered = (["step"] if "step" in group else []) + sorted(tag_cols) + trailing + [
            c for c in ("dir_name", "file_name") if c in group]
        df = pd.DataFrame(rows)
        df = df.reindex(columns=ordered)
        sort = [c for c in ("dir_name", "file_name", "step") if c in df.columns]
        if sort:
            df = df.sort_values(sort, kind="stable", ignore_index=True)
        return df

    def __repr__(self) -> str:
        return f"SummaryReader(log_path={self._log_path!r})"


def _display_tag(event_type: str, tag: str) -> str:
    if event_type == TEXT and tag.endswith(_TEXT_SUFFIX):
        return tag[: -len(_TEXT_SUFFIX)]
    return tag


def _convert(event_type: str, value) -> list[dict]:
    """One Value -> rows of columns, as tbparse names them."""
    which = value.WhichOneof("value")
    if event_type == TENSORS:
        from tbx.reader._core import _decode_tensor_value

        arr = _decode_tensor_value(value)
        return [{"value": arr.item() if arr.shape == () else arr}]
    if event_type == HISTOGRAMS:
        from tbx.summary.histogram import decode

        h = decode(value)
        return [{"counts": h.bucket_counts, "limits": h.bucket_limits, "max": h.max,
                 "min": h.min, "num": h.num, "sum": h.sum, "sum_squares": h.sum_squares}]
    if event_type == TEXT:
        strings = [s.decode("utf-8") for s in value.tensor.string_val]
        return [{"value": strings[0] if len(strings) == 1 else strings}]
    if event_type == IMAGES:
        from tbx.summary.image import decode_png

        if which == "image":
            im = value.image
            return [{"value": decode_png(im.encoded_image_string), "height": im.height,
                     "width": im.width}]
        blobs = list(value.tensor.string_val)
        w, h = int(blobs[0]), int(blobs[1])
        return [{"value": decode_png(b), "height": h, "width": w} for b in blobs[2:]]
    if event_type == AUDIO:
        from tbx.summary import audio

        if which == "audio":
            a = value.audio
            samples, _rate = audio.decode(value)
            return [{"value": samples, "content_type": a.content_type,
                     "length_frames": a.length_frames, "sample_rate": a.sample_rate}]
        return []
    raise ValueError(event_type)
