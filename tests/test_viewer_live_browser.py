"""What an open page shows after the files change (issue 10, items 2, 3 and 6), in real
Chromium over the real reader: a new run is drawn in the open chart, a deleted run leaves the
run list and the charts, a run re-created or a file replaced shows exactly the new points, a
tag used by several kinds shows in each dashboard, skipped paths and a logdir without event
files are said on the page, a run name that is not UTF-8 is shown escaped, and a page told to
reload reads everything again. Each test has its own logdir and server (free port); every wait
is on a condition."""

# ruff: noqa: F811  (the browser fixture is imported, then used as an argument)
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from browser_helpers import browser, page_at, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # skipped paths warn


def log(logdir, run, steps, offset=0.0, tag="loss"):
    with tbx.SummaryWriter(os.path.join(logdir, run)) as w:
        for i in steps:
            w.add_scalar(tag, offset + i, i, walltime=1000.0 + i)


@pytest.fixture
def serve(tmp_path):
    """``serve(logdir)`` -> (URL, app) of a server over ``logdir`` (refreshing every 0.2 s),
    stopped at the end of the test."""
    from contextlib import ExitStack

    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    with ExitStack() as stack:
        def start(logdir):
            app = create_app(LogdirProvider(str(logdir)), reload_interval=0.2)
            return stack.enter_context(running(app)), app
        yield start


#: ``{run: [n points, first value, last value]}`` of the open chart titled ``t`` (JS).
HOLDS = """t => { const c = [...window.__tbx.charts().values()]
                   .find(c => c.spec && c.spec.title === t);
             if (!c || c.abort) return null;
             const out = {};
             for (const s of c.series.values())
               out[s.run] = [s.step.length, s.value[0], s.value[s.value.length - 1]];
             return out; }"""


def wait_series(pg, title, want):
    """Wait until the open chart ``title`` holds exactly ``want`` ({run: [n, first, last]})."""
    pg.wait_for_function(
        f"([t, want]) => JSON.stringify(({HOLDS})(t)) === JSON.stringify(want)",
        arg=[title, want], timeout=60_000)


def run_list(pg):
    return pg.locator("#run-list .run-name").all_inner_texts()


def mark_page(pg):
    """Set a marker a reload would lose."""
    pg.evaluate("() => { window.__same_page = 1; }")


def same_page(pg) -> bool:
    return pg.evaluate("() => window.__same_page === 1")


def test_new_run_is_drawn_in_the_open_chart(browser, serve, tmp_path):
    log(tmp_path, "a", range(10))
    url, _ = serve(tmp_path)
    with page_at(browser, url) as pg:
        wait_series(pg, "loss", {"a": [10, 0, 9]})
        mark_page(pg)
        log(tmp_path, "b", range(20), offset=100.0)
        wait_series(pg, "loss", {"a": [10, 0, 9], "b": [20, 100, 119]})
        assert run_list(pg) == ["a", "b"] and same_page(pg)
        card = pg.locator('.chart-card[data-title="loss"]')
        assert (card.get_attribute("data-series"), card.get_attribute("data-points")) == ("2", "30")
        screenshot(pg, "live-new-run")
        # the chart's downloads: every point of both runs, CSV and JSON
        links = {a.get_attribute("class"): a.get_attribute("href")
                 for a in card.locator(".card-tools a").all()}
        got = pg.request.get(url.rstrip("/") + links["json"]).json()
        assert [(x["run"], x["tag"], x["step"], x["value"]) for x in got] == [
            ("a", "loss", list(range(10)), [float(i) for i in range(10)]),
            ("b", "loss", list(range(20)), [100.0 + i for i in range(20)])]
        csv = pg.request.get(url.rstrip("/") + links["csv"]).text().splitlines()
        assert csv[0] == "run,tag,step,wall_time,value" and len(csv) == 31
        assert csv[11] == "b,loss,0,1000.0,100.0"


def test_deleted_run_leaves_the_run_list_and_the_charts(browser, serve, tmp_path):
    log(tmp_path, "a", range(10))
    log(tmp_path, "b", range(5), offset=50.0)
    log(tmp_path, "b", range(5), tag="only_b")
    url, _ = serve(tmp_path)
    with page_at(browser, url) as pg:
        wait_series(pg, "loss", {"a": [10, 0, 9], "b": [5, 50, 54]})
        wait_series(pg, "only_b", {"b": [5, 0, 4]})
        mark_page(pg)
        shutil.rmtree(tmp_path / "b")
        wait_series(pg, "loss", {"a": [10, 0, 9]})
        pg.wait_for_function("() => !document.querySelector('.chart-card[data-title=\"only_b\"]')")
        assert run_list(pg) == ["a"] and same_page(pg)
        assert pg.locator('.chart-card[data-title="loss"]').get_attribute("data-series") == "1"


@pytest.mark.parametrize("how", ["recreate", "replace_shorter"])
def test_rewritten_run_shows_exactly_the_new_points(browser, serve, tmp_path, how):
    """``tbx demo --overwrite`` while serving (the run folder deleted and written again), and
    an event file replaced by a shorter one under the same name."""
    log(tmp_path, "r", range(90))
    url, _ = serve(tmp_path)
    with page_at(browser, url) as pg:
        wait_series(pg, "loss", {"r": [90, 0, 89]})
        mark_page(pg)
        if how == "recreate":
            shutil.rmtree(tmp_path / "r")
            log(tmp_path, "r", range(90), offset=1000.0)
            want = {"r": [90, 1000, 1089]}
        else:
            (name,) = os.listdir(tmp_path / "r")
            log(tmp_path / "new", "r", range(10), offset=500.0)
            (new,) = os.listdir(tmp_path / "new" / "r")
            os.replace(tmp_path / "new" / "r" / new, tmp_path / "r" / name)
            want = {"r": [10, 500, 509]}
        wait_series(pg, "loss", want)
        card = pg.locator('.chart-card[data-title="loss"]')
        assert card.get_attribute("data-points") == str(want["r"][0]) and same_page(pg)


def test_one_tag_in_each_dashboard(browser, serve, tmp_path):
    img = np.zeros((3, 8, 8), dtype=np.uint8)
    img[2] = 255
    with tbx.SummaryWriter(str(tmp_path / "r")) as w:
        for i in range(3):
            w.add_scalar("weights", 0.5 * i, i)
            w.add_histogram("weights", np.arange(10.0) + i, i)
        w.add_image("weights", img, 0)
    url, _ = serve(tmp_path)
    with page_at(browser, url) as pg:
        wait_series(pg, "weights", {"r": [3, 0, 1]})
        pg.goto(url + "#histograms")
        pg.wait_for_selector('.histograms-card[data-tag="weights"] canvas', timeout=60_000)
        pg.goto(url + "#images")
        pg.wait_for_function("""() => { const i = document.querySelector(
            '.images-card[data-tag="weights"] img.thumb');
            return i && i.complete && i.naturalWidth === 8; }""", timeout=60_000)
        assert pg.locator(".plugin-error, .card .error").count() == 0


def test_skipped_paths_are_listed_on_the_page(browser, serve, tmp_path):
    logdir = tmp_path / "logs"
    log(logdir, "a", range(3))
    log(tmp_path / "outside", "secret", range(3))
    url, _ = serve(logdir)
    with page_at(browser, url) as pg:
        assert pg.locator("#problems").is_hidden()
        os.symlink(tmp_path / "outside" / "secret", logdir / "link")
        pg.wait_for_selector("#problems:not([hidden])", timeout=60_000)
        assert pg.locator("#problems summary").inner_text() == "1 path skipped (cannot be read)"
        text = pg.locator("#problems .problem").text_content()
        assert text.startswith(f"{logdir / 'link'}: symbolic link to ")
        assert run_list(pg) == ["a"]
        screenshot(pg, "live-problems")
        os.unlink(logdir / "link")
        pg.wait_for_selector("#problems[hidden]", state="attached", timeout=60_000)


def test_non_utf8_run_name_is_shown_escaped(browser, serve, tmp_path):
    log(tmp_path, os.fsdecode(b"bad\xff"), range(4), offset=3.0)
    log(tmp_path, "ok", range(2))
    url, _ = serve(tmp_path)
    with page_at(browser, url) as pg:
        wait_series(pg, "loss", {"bad\\xff": [4, 3, 6], "ok": [2, 0, 1]})
        assert run_list(pg) == ["bad\\xff", "ok"]


def test_no_event_files_is_said_on_the_page(browser, serve, tmp_path):
    (tmp_path / "empty").mkdir()
    url, _ = serve(tmp_path / "empty")
    with page_at(browser, url) as pg:
        want = (f"No event files found under {tmp_path / 'empty'} (files named *tfevents*); "
                "waiting for some.")
        pg.wait_for_function("w => document.getElementById('status').textContent === w",
                             arg=want, timeout=60_000)
        pg.wait_for_function("w => document.querySelector('.empty-dash')?.textContent === w",
                             arg=want, timeout=60_000)
        screenshot(pg, "live-no-event-files")
        log(tmp_path / "empty", "a", range(3))  # they appear: the page follows
        wait_series(pg, "loss", {"a": [3, 0, 2]})
        assert pg.locator("#status").inner_text() == "1 runs"


def test_reload_message_reads_everything_again(browser, serve, tmp_path):
    from tbx.viewer.hub import RELOAD

    log(tmp_path, "a", range(5))
    url, app = serve(tmp_path)
    with page_at(browser, url) as pg:
        wait_series(pg, "loss", {"a": [5, 0, 4]})
        hub = app.state.hub
        hub._loop.call_soon_threadsafe(hub._publish, [RELOAD])
        pg.wait_for_function("() => document.body.dataset.reloads === '1'", timeout=60_000)
        wait_series(pg, "loss", {"a": [5, 0, 4]})
        # a reconnect (the connection dropped: the server restarted, the network went away)
        # re-reads too: what happened meanwhile was not pushed
        pg.evaluate("() => window.__tbx.host.events.dispatchEvent(new Event('open'))")
        pg.wait_for_function("() => document.body.dataset.reloads === '2'", timeout=60_000)
        wait_series(pg, "loss", {"a": [5, 0, 4]})
