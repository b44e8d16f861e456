"""2,000 runs in a real browser (Playwright driving Debian's Chromium) over a generated sweep
(``tbx.viewer.plugins.runs.demo_data``) served by the real reader: the run table lists every
run and a regex narrows it, a chart of 2,000 selected runs draws the 500 the notice names, and
grouping by an hparam draws one line and band per group whose values are the members' mean,
minimum and maximum. Expected values come from the generator's own formulas."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
from browser_helpers import browser, page_at, screenshot  # noqa: F401 (fixture)

from tbx.viewer.plugins.runs import demo_data as D

RUNS = 2000
STEPS = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    root = tmp_path_factory.mktemp("sweep")
    names = D.write_sweep(root, RUNS, STEPS)
    app = create_app(LogdirProvider(str(root)), reload_interval=2.0)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                        timeout_graceful_shutdown=1))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 60
    while not srv.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.02)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield {"url": f"http://127.0.0.1:{port}/", "names": names}
    srv.should_exit = True
    th.join(timeout=10)


@pytest.fixture
def page(browser, server):  # noqa: F811
    with page_at(browser, server["url"]) as pg:
        pg.wait_for_function(f"() => window.__tbx.state.runs.length === {RUNS}", timeout=60_000)
        yield pg


def _loss(name: str) -> np.ndarray:
    return D.loss_values(int(name[-5:]), STEPS)


def _table(pg):
    return pg.evaluate("() => window.__tbx_plugin_data.runs")


def test_run_table_lists_every_run_and_filters(page, server):
    page.goto(server["url"] + "#runs")
    page.wait_for_selector(f".runs-dash[data-total='{RUNS}'][data-rows='{RUNS}']",
                           timeout=60_000)
    t = _table(page)
    assert t["runs"] == RUNS and t["rows"] == sorted(server["names"])
    assert t["hparams"] == ["lr", "opt", "seed"] and t["metrics"] == ["loss"]
    rendered = page.locator(".runs-scroll .runs-row:not(.head)").count()
    assert 10 < rendered < 100  # a window of the 2,000 rows
    # a row's cells: its hparams and its loss' last, min and max, as the generator wrote them
    first = sorted(server["names"])[0]
    row = page.locator(f'.runs-row[data-run="{first}"]')
    cells = row.locator("span").all_inner_texts()
    v = _loss(first)
    hp = D.hparams(int(first[-5:]))
    fmt = [page.evaluate("x => window.__tbx.format.fmtValue(x)", float(x))
           for x in (v[-1], v.min(), v.max())]  # the page's number format, of Python's values
    assert cells[1:] == [first, str(hp["lr"]), hp["opt"], str(int(hp["seed"])), *fmt]
    # scrolled to the end: the last run is rendered
    page.locator(".runs-scroll").evaluate("e => { e.scrollTop = e.scrollHeight; }")
    last = sorted(server["names"])[-1]
    page.wait_for_selector(f'.runs-row[data-run="{last}"]', timeout=10_000)
    screenshot(page, "scale-run-table")
    # a regex narrows the rows (and is the page's run filter)
    page.fill(".runs-filter", r"sgd-lr0\.1-s001")
    want = [n for n in sorted(server["names"]) if re.search(r"sgd-lr0\.1-s001", n, re.I)]
    page.wait_for_selector(f".runs-dash[data-rows='{len(want)}']", timeout=10_000)
    assert _table(page)["rows"] == want and len(want) == 10
    assert page.locator("#run-filter").input_value() == r"sgd-lr0\.1-s001"
    assert page.locator("#run-list .run-name").all_inner_texts() == want
    screenshot(page, "scale-run-table-filtered")
    # sort by the loss' last value, descending: the highest first
    page.locator('.runs-row.head [data-key="m:loss:last"]').click()
    page.locator('.runs-row.head [data-key="m:loss:last"]').click()
    page.wait_for_function("() => window.__tbx_plugin_data.runs.sort.dir === -1")
    rows = _table(page)["rows"]
    assert rows == sorted(want, key=lambda n: -_loss(n)[-1])


def _chart(pg, title):
    return pg.locator(f'.chart-card[data-title="{title}"]')


def _set_smoothing(pg, v: float):
    pg.evaluate(f"""() => {{ const s = document.getElementById('smoothing');
                   s.value = '{v}'; s.dispatchEvent(new Event('input')); }}""")


def test_chart_of_2000_runs_shows_the_notice(page, server):
    _set_smoothing(page, 0)
    page.wait_for_function(
        """() => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c && c.dataset.series === '500' && c.querySelector('canvas')
                   && c.__chart.smoothing() === 0 && !c.__chart.abort; }""", timeout=60_000)
    card = _chart(page, "loss")
    assert card.get_attribute("data-notice") == \
        "showing 500 of 2,000 runs: the 500 with the lowest last value"
    assert card.locator(".notice-text").inner_text() == card.get_attribute("data-notice")
    assert card.get_attribute("data-selected") == "2000"
    assert card.get_attribute("data-mode") == "many"
    shown = page.evaluate("""() => [...document.querySelector('.chart-card[data-title="loss"]')
                              .__chart.series.values()].map(s => [s.run, Array.from(s.value)])""")
    last = {n: _loss(n)[-1] for n in server["names"]}
    want = sorted(server["names"], key=lambda n: last[n])[:500]
    assert sorted(r for r, _ in shown) == sorted(want)
    for run, values in shown[:20]:
        assert values == _loss(run).tolist()
    ink = page.evaluate("""() => { const cv = document.querySelector(
            '.chart-card[data-title="loss"] canvas');
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 &&
            (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++; return n; }""")
    assert ink > 5000
    screenshot(page, "scale-chart-2000")
    # keep the highest instead: another 500
    card.locator("select.rank-order").select_option("desc")
    page.wait_for_function(
        """() => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c.dataset.notice.includes('highest') && !c.__chart.abort; }""")
    runs = page.evaluate("""() => [...document.querySelector('.chart-card[data-title="loss"]')
                              .__chart.series.values()].map(s => s.run)""")
    assert sorted(runs) == sorted(sorted(server["names"], key=lambda n: -last[n])[:500])


def test_group_by_hparam_draws_line_and_band(page, server):
    _set_smoothing(page, 0)
    page.select_option("#group-by", "hparam")
    page.fill("#group-key", "lr")
    page.wait_for_function(
        """() => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c && c.dataset.mode === 'group' && c.dataset.groups === '5'
                   && c.__chart.smoothing() === 0 && !c.__chart.abort; }""", timeout=60_000)
    groups = page.evaluate("""() => document.querySelector('.chart-card[data-title="loss"]')
        .__chart.groups.map(g => ({group: g.group, members: g.members, x: Array.from(g.cols.x),
          value: Array.from(g.cols.value), lo: Array.from(g.cols.lo),
          hi: Array.from(g.cols.hi)}))""")
    assert [g["group"] for g in groups] == [f"lr={lr}" for lr in D.LRS]
    for g in groups:
        members = np.array([_loss(n) for n in server["names"] if f"-lr{g['group'][3:]}-" in n])
        assert g["members"] == len(members) == RUNS // 5
        assert g["x"] == [k * D.STEP for k in range(STEPS)]
        assert np.allclose(g["value"], members.mean(axis=0), rtol=0, atol=1e-12)
        assert g["lo"] == members.min(axis=0).tolist()
        assert g["hi"] == members.max(axis=0).tolist()
    card = _chart(page, "loss")
    assert card.locator(".group-chip").count() == 5
    chart_bands = page.evaluate("""() => document.querySelector('.chart-card[data-title="loss"]')
        .__chart.plot.bands.length""")
    assert chart_bands == 5
    screenshot(page, "scale-groups")
    # toggling a group shows its members
    card.locator('.group-chip[data-group="lr=0.01"]').click()
    page.wait_for_function(
        """() => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c.dataset.members === '400' && !c.__chart.abort; }""", timeout=30_000)
    members = page.evaluate("""() => document.querySelector('.chart-card[data-title="loss"]')
        .__chart.members.map(m => [m.run, Array.from(m.cols.value)])""")
    assert {r for r, _ in members} == {n for n in server["names"] if "-lr0.01-" in n}
    for run, values in members[:10]:
        assert values == _loss(run).tolist()
    screenshot(page, "scale-groups-expanded")


def test_table_selection_drives_the_charts(page, server):
    """Pin, hide and deselect in the run table; the scalars chart follows: the pinned run is
    drawn though its value ranks it out, the hidden and the deselected run are not asked for."""
    last = {n: _loss(n)[-1] for n in server["names"]}
    order = sorted(server["names"], key=lambda n: last[n])
    pinned, hidden, deselected = order[-1], order[0], order[1]
    page.goto(server["url"] + "#runs")
    page.wait_for_selector(f".runs-dash[data-total='{RUNS}']", timeout=60_000)

    def row(run, rows):  # the filter lists the run (and the pinned run, always listed)
        page.fill(".runs-filter", f"^{re.escape(run)}$")
        page.wait_for_selector(f".runs-dash[data-rows='{rows}']")
        return page.locator(f'.runs-row[data-run="{run}"]')

    row(pinned, 1).locator("button.pin").click()
    row(hidden, 2).locator("button.hide").click()
    page.wait_for_selector(".runs-dash[data-rows='1']")  # hidden: no longer listed
    row(deselected, 2).locator("input.select").uncheck()
    page.fill(".runs-filter", "")
    page.wait_for_selector(f".runs-dash[data-rows='{RUNS - 1}']")
    assert page.evaluate("() => window.__tbx_plugin_data.runs.rows[0]") == pinned  # on top
    screenshot(page, "scale-run-table-pinned")
    _set_smoothing(page, 0)
    page.goto(server["url"] + "#scalars")
    page.wait_for_function(
        """([n]) => { const c = document.querySelector('.chart-card[data-title="loss"]');
                 return c && c.dataset.selected === String(n) && !c.__chart.abort
                   && c.__chart.smoothing() === 0; }""", arg=[RUNS - 2], timeout=60_000)
    card = _chart(page, "loss")
    assert card.get_attribute("data-notice") == \
        "showing 500 of 1,998 runs: the 499 with the lowest last value, and 1 pinned"
    runs = page.evaluate("""() => [...document.querySelector('.chart-card[data-title="loss"]')
                              .__chart.series.values()].map(s => s.run)""")
    assert pinned in runs and hidden not in runs and deselected not in runs
    assert sorted(runs) == sorted([pinned, *order[2:501]])
    page.fill("#run-filter", f"^({re.escape(hidden)}|{re.escape(deselected)})$")
    page.wait_for_function("() => document.querySelectorAll('#run-list .run').length === 2")
    names = page.locator("#run-list .run-name").all_inner_texts()
    assert sorted(names) == sorted([deselected, pinned])  # hidden: not listed; pinned: always
    label = page.locator("#run-list .run", has_text=deselected)
    assert not label.locator("input").is_checked()
