"""Broken plugins in real Chromium: a Python import error (through a real entry point), an
exception in a route, a module that fails to load, an exception in render, in update and later
in the plugin's own timer. Each shows an error card in its own tab, with the reason; every other
tab keeps working, and so does the server."""

from __future__ import annotations

import textwrap

import pytest
from browser_helpers import browser, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx
from tbx.viewer.plugins import BUILTIN

JS = {
    "route_error": """
        export default async function render(root, api) {
          const d = await api.fetchJSON('boom');
          root.textContent = JSON.stringify(d);
        }""",
    "render_error": """
        export default function render(root, api) { throw new Error('render exploded'); }""",
    "update_error": """
        export default function render(root, api) {
          root.append(api.el('p', { class: 'fine', text: 'fine so far' }));
          return {
            update(change) { if (change.kind === 'filter') throw new Error('update exploded'); },
          };
        }""",
    "late_error": """
        export default function render(root, api) {
          root.append(api.el('p', { class: 'fine', text: 'fine so far' }));
          setTimeout(function later() { throw new Error('timer exploded'); }, 100);
          return {};
        }""",
}


def _boom(ctx, req):
    raise RuntimeError("route exploded")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app
    from tbx.viewer.host import load_builtins, load_entry_points
    from tbx.viewer.plugin import Plugin

    root = tmp_path_factory.mktemp("p")
    with tbx.SummaryWriter(str(root / "logs" / "run")) as w:
        for i in range(20):
            w.add_scalar("loss", 1.0 / (i + 1), i)
    site = root / "site"
    info = site / "tbx_plugin_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tbx_plugin_broken\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[tbx.plugins]\nimport_error = tbxbroken:PLUGIN\n")
    (site / "tbxbroken.py").write_text("import a_module_that_does_not_exist\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(site))
        entry = [e for e in load_entry_points() if e.name == "import_error"]
    assert len(entry) == 1 and entry[0].plugin is None
    plugins = [*load_builtins(), *entry]
    for name, src in JS.items():
        f = root / name / "index.js"
        f.parent.mkdir()
        f.write_text(textwrap.dedent(src))
        plugins.append(Plugin(name=name, title=name.replace("_", " "), module=f,
                              routes={"boom": _boom}))
    plugins.append(Plugin(name="missing_module", title="missing module",
                          module=root / "nowhere" / "index.js"))
    app = create_app(LogdirProvider(str(root / "logs")), reload_interval=0.2, plugins=plugins)
    with running(app) as url:
        yield url


def _error_card(pg, name: str) -> str:
    pg.wait_for_function("n => document.body.dataset.dashboard === n", arg=name)
    card = pg.locator(f'.plugin-error[data-plugin="{name}"]')
    card.wait_for(timeout=60_000)
    return card.inner_text()


def _scalars_work(pg, url: str) -> None:
    pg.goto(url + "#scalars")
    pg.wait_for_function(
        """() => { const c = document.querySelector('.chart-card[data-title="loss"]');
               return c && Number(c.dataset.points) === 20 && c.querySelector('canvas'); }""",
        timeout=15_000)
    assert pg.locator(".plugin-error").count() == 0


def test_each_broken_plugin_shows_its_error_and_nothing_else_breaks(browser, server):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    page_errors: list[str] = []
    pg.on("pageerror", lambda e: page_errors.append(str(e)))
    pg.goto(server + "#scalars")
    pg.wait_for_selector("body[data-ready=true]", timeout=15_000)
    _scalars_work(pg, server)
    tab = pg.locator('#tabs a[data-dash="import_error"]')
    assert "broken" in tab.get_attribute("class")
    assert "No module named 'a_module_that_does_not_exist'" in tab.get_attribute("title")

    expected = {
        "import_error": "ModuleNotFoundError: No module named 'a_module_that_does_not_exist'",
        "route_error": "plugin 'route_error' failed on route 'boom': RuntimeError: route "
                       "exploded",
        "render_error": "render exploded",
        "missing_module": "failed to load",
    }
    for name, msg in expected.items():
        pg.goto(server + f"#{name}")
        text = _error_card(pg, name)
        assert msg in text, (name, text)
        screenshot(pg, f"plugin-broken-{name}")
        _scalars_work(pg, server)

    pg.goto(server + "#update_error")
    pg.locator(".plugin-root[data-plugin=update_error] .fine").wait_for()
    pg.fill("#tag-filter", "lo")
    assert "update exploded" in _error_card(pg, "update_error")
    pg.fill("#tag-filter", "")
    _scalars_work(pg, server)

    pg.goto(server + "#late_error")
    assert "timer exploded" in _error_card(pg, "late_error")
    _scalars_work(pg, server)
    for name in BUILTIN:  # every built-in tab still renders
        pg.goto(server + f"#{name}")
        pg.wait_for_function(
            "n => document.querySelector(`.plugin-root[data-plugin=${n}]`)?.children.length > 0",
            arg=name, timeout=15_000)
        assert pg.locator(".plugin-error").count() == 0, name
    # the only uncaught error was the plugin's own timer; the server still answers
    assert page_errors == ["timer exploded"], page_errors
    assert pg.evaluate("() => fetch('/api/runs').then(r => r.json())")["runs"] == ["run"]
    ctx.close()
