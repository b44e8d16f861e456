"""``tbx.read``: a logdir as pandas DataFrames, over the same core as the viewer's provider.

Every frame has the columns ``run``, ``tag``, ``step`` (int64), ``wall_time`` (float64 seconds
since the Unix epoch), then the kind's own columns; ``run`` and ``tag`` are pandas
``Categorical`` columns (compare them with strings as usual). Rows are grouped by run (name
order), then tag (first-seen order), then in file order. Every point is kept (no sampling).

Interpreting a kind is the job of ``tbx.summary.<kind>.decode``, reached through
:data:`DECODERS` (plugin name -> module); when a module is missing or cannot decode a point, the
raw form is kept (the tensor, or the blobs) instead of failing.

pandas is needed for the DataFrames only (``pip install 'tbx[pandas]'``); the numpy series are
available without it through :meth:`Logdir.scalar_series` and :attr:`Logdir.provider`.
"""

from __future__ import annotations

import importlib
import os
import warnings

import numpy as np

from tbx.reader._frame_build import STR, empty_frame, long_frame, pandas_module, rows_frame
from tbx.reader.provider import BLOB, SCALAR, TENSOR, Changes, LogdirProvider, TagInfo

__all__ = ["read", "Logdir", "DECODERS"]

#: Plugin name -> module whose ``decode(Summary.Value)`` interprets its points.
DECODERS: dict[str, str] = {
    "scalars": "tbx.summary.scalar",
    "histograms": "tbx.summary.histogram",
    "images": "tbx.summary.image",
    "audio": "tbx.summary.audio",
    "text": "tbx.summary.text",
    "pr_curves": "tbx.summary.pr_curve",
    "hparams": "tbx.summary.hparams",
    "custom_scalars": "tbx.summary.custom_scalars",
    "mesh": "tbx.summary.mesh",
}

#: Plugins that have a frame of their own; every other tensor tag goes to ``tensors``.
_OWN_FRAME = {"histograms", "text", "pr_curves", "hparams"}


def decoder(plugin: str):
    """The ``decode`` function of the module for ``plugin``, or ``None`` when there is none."""
    name = DECODERS.get(plugin)
    if name is None:
        return None
    try:
        return getattr(importlib.import_module(name), "decode", None)
    except ImportError:
        return None


def read(
    logdir: str | os.PathLike,
    *,
    run: str | None = None,
    tag: str | None = None,
    runs=None,
    tags=None,
    progress: bool = False,
    follow_symlinks: bool = False,
) -> Logdir:
    """Read every run of ``logdir`` (a folder, or an fsspec URL such as ``s3://bucket/logs``).

    Only what is asked is read and kept, so memory follows the DataFrames asked for (peak about
    1.5x the scalars frame plus a few MB): with ``runs``, only those runs' folders are listed
    and only their files opened; with ``tag``/``tags``, rows of other tags are dropped as they
    are scanned and, in local files, records longer than 16 KiB (images, audio, large tensors)
    of other tags are seeked past after reading their first bytes (records of all tags are
    interleaved in a file, so short ones, such as other scalars, are still read from disk).
    Damage inside a record that was not read is not seen.

    Args:
        logdir: the folder TensorBoard would be pointed at; runs are its sub-folders holding
            event files (``"."`` for files directly in it).
        run: optional regular expression; only runs it matches (``re.search``) are read.
        tag: optional regular expression; only tags it matches are kept, and only those are
            decoded.
        runs: optional run names (an iterable of ``str``, exact names); only these are read.
            Names that are no run of ``logdir`` are left out with one ``UserWarning`` naming
            them.
        tags: optional tag names (an iterable of ``str``, exact names); only these are kept.
        progress: show a progress bar (needs ``rich``) while reading.
        follow_symlinks: follow symbolic links that lead out of a local ``logdir`` (by
            default they are skipped and listed in ``provider.problems()``).

    Returns:
        A :class:`Logdir`, already read; call :meth:`Logdir.refresh` to read what was appended
        since.

    Raises:
        FileNotFoundError: ``logdir`` does not exist.
        NotADirectoryError: ``logdir`` is a file.
        ValueError: ``run`` or ``tag`` is not a valid regular expression.
        TypeError: ``runs`` or ``tags`` is a single string or holds something else than
            strings.
    """
    out = Logdir(logdir, run=run, tag=tag, runs=runs, tags=tags,
                 follow_symlinks=follow_symlinks)
    out.refresh(progress=progress)
    if runs is not None:
        _warn_missing_runs(out.provider)
    return out


def _warn_missing_runs(provider) -> None:
    """One ``UserWarning`` naming the names of ``runs=`` that are no run of the logdir (the
    first 5, then how many more); nothing when every name is one. The rest of the logdir is
    not listed to say what is there (with 10,000 runs on an object store that would cost
    what ``runs=`` saves)."""
    reader = provider._reader
    listed = provider.all_names()
    missing = sorted(n for n in reader._run_names if n not in listed)
    if not missing:
        return
    shown = ", ".join(repr(n) for n in missing[:5])
    if len(missing) > 5:
        shown += f" and {len(missing) - 5} more"
    noun = "run" if len(missing) == 1 else "runs"
    warnings.warn(f"tbx.read: no {noun} named {shown} in {provider.logdir} (runs= names run "
                  "folders relative to the logdir; tbx.read(logdir).runs lists them); read the "
                  "others", UserWarning, stacklevel=3)


class Logdir:
    """A logdir read into memory; DataFrames are built on first access and cached until the
    next :meth:`refresh`. Arguments as :func:`read` (which also does the first refresh)."""

    def __init__(self, logdir, *, run: str | None = None, tag: str | None = None, runs=None,
                 tags=None, follow_symlinks: bool = False):
        self.provider = LogdirProvider(logdir, run_filter=run, tag_filter=tag, run_names=runs,
                                       tag_names=tags, follow_symlinks=follow_symlinks)
        self._cache: dict[str, object] = {}

    def refresh(self, progress: bool = False) -> Changes:
        """Read what was appended since the last refresh (new bytes, files, runs).

        Args:
            progress: show a progress bar on stderr (uses ``rich`` when installed).

        Returns:
            The provider's :class:`~tbx.reader.provider.Changes`.
        """
        self._cache.clear()
        if not progress:
            changes = self.provider.refresh()
        else:
            from tbx.reader._progress import progress_bar

            with progress_bar("reading " + self.provider.logdir) as update:
                changes = self.provider.refresh(progress=update)
        self.provider._reader.fit()  # frames are built next: no spare capacity beside them
        return changes

    # ------------------------------------------------------------------ structure

    @property
    def runs(self) -> list[str]:
        """Run names, sorted (``"."`` is the logdir itself)."""
        return self.provider.runs()

    @property
    def tags(self) -> dict[str, dict[str, TagInfo]]:
        """``run -> {tag -> TagInfo}`` (plugin, data class, count, step and wall-time ranges)."""
        return {r: self.provider.tags(r) for r in self.provider.runs()}

    def _tags_where(self, pred):
        """``(run, tag, plugin, info)`` of every series whose info matches ``pred``: a tag
        holding several kinds (scalars, histograms and images under one name) yields each."""
        for r in self.provider.runs():
            for t, plugin, info in self.provider.series(r):
                if pred(info):
                    yield r, t, plugin, info

    def scalar_series(self, run: str, tag: str):
        """The numpy columns of one scalar tag (a :class:`~tbx.reader.provider.ScalarSeries`).

        Raises:
            KeyError: unknown run or tag.
        """
        return self.provider.scalars(run, tag)

    # ------------------------------------------------------------------ frames

    def _frame(self, name, rows_builder):
        if name not in self._cache:
            self._cache[name] = rows_builder()
        return self._cache[name]

    @property
    def scalars(self):
        """DataFrame ``run, tag, step, wall_time, value`` (value float64): every scalar point,
        ``simple_value`` and tensor forms of any numeric dtype."""
        return self._frame("scalars", self._build_scalars)

    def _build_scalars(self):
        pd = pandas_module()
        items = [(r, t, plugin, info.count) for r, t, plugin, info
                 in self._tags_where(lambda i: i.data_class == SCALAR)]
        return long_frame(pd, items,
                          lambda r, t, plugin: self.provider.scalars(r, t, plugin=plugin))

    def _points(self, data_class: str, pred):
        """``[(run, tag, info, step, wall, serialized Values)]`` for series matching
        ``pred``."""
        out = []
        for r, t, plugin, info in self._tags_where(
                lambda i: i.data_class == data_class and pred(i)):
            step, wall, raws = self.provider._reader.raw_values(r, t, plugin)
            out.append((r, t, info, step, wall, raws))
        return out

    def _decoded_rows(self, data_class, pred, convert):
        """Rows of dicts from each point decoded by its plugin's decoder (``convert(decoded,
        raw Value) -> list of dicts``)."""
        from tbx.proto.summary_pb2 import Summary

        rows = []
        for r, t, info, step, wall, raws in self._points(data_class, pred):
            dec = decoder(info.plugin_name)
            meta = self.provider.metadata(r, t, plugin=info.plugin_name)
            for s, w, raw in zip(step.tolist(), wall.tolist(), raws, strict=True):
                value = Summary.Value.FromString(raw)
                if not value.HasField("metadata"):
                    value.metadata.CopyFrom(meta)
                decoded = None
                if dec is not None:
                    try:
                        decoded = dec(value)
                    except Exception:  # noqa: BLE001 - fall back to the raw form
                        decoded = None
                for extra in convert(decoded, value):
                    rows.append({"run": r, "tag": t, "step": s, "wall_time": w, **extra})
        return rows

    @property
    def histograms(self):
        """DataFrame ``run, tag, step, wall_time, min, max, num, sum, sum_squares,
        bucket_limits, bucket_counts``: one row per histogram; ``bucket_limits`` (right edges)
        and ``bucket_counts`` are float64 arrays. v2 (tensor) histograms have NaN ``sum`` and
        ``sum_squares``."""
        cols = dict.fromkeys(["min", "max", "num", "sum", "sum_squares"], np.float64)
        cols.update(bucket_limits=None, bucket_counts=None)

        def convert(h, value):
            if h is None:
                from tbx.reader._core import _decode_tensor_value

                arr = np.asarray(_decode_tensor_value(value), np.float64)
                if arr.ndim != 2 or arr.shape[1] != 3:
                    return []
                counts = arr[:, 2].copy()
                return [dict(min=arr[0, 0] if len(arr) else np.nan,
                             max=arr[-1, 1] if len(arr) else np.nan, num=counts.sum(),
                             sum=np.nan, sum_squares=np.nan, bucket_limits=arr[:, 1].copy(),
                             bucket_counts=counts)]
            return [dict(min=h.min, max=h.max, num=h.num, sum=h.sum, sum_squares=h.sum_squares,
                         bucket_limits=h.bucket_limits, bucket_counts=h.bucket_counts)]

        return self._frame("histograms", lambda: rows_frame(self._decoded_rows(
            TENSOR, lambda i: i.plugin_name == "histograms", convert), cols))

    @property
    def images(self):
        """DataFrame ``run, tag, step, wall_time, index, width, height, image``: one row per
        image (``index`` within its step), ``image`` the encoded file (bytes: PNG, or GIF for
        videos); width and height in pixels as the writer recorded them."""
        def build():
            rows = []
            for r, t, plugin, _info in self._tags_where(
                    lambda i: i.data_class == BLOB and i.plugin_name in ("images", "video")):
                s = self.provider.blobs(r, t, plugin=plugin)
                for st, w, blobs in zip(s.step.tolist(), s.wall_time.tolist(), s.values,
                                        strict=True):
                    if not blobs or len(blobs) < 2:
                        continue
                    width, height = _int(blobs[0]), _int(blobs[1])
                    for k, img in enumerate(blobs[2:]):
                        rows.append({"run": r, "tag": t, "step": st, "wall_time": w,
                                     "index": k, "width": width, "height": height,
                                     "image": bytes(img)})
            return rows_frame(rows, {"index": np.int64, "width": np.int64,
                                     "height": np.int64, "image": None})

        return self._frame("images", build)

    @property
    def audio(self):
        """DataFrame ``run, tag, step, wall_time, index, audio, label``: one row per clip,
        ``audio`` the encoded file (bytes, usually WAV), ``label`` its text (``""`` when none)."""
        def build():
            rows = []
            for r, t, plugin, _info in self._tags_where(
                    lambda i: i.data_class == BLOB and i.plugin_name == "audio"):
                s = self.provider.blobs(r, t, plugin=plugin)
                for st, w, blobs in zip(s.step.tolist(), s.wall_time.tolist(), s.values,
                                        strict=True):
                    for k in range(0, len(blobs or ()), 2):
                        label = blobs[k + 1] if k + 1 < len(blobs) else b""
                        rows.append({"run": r, "tag": t, "step": st, "wall_time": w,
                                     "index": k // 2, "audio": bytes(blobs[k]),
                                     "label": label.decode("utf-8", errors="replace")})
            return rows_frame(rows, {"index": np.int64, "audio": None, "label": STR})

        return self._frame("audio", build)

    @property
    def text(self):
        """DataFrame ``run, tag, step, wall_time, text``: ``text`` a ``str`` (Markdown), or
        nested lists of ``str`` for a tensor of several strings."""
        def convert(decoded, value):
            if decoded is None:
                strings = [s.decode("utf-8", errors="replace") for s in value.tensor.string_val]
                decoded = strings[0] if len(strings) == 1 else strings
            return [{"text": decoded}]

        return self._frame("text", lambda: rows_frame(self._decoded_rows(
            TENSOR, lambda i: i.plugin_name == "text", convert), {"text": STR}))

    @property
    def tensors(self):
        """DataFrame ``run, tag, step, wall_time, plugin, value``: every tensor point of tags
        that have no frame of their own (not histograms, text, PR curves, hparams); ``value``
        is the numpy array."""
        def build():
            rows = []
            for r, t, plugin, info in self._tags_where(
                    lambda i: i.data_class == TENSOR and i.plugin_name not in _OWN_FRAME):
                s = self.provider.tensors(r, t, plugin=plugin)
                for st, w, v in zip(s.step.tolist(), s.wall_time.tolist(), s.values,
                                    strict=True):
                    rows.append({"run": r, "tag": t, "step": st, "wall_time": w,
                                 "plugin": info.plugin_name, "value": v})
            return rows_frame(rows, {"plugin": STR, "value": None})

        return self._frame("tensors", build)

    @property
    def pr_curves(self):
        """DataFrame ``run, tag, step, wall_time, thresholds, precision, recall,
        true_positives, false_positives, true_negatives, false_negatives``: one row per curve,
        each a float array over ``thresholds = linspace(0, 1, T)``."""
        names = ["true_positives", "false_positives", "true_negatives", "false_negatives",
                 "precision", "recall"]

        def convert(decoded, value):
            if decoded is not None:
                arrs = [np.asarray(x) for x in list(decoded)[:6]]
            else:
                from tbx.reader._core import _decode_tensor_value

                data = np.asarray(_decode_tensor_value(value))
                if data.ndim != 2 or data.shape[0] != 6:
                    return []
                arrs = [data[i] for i in range(6)]
            row = dict(zip(names, arrs, strict=True))
            row["thresholds"] = np.linspace(0.0, 1.0, len(arrs[0]))
            return [row]

        cols = dict.fromkeys(["thresholds", "precision", "recall", *names[:4]])
        return self._frame("pr_curves", lambda: rows_frame(self._decoded_rows(
            TENSOR, lambda i: i.plugin_name == "pr_curves", convert), cols))

    @property
    def hparams(self):
        """DataFrame with one row per run that logged hyperparameters: ``run``, one column per
        hyperparameter (bool, str or float), and one per metric named by the run's
        ``_hparams_/experiment`` holding the metric's last scalar value in that run (NaN when
        the run has none)."""
        return self._frame("hparams", self._build_hparams)

    def _build_hparams(self):
        pd = pandas_module()
        from tbx.proto.plugin_hparams_pb2 import HParamsPluginData

        records = []
        for r in self.provider.runs():
            tags = self.provider.tags(r, plugin="hparams")
            start = tags.get("_hparams_/session_start_info")
            if start is None:
                continue
            meta = self.provider.metadata(r, "_hparams_/session_start_info", plugin="hparams")
            try:
                data = HParamsPluginData.FromString(meta.plugin_data.content)
            except Exception:  # noqa: BLE001
                continue
            row = {"run": r}
            for k, v in data.session_start_info.hparams.items():
                kind = v.WhichOneof("kind")
                row[k] = None if kind in (None, "null_value") else getattr(v, kind)
                if kind in ("struct_value", "list_value"):
                    row[k] = str(row[k])
            metrics = []
            if "_hparams_/experiment" in tags:
                try:
                    exp = HParamsPluginData.FromString(
                        self.provider.metadata(r, "_hparams_/experiment",
                                               plugin="hparams").plugin_data.content)
                    metrics = [m.name.tag for m in exp.experiment.metric_infos]
                except Exception:  # noqa: BLE001
                    metrics = []
            scalar = {}  # tag -> (plugin, info) of its first scalar series
            for t, plugin, info in self.provider.series(r):
                if info.data_class == SCALAR:
                    scalar.setdefault(t, (plugin, info))
            for m in metrics:
                plugin, info = scalar.get(m, (None, None))
                if info is not None and info.count:
                    row[m] = float(self.provider.scalars(r, m, plugin=plugin).value[-1])
                else:
                    row[m] = np.nan
            records.append(row)
        if not records:
            return empty_frame(pd, {"run": STR}, ["run"])
        return pd.DataFrame(records)

    def corruptions(self):
        """Corruptions found so far (see :meth:`LogdirProvider.corruptions`)."""
        return self.provider.corruptions()

    def __repr__(self) -> str:
        return f"<tbx.Logdir {self.provider.logdir!r}: {len(self.runs)} runs>"


def _int(b: bytes) -> int:
    try:
        return int(b)
    except (TypeError, ValueError):
        return 0
