"""Graphs and Mesh dashboards: `tbx serve` against `tensorboard --logdir`, same files, same run,
in headless Chromium (Debian's, software WebGL: SwiftShader; figures are relative).

Usage: python benchmarks/bench_graphs.py [--root DIR] [--sizes 2000,10000,50000]
       [--points 1000000] [--repeat 3] [--skip-tensorboard] [--skip-resnet]

* Generates (once, reused from ``--root``, default ``$TMPDIR/tbx_bench_graphs``) one logdir per
  graph, each written as ``add_graph`` writes one (an ``Event.graph_def``): ``resnet50`` (a
  torchvision-style ResNet-50 in plain torch, ``benchmarks/resnet50.py``, traced by tbx's
  ``add_graph``; needs torch) and ``synthetic_<n>`` (``tbx.viewer.plugins.graphs.demo_data.
  synthetic_graph(n)``: nested scopes, skip connections); and ``mesh_<points>``, one run with a
  coloured point cloud of ``--points`` points (``mesh.demo_data.point_cloud``).
* Graph open time: a fresh server per logdir (so the first open includes parsing the GraphDef)
  and a fresh page at ``#graphs`` each time; the time is the page's ``performance.now()`` (ms
  since navigation started) once the graph is drawn: tbx's page records it
  (``window.__tbx_graphs.drawnAt``); for TensorBoard it is read as soon as a node of
  ``tf-graph-scene`` is in the page. ``first`` is the first open after the server started,
  ``warm`` the median of the next ``--repeat``. ``longest task`` is the longest main-thread task
  seen while opening (PerformanceObserver ``longtask``): the time the tab was frozen.
* Mesh: open time of ``#mesh`` the same way (tbx: ``window.__tbx_mesh.drawnAt``; TensorBoard:
  the first WebGL draw call with at least ``--points`` vertices, seen by a wrapper of
  ``drawArrays``/``drawElements`` that records every draw of 50,000 vertices or more); draws
  per second for 3 s with the camera still; then the mouse is dragged across the canvas for 5 s
  (orbiting the camera) and the draws are counted: all of them (tbx draws a 100,000-point
  subset while the camera moves) and those of the whole cloud, and the longest gap between
  two (the same measure for both). For tbx also ``__tbx_mesh.fps(10)`` and
  ``fps(30, true)``: redraws per second of the whole cloud and of the subset, each waited for
  (a pixel read back).
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
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
         "--use-angle=swiftshader", "--no-first-run", "--disable-background-networking"]
LONGTASKS = """window.__long = [];
try {
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) window.__long.push(e.duration);
  })
    .observe({ type: 'longtask', buffered: true });
} catch (_) {}"""
GL_HOOK = """window.__draws = [];
for (const C of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
  if (!C) continue;
  for (const f of ['drawArrays', 'drawElements']) {
    const orig = C.prototype[f];
    const at = f === 'drawArrays' ? 2 : 1; // the vertex count argument
    C.prototype[f] = function (...a) {
      const r = orig.apply(this, a);
      if (a[at] >= 50000) window.__draws.push([performance.now(), a[at]]);
      return r;
    };
  }
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except Exception:  # noqa: BLE001 - not up yet
        return 0, b""


def poll(check, timeout: float) -> bool:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if check():
            return True
        time.sleep(0.05)
    return False


def write_graph(logdir: Path, graph) -> None:
    from tbx import FileWriter
    from tbx.proto.event_pb2 import Event

    w = FileWriter(logdir / "model")
    w.add_event(Event(step=0, graph_def=graph.SerializeToString()))
    w.close()


def generate(root: Path, sizes, points: int, resnet: bool) -> dict[str, Path]:
    from tbx.viewer.plugins.graphs.demo_data import synthetic_graph
    from tbx.viewer.plugins.mesh.demo_data import point_cloud

    out = {}
    if resnet:
        d = root / "resnet50"
        if not (d / ".complete").exists():
            import torch

            sys.path.insert(0, str(HERE))
            from resnet50 import resnet50

            from tbx import SummaryWriter

            with SummaryWriter(d / "model") as w:
                w.add_graph(resnet50(), torch.zeros(1, 3, 224, 224))
            (d / ".complete").touch()
        out["resnet50"] = d
    for n in sizes:
        d = root / f"synthetic_{n}"
        if not (d / ".complete").exists():
            write_graph(d, synthetic_graph(n))
            (d / ".complete").touch()
        out[f"synthetic_{n}"] = d
    d = root / f"mesh_{points}"
    if not (d / ".complete").exists():
        from tbx import SummaryWriter

        v, c = point_cloud(points)
        with SummaryWriter(d / "cloud") as w:
            w.add_mesh("cloud", v, colors=c, global_step=0)
        (d / ".complete").touch()
    out["mesh"] = d
    return out


class Server:
    """``tbx serve`` or ``tensorboard`` on one logdir, on a free port."""

    def __init__(self, kind: str, logdir: Path):
        self.kind = kind
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if kind == "tbx":
            cmd = [sys.executable, "-m", "tbx.cli", "serve", str(logdir), "--port",
                   str(self.port), "--reload-interval", "30"]
        else:
            cmd = [shutil.which("tensorboard") or "tensorboard", "--logdir", str(logdir),
                   "--port", str(self.port), "--reload_interval", "30"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait(self, timeout: float = 120) -> bool:
        if self.kind == "tbx":
            return poll(lambda: json.loads(get(f"{self.base}/api/runs")[1] or b"{}")
                        .get("loaded"), timeout)
        return poll(lambda: len(json.loads(get(f"{self.base}/data/runs")[1] or b"[]")) > 0,
                    timeout)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def open_graph(browser, server: Server, timeout: float) -> dict:
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    ctx.add_init_script(LONGTASKS)
    pg = ctx.new_page()
    try:
        pg.goto(f"{server.base}/#graphs")
        if server.kind == "tbx":
            pg.wait_for_function("() => window.__tbx_graphs && ['drawn', 'error']"
                                 ".includes(window.__tbx_graphs.status)", timeout=timeout * 1e3)
            d = pg.evaluate("() => window.__tbx_graphs")
            if d["status"] != "drawn":
                return {"error": d.get("error")}
            ms = d["drawnAt"]
            shown = len(d["visibleGroups"]) + len(d["visibleNodes"])
        else:
            pg.wait_for_selector("tf-graph-scene g.node", state="attached",
                                 timeout=timeout * 1e3)
            ms = pg.evaluate("() => performance.now()")
            shown = pg.locator("tf-graph-scene g.node").count()
        long = pg.evaluate("() => window.__long")
        return {"ms": ms, "longest_task_ms": max(long, default=0.0), "shown": shown}
    except Exception as exc:  # noqa: BLE001 - a timeout is a result
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    finally:
        ctx.close()


def bench_graph(browser, kind: str, logdir: Path, repeat: int, timeout: float) -> dict:
    server = Server(kind, logdir)
    try:
        if not server.wait():
            return {"error": "server did not start"}
        first = open_graph(browser, server, timeout)
        if "error" in first:
            return first
        warm = [open_graph(browser, server, timeout) for _ in range(repeat)]
        ok = [w["ms"] for w in warm if "ms" in w]
        return {"first_ms": first["ms"], "warm_ms": statistics.median(ok) if ok else None,
                "longest_task_ms": max([first["longest_task_ms"]] +
                                       [w.get("longest_task_ms", 0) for w in warm]),
                "shown": first["shown"]}
    finally:
        server.stop()


def bench_mesh(browser, kind: str, logdir: Path, points: int, timeout: float) -> dict:
    server = Server(kind, logdir)
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    ctx.add_init_script(LONGTASKS)
    ctx.add_init_script(GL_HOOK)
    pg = ctx.new_page()
    try:
        if not server.wait():
            return {"error": "server did not start"}
        pg.goto(f"{server.base}/#mesh")
        out = {}
        if kind == "tbx":
            pg.wait_for_function("() => window.__tbx_mesh && ['drawn', 'error']"
                                 ".includes(window.__tbx_mesh.status)", timeout=timeout * 1e3)
            d = pg.evaluate("() => window.__tbx_mesh")
            if d["status"] != "drawn":
                return {"error": d.get("error")}
            out["open_ms"] = d["drawnAt"]
            canvas = ".tbx-mesh-canvas canvas"
        else:
            pg.wait_for_function(f"() => window.__draws.some(d => d[1] >= {points})",
                                 timeout=timeout * 1e3)
            out["open_ms"] = pg.evaluate(f"() => window.__draws.find(d => d[1] >= {points})[0]")
            canvas = "canvas"
        # idle: does the page keep redrawing with the camera still?
        n0 = pg.evaluate("() => window.__draws.length")
        pg.wait_for_timeout(3000)
        out["idle_draws_per_s"] = (pg.evaluate("() => window.__draws.length") - n0) / 3
        box = pg.locator(canvas).first.bounding_box(timeout=timeout * 1e3)
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        pg.mouse.move(cx, cy)
        pg.mouse.down()
        n0, t0 = pg.evaluate("() => [window.__draws.length, performance.now()]")
        end = time.perf_counter() + 5
        i = 0
        while time.perf_counter() < end:
            i += 1
            pg.mouse.move(cx + 120 * ((i % 40) / 40 - 0.5), cy + 10 * ((i % 7) - 3), steps=1)
        pg.mouse.up()
        draws, t1 = pg.evaluate(f"() => [window.__draws.slice({n0}), performance.now()]")
        drag = [d for d in draws if d[0] <= t1]
        span = (t1 - t0) / 1e3
        out["drag_fps"] = len(drag) / span
        out["drag_full_fps"] = sum(1 for d in drag if d[1] >= points) / span
        gaps = [b[0] - a[0] for a, b in zip(drag, drag[1:], strict=False)]
        out["drag_longest_gap_ms"] = max(gaps, default=None)
        if kind == "tbx":
            out["fps_full"] = pg.evaluate("() => window.__tbx_mesh.fps(10)")
            out["fps_preview"] = pg.evaluate("() => window.__tbx_mesh.fps(30, true)")
        out["longest_task_ms"] = max(pg.evaluate("() => window.__long"), default=0.0)
        return out
    except Exception as exc:  # noqa: BLE001 - a timeout is a result
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    finally:
        ctx.close()
        server.stop()


def fmt(v, unit="") -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}{unit}" if abs(v) >= 10 else f"{v:.1f}{unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path,
                    default=Path(tempfile.gettempdir()) / "tbx_bench_graphs")
    ap.add_argument("--sizes", default="2000,10000,50000")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--skip-tensorboard", action="store_true")
    ap.add_argument("--skip-tbx", action="store_true", help="TensorBoard's figures only")
    ap.add_argument("--skip-resnet", action="store_true")
    ap.add_argument("--mesh-only", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    sizes = [int(s) for s in args.sizes.split(",") if s]
    dirs = generate(args.root, sizes, args.points, not args.skip_resnet)
    kinds = ([] if args.skip_tbx else ["tbx"]) + ([] if args.skip_tensorboard else ["tensorboard"])
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}")
    rows = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium") or
                                     "/usr/bin/chromium", headless=True, args=FLAGS)
        for name, d in dirs.items():
            if name == "mesh" or args.mesh_only:
                continue
            for kind in kinds:
                rows[(name, kind)] = r = bench_graph(browser, kind, d, args.repeat, args.timeout)
                print(name, kind, r, flush=True)
        for kind in kinds:
            rows[("mesh", kind)] = r = bench_mesh(browser, kind, dirs["mesh"], args.points,
                                                  args.timeout)
            print("mesh", kind, r, flush=True)
        browser.close()
    print("\n| graph | tbx first / warm open (ms) | tbx longest task (ms) | TensorBoard first / "
          "warm open (ms) | TensorBoard longest task (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name in dirs:
        if name == "mesh" or args.mesh_only:
            continue
        t, b = rows.get((name, "tbx"), {}), rows.get((name, "tensorboard"), {})
        cell = lambda r, k: r.get("error") or fmt(r.get(k))  # noqa: E731
        print(f"| {name} | {cell(t, 'first_ms')} / {cell(t, 'warm_ms')} | "
              f"{cell(t, 'longest_task_ms')} | {cell(b, 'first_ms')} / {cell(b, 'warm_ms')} | "
              f"{cell(b, 'longest_task_ms')} |")
    t, b = rows.get(("mesh", "tbx"), {}), rows.get(("mesh", "tensorboard"), {})
    print(f"\nmesh, {args.points:,} points: tbx {t}\nTensorBoard {b}")


if __name__ == "__main__":
    main()
