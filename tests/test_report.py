"""tbx report without a browser: the series block (decoded here and compared exactly), the
data put in the page, the escaping and policy of the HTML, the command line."""

from __future__ import annotations

import base64
import html
import json
import re
import zlib

import numpy as np
import pytest

pytest.importorskip("tsdownsample")
pytest.importorskip("nh3")

from report_helpers import BIG_STEPS, EVIL_RUN, EVIL_TAG, SCRIPT_TAG, WALL, make_logdir  # noqa: E402

from tbx.cli import main  # noqa: E402
from tbx.report import build as B  # noqa: E402
from tbx.report import page as P  # noqa: E402
from tbx.report.data import SeriesBlock  # noqa: E402

STUB_JS = "document.body.dataset.stub='1';"
STUB_CSS = "body{color:#222}"


def decode_column(raw: bytes, d: dict) -> np.ndarray:
    """The page's decoding (web/src/report.js), in numpy."""
    n, size = d["n"], d["size"]
    planes = np.frombuffer(raw, dtype=np.uint8, count=n * size, offset=d["offset"])
    data = planes.reshape(size, n).T.copy().tobytes()
    if d["type"] == "f8":
        return np.frombuffer(data, "<f8")
    if d["type"] == "f4":
        return np.frombuffer(data, "<f4").astype(np.float64)
    assert d["type"] == "i4d"
    return np.cumsum(np.frombuffer(data, "<i4").astype(np.int64)).astype(np.float64)


def decode_block(payload: str, desc: dict):
    raw = zlib.decompress(base64.b64decode(payload))
    c = desc["columns"]
    step = decode_column(raw, c["step"])
    value = decode_column(raw, c["value"])
    rel = decode_column(raw, c["wall_time"])
    first = desc["first_wall_time"] or 0.0
    wall = first + (rel / 1000.0 if c["wall_time"]["type"] == "i4d" else rel)
    return step, wall, value


def test_series_block_round_trip_exact():
    blk = SeriesBlock()
    step = np.array([0, 5, 6, 1_000_000], dtype=np.int64)
    wall = np.array([WALL, WALL + 0.0015, WALL + 2.25, WALL + 86_400.123])
    f32 = np.array([0.1, -2.5, np.nan, np.inf], dtype=np.float32).astype(np.float64)
    d1 = blk.add(step, wall, f32)
    f64 = np.array([0.1, 1e-300, -0.0, 2.0**60])  # not float32: kept as float64
    d2 = blk.add(step, wall, f64)
    huge = np.array([0, 2**40, 2**52, -(2**52)], dtype=np.int64)  # deltas beyond int32
    bad_wall = np.array([WALL, np.nan, WALL + 1e9, WALL])
    d3 = blk.add(huge, bad_wall, f64)
    empty = blk.add(np.array([], np.int64), np.array([]), np.array([]))
    payload = blk.payload()
    assert d1["columns"]["value"]["type"] == "f4" and d2["columns"]["value"]["type"] == "f8"
    assert d1["columns"]["step"]["type"] == "i4d" and d3["columns"]["step"]["type"] == "f8"
    assert d3["columns"]["wall_time"]["type"] == "f8"
    s, w, v = decode_block(payload, d1)
    assert s.tolist() == step.tolist()
    assert np.array_equal(v, f32, equal_nan=True)
    assert np.abs(w - wall).max() <= 0.0005 + 1e-6  # wall times to the millisecond
    s, w, v = decode_block(payload, d2)
    assert v.tolist() == f64.tolist() and str(v[2]) == "-0.0"
    s, w, v = decode_block(payload, d3)
    assert s.tolist() == huge.tolist()
    assert np.array_equal(w, bad_wall, equal_nan=True)
    assert empty["first_wall_time"] is None and decode_block(payload, empty)[0].size == 0


def test_json_for_script_cannot_end_the_element():
    obj = {"t": "</script><script>alert(1)</script><!-- & \u2028", "n": [1.5, None]}
    text = P.json_for_script(obj)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == obj
    with pytest.raises(ValueError):
        P.json_for_script({"x": float("nan")})


def test_load_bundle_refuses_a_closing_script_tag(tmp_path):
    (tmp_path / "report.css").write_text("a{}")
    (tmp_path / "report.js").write_text("let s = '</SCRIPT>';\n"
                                        "//# sourceMappingURL=report.js.map\n")
    with pytest.raises(RuntimeError, match="</script"):
        P.load_bundle(tmp_path)
    (tmp_path / "report.js").write_text("let s = 1;\n//# sourceMappingURL=report.js.map\n")
    assert P.load_bundle(tmp_path) == ("let s = 1;", "a{}")
    with pytest.raises(FileNotFoundError, match="npm run build"):
        P.load_bundle(tmp_path / "missing")


@pytest.fixture
def stub_bundle(monkeypatch):
    monkeypatch.setattr(B, "load_bundle", lambda: (STUB_JS, STUB_CSS))


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "logs"
    return root, make_logdir(root)


def page_parts(path):
    text = path.read_text(encoding="utf-8")
    meta = json.loads(re.search(r'<script type="application/json" id="tbx-meta">(.*?)</script>',
                                text, re.S).group(1))
    payload = re.search(r'id="tbx-series">([A-Za-z0-9+/=]*)</script>', text).group(1)
    return text, meta, payload


def test_build_report_contents(logs, stub_bundle, tmp_path):
    root, want = logs
    out = tmp_path / "r.html"
    info = B.build_report(root, out, width=100)
    text, meta, payload = page_parts(out)
    assert info.size == len(text.encode()) and info.runs == 4
    assert meta["runs"] == want["runs"] and meta["width"] == 100 and meta["full"] is False
    series = {(s["run"], s["tag"]): s for s in meta["scalars"]}
    assert set(series) == {("a", "loss"), ("a", "train/acc"), ("a", "hparam/final_acc"),
                           ("b", "loss"), ("b", "hparam/final_acc"), ("big", "loss"),
                           (EVIL_RUN, EVIL_TAG), (EVIL_RUN, SCRIPT_TAG)}
    big = series[("big", "loss")]
    assert big["total"] == BIG_STEPS and big["downsampled"] and big["n"] <= 4 * 100
    s, w, v = decode_block(payload, big)
    import tbx
    from tbx.seriesmath import downsample_indices

    full = tbx.read(root).scalars
    full = full[(full.run == "big") & (full.tag == "loss")]
    idx = downsample_indices(full.step.to_numpy().astype(float), full.value.to_numpy(), 100)
    assert s.tolist() == full.step.to_numpy()[idx].tolist()  # the viewer's M4, exactly
    assert v.tolist() == full.value.to_numpy()[idx].tolist()
    assert s[-1] == BIG_STEPS - 1 and v[-1] == want["loss_last"]["big"]
    assert v.max() == full.value.max()  # the spike at step 31,337 is kept
    s, w, v = decode_block(payload, series[("a", "loss")])
    assert not series[("a", "loss")]["downsampled"] and s.tolist() == list(range(100))
    assert v[-1] == want["loss_last"]["a"] and np.allclose(w, WALL + s * 1.5, atol=6e-4, rtol=0)
    hp = meta["hparams"]
    assert hp["hparams"] == ["lr", "optimizer"] and hp["metrics"] == ["hparam/final_acc"]
    assert [(x["run"], x["hparams"], x["metrics"]) for x in hp["sessions"]] == [
        ("a", {"lr": 0.01, "optimizer": "adam"}, {"hparam/final_acc": 0.875}),
        ("b", {"lr": 0.1, "optimizer": "sgd"}, {"hparam/final_acc": 0.5})]
    (img,) = meta["images"]
    assert (img["run"], img["tag"], img["step"], img["total"]) == ("a", "samples", 7, 2)
    assert (img["width"], img["height"]) == (12, 8)
    assert img["src"].startswith("data:image/png;base64,")
    import io

    from PIL import Image

    px = Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))).convert("RGB")
    assert px.size == (12, 8) and px.getpixel((0, 0)) == (255, 255, 0)
    (txt,) = meta["text"]
    h = txt["points"][0]["html"]
    assert "<strong>bold</strong>" in h  # Markdown rendered; raw HTML and the link as text
    assert "<script" not in h and "<img" not in h and "href" not in h
    assert "&lt;script&gt;window.__pwned=5&lt;/script&gt;" in h
    # escaping: the markup in names never appears raw in the document
    for evil in (EVIL_RUN, EVIL_TAG, SCRIPT_TAG):
        assert evil not in text
    assert text.count("<script") == 3 and text.count("</script>") == 3
    js_hash = base64.b64encode(__import__("hashlib").sha256(STUB_JS.encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1)
    assert f"script-src &#x27;sha256-{js_hash}&#x27;" in csp and "default-src &#x27;none" in csp
    header = re.search(r'<span class="report-meta" id="report-meta">([^<]*)</span>', text).group(1)
    assert html.unescape(header).startswith(f"{root} · 4 runs · ")


def test_build_report_full_and_filters(logs, stub_bundle, tmp_path):
    root, want = logs
    out = tmp_path / "r.html"
    info = B.build_report(root, out, full=True, width=10, runs="^(big|b)$", tags="^loss$")
    _, meta, payload = page_parts(out)
    assert meta["runs"] == ["b", "big"] and info.points == info.total_points == BIG_STEPS + 50
    big = next(s for s in meta["scalars"] if s["run"] == "big")
    assert big["n"] == BIG_STEPS and not big["downsampled"]
    assert meta["hparams"]["sessions"] == [] and meta["images"] == [] and meta["text"] == []
    with pytest.raises(ValueError, match="width"):
        B.build_report(root, out, width=0)


def test_cli(logs, stub_bundle, tmp_path, capsys):
    root, _ = logs
    out = tmp_path / "cli.html"
    assert main(["report", str(root), "-o", str(out), "--tags", "loss", "--width", "50"]) == 0
    msg = capsys.readouterr().out
    size = out.stat().st_size
    assert f"({size:,} bytes)" in msg and "3 runs, 3 scalar series" in msg
    assert main(["report", str(tmp_path / "nope"), "-o", str(out)]) == 2
    assert "LOGDIR" in capsys.readouterr().err
    assert main(["report", str(root), "-o", str(tmp_path / "no" / "x.html")]) == 2
    assert "folder of OUT" in capsys.readouterr().err
    assert main(["report", str(root), "-o", str(out), "--runs", "("]) == 2
    assert "--runs" in capsys.readouterr().err
    assert main(["report", str(root), "-o", str(out), "--width", "0"]) == 2


def test_help_lists_watch_and_report(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "watch" in text and "report" in text
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    for opt in ("--output", "--runs", "--tags", "--width", "--full", "LOGDIR"):
        assert opt in text
