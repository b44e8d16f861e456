"""Live points in charts that show only some runs or draw groups (issue 16), in real Chromium
over the real reader while a writer appends: a limited chart appends the points of the runs it
shows without asking the server for its series again, ignores the runs it left out until it is
ranked again (on request: "re-rank"), and a grouped chart asks only for the rows the new points
change (``since=``) and shows the exact mean, minimum and maximum of the members that reached a
step. After the appends each chart equals a fresh load of it. Every wait is on a condition."""

# ruff: noqa: F811  (the browser fixture is imported, then used as an argument)
from __future__ import annotations

import json
import os
from contextlib import ExitStack

import pytest
from browser_helpers import browser, frames, page_at, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx

SERIES = "/api/plugins/scalars/series"
RANK = "/api/plugins/scalars/rank"

#: the open chart titled ``t``: ``{run: [values]}`` of its series, its groups' columns, its
#: members' values, and the drawn uPlot data (JS)
STATE = """t => { const c = [...window.__tbx.charts().values()]
                   .find(c => c.spec && c.spec.title === t);
             if (!c || c.abort || !c.plot) return null;
             const a = (x) => Array.from(x, v => Number.isNaN(v) ? 'NaN' : v);
             const series = {};
             for (const s of c.series.values()) series[s.run] = [a(s.step), a(s.value)];
             const groups = {};
             for (const g of c.groups) groups[g.group] = Object.fromEntries(
               Object.entries(g.cols).map(([k, v]) => [k, a(v)]));
             const members = {};
             for (const m of c.members) members[m.run] = [a(m.cols.x), a(m.cols.value)];
             return {series, groups, members, data: JSON.stringify(c.plot.data),
                     gen: c.gen, stale: c.stale}; }"""


@pytest.fixture
def setup(tmp_path):
    """``start(runs, first)``: one open writer per run (``{run: writer}``), ``first(writers)``
    logs with them, then a server over ``tmp_path`` (refreshing every 0.2 s) starts, so the
    page's first load sees every run; returns (URL, writers)."""
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    with ExitStack() as stack:
        def start(runs, first):
            writers = {r: stack.enter_context(tbx.SummaryWriter(os.path.join(tmp_path, r)))
                       for r in runs}
            first(writers)
            url = stack.enter_context(running(create_app(LogdirProvider(str(tmp_path)),
                                                         reload_interval=0.2)))
            return url, writers
        yield start


class Requests(list):
    def watch(self, pg):
        pg.on("request", lambda r: self.append(r.url) if (SERIES in r.url or RANK in r.url)
              else None)

    def since(self, n):
        return self[n:]


def log(w, steps, values):
    for s, v in zip(steps, values, strict=True):
        w.add_scalar("loss", v, s, walltime=1000.0 + s)
    w.flush()


def state(pg, title="loss"):
    """The chart's STATE once it is not loading."""
    return pg.wait_for_function(f"t => ({STATE})(t)", arg=title, timeout=60_000).json_value()


def then_loaded(pg, action, cond="true", title="loss"):
    """Do ``action()`` (a change that loads the chart again) and wait until a load started
    after it has ended with ``cond`` true."""
    gen = state(pg, title)["gen"]
    action()
    wait_state(pg, f"s.gen > {gen} && !s.stale && ({cond})", title)


def wait_state(pg, cond: str, title="loss"):
    """Wait until ``cond`` (a JS expression over ``s``, the chart's STATE) holds."""
    pg.wait_for_function(f"t => {{ const s = ({STATE})(t); return !!s && ({cond}); }}",
                         arg=title, timeout=60_000)


def seen_live(pg):
    """Record the live totals the page receives per run (``window.__seen``)."""
    pg.evaluate("""() => { window.__seen = {};
        window.__tbx.host.events.addEventListener('scalars', ev => {
          for (const d of JSON.parse(ev.data).series) window.__seen[d.run] = d.total; }); }""")


def wait_seen(pg, run, total):
    pg.wait_for_function("([r, n]) => window.__seen[r] === n", arg=[run, total],
                         timeout=60_000)


def set_smoothing(pg, v):
    pg.evaluate(f"""() => {{ const s = document.getElementById('smoothing');
                   s.value = '{v}'; s.dispatchEvent(new Event('input')); }}""")


def reload_equals(pg, before, title="loss"):
    """Load the chart again from the server and check it equals the appended state."""
    pg.evaluate("""t => [...window.__tbx.charts().values()]
                      .find(c => c.spec && c.spec.title === t).load()""", title)
    wait_state(pg, f"s.gen > {before['gen']} && !s.stale", title)
    frames(pg)
    after = state(pg, title)
    for k in ("series", "groups", "members", "data"):
        assert after[k] == before[k], k


def test_limited_chart_appends_shown_runs_and_reranks_on_request(browser, setup):
    runs = [f"r{i}" for i in range(6)]

    def first(w):  # last values 4.5, 14.5, ...: r0, r1, r2 are the lowest
        for i, r in enumerate(runs):
            log(w[r], range(10), [10.0 * i + 0.5 * k for k in range(10)])
    url, w = setup(runs, first)
    reqs = Requests()
    with page_at(browser, url) as pg:
        reqs.watch(pg)
        then_loaded(pg, lambda: set_smoothing(pg, 0))

        def limit():
            pg.fill("#limit", "3")
            pg.press("#limit", "Enter")  # commits it: no change event later, at blur
        then_loaded(pg, limit, "Object.keys(s.series).length === 3")
        card = pg.locator('.chart-card[data-title="loss"]')
        assert sorted(state(pg)["series"]) == ["r0", "r1", "r2"]
        assert card.get_attribute("data-notice") == \
            "showing 3 of 6 runs: the 3 with the lowest last value"
        assert card.get_attribute("data-ranked").startswith("ranked at step 9, ")
        seen_live(pg)
        n0 = len(reqs)
        # shown runs gain points; r5 (ranked out, and staying out) too
        log(w["r0"], [10, 11], [-1.0, -2.0])
        log(w["r1"], [10], [10.25])
        log(w["r5"], [10], [1000.0])
        wait_state(pg, "s.series.r0[0].length === 12 && s.series.r1[0].length === 11")
        wait_seen(pg, "r5", 11)
        frames(pg)
        s = state(pg)
        assert s["series"]["r0"] == [list(range(12)), [0.5 * k for k in range(10)] + [-1, -2]]
        assert s["series"]["r1"][1][-1] == 10.25 and "r5" not in s["series"]
        assert reqs.since(n0) == []  # nothing asked of the server: the points were pushed
        screenshot(pg, "append-limited")
        reload_equals(pg, s)
        # r4 logs the lowest value: not shown until the chart is ranked again (on request)
        log(w["r4"], [10, 11, 12], [-100.0] * 3)
        wait_seen(pg, "r4", 13)
        frames(pg)
        assert sorted(state(pg)["series"]) == ["r0", "r1", "r2"]
        n1 = len(reqs)
        card.locator("button.rerank").click()
        wait_state(pg, "Object.keys(s.series).sort().join() === 'r0,r1,r4'")
        assert [u.split("?")[0].rsplit("/", 1)[1] for u in reqs.since(n1)] == ["rank", "series"]
        assert card.get_attribute("data-ranked").startswith("ranked at step 12, ")


def test_grouped_chart_appends_the_rows_new_points_change(browser, setup):
    runs = ["a-0", "a-1", "a-2", "b-0", "b-1"]

    def first(w):
        for r in runs:
            base = (0.0 if r[0] == "a" else 100.0) + int(r[-1])
            log(w[r], range(10), [base + k for k in range(10)])
    url, w = setup(runs, first)
    reqs = Requests()
    with page_at(browser, url) as pg:
        reqs.watch(pg)
        then_loaded(pg, lambda: set_smoothing(pg, 0))
        # the page API: at once (the sidebar's regex field waits for typing to pause)
        then_loaded(pg, lambda: pg.evaluate("""() => window.__tbx.host.mounted.api.setGrouping(
                         {by: 'regex', key: '^(a|b)-'})"""),
                    "Object.keys(s.groups).join() === 'a,b' && s.groups.a.x.length === 10")
        card = pg.locator('.chart-card[data-title="loss"]')
        then_loaded(pg, lambda: card.locator('.group-chip[data-group="a"]').click(),
                    "Object.keys(s.members).length === 3")  # its members too
        seen_live(pg)
        n0 = len(reqs)
        # a-0 alone reaches step 10: the row is a-0's value over 1 member; b has no value there
        log(w["a-0"], [10], [50.0])
        wait_state(pg, "s.groups.a.x.length === 11")
        g = state(pg)["groups"]
        assert g["a"]["x"][-2:] == [9, 10] and g["a"]["value"][-1] == 50.0
        assert (g["a"]["lo"][-1], g["a"]["hi"][-1], g["a"]["count"][-1]) == (50.0, 50.0, 1)
        assert (g["b"]["x"][-1], g["b"]["value"][-1], g["b"]["count"][-1]) == (10, "NaN", 0)
        # the others arrive: the row at 10 is redrawn over all three
        log(w["a-1"], [10], [60.0])
        log(w["a-2"], [10], [70.5])
        wait_state(pg, "s.groups.a.count[10] === 3")
        s = state(pg)
        a = s["groups"]["a"]
        assert a["value"][10] == (50.0 + 60.0 + 70.5) / 3 and a["x"] == list(range(11))
        assert (a["lo"][10], a["hi"][10]) == (50.0, 70.5)
        assert a["value"][:10] == [1.0 + k for k in range(10)]  # rows before stay
        assert s["members"]["a-2"] == [list(range(11)), [2.0 + k for k in range(10)] + [70.5]]
        new = reqs.since(n0)
        assert new and all(SERIES in u and "since=" in u for u in new), "\n".join(new)
        screenshot(pg, "append-groups")
        reload_equals(pg, s)
        # smoothed (on the page, over the rows): appended rows draw as a fresh load does
        then_loaded(pg, lambda: set_smoothing(pg, 0.6))
        n1 = len(reqs)
        for r in runs:
            log(w[r], [11], [7.0 if r[0] == "a" else 107.0])
        wait_state(pg, "s.groups.a.count[11] === 3 && s.groups.b.count[11] === 2")
        frames(pg)
        s = state(pg)
        assert s["groups"]["b"]["value"][11] == 107.0
        assert all("since=" in u for u in reqs.since(n1)), "\n".join(reqs.since(n1))
        data = json.loads(s["data"])
        assert len(data[0]) == 12 and data[1][0] == 1.0  # the smoothed line starts at a's mean
        reload_equals(pg, s)
