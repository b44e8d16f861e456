"""Writer cost per call inside a worker process: tbx beside tensorboardX, in the same run.

Usage: python benchmarks/bench_worker.py [--calls N] [--repeat R] [--method spawn|fork|forkserver]

In a worker process tbx writes synchronously (each ``add_scalar`` frames its record and writes it
to the event file before returning; see ``tbx.event_file``), so that nothing a worker logged is
lost when the pool terminates it. This measures what that costs. Each case runs in a fresh
interpreter that starts one ``multiprocessing`` worker (``--method``, default spawn) and times,
inside the worker, ``N`` ``add_scalar`` calls (default 100,000) on one tag, each timed with
``perf_counter_ns`` (~0.1 us of timer included), then ``close()``:

* ``tbx (worker, copy)``: a tbx writer created in the parent and passed to the worker (pickled);
* ``tbx (worker, own)``: a tbx writer created in the worker;
* ``tensorboardX (worker, own)``: a tensorboardX writer created in the worker (it cannot be
  pickled); it buffers, so what it logged after its last flush is lost if the worker is killed;
* ``tbx (parent)``: a tbx writer in the process that runs the script: the buffered fast path,
  as reference.

Each case runs ``--repeat`` times (default 3); the least disturbed run (lowest median) is kept.
Prints median and p99 latency, calls/s up to ``close()`` returning, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

CHILD = r"""
import json, multiprocessing as mp, os, sys, time

def run(lib, writer, logdir, calls):
    import numpy as np
    if writer is None:
        if lib == "tbx":
            from tbx import SummaryWriter
        else:
            from tensorboardX import SummaryWriter
        writer = SummaryWriter(logdir)
    add = writer.add_scalar
    ns = time.perf_counter_ns
    lat = np.empty(calls, dtype=np.int64)
    t0 = time.perf_counter()
    for i in range(calls):
        a = ns()
        add("loss", i * 0.001, i)
        lat[i] = ns() - a
    writer.close()
    elapsed = time.perf_counter() - t0
    return {
        "median_us": float(np.median(lat)) / 1000,
        "p99_us": float(np.percentile(lat, 99)) / 1000,
        "calls_per_s": calls / elapsed,
    }

if __name__ == "__main__":
    case, calls, logdir, method = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if case == "tbx_parent":
        out = run("tbx", None, logdir, calls)
    else:
        writer = None
        if case == "tbx_copy":
            from tbx import SummaryWriter
            writer = SummaryWriter(logdir)
        lib = "tensorboardX" if case == "tensorboardX_own" else "tbx"
        with mp.get_context(method).Pool(1) as pool:
            out = pool.apply(run, (lib, writer, logdir + "_w", calls))
        if writer is not None:
            writer.close()
    print(json.dumps(out))
"""

CASES = {
    "tbx_copy": "tbx (worker, copy)",
    "tbx_own": "tbx (worker, own)",
    "tensorboardX_own": "tensorboardX (worker, own)",
    "tbx_parent": "tbx (parent)",
}


def run_case(case: str, calls: int, method: str) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "child.py")
        with open(script, "w") as f:
            f.write(CHILD)
        proc = subprocess.run(
            [sys.executable, script, case, str(calls), os.path.join(tmp, "run"), method],
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {case}: failed: {last}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--method", default="spawn", choices=["spawn", "fork", "forkserver"])
    args = parser.parse_args()
    print(f"machine: {machine()}; load average: {os.getloadavg()[0]:.1f}")
    print(f"{args.calls:,} add_scalar calls on one tag, worker started by {args.method!r}\n")
    results = {}
    for case in CASES:
        runs = [run_case(case, args.calls, args.method) for _ in range(args.repeat)]
        ok = [r for r in runs if r is not None]
        results[case] = min(ok, key=lambda r: r["median_us"]) if ok else None
    print(f"{'case':28s} {'median us':>10s} {'p99 us':>8s} {'calls/s':>10s}")
    for case, label in CASES.items():
        r = results[case]
        if r is None:
            print(f"{label:28s} {'failed':>10s}")
            continue
        print(f"{label:28s} {r['median_us']:10.2f} {r['p99_us']:8.2f} {r['calls_per_s']:10,.0f}")
    tx, copy, own, parent = (results[c] for c in ("tensorboardX_own", "tbx_copy", "tbx_own",
                                                   "tbx_parent"))
    if tx and copy and own:
        print(f"\nin a worker, tensorboardX median / tbx median: copy "
              f"{tx['median_us'] / copy['median_us']:.1f}x, own "
              f"{tx['median_us'] / own['median_us']:.1f}x (higher: tbx cheaper)")
    if parent and copy:
        print(f"tbx worker (copy) median / tbx parent median: "
              f"{copy['median_us'] / parent['median_us']:.1f}x (the price of writing each call)")


if __name__ == "__main__":
    main()
