"""An in-memory stand-in for ``tbx.reader.provider.LogdirProvider`` (viewer API tests)."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from tbx.proto.summary_pb2 import SummaryMetadata
from tbx.reader.provider import BlobSeries, Changes, ScalarSeries, TagInfo, TensorSeries


def _ro(a, dtype):
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


class FakeProvider:
    """Series set by the test; ``refresh()`` returns the changes queued since the last call."""

    logdir = "memory://fake"

    def __init__(self):
        self.data: dict[str, dict[str, tuple]] = {}  # run -> tag -> (plugin, cls, series, md)
        self._pending = Changes()
        self.refreshes = 0

    # building ------------------------------------------------------------------------------
    def _put(self, run, tag, plugin, cls, series, metadata=None):
        new_run = run not in self.data
        tags = self.data.setdefault(run, {})
        if new_run:
            self._pending.new_runs.append(run)
        if tag not in tags:
            self._pending.new_tags.append((run, tag))
        if metadata is None:
            metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin))
        tags[tag] = (plugin, cls, series, metadata)

    def add_scalars(self, run, tag, step, value, wall_time=None):
        step = np.asarray(step, dtype=np.int64)
        if wall_time is None:
            wall_time = 1.7e9 + step.astype(np.float64)
        old = self.data.get(run, {}).get(tag)
        if old is not None:
            s = old[2]
            n = len(step)
            step = np.concatenate([s.step, step])
            wall_time = np.concatenate([s.wall_time, wall_time])
            value = np.concatenate([s.value, np.asarray(value, dtype=np.float64)])
            key = (run, tag)
            self._pending.appended[key] = self._pending.appended.get(key, 0) + n
        s = ScalarSeries(_ro(step, np.int64), _ro(wall_time, np.float64), _ro(value, np.float64))
        self._put(run, tag, "scalars", "scalar", s)
        if old is None and len(step):
            self._pending.appended[(run, tag)] = len(step)

    def purge(self, run, tag, from_step):
        s = self.data[run][tag][2]
        keep = s.step < from_step
        self.data[run][tag] = (*self.data[run][tag][:2],
                               ScalarSeries(_ro(s.step[keep], np.int64),
                                            _ro(s.wall_time[keep], np.float64),
                                            _ro(s.value[keep], np.float64)),
                               self.data[run][tag][3])
        self._pending.purged[(run, tag)] = from_step

    def add_tensors(self, run, tag, plugin, steps, values, metadata=None):
        steps = np.asarray(steps, dtype=np.int64)
        s = TensorSeries(_ro(steps, np.int64), _ro(1.7e9 + steps, np.float64), tuple(values))
        self._put(run, tag, plugin, "tensor", s, metadata)

    def add_blobs(self, run, tag, plugin, steps, values):
        steps = np.asarray(steps, dtype=np.int64)
        s = BlobSeries(_ro(steps, np.int64), _ro(1.7e9 + steps, np.float64), tuple(values))
        self._put(run, tag, plugin, "blob", s)

    # provider interface ----------------------------------------------------------------------
    def refresh(self, progress=None) -> Changes:
        self.refreshes += 1
        out, self._pending = self._pending, Changes()
        return out

    def runs(self):
        return sorted(self.data)

    def tags(self, run):
        out = {}
        for tag, (plugin, cls, s, _md) in self.data[run].items():
            n = len(s)
            out[tag] = TagInfo(plugin, cls, n,
                               int(s.step.min()) if n else None, int(s.step.max()) if n else None,
                               float(s.wall_time.min()) if n else None,
                               float(s.wall_time.max()) if n else None)
        return out

    def _get(self, run, tag, cls):
        plugin, c, s, _md = self.data[run][tag]
        if c != cls:
            raise TypeError(f"{tag} is {c}")
        return s

    def scalars(self, run, tag):
        return self._get(run, tag, "scalar")

    def tensors(self, run, tag):
        return self._get(run, tag, "tensor")

    def blobs(self, run, tag):
        return self._get(run, tag, "blob")

    def metadata(self, run, tag):
        md = SummaryMetadata()
        md.CopyFrom(self.data[run][tag][3])
        return md

    def corruptions(self):
        return []


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1"):
    """``app`` served by uvicorn in a thread on a free port of ``host``: yields its base URL
    ``http://host:port/``; the server is stopped on exit."""
    import threading

    import uvicorn

    srv = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="critical",
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
