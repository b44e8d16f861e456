"""Every number a chart prints is the logged one (issue 17, items 1-3; issue 10, run colours):
in real Chromium, over a logdir written by tbx.SummaryWriter and served by the real reader.
Values are read from the page's own chart data (uPlot's tick splits and labels, the cards'
fetched points) and the legend's text, never from pixels.

Skipped, with the reason, when playwright or /usr/bin/chromium is missing (.ci/run installs
both).
"""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import browser, page_at, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx

BIG = 1_000_000.0
HUGE = 1e12
NNBSP = "\u202f"


def _gap_steps(r: int) -> list[int]:
    return [0, 10, 20, 40, 50] if r == 7 else list(range(0, 55, 5))


def _gap_value(r: int, step: int) -> float:
    return r + step / 64  # exact in float32


def _write_logdir(root) -> None:
    w = tbx.SummaryWriter(str(root / "offset"))
    for k in range(100):
        w.add_scalar("offset/big", BIG + 0.25 * k, k)  # float32: exact
        w.add_scalar("offset/huge", HUGE + 0.25 * k, k, new_style=True, double_precision=True)
    # every value 0.5: tensorboardX's bucket layout, one bucket [0.4707, 0.5178) holds them
    for step in range(3):
        w.add_histogram("hist/const", np.full(1000, 0.5), step)
        w.add_histogram("hist/offset", BIG + np.random.default_rng(step).normal(0, 1, 1000), step)
    # PR curve: precisions that differ only in their 4th-5th digit, one of them NaN
    t = 11
    prec = np.array([0.50012, 0.50034, 0.50056, np.nan, 0.50078, 0.501, 0.5012, 0.5014,
                     0.5016, 0.5018, 0.502])
    rec = np.linspace(1.0, 0.0, t)
    ones = np.arange(t, dtype=np.float64)
    w.add_pr_curve_raw("pr/close", ones, ones, ones, ones, prec, rec, 0, num_thresholds=t)
    w.add_custom_scalars({"Custom": {"gaps": ["Multiline", ["^gap$"]]}})
    w.close()
    for r in range(8):
        g = tbx.SummaryWriter(str(root / f"gap{r}"))
        for step in _gap_steps(r):  # fixed wall times: each run's own clock rate
            g.add_scalar("gap", _gap_value(r, step), step, walltime=1.7e9 + step * (1 + r / 10))
        g.close()
    nd = tbx.SummaryWriter(str(root / "nd"))
    for step in range(11):
        v = {5: float("nan"), 7: -2.0, 8: float("inf")}.get(step, 1.0 + step)
        nd.add_scalar("nd", v, step)
    nd.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("numbers")
    _write_logdir(root)
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    with running(create_app(LogdirProvider(str(root)), reload_interval=0.2)) as url:
        yield url


@pytest.fixture
def page(browser, server):  # noqa: F811 (browser is the shared fixture)
    with page_at(browser, server) as pg:
        yield pg


# The page's own chart objects --------------------------------------------------------------

_FIND = """t => [...window.__tbx.charts().values()].find(c => c.spec && c.spec.title === t)"""


def _chart_ready(pg, title, series=1):
    pg.wait_for_function(
        f"""([t, n]) => {{ const c = ({_FIND})(t);
               if (c) c.el.scrollIntoView({{block: 'center'}});
               return c && c.plot && Number(c.el.dataset.series) >= n && !c.abort
                      && c.plot.data[0].length > 0; }}""", arg=[title, series], timeout=15_000)


def _y_ticks(pg, title):
    """[(tick value, label)] as uPlot drew them, and the offset text beside the axis."""
    return pg.evaluate(
        f"""t => {{ const c = ({_FIND})(t); const ax = c.plot.axes[1];
               const b = c.el.querySelector('.axis-offset');
               return {{splits: ax._splits, labels: ax._values,
                        offset: b && !b.hidden ? b.textContent : ''}}; }}""", title)


def _num(s: str) -> float:
    """A number as the page prints it (digits grouped by narrow spaces; NaN, +Inf, -Inf)."""
    s = s.replace(NNBSP, "").replace(" ", "")
    return {"+Inf": float("inf"), "-Inf": float("-inf")}.get(s) or float(s)


def _check_ticks(t):
    labels = [lab for lab in t["labels"] if lab not in ("", None)]
    splits = [s for s, lab in zip(t["splits"], t["labels"], strict=True) if lab not in ("", None)]
    assert len(labels) >= 3, t
    assert len(set(labels)) == len(labels), f"tick labels not distinct: {labels}"
    off = _num(t["offset"]) if t["offset"] else 0.0
    incr = min(b - a for a, b in zip(splits, splits[1:], strict=False))
    for s, lab in zip(splits, labels, strict=True):
        assert abs(off + _num(lab) - s) <= 1e-6 * incr, (s, lab, t["offset"])


def _hover(pg, title, x, logy=False):
    """Move the real mouse over chart ``title`` at x value ``x``; {legend label: value text}."""
    pos = pg.evaluate(
        f"""([t, x]) => {{ const c = ({_FIND})(t);
               const r = c.plot.over.getBoundingClientRect();
               const px = Math.min(Math.max(c.plot.valToPos(x, 'x'), 1), r.width - 1);
               return [r.left + px, r.top + r.height / 2]; }}""", [title, x])
    pg.mouse.move(pos[0], pos[1])
    return pg.evaluate(
        f"""([t, x]) => {{ const c = ({_FIND})(t);
               const rows = [...c.el.querySelectorAll('.u-legend .u-series')];
               return Object.fromEntries(rows.map(r => [
                 r.querySelector('.u-label').textContent,
                 r.querySelector('.u-value').textContent])); }}""",
        [title, x])


# Item 1: large offsets keep their digits ---------------------------------------------------

@pytest.mark.parametrize(("tag", "base", "shown"), [
    ("offset/big", BIG, ["1 000 000.25", "1 000 000.5", "1 000 000.75"]),
    ("offset/huge", HUGE, ["1 000 000 000 000.25", "1 000 000 000 000.5",
                           "1 000 000 000 000.75"]),
])
def test_large_offset_ticks_and_hover(page, tag, base, shown):
    page.fill("#tag-filter", f"^{tag}$")
    _chart_ready(page, tag)
    t = _y_ticks(page, tag)
    _check_ticks(t)
    # the ticks span the data (99 x 0.25), not [0, 2e12] with the line flattened on 1e12
    ticks = [s for s, lab in zip(t["splits"], t["labels"], strict=True) if lab]
    assert base - 25 <= min(ticks) and max(ticks) <= base + 50, t
    for k, want in zip((1, 2, 3), shown, strict=True):
        legend = _hover(page, tag, k)
        assert legend["step"] == str(k)
        assert legend["offset (raw)"].replace(NNBSP, " ") == want, legend
        assert _num(legend["offset (raw)"]) == base + 0.25 * k
    screenshot(page, f"numbers-{tag.replace('/', '-')}")


# Item 2: hover values belong to their step -------------------------------------------------

def test_hover_value_of_a_run_without_that_step(page):
    page.fill("#run-filter", "^gap")
    page.fill("#tag-filter", "^gap$")
    _chart_ready(page, "gap", series=8)
    legend = _hover(page, "gap", 25)
    assert legend["step"] == "25"
    # gap7 has no step 25: its nearest point (step 20) is shown, with its own step
    assert legend["gap7 (raw)"] == f"{_gap_value(7, 20):g} (step 20)", legend
    for r in range(7):
        assert _num(legend[f"gap{r} (raw)"]) == _gap_value(r, 25), legend
    # the smoothed lines follow the same rule
    assert legend["gap7"].endswith("(step 20)"), legend
    assert "(step" not in legend["gap0"], legend
    screenshot(page, "numbers-gap-hover")


def test_time_axes_name_their_own_time(page):
    """On the relative and wall-time axes runs rarely share an x: an entry whose run has no
    point at the hovered time names its own time instead of posing as the hovered one."""
    import re

    page.fill("#run-filter", "^gap")
    page.fill("#tag-filter", "^gap$")
    _chart_ready(page, "gap", series=8)
    for axis in ("relative", "wall_time"):
        page.select_option("#xaxis", axis)
        page.wait_for_function(f"""() => {{ const c = ({_FIND})('gap');
                                     return c && c.plot && c.sig.includes('"{axis}"'); }}""")
        _chart_ready(page, "gap", series=8)
        x = page.evaluate(f"() => ({_FIND})('gap').plot.data[0][3]")
        legend = _hover(page, "gap", x)
        # the x the cursor is on, and the runs with a point there, from the chart's own data
        x = page.evaluate(f"() => {{ const u = ({_FIND})('gap').plot; "
                          "return u.data[0][u.cursor.idx]; }")
        at_x = set(page.evaluate(f"""x => [...({_FIND})('gap').series.values()]
                                    .filter(s => Array.from(({_FIND})('gap').xOf(s)).includes(x))
                                    .map(s => s.run)""", x))
        assert len(at_x) == 1, (x, at_x)  # step 5: gap0 at 5 s, gap1 at 5.5 s, gap2 at 6 s ...
        for r in range(8):
            v = legend[f"gap{r} (raw)"]
            if f"gap{r}" in at_x:
                assert re.fullmatch(r"-?[\d.]+", v), (axis, r, legend)
            else:
                assert re.fullmatch(r"-?[\d.]+ \(at .+\)", v), (axis, r, legend)


def test_custom_scalars_hover_same_rule(page):
    page.goto(page.url.split("#")[0] + "#custom_scalars")
    page.wait_for_function("() => document.body.dataset.dashboard === 'custom_scalars'")
    _chart_ready(page, "gaps", series=8)
    legend = _hover(page, "gaps", 25)
    assert legend["gap7 · gap (raw)"] == f"{_gap_value(7, 20):g} (step 20)", legend
    assert _num(legend["gap3 · gap (raw)"]) == _gap_value(3, 25), legend


def test_points_the_chart_does_not_draw(page):
    page.fill("#run-filter", "^nd$")
    _chart_ready(page, "nd")
    assert _hover(page, "nd", 5)["nd (raw)"] == "NaN"
    assert _hover(page, "nd", 8)["nd (raw)"] == "+Inf"
    assert _hover(page, "nd", 7)["nd (raw)"] == "-2"
    assert _hover(page, "nd", 6)["nd (raw)"] == "7"
    page.check("#logy")
    page.wait_for_function(f"""() => {{ const c = ({_FIND})('nd');
                                 return c && c.plot && c.sig.includes('true]'); }}""")
    _chart_ready(page, "nd")
    legend = _hover(page, "nd", 7)
    assert legend["nd (raw)"] == "-2 (not on the log scale)", legend
    assert _hover(page, "nd", 5)["nd (raw)"] == "NaN"
    assert _hover(page, "nd", 9)["nd (raw)"] == "10"
    _check_ticks(_y_ticks(page, "nd"))


# Item 3: percentiles inside the data --------------------------------------------------------

def _card_data(pg, dash, tag):
    pg.goto(pg.url.split("#")[0] + f"#{dash}")
    pg.wait_for_function("d => document.body.dataset.dashboard === d", arg=dash)
    sel = f'.{dash}-card[data-tag="{tag}"]'
    pg.locator(sel).scroll_into_view_if_needed()
    pg.wait_for_function(f"""() => {{ const e = document.querySelector('{sel}');
                                 return e && e.__chart.data && e.dataset.drawn; }}""",
                         timeout=15_000)
    return pg.evaluate(f"""() => {{ const c = document.querySelector('{sel}').__chart;
        const ax = c.plot ? c.plot.axes[1] : null;
        return {{points: c.data.points, ticks: c.ticks || null,
                 y: ax ? {{splits: ax._splits, labels: ax._values,
                          offset: (c.el.querySelector('.axis-offset:not([hidden])') || {{}})
                                    .textContent || ''}} : null}}; }}""")


def test_distribution_of_a_constant_is_the_constant(page):
    d = _card_data(page, "distributions", "hist/const")
    assert len(d["points"]) == 3
    for p in d["points"]:
        assert p["bps"] == [0.5] * 9, p["bps"]
    screenshot(page, "numbers-distribution-const")


def test_distribution_ticks_with_large_offset(page):
    d = _card_data(page, "distributions", "hist/offset")
    for p in d["points"]:
        assert BIG - 10 < p["bps"][0] <= p["bps"][4] <= p["bps"][8] < BIG + 10
    _check_ticks(d["y"])


def test_histogram_of_a_constant_draws_the_constant(page):
    d = _card_data(page, "histograms", "hist/const")
    for p in d["points"]:
        edges = [e for e, c in zip(p["left"] + p["right"], p["count"] * 2, strict=True) if c]
        assert edges and set(edges) == {0.5}, p
    xt = d["ticks"]["x"]
    _check_ticks({"splits": xt["values"], "labels": xt["labels"], "offset": xt["offsetText"]})
    assert min(xt["values"]) <= 0.5 <= max(xt["values"])


def test_histogram_ticks_with_large_offset(page):
    d = _card_data(page, "histograms", "hist/offset")
    xt = d["ticks"]["x"]
    _check_ticks({"splits": xt["values"], "labels": xt["labels"], "offset": xt["offsetText"]})
    screenshot(page, "numbers-histogram-offset")


def test_pr_curve_hover_digits(page):
    page.goto(page.url.split("#")[0] + "#pr_curves")
    sel = '.pr_curves-card[data-tag="pr/close"]'
    page.wait_for_function(f"""() => {{ const e = document.querySelector('{sel}');
                                   return e && e.__chart.plot; }}""", timeout=15_000)
    shown = {}
    for i in range(11):
        pos = page.evaluate(f"""i => {{ const c = document.querySelector('{sel}').__chart;
            const r = c.plot.over.getBoundingClientRect();
            const px = Math.min(Math.max(c.plot.valToPos(c.plot.data[0][i], 'x'), 1), r.width - 1);
            return [r.left + px, r.top + r.height / 2]; }}""",
                            i)
        page.mouse.move(pos[0], pos[1])
        vals = page.evaluate(f"""() => [...document.querySelectorAll('{sel} .u-legend .u-value')]
                                       .map(e => e.textContent)""")
        shown[vals[0]] = vals[1]
    # recall 0.1, 0.2, ... (reversed thresholds) with their own precision; NaN never borrowed
    prec = [0.50012, 0.50034, 0.50056, None, 0.50078, 0.501, 0.5012, 0.5014, 0.5016, 0.5018,
            0.502][::-1]
    rec = [round(x, 10) for x in np.linspace(0.0, 1.0, 11)]
    got = {round(float(k), 10): v for k, v in shown.items()}
    assert set(got) == set(rec), shown
    for r, p in zip(rec, prec, strict=True):
        if p is None:
            assert got[r] == "–", shown
        else:
            assert abs(float(got[r]) - p) < 5e-8, (r, got[r], p)
