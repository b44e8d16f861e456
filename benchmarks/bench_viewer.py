"""Viewer benchmark: `tbx serve` against `tensorboard --logdir`, same logdir, same run.

Usage: python benchmarks/bench_viewer.py [--runs 10] [--tags 10] [--steps 100000]
       [--logdir DIR] [--skip-tensorboard] [--tb-python] [--baseline-src DIR]

* Generates (once; reused from ``--logdir``, default ``$TMPDIR/tbx_bench_viewer_RxTxS``) a logdir
  of RUNS runs x TAGS scalar tags x STEPS steps (default 10 x 10 x 100,000 = 10M points), one
  event file per run, written with tbx's own Event encoder and record framing.
* tbx: starts ``tbx serve`` (falls back to ``python -m tbx.viewer`` when the ``tbx`` script is
  missing) and polls the scalars plugin's ``/api/plugins/scalars/series?run=run0&tag=tag0&width=0``
  (every point, unsampled; ``/api/scalars`` before the plugin API) until the series is complete
  (``total == STEPS``): that is "time to the full series". Then the server's RSS, and the median
  and p90 time (client side, over HTTP on loopback) of a downsampled request (100,000 points to
  1,000 pixels), and of the same request with smoothing.
* ``--baseline-src DIR``: this tbx and the tbx of another source tree (``DIR`` is its ``src/``,
  e.g. the main branch's) served side by side, started together, the same requests alternated
  (100 rounds, order flipped each round), so a loaded machine slows both alike; prints the
  ratios.
* TensorBoard (its default loader, the Rust data server when installed): polls
  ``/data/plugin/scalars/scalars?run=run0&tag=tag0`` until the series holds its last step
  (default 1,000-point reservoir sample), then again with ``--samples_per_plugin
  scalars=STEPS`` until it holds every point. (``scalars=0``, "keep all", is passed to the Rust
  data server as ``all``, but the scalars plugin then requests ``downsample=0`` and gets empty
  series: ``--tb-zero`` shows it.) ``--tb-python`` adds ``--load_fast=false`` (slow).
* Prints a table; figures go by hand into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(logdir: Path, runs: int, tags: int, steps: int,
             distinct: int | None = None) -> None:
    """One event file per run; every step holds one value of every tag. ``distinct``: only
    the first ``distinct`` runs are generated, run r >= distinct is a copy of run
    r % distinct's file (same records; generating is CPU-bound, copying is not). A run whose
    file exists is kept (an interrupted generation goes on)."""
    import shutil

    import numpy as np

    from tbx.record import frame_records
    from tbx.wire import ScalarEventEncoder

    stamp = logdir / ".complete"
    if stamp.exists():
        return
    t0 = time.time()
    for r in range(runs):
        d = logdir / f"run{r}"
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"events.out.tfevents.1700000000.bench.{r}.0"
        if path.exists():
            continue
        if distinct and r >= distinct:
            src = logdir / f"run{r % distinct}" / f"events.out.tfevents.1700000000.bench." \
                f"{r % distinct}.0"
            shutil.copyfile(src, d / "partial.tmp")
            (d / "partial.tmp").rename(path)
            print(f"  run{r}: a copy of run{r % distinct}", file=sys.stderr)
            continue
        rng = np.random.default_rng(r)
        enc = ScalarEventEncoder()
        names = [f"tag{t}" for t in range(tags)]
        with open(d / "partial.tmp", "wb") as f:  # renamed once complete
            from tbx.proto.event_pb2 import Event

            f.write(frame_records([Event(wall_time=1.7e9, file_version="brain.Event:2")
                                   .SerializeToString()]))
            chunk = 10_000
            for s0 in range(0, steps, chunk):
                n = min(chunk, steps - s0)
                vals = rng.normal(size=(n, tags)).cumsum(axis=0) * 0.01
                payloads = []
                for i in range(n):
                    step = s0 + i
                    wt = 1.7e9 + step * 0.01
                    row = vals[i].tolist()
                    for t in range(tags):
                        payloads.append(enc.encode(names[t], row[t], step, wt))
                f.write(frame_records(payloads))
        (d / "partial.tmp").rename(path)
        print(f"  generated run{r} ({path.stat().st_size / 1e6:.0f} MB)", file=sys.stderr)
    stamp.write_text(f"{runs}x{tags}x{steps}" + (f" ({distinct} distinct)" if distinct else "")
                     + "\n")
    print(f"  logdir generated in {time.time() - t0:.0f} s", file=sys.stderr)


def get(url: str, timeout: float = 60.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, b""


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                             text=True).stdout
        pids += [int(x) for x in out.split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def poll(check, timeout: float) -> float | None:
    """Seconds until ``check()`` is true (polled every 20 ms), or None on timeout."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if check():
            return time.perf_counter() - t0
        time.sleep(0.02)
    return None


def _unpack(body: bytes):
    try:
        from tbx.viewer.plugins.scalars.series import unpack
    except ImportError:  # before the plugin API (a --baseline-src tree)
        from tbx.viewer.series import unpack
    return unpack(body)


QUERIES = (("downsample_1000px", "width=1000"),
           ("downsample_1000px_smoothed", "width=1000&smoothing=0.6"),
           ("full_100k", "width=0"))


class TbxServer:
    """``tbx serve`` of this tbx, or (``src``) of the tbx source tree whose ``src/`` folder is
    ``src`` (on PYTHONPATH), in a child process; started by the constructor."""

    def __init__(self, logdir: Path, src: str | None = None):
        port = free_port()
        env = dict(os.environ)
        exe = shutil.which("tbx")
        if src is not None:
            env["PYTHONPATH"] = src
            cmd = [sys.executable, "-m", "tbx.viewer"]
        else:
            cmd = ([exe, "serve"] if exe and _has_serve(exe)
                   else [sys.executable, "-m", "tbx.viewer"])
        cmd += [str(logdir), "--port", str(port), "--reload-interval", "5"]
        self.base = f"http://127.0.0.1:{port}"
        self.route = None  # the scalars plugin's route; before the plugin API: /api/scalars
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=env)

    def url(self, q: str) -> str:
        return f"{self.route}?{q}"

    def complete(self, steps: int) -> bool:
        """True once run0/tag0 is served with every one of its ``steps`` points."""
        if self.route is None:
            if get(f"{self.base}/api/runs")[0] != 200:
                return False
            self.route = (f"{self.base}/api/scalars"
                          if get(f"{self.base}/api/plugins")[0] == 404
                          else f"{self.base}/api/plugins/scalars/series")
        st, body = get(self.url("run=run0&tag=tag0&width=0"))
        if st != 200:
            return False
        (d, _), = _unpack(body)
        return d["total"] == steps and d["n"] == steps

    def loaded(self) -> bool:
        return bool(json.loads(get(f"{self.base}/api/runs")[1] or b"{}").get("loaded"))

    def error(self) -> str:
        return f"timeout; stderr: {self.proc.stderr.read1(2000) if self.proc.stderr else ''}"

    def stop(self) -> None:
        stop(self.proc)


def _timed_get(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    st, body = get(url)
    dt = time.perf_counter() - t
    assert st == 200, (url, st)
    return dt, len(body)


def _summarise(out: dict, name: str, times: list[float], size: int) -> None:
    out[name + "_ms"] = statistics.median(times) * 1e3
    out[name + "_p90_ms"] = sorted(times)[int(0.9 * len(times))] * 1e3
    out[name + "_min_ms"] = min(times) * 1e3
    out[name + "_bytes"] = size


def bench_tbx(logdir: Path, steps: int, timeout: float) -> dict:
    """Time to the complete series, time to the whole logdir, RSS, and request times (median
    of 50) of one ``tbx serve``."""
    srv = TbxServer(logdir)
    try:
        took = poll(lambda: srv.complete(steps), timeout)
        out = {"full_series_s": took}
        if took is None:
            out["error"] = srv.error()
            return out
        # let the first refresh finish everything, then measure memory and request times
        poll(srv.loaded, timeout)
        out["loaded_s"] = time.perf_counter() - srv.t0
        out["rss_mb"] = rss_mb(srv.proc.pid)
        time.sleep(2)  # the server imports scipy in the background after its first read
        for name, q in QUERIES:
            url = srv.url(f"run=run0&tag=tag1&{q}")
            get(url)
            res = [_timed_get(url) for _ in range(50)]
            _summarise(out, name, [t for t, _ in res], res[-1][1])
        return out
    finally:
        srv.stop()


def bench_pair(logdir: Path, steps: int, timeout: float, src: str, rounds: int = 100) -> dict:
    """This tbx and the tree at ``src`` served side by side, started together and asked the
    same requests in alternation (the order flips every round), so machine load hits both
    alike: ``{"this": {...}, "baseline": {...}}`` with bench_tbx's keys."""
    servers = {"this": TbxServer(logdir), "baseline": TbxServer(logdir, src)}
    out: dict[str, dict] = {k: {} for k in servers}
    try:
        pending = dict(servers)
        t0 = time.perf_counter()
        while pending and time.perf_counter() - t0 < timeout:
            for k, srv in list(pending.items()):
                if srv.complete(steps):
                    out[k]["full_series_s"] = time.perf_counter() - srv.t0
                    del pending[k]
            time.sleep(0.02)
        for k in pending:
            out[k]["error"] = servers[k].error()
        if pending:
            return out
        for k, srv in servers.items():
            poll(srv.loaded, timeout)
            out[k]["loaded_s"] = time.perf_counter() - srv.t0
        for k, srv in servers.items():
            out[k]["rss_mb"] = rss_mb(srv.proc.pid)
        time.sleep(2)
        for name, q in QUERIES:
            times: dict[str, list[float]] = {k: [] for k in servers}
            size = {}
            order = list(servers)
            for k in order:
                get(servers[k].url(f"run=run0&tag=tag1&{q}"))
            for _ in range(rounds):
                order.reverse()
                for k in order:
                    dt, size[k] = _timed_get(servers[k].url(f"run=run0&tag=tag1&{q}"))
                    times[k].append(dt)
            for k in servers:
                _summarise(out[k], name, times[k], size[k])
        for k, srv in servers.items():  # both have imported everything and answered alike
            out[k]["rss_end_mb"] = rss_mb(srv.proc.pid)
        return out
    finally:
        for srv in servers.values():
            srv.stop()


def bench_in_process() -> dict:
    """The server's own work for one 100,000-point series, without HTTP: M4 downsampling to
    1,000 pixels, debiased EMA, and the whole route body (select + downsample + pack)."""
    import numpy as np

    from tbx import seriesmath as M
    from tbx.viewer.plugins.scalars import series as S

    rng = np.random.default_rng(0)
    step = np.arange(100_000, dtype=np.int64)
    value = rng.normal(size=step.size).cumsum()
    wall = 1.7e9 + step * 0.01

    def best(fn, k=30):
        fn()
        ts = []
        for _ in range(k):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e3

    def route():
        idx = M.downsample_indices(step, value, 1000)
        d = {"run": "r", "tag": "t", "n": len(idx), "columns": ["step", "wall_time", "value"]}
        return S.pack([(d, [step[idx], wall[idx], value[idx]])])

    return {"m4_100k_to_1000px_ms": best(lambda: M.downsample_indices(step, value, 1000)),
            "ema_100k_ms": best(lambda: M.ema(value, 0.6)),
            "route_body_100k_to_1000px_ms": best(route)}


def _has_serve(exe: str) -> bool:
    try:
        out = subprocess.run([exe, "serve", "--help"], capture_output=True, text=True, timeout=60)
        return out.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def bench_tensorboard(logdir: Path, steps: int, timeout: float, extra: list[str],
                      want_all: bool) -> dict:
    port = free_port()
    tb = shutil.which("tensorboard")
    cmd = ([tb] if tb else [sys.executable, "-m", "tensorboard.main"])
    cmd += ["--logdir", str(logdir), "--port", str(port), "--host", "127.0.0.1", *extra]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"{base}/data/plugin/scalars/scalars?run=run0&tag=tag0"
    seen = {}

    def ready():
        st, body = get(url)
        if st != 200:
            return False
        pts = json.loads(body)
        seen["n"] = len(pts)
        if not pts or pts[-1][1] != steps - 1:
            return False
        return len(pts) == steps if want_all else True

    try:
        took = poll(ready, timeout)
        out = {"series_s": took, "points": seen.get("n")}
        if took is None:
            out["error"] = "timeout"
            return out
        out["rss_mb"] = rss_mb(proc.pid)
        time.sleep(2)  # the server imports scipy in the background after its first read
        times = []
        for _ in range(10):
            t = time.perf_counter()
            get(url)
            times.append(time.perf_counter() - t)
        out["request_ms"] = statistics.median(times) * 1e3
        return out
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--tags", type=int, default=10)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--logdir", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--skip-tensorboard", action="store_true")
    ap.add_argument("--baseline-src", default=None, metavar="DIR",
                    help="also serve the tbx of another source tree (its src/ folder, e.g. the "
                         "main branch) beside this one, started together, requests alternated; "
                         "prints this/baseline ratios")
    ap.add_argument("--tb-zero", action="store_true",
                    help="also --samples_per_plugin scalars=0 (with the Rust data server the "
                         "scalars plugin then asks for 0 points and gets empty series)")
    ap.add_argument("--tb-python", action="store_true",
                    help="also TensorBoard's Python loader (--load_fast=false): slow")
    a = ap.parse_args()
    logdir = a.logdir or Path(tempfile.gettempdir()) / (
        f"tbx_bench_viewer_{a.runs}x{a.tags}x{a.steps}")
    print(f"logdir {logdir}: {a.runs} runs x {a.tags} tags x {a.steps} steps "
          f"= {a.runs * a.tags * a.steps / 1e6:g}M points", file=sys.stderr)
    generate(logdir, a.runs, a.tags, a.steps)
    size = sum(p.stat().st_size for p in logdir.rglob("events.out.tfevents.*"))
    results = {"points": a.runs * a.tags * a.steps, "logdir_mb": size / 1e6,
               "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
                          f"Python {platform.python_version()}"}
    results["in_process"] = bench_in_process()
    print(json.dumps(results["in_process"]), file=sys.stderr)
    print("tbx serve ...", file=sys.stderr)
    results["tbx"] = bench_tbx(logdir, a.steps, a.timeout)
    print(json.dumps(results["tbx"]), file=sys.stderr)
    if a.baseline_src:
        print(f"tbx serve beside tbx serve from {a.baseline_src} ...", file=sys.stderr)
        results["pair"] = bench_pair(logdir, a.steps, a.timeout, a.baseline_src)
        print(json.dumps(results["pair"]), file=sys.stderr)
    if not a.skip_tensorboard:
        print("tensorboard (default, sampled) ...", file=sys.stderr)
        results["tb_default"] = bench_tensorboard(logdir, a.steps, a.timeout, [], False)
        print(json.dumps(results["tb_default"]), file=sys.stderr)
        print(f"tensorboard --samples_per_plugin scalars={a.steps} ...", file=sys.stderr)
        results["tb_all"] = bench_tensorboard(
            logdir, a.steps, a.timeout, ["--samples_per_plugin", f"scalars={a.steps}"], True)
        print(json.dumps(results["tb_all"]), file=sys.stderr)
        if a.tb_zero:
            print("tensorboard --samples_per_plugin scalars=0 ...", file=sys.stderr)
            results["tb_zero"] = bench_tensorboard(
                logdir, a.steps, a.timeout, ["--samples_per_plugin", "scalars=0"], True)
            print(json.dumps(results["tb_zero"]), file=sys.stderr)
        if a.tb_python:
            print("tensorboard --load_fast=false ...", file=sys.stderr)
            results["tb_python"] = bench_tensorboard(
                logdir, a.steps, a.timeout, ["--load_fast=false"], False)
            print(json.dumps(results["tb_python"]), file=sys.stderr)
    print(json.dumps(results, indent=2))
    t = results["tbx"]
    rows = [("tbx serve: full series (100%) of run0/tag0", t.get("full_series_s"), "s")]
    if "tb_default" in results:
        d, al = results["tb_default"], results["tb_all"]
        rows += [(f"tensorboard: sampled series ({d.get('points')} pts)", d.get("series_s"), "s"),
                 (f"tensorboard scalars={a.steps}: full series", al.get("series_s"), "s")]
    if "tb_python" in results:
        rows.append(("tensorboard --load_fast=false: sampled series",
                     results["tb_python"].get("series_s"), "s"))
    ip = results["in_process"]
    rows += [("tbx in-process: M4 100k -> 1000 px", ip["m4_100k_to_1000px_ms"], "ms"),
             ("tbx in-process: route body (M4 + pack)", ip["route_body_100k_to_1000px_ms"], "ms"),
             ("tbx in-process: EMA of 100k", ip["ema_100k_ms"], "ms")]
    rows += [("tbx: whole logdir loaded", t.get("loaded_s"), "s"),
             ("tbx server RSS", t.get("rss_mb"), "MB"),
             ("tbx: 100k points -> 1000 px (HTTP, median)", t.get("downsample_1000px_ms"), "ms"),
             ("tbx: same, smoothed 0.6", t.get("downsample_1000px_smoothed_ms"), "ms"),
             ("tbx: 100k points unsampled (HTTP, median)", t.get("full_100k_ms"), "ms")]
    if "tb_default" in results:
        rows += [("tensorboard RSS (default)", results["tb_default"].get("rss_mb"), "MB"),
                 (f"tensorboard RSS (scalars={a.steps})", results["tb_all"].get("rss_mb"), "MB")]
    if "pair" in results:
        this, base = results["pair"]["this"], results["pair"]["baseline"]
        print()
        print("| side by side, requests alternated | this | baseline | this / baseline |")
        print("|---|---:|---:|---:|")
        for key in ("full_series_s", "loaded_s", "rss_mb", "rss_end_mb", "downsample_1000px_ms",
                    "downsample_1000px_min_ms", "downsample_1000px_smoothed_ms",
                    "downsample_1000px_smoothed_min_ms", "full_100k_ms", "full_100k_min_ms",
                    "downsample_1000px_bytes", "full_100k_bytes"):
            x, y = this.get(key), base.get(key)
            if x is not None and y is not None:
                print(f"| {key} | {x:,.3g} | {y:,.3g} | {x / y:.2f} |")
    print()
    for name, v, unit in rows:
        print(f"| {name} | {'—' if v is None else f'{v:,.3g}' if v < 100 else f'{v:,.0f}'} "
              f"{unit} |")


if __name__ == "__main__":
    main()
