"""FileWriter: tensorboardX's low-level writer of Events and Summaries into one run folder."""

from __future__ import annotations

import contextlib
import os
import time

from tbx.convert import to_step, to_walltime
from tbx.event_file import DEFAULT_FLUSH_SECS, EventFileWriter
from tbx.wire import event_bytes

__all__ = ["FileWriter"]

_time = time.time


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
        sync: write each event before the call returns (``True``), from a background thread
            (``False``), or decide by the process (``None``, the default: synchronous in a
            worker process); see :class:`tbx.event_file.EventFileWriter`.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        max_queue: int = 10,
        flush_secs: float = DEFAULT_FLUSH_SECS,
        filename_suffix: str = "",
        *,
        lazy: bool = False,
        sync: bool | None = None,
    ):
        self.event_writer = EventFileWriter(
            logdir, max_queue, flush_secs, filename_suffix, lazy=lazy, sync=sync
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
