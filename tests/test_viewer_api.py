"""The viewer's HTTP API (starlette TestClient over an in-memory provider): every route, bad
parameters (4xx with a message, never a 500), path traversal, auth token, host check."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient")  # needs httpx2 (or httpx), in the dev extra
pytest.importorskip("nh3")
pytest.importorskip("tsdownsample")

from starlette.testclient import TestClient  # noqa: E402
from viewer_fakes import FakeProvider  # noqa: E402

from tbx.proto.layout_pb2 import Category, Chart, Layout, MultilineChartContent  # noqa: E402
from tbx.proto.plugin_hparams_pb2 import HParamsPluginData  # noqa: E402
from tbx.proto.summary_pb2 import SummaryMetadata  # noqa: E402
from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.plugins.scalars import series as S  # noqa: E402

SERIES = "/api/plugins/scalars/series"
CSV = SERIES + ".csv"


def P(plugin: str, route: str = "points") -> str:
    """URL of a plugin's route."""
    return f"/api/plugins/{plugin}/{route}"


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
WAV = b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 24


def _hp_md(**kw):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="hparams", content=HParamsPluginData(version=0, **kw).SerializeToString()))


@pytest.fixture
def provider():
    p = FakeProvider()
    steps = np.arange(100_000)
    vals = np.sin(steps / 1000.0)
    vals[5000] = 50.0  # a spike
    vals[7000:7100] = np.nan  # a gap
    p.add_scalars("train", "loss", steps, vals)
    p.add_scalars("eval", "loss", np.arange(0, 100_000, 1000), np.arange(100) * 0.1)
    p.add_scalars("train", "acc/top1", np.arange(10), np.linspace(0, 1, 10))
    hist = [np.array([[0.0, 1.0, 3.0], [1.0, 2.0, 5.0], [2.0, 3.0, 2.0]]) for _ in range(5)]
    p.add_tensors("train", "weights", "histograms", range(5), hist)
    p.add_tensors("train", "note/text_summary", "text", [0, 1], [
        np.array([b"**bold** <script>alert(1)</script>"], dtype=object),
        np.array([[b"a", b"<img src=x onerror=alert(1)>"], [b"c", b"d"]], dtype=object)])
    pr = np.vstack([np.ones((4, 5)), np.linspace(1, 0.5, 5)[None], np.linspace(1, 0, 5)[None]])
    p.add_tensors("train", "pr", "pr_curves", [0, 1], [pr, pr])
    p.add_blobs("train", "img", "images", [0, 1], [[b"4", b"2", PNG], [b"4", b"2", PNG, PNG]])
    p.add_blobs("train", "snd", "audio", [3], [[WAV, b"hello"]])
    layout = Layout(category=[Category(title="cat", chart=[
        Chart(title="losses", multiline=MultilineChartContent(tag=["^loss$"]))])])
    p.add_tensors(".", "custom_scalars__config__", "custom_scalars", [0],
                  [np.array([layout.SerializeToString()], dtype=object)])
    from tbx.proto.plugin_hparams_pb2 import Experiment, MetricInfo, MetricName
    from tbx.proto.plugin_hparams_pb2 import SessionStartInfo as SSI

    exp = Experiment(metric_infos=[MetricInfo(name=MetricName(tag="loss"))])
    ssi = SSI()
    ssi.hparams["lr"].number_value = 0.1
    ssi.hparams["opt"].string_value = "adam"
    p.add_tensors("train", "_hparams_/experiment", "hparams", [0], [np.zeros(0)],
                  metadata=_hp_md(experiment=exp))
    p.add_tensors("train", "_hparams_/session_start_info", "hparams", [0], [np.zeros(0)],
                  metadata=_hp_md(session_start_info=ssi))
    p.refresh()
    return p


@pytest.fixture
def client(provider):
    app = create_app(provider, refresh=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _err(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in r.text
    return body["error"]


def test_runs_and_tags(client):
    r = client.get("/api/runs")
    assert r.status_code == 200
    assert r.json()["runs"] == [".", "eval", "train"]
    tags = client.get("/api/tags").json()["runs"]
    assert tags["train"]["loss"]["count"] == 100_000
    assert tags["train"]["loss"]["plugin"] == "scalars"
    assert tags["train"]["img"]["class"] == "blob"
    only = client.get("/api/tags", params={"plugin": "images"}).json()["runs"]
    assert list(only) == ["train"] and list(only["train"]) == ["img"]


def test_security_headers(client):
    r = client.get("/api/runs")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_scalars_binary_downsampled(client):
    r = client.get(SERIES, params={"run": ["train", "eval"], "tag": "loss", "width": 500})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-tbx-series"
    assert r.content[:4] == b"TBXS"
    magic, version, count, hlen = struct.unpack_from("<4sIII", r.content)
    assert (version, count) == (1, 2) and (16 + hlen) % 8 == 0
    out = dict(((d["run"], d["tag"]), (d, c)) for d, c in S.unpack(r.content))
    d, cols = out[("train", "loss")]
    assert d["total"] == 100_000 and d["downsampled"] and d["n"] <= 4 * 500 + 500
    assert np.nanmax(cols["value"]) == 50.0  # the spike survives
    assert np.isnan(cols["value"]).any()  # the gap survives
    assert np.all(np.diff(cols["step"]) > 0)
    d2, cols2 = out[("eval", "loss")]
    assert d2["n"] == 100 and not d2["downsampled"]
    assert np.allclose(cols2["value"], np.arange(100) * 0.1)


def test_scalars_width_one_is_two_columns(client):
    """width=1 (accepted: 0..20000) once made the M4 library panic (500): it is drawn on two
    pixel columns, first/last/min/max of each, spike included."""
    r = client.get(SERIES, params={"run": "train", "tag": "loss", "width": 1})
    assert r.status_code == 200, r.text
    (d, cols), = S.unpack(r.content)
    assert d["downsampled"] and 4 <= d["n"] <= 8 + 2  # + one per column holding a gap
    assert np.nanmax(cols["value"]) == 50.0
    assert cols["step"][0] == 0 and cols["step"][-1] == 99_999


def test_scalars_whole_large_series_is_sent_in_pieces_exactly(provider, client):
    """An unsampled answer of more than STREAM_VALUES values is streamed (no Content-Length,
    never built as one more copy) and decodes to exactly the series."""
    from tbx.viewer.plugins.scalars import STREAM_VALUES

    n = STREAM_VALUES // 3 + 12_345
    steps = np.arange(n) * 3
    vals = np.cos(np.arange(n) / 7.0).astype(np.float32)
    provider.add_scalars("big", "loss", steps, vals)
    provider.refresh()
    r = client.get(SERIES, params={"run": "big", "tag": "loss", "width": 0})
    assert r.status_code == 200 and "content-length" not in r.headers
    (d, cols), = S.unpack(r.content)
    assert d["n"] == d["total"] == n and not d["downsampled"]
    assert np.array_equal(cols["step"], steps)
    assert np.array_equal(cols["value"], vals.astype(np.float64))
    small = client.get(SERIES, params={"run": "train", "tag": "acc/top1", "width": 0})
    assert int(small.headers["content-length"]) == len(small.content)
    with pytest.raises(ValueError, match="column length"):
        list(S.iter_pack([({"n": 3, "columns": ["step"]}, [np.zeros(2)])]))


def test_scalars_zoom_returns_raw_points(client):
    r = client.get(SERIES, params={"run": "train", "tag": "loss", "width": 800,
                                            "xmin": 1000, "xmax": 2000})
    (d, cols), = S.unpack(r.content)
    assert not d["downsampled"]
    assert cols["step"][0] == 999 and cols["step"][-1] == 2001  # one neighbour each side
    assert np.array_equal(cols["step"], np.arange(999, 2002))


def test_scalars_full_and_smoothing(client, provider):
    r = client.get(SERIES, params={"run": "eval", "tag": "loss", "width": 0,
                                            "smoothing": 0.5})
    (d, cols), = S.unpack(r.content)
    assert d["columns"] == ["step", "wall_time", "value", "smoothed"]
    v = np.arange(100) * 0.1
    acc, out = 0.0, []
    for i, x in enumerate(v, 1):
        acc = 0.5 * acc + 0.5 * x
        out.append(acc / (1 - 0.5**i))
    assert np.allclose(cols["smoothed"], out)
    assert d["ema"][1] == 100 and d["ema"][0] == pytest.approx(acc)
    # smoothing is computed before downsampling: zooming does not change it
    full = client.get(SERIES, params={"run": "train", "tag": "loss", "width": 0,
                                               "smoothing": 0.9})
    (_, fc), = S.unpack(full.content)
    zoom = client.get(SERIES, params={"run": "train", "tag": "loss", "width": 300,
                                               "smoothing": 0.9, "xmin": 3000, "xmax": 3500})
    (_, zc), = S.unpack(zoom.content)
    idx = zc["step"].astype(int)
    assert np.allclose(zc["smoothed"], fc["smoothed"][idx], equal_nan=True)


def test_scalars_relative_and_wall_axes(client):
    r = client.get(SERIES, params={"run": "eval", "tag": "loss", "x": "relative",
                                            "xmin": 0, "xmax": 5000})
    (d, cols), = S.unpack(r.content)
    assert cols["step"][-1] == 6000 and d["first_wall_time"] == pytest.approx(1.7e9)
    r = client.get(SERIES, params={"run": "eval", "tag": "loss", "x": "wall_time",
                                            "xmin": 1.7e9 + 10_000, "xmax": 1.7e9 + 20_000})
    (d, cols), = S.unpack(r.content)
    assert cols["step"][0] == 9000 and cols["step"][-1] == 21000


def test_scalars_several_tags_skip_missing(client):
    r = client.get(SERIES, params={"run": ["train", "eval"],
                                            "tag": ["loss", "acc/top1"]})
    keys = [(d["run"], d["tag"]) for d, _ in S.unpack(r.content)]
    assert keys == [("train", "loss"), ("train", "acc/top1"), ("eval", "loss")]


@pytest.mark.parametrize("params,status", [
    ({}, 400),
    ({"run": "train"}, 400),
    ({"tag": "loss"}, 400),
    ({"run": "nope", "tag": "loss"}, 404),
    ({"run": "train", "tag": "nope"}, 404),
    ({"run": "train", "tag": "img"}, 404),  # not a scalar tag
    ({"run": "train", "tag": "loss", "width": "abc"}, 400),
    ({"run": "train", "tag": "loss", "width": "-5"}, 400),
    ({"run": "train", "tag": "loss", "width": "10000000"}, 400),
    ({"run": "train", "tag": "loss", "smoothing": "1"}, 400),
    ({"run": "train", "tag": "loss", "smoothing": "nan"}, 400),
    ({"run": "train", "tag": "loss", "smoothing": "-0.1"}, 400),
    ({"run": "train", "tag": "loss", "x": "banana"}, 400),
    ({"run": "train", "tag": "loss", "xmin": "inf"}, 400),
    ({"run": "train", "tag": "loss", "xmin": "5", "xmax": "1"}, 400),
    ({"run": "train", "tag": "loss", "width": ["1", "2"]}, 400),
])
def test_scalars_bad_params(client, params, status):
    _err(client.get(SERIES, params=params), status)


def test_scalars_csv(client):
    r = client.get(CSV, params={"run": "eval", "tag": "loss"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = r.text.strip().split("\n")
    assert lines[0] == "run,tag,step,wall_time,value"
    assert len(lines) == 101
    assert lines[2].split(",")[:3] == ["eval", "loss", "1000"]
    _err(client.get(CSV, params={"run": "../etc", "tag": "loss"}), 404)


def test_histograms_and_distributions(client):
    r = client.get(P("histograms"), params={"run": "train", "tag": "weights", "samples": 3})
    pts = r.json()["points"]
    assert [p["step"] for p in pts] == [0, 2, 4]
    assert pts[0]["left"] == [0, 1, 2] and pts[0]["count"] == [3, 5, 2]
    d = client.get(P("distributions"), params={"run": "train", "tag": "weights"}).json()
    bps = d["points"][0]["bps"]
    assert len(bps) == 9 and bps[0] == 0 and bps[-1] == 3
    assert bps[4] == pytest.approx(1.4)  # median: 5 of 10 at 1 + (5-3)/5
    assert bps == sorted(bps)
    _err(client.get(P("histograms"), params={"run": "train", "tag": "loss"}), 400)
    _err(client.get(P("histograms"), params={"run": "train", "tag": "weights",
                                                "samples": "0"}), 400)


def test_text_is_sanitised(client):
    r = client.get(P("text"), params={"run": "train", "tag": "note/text_summary"})
    pts = r.json()["points"]
    assert [p["step"] for p in pts] == [1, 0]  # newest first
    html0 = pts[1]["html"]
    assert "<strong>bold</strong>" in html0
    assert "<script" not in html0 and "&lt;script&gt;" in html0
    html1 = pts[0]["html"]
    assert "<table>" in html1
    assert "<img" not in html1 and "&lt;img" in html1


def test_pr_curves(client):
    pts = client.get(P("pr_curves"), params={"run": "train", "tag": "pr"}).json()["points"]
    assert len(pts) == 2 and pts[0]["precision"][0] == 1.0 and pts[0]["recall"][-1] == 0.0
    assert pts[0]["thresholds"] == [0, 0.25, 0.5, 0.75, 1]


def test_images_audio_blob(client):
    pts = client.get(P("images"), params={"run": "train", "tag": "img"}).json()["points"]
    assert pts == [
        {"step": 0, "wall_time": 1.7e9, "index": 0, "width": 4, "height": 2, "count": 1},
        {"step": 1, "wall_time": 1.7e9 + 1, "index": 1, "width": 4, "height": 2, "count": 2}]
    r = client.get(P("images", "blob"),
                   params={"run": "train", "tag": "img", "index": 1, "item": 1})
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert "sandbox" in r.headers["content-security-policy"]
    a = client.get(P("audio"), params={"run": "train", "tag": "snd"}).json()["points"]
    assert a[0]["labels"] == ["hello"] and a[0]["count"] == 1
    r = client.get(P("audio", "blob"), params={"run": "train", "tag": "snd", "index": 0})
    assert r.content == WAV and r.headers["content-type"] == "audio/wav"
    _err(client.get(P("images", "blob"), params={"run": "train", "tag": "img", "index": 5}), 404)
    _err(client.get(P("images", "blob"), params={"run": "train", "tag": "img", "index": 0,
                                          "item": 1}), 404)
    _err(client.get(P("images", "blob"), params={"run": "train", "tag": "img"}), 400)
    _err(client.get(P("images", "blob"), params={"run": "train", "tag": "loss", "index": 0}), 400)
    _err(client.get(P("images"), params={"run": "train", "tag": "snd"}), 400)


def test_hparams(client):
    h = client.get(P("hparams", "sessions")).json()
    assert h["hparams"] == ["lr", "opt"] and h["metrics"] == ["loss"]
    (s,) = h["sessions"]
    assert s["run"] == "train" and s["hparams"] == {"lr": 0.1, "opt": "adam"}
    assert s["metrics"]["loss"] == pytest.approx(np.sin(99_999 / 1000.0))


def test_custom_scalars(client):
    c = client.get(P("custom_scalars", "layout")).json()
    assert c == {"categories": [{"title": "cat", "closed": False, "charts": [
        {"title": "losses", "kind": "multiline", "tags": ["^loss$"]}]}]}


@pytest.mark.parametrize("path", [
    "/static/../app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e/%2e%2e/reader/provider.py",
    "/static/../../../../../../etc/passwd",
    "/static//etc/passwd",
    "/static/dist/../../app.py",
    "/../../etc/passwd",
    "/api/../../etc/passwd",
])
def test_no_path_traversal_static(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "root:" not in r.text and "import" not in r.text


@pytest.mark.parametrize("route", [SERIES, P("histograms"), P("images"),
                                   P("text"), P("images", "blob"), CSV])
@pytest.mark.parametrize("run", ["../../etc", "/etc", "..", "train/../../..", "C:\\Windows"])
def test_no_path_traversal_runs(client, route, run):
    r = client.get(route, params={"run": run, "tag": "passwd", "index": 0})
    assert r.status_code == 404
    assert "root:" not in r.text


def test_unknown_route_and_method(client):
    assert client.get("/api/nope").status_code == 404
    assert client.post("/api/runs").status_code == 405


def test_index_not_built(client, monkeypatch, tmp_path):
    import tbx.viewer.app as A

    monkeypatch.setattr(A, "DIST_DIR", tmp_path / "nothing")
    r = client.get("/")
    assert r.status_code == 503 and "front end was not built" in r.text


def test_index_built(client, monkeypatch, tmp_path):
    import tbx.viewer.app as A

    (tmp_path / "main.js").write_text("")
    monkeypatch.setattr(A, "DIST_DIR", tmp_path)
    r = client.get("/")
    assert r.status_code == 200 and '/static/dist/main.js' in r.text


def test_token_required(provider):
    app = create_app(provider, refresh=False, token="s3cret")
    with TestClient(app) as c:
        assert c.get("/api/runs").status_code == 401
        assert c.get("/api/runs", params={"token": "wrong"}).status_code == 401
        r = c.get("/api/runs", params={"token": "s3cret"}, follow_redirects=False)
        assert r.status_code == 303 and "token" not in r.headers["location"]
        assert "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/api/runs").status_code == 200  # the cookie now
    with TestClient(app, cookies={"tbx_token": "nope"}) as c:
        assert c.get("/api/runs").status_code == 401


def test_host_check(provider):
    app = create_app(provider, refresh=False, allowed_hosts={"127.0.0.1", "localhost"})
    with TestClient(app, base_url="http://127.0.0.1:6006") as c:
        assert c.get("/api/runs").status_code == 200
    with TestClient(app, base_url="http://evil.example:6006") as c:
        assert c.get("/api/runs").status_code == 403


def test_live_messages(provider):
    """The hub's SSE messages: appended points as base64 float64 columns, and cuts."""
    import base64

    from tbx.viewer.hub import Hub

    hub = Hub(provider)
    provider.add_scalars("eval", "loss", [100_000, 101_000], [7.0, 8.0])
    provider.purge("train", "acc/top1", 5)
    provider.add_scalars("train", "acc/top1", [5], [0.5])
    msgs = hub.messages(provider.refresh())
    (msg,) = [m for m in msgs if m.startswith("event: scalars")]
    data = json.loads(msg.split("data: ", 1)[1])
    by = {(d["run"], d["tag"]): d for d in data["series"]}
    d = by[("eval", "loss")]
    assert d["n"] == 2 and d["total"] == 102 and d["cut"] is None
    assert np.frombuffer(base64.b64decode(d["value"]), "<f8").tolist() == [7.0, 8.0]
    c = by[("train", "acc/top1")]
    assert c["cut"] == 5 and c["total"] == 6
    assert np.frombuffer(base64.b64decode(c["step"]), "<f8").tolist() == [5.0]
    provider.add_tensors("train", "weights", "histograms", [9],
                         [np.array([[0.0, 1.0, 1.0]])])
    provider._pending.appended[("train", "weights")] = 1
    msgs = hub.messages(provider.refresh())
    assert any(m.startswith("event: changed") for m in msgs)


def test_events_stream(provider):
    """/api/events streams the live messages as text/event-stream."""
    app = create_app(provider, refresh=False)
    with TestClient(app) as c:
        hub = app.state.hub
        with c.stream("GET", "/api/events") as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = r.iter_lines()
            assert next(lines).startswith("retry:")
            provider.add_scalars("eval", "loss", [200_000], [1.0])
            hub.refresh_once()
            got = []
            for line in lines:
                got.append(line)
                if line.startswith("data:") and "scalars" in "".join(got):
                    break
            assert any(x == "event: scalars" for x in got)


def test_series_pack_roundtrip():
    desc = {"run": "r", "tag": "t", "n": 3, "columns": ["step", "value"]}
    data = S.pack([(desc, [np.array([1, 2, 3]), np.array([0.5, np.nan, np.inf])])])
    ((d, cols),) = S.unpack(data)
    assert d == desc and cols["step"].tolist() == [1, 2, 3]
    assert np.isnan(cols["value"][1]) and cols["value"][2] == np.inf
    with pytest.raises(ValueError):
        S.unpack(b"XXXX" + data[4:])


def test_text_table_render():
    from tbx.viewer.plugins.text.render import text_html

    h = text_html([["<b>x</b>", "`c`"], ["[l](javascript:alert(1))", "y"]])
    assert "<b>" not in h and "<code>c</code>" in h and "href=\"javascript" not in h


def test_real_provider_appends_and_cuts(tmp_path):
    """Over the real reader: points written by tbx.SummaryWriter are served; a restart with
    purge_step is pushed as a cut."""
    import base64

    import tbx
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.hub import Hub

    w = tbx.SummaryWriter(str(tmp_path / "run"))
    for i in range(10):
        w.add_scalar("loss", float(i), i)
    w.flush()
    provider = LogdirProvider(str(tmp_path))
    app = create_app(provider, refresh=False)
    hub = Hub(provider)
    hub.messages(provider.refresh())
    with TestClient(app) as c:
        (d, cols), = S.unpack(c.get(SERIES, params={"run": "run", "tag": "loss"}).content)
        assert cols["value"].tolist() == [float(i) for i in range(10)]
    w.add_scalar("loss", 10.0, 10)
    w.flush()
    msgs = hub.messages(provider.refresh())
    data = json.loads([m for m in msgs if m.startswith("event: scalars")][0].split("data: ")[1])
    (d,) = data["series"]
    assert d["cut"] is None and d["n"] == 1
    assert np.frombuffer(base64.b64decode(d["step"]), "<f8").tolist() == [10.0]
    w.close()
    w2 = tbx.SummaryWriter(str(tmp_path / "run"), purge_step=5)
    w2.add_scalar("loss", 50.0, 5)
    w2.flush()
    msgs = hub.messages(provider.refresh())
    data = json.loads([m for m in msgs if m.startswith("event: scalars")][0].split("data: ")[1])
    (d,) = data["series"]
    assert d["cut"] == 5 and d["total"] == 6
    w2.close()


def test_security_settings():
    from tbx.viewer.server import is_loopback, security

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    token, allowed = security("127.0.0.1")
    assert token is None and "localhost" in allowed
    token, allowed = security("0.0.0.0")
    assert token and len(token) >= 32 and allowed is None
    assert security("0.0.0.0")[0] != token  # random each time
    assert security("0.0.0.0", no_auth=True) == (None, None)


def test_serve_command_prints_url(tmp_path):
    """``tbx serve LOGDIR --port 0`` prints its URL and answers on it."""
    import subprocess
    import sys
    import time
    import urllib.request

    import tbx

    with tbx.SummaryWriter(str(tmp_path / "a")) as w:
        w.add_scalar("x", 1.0, 0)
    proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", str(tmp_path),
                             "--port", "0", "--reload-interval", "0.5"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"tbx serving {tmp_path} at http://127.0.0.1:"), line
        url = line.split(" at ")[1].strip()
        assert "token" not in url
        deadline = time.monotonic() + 60
        while True:  # until the first read is done (a condition, polled)
            body = json.loads(urllib.request.urlopen(url + "api/runs", timeout=30).read())
            if body["runs"] == ["a"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert body["runs"] == ["a"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_command_bad_arguments(tmp_path, capsys):
    from tbx.cli import main

    assert main(["serve", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", str(tmp_path), "--reload-interval", "0"]) == 2
    capsys.readouterr()
    for huge in ("1e300", "inf", "1e10"):  # once: the refresh thread died of OverflowError
        assert main(["serve", str(tmp_path), "--reload-interval", huge]) == 2
        assert capsys.readouterr().err == (
            f"tbx serve: error: --reload-interval must be a number of seconds in (0, 86400], "
            f"got {float(huge)}\n")
    assert main(["serve", str(tmp_path), "--port", "70000"]) == 2


def test_runset_body_nested_too_deep_is_400(client):
    body = "[" * 100_000 + "]" * 100_000
    r = client.post("/api/runsets", content=b'{"runs": ' + body.encode() + b"}",
                    headers={"content-type": "application/json"})
    assert _err(r, 400).startswith("the body must be JSON")


def test_undecodable_points_are_skipped(provider, client):
    """The reader keeps a point it cannot decode as None: views skip it."""
    h = np.array([[0.0, 1.0, 1.0]])
    provider.add_tensors("train", "bad_hist", "histograms", [0, 1, 2], [h, None, h])
    provider.add_tensors("train", "bad_text", "text", [0, 1],
                         [None, np.array([b"ok"], dtype=object)])
    provider.add_blobs("train", "bad_img", "images", [0, 1], [None, [b"4", b"2", PNG]])
    pts = client.get(P("histograms"), params={"run": "train", "tag": "bad_hist"}).json()
    assert [p["step"] for p in pts["points"]] == [0, 2]
    d = client.get(P("distributions"), params={"run": "train", "tag": "bad_hist"}).json()
    assert len(d["points"]) == 2
    t = client.get(P("text"), params={"run": "train", "tag": "bad_text"}).json()
    assert [p["step"] for p in t["points"]] == [1]
    im = client.get(P("images"), params={"run": "train", "tag": "bad_img"}).json()
    assert [p["index"] for p in im["points"]] == [1]
    _err(client.get(P("images", "blob"),
                    params={"run": "train", "tag": "bad_img", "index": 0}), 404)


def test_non_finite_wall_times_in_a_file_do_not_break_the_api(tmp_path):
    """A file from any writer may hold NaN/Inf wall times: every JSON route still answers."""
    from starlette.testclient import TestClient

    from tbx.event_file import EventFileWriter
    from tbx.proto.event_pb2 import Event
    from tbx.reader import LogdirProvider
    from tbx.viewer.app import create_app

    run = tmp_path / "nanwt"
    w = EventFileWriter(run)
    for step, wall in [(1, float("nan")), (2, float("inf")), (3, 5.0)]:
        e = Event(wall_time=wall, step=step)
        e.summary.value.add(tag="x", simple_value=float(step))
        w.add_event(e)
    w.close()
    provider = LogdirProvider(str(tmp_path))
    provider.refresh()
    with TestClient(create_app(provider, refresh=False)) as c:
        tags = c.get("/api/tags")
        assert tags.status_code == 200, tags.text
        assert c.get("/api/runs").status_code == 200
        r = c.get(SERIES, params={"run": "nanwt", "tag": "x", "width": 0})
        assert r.status_code == 200
