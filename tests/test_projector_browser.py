"""The Projector tab in real Chromium over a known embedding (``demo_data``: 300 points in 16
dimensions around three centres, at steps 0 and 10): the PCA coordinates the page draws equal
numpy's SVD up to sign; colouring by a column gives the expected legend; a search highlights
the expected rows; a clicked point's neighbours are numpy's; the step slider keeps the selected
point; isolating re-projects the subset; bad files are named on the page while the rest works.
Values are read from the page's own state (``window.__tbx_projector``), never from pixels."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from browser_helpers import browser, page_at, screenshot  # noqa: F401 (fixture)

from tbx.viewer.plugins.projector import BUNDLE, demo_data

if not (BUNDLE / "index.js").is_file():
    pytest.skip("projector front end not built (npm ci && npm run build in web/)",
                allow_module_level=True)

N, D = 300, 16


def pca_numpy(x):
    xc = x.astype(np.float64) - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    return xc @ vt.T


def assert_up_to_sign(got, expected):
    for j in range(got.shape[1]):
        sign = np.sign(np.dot(got[:, j], expected[:, j])) or 1.0
        np.testing.assert_allclose(sign * got[:, j], expected[:, j], rtol=1e-4,
                                   atol=1e-4 * np.abs(expected[:, j]).max())


def write_bad_run(folder):
    """A run whose metadata is short, whose row 4 is NaN and whose sprite is too small."""
    from PIL import Image

    import tbx

    mat, rows = demo_data.make_points(30, 4, seed=2)
    with tbx.SummaryWriter(folder) as w:
        w.add_embedding(mat, metadata=[r[1] for r in rows], tag="bad")
    emb = folder / "00000" / "bad"
    lines = (emb / "tensors.tsv").read_text().splitlines()
    lines[4] = "\t".join(["nan"] * 4)
    (emb / "tensors.tsv").write_text("\n".join(lines) + "\n")
    (emb / "metadata.tsv").write_text("".join(r[1] + "\n" for r in rows[:20]))
    Image.new("RGB", (10, 10)).save(emb / "sprite.png")
    config = folder / "projector_config.pbtxt"
    config.write_text(config.read_text().replace(
        'metadata_path: "00000/bad/metadata.tsv"',
        'metadata_path: "00000/bad/metadata.tsv"\n  sprite {\n    image_path: '
        '"00000/bad/sprite.png"\n    single_image_dim: 5\n    single_image_dim: 5\n  }'))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    root = tmp_path_factory.mktemp("logs")
    mats = demo_data.write_demo(root / "demo", n=N, d=D, steps=(0, 10))
    write_bad_run(root / "zbad")
    import tbx

    with tbx.SummaryWriter(root / "mirror") as w:  # step 1 is step 0 negated
        for step, sign in ((0, 1), (1, -1)):
            w.add_embedding(sign * mats[0], global_step=step, tag="m")
    app = create_app(LogdirProvider(str(root)), reload_interval=0.2)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                        timeout_graceful_shutdown=1))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.02)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield {"url": f"http://127.0.0.1:{port}/", "mats": mats, "root": root}
    srv.should_exit = True
    th.join(timeout=10)


READY = """([status, name]) => { const p = window.__tbx_projector;
  return p && p.status === status && (!name || p.name === name) && p.firstFrame !== null; }"""


def wait_ready(pg, name=None, timeout=60_000):
    pg.wait_for_function(READY, arg=["ready", name], timeout=timeout)


def state(pg, *keys):
    return pg.evaluate("""keys => { const p = window.__tbx_projector; const o = {};
        for (const k of keys) { const v = p[k];
          o[k] = (v && v.buffer instanceof ArrayBuffer) ? Array.from(v) : v; }
        return o; }""", list(keys))


@pytest.fixture
def page(browser, server):  # noqa: F811 (browser is the shared fixture)
    with page_at(browser, server["url"]) as pg:
        pg.click("#tabs a[data-dash=projector]")
        wait_ready(pg, "demo:00010")
        yield pg


def coords(pg):
    s = state(pg, "coords", "dims", "n")
    return np.array(s["coords"], dtype=np.float64).reshape(s["n"], s["dims"])


def test_pca_coordinates_equal_numpy(page, server):
    expected = pca_numpy(server["mats"][1])
    s = state(page, "method", "axes", "variance", "n")
    assert s["method"] == "pca" and s["n"] == N
    assert_up_to_sign(coords(page), expected[:, :2])
    var = expected.var(axis=0, ddof=1)
    np.testing.assert_allclose(s["variance"], var[:10] / var.sum(), rtol=1e-5)
    page.check("input[name=three_d]")
    page.wait_for_function("() => window.__tbx_projector.dims === 3")
    wait_ready(page)
    assert_up_to_sign(coords(page), expected[:, :3])
    page.select_option("select[name=pc_y]", "3")  # PC1, PC4, PC3
    page.wait_for_function("() => window.__tbx_projector.axes[1] === 3")
    wait_ready(page)
    assert_up_to_sign(coords(page), expected[:, [0, 3, 2]])
    screenshot(page, "projector-pca-3d")


def test_colour_by_column_gives_legend(page):
    legend = state(page, "legend")["legend"]  # the first categorical column by default
    assert legend["column"] == "colour" and legend["type"] == "categorical"
    assert [(i["label"], i["count"]) for i in legend["items"]] == [
        ("blue", 100), ("green", 100), ("red", 100)]
    # the legend's DOM may be drawn a frame after the state: wait for it (a wrong one times out)
    page.wait_for_function("""want => JSON.stringify([...document.querySelectorAll(
        '.tbx-p-legend-item')].map(r => r.dataset.label)) === JSON.stringify(want)""",
                           arg=["blue", "green", "red"], timeout=60_000)
    page.select_option("select[name=color_by]", "size")
    page.wait_for_function("() => window.__tbx_projector.legend.column === 'size'")
    legend = state(page, "legend")["legend"]
    counts = np.bincount(np.arange(N) % 7)
    assert [(i["label"], i["count"]) for i in legend["items"]] == [
        (str(v), int(counts[v])) for v in range(7)]
    page.select_option("select[name=color_mode]", "continuous")
    page.wait_for_function("() => window.__tbx_projector.legend.type === 'continuous'")
    legend = state(page, "legend")["legend"]
    assert (legend["min"], legend["max"]) == (0, 6)
    screenshot(page, "projector-colour")


def test_search_highlights_expected_rows(page):
    page.fill("input[name=search]", "P1")  # substring, case-insensitive, every column
    expected = [i for i in range(N) if "p1" in f"p{i}"]
    page.wait_for_function("n => (window.__tbx_projector.matches || []).length === n",
                           arg=len(expected))
    s = state(page, "matches", "highlighted")
    assert s["matches"] == expected and s["highlighted"] == expected
    assert page.inner_text("[data-role=search-count]") == f"{len(expected)} matches"
    page.select_option("select[name=search_column]", "name")
    page.check("input[name=regex]")
    page.fill("input[name=search]", r"^p1\d$")
    page.wait_for_function("() => (window.__tbx_projector.matches || []).length === 10")
    assert state(page, "highlighted")["highlighted"] == list(range(10, 20))
    page.fill("input[name=search]", "(")
    page.wait_for_function(
        "() => document.querySelector('[data-role=search-count]').textContent.includes("
        "'not a valid regular expression')")
    screenshot(page, "projector-search")


def click_point(pg, index):
    xy = pg.evaluate("i => window.__tbx_projector.screenOf(i)", index)
    assert xy is not None
    box = pg.locator(".tbx-p-plot canvas").first.bounding_box()
    pg.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def numpy_neighbors(x, i, k, metric):
    x = x.astype(np.float64)
    if metric == "cosine":
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1 - u @ u[i]
    else:
        d = np.linalg.norm(x - x[i], axis=1)
    d[i] = np.inf
    return np.argsort(d, kind="stable")[:k].tolist(), np.sort(d)[:k]


def test_neighbours_of_clicked_point(page, server):
    mat = server["mats"][1]
    # a point whose nearest drawn point is itself: click exactly where it is drawn
    page.evaluate("() => window.__tbx_projector.select(-1)")
    target = 42
    click_point(page, target)
    page.wait_for_function("i => window.__tbx_projector.selected === i && "
                           "window.__tbx_projector.neighbors.length === 10", arg=target)
    got = state(page, "neighbors")["neighbors"]
    idx, dist = numpy_neighbors(mat, target, 10, "cosine")
    assert [g["index"] for g in got] == idx
    np.testing.assert_allclose([g["distance"] for g in got], dist, rtol=1e-4, atol=1e-6)
    labels = page.locator("[data-role=neighbors] button").evaluate_all(
        "bs => bs.map(b => b.dataset.index)")
    assert labels == [str(i) for i in idx]
    page.select_option("select[name=metric]", "euclidean")
    idx, dist = numpy_neighbors(mat, target, 10, "euclidean")
    page.wait_for_function("first => window.__tbx_projector.neighbors.length === 10 && "
                           "window.__tbx_projector.neighbors[0].index === first", arg=idx[0])
    got = state(page, "neighbors")["neighbors"]
    assert [g["index"] for g in got] == idx
    np.testing.assert_allclose([g["distance"] for g in got], dist, rtol=1e-5)
    assert "p42" in page.inner_text("[data-role=selection]")
    screenshot(page, "projector-neighbours")


def test_step_slider_keeps_the_selected_point(page, server):
    page.evaluate("() => window.__tbx_projector.select(7)")
    page.wait_for_function("() => window.__tbx_projector.neighbors.length === 10")
    assert state(page, "steps")["steps"] == [0, 10]
    before = coords(page)
    page.eval_on_selector("input[name=step]", """s => { s.value = '0';
        s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }""")
    wait_ready(page, "demo:00000")
    idx, _ = numpy_neighbors(server["mats"][0], 7, 10, "cosine")
    # the list of step 10 stays until step 0's answer replaces it: wait for step 0's own list
    # (a wrong list times out here and fails)
    page.wait_for_function("""want => { const n = window.__tbx_projector.neighbors;
                                   return n.length === want.length
                                          && n.every((g, i) => g.index === want[i]); }""",
                           arg=list(map(int, idx)), timeout=60_000)
    s = state(page, "selected", "step", "neighbors")
    assert s["selected"] == 7 and s["step"] == 0
    assert [g["index"] for g in s["neighbors"]] == idx
    after = coords(page)
    assert_up_to_sign(after, pca_numpy(server["mats"][0])[:, :2])
    assert (np.sum(before * after, axis=0) > 0).all()


def test_step_slider_keeps_axes_directions(page):
    """Step 1 of run "mirror" is step 0 negated: its principal axes are the same lines, and the
    page keeps them pointing the same way, so no point jumps to the mirror side."""
    page.select_option("select[name=run]", "mirror")
    wait_ready(page, "m:00001")
    step1 = coords(page)
    page.eval_on_selector("input[name=step]", """s => { s.value = '0';
        s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }""")
    wait_ready(page, "m:00000")
    np.testing.assert_allclose(coords(page), step1, rtol=1e-5, atol=1e-4)
    # the selected point is drawn where step 0 puts it
    assert page.evaluate("() => window.__tbx_projector.screenOf(7)") is not None


def test_isolate_matches_and_reproject(page, server):
    page.select_option("select[name=search_column]", "colour")
    page.fill("input[name=search]", "red")
    page.wait_for_function("() => (window.__tbx_projector.matches || []).length === 100")
    page.click("button[name=isolate_matches]")
    page.wait_for_function("() => window.__tbx_projector.subset && "
                           "window.__tbx_projector.drawn === 100")
    wait_ready(page)
    c = coords(page)
    red = np.arange(0, N, 3)
    assert np.isnan(np.delete(c, red, axis=0)).all()
    assert_up_to_sign(c[red], pca_numpy(server["mats"][1][red])[:, :2])
    page.click("button[name=show_all]")
    page.wait_for_function("() => !window.__tbx_projector.subset && "
                           "window.__tbx_projector.drawn === 300")


def test_bad_files_named_and_rest_works(page):
    page.select_option("select[name=run]", "zbad")
    wait_ready(page, "bad:00000")
    problems = page.inner_text("[data-role=problems]")
    assert "tensors.tsv: 1 of 30 rows hold NaN or Inf (rows 4)" in problems
    assert "metadata.tsv has 20 rows for 30 points: points 20..29 have no labels" in problems
    assert "sprite.png is 10x10 pixels: it holds 4 thumbnails of 5x5 pixels for 30 points" \
        in problems
    s = state(page, "n", "drawn", "legend")
    assert s["n"] == 30 and s["drawn"] == 29
    assert ("(no value)", 10) in [(i["label"], i["count"]) for i in s["legend"]["items"]]
    screenshot(page, "projector-bad-input")


def test_tsne_runs_with_progress(page):
    pytest.importorskip("openTSNE")
    page.select_option("select[name=method]", "tsne")  # starts 500 iterations
    page.wait_for_function("() => window.__tbx_projector.status === 'projecting'")
    page.fill("input[name=iterations]", "60")
    page.click("button[name=run_projection]")  # stops that job, starts one of 60
    page.wait_for_function("() => { const j = window.__tbx_projector.job; "
                           "return j && j.state === 'done' && j.message.endsWith('/310'); }",
                           timeout=180_000)
    wait_ready(page)
    c = coords(page)
    assert c.shape == (N, 2) and np.isfinite(c).all()
    job = state(page, "job")["job"]
    assert job["progress"] == 1 and job["message"].startswith("iteration")


def test_new_run_appears_live(page, server):
    """An embedding written while the page is open shows up in the run list without reload."""
    demo_data.write_demo(server["root"] / "live", n=30, d=3, steps=(5,))
    page.wait_for_function(
        "() => [...document.querySelectorAll('select[name=run] option')]"
        ".some(o => o.value === 'live')", timeout=60_000)
    page.select_option("select[name=run]", "live")
    wait_ready(page, "demo:00005")
    assert state(page, "n", "run")["n"] == 30


def test_custom_axes_from_metadata(page, server):
    page.select_option("select[name=method]", "custom")
    page.wait_for_function("() => document.querySelector('[data-role=status]')"
                           ".textContent.startsWith('Custom: type')")
    page.fill("input[name=custom_x]", "red")
    page.fill("input[name=custom_x_left]", "blue")
    page.fill("input[name=custom_y]", "green")
    page.select_option("select[name=custom_column]", "colour")
    page.click("button[name=run_projection]")
    page.wait_for_function("() => window.__tbx_projector.method === 'custom' && "
                           "window.__tbx_projector.job && window.__tbx_projector.job.state "
                           "=== 'done'")
    wait_ready(page)
    x = server["mats"][1].astype(np.float64)
    dx = x[0::3].mean(0) - x[2::3].mean(0)  # red minus blue
    dy = x[1::3].mean(0) - x.mean(0)  # green minus all
    xc = x - x.mean(0)
    expected = np.stack([xc @ dx / np.linalg.norm(dx), xc @ dy / np.linalg.norm(dy)], axis=1)
    np.testing.assert_allclose(coords(page), expected, rtol=1e-4, atol=1e-4)
