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
import time
from datetime import datetime

from tbx.convert import check_tag, to_float, to_step, to_walltime
from tbx.event_file import DEFAULT_FLUSH_SECS, EventFileWriter
from tbx.wire import ScalarEventEncoder, event_bytes

__all__ = ["SummaryWriter", "FileWriter"]

_time = time.time
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _discard(data: bytes) -> None:
    """Sink of a writer created with ``write_to_disk=False``."""


class FileWriter:
    """Writes Events and Summaries to an event file in ``logdir`` (tensorboardX's FileWriter).

    Args:
        logdir: the run's folder; created if missing.
        max_queue: see :class:`tbx.event_file.EventFileWriter`.
        flush_secs: longest time in seconds before a logged event reaches the file (default 2).
        filename_suffix: appended to the event file's name.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        max_queue: int = 10,
        flush_secs: float = DEFAULT_FLUSH_SECS,
        filename_suffix: str = "",
    ):
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._default_step: int | None = None
        self._default_walltime: float | None = None

    def get_logdir(self) -> str:
        """The folder the event file is written in."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None) -> None:
        """Write an ``Event`` proto, setting its ``step`` and ``wall_time`` (default: now).

        Raises:
            TypeError, ValueError: ``step`` is not an int64 or ``walltime`` not a number.
        """
        if walltime is None:
            walltime = self._default_walltime
        event.wall_time = _time() if walltime is None else to_walltime(walltime)
        if step is None:
            step = self._default_step
        if step is not None:
            event.step = to_step(step, "step")
        self.event_writer.add_event_bytes(event.SerializeToString())

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        """Write a ``Summary`` proto wrapped in an Event at ``global_step`` and ``walltime``."""
        step = self._default_step if global_step is None else global_step
        step = 0 if step is None else to_step(step)
        if walltime is None:
            walltime = self._default_walltime
        wall = _time() if walltime is None else to_walltime(walltime)
        self.event_writer.add_event_bytes(event_bytes(wall, step, summary.SerializeToString()))

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

    Raises:
        TypeError, ValueError: an argument of the wrong type or range (named in the message).
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
        **kwargs,
    ):
        if log_dir is not None and logdir is None:
            logdir = log_dir
        if not logdir:
            if not isinstance(comment, str):
                raise TypeError(f"comment must be a str, got {type(comment).__name__}")
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            logdir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.logdir = os.fspath(logdir)
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
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] = {}
        self._add_bytes = _discard
        self._get_file_writer()

    # ------------------------------------------------------------------ plumbing

    def _new_file_writer(self, logdir: str) -> FileWriter:
        return FileWriter(logdir, self._max_queue, self._flush_secs, self._filename_suffix)

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
        enc = self._encoder
        if type(tag) is not str or tag not in enc.heads:
            check_tag(tag)
        value = scalar_value if type(scalar_value) is float else to_float(scalar_value)
        step, wall = self._step_wall(global_step, walltime)
        self._add_bytes(enc.encode(tag, value, step, wall))

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
            ValueError: empty ``main_tag`` or key.
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
        for tag, value in values.items():
            fw_tag = os.path.join(self.logdir, main_tag, tag)
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

    # ------------------------------------------------------------------ histograms, PR curves,
    # hparams, custom scalars, meshes (summary/histogram.py, pr_curve.py, hparams.py,
    # custom_scalars.py, mesh.py)

    # ------------------------------------------------------------------ images, figures, video,
    # audio, embeddings, graphs (summary/image.py, video.py, audio.py, embedding.py, graph.py)

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
