"""The viewer's live hub (``tbx.viewer.hub``): a client that stops reading costs bounded memory
(its queue is emptied and it gets ``event: reload``), measured as the server process' RSS."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from viewer_fakes import running  # noqa: E402

from tbx.reader.provider import Changes, ScalarSeries, TagInfo  # noqa: E402
from tbx.viewer import hub as H  # noqa: E402
from tbx.viewer.app import create_app  # noqa: E402


class RollingProvider:
    """One run of ``tags`` scalar tags; each ``refresh()`` appends ``steps`` new points to every
    tag and forgets the older ones (so the provider's own memory stays flat and only the live
    messages can grow)."""

    logdir = "memory://rolling"

    def __init__(self, tags: int = 200, steps: int = 800):
        self.names = [f"tag{i:03d}" for i in range(tags)]
        self.steps = steps
        self.step0 = 0
        self.data: dict[str, ScalarSeries] = {}
        self.rng = np.random.default_rng(0)

    def refresh(self, progress=None):
        ch = Changes()
        step = np.arange(self.step0, self.step0 + self.steps, dtype=np.int64)
        self.step0 += self.steps
        for t in self.names:
            self.data[t] = ScalarSeries(step, 1.7e9 + step.astype(np.float64),
                                        self.rng.normal(size=self.steps))
            ch.appended_series[("run", t, "scalars")] = ch.appended[("run", t)] = self.steps
        return ch

    def runs(self):
        return ["run"] if self.data else []

    def series(self, run):
        return [(t, "scalars", TagInfo("scalars", "scalar", self.steps, int(s.step[0]),
                                       int(s.step[-1]), float(s.wall_time[0]),
                                       float(s.wall_time[-1])))
                for t, s in self.data.items()]

    def tags(self, run, plugin=None):
        return {t: info for t, _, info in self.series(run)}

    def scalars(self, run, tag, plugin=None):
        return self.data[tag]

    def corruptions(self):
        return []

    def problems(self):
        return []


def rss_bytes() -> int:
    """This process' resident set size, from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _wait(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _stalled_client(url: str) -> socket.socket:
    """Connect to /api/events and never read (a small receive buffer, so the server's writes
    block soon)."""
    u = urlsplit(url)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((u.hostname, u.port))
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: " + u.netloc.encode() + b"\r\n\r\n")
    return s


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="needs /proc")
def test_stalled_client_memory_stays_flat():
    """200 tags x 800 new points per refresh (about 5 MB of messages each), 60 refreshes, one
    client that never reads: the server grows by less than 100 MB (about 300 MB of messages were
    published; an unbounded queue keeps them all), and the client, once it reads again, gets
    ``event: reload``."""
    provider = RollingProvider()
    app = create_app(provider, refresh=False)
    with running(app) as url:
        hub = app.state.hub
        client = _stalled_client(url)
        try:
            _wait(lambda: len(hub.subscribers) == 1, "the client to subscribe")
            hub.refresh_once()  # warm up (imports, first buffers)
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), hub._loop).result(60)
            sizes = []
            messages = hub.messages

            def counted(changes):
                msgs = messages(changes)
                sizes.append(sum(map(len, msgs)))
                return msgs

            hub.messages = counted
            before = rss_bytes()
            for _ in range(60):
                hub.refresh_once()
            # every publish scheduled so far has run once this coroutine has
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), hub._loop).result(60)
            grown = rss_bytes() - before
            (sub,) = hub.subscribers
            assert sub.overflows >= 1
            assert sub.size <= H.CLIENT_BUFFER
            assert sum(sizes) > 250e6  # what an unbounded queue would hold
            print(f"server grew by {grown / 1e6:.1f} MB while {sum(sizes) / 1e6:.0f} MB were "
                  "published")
            assert grown < 100e6, f"server grew by {grown / 1e6:.0f} MB"
            # the client reads again: after the bytes already in flight, the reload
            client.settimeout(60)
            data = b""
            while b"event: reload" not in data:
                chunk = client.recv(1 << 20)
                assert chunk, "connection closed before the reload message"
                data = data[-100:] + chunk
        finally:
            client.close()


def test_subscriber_bounds_and_reload():
    async def go():
        sub = H.Subscriber(limit=100)
        sub.put("a" * 60)
        sub.put("b" * 30)
        assert sub.size == 90 and sub.overflows == 0
        sub.put("c" * 30)  # past the limit: emptied, one reload
        assert sub.overflows == 1 and sub.size == len(H.RELOAD)
        sub.put("d" * 10)  # covered by the pending reload
        assert await sub.get(1) is H.RELOAD
        sub.put("e" * 10)
        assert await sub.get(1) == "e" * 10
        assert await sub.get(0.01) is None and sub.size == 0
    asyncio.run(go())


def test_big_updates_are_split():
    """A refresh of 200 tags x 800 points is sent as messages of about 1 MB."""
    provider = RollingProvider()
    hub = H.Hub(provider)
    msgs = hub.messages(provider.refresh())
    assert len(msgs) > 3
    assert all(len(m) < H.MESSAGE_BYTES + 100_000 for m in msgs)
    import json
    series = [d for m in msgs for d in json.loads(m.split("data: ", 1)[1])["series"]]
    assert [d["tag"] for d in series] == provider.names
    assert all(d["n"] == 800 for d in series)


def test_past_max_delta_only_the_count_is_sent_and_the_series_is_not_read(tmp_path):
    """A series that got more than MAX_DELTA points in one refresh (the first load of a big
    logdir) is announced with its total and ``reload``, from its TagInfo: it is not read (with a
    memory budget it would otherwise be read back from its files for nothing)."""
    import json

    import tbx
    from tbx.reader import LogdirProvider

    with tbx.SummaryWriter(tmp_path / "r") as w:
        for i in range(H.MAX_DELTA + 5):
            w.add_scalar("big", float(i), i)
        w.add_scalar("small", 1.5, 0)
    p = LogdirProvider(tmp_path, memory_budget=0)
    reads = []
    original = p.scalars

    def spy(run, tag, *a, **kw):
        reads.append(tag)
        return original(run, tag, *a, **kw)

    p.scalars = spy
    msgs = H.Hub(p).messages(p.refresh())
    series = {d["tag"]: d for m in msgs if m.startswith("event: scalars")
              for d in json.loads(m.split("data: ", 1)[1])["series"]}
    assert reads == ["small"]
    assert series["big"]["reload"] is True and series["big"]["total"] == H.MAX_DELTA + 5
    assert series["small"]["n"] == 1 and "reload" not in series["small"]
