"""Scale benchmark (issue 16, reader side): many runs, many points, object storage; ``tbx serve``
beside TensorBoard (its default loader: the Rust data server) on the same logdirs.

Usage::

    python benchmarks/bench_scale.py runs --runs 1000 10000 [--baseline-src DIR]
    python benchmarks/bench_scale.py points --logdir DIR --runs 10 --tags 10 --steps 100000
    python benchmarks/bench_scale.py s3 --objects 10000 [--baseline-src DIR]
    python benchmarks/bench_scale.py read --logdir DIR [--tags tag3] [--baseline-src DIR]
    python benchmarks/bench_scale.py read --logdir DIR --mixed 2000 --tags loss

* ``runs``: a logdir of N runs (one event file each, 100 points of ``loss``; every file read
  once before each contender, so each meets a warm page cache). Time from the
  server's start until ``/api/runs`` (tbx) or ``/data/runs`` (TensorBoard) lists all N runs,
  RSS of the server (with its child processes) once loaded, and idle CPU: CPU seconds of the
  process tree over ``--idle`` seconds after loading, as % of one core.
* ``points``: the logdir of ``bench_viewer.py``'s generator (R runs x T tags x S steps, one
  event file per run). tbx: time until run0/tag0 is served complete (``width=0``: every point),
  time until the first refresh ended (``loaded``), then every tag of every run opened in turn
  (unsampled; ``--open sample``: every tag of the first 10 runs, then one tag of each other
  run), and the server's peak RSS (VmHWM) over all of it, and its largest RSS seen between
  two series. ``--skip-tensorboard``: tbx only. TensorBoard: time until its
  run0/tag0 sample holds the last step, time until every run's last tag does (whole logdir),
  peak RSS (python + data server).
* ``s3``: N run objects on a moto S3 server (127.0.0.1, its own process, counting the HTTP
  requests it answers; ``--latency-ms`` adds a round trip to each request, as a remote store
  has). Time for a first ``LogdirProvider.refresh()`` to read them all (this tree, and
  ``--baseline-src``'s; with obstore installed, this tree also with ``TBX_S3_ENGINE=s3fs``;
  ``--repeat`` times each, alternating), requests, the CPU seconds of
  the reading process and of the moto server (``/proc/<pid>/stat``) over each; then an idle
  provider (``watch=True``) refreshed every second for ``--idle`` seconds: listings made.
  ``--wait-load`` waits (``--wait-max`` seconds at most) for a quieter machine first.

* ``read``: ``tbx.read(logdir).scalars`` in a fresh process: peak RSS over the RSS after
  imports, against the DataFrame's ``memory_usage(deep=True)``, and the bytes the read took
  from files (``rchar`` of ``/proc/self/io``) against the logdir's size. ``--mixed S`` first
  writes (when DIR does not exist) one run of S steps, each a ``loss`` scalar, a 128x128 RGB
  noise image (a PNG of ~49 KB) and a histogram of 1,000 values (~1 KB): long records of other
  tags between the scalars.

The load average is printed beside each figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_viewer import _unpack, free_port, generate, get, poll, stop  # noqa: E402

SRC = str(Path(__file__).resolve().parent.parent / "src")


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def tree(pid: int) -> list[int]:
    out = [pid]
    try:
        kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                              text=True).stdout.split()
        for k in kids:
            out += tree(int(k))
    except OSError:
        pass
    return out


def status_mb(pid: int, field: str) -> float:
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    tck = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tck
        except OSError:
            pass
    return total


def idle_cpu(pid: int, seconds: float) -> float:
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


def start_tbx(logdir, src: str = SRC, extra=()) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=src)
    # byte-compile and cache the imports first: a fresh checkout's first start is not timed
    subprocess.run([sys.executable, "-c", "import tbx.cli, tbx.viewer.app, tbx.reader.frames"],
                   env=env, check=False)
    proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", str(logdir), "--port",
                             str(port), *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    return proc, f"http://127.0.0.1:{port}"


def start_tb(logdir, extra=(), env=None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
                             "--port", str(port), "--host", "127.0.0.1", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env or dict(os.environ))
    return proc, f"http://127.0.0.1:{port}"


def jget(url: str):
    st, body = get(url, timeout=120)
    return json.loads(body) if st == 200 else None


# ---------------------------------------------------------------------------------- runs
def runs_logdir(n: int) -> Path:
    from tbx.proto.event_pb2 import Event
    from tbx.record import frame_records
    from tbx.wire import ScalarEventEncoder

    root = Path(tempfile.gettempdir()) / f"tbx_bench_scale_runs_{n}"
    if (root / ".complete").exists():
        return root
    enc = ScalarEventEncoder()
    head = frame_records([Event(wall_time=1.7e9, file_version="brain.Event:2")
                          .SerializeToString()])
    for r in range(n):
        d = root / f"run{r:05d}"
        d.mkdir(parents=True, exist_ok=True)
        body = frame_records([enc.encode("loss", 1.0 / (i + 1) + r, i, 1.7e9 + i)
                              for i in range(100)])
        (d / "events.out.tfevents.1700000000.bench.1.0").write_bytes(head + body)
    (root / ".complete").write_text(str(n))
    return root


def bench_runs(n: int, idle: float, timeout: float, baseline: str | None,
               tensorboard: bool = True) -> dict:
    logdir = runs_logdir(n)
    out = {}
    contenders = [("tbx", lambda: start_tbx(logdir), "/api/runs")]
    if baseline:
        contenders.append(("tbx (baseline)", lambda: start_tbx(logdir, baseline), "/api/runs"))
    if tensorboard:
        contenders.append(("tensorboard", lambda: start_tb(logdir), "/data/runs"))
    for name, start, route in contenders:
        for f in logdir.rglob("events.out.tfevents.*"):  # same page cache for each contender
            f.read_bytes()
        proc, base = start()
        t0 = time.perf_counter()
        try:
            def listed(base=base, route=route):
                body = jget(base + route)
                if body is None:
                    return False
                runs = body["runs"] if isinstance(body, dict) else body
                return len(runs) == n

            took = poll(listed, timeout)
            r = {"time_to_list_s": took, "load_at_list": load()}
            if took is not None:
                if name.startswith("tbx"):
                    poll(lambda b=base: bool((jget(b + "/api/runs") or {}).get("loaded")),
                         timeout)
                time.sleep(5)  # the first refresh, then warm-up imports, are over
                r["rss_mb"] = status_mb(proc.pid, "VmRSS")
                t = time.perf_counter()
                get(base + route, timeout=120)
                r["list_request_s"] = time.perf_counter() - t
                r["idle_cpu_pct"] = idle_cpu(proc.pid, idle)
                r["load_at_idle"] = load()
            out[name] = r
            print(name, n, json.dumps(r), file=sys.stderr, flush=True)
        finally:
            stop(proc)
        del t0
    return out


# ---------------------------------------------------------------------------------- points
def opened(runs: int, tags: int, open_all: bool) -> list[tuple[str, str]]:
    """The series the ``points`` benchmark opens in turn: every tag of every run, or (not
    ``open_all``) every tag of the first 10 runs, then one tag of each other run (run r:
    tag r % tags); none when ``open_all`` is None."""
    if open_all is None:
        return []
    if open_all:
        return [(f"run{r}", f"tag{t}") for r in range(runs) for t in range(tags)]
    return ([(f"run{r}", f"tag{t}") for r in range(min(runs, 10)) for t in range(tags)]
            + [(f"run{r}", f"tag{r % tags}") for r in range(10, runs)])


def bench_points(logdir: Path, runs: int, tags: int, steps: int, timeout: float,
                 budget: str, tensorboard: bool = True, open_all: bool = True,
                 distinct: int | None = None) -> dict:
    generate(logdir, runs, tags, steps, distinct)
    out = {}
    proc, base = start_tbx(logdir, extra=["--memory-budget", budget])
    t0 = time.perf_counter()
    route = base + "/api/plugins/scalars/series"

    def complete(run, tag):
        st, body = get(f"{route}?run={run}&tag={tag}&width=0", timeout=300)
        if st != 200:
            return False
        (d, _), = _unpack(body)
        return d["total"] == steps and d["n"] == steps

    try:
        r = {"first_complete_series_s": poll(lambda: complete("run0", "tag0"), timeout),
             "load_at_first": load()}
        print("  tbx", json.dumps(r), file=sys.stderr, flush=True)
        poll(lambda: bool((jget(base + "/api/runs") or {}).get("loaded")), timeout)
        r["whole_logdir_s"] = time.perf_counter() - t0
        r["rss_loaded_mb"] = status_mb(proc.pid, "VmRSS")
        r["peak_rss_loaded_mb"] = status_mb(proc.pid, "VmHWM")
        r["load_at_loaded"] = load()
        print("  tbx", json.dumps(r), file=sys.stderr, flush=True)
        todo = opened(runs, tags, open_all)
        r["series_opened"] = len(todo)
        peak, t = 0.0, time.perf_counter()
        for i, (run, tag) in enumerate(todo):
            assert complete(run, tag), (run, tag)
            peak = max(peak, status_mb(proc.pid, "VmRSS"))
            if i % 100 == 99:
                print(f"  {i + 1} series opened, {time.perf_counter() - t:.0f} s, RSS "
                      f"{status_mb(proc.pid, 'VmRSS'):.0f} MB, peak "
                      f"{status_mb(proc.pid, 'VmHWM'):.0f} MB, {load()}", file=sys.stderr,
                      flush=True)
        r["series_opened_s"] = time.perf_counter() - t
        r["max_rss_between_series_mb"] = peak
        r["rss_end_mb"] = status_mb(proc.pid, "VmRSS")
        r["peak_rss_mb"] = status_mb(proc.pid, "VmHWM")
        r["load_at_end"] = load()
        out["tbx"] = r
        print("tbx", json.dumps(r), file=sys.stderr, flush=True)
    finally:
        stop(proc)
    if not tensorboard:
        return out
    proc, base = start_tb(logdir)
    t0 = time.perf_counter()

    def sampled(run, tag):
        pts = jget(f"{base}/data/plugin/scalars/scalars?run={run}&tag={tag}")
        return bool(pts) and pts[-1][1] == steps - 1

    try:
        r = {"first_series_sample_s": poll(lambda: sampled("run0", "tag0"), timeout),
             "load_at_first": load()}
        r["whole_logdir_s"] = poll(lambda: all(sampled(f"run{i}", f"tag{tags - 1}")
                                               for i in range(runs)), timeout)
        if r["whole_logdir_s"] is not None:
            r["whole_logdir_s"] = time.perf_counter() - t0
        r["peak_rss_mb"] = status_mb(proc.pid, "VmHWM")
        r["rss_end_mb"] = status_mb(proc.pid, "VmRSS")
        r["load_at_end"] = load()
        out["tensorboard"] = r
        print("tensorboard", json.dumps(r), file=sys.stderr, flush=True)
    finally:
        stop(proc)
    return out


# ---------------------------------------------------------------------------------- s3
MOTO = textwrap.dedent("""
    import json, sys, threading, time
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    counts = {"requests": 0, "list": 0, "get": 0, "put": 0, "other": 0}
    lock = threading.Lock()
    app = DomainDispatcherApplication(create_backend_app)
    def counting(environ, start_response):
        if environ.get("PATH_INFO") == "/__count":
            start_response("200 OK", [("Content-Type", "application/json")])
            with lock:
                return [json.dumps(counts).encode()]
        q, m = environ.get("QUERY_STRING", ""), environ["REQUEST_METHOD"]
        kind = ("list" if m == "GET" and ("list-type" in q or "prefix" in q) else
                "get" if m in ("GET", "HEAD") else "put" if m == "PUT" else "other")
        with lock:
            counts["requests"] += 1
            counts[kind] += 1
        if latency:
            time.sleep(latency)  # a round trip to a remote store
        return app(environ, start_response)
    latency = float(sys.argv[2]) / 1000
    srv = make_server("127.0.0.1", int(sys.argv[1]), counting, threaded=True)
    print("ready", flush=True)
    srv.serve_forever()
""")

S3_READ = textwrap.dedent("""
    import json, logging, sys, time
    from tbx.reader import LogdirProvider
    url, idle = sys.argv[1], float(sys.argv[2])
    t = time.perf_counter()
    p = LogdirProvider(url, watch=True) if idle > 0 else LogdirProvider(url)
    p.refresh()
    took = time.perf_counter() - t
    out = {"time_to_data_s": took, "runs": len(p.runs()),
           "points": sum(i.count for r in p.runs() for _, _, i in p.series(r)),
           "tbx_counters": dict(getattr(p._reader._fs, "requests", {}))}
    print(json.dumps(out), flush=True)
    if idle > 0:
        end = time.monotonic() + idle
        while time.monotonic() < end:
            p.refresh()
            time.sleep(1.0)
        print(json.dumps({"idle_counters": dict(p._reader._fs.requests)}), flush=True)
""")


def wait_for_load(below: float, most: float) -> None:
    """Wait (at most ``most`` seconds) until the 1-minute load average is below ``below``."""
    end = time.monotonic() + most
    while below > 0 and os.getloadavg()[0] >= below and time.monotonic() < end:
        time.sleep(10)
    print(f"timing at {load()}", file=sys.stderr, flush=True)


def bench_s3(objects: int, idle: float, baseline: str | None, tb_timeout: float,
             latency_ms: float = 0.0, repeat: int = 1, wait_load: float = 0.0,
             wait_max: float = 1200.0) -> dict:
    import fsspec

    port = free_port()
    moto = subprocess.Popen([sys.executable, "-c", MOTO, str(port), str(latency_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", FSSPEC_S3_ENDPOINT_URL=endpoint,
               AWS_ENDPOINT_URL=endpoint, S3_ENDPOINT=endpoint, S3_USE_HTTPS="0",
               S3_VERIFY_SSL="0")
    out = {}
    try:
        moto.stdout.readline()

        def count():
            return jget(endpoint + "/__count")

        from tbx.proto.event_pb2 import Event
        from tbx.record import frame_records
        from tbx.wire import ScalarEventEncoder

        os.environ.update({k: v for k, v in env.items() if k.startswith(("AWS_", "FSSPEC_"))})
        fs = fsspec.filesystem("s3", endpoint_url=endpoint, skip_instance_cache=True)
        fs.mkdir("bench")
        enc = ScalarEventEncoder()
        head = frame_records([Event(wall_time=1.7e9, file_version="brain.Event:2")
                              .SerializeToString()])
        data = {f"bench/logs/run{r:05d}/events.out.tfevents.1700000000.bench.1.0":
                head + frame_records([enc.encode("loss", 1.0 + r, i, 1.7e9 + i)
                                      for i in range(10)]) for r in range(objects)}
        t = time.perf_counter()
        fs.pipe(data)  # concurrent uploads
        print(f"uploaded {objects} objects in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        url = "s3://bench/logs"
        trees = [("tbx", SRC, {})] + ([("tbx (baseline)", baseline, {})] if baseline else [])
        if importlib.util.find_spec("obstore") is not None:  # tbx's GETs through obstore or s3fs
            trees.insert(1, ("tbx (TBX_S3_ENGINE=s3fs)", SRC, {"TBX_S3_ENGINE": "s3fs"}))
        wait_for_load(wait_load, wait_max)
        for i in range(repeat):
            for name, src, extra in trees if i % 2 == 0 else trees[::-1]:
                before, moto_cpu = count(), cpu_seconds(moto.pid)
                kids = resource.getrusage(resource.RUSAGE_CHILDREN)
                load0 = os.getloadavg()[0]
                proc = subprocess.run([sys.executable, "-c", S3_READ, url, "0"],
                                      capture_output=True, text=True,
                                      env=dict(env, PYTHONPATH=src, **extra), timeout=3600)
                r = json.loads(proc.stdout.splitlines()[0]) if proc.returncode == 0 else {
                    "error": proc.stderr[-2000:]}
                after, moto_cpu = count(), cpu_seconds(moto.pid) - moto_cpu
                kids2 = resource.getrusage(resource.RUSAGE_CHILDREN)
                r["server_requests"] = {k: after[k] - before[k] for k in after}
                r["client_cpu_s"] = (kids2.ru_utime - kids.ru_utime
                                     + kids2.ru_stime - kids.ru_stime)
                r["moto_cpu_s"] = moto_cpu
                r["moto_cpu_ms_per_request"] = 1000 * moto_cpu / max(
                    r["server_requests"]["requests"], 1)
                r["load"] = f"load {load0:.1f}-{os.getloadavg()[0]:.1f}"
                out.setdefault(name, []).append(r)
                print(name, json.dumps(r), file=sys.stderr, flush=True)
        if idle > 0:
            before = count()
            proc = subprocess.run([sys.executable, "-c", S3_READ, url, str(idle)],
                                  capture_output=True, text=True,
                                  env=dict(env, PYTHONPATH=SRC), timeout=3600 + idle)
            lines = [json.loads(x) for x in proc.stdout.splitlines()]
            after = count()
            out["tbx idle"] = {"seconds": idle, "server_requests_total":
                               {k: after[k] - before[k] for k in after}, "first": lines[0],
                               "idle_counters": lines[-1], "load": load()}
            print("idle", json.dumps(out["tbx idle"]), file=sys.stderr, flush=True)
        if tb_timeout <= 0:
            return out
        before = count()
        tb, base = start_tb(url, env=env)
        t0 = time.perf_counter()
        try:
            took = poll(lambda: len(jget(base + "/data/runs") or []) == objects, tb_timeout)
            after = count()
            out["tensorboard"] = {"time_to_list_s": took, "load": load(),
                                  "server_requests": {k: after[k] - before[k] for k in after}}
            out["tensorboard"]["runs_listed"] = len(jget(base + "/data/runs") or [])
            out["tensorboard"]["seconds_waited"] = time.perf_counter() - t0
            print("tensorboard", json.dumps(out["tensorboard"]), file=sys.stderr, flush=True)
        finally:
            stop(tb)
    finally:
        stop(moto)
    return out


# ---------------------------------------------------------------------------------- read
READ_PEAK = textwrap.dedent("""
    import gc, json, resource, sys, time
    import pandas, tbx, tbx.proto.event_pb2, tbx.proto.summary_pb2
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    def rchar():
        with open("/proc/self/io") as f:
            return int(next(x for x in f if x.startswith("rchar")).split()[1])
    gc.collect()
    base = rss()
    t, r = time.perf_counter(), rchar()
    lg = tbx.read(sys.argv[1], **({"tags": sys.argv[2].split(",")} if sys.argv[2] else {}))
    df = lg.scalars
    took, r = time.perf_counter() - t, rchar() - r
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    frame = int(df.memory_usage(deep=True).sum())
    import os
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(sys.argv[1])
               for f in fs)
    print(json.dumps({"points": len(df), "seconds": took, "frame_mb": frame / 2**20,
                      "peak_over_base_mb": (peak - base) / 2**20,
                      "ratio": (peak - base) / frame, "read_mb": r / 2**20,
                      "logdir_mb": size / 2**20}))
""")


def write_mixed(logdir: Path, steps: int) -> None:
    """One run of ``steps`` steps: ``loss``, a 128x128 noise image, a histogram each."""
    import numpy as np

    sys.path.insert(0, SRC)
    import tbx

    rng = np.random.default_rng(0)
    with tbx.SummaryWriter(str(logdir / "run0")) as w:
        for i in range(steps):
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.add_image("image", rng.integers(0, 256, (3, 128, 128), dtype=np.uint8), i)
            w.add_histogram("weights", rng.normal(size=1000), i)


def bench_read(logdir: Path, tags: str, baseline: str | None) -> dict:
    out = {}
    for name, src in [("tbx", SRC)] + ([("tbx (baseline)", baseline)] if baseline else []):
        proc = subprocess.run([sys.executable, "-c", READ_PEAK, str(logdir), tags],
                              capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=src))
        r = json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr[-2000:]}
        r["load"] = load()
        out[name] = r
        print(name, json.dumps(r), file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("runs")
    a.add_argument("--runs", type=int, nargs="+", default=[1000, 10000])
    a.add_argument("--idle", type=float, default=30.0)
    a.add_argument("--timeout", type=float, default=1200.0)
    a.add_argument("--baseline-src", default=None)
    a.add_argument("--skip-tensorboard", action="store_true")
    b = sub.add_parser("points")
    b.add_argument("--logdir", type=Path, required=True)
    b.add_argument("--runs", type=int, default=10)
    b.add_argument("--tags", type=int, default=10)
    b.add_argument("--steps", type=int, default=100_000)
    b.add_argument("--budget", default="1G")
    b.add_argument("--timeout", type=float, default=3600.0)
    b.add_argument("--skip-tensorboard", action="store_true")
    b.add_argument("--open", choices=("all", "sample", "none"), default="all",
                   help="series opened in turn after loading: every tag of every run, or "
                        "every tag of the first 10 runs and one tag of each other run")
    b.add_argument("--distinct-runs", type=int, default=None,
                   help="generate only this many runs; the others are copies of their files")
    c = sub.add_parser("s3")
    c.add_argument("--objects", type=int, default=10000)
    c.add_argument("--idle", type=float, default=120.0)
    c.add_argument("--baseline-src", default=None)
    c.add_argument("--tb-timeout", type=float, default=600.0, help="0: no TensorBoard")
    c.add_argument("--latency-ms", type=float, default=0.0,
                   help="delay the moto server adds to each request (a remote store's round "
                        "trip; requests overlap)")
    c.add_argument("--repeat", type=int, default=1,
                   help="time each tree this many times, in alternating order")
    c.add_argument("--wait-load", type=float, default=0.0,
                   help="before timing, wait until the load average is below this")
    c.add_argument("--wait-max", type=float, default=1200.0,
                   help="... but at most this many seconds")
    d = sub.add_parser("read")
    d.add_argument("--logdir", type=Path, required=True)
    d.add_argument("--tags", default="", help="comma-separated tag names (default: all)")
    d.add_argument("--baseline-src", default=None)
    d.add_argument("--mixed", type=int, default=0,
                   help="write this many steps of loss/image/histogram first (if DIR is new)")
    args = ap.parse_args()
    if args.what == "runs":
        res = {n: bench_runs(n, args.idle, args.timeout, args.baseline_src,
                             not args.skip_tensorboard) for n in args.runs}
    elif args.what == "points":
        res = bench_points(args.logdir, args.runs, args.tags, args.steps, args.timeout,
                           args.budget, not args.skip_tensorboard,
                           {"all": True, "sample": False}.get(args.open),
                           args.distinct_runs)
    elif args.what == "read":
        if args.mixed and not args.logdir.exists():
            write_mixed(args.logdir, args.mixed)
        res = bench_read(args.logdir, args.tags, args.baseline_src)
    else:
        res = bench_s3(args.objects, args.idle, args.baseline_src, args.tb_timeout,
                       args.latency_ms, args.repeat, args.wait_load, args.wait_max)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
