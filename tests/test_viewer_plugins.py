"""The plugin API and host (tbx.viewer.plugin, tbx.viewer.host): the Plugin object's checks, the
listing at /api/plugins, routes, module files, entry-point discovery, and isolation of a broken
plugin (import error, exception in a route) from the others and from the server."""

from __future__ import annotations

import logging
import textwrap

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient")
pytest.importorskip("nh3")
pytest.importorskip("tsdownsample")

from starlette.testclient import TestClient  # noqa: E402
from viewer_fakes import FakeProvider  # noqa: E402

from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.host import Loaded, discover, load_builtins, load_entry_points  # noqa: E402
from tbx.viewer.plugin import Plugin, PluginError  # noqa: E402
from tbx.viewer.plugins import BUILTIN  # noqa: E402

BUILTIN_ORDER = ["scalars", "custom_scalars", "histograms", "distributions", "images", "audio",
                 "text", "pr_curves", "hparams", "graphs", "mesh", "projector", "runs"]
#: Tab order (Plugin.order): the run table comes right after the scalars.
TAB_ORDER = ["scalars", "runs", *BUILTIN_ORDER[1:-1]]


@pytest.fixture
def provider():
    p = FakeProvider()
    p.add_scalars("train", "loss", np.arange(10), np.arange(10) * 0.5)
    p.add_scalars("eval", "loss", np.arange(5), np.arange(5) * 2.0)
    h = np.array([[0.0, 1.0, 3.0], [1.0, 2.0, 5.0]])
    p.add_tensors("train", "w", "histograms", [0, 1], [h, h])
    p.add_tensors("train", "cm", "confusion", [0, 4], [np.eye(2), 2 * np.eye(2)])
    p.refresh()
    return p


def _boom(ctx, req):
    raise RuntimeError("kaputt")


def _matrix(ctx, req):
    run = req.run()
    tag, _ = req.tag(run)
    step = req.int("step", None, 0, 2**62)
    s = ctx.provider.tensors(run, tag)
    i = int(np.searchsorted(s.step, step)) if step is not None else len(s) - 1
    if i >= len(s) or (step is not None and s.step[i] != step):
        raise PluginError(f"no step {step}", 404)
    return {"step": int(s.step[i]), "matrix": s.values[i].tolist(), "nan": float("nan")}


def _module(tmp_path):
    js = tmp_path / "web" / "index.js"
    js.parent.mkdir(parents=True, exist_ok=True)
    js.write_text("export default function render(root, api) { return {}; }\n")
    (tmp_path / "web" / "secret.py").write_text("TOKEN = 1\n")
    (tmp_path / "web" / "style.css").write_text("p { color: red }\n")
    return js


@pytest.fixture
def client(provider, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "worker.js").write_text("postMessage(1)\n")
    good = Plugin(name="confusion", title="Confusion", plugin_names=("confusion",), order=5,
                  routes={"matrix": _matrix, "boom": _boom}, module=_module(tmp_path),
                  static_dir=static)
    broken = Loaded("broken", None, "ImportError: No module named 'nope'", "tbx-plugin-x 1.0")
    loaded = [*load_builtins(), Loaded("confusion", good, None, "given"), broken]
    app = create_app(provider, refresh=False, plugins=loaded)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_builtins_registered_one_line_each():
    assert BUILTIN == BUILTIN_ORDER
    loaded = load_builtins()
    assert [e.name for e in loaded] == BUILTIN_ORDER
    assert all(e.plugin is not None and e.error is None for e in loaded)
    import importlib
    from pathlib import Path

    for e in loaded:
        folder = e.plugin.module.parent  # its folder, or its bundle's (npm deps)
        assert folder.name == e.name and e.plugin.module.is_file()
        package = Path(importlib.import_module(f"tbx.viewer.plugins.{e.name}").__file__).parent
        assert (package / "http_api.md").is_file()


def test_listing(client):
    r = client.get("/api/plugins")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    lst = r.json()
    names = [p["name"] for p in lst]
    assert names == ["confusion", *TAB_ORDER, "broken"]  # by order, failed last
    by = {p["name"]: p for p in lst}
    assert by["confusion"] == {
        "name": "confusion", "title": "Confusion", "order": 5, "plugin_names": ["confusion"],
        "source": "given", "module_url": "/api/plugins/confusion/module/index.js",
        "error": None, "active": True}
    assert by["scalars"]["active"] and by["histograms"]["active"]
    assert by["distributions"]["active"]  # reads the histograms plugin's tags
    assert not by["images"]["active"] and not by["hparams"]["active"]
    assert by["runs"]["active"]  # any run
    assert by["broken"]["error"] == "ImportError: No module named 'nope'"
    assert by["broken"]["module_url"] is None and not by["broken"]["active"]


def test_plugin_tags_route(client):
    tags = client.get("/api/plugins/confusion/tags").json()["runs"]
    assert list(tags) == ["train"] and list(tags["train"]) == ["cm"]
    assert tags["train"]["cm"]["count"] == 2 and tags["train"]["cm"]["last_step"] == 4
    sc = client.get("/api/plugins/scalars/tags").json()["runs"]
    assert {r: list(t) for r, t in sc.items()} == {"eval": ["loss"], "train": ["loss"]}


def test_route_values_and_errors(client):
    r = client.get("/api/plugins/confusion/matrix", params={"run": "train", "tag": "cm"})
    assert r.status_code == 200
    assert r.json() == {"step": 4, "matrix": [[2.0, 0.0], [0.0, 2.0]], "nan": None}
    r = client.get("/api/plugins/confusion/matrix",
                   params={"run": "train", "tag": "cm", "step": 0})
    assert r.json()["matrix"] == [[1.0, 0.0], [0.0, 1.0]]
    cases = [({"run": "nope", "tag": "cm"}, 404, "unknown run 'nope'"),
             ({"run": "train", "tag": "nope"}, 404, "unknown tag 'nope' in run 'train'"),
             ({"run": "train", "tag": "w"}, 400, "is plugin 'histograms', not 'confusion'"),
             ({"run": "train"}, 400, "missing query parameter 'tag'"),
             ({"run": "train", "tag": "cm", "step": "x"}, 400, "step must be an integer"),
             ({"run": "train", "tag": "cm", "step": "2"}, 404, "no step 2"),
             ({"run": ["train", "eval"], "tag": "cm"}, 400, "given 2 times")]
    for params, status, msg in cases:
        r = client.get("/api/plugins/confusion/matrix", params=params)
        assert r.status_code == status and msg in r.json()["error"], (params, r.text)


def test_query_parameter_errors_say_what_is_accepted(client):
    series = {"run": "train", "tag": "loss"}
    matrix = {"run": "train", "tag": "cm"}
    cases = [
        ("scalars/series", {**series, "xmin": "nan"}, "xmin must be a finite number, got 'nan'"),
        ("scalars/series", {**series, "xmax": "-inf"},
         "xmax must be a finite number, got '-inf'"),
        ("scalars/series", {**series, "smoothing": "1"},
         "smoothing must be a number from 0 to 1 (1 excluded), got '1'"),
        ("scalars/series", {**series, "width": "-1"},
         "width must be an integer from 0 to 20000, got '-1'"),
        ("confusion/matrix", {**matrix, "step": "-1"},
         "step must be a non-negative integer, got '-1'"),
        ("confusion/matrix", {**matrix, "step": str(2**63)},
         "step must be a non-negative integer no larger than 2^62, got '9223372036854775808'"),
        ("confusion/matrix", {**matrix, "step": "9" * 100},
         f"step must be a non-negative integer no larger than 2^62, got '{'9' * 40}...'"),
        ("confusion/matrix", {**matrix, "step": "1.5"}, "step must be an integer, got '1.5'"),
    ]
    for route, params, msg in cases:
        r = client.get(f"/api/plugins/{route}", params=params)
        assert (r.status_code, r.json()) == (400, {"error": msg}), params


def test_accepted_ranges_in_words():
    from tbx.viewer.views import float_range_words, int_range_words

    lo, hi = -(2**63), 2**63 - 1  # a step
    assert int_range_words(lo, hi, 0) == "an integer"
    assert int_range_words(lo, hi, 2**63) == "an integer no larger than 2^63 - 1"
    assert int_range_words(lo, hi, -(2**64)) == "an integer no smaller than -2^63"
    assert int_range_words(1, 2**31 - 1, 0) == "a positive integer"
    assert int_range_words(5, 2**31, 0) == "an integer >= 5"
    assert int_range_words(2, 200, 1) == "an integer from 2 to 200"
    assert float_range_words(2, 100, False) == "a number from 2 to 100"
    assert float_range_words(0.0, 1e300, False) == "a number from 0 to 1e+300"
    assert float_range_words(0.5, float("inf"), False) == "a finite number >= 0.5"
    assert float_range_words(-float("inf"), 3.0, True) == "a finite number < 3"


def test_route_exception_is_isolated(client, caplog):
    with caplog.at_level(logging.ERROR, logger="tbx.viewer"):
        for _ in range(3):
            r = client.get("/api/plugins/confusion/boom")
            assert r.status_code == 500
            assert r.json() == {"error": "plugin 'confusion' failed on route 'boom': "
                                         "RuntimeError: kaputt (see the server's log)"}
    logged = [rec for rec in caplog.records if "failed on route" in rec.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None  # once, with the traceback
    # everything else still answers
    r = client.get("/api/plugins/confusion/matrix", params={"run": "train", "tag": "cm"})
    assert r.status_code == 200
    assert client.get("/api/plugins/scalars/series",
                      params={"run": "train", "tag": "loss"}).status_code == 200
    assert client.get("/api/runs").json()["runs"] == ["eval", "train"]


def test_broken_and_unknown_plugins(client):
    r = client.get("/api/plugins/broken/anything")
    assert r.status_code == 503
    assert r.json()["error"] == ("plugin 'broken' failed to load: "
                                 "ImportError: No module named 'nope'")
    r = client.get("/api/plugins/nope/x")
    assert r.status_code == 404 and r.json()["error"] == "unknown plugin 'nope'"
    r = client.get("/api/plugins/confusion/nope")
    assert r.status_code == 404 and r.json()["error"] == "plugin 'confusion' has no route 'nope'"


def test_module_and_static_files(client):
    r = client.get("/api/plugins/confusion/module/index.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.text.startswith("export default function render")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/api/plugins/confusion/module/style.css").text == "p { color: red }\n"
    assert client.get("/api/plugins/confusion/static/worker.js").text == "postMessage(1)\n"
    for bad in ["module/secret.py", "module/../web/secret.py", "module/..%2fweb%2fsecret.py",
                "module/", "module/nope.js", "static/../web/index.js", "static/%2e%2e/x",
                "module/../../../../etc/passwd", "module/index.js%00", "static/worker.js%00.js"]:
        r = client.get(f"/api/plugins/confusion/{bad}")
        assert r.status_code == 404, (bad, r.status_code)
        assert "TOKEN" not in r.text and "root:" not in r.text
    # built-in modules are served from their folders
    r = client.get("/api/plugins/histograms/module/index.js")
    assert r.status_code == 200 and "export default function render" in r.text


def test_plugin_object_checks(tmp_path):
    ok = Plugin(name="a_1", title="A", plugin_names=["x"], routes={"v/1.json": _boom})
    assert ok.plugin_names == ("x",) and dict(ok.routes) == {"v/1.json": _boom}
    with pytest.raises(TypeError):
        ok.routes["other"] = _boom  # read-only
    for kw, exc, msg in [
        ({"name": "Bad-Name"}, ValueError, "must match [a-z0-9_]+"),
        ({"title": " "}, ValueError, "title must be a non-empty string"),
        ({"plugin_names": "x"}, TypeError, "write ('x',)"),
        ({"order": "1"}, ValueError, "order must be an int"),
        ({"routes": {"../x": _boom}}, ValueError, "bad route name '../x'"),
        ({"routes": {"tags": _boom}}, ValueError, "route 'tags' is reserved"),
        ({"routes": {"module/x": _boom}}, ValueError, "is reserved"),
        ({"routes": {"x": 3}}, TypeError, "handler of route 'x' is not callable"),
        ({"list_tags": 3}, TypeError, "list_tags must be callable"),
    ]:
        args = {"name": "p", "title": "P", **kw}
        with pytest.raises(exc) as e:
            Plugin(**args)
        assert msg in str(e.value)


def test_context_run_dir_version_and_cache(tmp_path):
    import tbx
    from tbx.reader.provider import LogdirProvider

    with tbx.SummaryWriter(str(tmp_path / "a" / "b")) as w:
        w.add_scalar("x", 1.0, 0)
    seen = {}

    def probe(ctx, req):
        ctx.cache["k"] = 1
        seen["ctx"] = ctx
        return {"dir": ctx.run_dir(req.run()), "v": ctx.version(),
                "sv": ctx.version("a/b", "x")}

    p = Plugin(name="probe", title="Probe", routes={"p": probe})
    provider = LogdirProvider(str(tmp_path))
    app = create_app(provider, refresh=False, plugins=[p])
    hub = app.state.hub
    hub.refresh_once()
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/plugins/probe/p", params={"run": "a/b"}).json()
        assert r == {"dir": f"{tmp_path}/a/b", "v": 1, "sv": 1}
        assert c.get("/api/plugins/probe/p", params={"run": "../a"}).status_code == 404
        assert seen["ctx"].cache == {"k": 1}
        with tbx.SummaryWriter(str(tmp_path / "a" / "b")) as w:
            w.add_scalar("x", 2.0, 1)
        hub.refresh_once()
        r = c.get("/api/plugins/probe/p", params={"run": "a/b"}).json()
        assert r["v"] == 2 and r["sv"] == 2


def _dist(root, name, entry_points: str, modules: dict[str, str]):
    """A minimal installed distribution (dist-info with entry points) under ``root``."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for mod, src in modules.items():
        (root / f"{mod}.py").write_text(textwrap.dedent(src))


def test_entry_points(tmp_path, monkeypatch):
    _dist(tmp_path, "tbx_plugin_good", """\
        [tbx.plugins]
        good = tbxgood:PLUGIN
        factory = tbxgood:make
        """, {"tbxgood": """\
        from tbx.viewer.plugin import Plugin
        PLUGIN = Plugin(name="good", title="Good", plugin_names=("good",))
        def make():
            return Plugin(name="made", title="Made")
        """})
    _dist(tmp_path, "tbx_plugin_bad", """\
        [tbx.plugins]
        bad = tbxbad_missing:PLUGIN
        notaplugin = tbxnot:PLUGIN
        dup = tbxdup:PLUGIN
        """, {"tbxnot": "PLUGIN = 42\n", "tbxdup": """\
        from tbx.viewer.plugin import Plugin
        PLUGIN = Plugin(name="scalars", title="Other scalars")
        """})
    monkeypatch.syspath_prepend(str(tmp_path))
    found = {e.name: e for e in load_entry_points()}
    assert set(found) == {"good", "made", "bad", "notaplugin", "scalars"}
    assert found["good"].plugin.title == "Good" and found["good"].source == "tbx_plugin_good 1.0"
    assert found["made"].plugin.title == "Made"
    assert found["bad"].plugin is None
    assert found["bad"].error.startswith("ModuleNotFoundError: No module named 'tbxbad_missing'")
    assert "is a int, not a tbx.viewer.plugin.Plugin" in found["notaplugin"].error
    every = {e.name: e for e in discover()}
    assert every["scalars"].source == "builtin"  # a built-in keeps its name
    assert {"good", "made", "bad", "notaplugin"} <= set(every)


def test_cache_emptied_when_a_run_vanishes_or_a_series_is_purged(provider):
    seen = {}

    def probe(ctx, req):
        ctx.cache["k"] = ctx.version()
        seen["ctx"] = ctx
        return {}

    app = create_app(provider, refresh=False, plugins=[Plugin(name="probe", title="P",
                                                               routes={"p": probe})])
    hub = app.state.hub
    hub.refresh_once()
    with TestClient(app) as c:
        c.get("/api/plugins/probe/p")
        v0 = seen["ctx"].cache["k"]
        provider.add_scalars("train", "loss", [10], [1.0])
        hub.refresh_once()  # an append keeps the cache, bumps the version
        assert seen["ctx"].cache == {"k": v0} and seen["ctx"].version() == v0 + 1
        provider.purge("train", "loss", 5)
        hub.refresh_once()
        assert seen["ctx"].cache == {}
        c.get("/api/plugins/probe/p")
        del provider.data["eval"]
        hub.refresh_once()
        assert seen["ctx"].cache == {}


def test_serve_plugins_lists_and_reports_broken(tmp_path, monkeypatch, capsys):
    from tbx.cli import main

    _dist(tmp_path, "tbx_plugin_bad", """\
        [tbx.plugins]
        bad = tbxbad_missing:PLUGIN
        """, {})
    assert main(["serve", "--plugins"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "TITLE", "SOURCE", "STATUS"]
    assert [line.split()[0] for line in out[1:]] == TAB_ORDER
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["serve", "--plugins"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].split()[:4] == ["bad", "-", "tbx_plugin_bad", "1.0"]
    assert out[-1].endswith("error: ModuleNotFoundError: No module named 'tbxbad_missing'")
    assert main(["serve"]) == 2
    assert "required: logdir" in capsys.readouterr().err
