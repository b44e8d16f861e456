"""Per-run card dashboards with 2,000 selected runs, in real Chromium (Playwright, Debian's
Chromium) over a generated logdir served by the real reader: each tag group draws at most 50
runs' cards (pinned first, then the run list's order) with the notice saying so and a "show
more" control; the mesh tab draws at most 12 views and pages through the rest; the server is
asked only for the runs drawn, one run per request. Run ``runNNNN`` logs an image, a histogram,
a text ("text of runNNNN"), an audio clip, a PR curve and, every 50th run, a mesh."""

from __future__ import annotations

import os
import re
import time
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser_helpers import browser, frames, page_at, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

RUNS = 2000
MESH_EVERY = 50
NAMES = [f"run{i:04d}" for i in range(RUNS)]


def write_logdir(root, runs: int = RUNS) -> None:
    """``runs`` runs of one event file each, written as records (seconds for 2,000 runs)."""
    from tbx.proto.event_pb2 import Event
    from tbx.record import frame_records
    from tbx.summary.audio import audio_summary
    from tbx.summary.histogram import histogram_summary
    from tbx.summary.image import image_summary
    from tbx.summary.mesh import mesh_summary
    from tbx.summary.pr_curve import pr_curve_summary
    from tbx.summary.text import text_summary
    from tbx.wire import event_bytes

    header = Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, :, 0] = 200
    image = image_summary("samples/img", img).SerializeToString()
    hist = histogram_summary("weights/w", np.linspace(-1, 1, 101)).SerializeToString()
    audio = audio_summary("sounds/beep", np.zeros((80, 1), np.float32), 8000).SerializeToString()
    pr = pr_curve_summary("eval/pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]),
                          num_thresholds=5).SerializeToString()
    verts = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], np.float32)
    mesh = mesh_summary("cloud", verts).SerializeToString()
    for i in range(runs):
        d = root / f"run{i:04d}"
        d.mkdir(parents=True)
        payloads = [header]
        for step in (0, 1):
            wt = 1.7e9 + step
            payloads += [event_bytes(wt, step, image), event_bytes(wt, step, hist),
                         event_bytes(wt, step, audio), event_bytes(wt, step, pr),
                         event_bytes(wt, step, text_summary(
                             "notes", f"text of run{i:04d}").SerializeToString())]
        if i % MESH_EVERY == 0:
            payloads.append(event_bytes(1.7e9, 0, mesh))
        (d / f"events.out.tfevents.1700000000.cards.{os.getpid()}.{i}").write_bytes(
            frame_records(payloads))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    root = tmp_path_factory.mktemp("cards")
    write_logdir(root)
    with running(create_app(LogdirProvider(str(root)), reload_interval=2.0)) as url:
        yield url


@pytest.fixture
def page(browser, server):  # noqa: F811
    with page_at(browser, server) as pg:
        # the first complete read over: no run's tags or points change any more, so a card
        # asked for twice would be a real double fetch, not new data arriving under load
        pg.wait_for_function(f"() => window.__tbx.state.runs.length === {RUNS}"
                             " && window.__tbx.state.loaded === true", timeout=60_000)
        pg.requests = []
        pg.on("request", lambda r: pg.requests.append(r.url))
        yield pg


def plugin_requests(pg, name: str, route: str) -> list[dict]:
    """Query parameters of the page's requests to ``/api/plugins/<name>/<route>``."""
    out = []
    for url in pg.requests:
        u = urlparse(url)
        if u.path == f"/api/plugins/{name}/{route}":
            out.append(parse_qs(u.query))
    return out


def card_runs(pg, kind: str, group: str) -> list[str]:
    return pg.eval_on_selector_all(
        f'details.group[data-group="{group}"] .{kind}-card', "cs => cs.map(c => c.dataset.run)")


def open_dash(pg, name: str, group: str, notice: str) -> None:
    pg.evaluate(f"location.hash = '#{name}'")
    pg.wait_for_function(
        """([g, n]) => { const d = document.querySelector(`details.group[data-group="${g}"]`);
                 const b = d && d.querySelector('.runs-notice');
                 return b && b.dataset.notice === n; }""", arg=[group, notice], timeout=60_000)


def loaded_runs(pg, kind: str) -> list[str]:
    return pg.eval_on_selector_all(f".{kind}-card[data-loaded=true]",
                                   "cs => cs.map(c => c.dataset.run)")


def wait_answered(pg, dash: str, kind: str, timeout: float = 60) -> list[dict]:
    """The page's ``points`` requests once every run asked for has its card loaded."""
    deadline = time.monotonic() + timeout
    while True:
        asked = plugin_requests(pg, dash, "points")
        if {q["run"][0] for q in asked} <= set(loaded_runs(pg, kind)):
            return asked
        if time.monotonic() > deadline:
            return asked
        pg.wait_for_timeout(100)


FIRST_50 = "showing 50 of 2,000 runs: the first 50 in the run list"


@pytest.mark.parametrize("dash,kind,group", [("images", "images", "samples"),
                                             ("histograms", "histograms", "weights"),
                                             ("distributions", "distributions", "weights"),
                                             ("text", "text", "notes"),
                                             ("audio", "audio", "sounds"),
                                             ("pr_curves", "pr_curves", "eval")])
def test_a_tag_group_draws_50_runs_and_says_so(page, dash, kind, group):
    open_dash(page, dash, group, FIRST_50)
    sec = page.locator(f'details.group[data-group="{group}"]')
    assert sec.locator(".runs-notice .notice-text").inner_text() == FIRST_50
    assert card_runs(page, kind, group) == NAMES[:50]
    assert page.locator(f".{kind}-card").count() == 50
    page.wait_for_function(f"() => document.querySelectorAll('.{kind}-card[data-loaded=true]')"
                           ".length > 0", timeout=60_000)
    if kind == "text":
        first = page.locator('.text-card[data-run="run0000"] .markdown').first
        assert first.inner_text().strip() == "text of run0000"
    screenshot(page, f"cards-2000-{dash}")
    # scrolled to the end: the last cards load too; only drawn runs are asked for, one a request
    page.locator(f'.{kind}-card[data-run="run0049"]').scroll_into_view_if_needed()
    page.wait_for_function(f"""() => document.querySelector('.{kind}-card[data-run="run0049"]')
                             .dataset.loaded === 'true'""", timeout=60_000)
    frames(page)
    # requests still in flight (a loaded machine) land: each asked run's card says loaded
    asked = wait_answered(page, dash, kind)
    assert all(len(q["run"]) == 1 for q in asked)
    assert {q["run"][0] for q in asked} == set(loaded_runs(page, kind)) <= set(NAMES[:50])
    assert len(asked) == len(loaded_runs(page, kind)) <= 50
    if kind == "images":  # the images themselves: of drawn cards only
        blobs = plugin_requests(page, dash, "blob")
        assert blobs and {q["run"][0] for q in blobs} <= set(loaded_runs(page, kind))


def test_show_more_and_pinned_runs_first(page):
    open_dash(page, "images", "samples", FIRST_50)
    page.locator('details.group[data-group="samples"] button.notice-more').click()
    more = "showing 100 of 2,000 runs: the first 100 in the run list"
    page.wait_for_selector(f'details.group[data-group="samples"] [data-notice="{more}"]')
    assert card_runs(page, "images", "samples") == NAMES[:100]
    # a pinned run is drawn first, whatever its place in the run list
    page.evaluate("() => window.__tbx.host.mounted.api.pin('run1999')")
    pinned = "showing 100 of 2,000 runs: the first 99 in the run list, and 1 pinned"
    page.wait_for_selector(
        f'details.group[data-group="samples"] .runs-notice[data-notice="{pinned}"]')
    assert card_runs(page, "images", "samples") == ["run1999", *NAMES[:99]]
    page.wait_for_selector('.images-card[data-run="run1999"][data-loaded=true]', timeout=60_000)
    # deselected runs are not drawn: the next ones take their place
    page.evaluate("() => window.__tbx.host.mounted.api.select(['run0000', 'run0001'], false)")
    sel = "showing 100 of 1,998 runs: the first 99 in the run list, and 1 pinned"
    page.wait_for_selector(f'details.group[data-group="samples"] [data-notice="{sel}"]')
    assert card_runs(page, "images", "samples") == ["run1999", *NAMES[2:101]]
    # a filter narrowing the selection to fewer runs than the cap: no notice, every card
    page.fill("#run-filter", r"^run00[0-3]\d$")
    page.wait_for_function("() => document.querySelectorAll('.images-card').length === 39")
    assert page.locator(".runs-notice").count() == 0
    assert card_runs(page, "images", "samples") == ["run1999", *NAMES[2:40]]
    asked = {q["run"][0] for q in plugin_requests(page, "images", "points")}
    assert asked <= {"run1999", *NAMES[:101]}  # only runs that were drawn


def test_mesh_draws_12_views_and_pages_through_the_rest(page):
    mesh_runs = NAMES[::MESH_EVERY]  # 40 runs
    page.evaluate("location.hash = '#mesh'")
    page.wait_for_function("() => window.__tbx_mesh && window.__tbx_mesh.status === 'drawn'",
                           timeout=120_000)
    m = page.evaluate("() => window.__tbx_mesh")
    assert m["notice"] == "showing 12 of 40 runs: the first 12 in the run list"
    assert sorted(m["runs"]) == mesh_runs[:12]
    assert page.locator(".tbx-mesh-card").count() == 12
    assert page.locator(".tbx-mesh-notice .notice-text").inner_text() == m["notice"]
    frames_asked = plugin_requests(page, "mesh", "frame")
    assert sorted(q["run"][0] for q in frames_asked) == mesh_runs[:12]
    page.locator(".tbx-mesh-notice button.notice-more", has_text="next").click()
    page.wait_for_function("""() => window.__tbx_mesh.status === 'drawn'
        && window.__tbx_mesh.notice.includes('13 to 24')""", timeout=120_000)
    m = page.evaluate("() => window.__tbx_mesh")
    assert m["notice"] == ("showing 12 of 40 runs: numbers 13 to 24 in the run list "
                           "(pinned runs first)")
    cards = page.eval_on_selector_all(".tbx-mesh-card", "cs => cs.map(c => c.dataset.run)")
    assert cards == mesh_runs[12:24]
    asked = [q["run"][0] for q in plugin_requests(page, "mesh", "frame")]
    assert sorted(asked) == sorted(mesh_runs[:24])  # each drawn run once, no others
    assert re.fullmatch(r"next 12", page.locator(".tbx-mesh-notice button.notice-more",
                                                 has_text="next").inner_text())
