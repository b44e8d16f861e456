"""SummaryWriter and FileWriter: tensorboardX's API over tbx's event files.

Same names, arguments and defaults as ``tensorboardX.SummaryWriter`` (switching is a one-line
import change), except where tbx does better on purpose:

* ``flush_secs`` defaults to 2 seconds (tensorboardX: 120), so a live viewer stays current;
* ``flush()`` is a barrier: on return every event logged before it is in the file;
* tags are written exactly as given (tensorboardX rewrites some characters);
* bad arguments raise ``TypeError``/``ValueError`` naming the argument, in the caller's thread,
  and the writer keeps working.

Each kind of data is built by its module in :mod:`tbx.summary`; this module only resolves steps
and wall times and hands serialized Events to :class:`tbx.event_file.EventFileWriter`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import time
from datetime import datetime
from math import copysign

from tbx.convert import check_tag, to_float, to_step, to_walltime
from tbx.event_file import DEFAULT_FLUSH_SECS, EventFileWriter
from tbx.wire import (
    ScalarEventEncoder,
    event_bytes,
    float32_bytes,
    scalar_value_head,
    varint,
)

__all__ = ["SummaryWriter", "FileWriter"]

_time = time.time
_pack_d = struct.Struct("<d").pack
_pack_f = struct.Struct("<f").pack
_F32_MAX = 3.4028234663852886e38
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _discard(data: bytes) -> None:
    """Sink of a writer created with ``write_to_disk=False``."""


def _message_bytes(message, arg: str) -> bytes:
    """The serialized bytes of a protobuf message of any package (or bytes as given)."""
    if isinstance(message, (bytes, bytearray, memoryview)):
        return bytes(message)
    serialize = getattr(message, "SerializeToString", None)
    if not callable(serialize):
        raise TypeError(f"{arg} must be a protobuf message or its serialized bytes, got "
                        f"{type(message).__module__}.{type(message).__qualname__}")
    return serialize()


def _parse(cls, message, arg: str):
    """``message`` (a protobuf message of any generated class with ``cls``'s wire format, e.g.
    tensorboardX's, tensorboard's or TensorFlow's ``Summary``; or its serialized bytes) as a
    new ``cls``: serialized and parsed again, so no other package is imported."""
    if isinstance(message, cls):
        copy = cls()
        copy.CopyFrom(message)
        return copy
    if isinstance(message, (bytes, bytearray, memoryview)):
        data = bytes(message)
    else:
        serialize = getattr(message, "SerializeToString", None)
        name = getattr(getattr(message, "DESCRIPTOR", None), "name", cls.__name__)
        if not callable(serialize) or name != cls.__name__:
            article = "an" if cls.__name__[0] in "AEIOU" else "a"
            raise TypeError(
                f"{arg} must be {article} {cls.__name__} protobuf message (of tbx, tensorboardX, "
                f"torch.utils.tensorboard or TensorFlow) or its serialized bytes, got "
                f"{type(message).__module__}.{type(message).__qualname__}"
            )
        data = serialize()
    from google.protobuf.message import DecodeError

    try:
        return cls.FromString(data)
    except DecodeError as exc:
        raise ValueError(f"{arg}: the bytes are not a {cls.__name__} message: {exc}") from None


class FileWriter:
    """Writes Events and Summaries to an event file in ``logdir`` (tensorboardX's FileWriter).

    Args:
        logdir: the run's folder; created if missing.
        max_queue: see :class:`tbx.event_file.EventFileWriter`.
        flush_secs: longest time in seconds before a logged event reaches the file (default 2).
        filename_suffix: appended to the event file's name.
        lazy: create the file only when the first event arrives.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        max_queue: int = 10,
        flush_secs: float = DEFAULT_FLUSH_SECS,
        filename_suffix: str = "",
        *,
        lazy: bool = False,
    ):
        self.event_writer = EventFileWriter(
            logdir, max_queue, flush_secs, filename_suffix, lazy=lazy
        )
        self._default_step: int | None = None
        self._default_walltime: float | None = None

    def get_logdir(self) -> str:
        """The folder the event file is written in."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None) -> None:
        """Write an ``Event`` proto, setting its ``step`` and ``wall_time`` (default: now).

        Args:
            event: an ``Event`` message of tbx, tensorboardX, torch.utils.tensorboard
                (tensorboard's) or TensorFlow -- any object whose ``SerializeToString()`` gives
                an Event's bytes -- or those bytes. It is copied, never changed.
            step: int64 step, or None to keep the event's own.
            walltime: seconds since the epoch (default: now).

        Raises:
            TypeError: ``event`` is neither; ``step`` not an int64 or ``walltime`` not a number.
            ValueError: ``event``'s bytes are not a protobuf message.
        """
        from tbx.proto.event_pb2 import Event

        copy = _parse(Event, event, "event")
        if walltime is None:
            walltime = self._default_walltime
        copy.wall_time = _time() if walltime is None else to_walltime(walltime)
        if step is None:
            step = self._default_step
        if step is not None:
            copy.step = to_step(step, "step")
        self.event_writer.add_event_bytes(copy.SerializeToString())

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        """Write a ``Summary`` proto wrapped in an Event at ``global_step`` (default 0) and
        ``walltime`` (default now).

        Args:
            summary: a ``Summary`` message of tbx, tensorboardX, torch.utils.tensorboard or
                TensorFlow (``tbx.summary.scalar(...)``, ``tensorboardX.summary.hparams(...)``,
                ...; duck-typed by ``SerializeToString()``), or its serialized bytes (what
                TensorFlow 1's summary ops return).

        Raises:
            TypeError: ``summary`` is neither; a bad ``global_step`` or ``walltime``.
            ValueError: ``summary``'s bytes are not a protobuf message.
        """
        from tbx.proto.summary_pb2 import Summary

        if isinstance(summary, Summary):  # tbx's own: no copy needed
            data = summary.SerializeToString()
        else:
            data = _parse(Summary, summary, "summary").SerializeToString()
        step = self._default_step if global_step is None else global_step
        step = 0 if step is None else to_step(step)
        if walltime is None:
            walltime = self._default_walltime
        wall = _time() if walltime is None else to_walltime(walltime)
        self.event_writer.add_event_bytes(event_bytes(wall, step, data))

    def add_graph(self, graph_profile, walltime=None) -> None:
        """Write a graph and its step stats (tensorboardX's FileWriter.add_graph): an
        ``Event(graph_def=...)`` and an ``Event(tagged_run_metadata=TaggedRunMetadata(tag=
        "profiler", run_metadata=...))`` (torch.utils.tensorboard's tag is ``"step1"``).

        Args:
            graph_profile: ``(GraphDef, RunMetadata)``: protobuf messages of any package (each
                is serialised with ``SerializeToString()``), or their bytes.

        Raises:
            TypeError: ``graph_profile`` is not such a pair.
        """
        from tbx.proto.event_pb2 import Event, TaggedRunMetadata

        try:
            graph, stats = graph_profile
        except (TypeError, ValueError):
            raise TypeError("graph_profile must be a (GraphDef, RunMetadata) pair") from None
        self.add_event(Event(graph_def=_message_bytes(graph, "graph_profile[0]")), None, walltime)
        trm = TaggedRunMetadata(tag="profiler",
                                run_metadata=_message_bytes(stats, "graph_profile[1]"))
        self.add_event(Event(tagged_run_metadata=trm), None, walltime)

    def add_onnx_graph(self, graph, walltime=None) -> None:
        """Write an ``Event(graph_def=graph)``: a GraphDef message of any package, or its
        bytes (tensorboardX's; also ``add_openvino_graph``).

        Raises:
            TypeError: ``graph`` has no ``SerializeToString()`` and is not bytes.
        """
        from tbx.proto.event_pb2 import Event

        self.add_event(Event(graph_def=_message_bytes(graph, "graph")), None, walltime)

    add_openvino_graph = add_onnx_graph

    def flush(self) -> None:
        """Write everything logged so far to the file (a barrier; see EventFileWriter.flush)."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the event file. Logging again afterwards opens a new file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """Open a new event file if this writer was closed (tensorboardX compatibility)."""
        if self.event_writer.closed:
            self.event_writer._reopen()

    @contextlib.contextmanager
    def use_metadata(self, *, global_step=None, walltime=None):
        """Within the block, events logged without a step or wall time get these."""
        if global_step is None and walltime is None:
            raise ValueError("use_metadata needs global_step or walltime")
        old = self._default_step, self._default_walltime
        self._default_step = None if global_step is None else to_step(global_step)
        self._default_walltime = None if walltime is None else to_walltime(walltime)
        try:
            yield self
        finally:
            self._default_step, self._default_walltime = old


class SummaryWriter:
    """Writes data for TensorBoard into event files of a run folder, without blocking the
    training loop.

    Args:
        logdir: the run's folder. Default: ``runs/<Mon DD_HH-MM-SS>_<hostname><comment>``
            (e.g. ``runs/Nov29_09-35-23_myhostLR_0.1``).
        comment: appended to the default ``logdir``; ignored when ``logdir`` is given.
        purge_step: on a resumed run, the step it resumes from: TensorBoard (and tbx's reader)
            hide the earlier events of this run with a step >= ``purge_step``. Written as
            ``Event(step=purge_step, file_version="brain.Event:2")`` followed by
            ``Event(step=purge_step, session_log=SessionLog(status=START))``.
        max_queue: see :class:`tbx.event_file.EventFileWriter` (never blocks the caller).
        flush_secs: longest time in seconds before a logged value reaches the file (default
            2; tensorboardX: 120).
        filename_suffix: appended to every event file's name.
        write_to_disk: ``False`` makes every method a no-op that writes nothing.
        log_dir: alias of ``logdir`` (torch.utils.tensorboard's name).
        comet_config, **kwargs: accepted for tensorboardX compatibility and ignored.
        distributed: for torch.distributed and other multi-process jobs (keyword only):
            ``None`` (default) every process writes into ``logdir`` (each its own file);
            ``"rank0"`` only the process of global rank 0 writes, the others' writers do
            nothing; ``"per_rank"`` each process writes into the sub-run ``<logdir>/rank_<n>``.
            The rank comes from :func:`tbx.distributed.get_rank` (torch.distributed if
            initialised, else RANK, SLURM_PROCID, OMPI_COMM_WORLD_RANK or PMI_RANK; 0 if none).

    A SummaryWriter can be pickled (e.g. passed to ``multiprocessing`` spawn workers): the copy
    writes into the same run folder through a file of its own, created on its first event.

    Raises:
        TypeError, ValueError: an argument of the wrong type or range (named in the message),
            or an unknown keyword argument (TypeError).
        NotADirectoryError: ``logdir`` is an existing file.
        OSError: the folder or event file cannot be created.
    """

    def __init__(
        self,
        logdir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: float = DEFAULT_FLUSH_SECS,
        filename_suffix: str = "",
        write_to_disk: bool = True,
        log_dir: str | os.PathLike | None = None,
        comet_config: dict | None = None,
        *,
        distributed: str | None = None,
        **kwargs,
    ):
        self._init(
            logdir, comment, purge_step, max_queue, flush_secs, filename_suffix, write_to_disk,
            log_dir, distributed, kwargs, lazy=False,
        )

    def _init(
        self, logdir, comment, purge_step, max_queue, flush_secs, filename_suffix, write_to_disk,
        log_dir, distributed, kwargs, lazy,
    ) -> None:
        if log_dir is not None and logdir is None:
            logdir = log_dir
        if not logdir:
            if not isinstance(comment, str):
                raise TypeError(f"comment must be a str, got {type(comment).__name__}")
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            logdir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        if not isinstance(logdir, (str, os.PathLike)):
            raise TypeError(
                f"logdir must be a str or os.PathLike (a folder or an fsspec URL), got "
                f"{type(logdir).__name__}"
            )
        logdir = os.fspath(logdir)
        if os.path.isfile(logdir):
            raise NotADirectoryError(f"logdir {logdir!r} is a file, not a folder")
        if kwargs:
            raise TypeError(
                f"SummaryWriter got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
            )
        self._config = dict(
            logdir=logdir, max_queue=max_queue, flush_secs=flush_secs,
            filename_suffix=filename_suffix, write_to_disk=write_to_disk,
            distributed=distributed, kwargs=kwargs,
        )
        self.distributed = distributed
        if distributed not in (None, "rank0", "per_rank"):
            raise ValueError(
                f"distributed must be None, 'rank0' or 'per_rank', got {distributed!r}"
            )
        if distributed is not None:
            from tbx.distributed import get_rank

            rank = get_rank() or 0
            if distributed == "rank0":
                write_to_disk = write_to_disk and rank == 0
            else:
                logdir = os.path.join(logdir, f"rank_{rank}")
        self._lazy = lazy
        self.logdir = logdir
        self.purge_step = None if purge_step is None else to_step(purge_step, "purge_step")
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._filename_suffix = filename_suffix
        self._write_to_disk = bool(write_to_disk)
        self.kwargs = kwargs
        self.scalar_dict: dict[str, list[list[float]]] = {}
        self._encoder = ScalarEventEncoder()
        self._default_step = 0
        self._default_walltime: float | None = None
        self._last_step = 0
        self._last_step_bytes = b""
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] = {}
        self._add_bytes = _discard
        self._get_file_writer()

    # ------------------------------------------------------------------ plumbing

    def _new_file_writer(self, logdir: str) -> FileWriter:
        return FileWriter(
            logdir, self._max_queue, self._flush_secs, self._filename_suffix, lazy=self._lazy
        )

    def __getstate__(self) -> dict:
        return dict(self._config)

    def __setstate__(self, state: dict) -> None:
        # A copy in another process: same run folder, a file of its own created on its first
        # event; purge_step is not repeated (the original already wrote it).
        self._init(
            state["logdir"], "", None, state["max_queue"], state["flush_secs"],
            state["filename_suffix"], state["write_to_disk"], None, state["distributed"],
            state["kwargs"], lazy=True,
        )

    def _sub_run(self, *parts: tuple[str, str]) -> str:
        """``<logdir>/<part>/...`` for sub-runs named by the user (add_scalars, add_hparams).

        Raises:
            ValueError: a part is absolute or has a ``..`` component, so that the sub-run
                would not be inside the run's folder (tensorboardX joins such paths as given).
        """
        for arg, part in parts:
            if os.path.isabs(part) or ".." in part.replace("\\", "/").split("/"):
                raise ValueError(
                    f"{arg} names a sub-run folder inside the run's folder: no '..' and no "
                    f"absolute path, got {part!r}"
                )
        return os.path.join(self.logdir, *(part for _, part in parts))

    def _get_file_writer(self) -> FileWriter | None:
        """The run's FileWriter (``None`` with ``write_to_disk=False``)."""
        if not self._write_to_disk:
            return None
        if self.file_writer is None:
            fw = self._new_file_writer(self.logdir)
            if self.purge_step is not None:
                from tbx.proto.event_pb2 import Event, SessionLog

                now = _time()
                fw.add_event(Event(file_version="brain.Event:2"), self.purge_step, now)
                fw.add_event(
                    Event(session_log=SessionLog(status=SessionLog.START)), self.purge_step, now
                )
            self.file_writer = fw
            self.all_writers = {fw.get_logdir(): fw}
            self._add_bytes = fw.event_writer.add_event_bytes
        return self.file_writer

    def _step_wall(self, global_step, walltime) -> tuple[int, float]:
        if global_step is None:
            step = self._default_step
        elif type(global_step) is int and _INT64_MIN <= global_step <= _INT64_MAX:
            step = global_step
        else:
            step = to_step(global_step)
        if walltime is None:
            walltime = self._default_walltime
            return step, (_time() if walltime is None else walltime)
        return step, to_walltime(walltime)

    def _add_summary(self, summary, global_step=None, walltime=None) -> None:
        """Write a Summary proto at ``global_step`` (default 0) and ``walltime`` (default now).
        Every ``add_*`` method ends here (except add_scalar's fast path)."""
        step, wall = self._step_wall(global_step, walltime)
        self._add_bytes(event_bytes(wall, step, summary.SerializeToString()))

    def get_logdir(self) -> str:
        """The run's folder."""
        return self.logdir

    # ------------------------------------------------------------------ scalars and text

    def add_scalar(
        self,
        tag: str,
        scalar_value,
        global_step: int | None = None,
        walltime: float | None = None,
        display_name: str = "",
        summary_description: str = "",
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Log one number: plugin ``scalars``.

        Args:
            tag: the series name (non-empty str), written exactly as given.
            scalar_value: a Python number, numpy scalar or one-element array, or a one-element
                torch/jax tensor of any real dtype (float16 and bfloat16 included). Stored as
                float32 ``simple_value`` (NaN and ±Inf kept; beyond float32's range: ±Inf).
            global_step: int64 step (Python or numpy int; default 0).
            walltime: seconds since the epoch (default: now).
            display_name, summary_description: chart title and description in TensorBoard.
            new_style: write a tensor with ``scalars`` plugin metadata (torch.utils.tensorboard's
                ``new_style``) instead of ``simple_value``.
            double_precision: with ``new_style``, keep float64.

        Raises:
            TypeError: ``tag`` not a str; ``scalar_value`` not a number; ``global_step`` not an
                integer.
            ValueError: empty ``tag``; ``scalar_value`` with more than one element; a
                ``global_step`` outside int64 or not integral (1.5).
        """
        if display_name or summary_description or new_style or double_precision:
            from tbx.summary.scalar import scalar_summary

            summary = scalar_summary(
                check_tag(tag),
                to_float(scalar_value),
                display_name,
                summary_description,
                new_style,
                double_precision,
            )
            self._add_summary(summary, global_step, walltime)
            return
        # Fast path: the Event's bytes built inline (see tbx.wire for the layout); every branch
        # but the common one goes through a checked helper.
        heads = self._encoder.heads
        head = heads.get(tag) if type(tag) is str else None
        if head is None:
            check_tag(tag)
            head = heads[tag] = scalar_value_head(tag)
        value = scalar_value if type(scalar_value) is float else to_float(scalar_value)
        if -_F32_MAX <= value <= _F32_MAX:
            fb = _pack_f(value)
        else:
            fb = float32_bytes(value)  # ±Inf, NaN, beyond float32's range
        if global_step is None:
            global_step = self._default_step
        if type(global_step) is int and global_step == self._last_step:
            sb = self._last_step_bytes
        elif type(global_step) is int and 0 < global_step < 0x10000000:
            sb = b"\x10" + varint(global_step)
            self._last_step = global_step
            self._last_step_bytes = sb
        else:
            step = to_step(global_step)
            sb = b"\x10" + varint(step) if step else b""
            self._last_step = step
            self._last_step_bytes = sb
        if walltime is None:
            walltime = self._default_walltime
            wb = b"\x09" + _pack_d(_time() if walltime is None else walltime)
        else:
            walltime = to_walltime(walltime)
            # protobuf omits a wall_time of +0.0 (proto3 default) but writes -0.0
            wb = b"\x09" + _pack_d(walltime) if walltime or copysign(1.0, walltime) < 0 else b""
        self._add_bytes(wb + sb + head + fb)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log several numbers in one chart: each key of ``tag_scalar_dict`` becomes a sub-run
        ``<logdir>/<main_tag>/<key>`` whose series is tagged ``main_tag`` (tensorboardX's
        layout). The values are also kept for :meth:`export_scalars_to_json`.

        Raises:
            TypeError: ``tag_scalar_dict`` not a dict, a key not a str, a value not a number.
            ValueError: empty ``main_tag`` or key; a ``..`` component or an absolute path in
                either (the sub-run would leave the run's folder).
        """
        check_tag(main_tag, "main_tag")
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(
                f"tag_scalar_dict must be a dict of str to number, got "
                f"{type(tag_scalar_dict).__name__}"
            )
        values = {
            check_tag(k, "tag_scalar_dict key"): to_float(v, f"tag_scalar_dict[{k!r}]")
            for k, v in tag_scalar_dict.items()
        }
        step, wall = self._step_wall(global_step, walltime)
        sub_runs = {  # every argument checked before anything is written
            tag: self._sub_run(("main_tag", main_tag), ("tag_scalar_dict key", tag))
            for tag in values
        }
        for tag, value in values.items():
            fw_tag = sub_runs[tag]
            if self._write_to_disk:
                self._get_file_writer()
                fw = self.all_writers.get(fw_tag)
                if fw is None:
                    fw = self.all_writers[fw_tag] = self._new_file_writer(fw_tag)
                fw.event_writer.add_event_bytes(self._encoder.encode(main_tag, value, step, wall))
            self.scalar_dict.setdefault(fw_tag, []).append([wall, step, value])

    def export_scalars_to_json(self, path: str | os.PathLike) -> None:
        """Write the values logged by :meth:`add_scalars` since the last export to ``path`` as
        JSON ``{sub_run_path: [[wall_time, step, value], ...]}``, then forget them."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.scalar_dict, f)
        self.scalar_dict = {}

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log a text (Markdown): plugin ``text``, tag ``<tag>/text_summary``.

        Raises:
            TypeError: ``tag`` or ``text_string`` not a str.
            ValueError: empty ``tag``.
        """
        from tbx.summary.text import text_summary

        self._add_summary(text_summary(check_tag(tag), text_string), global_step, walltime)

    def add_plugin_data(
        self,
        tag: str,
        data,
        plugin_name: str,
        global_step: int | None = None,
        walltime: float | None = None,
        *,
        content: bytes | str = b"",
    ) -> None:
        """Log a viewer plugin's own data: a Value with ``SummaryMetadata.plugin_data =
        {plugin_name, content}`` and ``data`` as a tensor (:mod:`tbx.summary.plugin`).

        Args:
            tag: the tag.
            data: ``bytes`` or ``str`` (a string tensor of shape ``[]``), a list of those
                (shape ``[n]``), or a numeric tensor-like (its dtype and shape).
            plugin_name: the plugin that shows it (``[A-Za-z0-9_.-]+``, not a built-in kind).
            content: the plugin's metadata (``bytes`` or UTF-8 ``str``, <= 1 MB).

        The reader returns the tag as a tensor series with ``TagInfo.plugin_name ==
        plugin_name``; a plugin found through the ``tbx.plugins`` entry points shows it.

        Raises:
            TypeError: ``data``, ``content`` or a name of an unaccepted type.
            ValueError: empty ``tag``, bad or built-in ``plugin_name``, ``content`` over 1 MB.
        """
        from tbx.summary.plugin import plugin_summary

        self._add_summary(plugin_summary(tag, data, plugin_name, content), global_step, walltime)

    # ------------------------------------------------------------------ histograms, PR curves,
    # hparams, custom scalars, meshes (summary/histogram.py, pr_curve.py, hparams.py,
    # custom_scalars.py, mesh.py)

    def add_histogram(
        self,
        tag: str,
        values,
        global_step: int | None = None,
        bins="tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Log the histogram of ``values``: plugin ``histograms`` (``Summary.Value.histo``).

        Args:
            tag: the series name (non-empty str), written as given.
            values: numbers of any shape (N,), (N, M), ...: numpy array, torch/jax tensor,
                list; bool, int, float16/32/64 or bfloat16. Flattened.
            bins: ``"tensorflow"`` (tensorboardX's default: edges ``±1e-12 * 1.1**k`` below
                1e20, and 0; beyond ±1e20 the same grid continues), an int number of equal
                bins, a numpy rule (``"auto"``, ``"fd"``, ``"doane"``, ``"sqrt"``, ...) or an
                increasing edge array (see ``numpy.histogram``).
            max_bins: at most this many counted buckets (neighbours merged).

        Non-finite values (and values outside explicit edges) are left out, with one
        ``RuntimeWarning`` naming the tag and the count; if no value is left, nothing is
        written. ``num``, ``min``, ``max``, ``sum`` and ``sum_squares`` describe the counted
        values; ``num`` equals the sum of the bucket counts.

        Raises:
            TypeError: ``tag`` not a str; ``values`` not numeric.
            ValueError: empty ``tag`` or ``values``; bad ``bins`` or ``max_bins``; a bad
                ``global_step``.
        """
        from tbx.convert import to_numpy
        from tbx.summary.histogram import histogram_summary

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        summary = histogram_summary(tag, to_numpy(values, "values"), bins, max_bins, stacklevel=3)
        if summary is not None:
            self._add_summary(summary, step, wall)

    def add_histogram_raw(
        self,
        tag: str,
        min,
        max,
        num,
        sum,
        sum_squares,
        bucket_limits,
        bucket_counts,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log a histogram given by its fields: plugin ``histograms``.

        Args:
            min, max, num, sum, sum_squares: numbers (float64).
            bucket_limits: (K,) right edge of each bucket, increasing (``numpy.histogram``'s
                ``edges[1:]``).
            bucket_counts: (K,) count of each bucket.

        Raises:
            ValueError: ``bucket_limits`` and ``bucket_counts`` differ in length or are not
                1-D; empty ``tag``.
            TypeError: a field is not numeric; ``tag`` not a str.
        """
        from tbx.summary.histogram import histogram_raw_summary

        summary = histogram_raw_summary(
            check_tag(tag), min, max, num, sum, sum_squares, bucket_limits, bucket_counts
        )
        self._add_summary(summary, global_step, walltime)

    def add_pr_curve(
        self,
        tag: str,
        labels,
        predictions,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights=None,
        walltime: float | None = None,
    ) -> None:
        """Log a precision-recall curve: plugin ``pr_curves``, a float32 tensor
        ``[6, num_thresholds]`` (TP, FP, TN, FN, precision, recall) computed as TensorBoard's
        pr_curves plugin does, at thresholds ``linspace(0, 1, num_thresholds)``.

        Args:
            labels: ground truth of any shape (N,), ...: bool, or 1/0 (fractions count
                partly, as tensorboardX).
            predictions: probabilities in [0, 1], same shape as ``labels`` (clipped to [0, 1]).
            num_thresholds: int >= 2 (no cap; tensorboardX caps at 127).
            weights: None, a number or an array broadcastable to ``labels``: each example
                counts this much.

        Raises:
            TypeError: non-numeric input; ``num_thresholds`` not an int.
            ValueError: shapes differ; NaN/Inf in the inputs; ``num_thresholds < 2``.
        """
        from tbx.convert import to_numpy
        from tbx.summary.pr_curve import pr_curve_summary

        check_tag(tag)
        w = None if weights is None else to_numpy(weights, "weights")
        summary = pr_curve_summary(
            tag,
            to_numpy(labels, "labels"),
            to_numpy(predictions, "predictions"),
            num_thresholds,
            w,
        )
        self._add_summary(summary, global_step, walltime)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts,
        false_positive_counts,
        true_negative_counts,
        false_negative_counts,
        precision,
        recall,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights=None,
        walltime: float | None = None,
    ) -> None:
        """Log a precision-recall curve given by its six rows: plugin ``pr_curves``.

        Args:
            true_positive_counts, false_positive_counts, true_negative_counts,
            false_negative_counts, precision, recall: (T,) arrays, stored as float32.
            num_thresholds: T; left at the default 127, the arrays' length is used.
            weights: ignored (tensorboardX compatibility).

        Raises:
            ValueError: the rows are not 1-D or differ in length; T < 2; ``num_thresholds``
                given and different from T.
            TypeError: non-numeric rows.
        """
        from tbx.convert import to_numpy
        from tbx.summary.pr_curve import pr_curve_raw_summary

        names = ("true_positive_counts", "false_positive_counts", "true_negative_counts")
        names += ("false_negative_counts", "precision", "recall")
        rows = [
            to_numpy(r, n)
            for r, n in zip(
                (
                    true_positive_counts,
                    false_positive_counts,
                    true_negative_counts,
                    false_negative_counts,
                    precision,
                    recall,
                ),
                names,
                strict=True,
            )
        ]
        summary = pr_curve_raw_summary(check_tag(tag), *rows, num_thresholds, weights)
        self._add_summary(summary, global_step, walltime)

    def add_hparams(
        self,
        hparam_dict: dict,
        metric_dict: dict,
        name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Log one hyperparameter session: plugin ``hparams`` (the ``_hparams_/experiment``,
        ``_hparams_/session_start_info`` and ``_hparams_/session_end_info`` summaries, as
        tensorboardX), plus each metric as a scalar ``add_scalar(tag, value, global_step)``.

        Unlike tensorboardX (which always writes to a new sub-run named by the time), the
        session is written into this writer's own run by default, so the hparams dashboard
        shows it beside the run's training curves; TensorBoard shows the first session of a
        run, so call this once per run. ``name`` writes it to the sub-run ``<logdir>/<name>``
        instead, as tensorboardX does.

        Args:
            hparam_dict: ``{name: value}``; values bool, str, int, float, or numpy/torch
                scalars (numbers stored as float64).
            metric_dict: ``{tag: number}``.
            name: None (this run), or a sub-run folder name (relative path).

        Raises:
            TypeError: not dicts; a key not a str; an hparam value of another type or a metric
                value not a number (the key is named); ``name`` not a str.
            ValueError: an empty key; an empty or absolute ``name``.
        """
        from tbx.summary.hparams import check_metrics, hparams_summaries

        summaries = hparams_summaries(hparam_dict, metric_dict)
        metrics = check_metrics(metric_dict)
        step, wall = self._step_wall(global_step, None)
        if name is None:
            for s in summaries:
                self._add_summary(s, step, wall)
            for k, v in metrics.items():
                self.add_scalar(k, v, step, wall)
            return
        if not isinstance(name, str):
            raise TypeError(f"name must be None or a str, got {type(name).__name__}")
        if not name or os.path.isabs(name):
            raise ValueError(f"name must be a non-empty relative folder name, got {name!r}")
        if not self._write_to_disk:
            return
        self._get_file_writer()
        path = self._sub_run(("name", name))
        fw = self.all_writers.get(path)
        if fw is None:
            fw = self.all_writers[path] = self._new_file_writer(path)
        for s in summaries:
            fw.event_writer.add_event_bytes(event_bytes(wall, step, s.SerializeToString()))
        for k, v in metrics.items():
            fw.event_writer.add_event_bytes(self._encoder.encode(k, v, step, wall))

    def add_custom_scalars(self, layout: dict) -> None:
        """Log a layout for TensorBoard's custom scalars dashboard: plugin ``custom_scalars``,
        tag ``custom_scalars__config__`` (step 0), as tensorboardX. Each call writes a whole
        layout: TensorBoard shows the latest of each run (merging the runs' layouts), so give
        all charts of a run in one call.

        Args:
            layout: ``{category: {chart_title: ['Multiline', [tag_regex, ...]] or
                ['Margin', [value_tag, lower_tag, upper_tag]]}}``.

        Raises:
            TypeError, ValueError: a layout not of that form (the message shows the form).
        """
        from tbx.summary.custom_scalars import custom_scalars_summary

        self._add_summary(custom_scalars_summary(layout), 0, None)

    def add_custom_scalars_multilinechart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Log a custom scalars layout of one chart drawing the series ``tags`` (regular
        expressions over scalar tags) together. Raises as :meth:`add_custom_scalars`."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Log a custom scalars layout of one margin chart: ``tags`` is ``[value_tag,
        lower_tag, upper_tag]``. Raises as :meth:`add_custom_scalars` (ValueError unless 3
        tags)."""
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_mesh(
        self,
        tag: str,
        vertices,
        colors=None,
        faces=None,
        config_dict: dict | None = None,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log a 3D mesh or point cloud: plugin ``mesh``, tags ``<tag>_VERTEX``, ``<tag>_FACE``,
        ``<tag>_COLOR``, as TensorBoard's mesh plugin expects.

        Args:
            vertices: (B, N, 3) xyz coordinates (float32).
            colors: None or (B, N, 3) RGB in [0, 255] (uint8).
            faces: None (a point cloud) or (B, F, 3) vertex indices in [0, N) (int32).
            config_dict: None or a JSON-serialisable dict of three.js settings (camera,
                lights, material).

        Raises:
            ValueError: other shapes (the message gives the expected ones), colors outside
                [0, 255], face indices outside [0, N), non-finite vertices.
            TypeError: non-numeric arrays; a config_dict that is not a JSON-able dict.
        """
        from tbx.convert import to_numpy
        from tbx.summary.mesh import mesh_summary

        summary = mesh_summary(
            check_tag(tag),
            to_numpy(vertices, "vertices"),
            None if colors is None else to_numpy(colors, "colors"),
            None if faces is None else to_numpy(faces, "faces"),
            config_dict,
        )
        self._add_summary(summary, global_step, walltime)

    # ------------------------------------------------------------------ images, figures, video,
    # audio, embeddings, graphs (summary/image.py, video.py, audio.py, embedding.py, graph.py)

    def _write_event(self, event, walltime=None) -> None:
        """Write an Event proto that is not a Summary (graphs) at step 0, as tensorboardX."""
        event.wall_time = self._step_wall(0, walltime)[1]
        self._add_bytes(event.SerializeToString())

    def add_image(
        self,
        tag: str,
        img_tensor,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Log an image as a PNG: plugin ``images`` (``Summary.Image``, as tensorboardX).

        Args:
            tag: the series name (non-empty str), written as given.
            img_tensor: a numpy array, torch/jax tensor or nested list of shape ``(C, H, W)``
                (default), or another order given by ``dataformats``: ``(H, W, C)`` for
                ``'HWC'``, ``(H, W)`` for ``'HW'``; a batch ``(N, C, H, W)`` (``'NCHW'``) is
                tiled 8 per row. ``C`` is 1 (grayscale), 3 (RGB) or 4 (RGBA). Pixels: uint8
                0..255 used as is; floats taken as [0, 1], clipped, scaled by 255 and truncated
                (tensorboardX's rounding); bool as 0/255; other integers as 0..255, clipped.
            global_step: int64 step (default 0).
            walltime: seconds since the epoch (default: now).
            dataformats: the axis order, any order of ``C``, ``H``, ``W`` (and ``N``), e.g.
                ``'CHW'``, ``'HWC'``, ``'HW'``, ``'NCHW'``, ``'NHWC'``; case-insensitive.

        Raises:
            ImportError: Pillow is not installed (``pip install "tbx[images]"``).
            TypeError: ``tag`` not a str; ``img_tensor`` not numeric; ``dataformats`` not a str.
            ValueError: ``img_tensor``'s number of dimensions differs from ``dataformats``'s
                length, ``dataformats`` is not an order of N, C, H, W, ``C`` is not 1, 3 or 4,
                or an axis is empty.
        """
        from tbx.convert import to_numpy
        from tbx.summary.image import image_summary, to_hwc

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        hwc = to_hwc(to_numpy(img_tensor, "img_tensor"), dataformats)
        self._add_summary(image_summary(tag, hwc), step, wall)

    def add_images(
        self,
        tag: str,
        img_tensor,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Log a batch of images as one PNG grid: plugin ``images``.

        The images are tiled as tensorboardX's ``make_grid`` does: ``min(N, 8)`` per row,
        ``ceil(N / 8)`` rows, row-major, unused cells black (transparent for RGBA).

        Args:
            img_tensor: ``(N, C, H, W)`` (default) or another order given by ``dataformats``
                (``'NHWC'``, ...); or a list of ``N`` same-shape images, with ``dataformats``
                ``'CHW'`` or ``'HWC'`` (the form of one image). ``C`` is 1, 3 or 4; pixels as
                :meth:`add_image`.
            tag, global_step, walltime, dataformats: as :meth:`add_image`.

        Raises:
            ImportError, TypeError, ValueError: as :meth:`add_image`; also ValueError for a list
                of images of different shapes.
        """
        import numpy as np

        from tbx.convert import to_numpy
        from tbx.summary.image import image_summary, to_hwc

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        if (
            isinstance(img_tensor, (list, tuple))
            and isinstance(dataformats, str)
            and "N" not in dataformats.upper()
        ):
            arrays = [to_numpy(x, "img_tensor[i]") for x in img_tensor]
            if not arrays:
                raise ValueError("img_tensor is an empty list; give at least one image")
            shapes = {a.shape for a in arrays}
            if len(shapes) != 1:
                raise ValueError(
                    f"the images of img_tensor must have one shape, got {sorted(shapes)}"
                )
            array, dataformats = np.stack(arrays), "N" + dataformats
        else:
            array = to_numpy(img_tensor, "img_tensor")
        hwc = to_hwc(array, dataformats)
        self._add_summary(image_summary(tag, hwc), step, wall)

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor,
        box_tensor,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
        labels: list[str] | None = None,
        **kwargs,
    ) -> None:
        """Log an image with boxes drawn on it (red, 2 pixels wide, optional labels): plugin
        ``images``.

        Args:
            img_tensor: one image, ``(C, H, W)`` (default) or as ``dataformats`` says (``'HWC'``,
                ``'HW'``); pixels as :meth:`add_image`. Grayscale is drawn on as RGB.
            box_tensor: ``(N, 4)`` boxes ``(xmin, ymin, xmax, ymax)`` in pixels (any real
                dtype; a single box may be ``(4,)``).
            labels: ``N`` strings (a str for one box), drawn at each box's top-left corner.
            **kwargs: ``color``, ``text_color`` (Pillow colour names) and ``thickness``
                (pixels) of the boxes.
            tag, global_step, walltime, dataformats: as :meth:`add_image`.

        Raises:
            ImportError, TypeError, ValueError: as :meth:`add_image`; also ValueError for a
                batch, a ``box_tensor`` not of shape (N, 4) or with NaN/Inf, or
                ``len(labels) != N``, and TypeError for an unknown keyword argument.
        """
        from tbx.convert import to_numpy
        from tbx.summary.image import image_boxes_summary, to_hwc

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        unknown = set(kwargs) - {"color", "text_color", "thickness"}
        if unknown:
            raise TypeError(
                f"add_image_with_boxes got unknown keyword arguments {sorted(unknown)}; "
                f"accepted: color, text_color, thickness"
            )
        if isinstance(dataformats, str) and "N" in dataformats.upper():
            raise ValueError(
                f"add_image_with_boxes takes one image: dataformats 'CHW', 'HWC' or 'HW', got "
                f"{dataformats!r}"
            )
        hwc = to_hwc(to_numpy(img_tensor, "img_tensor"), dataformats)
        boxes = to_numpy(box_tensor, "box_tensor")
        self._add_summary(image_boxes_summary(tag, hwc, boxes, labels, **kwargs), step, wall)

    def add_figure(
        self,
        tag: str,
        figure,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """Log a matplotlib figure (or a list of same-size figures, tiled as
        :meth:`add_images`) rendered with the Agg canvas (no display needed) as an RGB PNG:
        plugin ``images``.

        Args:
            figure: a ``matplotlib.figure.Figure`` or a list of them.
            close: close the figure(s) afterwards (``pyplot.close``).
            tag, global_step, walltime: as :meth:`add_image`.

        Raises:
            ImportError: matplotlib or Pillow is not installed (``pip install "tbx[figures]"``).
            TypeError: ``figure`` is not a Figure or a list of them.
            ValueError: an empty list, or figures of different pixel sizes.
        """
        from tbx.summary.image import figure_to_array, image_summary, make_grid

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        pixels = figure_to_array(figure, close)
        hwc = make_grid(pixels) if pixels.ndim == 4 else pixels
        self._add_summary(image_summary(tag, hwc), step, wall)

    def add_video(
        self,
        tag: str,
        vid_tensor,
        global_step: int | None = None,
        fps: int | float = 4,
        walltime: float | None = None,
        dataformats: str = "NTCHW",
    ) -> None:
        """Log a batch of videos as one animated GIF (Pillow; no moviepy): plugin ``images``.

        Args:
            vid_tensor: ``(N, T, C, H, W)`` (default) or another order given by
                ``dataformats``; ``N`` clips of ``T`` frames, tiled into one video as
                tensorboardX does (``N`` padded to a power of two). ``C`` is 1 or 3 (a 4th,
                alpha, channel is dropped). Pixels: uint8 0..255 as is, floats in [0, 1]
                clipped and scaled as :meth:`add_image`.
            fps: frames per second (> 0); GIF stores the delay in 1/100 s, at least 2.
            dataformats: an order of the letters N, T, C, H, W (``'NTCHW'``, ``'NTHWC'``, ...).
            tag, global_step, walltime: as :meth:`add_image`.

        Raises:
            ImportError: Pillow is not installed (``pip install "tbx[video]"``).
            TypeError: ``vid_tensor`` not numeric; ``fps`` not a number.
            ValueError: ``vid_tensor`` not 5-D, ``dataformats`` not an order of N, T, C, H, W,
                ``C`` not 1, 3 or 4, an empty axis, or ``fps`` not positive.
        """
        from tbx.convert import to_numpy
        from tbx.summary.video import check_fps, to_tnhwc, video_summary

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        fps = check_fps(fps)
        clips = to_tnhwc(to_numpy(vid_tensor, "vid_tensor"), dataformats)
        self._add_summary(video_summary(tag, clips, fps), step, wall)

    def add_audio(
        self,
        tag: str,
        snd_tensor,
        global_step: int | None = None,
        sample_rate: int = 44100,
        walltime: float | None = None,
    ) -> None:
        """Log a sound as a 16-bit PCM WAV: plugin ``audio`` (``Summary.Audio``, as
        tensorboardX).

        Args:
            snd_tensor: samples in [-1, 1] (any real dtype), shaped ``(L,)`` (mono), ``(L, C)``
                (tensorboardX's form) or ``(C, L)`` (torch.utils.tensorboard's ``(1, L)``), with
                ``C`` = 1 or 2 channels. A 2-D array whose last axis is 1 or 2 is ``(L, C)``;
                otherwise its first axis must be 1 or 2 and it is ``(C, L)``. Samples outside
                [-1, 1] are clipped with a warning. Stored as ``round(x * 32767)``.
            sample_rate: samples per second per channel, in Hz (a positive whole number).
            tag, global_step, walltime: as :meth:`add_image`.

        Raises:
            TypeError: ``snd_tensor`` not numeric; ``sample_rate`` not a number.
            ValueError: a shape other than the above, no samples, NaN samples, or a
                ``sample_rate`` that is not a positive whole number.
        """
        from tbx.convert import to_numpy
        from tbx.summary.audio import audio_summary, check_sample_rate, to_frames

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        rate = check_sample_rate(sample_rate)
        frames = to_frames(to_numpy(snd_tensor, "snd_tensor"))
        self._add_summary(audio_summary(tag, frames, rate), step, wall)

    def add_embedding(
        self,
        mat,
        metadata=None,
        label_img=None,
        global_step: int | None = None,
        tag: str = "default",
        metadata_header=None,
    ) -> None:
        """Write an embedding for TensorBoard's projector: files beside the event file, in
        tensorboardX's layout (``<logdir>/<step:05d>/<tag>/tensors.tsv``, ``metadata.tsv``,
        ``sprite.png``, and an entry in ``<logdir>/projector_config.pbtxt``); see
        :mod:`tbx.summary.embedding`.

        Args:
            mat: ``(N, D)``: one D-dimensional point per row (any real dtype, written as
                float32; NaN/Inf rejected).
            metadata: ``N`` labels (each written with ``str``), or with ``metadata_header``
                ``N`` rows of column values. Tabs and newlines in labels are escaped.
            label_img: ``(N, C, H, W)`` thumbnails (``C`` 1, 3 or 4; uint8 or floats in [0, 1])
                made into a sprite of at most 8192 pixels a side.
            global_step: the step (default 0), part of the folder name.
            tag: the embedding's name (default ``'default'``).
            metadata_header: column names, for metadata of 2 or more columns.

        Raises:
            ImportError: ``label_img`` given and Pillow not installed (``tbx[embedding]``).
            TypeError: ``tag`` not a str, ``mat`` not numeric, ``metadata`` not a list.
            ValueError: ``mat`` not 2-D or not finite, ``metadata``/``label_img`` not of
                length N, rows not matching ``metadata_header``, a bad ``label_img`` shape or a
                sprite over 8192 pixels.
            OSError: the files cannot be written.
        """
        from tbx.summary.embedding import write_embedding

        check_tag(tag)
        step = 0 if global_step is None else to_step(global_step)
        if not self._write_to_disk:
            from tbx.summary.embedding import check_embedding

            check_embedding(mat, metadata, label_img, metadata_header)
            return
        self._get_file_writer()
        write_embedding(self.logdir, mat, metadata, label_img, step, tag, metadata_header)

    def add_graph(
        self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True
    ) -> None:
        """Log a PyTorch model's graph, traced with ``torch.jit.trace``: plugin ``graphs``.
        Written as tensorboardX does: ``Event(graph_def=GraphDef)`` and a step-stats
        ``Event(tagged_run_metadata=...)`` (tag ``profiler``), both at step 0; the layout of
        the nodes is in :mod:`tbx.summary.graph`. The model's training mode is restored.

        Args:
            model: a ``torch.nn.Module`` (or a function ``torch.jit.trace`` accepts).
            input_to_model: the model's input: a tensor, or a tuple/list of tensors.
            verbose: print the traced graph.
            use_strict_trace: ``torch.jit.trace``'s ``strict`` (False to trace mutable
                containers such as lists and dicts).

        Raises:
            ImportError: torch is not installed (``pip install "tbx[torch]"``).
            TypeError: ``model`` is not callable.
            RuntimeError: tracing failed; the message names the model and the cause. Nothing
                is written and the writer stays usable.
        """
        from tbx.proto.event_pb2 import Event, TaggedRunMetadata
        from tbx.summary.graph import RUN_METADATA_TAG, torch_graph

        graph_def, run_metadata = torch_graph(model, input_to_model, verbose, use_strict_trace)
        self._write_event(Event(graph_def=graph_def.SerializeToString()))
        trm = TaggedRunMetadata(
            tag=RUN_METADATA_TAG, run_metadata=run_metadata.SerializeToString()
        )
        self._write_event(Event(tagged_run_metadata=trm))

    def add_onnx_graph(self, onnx_model_file) -> None:
        """Log the graph of an ONNX model file as ``Event(graph_def=GraphDef)``: plugin
        ``graphs`` (layout in :mod:`tbx.summary.graph`).

        Args:
            onnx_model_file: path of the ``.onnx`` file.

        Raises:
            ImportError: onnx is not installed (``pip install "tbx[onnx]"``).
            OSError, ValueError: the file cannot be read or is not an ONNX model.
        """
        from tbx.proto.event_pb2 import Event
        from tbx.summary.graph import onnx_graph_def

        graph_def = onnx_graph_def(onnx_model_file)
        self._write_event(Event(graph_def=graph_def.SerializeToString()))

    # ------------------------------------------------------------------ lifecycle

    def flush(self) -> None:
        """Write everything logged so far to the files: on return, a reader sees it all."""
        for fw in list(self.all_writers.values()):
            fw.flush()

    def close(self) -> None:
        """Flush and close every file of this writer. Idempotent; logging again afterwards
        opens new files in the same folders."""
        for fw in list(self.all_writers.values()):
            fw.close()

    @contextlib.contextmanager
    def use_metadata(self, *, global_step=None, walltime=None):
        """Within the block, data logged without ``global_step``/``walltime`` gets these."""
        if global_step is None and walltime is None:
            raise ValueError("use_metadata needs global_step or walltime")
        old = self._default_step, self._default_walltime
        if global_step is not None:
            self._default_step = to_step(global_step)
        if walltime is not None:
            self._default_walltime = to_walltime(walltime)
        try:
            yield self
        finally:
            self._default_step, self._default_walltime = old

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SummaryWriter(logdir={self.logdir!r})"
