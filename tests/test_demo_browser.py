"""``tbx demo`` as a user sees it: the demo starts the viewer, trains, and keeps serving; a real
browser (Playwright driving Debian's Chromium, as in ``test_viewer_browser.py``) opens the URL
the demo printed and finds the scalars, histograms, images, PR curves, text and hparams
dashboards populated. Screenshots go to ``tests/artifacts/demo-*.png`` (git-ignored).

Skipped, with the reason, when playwright, chromium, the viewer's packages or the demo's
packages are missing.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

for _module in ("sklearn", "matplotlib", "PIL"):
    pytest.importorskip(_module)
from browser_helpers import browser, page_at, screenshot  # noqa: E402, F401 (fixture)

from tbx.demo.run import DemoConfig, run_name  # noqa: E402

RUNS = [run_name(lr) for lr in DemoConfig().learning_rates]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``tbx demo --epochs 1 --port 0`` running until the test module ends: its URL, logdir and
    output. Stopped with SIGINT (Ctrl-C), which also stops its viewer."""
    logdir = tmp_path_factory.mktemp("demo") / "runs"
    cmd = [sys.executable, "-m", "tbx.demo", "--epochs", "1", "--port", "0", "--pace", "0"]
    proc = subprocess.Popen(
        [*cmd, "--logdir", str(logdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        # Ctrl-C reaches the demo even when this test run was started in the background of a
        # shell, which makes its children ignore SIGINT.
        preexec_fn=_default_sigint,
    )
    lines: queue.Queue = queue.Queue()
    output: list[str] = []

    def pump():
        for line in proc.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    url = None
    deadline = time.monotonic() + 300
    try:
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "tbx demo ended early:\n" + "".join(output)
            if line.startswith("tbx viewer at "):
                url = line.split()[3]
            if line.startswith("Still serving at"):
                break
    except queue.Empty:
        proc.kill()
        pytest.fail("tbx demo did not finish training in 300 s:\n" + "".join(output))
    assert url is not None and url.startswith("http://127.0.0.1:"), "".join(output)
    yield {"url": url, "logdir": logdir, "output": output}
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, "".join(output)


@pytest.fixture
def page(browser, demo):  # noqa: F811 (browser is the shared fixture)
    with page_at(browser, demo["url"]) as pg:
        yield pg


def _dashboard(pg, name: str) -> None:
    pg.goto(pg.url.split("#")[0] + f"#{name}")
    pg.wait_for_function("d => document.body.dataset.dashboard === d", arg=name)


def _shot(pg, name: str) -> None:
    screenshot(pg, f"demo-{name}")


def _canvas_ink(pg, selector: str) -> int:
    """Non-white pixels of the first canvas under ``selector`` (-1 without a canvas)."""
    return pg.evaluate(
        """sel => { const cv = document.querySelector(sel + ' canvas');
             if (!cv) return -1;
             const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
             let n = 0;
             for (let i = 0; i < d.length; i += 4)
               if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
             return n; }""",
        selector,
    )


def test_demo_printed_the_url_before_training(demo):
    first = [line for line in demo["output"] if line.strip()][:2]
    assert first[0].startswith("tbx viewer at http://127.0.0.1:")
    assert first[1].startswith("Training an MLP")


def _wait_texts(pg, selector: str, expected, timeout: int = 60_000) -> None:
    """Wait until the inner texts of ``selector`` include every string of ``expected`` (the
    viewer may still be ingesting the demo's last records when the page first loads)."""
    pg.wait_for_function(
        """([sel, want]) => { const have = new Set([...document.querySelectorAll(sel)]
                                 .map(e => e.innerText.trim()));
                              return want.every(w => have.has(w)); }""",
        arg=[selector, sorted(expected)],
        timeout=timeout,
    )


def test_scalars(page):
    _wait_texts(page, "#run-list .run-name", RUNS)
    _wait_texts(page, ".chart-card .card-title",
                {"train/loss", "train/accuracy", "train/lr", "val/loss", "val/accuracy"})
    card = '.chart-card[data-title="train/loss"]'
    page.wait_for_function(
        """sel => { const c = document.querySelector(sel);
               return c && Number(c.dataset.points) > 0 && c.querySelector('canvas'); }""",
        arg=card,
        timeout=60_000,
    )
    page.wait_for_function(
        "([sel, n]) => document.querySelector(sel).dataset.series === n",
        arg=[card, str(len(RUNS))], timeout=60_000,
    )
    assert page.locator(card).get_attribute("data-series") == str(len(RUNS))
    assert _canvas_ink(page, card) > 500
    _shot(page, "scalars")


@pytest.mark.parametrize(
    "dash, selector", [("histograms", ".histograms-card"), ("pr_curves", ".pr_curves-card")]
)
def test_tensor_dashboards(page, dash, selector):
    _dashboard(page, dash)
    page.wait_for_selector(f"{selector} canvas", timeout=60_000)
    want = 10 if dash == "pr_curves" else 6
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel + ' canvas').length >= n",
        arg=[selector, want], timeout=60_000,
    )
    assert page.locator(selector).count() >= want
    assert _canvas_ink(page, selector) > 200
    _shot(page, dash)


def test_images(page):
    _dashboard(page, "images")
    card = page.locator('.images-card[data-tag="inputs/train_samples"]').first
    card.wait_for(timeout=60_000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.images-card img.thumb')]
                 .some(i => i.complete && i.naturalWidth === 320 && i.naturalHeight === 160)""",
        timeout=60_000,
    )
    want = ["inputs/train_samples", "val/confusion_matrix", "val/misclassified"]
    page.wait_for_function(
        """want => { const have = new Set([...document.querySelectorAll('.images-card')]
                                     .map(c => c.dataset.tag));
                     return want.every(w => have.has(w)); }""",
        arg=want, timeout=60_000,
    )
    _shot(page, "images")


def test_text(page):
    _dashboard(page, "text")
    page.locator(".text-card .markdown table").first.wait_for(timeout=60_000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.text-card')]
                 .some(c => c.innerText.includes("learning rate")
                           && c.innerText.includes("digits"))""",
        timeout=60_000,
    )
    _shot(page, "text")


def test_hparams(page):
    _dashboard(page, "hparams")
    rows = page.locator(".hp-table tbody tr")
    page.wait_for_function(
        "n => document.querySelectorAll('.hp-table tbody tr').length === n",
        arg=len(RUNS), timeout=60_000,
    )
    assert rows.count() == len(RUNS)
    head = " ".join(page.locator(".hp-table th").all_inner_texts())
    assert "lr" in head and "hparam/val_accuracy" in head
    body = page.locator(".hp-table tbody").inner_text()
    for lr in DemoConfig().learning_rates:
        assert f"{lr:g}" in body
    _shot(page, "hparams")


def test_custom_scalars(page):
    _dashboard(page, "custom_scalars")
    card = '.chart-card[data-title="loss"]'
    page.wait_for_function(
        """sel => { const c = document.querySelector(sel);
               return c && Number(c.dataset.points) > 0 && c.querySelector('canvas'); }""",
        arg=card,
        timeout=60_000,
    )
    # train/loss and val/loss of every run in one chart
    page.wait_for_function(
        "([sel, n]) => document.querySelector(sel).dataset.series === n",
        arg=[card, str(2 * len(RUNS))], timeout=60_000,
    )
    assert int(page.locator(card).get_attribute("data-series")) == 2 * len(RUNS)
    assert _canvas_ink(page, card) > 500
    _shot(page, "custom_scalars")


def test_graphs_shows_the_model_graph(page):
    """With torch installed the demo logs its MLP's graph; the Graphs tab draws it with the
    Sequential's layers as groups."""
    pytest.importorskip("torch")
    _dashboard(page, "graphs")
    page.wait_for_function("() => window.__tbx_graphs && window.__tbx_graphs.status === 'drawn'",
                           timeout=30_000)
    g = page.evaluate("() => window.__tbx_graphs")
    assert g["run"] in RUNS and g["stats"]["nodes"] > 10
    assert g["expanded"] == ["Sequential"]
    for layer in ("fc1", "relu1", "fc2", "relu2", "fc3"):
        assert any(name.startswith("Sequential/") and f"[{layer}]" in name
                   for name in g["visibleGroups"]), (layer, g["visibleGroups"])
    _shot(page, "graphs")


def test_mesh_shows_the_feature_cloud_and_the_loss_surface(page):
    _dashboard(page, "mesh")
    page.wait_for_function("n => window.__tbx_mesh && window.__tbx_mesh.status === 'drawn' && "
                           "Object.keys(window.__tbx_mesh.runs).length === n",
                           arg=len(RUNS), timeout=30_000)
    m = page.evaluate("() => window.__tbx_mesh")
    assert m["name"] == "val/hidden_3d"
    assert {r["vertices"] for r in m["runs"].values()} == {360}
    _shot(page, "mesh-cloud")
    page.select_option(".tbx-mesh-name", "val/loss_surface")
    page.wait_for_function("() => window.__tbx_mesh.status === 'drawn' && Object.values("
                           "window.__tbx_mesh.runs).every(r => r.name === 'val/loss_surface')",
                           timeout=30_000)
    m = page.evaluate("() => window.__tbx_mesh")
    assert {(r["vertices"], r["faces"]) for r in m["runs"].values()} == {(625, 1152)}
    _shot(page, "mesh-surface")


def test_projector(page, demo):
    """The validation embedding of the first run, coloured by digit, digit thumbnails drawn."""
    from tbx.viewer.plugins.projector import BUNDLE

    if not (BUNDLE / "index.js").is_file():
        pytest.skip("projector front end not built (npm run build in web/)")
    _dashboard(page, "projector")
    page.wait_for_function(
        """() => { const p = window.__tbx_projector;
                   return p && p.status === 'ready' && p.sprite && p.thumbnails
                     && p.firstFrame !== null; }""",
        timeout=60_000,
    )
    s = page.evaluate("""() => { const p = window.__tbx_projector;
        return {run: p.run, tag: p.tag, n: p.n, legend: p.legend, sprite: p.sprite}; }""")
    assert s["run"] == RUNS[0] and s["tag"] == "val_hidden"
    assert s["legend"]["column"] == "digit"
    assert [i["label"] for i in s["legend"]["items"]] == [str(d) for d in range(10)]
    assert sum(i["count"] for i in s["legend"]["items"]) == s["n"] > 100
    assert s["sprite"]["count"] == s["n"]
    _shot(page, "projector")
