"""tbx report in real Chromium: the file opened from disk (file://) draws the viewer's charts
with the expected series and last values, hover shows the right value, runs toggle, zoom
works, nothing is fetched, and markup in run and tag names or text never executes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from browser_helpers import browser, screenshot  # noqa: F401  (fixture)
from report_helpers import EVIL_RUN, EVIL_TAG, SCRIPT_TAG, loss_a, make_logdir, make_wide_logdir

from tbx.cli import main
from tbx.report.page import BUNDLE_DIR

if not (BUNDLE_DIR / "report.js").is_file():
    pytest.skip("report page not built (npm ci && npm run build in web/)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("rb") / "logs"
    want = make_logdir(root)
    out = root.parent / "report.html"
    assert main(["report", str(root), "-o", str(out), "--width", "100", "-q"]) == 0
    return out, want


def chart_js(title: str, body: str) -> str:
    """A JS function over the chart whose title is ``title`` (passed as an argument)."""
    return ("(t) => { const el = [...document.querySelectorAll('.chart-card')]"
            ".find((e) => e.dataset.title === t); const c = el && el.__chart; " + body + " }")


def js_number(v: float) -> str:
    """The chart legend's text for a float32 value in [1e-5, 1e4) (web/src/format.js
    fmtValue): the shortest decimal that reads back as the same float32."""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


DECODED = ("(k) => { const s = window.__tbx.data.get(k); "
           "return [Array.from(s.step), Array.from(s.value), Array.from(s.wall)]; }")


def test_report_from_disk(browser, report):  # noqa: F811
    path, want = report
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    errors, requests, console = [], [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: console.append(m.text))
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(path.as_uri())
    pg.wait_for_selector("body[data-ready=true]", timeout=30_000)

    header = pg.text_content("#report-meta")
    assert header.startswith(f"{path.parent / 'logs'} · 4 runs · ") and " · tbx " in header
    runs = pg.eval_on_selector_all("#run-list .run-name", "els => els.map((e) => e.textContent)")
    assert runs == want["runs"]

    # the loss chart: three series, the expected last values and steps
    pg.wait_for_function(chart_js("loss", "return c && c.el.dataset.series === '3';"), arg="loss",
                         timeout=30_000)
    last = pg.evaluate(chart_js("loss", "return [...c.series.values()].map((s) => "
                                        "[s.run, s.step[s.step.length - 1], "
                                        "s.value[s.value.length - 1], s.total, s.downsampled]);"),
                       "loss")
    assert {r: (st, v) for r, st, v, _, _ in last} == {
        r: (want["loss_steps"][r], want["loss_last"][r]) for r in ("a", "b", "big")}
    totals = {r: (t, d) for r, _, _, t, d in last}
    assert totals == {"a": (100, False), "b": (50, False), "big": (50_000, True)}
    # every point the page decoded: the viewer's M4 at 100 px, values exact, wall times to the ms
    import tbx
    from tbx.seriesmath import downsample_indices

    full = tbx.read(path.parent / "logs").scalars
    for run in ("a", "big"):
        f = full[(full.run == run) & (full.tag == "loss")]
        idx = downsample_indices(f.step.to_numpy().astype(float), f.value.to_numpy(), 100)
        step, value, wall = pg.evaluate(DECODED, f"{run}\0loss")
        assert step == f.step.to_numpy()[idx].tolist()
        assert value == f.value.to_numpy()[idx].tolist()
        assert max(abs(a - b) for a, b in zip(wall, f.wall_time.to_numpy()[idx], strict=True)) \
            <= 0.0005 + 1e-6
    drawn = pg.evaluate(chart_js("loss", "return c.plot.series.slice(1).map((s) => s.label);"),
                        "loss")
    assert drawn == ["a (raw)", "a", "b (raw)", "b", "big (raw)", "big"]  # smoothing 0.6

    # run toggle: hide 'big'; smoothing off; the chart redraws with two raw series
    pg.click("#run-list label[title='big'] input")
    pg.evaluate("() => { const s = document.getElementById('smoothing'); s.value = '0';"
                " s.dispatchEvent(new Event('input')); }")
    pg.wait_for_function(chart_js("loss", "return c.el.dataset.series === '2' && "
                                          "c.plot.series.length === 3;"), arg="loss")
    assert pg.evaluate(chart_js("loss", "return c.plot.series.slice(1).map((s) => s.label);"),
                       "loss") == ["a", "b"]

    # hover at step 50: the legend shows run a's value there
    x, y = pg.evaluate(chart_js("loss", "c.el.scrollIntoView(); const u = c.plot; "
                                        "const r = u.over.getBoundingClientRect(); "
                                        "return [r.left + u.valToPos(50, 'x'), "
                                        "r.top + r.height / 2];"), "loss")
    pg.mouse.move(x, y)
    pg.wait_for_function(chart_js("loss", "return c.plot.cursor.idx != null && "
                                          "c.plot.data[0][c.plot.cursor.idx] === 50;"),
                         arg="loss")
    legend = pg.evaluate(chart_js("loss", "return [...c.el.querySelectorAll('.u-legend "
                                          ".u-series')].map((r) => r.textContent);"), "loss")
    assert legend[0].replace("\u00a0", " ").startswith("step") and legend[0].endswith("50")
    assert legend[1] == f"a{js_number(loss_a(50))}"
    assert legend[2] == "b" + js_number(2.0 - 50 / 100.0)
    screenshot(pg, "report-hover")

    # zoom by dragging, reset by double-click
    x2 = pg.evaluate(chart_js("loss", "const u = c.plot; return u.over.getBoundingClientRect()"
                                      ".left + u.valToPos(80, 'x');"), "loss")
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x2, y, steps=5)
    pg.mouse.up()
    pg.wait_for_function(chart_js("loss", "return c.el.dataset.zoomed === 'true';"), arg="loss")
    lo, hi = pg.evaluate(chart_js("loss", "return [c.plot.scales.x.min, c.plot.scales.x.max];"),
                         "loss")
    assert math.isclose(lo, 50, abs_tol=1) and math.isclose(hi, 80, abs_tol=1)

    # markup in names and text: shown as text, never run
    for tag in (EVIL_TAG, SCRIPT_TAG):
        pg.evaluate(chart_js(tag, "c.el.scrollIntoView();"), tag)
        pg.wait_for_function(chart_js(tag, "return c.el.dataset.series === '1';"), arg=tag)
        title = pg.evaluate(chart_js(tag, "return c.el.querySelector('.card-title').textContent;"),
                            tag)
        assert title == tag
        label = pg.evaluate(chart_js(tag, "return c.plot.series[1].label;"), tag)
        assert label == EVIL_RUN
    pg.evaluate("() => document.getElementById('text').scrollIntoView()")
    text_html = pg.inner_html("#text .markdown")
    assert "<strong>bold</strong>" in text_html and "<script" not in text_html
    assert pg.evaluate("() => window.__pwned") is None
    assert pg.evaluate("() => [...document.querySelectorAll('*')].filter((e) => "
                       "[...e.attributes].some((a) => a.name.startsWith('on'))).length") == 0
    assert pg.evaluate("() => document.scripts.length") == 3

    # hparams table with final metrics; the last image
    rows = pg.eval_on_selector_all("#hparams tr", "trs => trs.map((tr) => "
                                   "[...tr.children].map((c) => c.textContent))")
    assert rows == [["run", "lr", "optimizer", "hparam/final_acc"],
                    ["a", "0.01", "adam", "0.875"], ["b", "0.1", "sgd", "0.5"]]
    img = pg.evaluate("() => { const i = document.querySelector('#images img'); "
                      "return [i.naturalWidth, i.naturalHeight, i.src.slice(0, 22), "
                      "i.closest('.card').querySelector('.step-label').textContent]; }")
    assert img == [12, 8, "data:image/png;base64,", "step 7 (2 points)"]

    assert [u for u in requests if not u.startswith("data:")] == [path.as_uri()]
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m]
    ctx.close()
    assert not errors, errors


def test_report_within_a_budget(browser, tmp_path):  # noqa: F811
    """A report whose width the size budget lowered: every series the page decodes holds the
    viewer's M4 points at the width used, values exact."""
    import re

    import numpy as np

    from tbx.seriesmath import downsample_indices

    root = tmp_path / "logs"
    want = make_wide_logdir(root, runs=2, tags=10, steps=4000)
    out = tmp_path / "budget.html"
    assert main(["report", str(root), "-o", str(out), "--max-size", "0.2", "-q"]) == 0
    size = out.stat().st_size
    assert size <= 200_000
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(out.as_uri())
    pg.wait_for_selector("body[data-ready=true]", timeout=30_000)
    note = pg.text_content("#side .note")
    width = int(re.search(r"downsampled to (\d+) px per chart", note).group(1))
    assert 50 <= width < 2000
    assert pg.evaluate("() => window.__tbx.data.size") == 20
    for (run, tag), (step, wall, value) in want.items():
        idx = downsample_indices(step.astype(np.float64), value, width)
        got_step, got_value, got_wall = pg.evaluate(DECODED, f"{run}\0{tag}")
        assert got_step == step[idx].tolist() and got_value == value[idx].tolist()
        assert np.abs(np.array(got_wall) - wall[idx]).max() <= 0.0005 + 1e-6
    ctx.close()
    assert not errors, errors
