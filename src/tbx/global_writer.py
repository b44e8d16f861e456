"""GlobalSummaryWriter: a SummaryWriter that numbers the steps itself (tensorboardX's API).

Every ``add_*`` method of :class:`tbx.SummaryWriter` that takes a ``global_step`` is available
without that argument: the step is a per-(method, tag) counter starting at 0 and incremented by
each call (``add_scalar("loss", v)`` three times writes steps 0, 1, 2). The tag is the call's
``tag`` (or ``main_tag``) argument, defaults included, else its first argument if a str.
Methods without a step (``add_custom_scalars``, ...) are passed through. The methods are built
from SummaryWriter's own signatures, so methods added to SummaryWriter later work here too.

As in tensorboardX, the counters live in a ``multiprocessing.Manager`` dict and the calls are
serialised by a ``multiprocessing.Lock``: processes forked after the writer was created (e.g. a
``multiprocessing.Pool``) share the counters, so their steps never collide. Each process
writes its own event file in the same run folder (see :mod:`tbx.event_file`); TensorBoard and
tbx's reader merge them.
"""

from __future__ import annotations

import inspect
import multiprocessing as mp
import os

from tbx.event_file import DEFAULT_FLUSH_SECS
from tbx.writer import SummaryWriter

__all__ = ["GlobalSummaryWriter"]

_writer: GlobalSummaryWriter | None = None


def _series_key(sig: inspect.Signature, bound: inspect.BoundArguments):
    """What names the series of a call: its ``tag`` (``main_tag``) argument, defaults
    included, else its first argument if that is a str, else None."""
    args = dict(bound.arguments)
    for name, p in sig.parameters.items():
        if name not in args and p.default is not inspect.Parameter.empty:
            args[name] = p.default
    for name in ("tag", "main_tag"):
        if isinstance(args.get(name), str):
            return args[name]
    first = next(iter(sig.parameters), None)
    value = args.get(first)
    return value if isinstance(value, str) else None


class GlobalSummaryWriter:
    """A :class:`tbx.SummaryWriter` whose ``add_*`` methods number the steps themselves.

    Args:
        logdir, comment, purge_step, max_queue, flush_secs, filename_suffix, write_to_disk,
        log_dir, **kwargs: as :class:`tbx.SummaryWriter`.
        coalesce_process: accepted for tensorboardX compatibility (ignored, as there).

    Each ``add_X(...)`` takes SummaryWriter's ``add_X`` arguments without ``global_step``
    (keyword or positional, in the same order with ``global_step`` left out, as tensorboardX's
    ``GlobalSummaryWriter.add_scalar(tag, scalar_value, walltime=None)``).

    Raises:
        TypeError: a ``global_step`` passed to an ``add_*`` method; other errors as the
            SummaryWriter method.
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
        coalesce_process: bool = True,
        **kwargs,
    ):
        self.smw = SummaryWriter(
            logdir=logdir,
            comment=comment,
            purge_step=purge_step,
            max_queue=max_queue,
            flush_secs=flush_secs,
            filename_suffix=filename_suffix,
            write_to_disk=write_to_disk,
            log_dir=log_dir,
            **kwargs,
        )
        self.lock = mp.Lock()
        self._manager = mp.Manager()
        self._steps = self._manager.dict()  # (method name, tag) -> last step written
        self._methods: dict[str, object] = {}

    def _next_step(self, key) -> int:
        step = self._steps.get(key, -1) + 1
        self._steps[key] = step
        return step

    def _wrap(self, name: str):
        method = getattr(self.smw, name)
        sig = inspect.signature(method)
        if "global_step" not in sig.parameters:
            return method
        params = sig.parameters
        short = sig.replace(parameters=[p for n, p in params.items() if n != "global_step"])

        def add(*args, **kwargs):
            if "global_step" in kwargs:
                raise TypeError(
                    f"GlobalSummaryWriter.{name} numbers the steps itself: do not pass global_step"
                )
            bound = short.bind(*args, **kwargs)
            call = {}
            for pname, value in bound.arguments.items():
                if params[pname].kind is inspect.Parameter.VAR_KEYWORD:
                    call.update(value)
                else:
                    call[pname] = value
            key = (name, _series_key(short, bound))
            with self.lock:
                step = self._next_step(key)
                try:
                    method(**call, global_step=step)
                except BaseException:
                    # Nothing was written: give the step back.
                    self._steps[key] = step - 1
                    raise

        add.__name__ = add.__qualname__ = name
        add.__doc__ = (
            f"SummaryWriter.{name} with ``global_step`` numbered per tag (0, 1, 2, ...).\n\n"
            + (method.__doc__ or "")
        )
        add.__signature__ = short
        return add

    def __getattr__(self, name: str):
        if not name.startswith("add_") or name.startswith("__"):
            raise AttributeError(name)
        methods = self.__dict__.get("_methods")
        if methods is None:
            raise AttributeError(name)
        fn = methods.get(name)
        if fn is None:
            if not callable(getattr(SummaryWriter, name, None)):
                raise AttributeError(f"GlobalSummaryWriter has no method {name!r}")
            fn = methods[name] = self._wrap(name)
        return fn

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | {n for n in dir(SummaryWriter) if n.startswith("add_")}
        )

    @staticmethod
    def getSummaryWriter() -> GlobalSummaryWriter:
        """The process-wide GlobalSummaryWriter, created (in the default ``runs/...`` folder)
        on first use; later calls, from any module, return the same one."""
        global _writer
        if _writer is None or _writer.smw is None:
            _writer = GlobalSummaryWriter()
        return _writer

    @property
    def file_writer(self):
        """The run's FileWriter."""
        return self.smw._get_file_writer()

    def get_logdir(self) -> str:
        """The run's folder."""
        return self.smw.get_logdir()

    def flush(self) -> None:
        """Write everything logged so far to the files."""
        self.smw.flush()

    def close(self) -> None:
        """Flush and close the files and stop the counters' manager process."""
        self.smw.flush()
        self.smw.close()
        manager = self.__dict__.get("_manager")
        if manager is not None:
            self._steps = {}
            manager.shutdown()
            self._manager = None

    def __enter__(self) -> GlobalSummaryWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GlobalSummaryWriter(logdir={self.smw.logdir!r})"
