"""The example plugin package (examples/plugins/confusion_matrix) as a user meets it: installed
with pip (``--target``, no network, no dependencies), found by ``tbx serve --plugins`` through
its entry point, data written with its ``add_confusion_matrix``, and its tab in real Chromium
showing the heatmap's exact cell values, the step slider, and live updates."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import browser, page_at, screenshot  # noqa: F401 (fixture)

import tbx

pytest.importorskip("hatchling")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugins" / "confusion_matrix"
LABELS = ["cat", "dog", "fox"]


def _matrix(step: int) -> np.ndarray:
    return np.arange(9, dtype=np.float64).reshape(3, 3) + 10 * step


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example installed into a fresh folder; the environment for subprocesses."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--target", str(target), str(EXAMPLE)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    src = str(Path(tbx.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), src])}
    return {"target": target, "env": env}


def test_listed_by_serve_plugins(installed):
    out = subprocess.run([sys.executable, "-m", "tbx.cli", "serve", "--plugins"],
                         env=installed["env"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert rows["confusion_matrix"] == ["confusion_matrix", "Confusion", "matrix",
                                        "tbx-plugin-confusion-matrix", "0.1.0", "ok"]
    assert rows["scalars"] == ["scalars", "Scalars", "builtin", "ok"]


def test_example_is_small():
    files = [p for p in EXAMPLE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert sum(len(p.read_text().splitlines()) for p in files) < 150


def _write(logdir: Path, installed, steps) -> None:
    """Log matrices with the installed package's add_confusion_matrix (in a subprocess, as a
    training script would)."""
    code = ("import sys, numpy as np, tbx\n"
            "from tbx_confusion import add_confusion_matrix\n"
            "w = tbx.SummaryWriter(sys.argv[1])\n"
            "for s in map(int, sys.argv[2:]):\n"
            "    m = np.arange(9, dtype=np.float64).reshape(3, 3) + 10 * s\n"
            f"    add_confusion_matrix(w, 'eval/cm', m, {LABELS!r}, s)\n"
            "w.close()\n")
    subprocess.run([sys.executable, "-c", code, str(logdir), *map(str, steps)],
                   env=installed["env"], check=True, timeout=120)


@pytest.fixture
def served(installed, tmp_path):
    logdir = tmp_path / "logs"
    _write(logdir / "run1", installed, [0, 1])
    proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", str(logdir), "--port", "0",
                             "--reload-interval", "0.2"],
                            env=installed["env"], stdout=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        line = lines.get(timeout=60)
        assert line.startswith("tbx serving "), line
        yield {"url": line.split(" at ")[1].strip(), "logdir": logdir}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _cells(pg) -> list[list[float]]:
    return pg.evaluate("""() => { const out = [];
        for (const td of document.querySelectorAll('.confusion_matrix-card td[data-row]')) {
          const i = Number(td.dataset.row), j = Number(td.dataset.col);
          (out[i] = out[i] || [])[j] = Number(td.textContent); }
        return out; }""")


def test_heatmap_in_the_browser(browser, served, installed):  # noqa: F811
    with page_at(browser, served["url"]) as pg:
        tab = pg.locator('#tabs a[data-dash="confusion_matrix"]')
        assert tab.inner_text() == "Confusion matrix"
        assert "nodata" not in (tab.get_attribute("class") or "")
        pg.goto(served["url"] + "#confusion_matrix")
        card = pg.locator('.confusion_matrix-card[data-run="run1"][data-tag="eval/cm"]')
        card.wait_for()
        pg.wait_for_function("() => document.querySelector('.confusion_matrix-card')"
                             "?.dataset.step === '1'", timeout=60_000)
        assert _cells(pg) == _matrix(1).tolist()
        heads = card.locator("th").all_inner_texts()
        assert heads[1:4] == LABELS and heads[4:] == LABELS
        screenshot(pg, "plugin-confusion-matrix")
        card.locator("input.step-slider").evaluate(
            "s => { s.value = '0'; s.dispatchEvent(new Event('input')); }")
        assert card.get_attribute("data-step") == "0"
        assert _cells(pg) == _matrix(0).tolist()
        # live: a new step appears; the slider (moved back to the end) follows it
        card.locator("input.step-slider").evaluate(
            "s => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
        _write(served["logdir"] / "run1", installed, [2])
        pg.wait_for_function("() => document.querySelector('.confusion_matrix-card')"
                             "?.dataset.step === '2'", timeout=30_000)
        assert _cells(pg) == _matrix(2).tolist()
        assert card.locator("input.step-slider").get_attribute("max") == "2"
