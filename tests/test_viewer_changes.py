"""What the viewer shows after the files change (issue 10, items 2 and 3), over the real reader
and the real app, at the API level: after one refresh, every route answers exactly what a fresh
``tbx.read`` of the folder holds, and the live messages say what changed.

Each case: runs written with ``tbx.SummaryWriter``, the app over a ``LogdirProvider``
(``refresh=False``: the test calls the hub's refresh), files changed, one refresh, then
exact comparisons."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("tsdownsample")
pytest.importorskip("pandas")

from starlette.testclient import TestClient  # noqa: E402

import tbx  # noqa: E402
from tbx.reader.provider import MIN_STEP, LogdirProvider  # noqa: E402
from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.plugins.scalars import series as S  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # skipped paths warn

SERIES = "/api/plugins/scalars/series"


def log(logdir, run, steps, offset=0.0, tag="loss"):
    with tbx.SummaryWriter(os.path.join(logdir, run)) as w:
        for i in steps:
            w.add_scalar(tag, offset + i, i, walltime=1000.0 + i)


class _Now:
    """Stands in for the event loop: runs what the hub schedules at once."""

    def call_soon_threadsafe(self, fn, *args):
        fn(*args)


class _Client:
    """A live client that receives every message the hub publishes."""

    def __init__(self):
        self.msgs = []

    def put(self, msg):
        self.msgs.append(msg)

    put_nowait = put  # the hub's queue interface before bounded subscribers


class View:
    """The app over a real provider; :meth:`refresh` is one hub refresh and returns the SSE
    messages it published to a live client, decoded: ``[(event, data)]``."""

    def __init__(self, logdir):
        self.logdir = str(logdir)
        self.app = create_app(LogdirProvider(self.logdir), refresh=False)
        self.hub = self.app.state.hub
        self.client = TestClient(self.app, raise_server_exceptions=False).__enter__()
        self.live = _Client()
        self.hub._loop = _Now()
        self.hub._subs.add(self.live)
        self.refresh()

    def close(self):
        self.client.__exit__(None, None, None)

    def refresh(self):
        self.live.msgs.clear()
        self.hub.refresh_once()
        out = []
        for m in self.live.msgs:
            head, data = m.split("\ndata: ", 1)
            out.append((head.removeprefix("event: "), json.loads(data)))
        return out

    def get(self, path, **params):
        r = self.client.get(path, params=params)
        assert r.status_code == 200, (path, params, r.text)
        return r.json()

    def scalar_rows(self):
        """Every scalar point the viewer serves: ``[(run, tag, step, wall_time, value)]``."""
        rows = []
        tags = self.get("/api/plugins/scalars/tags")["runs"]
        for run in self.get("/api/runs")["runs"]:
            for tag in tags.get(run, {}):
                r = self.client.get(SERIES, params={"run": run, "tag": tag, "width": 0})
                ((d, cols),) = S.unpack(r.content)
                assert d["total"] == d["n"] == len(cols["step"])
                rows += [(run, tag, int(s), float(w), float(v)) for s, w, v in
                         zip(cols["step"], cols["wall_time"], cols["value"], strict=True)]
        return sorted(rows)

    def assert_fresh(self):
        """The viewer's runs and scalar points equal a fresh ``tbx.read`` of the folder."""
        fresh = tbx.read(self.logdir)
        df = fresh.scalars
        want = sorted(zip(df.run.astype(str), df.tag.astype(str), df.step.astype(int).tolist(),
                          df.wall_time.tolist(), df.value.tolist(), strict=True))
        assert self.get("/api/runs")["runs"] == fresh.runs
        assert self.scalar_rows() == want


@pytest.fixture
def view(tmp_path):
    views = []

    def make(logdir):
        v = View(logdir)
        views.append(v)
        return v

    yield make
    for v in views:
        v.close()


def _by_event(msgs, event):
    return [d for e, d in msgs if e == event]


def _decode(d):
    return {k: np.frombuffer(base64.b64decode(d[k]), "<f8").tolist()
            for k in ("step", "wall_time", "value")}


def test_deleted_run_leaves_the_run_list_and_every_chart(tmp_path, view):
    log(tmp_path, "a", range(5))
    log(tmp_path, "b", range(7), offset=0.5)
    with tbx.SummaryWriter(str(tmp_path / "b")) as w:
        w.add_histogram("weights", np.arange(10.0), 0)
    v = view(tmp_path)
    assert v.get("/api/runs")["runs"] == ["a", "b"]
    shutil.rmtree(tmp_path / "b")
    msgs = v.refresh()
    (tags,) = _by_event(msgs, "tags")
    assert tags["removed_runs"] == ["b"]
    assert sorted(map(tuple, tags["removed_series"])) == [("b", "loss", "scalars"),
                                                          ("b", "weights", "histograms")]
    assert v.get("/api/runs")["runs"] == ["a"]
    assert v.get("/api/plugins/scalars/tags")["runs"] == {
        "a": {"loss": {"plugin": "scalars", "class": "scalar", "count": 5, "first_step": 0,
                       "last_step": 4, "first_wall_time": 1000.0, "last_wall_time": 1004.0}}}
    assert v.get("/api/plugins/histograms/tags")["runs"] == {}
    r = v.client.get(SERIES, params={"run": "b", "tag": "loss"})
    assert r.status_code == 404
    assert v.client.get("/api/plugins/histograms/points",
                        params={"run": "b", "tag": "weights"}).status_code == 404
    v.assert_fresh()


def test_run_deleted_and_recreated_in_one_refresh_shows_only_the_new_points(tmp_path, view):
    log(tmp_path, "r", range(90))
    v = view(tmp_path)
    shutil.rmtree(tmp_path / "r")
    log(tmp_path, "r", range(90), offset=1000.0)
    msgs = v.refresh()
    (sc,) = _by_event(msgs, "scalars")
    (d,) = sc["series"]
    assert (d["run"], d["tag"], d["plugin"], d["reset"]) == ("r", "loss", "scalars", True)
    assert d["cut"] == MIN_STEP and d["n"] == 90 and d["total"] == 90
    assert _decode(d)["step"] == list(map(float, range(90)))
    assert _decode(d)["value"] == [1000.0 + i for i in range(90)]
    rows = v.scalar_rows()
    assert len(rows) == 90 and [r[2] for r in rows] == list(range(90))
    assert [r[4] for r in rows] == [1000.0 + i for i in range(90)]
    v.assert_fresh()


def test_run_deleted_then_recreated_a_refresh_later(tmp_path, view):
    log(tmp_path, "r", range(90))
    v = view(tmp_path)
    shutil.rmtree(tmp_path / "r")
    (tags,) = _by_event(v.refresh(), "tags")
    assert tags["removed_runs"] == ["r"] and v.get("/api/runs")["runs"] == []
    log(tmp_path, "r", range(30), offset=7.0)
    msgs = v.refresh()
    (tags,) = _by_event(msgs, "tags")
    assert tags["runs"] == ["r"] and tags["series"] == [["r", "loss", "scalars"]]
    (d,) = _by_event(msgs, "scalars")[0]["series"]
    assert d["n"] == d["total"] == 30 and d["cut"] is None
    assert [r[4] for r in v.scalar_rows()] == [7.0 + i for i in range(30)]
    v.assert_fresh()


def test_file_replaced_by_a_shorter_one_is_read_again(tmp_path, view):
    log(tmp_path, "r", range(100))
    (name,) = os.listdir(tmp_path / "r")
    v = view(tmp_path)
    log(tmp_path / "new", "r", range(10), offset=0.25)
    (new,) = os.listdir(tmp_path / "new" / "r")
    os.replace(tmp_path / "new" / "r" / new, tmp_path / "r" / name)  # same name, shorter
    shutil.rmtree(tmp_path / "new")
    msgs = v.refresh()
    (d,) = _by_event(msgs, "scalars")[0]["series"]
    assert d["reset"] is True and d["n"] == d["total"] == 10
    assert [r[4] for r in v.scalar_rows()] == [0.25 + i for i in range(10)]
    v.assert_fresh()


def test_new_run_is_pushed_with_its_points(tmp_path, view):
    log(tmp_path, "a", range(3))
    v = view(tmp_path)
    log(tmp_path, "b", range(4), offset=2.0)
    msgs = v.refresh()
    (tags,) = _by_event(msgs, "tags")
    assert tags["runs"] == ["b"] and tags["series"] == [["b", "loss", "scalars"]]
    (d,) = _by_event(msgs, "scalars")[0]["series"]
    assert (d["run"], d["n"], d["total"], d["cut"], d["reset"]) == ("b", 4, 4, None, False)
    assert _decode(d)["value"] == [2.0, 3.0, 4.0, 5.0]
    v.assert_fresh()


def test_one_tag_for_scalars_histograms_and_images(tmp_path, view):
    """TensorBoard allows a tag per plugin: each dashboard shows its own kind (before: 400
    "is plugin 'scalars', not 'histograms'")."""
    img = np.zeros((3, 4, 6), dtype=np.uint8)
    img[0] = 255
    with tbx.SummaryWriter(str(tmp_path / "r")) as w:
        for i in range(3):
            w.add_scalar("weights", 0.5 * i, i)
            w.add_histogram("weights", np.array([0.0, 1.0, 1.0, 2.0]) + i, i)
        w.add_image("weights", img, 2)
    v = view(tmp_path)
    for plugin, cls, count in (("scalars", "scalar", 3), ("histograms", "tensor", 3),
                               ("distributions", "tensor", 3), ("images", "blob", 1)):
        info = v.get(f"/api/plugins/{plugin}/tags")["runs"]["r"]["weights"]
        assert (info["class"], info["count"]) == (cls, count), plugin
    rows = v.scalar_rows()
    assert [(r[2], r[4]) for r in rows] == [(0, 0.0), (1, 0.5), (2, 1.0)]
    pts = v.get("/api/plugins/histograms/points", run="r", tag="weights")["points"]
    assert [p["step"] for p in pts] == [0, 1, 2]
    assert [sum(p["count"]) for p in pts] == [4.0, 4.0, 4.0]
    assert pts[2]["left"][0] >= 2.0 - 1e-9 and pts[2]["right"][-1] <= 4.0 + 1e-9
    d = v.get("/api/plugins/distributions/points", run="r", tag="weights")["points"]
    assert [p["step"] for p in d] == [0, 1, 2]
    im = v.get("/api/plugins/images/points", run="r", tag="weights")["points"]
    assert [(p["step"], p["width"], p["height"]) for p in im] == [(2, 6, 4)]
    blob = v.client.get("/api/plugins/images/blob",
                        params={"run": "r", "tag": "weights", "index": 0})
    assert blob.status_code == 200 and blob.headers["content-type"] == "image/png"
    # the tab of each kind is active
    active = {p["name"]: p["active"] for p in v.get("/api/plugins")}
    assert active["scalars"] and active["histograms"] and active["images"]
    # new points of each kind are pushed keyed by plugin
    with tbx.SummaryWriter(str(tmp_path / "r")) as w:
        w.add_scalar("weights", 9.0, 3)
        w.add_histogram("weights", np.array([5.0]), 3)
    msgs = v.refresh()
    (d,) = _by_event(msgs, "scalars")[0]["series"]
    assert (d["plugin"], d["n"], _decode(d)["value"]) == ("scalars", 1, [9.0])
    (ch,) = _by_event(msgs, "changed")
    assert [(x["run"], x["tag"], x["plugin"]) for x in ch["series"]] == [
        ("r", "weights", "histograms")]
    assert len(v.get("/api/plugins/histograms/points", run="r", tag="weights")["points"]) == 4


def test_link_out_of_the_logdir_is_a_problem_logged_once_and_listed(tmp_path, view, caplog):
    logdir = tmp_path / "logs"
    log(logdir, "a", range(2))
    log(tmp_path / "outside", "secret", range(3))
    os.symlink(tmp_path / "outside" / "secret", logdir / "link")
    with caplog.at_level(logging.INFO, logger="tbx"):
        v = view(logdir)
        v.refresh()
        v.refresh()
    assert v.get("/api/runs")["runs"] == ["a"]
    (problem,) = v.get("/api/runs")["problems"]
    assert problem["path"] == str(logdir / "link")
    assert "outside" in problem["reason"] or "logdir" in problem["reason"]
    lines = [r.getMessage() for r in caplog.records if r.name == "tbx.viewer"]
    assert lines == [f"tbx: skipped {logdir / 'link'}: {problem['reason']}"]
    # the link removed: the problem leaves the list, and the page is told
    os.unlink(logdir / "link")
    msgs = v.refresh()
    assert _by_event(msgs, "problems") == [{"problems": []}]
    assert v.get("/api/runs")["problems"] == []


def test_non_utf8_run_name_works_escaped(tmp_path, view):
    log(tmp_path, "ok", range(2))
    bad = os.path.join(os.fsencode(tmp_path), b"bad\xff")
    log(os.fsdecode(bad).rsplit(os.sep, 1)[0], os.fsdecode(b"bad\xff"), range(3), offset=4.0)
    assert os.path.isdir(bad)
    v = view(tmp_path)
    r = v.client.get("/api/runs")
    assert r.status_code == 200 and r.json()["runs"] == ["bad\\xff", "ok"]
    assert "bad\\\\xff" in r.text  # escaped text in valid JSON
    rows = v.scalar_rows()
    assert [(x[0], x[4]) for x in rows if x[0] != "ok"] == [("bad\\xff", 4.0), ("bad\\xff", 5.0),
                                                           ("bad\\xff", 6.0)]
    csv = v.client.get(SERIES + ".csv", params={"run": "bad\\xff", "tag": "loss"})
    assert csv.status_code == 200 and csv.text.splitlines()[1] == "bad\\xff,loss,0,1000.0,4.0"


def test_unreadable_file_and_folder_keep_every_other_run(tmp_path):
    """Mode 000 on an event file and on a run folder (as ``nobody`` when the tests run as
    root): every other run keeps its points, both paths are listed on the page and logged once
    over several refreshes."""
    import tempfile

    from test_reader_fs import NOBODY, unprivileged

    shared = tempfile.mkdtemp(prefix="tbx-perm-")
    os.chmod(shared, 0o755)
    try:
        for run, n in (("a", 2), ("b", 3), ("c", 4), ("d", 5)):
            log(shared, run, range(n), offset=10.0 * n)
        (bad_file,) = [os.path.join(shared, "b", f)
                       for f in os.listdir(os.path.join(shared, "b"))]
        bad_dir = os.path.join(shared, "c")
        for path in (bad_file, bad_dir):
            os.chown(path, NOBODY, NOBODY)
        os.chmod(bad_file, 0)
        os.chmod(bad_dir, 0)
        # what the child needs, imported while it still can read root's site-packages
        View(tmp_path).close()
        tbx.read(tmp_path).scalars  # noqa: B018

        def body():
            lines = []
            handler = logging.Handler()
            handler.emit = lambda rec: lines.append(rec.getMessage())
            logging.getLogger("tbx").addHandler(handler)
            logging.getLogger("tbx").setLevel(logging.INFO)
            v = View(shared)
            for _ in range(3):
                v.refresh()
            out = {"runs": v.get("/api/runs"), "rows": v.scalar_rows(), "lines": lines}
            v.close()
            return out

        got = unprivileged(body)
    finally:
        os.chmod(os.path.join(shared, "c"), 0o755)
        shutil.rmtree(shared, ignore_errors=True)
    assert got["runs"]["runs"] == ["a", "b", "d"]  # b: a run whose one file is skipped
    problems = sorted((p["path"], p["reason"]) for p in got["runs"]["problems"])
    assert [p for p, _ in problems] == sorted([bad_file, bad_dir])
    assert all("Permission denied" in r for _, r in problems)
    assert sorted(got["lines"]) == sorted(f"tbx: skipped {p}: {r}" for p, r in problems)
    assert got["rows"] == [("a", "loss", i, 1000.0 + i, 20.0 + i) for i in range(2)] + [
        ("d", "loss", i, 1000.0 + i, 50.0 + i) for i in range(5)]
