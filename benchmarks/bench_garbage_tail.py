"""Reading a logdir where one event file is a good record followed by a 2 GB garbage tail.

The logdir holds two runs: ``good`` (1,000 scalar points) and ``bad`` (one good record, then the
file extended to ``--size`` bytes with ``truncate``: a sparse run of zero bytes, what a crash or
``truncate -s 2G`` leaves; ``--random`` fills it with random bytes instead). Each contender runs
in a fresh process, which reports its peak RSS (``ru_maxrss``) and wall time:

* tbx: ``tbx.read(logdir)`` then ``.scalars`` (C kernel, and the pure-Python fallback), then a
  second ``refresh()`` (the tail must not be read again);
* TensorBoard's ``EventAccumulator`` (``Reload()`` then every scalar), the peer.

Usage: ``python benchmarks/bench_garbage_tail.py [--dir DIR] [--size BYTES] [--random]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, os, resource, sys, time, warnings
warnings.simplefilter("ignore")
logdir, which = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
out = {}
if which.startswith("tbx"):
    from tbx import record
    record.use_speedups(which == "tbx")
    import tbx
    data = tbx.read(logdir)
    df = data.scalars
    out["points"] = len(df)
    out["corruptions"] = [str(c) for c in data.corruptions()]
    out["seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    ch = data.refresh()
    out["refresh_seconds"] = time.perf_counter() - t1
    out["refresh_bytes"] = ch.bytes_read
else:
    from tensorboard.backend.event_processing import event_multiplexer as em
    mux = em.EventMultiplexer(size_guidance={"scalars": 0})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    out["points"] = sum(len(mux.Scalars(r, t)) for r, tags in mux.Runs().items()
                        for t in tags["scalars"])
    out["seconds"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def make_logdir(root: str, size: int, random: bool) -> str:
    logdir = os.path.join(root, f"garbage-{size}-{'random' if random else 'zeros'}")
    bad = os.path.join(logdir, "bad", "events.out.tfevents.1")
    if os.path.exists(bad) and os.path.getsize(bad) == size:
        return logdir
    import tbx

    with tbx.SummaryWriter(os.path.join(logdir, "good")) as w:
        for i in range(1000):
            w.add_scalar("loss", 1.0 / (i + 1), i)
    with tbx.SummaryWriter(os.path.join(logdir, "bad")) as w:
        w.add_scalar("loss", 1.0, 0)
    (written,) = os.listdir(os.path.join(logdir, "bad"))
    os.replace(os.path.join(logdir, "bad", written), bad)
    if random:
        with open(bad, "ab") as f:
            chunk = 64 << 20
            left = size - os.path.getsize(bad)
            while left > 0:
                f.write(os.urandom(min(chunk, left)))
                left -= chunk
    else:
        os.truncate(bad, size)  # sparse: no disk space used
    return logdir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the logdir is made")
    ap.add_argument("--size", type=int, default=2 << 30, help="size of the damaged file")
    ap.add_argument("--random", action="store_true", help="random bytes instead of zeros")
    ap.add_argument("--skip-python", action="store_true", help="skip the pure-Python run")
    args = ap.parse_args()
    logdir = make_logdir(args.dir, args.size, args.random)
    print(f"logdir: {logdir} (bad file {args.size / 2**30:.2f} GiB of "
          f"{'random bytes' if args.random else 'zeros, sparse'} after one record)")
    contenders = ["tbx"] + ([] if args.skip_python else ["tbx-python"]) + ["tensorboard"]
    for which in contenders:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, logdir, which],
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"{which}: failed ({proc.stderr.strip().splitlines()[-1:]})")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        line = (f"{which:12s} read {r['seconds']:6.2f} s  peak RSS {r['peak_rss_mb']:7.1f} MB  "
                f"points {r['points']}  (process {wall:.2f} s)")
        if "refresh_seconds" in r:
            line += f"  second refresh {r['refresh_seconds'] * 1000:.1f} ms, " \
                    f"{r['refresh_bytes']} bytes read"
        print(line)
        for c in r.get("corruptions", []):
            print(f"{'':12s} reported: {c}")


if __name__ == "__main__":
    main()
