"""Projections run in background threads, with progress, cancel, and results cached per key
(embedding files, method, parameters).

A job runs ``work(progress)``; ``progress(fraction, message, partial)`` records how far it got
(``partial``: the coordinates so far, for methods that have them) and raises
:class:`~.project.Cancelled` once :meth:`Job.cancel` was called, so the work stops at its next
report. Slow methods (t-SNE, UMAP) run one at a time (the others wait in ``"queued"``); PCA and
custom projections never wait behind them.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict

import numpy as np

from .project import Cancelled

__all__ = ["Job", "Jobs"]

log = logging.getLogger("tbx.viewer.projector")
_ids = itertools.count(1)


class Job:
    """One projection. ``state`` goes ``queued`` -> ``running`` -> ``done`` | ``error`` |
    ``cancelled``; ``result`` is set when ``done``."""

    def __init__(self, key: tuple, work, slow: bool):
        self.id = str(next(_ids))
        self.key = key
        self.work = work
        self.slow = slow
        self.state = "queued"
        self.progress = 0.0
        self.message = ""
        self.error = ""
        self.result: np.ndarray | None = None
        self.partial: np.ndarray | None = None
        self.partial_version = 0
        self.extra: dict = {}
        self.started = self.finished = None
        self._cancel = threading.Event()
        self.done = threading.Event()

    def report(self, fraction: float, message: str, partial=None) -> None:
        """The progress callback given to the work."""
        if self._cancel.is_set():
            raise Cancelled()
        self.progress = max(self.progress, min(1.0, float(fraction)))
        self.message = message
        if partial is not None:
            self.partial = partial
            self.partial_version += 1

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report (a queued job never starts)."""
        self._cancel.set()
        if self.state == "queued":
            self._finish("cancelled")

    def _finish(self, state: str, error: str = "") -> None:
        if self.done.is_set():
            return
        self.state, self.error = state, error
        self.finished = time.time()
        self.done.set()

    def run(self, gate: threading.Semaphore | None) -> None:
        if gate is not None:
            gate.acquire()
        try:
            if self._cancel.is_set():
                self._finish("cancelled")
                return
            self.state, self.started = "running", time.time()
            result, extra = self.work(self.report)
            self.result, self.extra = result, extra
            self.progress = 1.0
            self._finish("done")
        except Cancelled:
            self._finish("cancelled")
        except (ValueError, ImportError, MemoryError) as e:
            self._finish("error", str(e))
        except Exception as e:  # a bug: keep the server up, say so on the page
            log.exception("projection %s failed", self.key)
            self._finish("error", f"{type(e).__name__}: {e}")
        finally:
            if gate is not None:
                gate.release()

    def status(self) -> dict:
        """JSON status (no coordinates)."""
        out = {"job": self.id, "state": self.state, "progress": round(self.progress, 4),
               "message": self.message, "error": self.error or None,
               "partial": self.partial_version if self.partial is not None else None,
               "seconds": None}
        if self.started is not None:
            out["seconds"] = round((self.finished or time.time()) - self.started, 3)
        out.update(self.extra)
        return out


class Jobs:
    """Every job by id, and finished ones by key (the cache: at most ``keep`` results, least
    recently used dropped first)."""

    def __init__(self, keep: int = 16):
        self.keep = keep
        self._lock = threading.Lock()
        self._by_id: dict[str, Job] = {}
        self._by_key: OrderedDict[tuple, Job] = OrderedDict()
        self._slow_gate = threading.Semaphore(1)

    def submit(self, key: tuple, work, slow: bool = False) -> Job:
        """The job of ``key``: a cached or running one, else a new one started now. A job
        that failed or was cancelled is started again."""
        with self._lock:
            job = self._by_key.get(key)
            if job is not None and job.state not in ("error", "cancelled"):
                self._by_key.move_to_end(key)
                return job
            job = Job(key, work, slow)
            self._by_id[job.id] = job
            self._by_key[key] = job
            self._trim()
        threading.Thread(target=job.run, args=(self._slow_gate if slow else None,),
                         name=f"tbx-projector-{job.id}", daemon=True).start()
        return job

    def _trim(self) -> None:
        finished = [k for k, j in self._by_key.items() if j.done.is_set()]
        for k in finished[: max(0, len(finished) - self.keep)]:
            job = self._by_key.pop(k)
            self._by_id.pop(job.id, None)

    def get(self, job_id: str) -> Job:
        """Raises KeyError for an unknown (or dropped) job."""
        with self._lock:
            return self._by_id[job_id]

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self._by_id.values())
        for job in jobs:
            job.cancel()
