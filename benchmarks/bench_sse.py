"""Live updates under heavy logging: the server's memory with an SSE client that stopped
reading (issue 10, item 4).

Usage: python benchmarks/bench_sse.py [--seconds 60] [--tags 200] [--rate 800]
       [--baseline-src DIR] [--no-control]

* A writer process logs TAGS scalar tags at RATE steps per second (TAGS x RATE ``add_scalar``
  calls per second, in bursts every 0.1 s) into a fresh logdir for SECONDS seconds.
* ``tbx serve LOGDIR --port 0 --reload-interval 1`` runs in its own process; a client connects
  to ``/api/events`` with a 4 KB receive buffer and never reads (a stalled browser tab). A
  second client reads everything and counts the bytes pushed (what an unbounded queue of the
  stalled client would hold) and the scalar updates too big to push (``"reload":true``, more
  than 2,000 new points of a series in one refresh: a refresh that fell behind the writer).
* The server's RSS (``/proc/<pid>/status``) is sampled every second. The provider keeps every
  point (24 bytes each), so the RSS grows with the data even without clients: the control run
  (same logging, no SSE client) shows that part; the difference is what the stalled client
  costs.
* ``--baseline-src DIR``: the same stalled-client run against another tree's ``src/`` (e.g.
  the main branch before the bounded queues) for comparison.
* Prints a table; figures go by hand into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

WRITER = r"""
import sys, time
import tbx
logdir, tags, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
names = [f"tag{i:03d}" for i in range(tags)]
w = tbx.SummaryWriter(logdir + "/run", flush_secs=1)
t0 = time.monotonic()
step = 0
while True:
    now = time.monotonic() - t0
    if now >= seconds:
        break
    due = int(now * rate) + rate // 10
    while step < due:
        for n in names:
            w.add_scalar(n, step * 1e-3, step)
        step += 1
    time.sleep(max(0.0, (step / rate) - (time.monotonic() - t0)))
w.close()
print(step, time.monotonic() - t0, flush=True)
"""


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(src: Path, logdir: str):
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", logdir, "--port", "0",
                             "--reload-interval", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if " at " not in line:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    url = line.split(" at ", 1)[1].strip()
    return proc, url


def stalled_client(url: str) -> socket.socket:
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    return s


def reading_client(url: str, out: dict) -> socket.socket:
    """Reads /api/events in a thread: ``out["bytes"]``, ``out["reloads"]``."""
    s = stalled_client(url)
    out.update(bytes=0, reloads=0)

    def pump():
        tail = b""
        while True:
            try:
                chunk = s.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            out["bytes"] += len(chunk)
            both = tail + chunk
            out["reloads"] += both.count(b'"reload":true') - tail.count(b'"reload":true')
            tail = chunk[-20:]

    threading.Thread(target=pump, daemon=True).start()
    return s


def one(src: Path, args, client: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="tbx-bench-sse-") as logdir:
        proc, url = start_server(src, logdir)
        sock = stalled_client(url) if client else None
        seen: dict = {}
        reader = reading_client(url, seen)
        time.sleep(1.0)
        base = rss_mb(proc.pid)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, logdir, str(args.tags),
                                   str(args.rate), str(args.seconds)],
                                  env={**os.environ, "PYTHONPATH": str(SRC)},
                                  stdout=subprocess.PIPE, text=True)
        samples = []
        out = {}

        def wait_writer():
            out["line"] = writer.stdout.readline()
            writer.wait()

        t = threading.Thread(target=wait_writer)
        t.start()
        while t.is_alive():
            samples.append(rss_mb(proc.pid))
            time.sleep(1.0)
        for _ in range(5):  # the server reads the rest
            samples.append(rss_mb(proc.pid))
            time.sleep(1.0)
        steps, secs = out["line"].split()
        proc.terminate()
        proc.wait(30)
        if sock is not None:
            sock.close()
        reader.close()
        points = int(steps) * args.tags
        return {"base": base, "max": max(samples), "end": samples[-1],
                "rate": int(steps) / float(secs), "points": points,
                "at30": samples[min(30, len(samples) - 1)], "pushed": seen["bytes"] / 1e6,
                "reloads": seen["reloads"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--tags", type=int, default=200)
    ap.add_argument("--rate", type=int, default=800)
    ap.add_argument("--baseline-src", type=Path, default=None)
    ap.add_argument("--no-control", action="store_true")
    args = ap.parse_args()
    print(f"{platform.python_version()} on {os.cpu_count()} cores, load {os.getloadavg()}")
    cases = [("this tree, stalled client", SRC, True)]
    if not args.no_control:
        cases.append(("this tree, no SSE client", SRC, False))
    if args.baseline_src:
        cases.append(("baseline, stalled client", args.baseline_src, True))
    print(f"{'case':28} {'steps/s':>8} {'points':>10} {'pushed MB':>9} {'too big':>7} "
          f"{'RSS start':>10} {'at 30 s':>8} {'max':>8} {'end (MB)':>9}")
    for name, src, client in cases:
        r = one(src, args, client)
        print(f"{name:28} {r['rate']:8.0f} {r['points']:10,} {r['pushed']:9.0f} "
              f"{r['reloads']:7} {r['base']:10.0f} {r['at30']:8.0f} {r['max']:8.0f} "
              f"{r['end']:9.0f}", flush=True)


if __name__ == "__main__":
    main()
