"""The Graphs and Mesh dashboards in real Chromium (Playwright, Debian's Chromium, software
WebGL), over a logdir of known data served by the real app: the page's own published data
(``window.__tbx_graphs``, ``window.__tbx_mesh``) is checked, not pixels. Screenshots go to
``tests/artifacts/``."""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import browser, page_at, screenshot  # noqa: F401 (fixture)
from viewer_fakes import running

import tbx
from tbx.viewer.plugins.graphs import demo_data as graph_demo
from tbx.viewer.plugins.mesh import demo_data as mesh_demo

POINTS = 50_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    root = tmp_path_factory.mktemp("logs")
    graph_demo.write_demo(root, sizes=(2000,))  # runs "small", "synthetic_2000"
    for run, step0 in (("cloud_a", 0), ("cloud_b", 5)):
        with tbx.SummaryWriter(root / run) as w:
            for k in range(2):
                v, c = mesh_demo.point_cloud(POINTS, step0 + k)
                w.add_mesh("cloud", v, colors=c, global_step=step0 + k)
            v, c, f = mesh_demo.torus()
            w.add_mesh("torus", v, colors=c, faces=f, global_step=0)
    app = create_app(LogdirProvider(str(root)), reload_interval=0.5)
    with running(app) as url:
        yield url


def open_tab(pg, name: str) -> None:
    pg.evaluate(f"location.hash = '#{name}'")


def graphs_state(pg, predicate: str = "g.status === 'drawn'", timeout: int = 60_000) -> dict:
    """``window.__tbx_graphs`` once ``predicate`` (JS over ``g``) holds."""
    pg.wait_for_function(f"() => {{ const g = window.__tbx_graphs; return g && ({predicate}); }}",
                         timeout=timeout)
    return pg.evaluate("() => window.__tbx_graphs")


def pick_run(pg, run: str) -> dict:
    pg.select_option(".tbx-g-run", run)
    return graphs_state(pg, f"g.run === {run!r} && g.status === 'drawn'")


@pytest.fixture
def graphs(browser, server):  # noqa: F811
    with page_at(browser, server) as pg:
        open_tab(pg, "graphs")
        graphs_state(pg)
        if pg.evaluate("() => window.__tbx_graphs.run") != "small":
            pick_run(pg, "small")
        yield pg


def test_small_graph_opens_with_its_top_groups(graphs):
    g = graphs_state(graphs)
    assert g["stats"] == {"nodes": 12, "edges": 11, "groups": 8, "missing_inputs": 0}
    # the model's class is opened (it is the only group of several ops); its modules are not
    assert g["expanded"] == ["Net"]
    assert g["visibleGroups"] == ["Net", "Net/Linear[fc1]", "Net/Sequential[seq]", "input",
                                  "output"]
    assert g["visibleNodes"] == ["Net/2", "Net/mul", "Net/out"]
    assert graphs.locator('[data-name="Net/Sequential[seq]"]').get_attribute("data-count") == "4"
    assert g["worker"] is True  # laid out in the web worker
    screenshot(graphs, "graphs-small")


def test_expanding_a_group_reveals_its_nodes_and_collapsing_hides_them(graphs):
    graphs.click('[data-name="Net/Linear[fc1]"]')
    g = graphs_state(graphs, "g.expanded.includes('Net/Linear[fc1]') && g.status === 'drawn'")
    assert {"Net/Linear[fc1]/weight", "Net/Linear[fc1]/bias", "Net/Linear[fc1]/input.1"} <= \
        set(g["visibleNodes"])
    assert graphs.locator('[data-name="Net/Linear[fc1]/input.1"]').count() == 1
    graphs.click('[data-name="Net/Linear[fc1]"] .tbx-head')
    g = graphs_state(graphs, "!g.expanded.includes('Net/Linear[fc1]') && g.status === 'drawn'")
    assert "Net/Linear[fc1]/weight" not in g["visibleNodes"]
    assert graphs.locator('[data-name="Net/Linear[fc1]/weight"]').count() == 0


def test_search_finds_a_node_and_expands_to_it(graphs):
    graphs.fill(".tbx-g-search", "relu")
    g = graphs_state(graphs, "g.matches.length > 0")
    assert g["matches"] == ["Net/Sequential[seq]/ReLU[0]/input.3"]
    graphs.click('.tbx-g-match[data-node="Net/Sequential[seq]/ReLU[0]/input.3"]')
    g = graphs_state(graphs, "g.selected === 'Net/Sequential[seq]/ReLU[0]/input.3' "
                             "&& g.status === 'drawn' && g.details !== null")
    assert {"Net/Sequential[seq]", "Net/Sequential[seq]/ReLU[0]"} <= set(g["expanded"])
    assert "Net/Sequential[seq]/ReLU[0]/input.3" in g["visibleNodes"]
    node = graphs.locator('[data-name="Net/Sequential[seq]/ReLU[0]/input.3"]')
    assert "tbx-selected" in node.get_attribute("class")
    screenshot(graphs, "graphs-search")


def test_node_details_show_shape_op_and_linked_inputs(graphs):
    graphs.click('[data-name="Net/Linear[fc1]"]')
    graphs_state(graphs, "g.expanded.includes('Net/Linear[fc1]') && g.status === 'drawn'")
    graphs.click('[data-name="Net/Linear[fc1]/input.1"]')
    g = graphs_state(graphs, "g.details && g.details.name === 'Net/Linear[fc1]/input.1'")
    d = g["details"]
    assert (d["op"], d["shape"]) == ("aten::linear", "1x3")
    assert [i["name"] for i in d["inputs"]] == [
        "input/x", "Net/Linear[fc1]/weight", "Net/Linear[fc1]/bias"]
    panel = graphs.locator(".tbx-g-details")
    assert "1x3" in panel.inner_text() and "aten::linear" in panel.inner_text()
    # an output is a link that reveals that node (inside a collapsed group)
    graphs.click('.tbx-g-outs a[data-node="Net/Sequential[seq]/ReLU[0]/input.3"]')
    # the details come with the node's answer, the expanded groups with the new layout (a
    # worker): wait for both
    g = graphs_state(graphs, "g.details && g.details.name === "
                             "'Net/Sequential[seq]/ReLU[0]/input.3' && "
                             "g.expanded.includes('Net/Sequential[seq]/ReLU[0]')")
    assert "Net/Sequential[seq]/ReLU[0]" in g["expanded"]
    assert g["details"]["shape"] == "1x3"


def test_a_2000_node_graph_opens_collapsed(graphs):
    g = pick_run(graphs, "synthetic_2000")
    assert g["stats"]["nodes"] == 2000
    assert g["expanded"] == ["model"]
    assert g["visibleGroups"] == ["input", "model", "model/stage0", "model/stage1",
                                  "model/stage2", "model/stage3", "output"]
    assert g["visibleNodes"] == []


@pytest.fixture
def mesh(browser, server):  # noqa: F811
    with page_at(browser, server) as pg:
        open_tab(pg, "mesh")
        pg.wait_for_function("() => window.__tbx_mesh && window.__tbx_mesh.status === 'drawn'"
                             " && Object.keys(window.__tbx_mesh.runs).length === 2",
                             timeout=60_000)
        yield pg


def test_point_cloud_vertex_count_and_colours_reach_webgl(mesh):
    m = mesh.evaluate("() => window.__tbx_mesh")
    assert m["name"] == "cloud"
    a, b = m["runs"]["cloud_a"], m["runs"]["cloud_b"]
    assert (a["vertices"], a["faces"], a["colors"], a["webgl"]) == (POINTS, 0, True, True)
    assert (a["step"], b["step"]) == (1, 6)  # the slider starts at the last step of each run
    v, c = mesh_demo.point_cloud(POINTS, 1)
    for i in (0, 12_345, POINTS - 1):
        assert mesh.evaluate(f"() => window.__tbx_mesh.color('cloud_a', {i})") == c[0, i].tolist()
        got = mesh.evaluate(f"() => window.__tbx_mesh.position('cloud_a', {i})")
        np.testing.assert_array_equal(np.float32(got), v[0, i])
    assert mesh.locator(".tbx-mesh-card canvas").count() == 2
    screenshot(mesh, "mesh-cloud")


def test_step_slider_and_triangle_mesh(mesh):
    mesh.evaluate("""() => { const s = document.querySelector('.tbx-mesh-step');
                             s.value = '0'; s.dispatchEvent(new Event('input')); }""")
    mesh.wait_for_function("() => window.__tbx_mesh.status === 'drawn' && "
                           "window.__tbx_mesh.runs.cloud_a.step === 0")
    m = mesh.evaluate("() => window.__tbx_mesh")
    assert m["runs"]["cloud_b"]["step"] == 5  # its first step (none at or below 0)
    v, c = mesh_demo.point_cloud(POINTS, 0)
    assert mesh.evaluate("() => window.__tbx_mesh.color('cloud_a', 7)") == c[0, 7].tolist()
    mesh.select_option(".tbx-mesh-name", "torus")
    mesh.wait_for_function("() => window.__tbx_mesh.status === 'drawn' && "
                           "window.__tbx_mesh.runs.cloud_a.name === 'torus'")
    t = mesh.evaluate("() => window.__tbx_mesh.runs.cloud_a")
    tv, tc, tf = mesh_demo.torus()
    assert (t["vertices"], t["faces"], t["components"]) == (
        tv.shape[1], tf.shape[1], ["VERTEX", "FACE", "COLOR"])
    assert mesh.evaluate("() => window.__tbx_mesh.color('cloud_a', 100)") == tc[0, 100].tolist()
    screenshot(mesh, "mesh-torus")
