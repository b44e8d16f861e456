"""Shared by the browser tests: Playwright (pip) driving Debian's Chromium with the flags that
need no network. Importing this module skips the importing test module, with the reason, when
playwright, chromium, the viewer's packages or its built front end are missing (.ci/run installs
them all)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

for _module in ("starlette", "uvicorn", "nh3", "tsdownsample"):
    pytest.importorskip(_module)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip("chromium not installed (apt-get install -y chromium)", allow_module_level=True)

from tbx.viewer.app import DIST_DIR  # noqa: E402

if not (DIST_DIR / "main.js").is_file():
    pytest.skip("viewer front end not built (npm ci && npm run build in web/)",
                allow_module_level=True)

#: Screenshots of the browser tests (git-ignored).
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@contextlib.contextmanager
def page_at(browser, url: str):
    """A fresh page (1300x900) at ``url + "#scalars"``, once the app says it is ready; on exit,
    fails the test if the page raised a JavaScript error."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url + "#scalars")
    pg.wait_for_selector("body[data-ready=true]", timeout=60_000)
    yield pg
    ctx.close()
    assert not errors, errors


def frames(pg, n: int = 2) -> None:
    """Wait until the page has rendered ``n`` more animation frames (drawing is done in the
    next frame: this is a condition, not a time)."""
    pg.evaluate("""n => new Promise(done => { const step = k => (k ? requestAnimationFrame(
                     () => step(k - 1)) : done()); step(n); })""", n)


def screenshot(pg, name: str) -> None:
    """Save the page's viewport to ``tests/artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
