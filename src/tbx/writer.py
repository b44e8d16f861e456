"""SummaryWriter and FileWriter: tensorboardX's API over tbx's event files.

Same names, arguments and defaults as ``tensorboardX.SummaryWriter`` (switching is a one-line
import change), except where tbx does better on purpose:

* ``flush_secs`` defaults to 2 seconds (tensorboardX: 120), so a live viewer stays current;
* ``flush()`` is a barrier: on return every event logged before it is in the file;
* tags are written exactly as given (tensorboardX rewrites some characters);
* bad arguments raise ``TypeError``/``ValueError`` naming the argument, in the caller's thread,
  and the writer keeps working.

Each kind of data is built by its module in :mod:`tbx.summary`; the writer only resolves steps
and wall times and hands serialized Events to :class:`tbx.event_file.EventFileWriter`. This module
holds the writer's core (run folders, pickling, scalars, text, lifecycle); the other kinds' methods
are inherited from :mod:`tbx.writer_scalars` (``add_scalars``, ``export_scalars_to_json``),
:mod:`tbx.writer_tensors` and :mod:`tbx.writer_media`, and
:class:`~tbx.file_writer.FileWriter` lives in :mod:`tbx.file_writer` (both names are importable
from here).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import struct
import time
from datetime import datetime
from math import copysign

from tbx.convert import check_tag, to_float, to_step, to_walltime
from tbx.event_file import DEFAULT_FLUSH_SECS
from tbx.file_writer import FileWriter
from tbx.wire import (
    ScalarEventEncoder,
    event_bytes,
    float32_bytes,
    scalar_value_head,
    varint,
)
from tbx.writer_media import MediaMethods
from tbx.writer_scalars import ScalarsExport, ScalarsMethods
from tbx.writer_tensors import TensorMethods

__all__ = ["SummaryWriter", "FileWriter"]

_time = time.time
_pack_d = struct.Struct("<d").pack
_pack_f = struct.Struct("<f").pack
_F32_MAX = 3.4028234663852886e38
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_origins = itertools.count(1)
# (origin, logdir) -> the FileWriters shared by the copies of one writer in this process
_copies: dict[tuple, dict[str, FileWriter]] = {}


def _discard(data: bytes) -> None:
    """Sink of a writer created with ``write_to_disk=False``."""


class SummaryWriter(ScalarsMethods, TensorMethods, MediaMethods):
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

    A SummaryWriter can be pickled (e.g. passed to ``multiprocessing`` workers): the copy writes
    into the same run folder through a file of its own, created on its first event; the copies
    of one writer in one process share that file (one per worker, not one per ``Pool`` task).
    ``purge_step`` is written by the original only. In worker processes (started by
    ``multiprocessing`` or ``os.fork``, or holding a copy unpickled from another process) every
    event is in the file when the call that logged it returns, so nothing is lost when the
    worker is terminated or leaves through ``os._exit`` (see :mod:`tbx.event_file`; a URL
    ``logdir`` stays buffered there and warns).

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
        log_dir, distributed, kwargs, lazy, sync=None, origin=None,
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
        self._sync = sync
        # Names the writer across processes: its copies in one process share their files.
        self._origin = origin or (os.getpid(), next(_origins))
        self.logdir = logdir
        self.purge_step = None if purge_step is None else to_step(purge_step, "purge_step")
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._filename_suffix = filename_suffix
        self._write_to_disk = bool(write_to_disk)
        self.kwargs = kwargs
        self._scalars_export = ScalarsExport()
        self._float_warned: set[str] = set()  # tags warned about float pixels outside [0, 1]
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
        """A FileWriter for ``logdir`` (the run or a sub-run); with ``purge_step``, its file
        starts with the purge, so that every folder this writer opens carries it."""
        fw = FileWriter(
            logdir, self._max_queue, self._flush_secs, self._filename_suffix, lazy=self._lazy,
            sync=self._sync,
        )
        if self.purge_step is not None:
            from tbx.proto.event_pb2 import Event, SessionLog

            now = _time()
            fw.add_event(Event(file_version="brain.Event:2"), self.purge_step, now)
            fw.add_event(
                Event(session_log=SessionLog(status=SessionLog.START)), self.purge_step, now
            )
        return fw

    def _sub_run_writer(self, path: str) -> FileWriter:
        """The FileWriter of the sub-run folder ``path`` (from :meth:`_sub_run`), opened on
        first use."""
        fw = self.all_writers.get(path)
        if fw is None:
            self._get_file_writer()
            fw = self.all_writers[path] = self._new_file_writer(path)
        return fw

    def __getstate__(self) -> dict:
        return dict(self._config, origin=self._origin)

    def __setstate__(self, state: dict) -> None:
        # A copy: same run folder, files of its own created on its first event; purge_step is
        # not repeated (the original wrote it). In another process than the original's, the
        # copies of one writer share their files (one file per folder and process, not one per
        # task of a Pool) and write synchronously (see tbx.event_file: workers).
        origin = state.get("origin")
        other = origin is not None and origin[0] != os.getpid()
        self._init(
            state["logdir"], "", None, state["max_queue"], state["flush_secs"],
            state["filename_suffix"], state["write_to_disk"], None, state["distributed"],
            state["kwargs"], lazy=True, sync=True if other else None, origin=origin,
        )
        if other and self._write_to_disk:
            key = (origin, self.logdir)
            shared = _copies.get(key)
            if shared is None:
                _copies[key] = self.all_writers
            else:
                self.all_writers = shared
                self.file_writer = shared[self.logdir]
                self._add_bytes = self.file_writer.event_writer.add_event_bytes

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
            self.file_writer = fw
            self.all_writers[fw.get_logdir()] = fw
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
