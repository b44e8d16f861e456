"""Projector benchmark: tbx's Projector beside TensorBoard's projector on the same files.

Usage: python benchmarks/bench_projector.py [--sections load,pca,tsne,browser]
       [--sizes 100000x64,1000000x16] [--tsne 10000,100000] [--workdir DIR]
       [--skip-tensorboard]

* Data: SIZES embeddings (N points x D dims, 10 Gaussian clusters, a one-column label
  metadata), written once with ``tbx.SummaryWriter.add_embedding`` into ``--workdir`` (default
  ``$TMPDIR/tbx_bench_projector``), one logdir per size.
* load: the server reading every point of ``tensors.tsv``: tbx (``files.load_embedding``:
  pandas' C parser, tensor + metadata) and TensorBoard (its plugin's ``tensor`` route, as its page
  asks for it: ``num_rows=100000``, the page's limit, so it never shows more points).
* pca: 100,000 x 768 float32 (rank-64 signal + noise) in memory, all points: tbx's
  ``project.pca`` (best of 3). TensorBoard computes PCA in the page on a sample of 10,000
  points (timed as part of "first frame").
* tsne: tbx's t-SNE (openTSNE, 250 + 500 iterations, PCA to 50 dims first) at each size of
  ``--tsne``, 50-dimensional data. TensorBoard's t-SNE runs in the page on at most 10,000
  sampled points: timed in the browser section (time to iteration 750) at 10,000 points.
* browser: headless Chromium (WebGL = SwiftShader, software: frame rates are relative figures)
  opens each viewer on each size, every WebGL draw of 1,000 vertices or more recorded in the
  page (a hook on drawArrays/drawElements, in every frame): time from navigation to the first
  draw of all the points it shows (tbx: N; TensorBoard: at most 100,000), tbx's own first-frame
  mark, then draws per second while the mouse orbits the 3-D camera for 5 s (tbx draws a
  100,000-point subset while the camera moves above 250,000 points, all points once still) and
  the longest gap between two draws.
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
import time
import types
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clusters(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(10, d)).astype(np.float32)
    label = np.arange(n) % 10
    mat = centres[label] + rng.standard_normal((n, d), dtype=np.float32)
    return mat, label


def make_logdir(workdir: Path, n: int, d: int) -> Path:
    import tbx

    logdir = workdir / f"emb_{n}x{d}"
    stamp = logdir / ".complete"
    if stamp.exists():
        return logdir
    t0 = time.time()
    mat, label = clusters(n, d)
    with tbx.SummaryWriter(logdir / "run") as w:
        w.add_embedding(mat, metadata=[f"c{k}" for k in label.tolist()], tag="emb")
    stamp.touch()
    print(f"  wrote {n:,} x {d} in {time.time() - t0:.1f} s", flush=True)
    return logdir


def rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- load --------------------------------------------------------------------------------

def bench_load(logdir: Path, tensorboard: bool) -> dict:
    from tbx.viewer.plugins.projector import files

    run = logdir / "run"
    (ref,), _ = files.list_embeddings("run", str(run))
    t0 = time.perf_counter()
    emb = files.load_embedding(ref)
    out = {"tbx_s": time.perf_counter() - t0, "tbx_points": emb.mat.shape[0]}
    if tensorboard:
        from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin
        from werkzeug.test import Client

        plugin = ProjectorPlugin(types.SimpleNamespace(data_provider=None, logdir=str(run)))
        t0 = time.perf_counter()
        plugin._update_configs()
        app = plugin.get_plugin_apps()["/tensor"]
        resp = Client(app).get("/tensor", query_string={"run": ".", "name": "emb:00000",
                                                        "num_rows": 100000})
        assert resp.status_code == 200, resp.get_data()[:200]
        out["tb_s"] = time.perf_counter() - t0
        out["tb_points"] = len(resp.get_data()) // (4 * emb.mat.shape[1])
    return out


# -- pca and t-SNE -----------------------------------------------------------------------

def bench_pca() -> dict:
    from tbx.viewer.plugins.projector import project

    rng = np.random.default_rng(0)
    x = rng.standard_normal((100_000, 64), dtype=np.float32) @ rng.standard_normal(
        (64, 768), dtype=np.float32)
    x += 0.1 * rng.standard_normal(x.shape, dtype=np.float32)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        out = project.pca(x, 10)
        times.append(time.perf_counter() - t0)
    return {"best_s": min(times), "times": times, "solver": out["method"]}


def bench_tsne(n: int) -> dict:
    from tbx.viewer.plugins.projector import project

    x, _ = clusters(n, 50, seed=1)
    t0 = time.perf_counter()
    y = project.tsne(x, 2, threads=2)
    return {"seconds": time.perf_counter() - t0, "finite": bool(np.isfinite(y).all())}


# -- browser -----------------------------------------------------------------------------

def start(cmd: list[str], url: str, timeout: float = 120) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read(1)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start")


# Every WebGL draw of 1,000 vertices or more, in every frame of the page: [Date.now(), count].
GL_HOOK = """window.__draws = [];
for (const C of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
  if (!C) continue;
  for (const f of ['drawArrays', 'drawElements']) {
    const orig = C.prototype[f];
    const at = f === 'drawArrays' ? 2 : 1;  // the vertex count argument
    C.prototype[f] = function (...a) {
      const r = orig.apply(this, a);
      if (a[at] >= 1000) window.__draws.push([Date.now(), a[at]]);
      return r;
    };
  }
}"""


def draws(pg) -> list:
    """Every recorded draw of every frame, in time order."""
    out = []
    for f in pg.frames:
        try:
            out += f.evaluate("() => window.__draws || []")
        except Exception:  # a frame navigating away
            pass
    return sorted(out)


def first_frame(pg, url, points, timeout=900) -> float:
    """Seconds from navigation to the first draw of ``points`` vertices or more."""
    t0 = time.time()
    pg.goto(url)
    while time.time() - t0 < timeout:
        hit = [d for d in draws(pg) if d[1] >= points]
        if hit:
            return hit[0][0] / 1000 - t0
        pg.wait_for_timeout(250)
    return float("nan")


def drag(pg, box, full: int, seconds: float = 5.0) -> dict:
    """Orbit the camera with the mouse for ``seconds``: draws per second (any size, and of
    ``full`` vertices or more), and the longest gap between two draws."""
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pg.mouse.move(cx, cy)
    pg.mouse.down()
    t0 = time.time()
    k = 0
    while time.time() - t0 < seconds:
        k += 1
        pg.mouse.move(cx + 150 * np.sin(k / 10), cy + 40 * np.cos(k / 10))
    t1 = time.time()
    pg.mouse.up()
    during = [d for d in draws(pg) if t0 * 1000 <= d[0] <= t1 * 1000]
    gaps = [b[0] - a[0] for a, b in zip(during, during[1:], strict=False)]
    return {"fps": len(during) / (t1 - t0),
            "full_fps": sum(1 for d in during if d[1] >= full) / (t1 - t0),
            "gap_ms": max(gaps, default=float("nan"))}


def bench_browser(browser, logdir: Path, n: int, tensorboard: bool, tsne_tb: bool) -> dict:
    out = {}
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    proc = start([sys.executable, "-m", "tbx.cli", "serve", str(logdir), "--port", str(port)],
                 base)
    try:
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        ctx.add_init_script(GL_HOOK)
        pg = ctx.new_page()
        out["tbx_first_s"] = first_frame(pg, base + "#projector", n)
        pg.wait_for_function("() => window.__tbx_projector.firstFrame !== null")
        out["tbx_mark_s"] = pg.evaluate("() => window.__tbx_projector.firstFrame") / 1000
        pg.check("input[name=three_d]")
        pg.wait_for_function("() => window.__tbx_projector.is3d && "
                             "window.__tbx_projector.status === 'ready'", timeout=600_000)
        pg.wait_for_timeout(1000)
        box = pg.locator(".tbx-p-plot canvas").first.bounding_box()
        out["tbx"] = drag(pg, box, n)
        out["tbx_drawn"] = pg.evaluate("() => window.__tbx_projector.drawn")
        ctx.close()
    finally:
        proc.terminate()
        proc.wait(30)
    if not tensorboard:
        return out
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    proc = start(["tensorboard", "--logdir", str(logdir), "--port", str(port)], base)
    try:
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        ctx.add_init_script(GL_HOOK)
        pg = ctx.new_page()
        shown = min(n, 100_000)  # its page asks for at most 100,000 points
        out["tb_first_s"] = first_frame(pg, base + "#projector", shown)
        pg.wait_for_timeout(1000)
        box = {"x": 330, "y": 140, "width": 650, "height": 740}
        out["tb"] = drag(pg, box, shown)
        if tsne_tb:
            out["tb_tsne_s"] = tb_tsne(pg)
        ctx.close()
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def tb_tsne(pg, iterations: int = 750, timeout: float = 1800) -> float:
    """Seconds from clicking TensorBoard's t-SNE tab to its iteration counter reaching
    ``iterations`` (its t-SNE starts by itself and runs until stopped)."""
    import re

    frame = next(f for f in pg.frames if "projector_binary" in f.url)  # its page is an iframe
    frame.get_by_text("T-SNE").first.click(timeout=300_000)
    t0 = time.perf_counter()
    counter = frame.get_by_text(re.compile(r"Iteration")).first
    while time.perf_counter() - t0 < timeout:
        try:
            text = counter.inner_text(timeout=1000)
        except Exception:  # not shown yet
            text = ""
        m = re.search(r"(\d+)", text)
        if m and int(m.group(1)) >= iterations:
            return time.perf_counter() - t0
        pg.wait_for_timeout(250)
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default="load,pca,tsne,browser")
    ap.add_argument("--sizes", default="100000x64,1000000x16")
    ap.add_argument("--tsne", default="10000,100000")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(),
                                                      "tbx_bench_projector"))
    ap.add_argument("--skip-tensorboard", action="store_true")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    tb = not args.skip_tensorboard
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}; python {platform.python_version()}", flush=True)
    logdirs = {size: make_logdir(workdir, *size) for size in sizes}
    if "load" in sections:
        print("\nload: server reads tensors.tsv (seconds; points the page gets)")
        for (n, d), logdir in logdirs.items():
            r = bench_load(logdir, tb)
            tb_txt = (f"TensorBoard {r['tb_s']:7.2f} s ({r['tb_points']:,} points)  ratio "
                      f"{r['tb_s'] / r['tbx_s']:.1f}x") if tb else ""
            print(f"  {n:>9,} x {d:<4} tbx {r['tbx_s']:6.2f} s ({r['tbx_points']:,} points)  "
                  f"{tb_txt}", flush=True)
    if "pca" in sections:
        r = bench_pca()
        print(f"\npca 100,000 x 768 float32, all points: best {r['best_s']:.2f} s "
              f"({r['solver']}; runs {', '.join(f'{t:.2f}' for t in r['times'])})", flush=True)
    if "tsne" in sections:
        print("\nt-SNE (tbx, server, openTSNE, 2 threads, 750 iterations)")
        for n in [int(v) for v in args.tsne.split(",") if v]:
            r = bench_tsne(n)
            print(f"  {n:>9,} points x 50: {r['seconds']:8.1f} s", flush=True)
        if tb:
            from browser_helpers import CHROMIUM, FLAGS
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=FLAGS)
                logdir = make_logdir(workdir, 10_000, 50)
                r = bench_browser(browser, logdir, 10_000, True, tsne_tb=True)
                print(f"  TensorBoard, in the page, 10,000 x 50: {r['tb_tsne_s']:.1f} s to "
                      f"iteration 750", flush=True)
                browser.close()
    if "browser" in sections:
        from browser_helpers import CHROMIUM, FLAGS
        from playwright.sync_api import sync_playwright

        print("\nbrowser (headless Chromium, SwiftShader): first frame (s), fps rotating 3-D")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            for (n, d), logdir in logdirs.items():
                r = bench_browser(browser, logdir, n, tb, tsne_tb=False)
                t = r["tbx"]
                line = (f"  {n:>9,} x {d:<4} tbx: first {r['tbx_first_s']:5.1f} s (own mark "
                        f"{r['tbx_mark_s']:.1f} s), {r['tbx_drawn']:,} drawn, orbiting "
                        f"{t['fps']:4.1f} draws/s ({t['full_fps']:.2f} of all points), "
                        f"longest gap {t['gap_ms']:.0f} ms")
                if tb:
                    t = r["tb"]
                    line += (f"\n  {'':>16} TensorBoard: first {r['tb_first_s']:5.1f} s, "
                             f"{min(n, 100_000):,} drawn, orbiting {t['fps']:4.1f} draws/s, "
                             f"longest gap {t['gap_ms']:.0f} ms")
                print(line, flush=True)
            browser.close()
    print(f"\npeak RSS of this process: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
