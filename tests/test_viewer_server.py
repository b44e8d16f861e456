"""``tbx serve`` start-up (``tbx.viewer.server``): a port in use (the same for ``tbx demo``), a
logdir without event files, ``--host 0.0.0.0``, an address that cannot be bound. Each server
is a real process on its own free port and its own tmp_path."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.cookiejar import CookieJar

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import tbx  # noqa: E402


class Serve:
    """``tbx serve ARGS`` as a child process; its stdout and stderr lines in queues."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: queue.Queue = queue.Queue()
        self.err: queue.Queue = queue.Queue()
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line.rstrip("\n"))
        q.put(None)

    @staticmethod
    def line(q, match, timeout=60) -> str:
        """The first line of ``q`` containing ``match`` (fails at the end of the stream or after
        ``timeout`` seconds without it)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                line = q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line with {match!r}; got {seen}")
            seen.append(line)
            if match in line:
                return line

    def url(self) -> str:
        return self.line(self.out, " at http").split(" at ", 1)[1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture
def serve():
    started = []

    def start(*args):
        s = Serve(*args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def taken_port():
    """A port held by a listening socket for the test's duration."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _logdir(tmp_path):
    with tbx.SummaryWriter(str(tmp_path / "a")) as w:
        w.add_scalar("x", 1.0, 0)
    return tmp_path


def _get_json(url, opener=None):
    opener = opener or urllib.request.build_opener()
    return json.loads(opener.open(url, timeout=30).read())


def test_port_in_use_falls_back_and_says_which(serve, tmp_path, taken_port):
    s = serve(_logdir(tmp_path), "--port", taken_port)
    url = s.url()
    port = int(url.rsplit(":", 1)[1].strip("/"))
    assert port != taken_port and url == f"http://127.0.0.1:{port}/"
    note = s.line(s.err, "in use")
    assert note == (f"tbx serve: port {taken_port} is in use on 127.0.0.1; serving on port "
                    f"{port} instead (--port 0 always takes a free port)")
    assert _get_json(url + "api/runs")["runs"] == ["a"]


def test_demo_viewer_falls_back_the_same_way(tmp_path, taken_port, capfd):
    from tbx.demo.run import ViewerProcess

    v = ViewerProcess.start(str(_logdir(tmp_path)), port=taken_port, timeout=60)
    try:
        port = int(v.url.rsplit(":", 1)[1].strip("/"))
        assert port != taken_port
        assert _get_json(v.url + "api/runs")["runs"] == ["a"]
    finally:
        v.stop()
    err = capfd.readouterr().err
    assert (f"tbx serve: port {taken_port} is in use on 127.0.0.1; serving on port {port} "
            f"instead") in err


def test_no_event_files_is_said(serve, tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("not an event file")
    logdir = tmp_path / "empty"
    s = serve(logdir, "--port", 0)
    url = s.url()
    assert s.line(s.err, "no event files") == (
        f"tbx serve: no event files found under {logdir} (files named *tfevents*); watching "
        f"it for new ones")
    body = _get_json(url + "api/runs")
    assert body["runs"] == [] and body["loaded"] is True and body["logdir"] == str(logdir)


def test_all_interfaces_print_urls_a_browser_can_open(serve, tmp_path):
    s = serve(_logdir(tmp_path), "--host", "0.0.0.0", "--port", 0)
    first = s.url()
    also = s.line(s.out, "also at").split("also at ", 1)[1]
    port = int(first.split(":")[2].split("/")[0])
    token = first.split("?token=", 1)[1]
    assert len(token) >= 32
    assert first == f"http://{socket.gethostname()}:{port}/?token={token}"
    assert also == f"http://127.0.0.1:{port}/?token={token}"
    for url in (first, also):
        assert "0.0.0.0" not in url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        base = url.split("?", 1)[0]
        assert _get_json(f"{base}api/runs?token={token}", opener)["runs"] == ["a"]
        assert _get_json(f"{base}api/runs", opener)["runs"] == ["a"]  # the cookie now


def test_address_that_cannot_be_bound(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tbx.cli", "serve", str(tmp_path), "--host",
                        "192.0.2.1", "--port", "0"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "tbx serve: error:" in r.stderr and "cannot listen on 192.0.2.1:0" in r.stderr
    assert "Traceback" not in r.stderr


def test_server_log_names_each_skipped_path_once(serve, tmp_path):
    """A path that cannot be read is one line of the server's log however many refreshes see
    it (the reader's RuntimeWarning is not printed besides)."""
    logdir = tmp_path / "logs"
    _logdir(logdir)
    with tbx.SummaryWriter(str(tmp_path / "outside" / "secret")) as w:
        w.add_scalar("x", 1.0, 0)
    os.symlink(tmp_path / "outside" / "secret", logdir / "link")
    s = serve(logdir, "--port", 0, "--reload-interval", "0.1")
    url = s.url()
    line = s.line(s.err, "skipped")
    assert line.endswith(f" tbx: skipped {logdir / 'link'}: symbolic link to "
                         f"'{tmp_path / 'outside' / 'secret'}' leads out of the logdir (not "
                         f"followed)")
    with tbx.SummaryWriter(str(logdir / "b")) as w:  # later refreshes: wait until one saw it
        w.add_scalar("x", 2.0, 0)
    deadline = time.monotonic() + 60
    while _get_json(url + "api/runs")["runs"] != ["a", "b"]:  # poll the condition
        assert time.monotonic() < deadline
        time.sleep(0.05)
    body = _get_json(url + "api/runs")
    assert body["problems"] == [{"path": str(logdir / "link"), "reason": line.split(": ", 2)[2]}]
    s.stop()
    rest = []
    while (x := s.err.get(timeout=30)) is not None:
        rest.append(x)
    assert not [x for x in rest if "skipped" in x or "Warning" in x], rest
