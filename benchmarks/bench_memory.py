"""Writer memory on a long run: RSS after 1M and 10M add_scalar calls (should stay flat), and
the bytes uploaded to object storage over a 1,000-flush run (should grow linearly).

Usage: python benchmarks/bench_memory.py [--calls 10000000]

RSS is the current resident set (from /proc/self/statm), measured after a flush() so that
nothing is pending. The upload figure uses fsspec's in-memory filesystem (memory://), counting
the bytes written to it; tests/test_object_storage.py checks the same against a real S3 server.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def long_run(calls: int) -> None:
    import tbx

    marks = {1_000_000, calls}
    with tempfile.TemporaryDirectory() as tmp:
        w = tbx.SummaryWriter(tmp)
        add = w.add_scalar
        t0 = time.perf_counter()
        print(f"start: RSS {rss_mb():.1f} MB")
        for i in range(1, calls + 1):
            add("loss", i * 1e-6, i)
            if i in marks:
                w.flush()
                size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
                print(f"after {i:>11,} scalars: RSS {rss_mb():.1f} MB, file {size / 2**20:.0f} MB, "
                      f"{i / (time.perf_counter() - t0):,.0f} calls/s")
        w.close()


def upload_run(flushes: int = 1000) -> None:
    import fsspec

    import tbx
    from tbx.event_sinks import file_version_event
    from tbx.record import frame_record

    header = len(frame_record(file_version_event(time.time())))
    fs = fsspec.filesystem("memory")
    w = tbx.SummaryWriter("memory://bench-upload/run", flush_secs=3600)
    for i in range(1, flushes + 1):
        w.add_scalar("loss", float(i), i)
        w.flush()
        if i in (10, 100, 1000):
            total = sum(fs.du("/bench-upload/run", total=False).values())
            event = total / i - header  # one framed scalar event
            whole = sum(header + k * event for k in range(1, i + 1))
            print(f"after {i:>5} flushes: {total:,} bytes uploaded ({total / i:.0f} per flush); "
                  f"re-uploading the whole file on each flush (tensorboardX) sends {whole:,.0f}")
    w.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    args = parser.parse_args()
    long_run(args.calls)
    upload_run()


if __name__ == "__main__":
    main()
