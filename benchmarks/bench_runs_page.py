"""Many runs: `tbx serve` beside `tensorboard --logdir` (its default loader) on sweeps of 1,000
and 10,000 runs, the page in Chromium, and the Parquet export queried by DuckDB.

Usage: python benchmarks/bench_runs_page.py [--runs 1000 10000] [--steps 100] [--reload-interval S]
       [--skip-tensorboard] [--skip-page] [--skip-export]

For each size (logdir generated once into ``$TMPDIR/tbx_bench_runs_page_<runs>x<steps>`` by
``tbx.viewer.plugins.runs.demo_data.write_sweep``: runs ``{opt}-lr{lr}-s{i}`` with an hparams
session and the scalar tags ``loss`` and ``accuracy`` at ``steps`` steps):

* tbx: ``tbx serve`` in a child process; "time to list" = from the start until ``/api/runs``
  lists every run, "loaded" until it also says ``loaded: true`` (every file read);
  ``/api/runs`` and the run table's route (``/api/plugins/runs/table``): median of 5 requests
  (after one warm-up); "chart of 2,000 runs,
  data" = ``POST /api/runsets`` of 2,000 runs + ``GET .../scalars/series?runset=..&tag=loss``
  (median of 5); RSS after loading.
* the page (Chromium via Playwright): from ``goto`` until the sidebar's run list shows every run
  ("run list"); then the run table tab until its rows are listed, and the time between frames
  while it scrolls 30 rows a frame (60 frames, back to the top at the end); then, back on the
  scalars tab,
  from typing a run filter that selects 2,000 runs (``-lr0\\.001-`` on 10,000 runs; every run
  on 1,000) until the ``loss`` chart has redrawn with those runs ("2,000-run chart": the notice
  says which 500 are drawn).
* TensorBoard: ``tensorboard --logdir`` (the Rust data server when installed: its default);
  "time to list" = until ``/data/runs`` lists every run; ``/data/runs`` median of 5; "chart of
  2,000 runs, data" = ``POST /data/plugin/scalars/scalars_multirun`` (tag ``loss``, 2,000
  ``runs``), what its scalar card asks for; RSS after loading.
* export: ``tbx export LOGDIR --format parquet --partition-by run -o DIR`` (wall time of the
  command, the dataset's size) and the DuckDB statement of ``examples/duckdb_query.py`` over it
  (median of 3, after one warm-up).

Prints JSON per measurement on stderr and a summary table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_viewer import free_port, get, poll, rss_mb, stop  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def logdir_for(runs: int, steps: int) -> Path:
    from tbx.viewer.plugins.runs.demo_data import write_sweep

    d = Path(tempfile.gettempdir()) / f"tbx_bench_runs_page_{runs}x{steps}"
    stamp = d / ".complete"
    if not stamp.exists():
        if d.exists():
            shutil.rmtree(d)
        t = time.perf_counter()
        write_sweep(d, runs, steps)
        stamp.write_text("ok\n")
        print(f"  generated {runs} runs in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return d


def chart_runs(names: list[str]) -> tuple[str, list[str]]:
    """A run filter selecting 2,000 runs (or every run when there are fewer), and those runs."""
    if len(names) <= 2000:
        return "", names
    rx = r"-lr0\.001-"
    return rx, [n for n in names if re.search(rx, n)][:2000]


def median_ms(fn, k: int = 5) -> float:
    fn()
    ts = []
    for _ in range(k):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def post(url: str, data: bytes, ctype: str, headers=None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": ctype, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def bench_tbx(logdir: Path, runs: int, timeout: float, page: bool,
              reload_interval: float = 1.0) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", str(logdir), "--port",
                             str(port), "--reload-interval", str(reload_interval)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    out: dict = {}

    def listed():
        st, body = get(f"{base}/api/runs")
        if st != 200:
            return False
        d = json.loads(body)
        if len(d["runs"]) == runs and "time_to_list_s" not in out:
            out["time_to_list_s"] = time.perf_counter() - t0
        return d["loaded"] and len(d["runs"]) == runs

    try:
        took = poll(listed, timeout)
        if took is None:
            return {"error": "timeout: " + proc.stderr.read1(2000).decode(errors="replace")}
        out["loaded_s"] = time.perf_counter() - t0
        out["rss_mb"] = rss_mb(proc.pid)
        names = json.loads(get(f"{base}/api/runs")[1])["runs"]
        out["api_runs_ms"] = median_ms(lambda: get(f"{base}/api/runs"))
        out["api_runs_bytes"] = len(get(f"{base}/api/runs")[1])
        out["run_table_route_ms"] = median_ms(lambda: get(f"{base}/api/plugins/runs/table"))
        out["scalars_tags_route_ms"] = median_ms(lambda: get(f"{base}/api/plugins/scalars/tags"))
        _, sel = chart_runs(names)

        def chart():
            st, body = post(f"{base}/api/runsets", json.dumps({"runs": sel}).encode(),
                            "application/json")
            assert st == 200, body
            rid = json.loads(body)["id"]
            st, body = get(f"{base}/api/plugins/scalars/series?runset={rid}&tag=loss"
                           f"&width=1000&smoothing=0.6")
            assert st == 200, body
            return body

        out["chart_2000_data_ms"] = median_ms(chart)
        out["chart_2000_data_bytes"] = len(chart())
        out["chart_runs"] = len(sel)
        if page:
            out.update(bench_page(base, runs, names))
        out["rss_end_mb"] = rss_mb(proc.pid)
        return out
    finally:
        stop(proc)


def bench_page(base: str, runs: int, names: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    rx, sel = chart_runs(names)
    out = {}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                               args=["--no-sandbox", "--disable-gpu"])
        pg = b.new_page(viewport={"width": 1300, "height": 900})
        t = time.perf_counter()
        pg.goto(base + "/#scalars")
        pg.wait_for_function(
            f"() => document.getElementById('run-count').textContent.startsWith("
            f"'{runs:,} listed') && document.querySelectorAll('#run-list .run').length > 5",
            timeout=600_000)
        out["page_run_list_s"] = time.perf_counter() - t
        cond = """([n]) => { const c = document.querySelector('.chart-card[data-title="loss"]');
            return c && c.dataset.selected === String(n) && c.querySelector('canvas')
              && !c.__chart.abort; }"""
        pg.wait_for_function(cond, arg=[runs], timeout=600_000)
        out["page_first_chart_s"] = time.perf_counter() - t
        t = time.perf_counter()
        pg.goto(base + "/#runs")
        pg.wait_for_selector(f".runs-dash[data-total='{runs}']", timeout=600_000)
        out["page_run_table_s"] = time.perf_counter() - t
        frames = pg.evaluate("""async () => {
            const s = document.querySelector('.runs-scroll');
            const raf = () => new Promise((r) => requestAnimationFrame(r));
            await raf();
            const out = [];
            let last = performance.now();
            for (let i = 0; i < 60; i++) {
              // 30 rows a frame (a fast wheel), back to the top at the end: every frame scrolls
              const top = s.scrollTop + 720;
              s.scrollTop = top > s.scrollHeight - s.clientHeight ? 0 : top;
              await raf();
              const now = performance.now();
              out.push(now - last);
              last = now;
            }
            return out; }""")
        out["table_scroll_frame_ms_median"] = statistics.median(frames)
        out["table_scroll_frame_ms_max"] = max(frames)
        pg.goto(base + "/#scalars")
        pg.wait_for_function(cond, arg=[runs], timeout=600_000)
        t = time.perf_counter()
        if rx:
            pg.fill("#run-filter", rx)
        else:
            pg.evaluate("() => { document.getElementById('run-filter').dispatchEvent("
                        "new Event('input')); }")
        pg.wait_for_function(cond, arg=[len(sel)], timeout=600_000)
        out["page_chart_2000_s"] = time.perf_counter() - t
        out["page_chart_notice"] = pg.locator('.chart-card[data-title="loss"]').get_attribute(
            "data-notice")
        b.close()
    return out


def bench_tensorboard(logdir: Path, runs: int, timeout: float) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tb = shutil.which("tensorboard")
    cmd = ([tb] if tb else [sys.executable, "-m", "tensorboard.main"])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd + ["--logdir", str(logdir), "--port", str(port), "--host",
                                   "127.0.0.1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def listed():
        st, body = get(f"{base}/data/runs")
        return st == 200 and len(json.loads(body)) == runs

    out: dict = {}
    try:
        took = poll(listed, timeout)
        if took is None:
            st, body = get(f"{base}/data/runs")
            return {"error": f"timeout ({len(json.loads(body)) if st == 200 else st} runs "
                             f"listed)", "rss_mb": rss_mb(proc.pid)}
        out["time_to_list_s"] = time.perf_counter() - t0
        out["rss_mb"] = rss_mb(proc.pid)
        names = json.loads(get(f"{base}/data/runs")[1])
        out["data_runs_ms"] = median_ms(lambda: get(f"{base}/data/runs"))
        out["data_runs_bytes"] = len(get(f"{base}/data/runs")[1])
        _, sel = chart_runs(sorted(names))
        from urllib.parse import urlencode

        body = urlencode([("tag", "loss"), *(("runs", r) for r in sel)]).encode()

        def chart():
            st, data = post(f"{base}/data/plugin/scalars/scalars_multirun", body,
                            "application/x-www-form-urlencoded")
            assert st == 200, (st, data[:200])
            return data

        out["chart_2000_data_ms"] = median_ms(chart)
        out["chart_2000_data_bytes"] = len(chart())
        out["rss_end_mb"] = rss_mb(proc.pid)
        return out
    finally:
        stop(proc)


def bench_export(logdir: Path) -> dict:
    import duckdb

    sys.path.insert(0, str(ROOT / "examples"))
    from duckdb_query import QUERY

    out_dir = Path(tempfile.mkdtemp(prefix="tbx_bench_runs_page_ds_"))
    ds = out_dir / "ds"
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tbx.cli", "export", str(logdir), "--format",
                        "parquet", "--partition-by", "run", "-o", str(ds), "-q"], check=True)
        out = {"export_s": time.perf_counter() - t}
        files = list(ds.rglob("*.parquet"))
        out["files"] = len(files)
        out["dataset_mb"] = sum(f.stat().st_size for f in files) / 1e6
        q = QUERY.format(dataset=ds.as_posix())
        rows = duckdb.sql(q).fetchall()
        out["query_runs"] = sum(r[2] for r in rows)
        out["duckdb_query_ms"] = median_ms(lambda: duckdb.sql(q).fetchall(), k=3)
        return out
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--reload-interval", type=float, default=1.0,
                    help="tbx serve's --reload-interval (default 1, its own default)")
    ap.add_argument("--skip-tensorboard", action="store_true")
    ap.add_argument("--skip-page", action="store_true")
    ap.add_argument("--skip-export", action="store_true")
    a = ap.parse_args()
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
                          f"Python {platform.python_version()}", "steps": a.steps}
    for runs in a.runs:
        logdir = logdir_for(runs, a.steps)
        r = results[runs] = {}
        print(f"{runs} runs: tbx serve ...", file=sys.stderr)
        r["tbx"] = bench_tbx(logdir, runs, a.timeout, not a.skip_page, a.reload_interval)
        print(json.dumps(r["tbx"]), file=sys.stderr)
        if not a.skip_tensorboard:
            print(f"{runs} runs: tensorboard ...", file=sys.stderr)
            r["tb"] = bench_tensorboard(logdir, runs, a.timeout)
            print(json.dumps(r["tb"]), file=sys.stderr)
        if not a.skip_export:
            print(f"{runs} runs: export + duckdb ...", file=sys.stderr)
            r["export"] = bench_export(logdir)
            print(json.dumps(r["export"]), file=sys.stderr)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
