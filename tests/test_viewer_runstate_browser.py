"""The run table's select, pin and hide survive a reload, in real Chromium (Playwright, Debian's
Chromium): on a generated 2,000-run sweep the same runs are selected, pinned and hidden after a
reload and the scalar chart shows the same runs with the same notice; the stored state stays
small; it belongs to one logdir of one server (a server on another logdir at the same address
starts afresh, and the first logdir's state comes back with it), and names of runs that no
longer exist are ignored. The run filter, grouping and runs per chart survive a reload the same
way (same chart notice). The run table's metric headers say which column is last, min, max."""

from __future__ import annotations

import contextlib
import json
import re
import shutil

import pytest
from browser_helpers import browser, page_at  # noqa: F401 (fixture)
from viewer_fakes import running

from tbx.viewer.plugins.runs import demo_data as D

RUNS = 2000
STEPS = 10


@contextlib.contextmanager
def serve(logdir, port: int = 0):
    """The real app over ``logdir`` on ``port`` (0: a free one); yields ``(url, port)``."""
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    with running(create_app(LogdirProvider(str(logdir)), reload_interval=2.0),
                 port=port) as url:
        yield url, int(url.rstrip("/").rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    names = D.write_sweep(root, RUNS, STEPS)
    with serve(root) as (url, _):
        yield {"url": url, "names": names}


def run_state(pg) -> dict:
    """The page's selection: deselected, pinned and hidden runs (sorted lists)."""
    return pg.evaluate("""() => { const s = window.__tbx.state;
        return {deselected: [...s.hidden].sort(), pinned: [...s.pinned].sort(),
                hidden: [...s.excluded].sort()}; }""")


def stored(pg) -> str:
    """The stored state of the page's logdir (JSON text)."""
    return pg.evaluate("() => localStorage.getItem('tbx.runState:' + window.__tbx.state.logdir)")


def names_of(coded: list) -> list[str]:
    """Front-coded names ([shared prefix length, rest, ...]) as names."""
    out, prev = [], ""
    for k, rest in zip(coded[::2], coded[1::2], strict=True):
        prev = prev[:k] + rest
        out.append(prev)
    return out


def wait_loss(pg, selected: int) -> dict:
    pg.wait_for_function(
        """([n]) => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c && c.dataset.selected === String(n) && c.__chart.series.size > 0
                   && !c.__chart.abort && !c.__chart.stale; }""", arg=[selected], timeout=60_000)
    return pg.evaluate("""() => { const c = document.querySelector(
        '.chart-card[data-title="loss"]'); return {notice: c.dataset.notice,
        runs: [...c.__chart.series.keys()].map(k => k.split('\\0')[0]).sort()}; }""")


def reload(pg, runs: int) -> None:
    pg.reload()
    pg.wait_for_selector("body[data-ready=true]", timeout=60_000)
    pg.wait_for_function(f"() => window.__tbx.state.runs.length === {runs}", timeout=60_000)


def table_row(pg, run: str, rows: int):
    pg.fill(".runs-filter", f"^{re.escape(run)}$")
    pg.wait_for_selector(f".runs-dash[data-rows='{rows}']")
    return pg.locator(f'.runs-row[data-run="{run}"]')


def test_select_pin_hide_survive_a_reload(browser, sweep):  # noqa: F811
    names = sorted(sweep["names"])
    pinned, hidden, deselected = names[999], names[0], names[1]  # adam runs
    with page_at(browser, sweep["url"]) as pg:
        pg.wait_for_function(f"() => window.__tbx.state.runs.length === {RUNS}", timeout=60_000)
        pg.evaluate("location.hash = '#runs'")
        pg.wait_for_selector(f".runs-dash[data-total='{RUNS}']", timeout=60_000)
        table_row(pg, pinned, 1).locator("button.pin").click()
        table_row(pg, hidden, 2).locator("button.hide").click()
        pg.wait_for_selector(".runs-dash[data-rows='1']")
        table_row(pg, deselected, 2).locator("input.select").uncheck()
        # and 800 sgd runs: deselect the listed runs of a filter (the pinned one is listed too)
        pg.fill(".runs-filter", r"^sgd-lr0\.0")
        pg.wait_for_selector(".runs-dash[data-rows='801']")
        pg.locator("button", has_text="deselect listed").click()
        pg.fill(".runs-filter", "")
        pg.wait_for_selector(f".runs-dash[data-rows='{RUNS - 1}']")
        before = run_state(pg)
        sgd = [n for n in names if n.startswith("sgd-lr0.0")]
        assert before == {"deselected": sorted({deselected, pinned, *sgd}),
                          "pinned": [pinned], "hidden": [hidden]}
        # stored small: the 802 deselected names, front-coded
        raw = stored(pg)
        assert json.loads(raw)["sel"] == "off"
        assert names_of(json.loads(raw)["runs"]) == before["deselected"]
        assert len(raw) < 12_000 < len(json.dumps(before["deselected"]))
        pg.locator("#run-list").wait_for()
        pg.evaluate("location.hash = '#scalars'")
        chart = wait_loss(pg, 1197)
        assert chart["notice"] == "showing 500 of 1,197 runs: the 500 with the lowest last value"
        reload(pg, RUNS)
        assert run_state(pg) == before
        assert pg.locator("#run-count").inner_text() == "1,999 listed, 1,197 selected"
        assert wait_loss(pg, 1197) == chart
        # select only three runs: stored as those three
        three = names[10:13]
        pg.evaluate("""(three) => { const api = window.__tbx.host.mounted.api;
            api.select(api.allRuns(), false); api.select(three, true); api.pin(three[0]); }""",
                    three)
        raw = stored(pg)
        assert json.loads(raw)["sel"] == "on" and len(raw) < 300
        assert names_of(json.loads(raw)["runs"]) == sorted(three)
        chart = wait_loss(pg, 3)
        assert chart == {"notice": "", "runs": sorted(three)}
        reload(pg, RUNS)
        state = run_state(pg)
        assert state["deselected"] == sorted(set(names) - set(three))
        assert state["pinned"] == sorted([pinned, three[0]]) and state["hidden"] == [hidden]
        assert wait_loss(pg, 3) == chart


def test_state_belongs_to_one_logdir_of_one_server(browser, tmp_path):  # noqa: F811
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):  # the same run names in both
        D.write_sweep(root, 6, 3)
    names = sorted(D.run_name(i) for i in range(6))
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def open_at(url):
        pg.goto("about:blank")  # a new document, even at the same URL
        pg.goto(url + "#scalars")
        pg.wait_for_selector("body[data-ready=true]", timeout=60_000)
        pg.wait_for_function("() => window.__tbx.state.runs.length === 6", timeout=60_000)

    empty = {"deselected": [], "pinned": [], "hidden": []}
    with serve(one) as (url, port):
        open_at(url)
        assert run_state(pg) == empty
        pg.evaluate("""([a, b, c]) => { const api = window.__tbx.host.mounted.api;
            api.hide(a); api.pin(b); api.select(c, false); }""", names[:3])
        mine = {"deselected": [names[2]], "pinned": [names[1]], "hidden": [names[0]]}
        assert run_state(pg) == mine
        pg.fill("#run-filter", "s0000")  # the view settings are kept the same way
        reload(pg, 6)
        assert run_state(pg) == mine
        assert view(pg)["runRe"] == "s0000"
    with serve(two, port) as (url2, _):  # another logdir at the same address
        assert url2 == url
        open_at(url2)
        assert run_state(pg) == empty
        assert view(pg)["runRe"] == ""
        pg.evaluate("(r) => window.__tbx.host.mounted.api.pin(r)", names[5])
    with serve(one) as (url3, _):  # the first logdir on another port: another server
        open_at(url3)
        assert run_state(pg) == empty
        assert view(pg)["runRe"] == ""
    shutil.rmtree(one / names[2])  # a run that no longer exists: its stored state is ignored
    with serve(one, port) as (url4, _):
        pg.goto("about:blank")
        pg.goto(url4 + "#scalars")
        pg.wait_for_selector("body[data-ready=true]", timeout=60_000)
        pg.wait_for_function("() => window.__tbx.state.runs.length === 5", timeout=60_000)
        assert url4 == url
        assert run_state(pg) == {"deselected": [], "pinned": [names[1]], "hidden": [names[0]]}
        assert view(pg)["runRe"] == "s0000"
        pg.evaluate("(r) => window.__tbx.host.mounted.api.pin(r)", names[3])
        saved = json.loads(stored(pg))  # the stale name is dropped at the next save
        assert {k: names_of(saved[k]) for k in ("runs", "pinned", "hidden")} == {
            "runs": [], "pinned": [names[1], names[3]], "hidden": [names[0]]}
    ctx.close()
    assert not errors, errors


def view(pg) -> dict:
    """The page's view settings and the sidebar controls showing them."""
    return pg.evaluate("""() => { const s = window.__tbx.state, v = (id) =>
        document.getElementById(id).value;
        return {runRe: s.runRe, limit: s.limit, group: {...s.group},
                controls: [v('run-filter'), v('limit'), v('group-by'), v('group-key'),
                           v('group-agg'), v('group-band')]}; }""")


def wait_groups(pg, groups: int) -> dict:
    """The loss chart once it holds ``groups`` groups: its notice, groups and selected runs."""
    pg.wait_for_function(
        """([n]) => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c && c.__chart.groups.length === n && !c.__chart.abort
                   && !c.__chart.stale; }""", arg=[groups], timeout=60_000)
    return pg.evaluate("""() => { const c = document.querySelector(
        '.chart-card[data-title="loss"]'); return {notice: c.dataset.notice,
        selected: c.dataset.selected, groups: c.__chart.groups.map(g => g.group).sort()}; }""")


def test_filter_grouping_and_runs_per_chart_survive_a_reload(browser, tmp_path):  # noqa: F811
    D.write_sweep(tmp_path / "sweep", 20, 3)
    with serve(tmp_path / "sweep") as (url, _), page_at(browser, url) as pg:
        pg.wait_for_function("() => window.__tbx.state.runs.length === 20", timeout=60_000)
        pg.fill("#run-filter", r"lr0\.0")  # 16 runs: not those of lr 0.1
        pg.select_option("#group-by", "regex")
        pg.fill("#group-key", r"^(\w+)-")
        pg.select_option("#group-agg", "median")
        pg.select_option("#group-band", "std")
        pg.fill("#limit", "1")
        pg.locator("#limit").dispatch_event("change")
        chart = wait_groups(pg, 1)
        assert chart == {"notice": "showing 1 of 2 groups: the 1 with the lowest last value",
                         "selected": "2", "groups": ["adam"]}  # 2 groups selected
        want = {"runRe": r"lr0\.0", "limit": 1,
                "group": {"by": "regex", "key": r"^(\w+)-", "agg": "median", "band": "std"},
                "controls": [r"lr0\.0", "1", "regex", r"^(\w+)-", "median", "std"]}
        assert view(pg) == want
        key = pg.evaluate("() => 'tbx.view:' + window.__tbx.state.logdir")
        assert key == f"tbx.view:{tmp_path / 'sweep'}"
        assert pg.locator("#run-count").inner_text() == "16 listed, 20 selected"
        reload(pg, 20)
        assert view(pg) == want
        assert wait_groups(pg, 1) == chart
        assert pg.locator("#run-count").inner_text() == "16 listed, 20 selected"
        # back to the defaults: nothing stored, and a reload starts from the defaults
        pg.fill("#run-filter", "")
        pg.select_option("#group-by", "none")
        pg.fill("#limit", "500")
        pg.locator("#limit").dispatch_event("change")
        pg.select_option("#group-agg", "mean")
        pg.select_option("#group-band", "minmax")
        pg.evaluate("() => { const s = window.__tbx.state; s.group.key = ''; "
                    "window.__tbx.host.mounted.api.setGrouping({key: ''}); }")
        assert pg.evaluate(f"() => localStorage.getItem({key!r})") is None
        reload(pg, 20)
        assert view(pg) == {"runRe": "", "limit": 500, "group": {
            "by": "none", "key": "", "agg": "mean", "band": "minmax"},
            "controls": ["", "500", "none", "", "mean", "minmax"]}


def test_metric_headers_say_last_min_and_max(browser, tmp_path):  # noqa: F811
    import tbx

    metric = "hparam/final_validation_accuracy"
    for i, lr in enumerate((0.1, 0.01)):
        with tbx.SummaryWriter(tmp_path / f"run{i}") as w:
            w.add_hparams({"lr": lr}, {metric: 0.5 + i})
    with serve(tmp_path) as (url, _), page_at(browser, url) as pg:
        pg.evaluate("location.hash = '#runs'")
        pg.wait_for_selector(".runs-dash[data-total='2']", timeout=60_000)
        cells = pg.locator(".runs-row.head [data-key^='m:']")
        got = cells.evaluate_all("""cs => cs.map(c => ({key: c.dataset.key, title: c.title,
            name: c.querySelector('.col-name').textContent,
            stat: c.querySelector('.col-stat').textContent,
            statFits: c.querySelector('.col-stat').scrollWidth
              <= c.querySelector('.col-stat').clientWidth,
            nameCut: c.querySelector('.col-name').scrollWidth
              > c.querySelector('.col-name').clientWidth}))""")
        words = {"last": "last value", "min": "minimum", "max": "maximum"}
        assert got == [{"key": f"m:{metric}:{s}", "title": f"sort by {metric} ({words[s]})",
                        "name": metric, "stat": s, "statFits": True, "nameCut": True}
                       for s in ("last", "min", "max")]
        assert cells.all_inner_texts() == [f"{metric}\n{s}" for s in ("last", "min", "max")]
        cells.nth(1).click()  # sorted by min: the arrow is on the statistic's line
        assert cells.nth(1).locator(".col-stat").inner_text() == "min ▲"
