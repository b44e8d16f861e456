"""Live-update latency: from ``writer.flush()`` to the point in the page's chart data.

Usage: python benchmarks/bench_live.py [--samples 20] [--reload-interval S ...] [--skip-tensorboard]

* A logdir with one run (``run0``, tag ``loss``, 100 points) written by ``tbx.SummaryWriter``
  (``flush_secs`` one hour, so only the explicit ``flush()`` writes).
* tbx: ``tbx serve LOGDIR`` (``python -m tbx.viewer`` when the script is missing), once per
  ``--reload-interval`` (default: the server's default 1 s, and 0.2 s); headless Chromium (Debian's
  ``/usr/bin/chromium`` through Playwright) opens the scalars dashboard and waits for the chart.
  Then, per sample: ``add_scalar`` of a new step, the clock starts, ``flush()``, and the clock
  stops when the chart object's own series (``window.__tbx.charts()``, what it draws and what
  the legend reads) holds that step (the page is polled every 5 ms). Between samples a random
  pause of up to one reload interval, so samples do not lock onto the server's refresh phase.
* TensorBoard (its default loader and ``--reload_interval``): the same flushes, clock stopped
  when ``/data/plugin/scalars/scalars`` returns the step (polled every 10 ms over HTTP): a lower
  bound for its page, which polls the server on its own timer (30 s by default).
* Prints median, p90, min and max per server and the ratio of medians; figures go by hand into
  benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_viewer import free_port, get, poll, stop  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HAS_STEP = """step => { const c = [...window.__tbx.charts().values()]
                 .find(c => c.spec && c.spec.title === 'loss');
               const s = c && c.series.get('run0\\u0000loss');
               return !!s && s.step[s.step.length - 1] === step; }"""


def _summary(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"median_ms": statistics.median(xs) * 1e3, "p90_ms": xs[int(0.9 * (len(xs) - 1))] * 1e3,
            "min_ms": xs[0] * 1e3, "max_ms": xs[-1] * 1e3, "n": len(xs)}


def bench_tbx(logdir: Path, writer, step0: int, samples: int, interval: float | None) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    exe = shutil.which("tbx")
    cmd = [exe, "serve"] if exe else [sys.executable, "-m", "tbx.viewer"]
    cmd += [str(logdir), "--port", str(port)]
    if interval is not None:
        cmd += ["--reload-interval", str(interval)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        if poll(lambda: get(base + "api/runs")[0] == 200, 60) is None:
            return {"error": "server did not start"}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(base + "#scalars")
            page.wait_for_function(HAS_STEP, arg=step0 - 1, timeout=60_000)
            page.wait_for_function("() => document.body.dataset.live === 'true'", timeout=60_000)
            lat = []
            for i in range(samples):
                time.sleep(random.uniform(0, interval or 1.0))
                step = step0 + i
                writer.add_scalar("loss", 1.0 / (step + 1), step)
                t0 = time.perf_counter()
                writer.flush()
                page.wait_for_function(HAS_STEP, arg=step, polling=5, timeout=60_000)
                lat.append(time.perf_counter() - t0)
            browser.close()
        return _summary(lat)
    finally:
        stop(proc)


def bench_tensorboard(logdir: Path, writer, step0: int, samples: int) -> dict:
    port = free_port()
    tb = shutil.which("tensorboard")
    cmd = [tb] if tb else [sys.executable, "-m", "tensorboard.main"]
    cmd += ["--logdir", str(logdir), "--port", str(port), "--host", "127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?run=run0&tag=loss"

    def last_step():
        st, body = get(url)
        if st != 200:
            return None
        pts = json.loads(body)
        return pts[-1][1] if pts else None

    try:
        if poll(lambda: last_step() == step0 - 1, 120) is None:
            return {"error": "tensorboard did not serve the series"}
        lat = []
        for i in range(samples):
            time.sleep(random.uniform(0, 5.0))
            step = step0 + i
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            t0 = time.perf_counter()
            writer.flush()
            while last_step() != step:
                if time.perf_counter() - t0 > 120:
                    return {"error": f"step {step} not served within 120 s"}
                time.sleep(0.01)
            lat.append(time.perf_counter() - t0)
        return _summary(lat)
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--reload-interval", type=float, nargs="*", default=[None, 0.2],
                    help="tbx serve's --reload-interval values to measure (default: the "
                         "server's default, then 0.2)")
    ap.add_argument("--skip-tensorboard", action="store_true")
    a = ap.parse_args()

    import tbx

    logdir = Path(tempfile.mkdtemp(prefix="tbx_bench_live_"))
    writer = tbx.SummaryWriter(str(logdir / "run0"), flush_secs=3600)
    for i in range(100):
        writer.add_scalar("loss", 1.0 / (i + 1), i)
    writer.flush()
    step = 100
    results = {}
    try:
        for interval in a.reload_interval:
            name = f"tbx serve (--reload-interval {interval if interval else 'default'})"
            print(f"{name} ...", file=sys.stderr)
            results[name] = bench_tbx(logdir, writer, step, a.samples, interval)
            step += a.samples
            print(json.dumps(results[name]), file=sys.stderr)
        if not a.skip_tensorboard:
            print("tensorboard (defaults) ...", file=sys.stderr)
            results["tensorboard (defaults), HTTP route"] = bench_tensorboard(
                logdir, writer, step, a.samples)
            print(json.dumps(results["tensorboard (defaults), HTTP route"]), file=sys.stderr)
    finally:
        writer.close()
        shutil.rmtree(logdir, ignore_errors=True)
    print(json.dumps(results, indent=2))
    print("\n| from flush() to the point | median | p90 | min | max |\n|---|---:|---:|---:|---:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | {r['error']} | | | |")
            continue
        print(f"| {name} | {r['median_ms']:,.0f} ms | {r['p90_ms']:,.0f} ms | "
              f"{r['min_ms']:,.0f} ms | {r['max_ms']:,.0f} ms |")
    tb = results.get("tensorboard (defaults), HTTP route", {})
    first = next(iter(results.values()), {})
    if "median_ms" in tb and "median_ms" in first:
        print(f"\ntensorboard / tbx (default intervals), medians: "
              f"{tb['median_ms'] / first['median_ms']:.1f}x")


if __name__ == "__main__":
    main()
