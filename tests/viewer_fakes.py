"""An in-memory stand-in for ``tbx.reader.provider.LogdirProvider`` (viewer API tests)."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from tbx.proto.summary_pb2 import SummaryMetadata
from tbx.reader.provider import (
    MIN_STEP,
    BlobSeries,
    Changes,
    Problem,
    ScalarSeries,
    TagInfo,
    TensorSeries,
)


def _ro(a, dtype):
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


class FakeProvider:
    """Series set by the test, keyed ``(run, tag, plugin)`` like the real provider's (one tag
    may hold several kinds); ``refresh()`` returns the changes queued since the last call."""

    logdir = "memory://fake"

    def __init__(self):
        # run -> (tag, plugin) -> (cls, series, metadata), in insertion order
        self.data: dict[str, dict[tuple[str, str], tuple]] = {}
        self._pending = Changes()
        self.refreshes = 0
        self.problem_list: list[Problem] = []

    # building ------------------------------------------------------------------------------
    def _put(self, run, tag, plugin, cls, series, metadata=None):
        new_run = run not in self.data
        found = self.data.setdefault(run, {})
        if new_run:
            self._pending.new_runs.append(run)
        if not any(t == tag for t, _ in found):
            self._pending.new_tags.append((run, tag))
        if (tag, plugin) not in found:
            self._pending.new_series.append((run, tag, plugin))
        if metadata is None:
            metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin))
        found[(tag, plugin)] = (cls, series, metadata)

    def _appended(self, run, tag, plugin, n):
        for d, key in ((self._pending.appended_series, (run, tag, plugin)),
                       (self._pending.appended, (run, tag))):
            d[key] = d.get(key, 0) + n

    def add_scalars(self, run, tag, step, value, wall_time=None, plugin="scalars"):
        step = np.asarray(step, dtype=np.int64)
        if wall_time is None:
            wall_time = 1.7e9 + step.astype(np.float64)
        value = np.asarray(value, dtype=np.float64)
        wall_time = np.asarray(wall_time, dtype=np.float64)
        n = len(step)
        old = self.data.get(run, {}).get((tag, plugin))
        if old is not None:
            s = old[1]
            step = np.concatenate([s.step, step])
            wall_time = np.concatenate([s.wall_time, wall_time])
            value = np.concatenate([s.value, value])
        s = ScalarSeries(_ro(step, np.int64), _ro(wall_time, np.float64), _ro(value, np.float64))
        self._put(run, tag, plugin, "scalar", s)
        if n:
            self._appended(run, tag, plugin, n)

    def purge(self, run, tag, from_step, plugin="scalars"):
        cls, s, md = self.data[run][(tag, plugin)]
        keep = s.step < from_step
        self.data[run][(tag, plugin)] = (cls, ScalarSeries(
            _ro(s.step[keep], np.int64), _ro(s.wall_time[keep], np.float64),
            _ro(s.value[keep], np.float64)), md)
        self._pending.purged_series[(run, tag, plugin)] = from_step
        self._pending.purged[(run, tag)] = from_step

    def reset(self, run, tag, plugin, step, value):
        """The series read again from the start with these points (a file was replaced)."""
        del self.data[run][(tag, plugin)]
        self._put(run, tag, plugin, "scalar", ScalarSeries(
            _ro(step, np.int64), _ro(1.7e9 + np.asarray(step, np.float64), np.float64),
            _ro(value, np.float64)))
        key = (run, tag, plugin)
        self._pending.new_series = [k for k in self._pending.new_series if k != key]
        self._pending.reset_series.append(key)
        self._pending.purged_series[key] = MIN_STEP
        self._pending.appended_series[key] = len(step)

    def remove_run(self, run):
        for tag, plugin in self.data.pop(run):
            self._pending.removed_series.append((run, tag, plugin))
        self._pending.removed_runs.append(run)

    def add_tensors(self, run, tag, plugin, steps, values, metadata=None):
        steps = np.asarray(steps, dtype=np.int64)
        s = TensorSeries(_ro(steps, np.int64), _ro(1.7e9 + steps, np.float64), tuple(values))
        self._put(run, tag, plugin, "tensor", s, metadata)
        self._appended(run, tag, plugin, len(steps))

    def add_blobs(self, run, tag, plugin, steps, values):
        steps = np.asarray(steps, dtype=np.int64)
        s = BlobSeries(_ro(steps, np.int64), _ro(1.7e9 + steps, np.float64), tuple(values))
        self._put(run, tag, plugin, "blob", s)
        self._appended(run, tag, plugin, len(steps))

    # provider interface ----------------------------------------------------------------------
    def refresh(self, progress=None) -> Changes:
        self.refreshes += 1
        out, self._pending = self._pending, Changes()
        return out

    def runs(self):
        return sorted(self.data)

    @staticmethod
    def _info(plugin, cls, s):
        n = len(s)
        return TagInfo(plugin, cls, n,
                       int(s.step.min()) if n else None, int(s.step.max()) if n else None,
                       float(s.wall_time.min()) if n else None,
                       float(s.wall_time.max()) if n else None)

    def series(self, run):
        return [(tag, plugin, self._info(plugin, cls, s))
                for (tag, plugin), (cls, s, _md) in self.data[run].items()]

    def tags(self, run, plugin=None):
        out = {}
        for tag, p, info in self.series(run):
            if (plugin is None and tag not in out) or p == plugin:
                out.setdefault(tag, info)
        return out

    def _pick(self, run, tag, plugin, cls=None):
        found = [(p, v) for (t, p), v in self.data[run].items() if t == tag]
        if not found:
            raise KeyError(tag)
        if plugin is not None:
            v = dict(found).get(plugin)
            if v is None:
                raise KeyError((tag, plugin))
        else:
            v = found[0][1]
            if cls is not None and v[0] != cls:
                v = next((x for _, x in found if x[0] == cls), v)
        if cls is not None and v[0] != cls:
            raise TypeError(f"{tag} is {v[0]}")
        return v

    def scalars(self, run, tag, plugin=None):
        return self._pick(run, tag, plugin, "scalar")[1]

    def tensors(self, run, tag, plugin=None):
        return self._pick(run, tag, plugin, "tensor")[1]

    def blobs(self, run, tag, plugin=None):
        return self._pick(run, tag, plugin, "blob")[1]

    def metadata(self, run, tag, plugin=None):
        md = SummaryMetadata()
        md.CopyFrom(self._pick(run, tag, plugin)[2])
        return md

    def corruptions(self):
        return []

    def problems(self):
        return list(self.problem_list)


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1", port: int = 0):
    """``app`` served by uvicorn in a thread on ``port`` of ``host`` (0: a free one): yields
    its base URL ``http://host:port/``; the server is stopped on exit."""
    import threading

    import uvicorn

    srv = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="critical",
                                        timeout_graceful_shutdown=1))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 60
    while not srv.started and th.is_alive() and time.monotonic() < deadline:
        th.join(0.02)  # poll the condition
    assert srv.started, "the server did not start"
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}/"
    finally:
        srv.should_exit = True
        th.join(timeout=10)
