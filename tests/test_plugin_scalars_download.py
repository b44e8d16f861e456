"""The scalars plugin's downloads (``series.csv``, ``series.json``): exact content, cells a
spreadsheet would run as formulas neutralised, and a 5M-point series streamed with flat
memory (the process' peak RSS from /proc)."""

from __future__ import annotations

import csv
import io
import math
import os
import urllib.request

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from starlette.testclient import TestClient  # noqa: E402
from viewer_fakes import FakeProvider, running  # noqa: E402

from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.plugins.scalars.download import spreadsheet_safe  # noqa: E402

CSV = "/api/plugins/scalars/series.csv"
JSON = "/api/plugins/scalars/series.json"

EVIL = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd",
        "\rcmd", "plain, \"quoted\""]


@pytest.fixture
def client():
    p = FakeProvider()
    p.add_scalars("=run", EVIL[0], [0, 1, 2], [-0.5, float("nan"), float("inf")],
                  wall_time=[1.5, 2.25, -math.inf])
    for tag in EVIL[1:]:
        p.add_scalars("=run", tag, [7], [1e-300])
    p.add_scalars("@other", "loss", [3], [2.0], wall_time=[10.0])
    p.refresh()
    with TestClient(create_app(p, refresh=False)) as c:
        yield c


def test_csv_exact_and_formulas_neutralised(client):
    r = client.get(CSV, params={"run": ["=run", "@other"], "tag": [EVIL[0], "loss"]})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert (r.headers["content-disposition"]
            == 'attachment; filename="_HYPERLINK_http_evil.example_x_.csv"')
    assert r.text == (
        "run,tag,step,wall_time,value\n"
        "'=run,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",0,1.5,-0.5\n"
        "'=run,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",1,2.25,nan\n"
        "'=run,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",2,-inf,inf\n"
        "'@other,loss,3,10.0,2.0\n")


def test_csv_every_formula_start(client):
    r = client.get(CSV, params={"run": "=run", "tag": EVIL[1:]})
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["run", "tag", "step", "wall_time", "value"]
    assert [row[1] for row in rows[1:]] == ["'+1+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd",
                                           "plain, \"quoted\""]
    assert all(row[0] == "'=run" and row[2:] == ["7", "1700000007.0", "1e-300"] for row in rows[1:])
    assert spreadsheet_safe("-1") == "'-1" and spreadsheet_safe("a=b") == "a=b"


def test_json_exact(client):
    r = client.get(JSON, params={"run": ["=run", "@other"], "tag": [EVIL[0], "loss"]})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"].endswith('.json"')
    assert r.json() == [
        {"run": "=run", "tag": EVIL[0], "step": [0, 1, 2], "wall_time": [1.5, 2.25, None],
         "value": [-0.5, None, None]},
        {"run": "@other", "tag": "loss", "step": [3], "wall_time": [10.0], "value": [2.0]}]
    assert client.get(JSON, params={"run": "nope", "tag": "loss"}).status_code == 404


def _peak_rss_reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak resident set size


def _peak_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


N = 5_000_000


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
@pytest.mark.parametrize("route", [CSV, JSON])
def test_5m_points_stream_with_flat_memory(route):
    """A 5,000,000-point series (about 250 MB of CSV) through a real server: the process' peak
    RSS grows by less than 64 MB while the client reads and drops the body in 1 MB pieces."""
    p = FakeProvider()
    steps = np.arange(N, dtype=np.int64)
    p.add_scalars("run", "loss", steps, np.sin(steps * 1e-3), wall_time=1.7e9 + steps * 0.5)
    p.refresh()
    app = create_app(p, refresh=False)
    with running(app) as url:
        query = "?run=run&tag=loss"
        _peak_rss_reset()
        base = _peak_rss()
        size = lines = 0
        head = tail = b""
        with urllib.request.urlopen(url + route.lstrip("/") + query, timeout=600) as r:
            while chunk := r.read(1 << 20):
                if not head:
                    head = chunk[:200]
                size += len(chunk)
                lines += chunk.count(b"\n")
                tail = (tail + chunk)[-200:]
        grown = _peak_rss() - base
    assert size > 150e6
    if route == CSV:
        assert lines == N + 1
        assert head.startswith(b"run,tag,step,wall_time,value\nrun,loss,0,1700000000.0,0.0\n")
        last = N - 1
        assert tail.endswith(f"run,loss,{last},{1.7e9 + last * 0.5!r},"
                             f"{math.sin(last * 1e-3)!r}\n".encode())
    else:
        assert head.startswith(b'[{"run": "run", "tag": "loss","step":[0,1,2,')
        assert tail.endswith(f",{math.sin((N - 1) * 1e-3)!r}]}}]".encode())
    print(f"{route}: {size / 1e6:.0f} MB streamed, peak RSS grew by {grown / 1e6:.1f} MB")
    assert grown < 64e6, f"peak RSS grew by {grown / 1e6:.0f} MB"
