"""tbx watch: the snapshot numbers, ``--once`` output against known values, and the live
dashboard driven in a real terminal (tmux, read back with capture-pane)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

import tbx
from tbx.cli import main
from tbx.reader.provider import LogdirProvider
from tbx.watch import snapshot as S

WALL = 1_700_000_000.0


def write_run(path, tag_values: dict[str, list[tuple[int, float]]]):
    w = tbx.SummaryWriter(path)
    for tag, pts in tag_values.items():
        for step, v in pts:
            w.add_scalar(tag, v, step, walltime=WALL + step)
    w.close()


@pytest.fixture
def logs(tmp_path):
    root = tmp_path / "logs"
    write_run(root / "a", {"loss": [(0, 2.0), (10, 0.5), (20, 1.25)],
                           "acc": [(0, 0.25), (20, 0.75)]})
    write_run(root / "b", {"loss": [(0, 3.0), (5, float("nan")), (7, -1.5)],
                           "x/inf": [(1, float("inf"))]})
    return root


def provider(root):
    p = LogdirProvider(root)
    p.refresh()
    return p


# ---------------------------------------------------------------------------- snapshot


def test_series_stats_exact(logs):
    p = provider(logs)
    st = {(s.run, s.tag): s for s in S.snapshot(p)}
    assert set(st) == {("a", "loss"), ("a", "acc"), ("b", "loss"), ("b", "x/inf")}
    a = st[("a", "loss")]
    assert (a.count, a.step, a.value, a.min, a.max, a.first_step) == (3, 20, 1.25, 0.5, 2.0, 0)
    assert a.wall_time == WALL + 20
    b = st[("b", "loss")]  # NaN is skipped by min/max, the latest is the last point
    assert (b.count, b.step, b.value, b.min, b.max) == (3, 7, -1.5, -1.5, 3.0)
    inf = st[("b", "x/inf")]
    assert inf.value == math.inf and inf.min is None and inf.max is None


def test_filters_are_case_insensitive_searches(logs):
    p = provider(logs)
    pairs = S.scalar_pairs(p, S.compile_filter("^B$", "run"), S.compile_filter("LOSS", "tag"))
    assert pairs == [("b", "loss")]
    with pytest.raises(ValueError, match="tag filter '\\(' is not a valid"):
        S.compile_filter("(", "tag filter")


def test_sparkline_levels():
    assert S.sparkline(np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), 8) == "▁▂▃▄▅▆▇█"
    assert S.sparkline(np.array([1.0, 1.0, 5.0, 5.0]), 2) == "▁█"  # means of equal shares
    assert S.sparkline(np.array([np.nan, 2.0, 2.0]), 5) == "▄▄"  # flat, NaN skipped
    assert S.sparkline(np.array([]), 5) == ""


def test_chart_points_zoom_log_smoothing():
    from tbx.reader.provider import ScalarSeries

    n = 100_000
    step = np.arange(n, dtype=np.int64)
    value = np.linspace(-1.0, 1.0, n)
    s = ScalarSeries(step, step.astype(np.float64), value)
    x, y = S.chart_points(s, width=50)
    assert len(x) <= 200 and x[0] == 0 and x[-1] == n - 1 and y[-1] == 1.0  # M4 keeps ends
    x, y = S.chart_points(s, width=50, last_steps=1000)
    assert x[0] == n - 1 - 1000 - 1 and x[-1] == n - 1  # one neighbour before the range
    x, y = S.chart_points(s, width=50, log_y=True)
    assert (y > 0).all() and x[0] == n // 2  # the first positive value: index 50,000
    from tbx.seriesmath import ema

    x, y = S.chart_points(s, width=10_000_000, smoothing=0.9)
    assert np.array_equal(y, ema(value, 0.9)[0])  # the viewer's smoothing, every point


def test_fmt_value():
    assert S.fmt_value(0.123456789) == "0.123457"
    assert S.fmt_value(1234567.0) == "1.2346e+06"
    assert S.fmt_value(0.0) == "0"
    assert S.fmt_value(None) == "-"
    assert S.fmt_value(float("nan")) == "nan"


def test_screen_pages_keys_and_status():
    from tbx.watch import screen as V

    tags = ["loss/train", "acc", "loss/val", "loss/test", "zeta"]
    assert V.paginate(tags, 2) == [("loss", ["loss/train", "loss/val"]), ("loss", ["loss/test"]),
                                   ("(no prefix)", ["acc", "zeta"])]
    assert V.paginate(tags, 0) == [("loss", ["loss/train", "loss/val", "loss/test"]),
                                   ("(no prefix)", ["acc", "zeta"])]
    assert V.grid_size(80, 24) == (1, 1) and V.grid_size(200, 60) == (3, 3)
    assert V.grid_size(80, 15) == (0, 0)  # too low: the table only
    zooms, z = [], None
    for _ in range(5):
        z = V.next_zoom(z, 12_345)
        zooms.append(z)
    assert zooms == [10_000, 1_000, 100, 10, None]
    assert V.next_zoom(None, 1_000) == 100 and V.next_zoom(None, 5) is None
    assert [V.next_smoothing(w) for w in (0.0, 0.6, 0.99)] == [0.3, 0.8, 0.0]
    runs = ["a", "b"]
    assert V.run_color(runs, "b") == "#ff7f0e" and V.rgb("#ff7f0e") == (255, 127, 14)
    assert V.marker_char(V.run_marker(runs, "a")) == "⢕" and V.run_marker(runs, "b") == "*"
    assert V.head_line("logs", 1, 3, None) == "tbx watch | 1 run, 3 tags | reading... | logs"
    assert V.head_line("logs", 2, 1, None, "OSError: x").startswith("refresh failed: OSError: x")
    pages = V.paginate(tags, 2)
    line = V.view_line(pages, 1, smoothing=0.6, smoothing_ready=False, zoom=1000, log_y=True,
                       filters={"run": "", "tag": "val$"})
    assert line == "[2/3] loss | smoothing 0.6 (loading) | last 1,000 steps | log y | tags /val$/"
    assert V.view_line([], 0, smoothing=0.0, smoothing_ready=True, zoom=None, log_y=False,
                       filters={"run": "x", "tag": ""}).startswith("[0/0] no scalar tags match")


# ------------------------------------------------------------------------------- --once


def test_once_text(logs, capsys):
    assert main(["watch", str(logs), "--once"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"tbx watch {logs}: 2 runs, 4 scalar series"
    rows = [ln.split() for ln in lines[1:]]
    assert rows[0] == ["run", "tag", "step", "latest", "min", "max", "points", "trend"]
    assert rows[1][:7] == ["a", "loss", "20", "1.25", "0.5", "2", "3"]
    assert rows[2][:7] == ["a", "acc", "20", "0.75", "0.25", "0.75", "2"]
    assert rows[3][:7] == ["b", "loss", "7", "-1.5", "-1.5", "3", "3"]
    assert rows[4][:7] == ["b", "x/inf", "1", "inf", "-", "-", "1"]
    assert rows[1][7] == "█▁▅"  # 2.0, 0.5, 1.25: levels 7, 0, 3.5 -> 4


def test_once_json_and_filters(logs, capsys):
    assert main(["watch", str(logs), "--once", "--format", "json", "--tags", "LOSS|inf"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["logdir"] == str(logs) and doc["runs"] == ["a", "b"]
    got = {(r["run"], r["tag"]): r for r in doc["scalars"]}
    assert set(got) == {("a", "loss"), ("b", "loss"), ("b", "x/inf")}
    assert got[("a", "loss")] == {"run": "a", "tag": "loss", "count": 3, "step": 20,
                                  "value": 1.25, "wall_time": WALL + 20, "min": 0.5,
                                  "max": 2.0, "first_step": 0}
    assert got[("b", "x/inf")]["value"] == "Infinity"
    assert main(["watch", str(logs), "--once", "--format", "json", "--runs", "^a$"]) == 0
    assert [r["run"] for r in json.loads(capsys.readouterr().out)["scalars"]] == ["a", "a"]


def test_bad_arguments(logs, tmp_path, capsys):
    assert main(["watch", str(tmp_path / "missing"), "--once"]) == 2
    assert "LOGDIR" in capsys.readouterr().err
    assert main(["watch", str(logs), "--once", "--runs", "("]) == 2
    assert "--runs '('" in capsys.readouterr().err
    assert main(["watch", str(logs), "--format", "json"]) == 2
    assert "--format needs --once" in capsys.readouterr().err
    assert main(["watch", str(logs), "--once", "--smoothing", "1"]) == 2
    assert "--smoothing" in capsys.readouterr().err


def test_live_needs_a_terminal(logs):
    proc = subprocess.run([sys.executable, "-m", "tbx.cli", "watch", str(logs)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2 and "--once" in proc.stderr


def test_live_dashboard_reads_through_a_watching_provider(logs, monkeypatch):
    """The live dashboard's provider watches the logdir (as tbx serve's): once the watcher
    runs, an idle refresh lists nothing and reports no change; an append is still read."""
    pytest.importorskip("textual")
    pytest.importorskip("textual_plotext")
    pytest.importorskip("watchfiles")
    import types

    import tbx.watch.cli as watch_cli
    from tbx.watch import app as A

    class TTY:
        @staticmethod
        def isatty():
            return True

    monkeypatch.setattr(watch_cli, "sys", types.SimpleNamespace(stdout=TTY(), stdin=TTY()))
    seen = {}

    def run(app):  # instead of the terminal UI: drive its provider as the refresh loop does
        p = app.provider
        lister = p._reader._lister
        seen["mode"] = lister.mode
        p.refresh()
        deadline = time.monotonic() + 60
        while lister.listings < 2 and time.monotonic() < deadline:
            p.refresh()  # the one whole listing shortly after the watcher started
            time.sleep(0.05)
        before = lister.listings
        seen["idle"] = [bool(p.refresh()) for _ in range(5)]
        seen["idle_listings"] = lister.listings - before
        write_run(logs / "a", {"loss": [(30, 0.125)]})
        deadline = time.monotonic() + 60
        while p.scalars("a", "loss").step.tolist()[-1] != 30 and time.monotonic() < deadline:
            p.refresh()
            time.sleep(0.05)
        seen["loss"] = p.scalars("a", "loss").value.tolist()

    monkeypatch.setattr(A.WatchApp, "run", run)
    assert main(["watch", str(logs), "--interval", "0.2"]) == 0
    assert seen == {"mode": "watch", "idle": [False] * 5, "idle_listings": 0,
                    "loss": [2.0, 0.5, 1.25, 0.125]}


# ------------------------------------------------------------------------ live, in tmux

TMUX = shutil.which("tmux")


class Tmux:
    """One private tmux server (its own socket) running one command in an 80x24 window."""

    def __init__(self, cmd: list[str], cwd, env: dict[str, str], size=(80, 24)):
        self.sock = f"tbx-test-{uuid.uuid4().hex[:10]}"
        env_args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        shell = " ".join(_quote(c) for c in cmd) + "; sleep 600"
        # pytest sets COLUMNS/LINES, which textual would take over the pane's real size
        server_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        subprocess.run([TMUX, "-L", self.sock, "-f", "/dev/null", "new-session", "-d", "-s", "w",
                        "-x", str(size[0]), "-y", str(size[1]), *env_args, shell],
                       check=True, cwd=cwd, env=server_env)

    def screen(self) -> str:
        return subprocess.run([TMUX, "-L", self.sock, "capture-pane", "-p", "-t", "w"],
                              capture_output=True, text=True, check=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([TMUX, "-L", self.sock, "send-keys", "-t", "w", *keys], check=True)

    def wait_for(self, pred, what: str, timeout: float = 90.0) -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.sock, "kill-server"], capture_output=True)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


@pytest.fixture
def live(tmp_path):
    if TMUX is None:
        pytest.skip("tmux not installed (apt-get install -y tmux)")
    pytest.importorskip("textual")
    pytest.importorskip("textual_plotext")
    sessions = []

    def start(root, *args, env=None, size=(80, 24)):
        e = {"PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})}
        t = Tmux([sys.executable, "-m", "tbx.cli", "watch", str(root), *args], tmp_path, e, size)
        sessions.append(t)
        return t

    yield start
    for t in sessions:
        t.close()


def table_row(screen: str, run: str, tag: str) -> list[str] | None:
    for line in screen.splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[1] == run and cells[2] == tag:
            return cells[3:]  # step, latest, min, max, trend
    return None


def test_live_new_points_and_keys(live, tmp_path):
    root = tmp_path / "logs"
    write_run(root / "run1", {"loss/train": [(s, 1.0 / (s + 1)) for s in range(0, 100, 10)],
                              "loss/val": [(s, 2.0) for s in range(0, 100, 10)]})
    write_run(root / "run1", {"zeta": [(s, float(s)) for s in range(0, 100, 10)]})
    t = live(root, "--interval", "0.2")
    last = S.fmt_value(float(np.float32(1 / 91)))  # simple_value is a float32
    assert last == "0.010989"
    t.wait_for(lambda s: (table_row(s, "run1", "loss/train") or [])[:4]
               == ["90", last, last, "1"], "the first table")
    screen = t.screen()
    assert "[1/3] loss" in screen and "3 tags" in screen and "loss/train" in screen
    assert table_row(screen, "run1", "loss/val")[:2] == ["90", "2"]

    # a writer appends: the new latest step and value appear
    w = tbx.SummaryWriter(root / "run1")
    w.add_scalar("loss/train", 0.015625, 12345, walltime=WALL + 12345)
    w.flush()
    t.wait_for(lambda s: (table_row(s, "run1", "loss/train") or [""])[:2] == ["12345", "0.015625"],
               "the appended point")
    # a new run joins
    w2 = tbx.SummaryWriter(root / "run2")
    w2.add_scalar("loss/train", 7.5, 3, walltime=WALL)
    w2.flush()
    t.wait_for(lambda s: (table_row(s, "run2", "loss/train") or [""])[:2] == ["3", "7.5"],
               "the new run")
    assert "2 runs" in t.screen()

    # keys change what is shown
    t.keys("n")
    t.wait_for(lambda s: "[2/3] loss" in s and "loss/val  ■ run1\n" in s,
               "the next page (loss/val chart, its legend)")
    t.keys("n")
    t.wait_for(lambda s: "[3/3] (no prefix)" in s and table_row(s, "run1", "zeta") is not None
               and table_row(s, "run1", "loss/train") is None, "the zeta group")
    t.keys("l")
    t.wait_for(lambda s: "log y" in s, "log y")
    t.keys("z")
    t.wait_for(lambda s: "last 10 steps" in s, "zoom to the last 10 steps")
    t.keys("s")
    t.wait_for(lambda s: "smoothing 0.8" in s, "the next smoothing weight")
    t.keys("t")
    t.wait_for(lambda s: "tag filter" in s, "the tag filter box")
    t.keys("val$")
    t.wait_for(lambda s: "val$" in s, "the typed filter")
    t.keys("Enter")
    t.wait_for(lambda s: "[1/1] loss" in s and "tags /val$/" in s
               and table_row(s, "run1", "loss/val") is not None
               and table_row(s, "run1", "loss/train") is None, "the filtered view")
    w.close()
    w2.close()
    t.keys("q")
    t.wait_for(lambda s: "[1/1]" not in s, "quit")


def _is_grey_256(n: int) -> bool:
    if n >= 232 or n in (0, 7, 8, 15):  # the grey ramp, black, greys, white
        return True
    if 16 <= n <= 231:  # the 6x6x6 cube: grey when r == g == b
        c = n - 16
        return c // 36 == (c // 6) % 6 == c % 6
    return False


def test_live_no_color(live, tmp_path):
    root = tmp_path / "logs"
    write_run(root / "a", {"loss": [(1, 0.5), (2, 0.25)]})
    write_run(root / "b", {"loss": [(1, 0.75), (2, 0.125)]})
    t = live(root, env={"NO_COLOR": "1"})
    screen = t.wait_for(lambda s: table_row(s, "b", "loss") is not None, "the table")
    assert table_row(screen, "a", "loss")[:2] == ["2", "0.25"]
    # runs are told apart by markers, not colours: first run braille, second '*'
    lines = screen.splitlines()
    assert any(ln.split()[:2] == ["⢕", "a"] for ln in lines if ln.split())
    assert any(ln.split()[:2] == ["*", "b"] for ln in lines if ln.split())
    colored = subprocess.run([TMUX, "-L", t.sock, "capture-pane", "-p", "-e", "-t", "w"],
                             capture_output=True, text=True).stdout
    import re

    for code in re.findall(r"\x1b\[([0-9;]*)m", colored):
        parts = code.split(";")
        for i in range(len(parts) - 2):  # 256-colour codes: greys only
            if parts[i] in ("38", "48") and parts[i + 1] == "5":
                assert _is_grey_256(int(parts[i + 2])), code
            if parts[i] in ("38", "48") and parts[i + 1] == "2":
                r, g, b = (int(x) for x in parts[i + 2:i + 5])
                assert r == g == b, code


def test_live_low_terminal_shows_the_table_only(live, tmp_path):
    root = tmp_path / "logs"
    write_run(root / "a", {"loss": [(1, 0.5), (2, 0.25)]})
    t = live(root, size=(80, 12))
    screen = t.wait_for(lambda s: table_row(s, "a", "loss") is not None and "└" not in s,
                        "the table without a chart frame")
    assert table_row(screen, "a", "loss")[:4] == ["2", "0.25", "0.25", "0.5"]
    assert s.splitlines()[1].startswith("[1/1] (no prefix)") if (s := screen) else False


def test_live_vanished_run_leaves(live, tmp_path):
    root = tmp_path / "logs"
    write_run(root / "keep", {"loss": [(1, 0.5)]})
    write_run(root / "gone", {"loss": [(1, 0.75)]})
    t = live(root, "--interval", "0.2")
    t.wait_for(lambda s: table_row(s, "gone", "loss") is not None and "2 runs" in s, "both runs")
    shutil.rmtree(root / "gone")
    t.wait_for(lambda s: table_row(s, "gone", "loss") is None and "1 run," in s
               and table_row(s, "keep", "loss") is not None, "the vanished run gone")
