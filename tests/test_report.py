"""tbx report without a browser: the series block (decoded here and compared exactly), the
data put in the page, the escaping and policy of the HTML, the command line."""

from __future__ import annotations

import base64
import html
import json
import math
import re
import zlib

import numpy as np
import pytest

pytest.importorskip("tsdownsample")
pytest.importorskip("nh3")

from report_helpers import (  # noqa: E402
    BIG_STEPS,
    EVIL_RUN,
    EVIL_TAG,
    SCRIPT_TAG,
    WALL,
    make_logdir,
    make_wide_logdir,
)

from tbx.cli import main  # noqa: E402
from tbx.report import build as B  # noqa: E402
from tbx.report import page as P  # noqa: E402
from tbx.report.data import SECTIONS, SIZES, SeriesBlock  # noqa: E402

STUB_JS = "document.body.dataset.stub='1';"
STUB_CSS = "body{color:#222}"


def decode_block(payload: str, descs: list[dict]) -> list[tuple[np.ndarray, ...]]:
    """The page's decoding (web/src/report.js), in numpy: ``(step, wall_time, value)`` float64
    arrays of every series, in descriptor order."""
    raw = zlib.decompress(base64.b64decode(payload))
    off = 0
    cols = [{} for _ in descs]
    for section in SECTIONS:
        for d, c in zip(descs, cols, strict=True):
            kind, n = d["columns"][section], d["n"]
            size = SIZES[kind]
            planes = np.frombuffer(raw, dtype=np.uint8, count=n * size, offset=off)
            off += n * size
            data = planes.reshape(size, n).T.copy().tobytes()
            if kind == "f8":
                c[section] = np.frombuffer(data, "<f8")
            elif kind == "f4":
                c[section] = np.frombuffer(data, "<f4").astype(np.float64)
            elif kind == "i4d":
                c[section] = np.cumsum(np.frombuffer(data, "<i4").astype(np.int64)).astype(float)
            else:
                assert kind == "i4p" and section == "wall_time"
                r = np.frombuffer(data, "<i4").astype(np.int64)
                st = c["step"]
                ms, acc = [], 0.0
                for i in range(n):  # as the page does it, one float64 at a time
                    if i:
                        acc += math.floor((st[i] - st[i - 1]) * d["ms_per_step"])
                    acc += r[i]
                    ms.append(acc)
                c[section] = np.array(ms, dtype=np.float64)
    assert off == len(raw)
    out = []
    for d, c in zip(descs, cols, strict=True):
        first = d["first_wall_time"] or 0.0
        rel = c["wall_time"]
        wall = first + (rel / 1000.0 if d["columns"]["wall_time"] == "i4p" else rel)
        out.append((c["step"], wall, c["value"]))
    return out


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
    # an even pace with jitter, steps going back once (a restart): small residuals
    rng = np.random.default_rng(3)
    st = np.concatenate([np.arange(0, 5000, 7), np.arange(100, 900, 3)]).astype(np.int64)
    wt = WALL + np.cumsum(rng.uniform(0.05, 0.15, st.size)) + np.round(rng.random(st.size), 3)
    d4 = blk.add(st, wt, f32[np.arange(st.size) % 2])
    one = blk.add(np.array([7], np.int64), np.array([WALL + 0.25]), np.array([1.5]))
    descs = [d1, d2, d3, empty, d4, one]
    got = decode_block(blk.payload(), descs)
    assert blk.points == 4 + 4 + 4 + 0 + st.size + 1
    assert [d["columns"]["value"] for d in descs] == ["f4", "f8", "f8", "f4", "f4", "f4"]
    assert [d["columns"]["step"] for d in descs] == ["i4d", "i4d", "f8", "i4d", "i4d", "i4d"]
    assert [d["columns"]["wall_time"] for d in descs] == ["i4p", "i4p", "f8", "i4p", "i4p", "i4p"]
    s, w, v = got[0]
    assert s.tolist() == step.tolist()
    assert np.array_equal(v, f32, equal_nan=True)
    assert np.abs(w - wall).max() <= 0.0005 + 1e-6  # wall times to the millisecond
    s, w, v = got[1]
    assert v.tolist() == f64.tolist() and str(v[2]) == "-0.0"
    s, w, v = got[2]
    assert s.tolist() == huge.tolist()
    assert np.array_equal(w, bad_wall, equal_nan=True)
    assert empty["first_wall_time"] is None and got[3][0].size == 0
    s, w, v = got[4]
    assert s.tolist() == st.tolist() and d4["ms_per_step"] != 0
    assert np.abs(w - wt).max() <= 0.0005 + 1e-6
    assert np.array_equal(v, f32[np.arange(st.size) % 2], equal_nan=True)
    s, w, v = got[5]
    assert (s.tolist(), w.tolist(), v.tolist()) == ([7.0], [WALL + 0.25], [1.5])


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
    assert (info.width, info.max_size, info.within_budget, info.attempts) == (100, 5e6, True, 1)
    assert meta["runs"] == want["runs"] and meta["width"] == 100 and meta["full"] is False
    series = {(s["run"], s["tag"]): s for s in meta["scalars"]}
    decoded = {(s["run"], s["tag"]): c for s, c in
               zip(meta["scalars"], decode_block(payload, meta["scalars"]), strict=True)}
    assert set(series) == {("a", "loss"), ("a", "train/acc"), ("a", "hparam/final_acc"),
                           ("b", "loss"), ("b", "hparam/final_acc"), ("big", "loss"),
                           (EVIL_RUN, EVIL_TAG), (EVIL_RUN, SCRIPT_TAG)}
    big = series[("big", "loss")]
    assert big["total"] == BIG_STEPS and big["n"] <= 4 * 100
    s, w, v = decoded[("big", "loss")]
    import tbx
    from tbx.seriesmath import downsample_indices

    full = tbx.read(root).scalars
    full = full[(full.run == "big") & (full.tag == "loss")]
    idx = downsample_indices(full.step.to_numpy().astype(float), full.value.to_numpy(), 100)
    assert s.tolist() == full.step.to_numpy()[idx].tolist()  # the viewer's M4, exactly
    assert v.tolist() == full.value.to_numpy()[idx].tolist()
    assert s[-1] == BIG_STEPS - 1 and v[-1] == want["loss_last"]["big"]
    assert v.max() == full.value.max()  # the spike at step 31,337 is kept
    assert np.abs(w - full.wall_time.to_numpy()[idx]).max() <= 0.0005 + 1e-6
    s, w, v = decoded[("a", "loss")]
    assert series[("a", "loss")]["n"] == 100 and s.tolist() == list(range(100))
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
    assert info.width is None and info.max_size is None and meta["full"] is True
    big = next(s for s in meta["scalars"] if s["run"] == "big")
    assert big["n"] == big["total"] == BIG_STEPS
    (_, _, vb), (sbig, _, vbig) = decode_block(payload, meta["scalars"])
    assert sbig.tolist() == list(range(BIG_STEPS)) and vbig[-1] == want["loss_last"]["big"]
    # --full ignores the budget
    assert B.build_report(root, out, full=True, max_size=1000, tags="^loss$").size > 100_000
    assert meta["hparams"]["sessions"] == [] and meta["images"] == [] and meta["text"] == []
    with pytest.raises(ValueError, match="width"):
        B.build_report(root, out, width=0)
    with pytest.raises(ValueError, match="max_size"):
        B.build_report(root, out, max_size=0)


def test_cli(logs, stub_bundle, tmp_path, capsys):
    root, _ = logs
    out = tmp_path / "cli.html"
    assert main(["report", str(root), "-o", str(out), "--tags", "loss", "--width", "50"]) == 0
    msg = capsys.readouterr().out
    size = out.stat().st_size
    assert f"({size:,} bytes)" in msg and "3 runs, 3 scalar series" in msg
    assert "(M4 to 50 px per chart)" in msg
    assert main(["report", str(tmp_path / "nope"), "-o", str(out)]) == 2
    assert "LOGDIR" in capsys.readouterr().err
    missing = tmp_path / "no"
    assert main(["report", str(root), "-o", str(missing / "x.html")]) == 2
    assert capsys.readouterr().err == (f"tbx report: error: -o {str(missing / 'x.html')!r}: "
                                       f"the folder {str(missing)!r} does not exist\n")
    assert main(["report", str(root), "-o", str(out), "--runs", "("]) == 2
    assert "--runs" in capsys.readouterr().err
    assert main(["report", str(root), "-o", str(out), "--width", "0"]) == 2
    assert "--width" in capsys.readouterr().err
    for bad in ("-1", "nan", "inf"):
        assert main(["report", str(root), "-o", str(out), "--max-size", bad]) == 2
        assert "--max-size" in capsys.readouterr().err
    # a budget nothing fits: written at the smallest width, with a warning
    assert main(["report", str(root), "-o", str(out), "--max-size", "0.001", "-q"]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and "warning: " in cap.err and f"at {B.MIN_WIDTH} px" in cap.err
    # no budget
    assert main(["report", str(root), "-o", str(out), "--max-size", "0"]) == 0
    assert "(M4 to 2000 px per chart)" in capsys.readouterr().out


def test_help_lists_watch_and_report(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "watch" in text and "report" in text
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    for opt in ("--output", "--runs", "--tags", "--width", "--max-size", "--full", "LOGDIR"):
        assert opt in text


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """The issue's 100 tags x 10 runs x 100,000 steps, scaled down 250 times in points:
    25 tags x 4 runs x 4,000 steps (100 series, 400,000 points)."""
    root = tmp_path_factory.mktemp("wide") / "logs"
    return root, make_wide_logdir(root, runs=4, tags=25, steps=4000)


@pytest.mark.parametrize("budget", [500_000, 200_000])
def test_budget_lowers_the_width_and_keeps_values_exact(wide, stub_bundle, tmp_path, budget):
    root, want = wide
    out = tmp_path / "w.html"
    unbounded = B.build_report(root, out, max_size=None)
    assert unbounded.width == 2000 and unbounded.size > 3 * budget  # would not fit
    info = B.build_report(root, out, max_size=budget)
    text, meta, payload = page_parts(out)
    assert info.within_budget and info.size == len(text.encode()) <= budget
    assert B.MIN_WIDTH <= info.width < 2000 and info.attempts >= 2
    assert meta["width"] == info.width and info.total_points == 400_000
    assert info.points < 400_000 * budget / unbounded.size  # downsampled, not truncated
    assert len(meta["scalars"]) == 100
    from tbx.seriesmath import downsample_indices

    for d, (s, w, v) in zip(meta["scalars"], decode_block(payload, meta["scalars"]),
                            strict=True):
        step, wall, value = want[(d["run"], d["tag"])]
        idx = downsample_indices(step.astype(np.float64), value, info.width)
        assert d["n"] == len(idx) < d["total"] == 4000
        assert s.tolist() == step[idx].tolist()  # the viewer's M4 at the width used
        assert v.tolist() == value[idx].tolist()  # every value kept, exactly as logged
        assert np.abs(w - wall[idx]).max() <= 0.0005 + 1e-6  # wall times to the millisecond
        assert v[-1] == value[-1] and v.max() == value.max() and v.min() == value.min()
    # a larger budget gives a larger width
    more = B.build_report(root, out, max_size=2 * budget)
    assert more.width > info.width and more.size <= 2 * budget
