"""``tbx.SummaryReader``: tbparse 0.0.9's ``SummaryReader`` over tbx's reader.

Switching is one import (``from tbx import SummaryReader``): the same arguments (``log_path``,
``pivot``, ``extra_columns``, ``event_types``), properties and methods (``scalars``, ``tensors``,
``histograms``, ``images``, ``audio``, ``hparams``, ``text``, ``get_events``, ``tags``,
``get_tags``, ``children``, ``reader[name]``, ``raw_tags``, ``get_raw_tags``, ``raw_events``,
``get_raw_events``, ``log_path``) and static helpers (``histogram_to_cdf``, ``histogram_to_pdf``,
``histogram_to_bins``, ``tensor_to_histogram``, ``buckets_to_histogram_dict``,
``tensor_to_image``, ``tensor_to_audio``), with tbparse's semantics: a folder is a tree of
children (one per entry, in name order), each event file is read alone, and the DataFrames are
built as tbparse builds them (see :mod:`tbx.reader._tbparse_frames`): equal values, dtypes,
column order and row order.

Columns: long format ``step, tag, <values>, [wall_time, dir_name, file_name]``; wide format
``step, <tag columns, sorted>, [wall_time, dir_name, file_name]``. Values: scalars ``value``
(float64); tensors ``value`` (ndarray, or a Python number for a 0-d tensor); histograms
``counts``, ``limits`` (float64 arrays) and the extras ``max, min, num, sum, sum_squares``;
images ``value`` (``(H, W, C)`` uint8; a GIF ``(T, H, W, 3)``) and ``height, width``; audio
``value`` (float32 ``(L, C)``, ``pcm / 32768`` as TensorFlow decodes) and ``content_type,
length_frames, sample_rate``; text ``value`` (str; tag without ``/text_summary``); hparams
``tag, value`` (no step).

Differences, on purpose (also in the README):

* TensorFlow is never needed: images and audio are read by default (tbparse leaves them out
  without TensorFlow) and decoded with Pillow and ``wave``;
* scalar tensors (plugin ``scalars``: ``new_style`` and TensorFlow 2 scalars) are ``scalars``,
  as TensorBoard shows them (tbparse lists them under ``tensors``);
* under a folder, a run's event files are one stream, as TensorBoard reads them: a
  ``purge_step`` restart in a later file also drops the earlier file's points it supersedes
  (tbparse reads each file alone); a reader of one event file reads that file alone;
* ``raw_events`` holds tbx's protobuf classes (same fields as tensorboard's);
* bad arguments raise tbparse's exception types with messages naming the argument.
"""

from __future__ import annotations

import os

from tbx.reader import _tbparse_frames as F
from tbx.reader import _tbparse_raw as R
from tbx.summary.tensor import tensor_to_numpy as make_ndarray  # tbparse's name

__all__ = ["SummaryReader", "ALL_EVENT_TYPES", "ALL_EXTRA_COLUMNS", "REDUCED_EVENT_TYPES",
           "PLUGIN_TAGS", "PLUGIN_RAW_TAGS", "LogPathNotFoundError", "ScalarEvent", "TensorEvent",
           "HistogramEvent", "HistogramValue", "ImageEvent", "AudioEvent", "make_ndarray"]

SCALARS, TENSORS, HISTOGRAMS, IMAGES, AUDIO, HPARAMS, TEXT = (
    "scalars", "tensors", "histograms", "images", "audio", "hparams", "text")
_TYPE_ORDER = (IMAGES, AUDIO, HISTOGRAMS, SCALARS, TENSORS, HPARAMS, TEXT)  # tbparse's dicts
#: Values accepted in ``event_types``.
ALL_EVENT_TYPES = frozenset(_TYPE_ORDER)
#: tbparse's default without TensorFlow (tbx reads every type by default).
REDUCED_EVENT_TYPES = ALL_EVENT_TYPES - {IMAGES, AUDIO}
#: Plugins whose tags are not tensors, and their raw tags (tbparse's names).
PLUGIN_TAGS = frozenset({HPARAMS, TEXT})
PLUGIN_RAW_TAGS = {"hparams/exp": "_hparams_/experiment",
                   "hparams/ssi": "_hparams_/session_start_info",
                   "hparams/sei": "_hparams_/session_end_info", TEXT: "/text_summary"}
ScalarEvent, TensorEvent, HistogramEvent = R.ScalarEvent, R.TensorEvent, R.HistogramEvent
HistogramValue, ImageEvent, AudioEvent = R.HistogramValue, R.ImageEvent, R.AudioEvent
#: Values accepted in ``extra_columns``.
ALL_EXTRA_COLUMNS = frozenset({"dir_name", "file_name", "wall_time", "min", "max", "num", "sum",
                               "sum_squares", "width", "height", "content_type",
                               "length_frames", "sample_rate"})


class LogPathNotFoundError(FileNotFoundError, ValueError):
    """``log_path`` does not exist (a ValueError too, as tbparse raises)."""


class SummaryReader:
    """Reads an event file, or every event file below a folder, into DataFrames.

    Args:
        log_path: an event file, or a folder (a tree: each entry is a child reader; each
            event file's rows carry ``dir_name``, its folder relative to ``log_path``, ``""``
            for the folder itself, and ``file_name``, its base name).
        pivot: wide format (one column per tag; several values of one step merged into a list)
            instead of long format.
        extra_columns: a ``set`` (or frozenset) of extra columns, among
            :data:`ALL_EXTRA_COLUMNS`.
        event_types: a ``set`` (or frozenset) of event types to read, among
            :data:`ALL_EVENT_TYPES` (default, or empty: all).

    Raises:
        LogPathNotFoundError: ``log_path`` does not exist (a FileNotFoundError and ValueError).
        ValueError: ``extra_columns`` or ``event_types`` is not a ``set``.
        KeyError: ``extra_columns`` or ``event_types`` holds an unknown name.
    """

    def __init__(self, log_path: str | os.PathLike, *, pivot: bool = False,
                 extra_columns: set[str] | None = None, event_types: set[str] | None = None):
        extra = extra_columns or set()
        if not isinstance(extra, (set, frozenset)):
            raise ValueError(f"extra_columns must be a set, got {type(extra).__name__}")
        bad = extra - ALL_EXTRA_COLUMNS
        if bad:
            raise KeyError(f"extra_columns: unknown column names {sorted(bad)}; "
                           f"known: {sorted(ALL_EXTRA_COLUMNS)}")
        types = event_types or set(ALL_EVENT_TYPES)
        if not isinstance(types, (set, frozenset)):
            raise ValueError(f"event_types must be a set, got {type(types).__name__}")
        bad = types - ALL_EVENT_TYPES
        if bad:
            raise KeyError(f"event_types: unknown event types {sorted(bad)}; "
                           f"known: {sorted(ALL_EVENT_TYPES)}")
        self._log_path = os.fspath(log_path)
        self._pivot = bool(pivot)
        self._extra = set(extra)
        self._types = set(types)
        path = self._log_path
        if not os.path.exists(path):
            raise LogPathNotFoundError(f"log_path {path!r}: file or directory not found")
        from tbx.reader._core import LogdirReader

        self._is_file = os.path.isfile(path)
        if self._is_file:
            root = os.path.dirname(os.path.abspath(path))
            only = {os.path.join(root, os.path.basename(path))}
            self._reader = LogdirReader(root, only_files=only, run_filter="^\\.$")
        else:
            self._reader = LogdirReader(path)
        self._reader.refresh()
        self._cache: dict[str, object] = {}
        self._children: dict[str, SummaryReader] | None = None
        self._raw: R.RawFile | None = None

    @property
    def log_path(self) -> str:
        """The file or folder given."""
        return self._log_path

    @property
    def children(self) -> dict[str, SummaryReader]:
        """``{entry name: SummaryReader}`` for every entry of the folder, in name order (a tree
        mirroring the folders and files; created on first use); ``{}`` for a file."""
        if self._children is None:
            self._children = {}
            if not self._is_file:
                for name in sorted(os.listdir(self._log_path)):
                    self._children[name] = SummaryReader(
                        os.path.join(self._log_path, name), pivot=self._pivot,
                        extra_columns=set(self._extra), event_types=set(self._types))
        return dict(self._children)

    def __getitem__(self, name: str) -> SummaryReader:
        """The child reader of entry ``name`` (KeyError when there is none)."""
        return self.children[name]

    # ------------------------------------------------------------------ the tree of files

    def _tree(self) -> dict:
        """``{name: sub-tree or (run, file name)}`` of the event files below ``log_path``."""
        if "tree" not in self._cache:
            root: dict = {}
            for run in self._reader.runs():
                node = root
                for part in ([] if run == "." else run.split("/")):
                    node = node.setdefault(part, {})
                for path, _, _ in self._reader.files(run):
                    node[os.path.basename(path)] = (run, os.path.basename(path))
            self._cache["tree"] = root
        return self._cache["tree"]

    def _leaves(self):
        """``(run, file name)`` of every event file, in tbparse's walk order."""
        def walk(node):
            for name in sorted(node):
                child = node[name]
                yield from walk(child) if isinstance(child, dict) else [child]

        return list(walk(self._tree()))

    # ------------------------------------------------------------------ tags

    @property
    def tags(self) -> dict[str, list[str]]:
        """``{event type: [tag, ...]}`` (see :meth:`get_tags`)."""
        return self.get_tags()

    def get_tags(self, event_type: str | None = None):
        """The tags of one event type (a list), or of every type (a dict), in the order the
        files are walked and then first seen, each once; empty for types not read. Text tags
        keep their ``/text_summary`` suffix; hparams "tags" are the hyperparameter names.

        Raises:
            ValueError: unknown ``event_type``.
        """
        if event_type is None:
            return {t: self.get_tags(t) for t in _TYPE_ORDER}
        if event_type not in ALL_EVENT_TYPES:
            raise ValueError(f"event_type {event_type!r} is unknown; "
                             f"known: {sorted(ALL_EVENT_TYPES)}")
        if event_type not in self._types:
            return []
        tags: list[str] = []
        pieces = self._pieces(event_type, decode=False)
        for leaf in self._leaves():
            tags.extend(p[4] for p in pieces.get(leaf, []))
        return list(dict.fromkeys(tags))

    # ------------------------------------------------------------------ raw events

    def _raw_file(self) -> R.RawFile:
        if not self._is_file:
            raise ValueError(f"Not an event file: {self._log_path} (raw tags and events are "
                             f"read from one event file: use reader.children[...])")
        if self._raw is None:
            self._raw = R.RawFile(self._log_path)
        return self._raw

    @property
    def raw_tags(self) -> dict:
        """:meth:`get_raw_tags` of every raw event type (an event file only)."""
        return self.get_raw_tags()

    def get_raw_tags(self, event_type: str | None = None):
        """The tags of one raw event type, as TensorBoard's ``EventAccumulator.Tags()`` gives
        them for this file (plus ``hparams`` and ``text``: those plugins' tags); all types in a
        dict when ``event_type`` is None (also ``distributions``).

        Raises:
            ValueError: ``log_path`` is a folder, or ``event_type`` is unknown.
        """
        if event_type is not None and event_type not in R.RAW_TAG_TYPES:
            raise ValueError(f"event_type {event_type!r} is unknown; known: {R.RAW_TAG_TYPES}")
        tags = self._raw_file().tags()
        return tags if event_type is None else tags[event_type]

    @property
    def raw_events(self) -> dict:
        """:meth:`get_raw_events` of every event type (an event file only)."""
        return self.get_raw_events()

    def get_raw_events(self, event_type: str | None = None, tag: str | None = None):
        """The raw events of this event file: ``EventAccumulator``'s named tuples
        (``ScalarEvent``, ``TensorEvent``, ``HistogramEvent``, ``ImageEvent``, ``AudioEvent``;
        text: ``TensorEvent``; hparams: the plugin content bytes), as ``{event type: {tag:
        events}}``, ``{tag: events}`` for one type, or the events of one tag.

        Raises:
            ValueError: ``log_path`` is a folder; ``tag`` given without ``event_type``.
            KeyError: unknown ``event_type`` or ``tag``.
        """
        raw = self._raw_file()
        if event_type is None:
            if tag is not None:
                raise ValueError("tag needs an event_type")
            return {t: self.get_raw_events(t) for t in _TYPE_ORDER}
        if event_type not in ALL_EVENT_TYPES:
            raise KeyError(f"event_type {event_type!r} is unknown; known: {_TYPE_ORDER}")
        if tag is not None:
            return raw.events(event_type, tag)
        return {t: raw.events(event_type, t) for t in raw.tags()[event_type]}

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
        """Histogram events (``Summary.Value.histo``)."""
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
        """Hyperparameters (``tag``, ``value``) of each file's first session."""
        return self.get_events(HPARAMS)

    @property
    def text(self):
        """Text events."""
        return self.get_events(TEXT)

    def get_events(self, event_type: str):
        """The DataFrame of one event type (a copy; an empty DataFrame when there is none).

        Raises:
            ValueError: ``event_type`` is unknown, or was left out by ``event_types``.
        """
        if event_type not in ALL_EVENT_TYPES:
            raise ValueError(f"event_type {event_type!r} is unknown; "
                             f"known: {sorted(ALL_EVENT_TYPES)}")
        if event_type not in self._types:
            raise ValueError(f"event_type {event_type!r} was not read (see event_types)")
        key = "frame:" + event_type
        if key not in self._cache:
            self._cache[key] = self._build(event_type)
        return self._cache[key].copy()

    def _build(self, event_type: str):
        import pandas as pd

        pieces = self._pieces(event_type)
        opts = dict(pivot=self._pivot, extra=self._extra)
        if self._pivot and event_type == SCALARS and "wall_time" not in self._extra:
            rows = [(run_dir(run), name, p[0], p[1], p[3]["value"])
                    for (run, name), ps in pieces.items() for p in ps]
            fast = F.fast_pivot(pd, rows, self._extra)
            if fast is not None:
                return fast

        def leaf(key):
            frame = F.leaf_frame(pd, event_type, [p[:4] for p in pieces.get(key, [])],
                                 file_name=key[1], **opts)
            return F.stack(pd, [frame], **opts)

        def folder(node):
            frames = []
            for name in sorted(node):
                child = node[name]
                if isinstance(child, dict):
                    frames.append(F.prefix_dir(folder(child), name))
                else:
                    frames.append(leaf(child))
            return F.stack(pd, frames, **opts)

        if self._is_file:  # tbparse sorts (and merges) a lone file's frame once
            (key,) = self._leaves() or [(".", os.path.basename(self._log_path))]
            frame = F.leaf_frame(pd, event_type, [p[:4] for p in pieces.get(key, [])],
                                 file_name=key[1], **opts)
            return F.stack(pd, [frame], **opts)
        return folder(self._tree())

    def _pieces(self, event_type: str, decode: bool = True) -> dict:
        """``{(run, file name): [(tag, step, wall_time, {column: values}, raw tag)]}``
        (see :func:`tbx.reader._tbparse_source.pieces`)."""
        key = f"pieces:{event_type}:{decode}"
        if key not in self._cache:
            from tbx.reader._tbparse_source import pieces

            self._cache[key] = pieces(self._reader, event_type, decode)
        return self._cache[key]

    # ------------------------------------------------------------------ tbparse's helpers

    histogram_to_cdf = staticmethod(R.histogram_to_cdf)
    histogram_to_pdf = staticmethod(R.histogram_to_pdf)
    histogram_to_bins = staticmethod(R.histogram_to_bins)
    tensor_to_histogram = staticmethod(R.tensor_to_histogram)
    buckets_to_histogram_dict = staticmethod(R.tensor_to_histogram)
    tensor_to_image = staticmethod(R.tensor_to_image)
    tensor_to_audio = staticmethod(R.tensor_to_audio)

    def __repr__(self) -> str:
        return f"SummaryReader(log_path={self._log_path!r})"


def run_dir(run: str) -> str:
    """A run's ``dir_name``: its folder relative to ``log_path`` (``""`` for ``log_path``)."""
    return "" if run == "." else run
