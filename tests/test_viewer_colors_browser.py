"""Run colours (issue 10, item 6): a run keeps its colour for the life of the page and across
reloads, a run that appears live never recolours the others, and the sidebar and the charts
always agree. Real Chromium over a live logdir; colours read from the sidebar's swatches and
the chart's own uPlot series, not from pixels.

Skipped, with the reason, when playwright or /usr/bin/chromium is missing.
"""

from __future__ import annotations

import pytest
from browser_helpers import browser, page_at  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx

# Colours as '#rrggbb' (the canvas normalises any CSS colour): {run: colour} of the sidebar,
# and of the 'loss' chart's lines (the smoothed line of each run is labelled with the run).
_COLORS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const norm = (c) => { ctx.fillStyle = '#000000'; ctx.fillStyle = c; return ctx.fillStyle; };
  const side = {};
  for (const r of document.querySelectorAll('#run-list label.run')) {
    side[r.querySelector('.run-name').textContent] =
      norm(getComputedStyle(r.querySelector('.swatch')).backgroundColor);
  }
  const c = [...window.__tbx.charts().values()].find((x) => x.spec && x.spec.title === 'loss');
  const chart = {};
  if (c && c.plot) c.plot.series.forEach((s, i) => {
    if (i > 0 && !s.label.endsWith(' (raw)')) chart[s.label] = norm(s.stroke(c.plot, i));
  });
  return {side, chart};
}"""


def _write(root, run, steps):
    w = tbx.SummaryWriter(str(root / run))
    for i in steps:
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.close()


@pytest.fixture
def server(tmp_path):
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    for run in ("a", "c"):
        _write(tmp_path, run, range(20))
    with running(create_app(LogdirProvider(str(tmp_path)), reload_interval=0.2)) as url:
        yield {"url": url, "root": tmp_path}


def _wait_runs(pg, runs):
    pg.wait_for_function(
        """want => { const c = [...window.__tbx.charts().values()]
                       .find((x) => x.spec && x.spec.title === 'loss');
                     const side = [...document.querySelectorAll('#run-list .run-name')]
                       .map((e) => e.textContent);
                     return c && c.plot && !c.abort && Number(c.el.dataset.series) === want.length
                       && want.every((r) => side.includes(r)); }""", arg=runs, timeout=20_000)


def test_run_colours_stable_live_and_across_reloads(browser, server):  # noqa: F811
    with page_at(browser, server["url"]) as pg:
        _wait_runs(pg, ["a", "c"])
        before = pg.evaluate(_COLORS)
        assert before["side"] == before["chart"], before
        assert before["side"]["a"] != before["side"]["c"]
        # a run appears live, sorting between the two: nobody else changes colour
        _write(server["root"], "b", range(10))
        pg.wait_for_function("""() => [...document.querySelectorAll('#run-list .run-name')]
                                  .some((e) => e.textContent === 'b')""", timeout=20_000)
        # a new point of b makes the open chart fetch it (live path)
        _write(server["root"], "b", range(10, 12))
        _wait_runs(pg, ["a", "b", "c"])
        after = pg.evaluate(_COLORS)
        assert after["side"] == after["chart"], after
        assert {r: after["side"][r] for r in "ac"} == before["side"]
        assert len(set(after["side"].values())) == 3
        # a reload keeps every colour
        pg.reload()
        pg.wait_for_selector("body[data-ready=true]")
        _wait_runs(pg, ["a", "b", "c"])
        again = pg.evaluate(_COLORS)
        assert again == after
