"""`tbx watch` and `tbx report` on generated logdirs: start-up, idle CPU, build time, size.

Usage: python benchmarks/bench_watch_report.py [--steps 100000] [--dir DIR] [--skip-10m]
       [--wide] [--huge] [--skip-watch] [--skip-full]

* Logdirs (generated once under ``--dir``, default ``$TMPDIR/tbx_bench_watch_report``, with
  ``bench_viewer.generate``: tbx's own encoder, one event file per run): 1M points (1 run x 10
  tags x STEPS) and 10M points (10 runs x 10 tags x STEPS); ``--wide`` adds 10 runs x 100 tags
  x 10,000 steps (1,000 series: the report's size grows with series, not points); ``--huge``
  the issue's 10 runs x 100 tags x 100,000 steps (100M points, 4.4 GB).
* ``tbx watch``: started in an 80x24 tmux window; start-up is the time from starting the
  process to the first screen whose table shows the last step of ``run0``/``tag0`` (so
  Python start-up, imports and the first complete read are included; the charts' smoothing
  library may still be loading then); then, once it has loaded, its CPU time over ``--idle``
  seconds of idle (``/proc/PID/stat`` utime + stime; the dashboard refreshes once
  a second). Also ``tbx watch --once`` (subprocess wall time).
* ``tbx report``: subprocess wall time (start-up included), the file's size and the width
  used, with the defaults (``--width 2000 --max-size 5``: the width is lowered until the file
  fits in 5 MB), with ``--max-size 0`` (no budget: 2000 px) and with ``--full``; then the time
  Chromium takes to open the file from disk until the page says it is ready (data decoded,
  first charts drawn).
* No peer does either (TensorBoard, tensorboardX, tbparse have no terminal view and no
  single-file export), so there is no ratio. Prints a table; the figures go into
  benchmarks/README.md by hand.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_viewer import generate  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime, stime


def bench_watch(logdir: Path, steps: int, idle: float) -> dict:
    tmux = shutil.which("tmux")
    if tmux is None:
        return {"error": "tmux not installed"}
    sock = f"tbx-bench-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    cmd = f"exec {sys.executable} -m tbx.cli watch {logdir}"
    want = str(steps - 1)
    t0 = time.perf_counter()
    subprocess.run([tmux, "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s", "w", "-x",
                    "80", "-y", "24", cmd], check=True, env=env)
    try:
        pid = int(subprocess.run([tmux, "-L", sock, "display", "-p", "-t", "w",
                                  "#{pane_pid}"], capture_output=True, text=True).stdout)
        startup = None
        while time.perf_counter() - t0 < 300:
            screen = subprocess.run([tmux, "-L", sock, "capture-pane", "-p", "-t", "w"],
                                    capture_output=True, text=True).stdout
            if any(ln.split()[1:4] == ["run0", "tag0", want] for ln in screen.splitlines()
                   if len(ln.split()) >= 4):
                startup = time.perf_counter() - t0
                break
            time.sleep(0.02)
        while "(loading)" in subprocess.run([tmux, "-L", sock, "capture-pane", "-p", "-t", "w"],
                                            capture_output=True, text=True).stdout:
            time.sleep(0.1)  # scipy (smoothing) still importing in the background
        time.sleep(2.0)
        c0, w0 = cpu_seconds(pid), time.perf_counter()
        time.sleep(idle)
        c1, w1 = cpu_seconds(pid), time.perf_counter()
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS")) / 1024
        return {"startup_s": startup, "idle_cpu_pct": 100 * (c1 - c0) / (w1 - w0),
                "rss_mb": rss}
    finally:
        subprocess.run([tmux, "-L", sock, "kill-server"], capture_output=True)


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return time.perf_counter() - t0, out


def open_in_chromium(path: Path) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(exe):
        return None
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True,
                               args=["--headless", "--no-sandbox", "--disable-gpu"])
        pg = b.new_page(viewport={"width": 1300, "height": 900})
        t0 = time.perf_counter()
        pg.goto(path.as_uri())
        pg.wait_for_selector("body[data-ready=true]", timeout=300_000)
        pg.wait_for_function("() => document.querySelector('.chart-card[data-series]')")
        t = time.perf_counter() - t0
        b.close()
    return t


REPORTS = (("default", []), ("nobudget", ["--max-size", "0"]), ("full", ["--full"]))


def bench_report(logdir: Path, out_dir: Path, label: str, skip_full: bool) -> dict:
    res = {}
    for name, extra in REPORTS:
        if skip_full and name == "full":
            continue
        out = out_dir / f"report_{label}_{name}.html"
        res[f"{name}_s"], msg = timed([sys.executable, "-m", "tbx.cli", "report", str(logdir),
                                       "-o", str(out), *extra])
        print("   ", msg.strip(), file=sys.stderr)
        res[f"{name}_mb"] = out.stat().st_size / 1e6
        px = re.search(r"M4 to (\d+) px per chart", msg)
        res[f"{name}_px"] = int(px.group(1)) if px else None
        res[f"{name}_open_s"] = open_in_chromium(out)
    return res


LABELS = {"default": "default (--width 2000 --max-size 5)", "nobudget": "--max-size 0",
          "full": "--full"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "tbx_bench_watch_report")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measured")
    ap.add_argument("--skip-10m", action="store_true")
    ap.add_argument("--wide", action="store_true",
                    help="also 10 runs x 100 tags x 10,000 steps (1,000 series)")
    ap.add_argument("--huge", action="store_true",
                    help="also 10 runs x 100 tags x 100,000 steps (100M points, 4.4 GB)")
    ap.add_argument("--skip-watch", action="store_true", help="tbx report only")
    ap.add_argument("--skip-full", action="store_true", help="no --full reports")
    a = ap.parse_args()
    cases = [("1M", 1, 10, a.steps)]
    if not a.skip_10m:
        cases.append(("10M", 10, 10, a.steps))
    if a.wide:
        cases.append(("10M wide", 10, 100, 10_000))
    if a.huge:
        cases.append(("100M", 10, 100, 100_000))
    rows = []
    for label, runs, tags, steps in cases:
        logdir = a.dir / f"{runs}x{tags}x{steps}"
        generate(logdir, runs, tags, steps)
        size = sum(p.stat().st_size for p in logdir.rglob("events.out.tfevents.*")) / 1e6
        print(f"{label}: {logdir} ({size:.0f} MB)", file=sys.stderr)
        first = len(rows)
        if label == "1M" and not a.skip_watch:
            w = bench_watch(logdir, steps, a.idle)
            rows.append((f"{label}: tbx watch start-up to the last step on screen",
                         w.get("startup_s"), "s"))
            rows.append((f"{label}: tbx watch idle CPU ({a.idle:g} s)", w.get("idle_cpu_pct"),
                         "% of a core"))
            rows.append((f"{label}: tbx watch RSS", w.get("rss_mb"), "MB"))
            once, _ = timed([sys.executable, "-m", "tbx.cli", "watch", str(logdir), "--once"])
            rows.append((f"{label}: tbx watch --once", once, "s"))
        r = bench_report(logdir, a.dir, label.replace(" ", "_"), a.skip_full)
        for name, _ in REPORTS:
            if f"{name}_s" not in r:
                continue
            rows += [(f"{label}: tbx report {LABELS[name]}: build", r[f"{name}_s"], "s"),
                     (f"{label}: tbx report {LABELS[name]}: size", r[f"{name}_mb"], "MB"),
                     (f"{label}: tbx report {LABELS[name]}: px per chart", r[f"{name}_px"],
                      "px"),
                     (f"{label}: tbx report {LABELS[name]}: Chromium opens it until ready",
                      r[f"{name}_open_s"], "s")]
        for name, v, unit in rows[first:]:
            print(f"  {name}: {v if v is None else round(v, 3)} {unit}", file=sys.stderr)
    print(f"\n{'measurement':<72} {'value':>10}  unit")
    for name, v, unit in rows:
        print(f"{name:<72} {'-' if v is None else f'{v:.3g}':>10}  {unit}")


if __name__ == "__main__":
    main()
