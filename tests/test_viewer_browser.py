"""The viewer in a real browser: Playwright (pip) driving Debian's Chromium, over a logdir written
by tbx.SummaryWriter, served by the real reader. Screenshots of each dashboard go to
``tests/artifacts/`` (git-ignored).

Skipped, with the reason, when playwright or /usr/bin/chromium is missing (.ci/run installs
both).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import browser, frames, page_at, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx

EVIL_TAG = "<script>window.__pwned=1</script>"
EVIL_TEXT = "**bold** <script>window.__pwned=2</script> <img src=x onerror=window.__pwned=3>"
DENSE = 20_000


def _write_logdir(root: Path) -> dict:
    writers = {}
    for run, scale in (("train", 1.0), ("eval", 0.5)):
        w = tbx.SummaryWriter(str(root / run), flush_secs=1)
        for i in range(200):
            w.add_scalar("loss", scale * math.exp(-i / 50) + 0.05 * math.sin(i), i)
            w.add_scalar("metrics/acc", 1 - scale * math.exp(-i / 40), i)
        writers[run] = w
    w = writers["train"]
    rng = np.random.default_rng(0)
    for i in range(DENSE):
        w.add_scalar("dense", float(rng.normal()) + i / 2000, i)
    w.add_scalar(EVIL_TAG, 1.0, 0)
    w.add_scalar(EVIL_TAG, 2.0, 1)
    w.add_text("notes", EVIL_TEXT, 0)
    w.add_text("notes", "| a | b |\n|---|---|\n| 1 | 2 |", 1)
    for step in range(3):
        img = np.zeros((3, 24, 32), dtype=np.uint8)
        img[step % 3] = 255  # red, then green, then blue
        w.add_image("samples/rgb", img, step)
        w.add_histogram("weights", rng.normal(step * 0.5, 1.0, 1000), step)
        w.add_pr_curve("pr", rng.integers(0, 2, 100), rng.random(100), step)
    t = np.linspace(0, 1, 8000, dtype=np.float32)
    w.add_audio("tone", np.sin(2 * np.pi * 440 * t)[None], 0, sample_rate=8000)
    for i in range(200):
        w.add_scalar("band/lo", math.exp(-i / 50) - 0.2, i)
        w.add_scalar("band/hi", math.exp(-i / 50) + 0.2, i)
    w.add_custom_scalars({"Overview": {"losses": ["Multiline", ["loss", "metrics/.*"]],
                                       "band": ["Margin", ["loss", "band/lo", "band/hi"]]}})
    w.add_hparams({"lr": 0.1, "opt": "adam"}, {"hp/final": 0.5}, name="hp1")
    w.add_hparams({"lr": 0.01, "opt": "sgd"}, {"hp/final": 0.7}, name="hp2")
    for x in writers.values():
        x.flush()
    return writers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    root = tmp_path_factory.mktemp("logs")
    writers = _write_logdir(root)
    app = create_app(LogdirProvider(str(root)), reload_interval=0.2)
    with running(app) as url:
        yield {"url": url, "writers": writers, "root": root}
    for w in writers.values():
        w.close()


@pytest.fixture
def page(browser, server):  # noqa: F811 (browser is the shared fixture)
    with page_at(browser, server["url"]) as pg:
        yield pg


def _shot(pg, name):
    screenshot(pg, f"viewer-{name}")


def _card(pg, title):
    return pg.locator(f'.chart-card[data-title="{title}"]')


def _wait_drawn(pg, title, timeout=30_000):
    pg.wait_for_function(
        """t => { const c = [...document.querySelectorAll('.chart-card')]
                 .find(e => e.dataset.title === t);
               return c && Number(c.dataset.points) > 0 && c.querySelector('canvas'); }""",
        arg=title, timeout=timeout)


def _series_js(pg, title, run, what):
    return pg.evaluate(
        """([t, r, what]) => { const c = [...window.__tbx.charts().values()]
               .find(c => c.spec && c.spec.title === t);
             const s = c && c.series.get(r + '\\u0000' + t);
             if (!s) return null;
             if (what === 'last') return s.step[s.step.length - 1];
             if (what === 'smoothed') return s.smoothed ? Array.from(s.smoothed) : null;
             if (what === 'n') return s.step.length;
             return null; }""", [title, run, what])


def _canvas_ink(pg, selector):
    """Number of non-white pixels in the first canvas under ``selector``."""
    return pg.evaluate(
        """sel => { const cv = document.querySelector(sel + ' canvas');
             if (!cv) return -1;
             const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
             let n = 0;
             for (let i = 0; i < d.length; i += 4)
               if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
             return n; }""", selector)


def test_lists_runs_and_tags(page):
    runs = page.locator("#run-list .run-name").all_inner_texts()
    assert "train" in runs and "eval" in runs
    titles = page.locator(".chart-card .card-title").all_inner_texts()
    assert {"loss", "metrics/acc", "dense"} <= set(titles)
    groups = page.locator("details.group > summary").all_inner_texts()
    assert any(g.startswith("metrics") for g in groups)
    _wait_drawn(page, "loss")
    _shot(page, "scalars")


def test_chart_draws(page):
    _wait_drawn(page, "loss")
    ink = _canvas_ink(page, '.chart-card[data-title="loss"]')
    assert ink > 500, f"chart canvas looks blank ({ink} inked pixels)"
    assert _card(page, "loss").get_attribute("data-series") == "2"
    # hover: the legend shows a value for every run (and the step)
    box = _card(page, "loss").locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    values = _card(page, "loss").locator(".u-legend .u-value").all_inner_texts()
    assert len(values) == 5 and all(v and v != "–" for v in values), values
    _shot(page, "scalars-hover")


def test_live_point_appears_without_reload(page, server):
    """A point written while the page is open reaches the open chart by push, without a reload.
    (Latency is measured in benchmarks/bench_viewer.py, not here: a loaded machine may be slow.)"""
    _wait_drawn(page, "loss")
    assert _series_js(page, "loss", "train", "last") == 199
    w = server["writers"]["train"]
    w.add_scalar("loss", 3.0, 500)
    w.flush()
    page.wait_for_function(
        """() => { const c = [...window.__tbx.charts().values()]
               .find(c => c.spec && c.spec.title === 'loss');
             const s = c && c.series.get('train\\u0000loss');
             return s && s.step[s.step.length - 1] === 500; }""", timeout=30_000)
    assert page.evaluate("() => location.hash") == "#scalars"  # no reload
    _shot(page, "scalars-live")


def test_zoom_requeries_raw_points(page):
    card = _card(page, "dense")
    card.scroll_into_view_if_needed()
    _wait_drawn(page, "dense")
    assert card.get_attribute("data-downsampled") == "true"
    n_before = int(card.get_attribute("data-points"))
    assert n_before < DENSE
    requests = int(card.get_attribute("data-requests"))
    over = card.locator(".u-over")
    box = over.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.40, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.45, y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        """r => { const c = [...document.querySelectorAll('.chart-card')]
                 .find(e => e.dataset.title === 'dense');
               return Number(c.dataset.requests) > r && c.dataset.downsampled === 'false'; }""",
        arg=requests, timeout=30_000)
    n = _series_js(page, "dense", "train", "n")
    assert 0 < n < 0.1 * DENSE  # about 5% of the steps: every raw point in the window
    _shot(page, "scalars-zoomed")
    card.locator("button.reset-zoom").click()
    page.wait_for_function(
        """() => { const c = [...document.querySelectorAll('.chart-card')]
                 .find(e => e.dataset.title === 'dense');
               return c.dataset.downsampled === 'true'; }""", timeout=30_000)


def test_smoothing_changes_curve(page):
    _wait_drawn(page, "loss")
    before = _series_js(page, "loss", "train", "smoothed")
    shot0 = _card(page, "loss").locator("canvas").screenshot()
    page.evaluate("""() => { const s = document.getElementById('smoothing');
                       s.value = '0.95'; s.dispatchEvent(new Event('input')); }""")
    page.wait_for_function(
        """() => { const c = [...window.__tbx.charts().values()]
               .find(c => c.spec && c.spec.title === 'loss');
             const s = c && c.series.get('train\\u0000loss');
             return s && s.smoothed && Math.abs(window.__tbx.state.smoothing - 0.95) < 1e-9
                    && c.requests > 1 && !c.abort; }""", timeout=30_000)
    frames(page)  # the redraw
    after = _series_js(page, "loss", "train", "smoothed")
    assert before is not None and after is not None
    assert not np.allclose(before[:len(after)][:150], after[:150])
    shot1 = _card(page, "loss").locator("canvas").screenshot()
    assert shot0 != shot1


def test_image_slider_changes_image(page):
    page.goto(page.url.split("#")[0] + "#images")
    card = page.locator('.images-card[data-tag="samples/rgb"]')
    card.wait_for()
    page.wait_for_function(
        """() => { const i = document.querySelector('.images-card img.thumb');
               return i && i.complete && i.naturalWidth > 0; }""", timeout=10_000)
    assert card.get_attribute("data-step") == "2"

    def pixel():
        return page.evaluate("""() => { const i = document.querySelector('.images-card img.thumb');
            const c = document.createElement('canvas'); c.width = i.naturalWidth;
            c.height = i.naturalHeight; const x = c.getContext('2d'); x.drawImage(i, 0, 0);
            return Array.from(x.getImageData(1, 1, 1, 1).data.slice(0, 3)); }""")

    assert pixel() == [0, 0, 255]
    _shot(page, "images")
    src_before = card.locator("img.thumb").get_attribute("src")
    slider = card.locator("input.step-slider")
    slider.evaluate("s => { s.value = '0'; s.dispatchEvent(new Event('input')); }")
    assert card.get_attribute("data-step") == "0"
    assert card.locator("img.thumb").get_attribute("src") != src_before
    page.wait_for_function(
        """() => { const i = document.querySelector('.images-card img.thumb');
               return i && i.complete && i.naturalWidth > 0; }""")
    assert pixel() == [255, 0, 0]
    card.locator("img.thumb").click()
    page.locator(".overlay img.full").wait_for()
    _shot(page, "images-full")


def test_injected_script_shown_as_text(page):
    card = page.locator(".chart-card", has=page.locator(".card-title", has_text="<script>"))
    card.wait_for()
    assert card.locator(".card-title").inner_text() == EVIL_TAG
    page.goto(page.url.split("#")[0] + "#text")
    page.wait_for_function("""() => { const cs = [...document.querySelectorAll('.text-card')];
        return cs.length > 0 && cs.every(c => c.querySelector('.text-item, .empty')); }""")
    text = page.locator(".text-card").inner_text()
    assert "<script>window.__pwned=2</script>" in text
    assert page.locator(".text-card .markdown strong").first.inner_text() == "bold"
    assert page.locator(".text-card .markdown table").count() == 1
    assert page.locator(".text-card script, .text-card img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    _shot(page, "text")


@pytest.mark.parametrize("dash", ["histograms", "distributions", "audio", "pr_curves",
                                  "hparams", "custom_scalars"])
def test_dashboard_screenshots(page, dash):
    page.goto(page.url.split("#")[0] + f"#{dash}")
    page.wait_for_function("d => document.body.dataset.dashboard === d", arg=dash)
    if dash == "hparams":
        page.locator(".hp-table tbody tr").nth(1).wait_for()
        assert page.locator(".hp-table tbody tr").count() == 2
        head = page.locator(".hp-table th").all_inner_texts()
        assert any("lr" in h for h in head) and any("hp/final" in h for h in head)
    elif dash == "custom_scalars":
        _wait_drawn(page, "losses")
        assert int(page.locator('.chart-card[data-title="losses"]')
                   .get_attribute("data-series")) >= 2
        _wait_drawn(page, "band")
        assert _canvas_ink(page, '.chart-card[data-title="band"]') > 500
    elif dash == "audio":
        page.locator(".audio-card audio").wait_for()
    else:
        sel = {"histograms": ".histograms-card", "distributions": ".distributions-card",
               "pr_curves": ".pr_curves-card"}[dash]
        page.wait_for_selector(f"{sel} canvas", timeout=10_000)
        assert _canvas_ink(page, sel) > 200
    frames(page)
    _shot(page, dash)


def test_filters_legend_and_hparams_link(page):
    _wait_drawn(page, "loss")
    page.fill("#tag-filter", "^metrics/")
    page.wait_for_function("() => document.querySelectorAll('.chart-card').length === 1")
    assert page.locator(".chart-card .card-title").all_inner_texts() == ["metrics/acc"]
    page.fill("#tag-filter", "")
    page.wait_for_function("() => document.querySelectorAll('.chart-card').length > 1")
    _wait_drawn(page, "loss")
    assert _card(page, "loss").get_attribute("data-series") == "2"
    page.locator("#run-list label.run", has_text="eval").locator("input").uncheck()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.chart-card')]
                 .find(e => e.dataset.title === 'loss').dataset.series === '1'""")
    page.locator("#run-list label.run", has_text="eval").locator("input").check()
    page.fill("#run-filter", "^eval$")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.chart-card')]
                 .find(e => e.dataset.title === 'loss').dataset.series === '1'""")
    assert page.locator("#run-list .run-name").all_inner_texts() == ["eval"]
    page.fill("#run-filter", "(")  # invalid regex: flagged, nothing breaks
    assert "invalid" in page.locator("#run-filter").get_attribute("class")
    page.fill("#run-filter", "")
    page.goto(page.url.split("#")[0] + "#hparams")
    page.locator(".hp-table tbody tr").nth(1).wait_for()
    page.locator(".hp-table th", has_text="hp/final").click()
    page.locator(".hp-table th", has_text="hp/final").click()  # descending
    assert page.locator(".hp-table tbody tr td a").first.inner_text() == "train/hp2"
    page.fill(".hp-filter", "sgd")
    page.wait_for_function("() => document.querySelectorAll('.hp-table tbody tr').length === 1")
    page.locator(".hp-table tbody tr td a").first.click()
    page.wait_for_function("() => document.body.dataset.dashboard === 'scalars'")
    assert page.locator("#run-filter").input_value() == "^train/hp2$"
    _wait_drawn(page, "hp/final")
