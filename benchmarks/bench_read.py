"""Reading 1,000,000 scalar events (10 tags x 100,000 steps) back into a DataFrame.

Contenders, in the same run on the same (page-cached) file:

* tbx: ``tbx.read(logdir).scalars`` (C kernel), and the same with the pure-Python fallback;
* tbx's tbparse-compatible reader: ``tbx.SummaryReader(logdir).scalars`` (tbparse's frame,
  equal to it: per-file pieces, tbparse's sort);
* tbparse: ``tbparse.SummaryReader(logdir).scalars``;
* TensorBoard's ``EventAccumulator`` keeping every point (``size_guidance={SCALARS: 0}``),
  ``Reload()`` then one DataFrame from ``Scalars(tag)`` of every tag;
* TensorBoard's Rust data server (``tensorboard-data-server``), ``--reload once
  --samples-per-plugin scalars=all``: the load time it logs ("Finished load cycle"), and the
  wall time from its start to that line. It keeps the data in memory and builds no DataFrame; by
  default it checksums a record only when parsing fails (tbx checks every CRC);
* the floor: a pure-Python loop that only walks the framing (read the file, unpack each length,
  skip; no CRC, no decoding), and for reference the C kernel's framing scan with both CRCs.

Usage: ``python benchmarks/bench_read.py [--logdir DIR] [--repeat N] [--skip-slow]``. The logdir
is written once with ``tbx.SummaryWriter`` (about 44 MB) and reused. Fast contenders report the
median of ``--repeat`` runs, tbparse and EventAccumulator one run each.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings

N_TAGS = 10
N_STEPS = 100_000


def make_logdir(logdir: str) -> None:
    files = glob.glob(os.path.join(logdir, "run", "events.out.tfevents.*"))
    if files:
        return
    import tbx

    t0 = time.perf_counter()
    w = tbx.SummaryWriter(os.path.join(logdir, "run"))
    for step in range(N_STEPS):
        for k in range(N_TAGS):
            w.add_scalar(f"tag{k}", step * 0.001 + k, step)
    w.close()
    print(f"wrote {N_TAGS * N_STEPS:,} scalar events in {time.perf_counter() - t0:.2f} s",
          file=sys.stderr)


def event_files(logdir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(logdir, "**", "*tfevents*"), recursive=True))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run_tbx_summary_reader(logdir: str):
    import tbx

    return tbx.SummaryReader(logdir).scalars


def run_tbx(logdir: str, kernel: bool):
    from tbx import record
    from tbx.reader.frames import read

    record.use_speedups(kernel)
    try:
        return read(logdir).scalars
    finally:
        record.use_speedups(True)


def run_tbparse(logdir: str):
    from tbparse import SummaryReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SummaryReader(logdir).scalars


def run_event_accumulator(logdir: str):
    import pandas as pd
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(os.path.join(logdir, "run"), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    frames = []
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        frames.append(pd.DataFrame({
            "tag": tag,
            "step": [e.step for e in events],
            "wall_time": [e.wall_time for e in events],
            "value": [e.value for e in events],
        }))
    return pd.concat(frames, ignore_index=True)


def run_floor_python(logdir: str) -> int:
    n = 0
    unpack = struct.Struct("<Q").unpack_from
    for path in event_files(logdir):
        with open(path, "rb") as f:
            buf = f.read()
        pos, size = 0, len(buf)
        while pos + 12 <= size:
            (length,) = unpack(buf, pos)
            pos += length + 16
            n += 1
    return n


def run_floor_kernel(logdir: str) -> int:
    from tbx import record

    kernel = record.speedups()
    n = 0
    for path in event_files(logdir):
        with open(path, "rb") as f:
            buf = f.read()
        if kernel is None:
            n += len(record.scan_records(buf, strict=False).starts)
        else:  # raw offsets and lengths, no Python object per record
            n += len(kernel.scan_records(buf, 0, False)[0]) // 8
    return n


def rust_server_binary() -> str | None:
    try:
        import tensorboard_data_server
    except ImportError:
        return None
    path = tensorboard_data_server.server_binary()
    return path if path and os.path.exists(path) else None


def run_rust(logdir: str, binary: str) -> tuple[float, float]:
    """(load time the server logs, wall time from start to that log line), seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [binary, "--logdir", logdir, "--reload", "once", "--samples-per-plugin",
               "scalars=all", "--port", "0", "--port-file", os.path.join(tmp, "port"), "-v",
               "--die-after-stdin"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for line in proc.stderr:
                m = re.search(r"Finished load cycle \(([\d.]+)(m?s)\)", line)
                if m:
                    wall = time.perf_counter() - t0
                    logged = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
                    return logged, wall
            raise RuntimeError("the data server exited without finishing a load cycle")
        finally:
            proc.stdin.close()
            proc.kill()
            proc.wait()


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logdir", default=os.path.join(tempfile.gettempdir(), "tbx-bench-read"),
                    help="where the 1M-event logdir is written once and reused")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each fast contender")
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip tbparse and EventAccumulator (about 20 s each)")
    args = ap.parse_args()
    make_logdir(args.logdir)
    size = sum(os.path.getsize(p) for p in event_files(args.logdir))
    print(f"machine: {machine()}")
    print(f"logdir: {args.logdir} ({size / 1e6:.1f} MB, {N_TAGS * N_STEPS:,} scalar events)")
    run_floor_python(args.logdir)  # warm the page cache

    results: dict[str, float] = {}
    t, n = timed(lambda: run_floor_python(args.logdir), args.repeat)
    assert n == N_TAGS * N_STEPS + 1, n
    results["floor: pure-Python framing loop (no CRC)"] = t
    t, n = timed(lambda: run_floor_kernel(args.logdir), args.repeat)
    assert n == N_TAGS * N_STEPS + 1, n
    results["read + framing + both CRCs, tbx C kernel"] = t
    t, df = timed(lambda: run_tbx(args.logdir, True), args.repeat)
    assert len(df) == N_TAGS * N_STEPS, len(df)
    results["tbx.read(...).scalars (C kernel)"] = t
    t, df = timed(lambda: run_tbx(args.logdir, False), 1)
    assert len(df) == N_TAGS * N_STEPS
    results["tbx.read(...).scalars (pure Python)"] = t
    t, df = timed(lambda: run_tbx_summary_reader(args.logdir), args.repeat)
    assert len(df) == N_TAGS * N_STEPS
    results["tbx.SummaryReader(...).scalars (tbparse's frame)"] = t
    binary = rust_server_binary()
    if binary:
        runs = [run_rust(args.logdir, binary) for _ in range(args.repeat)]
        results["Rust data server: logged load time"] = statistics.median(r[0] for r in runs)
        results["Rust data server: start to loaded"] = statistics.median(r[1] for r in runs)
    if not args.skip_slow:
        t, df = timed(lambda: run_event_accumulator(args.logdir), 1)
        assert len(df) == N_TAGS * N_STEPS
        results["EventAccumulator -> DataFrame"] = t
        t, df = timed(lambda: run_tbparse(args.logdir), 1)
        assert len(df) == N_TAGS * N_STEPS
        results["tbparse SummaryReader.scalars"] = t

    ours = results["tbx.read(...).scalars (C kernel)"]
    floor = results["floor: pure-Python framing loop (no CRC)"]
    width = max(len(k) for k in results)
    print(f"\n{'contender'.ljust(width)}  seconds   vs tbx")
    for k, v in results.items():
        print(f"{k.ljust(width)}  {v:7.3f}  {v / ours:7.1f}x")
    print(f"\ntbx / floor = {ours / floor:.2f} (goal <= 3)")
    for k in ("tbparse SummaryReader.scalars", "EventAccumulator -> DataFrame",
              "Rust data server: logged load time"):
        if k in results:
            print(f"{k}: tbx is {results[k] / ours:.1f}x faster")
    if "tbparse SummaryReader.scalars" in results:
        mine = results["tbx.SummaryReader(...).scalars (tbparse's frame)"]
        print(f"tbparse SummaryReader.scalars: tbx.SummaryReader is "
              f"{results['tbparse SummaryReader.scalars'] / mine:.1f}x faster")


if __name__ == "__main__":
    main()
