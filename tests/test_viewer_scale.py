"""Many runs in the viewer's API (starlette TestClient over an in-memory provider): run sets
(``POST /api/runsets``), selection by run set or regex, charts limited to ``limit`` series ranked
by last/min/max with the notice, grouping (line and band per group, members), the run table's
route. Expected values are computed here from the series the test wrote."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient")
pytest.importorskip("tsdownsample")

from starlette.testclient import TestClient  # noqa: E402
from viewer_fakes import FakeProvider  # noqa: E402

from tbx.proto.plugin_hparams_pb2 import (  # noqa: E402
    Experiment,
    HParamsPluginData,
    MetricInfo,
    MetricName,
    SessionStartInfo,
)
from tbx.proto.summary_pb2 import SummaryMetadata  # noqa: E402
from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.plugins.scalars import groups as G  # noqa: E402
from tbx.viewer.plugins.scalars import limit as L  # noqa: E402
from tbx.viewer.plugins.scalars import series as S  # noqa: E402
from tbx.viewer.selection import RunSets  # noqa: E402

SERIES = "/api/plugins/scalars/series"
N = 40
STEPS = np.arange(0, 200, 10)


def _hp(**kw):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="hparams", content=HParamsPluginData(version=0, **kw).SerializeToString()))


def loss(i: int) -> np.ndarray:
    """Run i's loss: distinct last, min and max orders (so the rankings differ)."""
    k = np.arange(len(STEPS), dtype=np.float64)
    return ((i * 7) % N) * np.exp(-k / 5) + ((i * 13) % N) * 0.01 + np.sin(k + i) * 0.001 * i


def name(i: int) -> str:
    return f"{'ab'[i % 2]}-lr{[0.1, 0.01][(i // 2) % 2]}-s{i:03d}"


@pytest.fixture
def provider():
    p = FakeProvider()
    for i in range(N):
        run = name(i)
        p.add_scalars(run, "loss", STEPS, loss(i))
        p.add_scalars(run, "acc", STEPS, -loss(i))
        ssi = SessionStartInfo()
        ssi.hparams["lr"].number_value = [0.1, 0.01][(i // 2) % 2]
        ssi.hparams["opt"].string_value = "ab"[i % 2]
        exp = Experiment(metric_infos=[MetricInfo(name=MetricName(tag="loss"))])
        p.add_tensors(run, "_hparams_/experiment", "hparams", [0], [np.zeros(0)],
                      metadata=_hp(experiment=exp))
        p.add_tensors(run, "_hparams_/session_start_info", "hparams", [0], [np.zeros(0)],
                      metadata=_hp(session_start_info=ssi))
    # a run logged at other steps (every 5), one without hparams, one with a NaN last value
    p.add_scalars("odd", "loss", np.arange(0, 200, 5), np.linspace(10, 0, 40))
    nan_tail = np.ones(len(STEPS))
    nan_tail[-1] = np.nan
    p.add_scalars("nanlast", "loss", STEPS, nan_tail)
    p.refresh()
    return p


@pytest.fixture
def client(provider):
    with TestClient(create_app(provider, refresh=False), raise_server_exceptions=False) as c:
        yield c


def _post(client, runs, pinned=()):
    r = client.post("/api/runsets", json={"runs": list(runs), "pinned": list(pinned)})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def _series(client, **params):
    r = client.get(SERIES, params=params)
    assert r.status_code == 200, r.text
    return S.unpack(r.content), json.loads(r.headers["x-tbx-series"])


def _stats(provider, run, tag="loss"):
    v = provider.scalars(run, tag).value
    f = v[np.isfinite(v)]
    return {"last": v[-1] if np.isfinite(v[-1]) else np.nan, "min": f.min(), "max": f.max()}


# run sets -------------------------------------------------------------------------------------

def test_runset_ids_are_content_addressed(client):
    a = _post(client, [name(1), name(0)])
    assert _post(client, [name(1), name(0)]) == a
    assert _post(client, [name(0), name(1)]) != a  # order is part of the set
    assert _post(client, [name(1), name(0)], [name(0)]) != a
    out, info = _series(client, runset=a, tag="loss", width=0)
    assert [d["run"] for d, _ in out] == [name(1), name(0)]
    assert info["selected"] == 2 and info["shown"] == 2 and info["notice"] == ""


@pytest.mark.parametrize("body,ctype,status", [
    (b"not json", "application/json", 400),
    (b'{"runs": "a"}', "application/json", 400),
    (b'{"runs": [1, 2]}', "application/json", 400),
    (b'{"pinned": []}', "application/json", 400),
    (b'{"runs": [], "color": 1}', "application/json", 400),
    (b'{"runs": ["a"]}', "text/plain", 415),
])
def test_runset_bad_bodies(client, body, ctype, status):
    r = client.post("/api/runsets", content=body, headers={"Content-Type": ctype})
    assert r.status_code == status
    assert r.json()["error"] and "Traceback" not in r.text


def test_selectors(client):
    r = client.get(SERIES, params={"runset": "0" * 24, "tag": "loss"})
    assert r.status_code == 404 and "POST the runs to /api/runsets again" in r.json()["error"]
    out, _ = _series(client, run_re=r"^b-lr0\.01-", tag="loss", width=0)
    assert [d["run"] for d, _ in out] == [name(i) for i in range(N) if i % 4 == 3]
    for params, status in [({"run_re": "(", "tag": "loss"}, 400),
                           ({"run_re": "a", "run": name(0), "tag": "loss"}, 400),
                           ({"run_re": ["a", "b"], "tag": "loss"}, 400),
                           ({"run": "nope", "tag": "loss"}, 404)]:
        assert client.get(SERIES, params=params).status_code == status, params


def test_runsets_store_is_bounded():
    rs = RunSets(max_sets=3)
    ids = [rs.add([f"r{i}"])[0] for i in range(4)]
    assert rs.get(ids[0]) is None and rs.get(ids[3]).runs == ("r3",)
    assert len(rs) == 3
    assert rs.add(["x"], pinned=["y"])[1].runs == ("x", "y")  # pins join the set


# limit and rank -------------------------------------------------------------------------------

@pytest.mark.parametrize("rank,order", [("last", "asc"), ("last", "desc"), ("min", "asc"),
                                        ("max", "desc")])
def test_limit_keeps_the_ranked_series(client, provider, rank, order):
    runs = provider.runs()
    sid = _post(client, runs)
    out, info = _series(client, runset=sid, tag="loss", limit=7, rank=rank, order=order, width=0)
    vals = {r: _stats(provider, r)[rank] for r in runs}
    ranked = sorted((r for r in runs if np.isfinite(vals[r])),
                    key=lambda r: vals[r] if order == "asc" else -vals[r])
    assert {d["run"] for d, _ in out} == set(ranked[:7])
    assert [d["run"] for d, _ in out] == [r for r in runs if r in set(ranked[:7])]  # run order
    word = {"asc": "lowest", "desc": "highest"}[order]
    assert info == {"selected": N + 2, "shown": 7, "unit": "runs", "limit": 7, "rank": rank,
                    "order": order, "pinned": 0, "width": 0,
                    "ranked_step": 195,  # "odd", logged every 5 steps, is the longest
                    "notice": f"showing 7 of {N + 2} runs: the 7 with the {word} {rank} value"}
    d, cols = next(x for x in out if x[0]["run"] == ranked[0])
    assert np.array_equal(cols["value"], provider.scalars(ranked[0], "loss").value)


def test_limit_keeps_pins_and_puts_nan_last(client, provider):
    runs = provider.runs()
    pins = [name(5), name(6)]
    sid = _post(client, runs, pins)
    out, info = _series(client, runset=sid, tag="loss", limit=4, rank="last", order="desc")
    got = [d["run"] for d, _ in out]
    assert set(pins) <= set(got) and len(got) == 4
    assert "nanlast" not in got
    assert info["pinned"] == 2
    assert info["notice"] == f"showing 4 of {N + 2} runs: the 2 with the highest last value, " \
                             "and 2 pinned"
    assert [d["pinned"] for d, _ in out] == [r in pins for r in got]
    # NaN last ranks after every number, in both orders
    for order in ("asc", "desc"):
        out, _ = _series(client, runset=sid, tag="loss", limit=N + 1, order=order)
        assert "nanlast" not in [d["run"] for d, _ in out]


def test_many_series_share_a_points_budget(client, provider):
    runs = provider.runs()
    from tbx.viewer.plugins import scalars

    sid = _post(client, runs)
    out, info = _series(client, runset=sid, tag=["loss", "acc"], width=1000)
    assert info["unit"] == "series" and info["selected"] == 2 * N + 2
    expected = min(1000, max(scalars.MIN_WIDTH, scalars.POINTS_BUDGET // (4 * len(out))))
    assert info["width"] == expected


def test_rank_unit():
    assert L.rank(range(5), [3, None, 1, float("nan"), 2], 2) == [2, 4]
    assert L.rank(range(5), [3, None, 1, float("nan"), 2], 2, "desc") == [0, 4]
    assert L.rank(range(5), [3, None, 1, float("nan"), 2], 2, pinned=[1]) == [1, 2]
    assert L.rank(range(3), [], 5) == [0, 1, 2]
    with pytest.raises(ValueError, match="limit"):
        L.rank(range(3), [1, 2, 3], 0)
    assert L.notice(500, 10_000, "runs", "last", "asc") == \
        "showing 500 of 10,000 runs: the 500 with the lowest last value"
    assert L.notice(5, 5, "runs", "last", "asc") == ""


# groups ---------------------------------------------------------------------------------------

def test_group_by_hparam_line_and_band(client, provider):
    runs = [name(i) for i in range(N)]
    sid = _post(client, runs)
    out, info = _series(client, runset=sid, tag="loss", group="hparam", group_by="lr",
                        band="minmax", width=0)
    assert [d["group"] for d, _ in out] == ["lr=0.01", "lr=0.1"]  # numeric order
    assert info["groups"] == [{"group": "lr=0.01", "tag": "loss", "members": N // 2},
                              {"group": "lr=0.1", "tag": "loss", "members": N // 2}]
    for d, cols in out:
        lr = 0.01 if d["group"] == "lr=0.01" else 0.1
        members = np.array([loss(i) for i in range(N) if [0.1, 0.01][(i // 2) % 2] == lr])
        assert d["kind"] == "group" and d["members"] == N // 2
        assert np.array_equal(cols["x"], STEPS)
        assert np.allclose(cols["value"], members.mean(axis=0), rtol=0, atol=1e-12)
        assert np.array_equal(cols["lo"], members.min(axis=0))
        assert np.array_equal(cols["hi"], members.max(axis=0))
        assert np.array_equal(cols["count"], np.full(len(STEPS), N // 2))
    out, _ = _series(client, runset=sid, tag="loss", group="hparam", group_by="lr",
                     agg="median", band="std", width=0)
    d, cols = out[0]
    members = np.array([loss(i) for i in range(N) if (i // 2) % 2 == 1])
    med = np.median(members, axis=0)
    assert np.allclose(cols["value"], med, atol=1e-12)
    assert np.allclose(cols["hi"] - cols["value"], members.std(axis=0), atol=1e-12)
    assert np.allclose(cols["value"] - cols["lo"], members.std(axis=0), atol=1e-12)


def test_group_by_regex_capture_and_members(client, provider):
    runs = [name(i) for i in range(1, 9)] + ["odd", "nanlast"]
    sid = _post(client, runs)
    out, info = _series(client, runset=sid, tag="loss", group="regex",
                        group_by=r"^(\w)-lr([\d.]+)", expand=["a/0.1"], width=0)
    groups = [d for d, _ in out if d["kind"] == "group"]
    assert [g["group"] for g in groups] == ["a/0.01", "a/0.1", "b/0.01", "b/0.1", G.NO_MATCH]
    members = [(d, c) for d, c in out if d["kind"] == "member"]
    assert [d["run"] for d, _ in members] == [name(4), name(8)]
    x = next(c for d, c in out if d["group"] == "a/0.1")["x"]
    assert np.array_equal(x, np.arange(0, 200, 5))  # union of every run's steps
    for d, c in members:
        i = int(d["run"][-3:])
        # interpolated between its points, exact at them
        assert np.allclose(c["value"][:-1], np.interp(x[:-1], STEPS, loss(i)), rtol=0, atol=1e-12)
        assert np.array_equal(c["value"][::2][:-1], loss(i)[:-1])
        assert np.isnan(c["value"][-1])  # past its last step (190): no value
    # the no-match group: "odd" (every 5 steps) and "nanlast" (NaN left out)
    d, c = next((d, c) for d, c in out if d["group"] == G.NO_MATCH)
    assert d["members"] == 2
    at = np.searchsorted(x, 180)
    assert c["count"][at] == 2 and c["value"][at] == pytest.approx((np.linspace(10, 0, 40)[36]
                                                                    + 1) / 2)
    assert c["count"][-2] == 1  # step 190: nanlast's NaN is left out
    assert info["members_selected"] == 2 and info["members_shown"] == 2


def test_group_limits_and_errors(client, provider):
    sid = _post(client, provider.runs())
    out, info = _series(client, runset=sid, tag="loss", group="regex", group_by=r"s(\d\d)\d",
                        limit=2, rank="last", order="asc", width=0)
    assert info["selected"] == 5 and info["shown"] == 2  # s00, s01, s02, s03, (no match)
    assert info["notice"] == "showing 2 of 5 groups: the 2 with the lowest last value"
    for params in ({"group": "regex", "group_by": "("}, {"group": "regex"},
                   {"group": "hparam", "group_by": "lr", "agg": "mode"},
                   {"group": "hparam", "group_by": "lr", "band": "iqr"}):
        r = client.get(SERIES, params={"runset": sid, "tag": "loss", **params})
        assert r.status_code == 400, params


def test_rank_route_names_what_series_sends(client, provider):
    """``rank``: the (run, tag) pairs ``series`` would send, without points; it follows the
    data (a live chart asks it to re-rank without loading every series again)."""
    runs = [name(i) for i in range(N)]
    sid = _post(client, runs)
    q = {"runset": sid, "tag": "loss", "limit": 3, "rank": "last", "order": "asc"}
    out, info = _series(client, **q, width=0)
    got = client.get("/api/plugins/scalars/rank", params=q).json()
    assert got == {"shown": [[d["run"], "loss"] for d, _ in out], "selected": N,
                   "shown_count": 3, "ranked_step": int(STEPS[-1]), "notice": info["notice"]}
    # a run left out logs a new, lowest value at a later step: it ranks in
    out_run = next(r for r in runs if [r, "loss"] not in got["shown"])
    provider.add_scalars(out_run, "loss", [STEPS[-1] + 10], [-1e9])
    provider.refresh()
    got2 = client.get("/api/plugins/scalars/rank", params=q).json()
    assert got2["shown"][0] == [out_run, "loss"] or [out_run, "loss"] in got2["shown"]
    assert got2["ranked_step"] == int(STEPS[-1]) + 10


def test_group_since_computes_only_the_new_rows(client, provider):
    """A live append to a group: ``since`` answers only the rows from the last point each
    appending member had before (exact mean/min/max/count), and a step only some members
    reached is computed over those that did; kept rows + new rows == a full answer."""
    runs = ["g-0", "g-1", "g-2", "h-0"]
    for k, r in enumerate(runs):
        provider.add_scalars(r, "late", np.arange(5), np.arange(5) * 1.0 + k)
    provider.refresh()
    sid = _post(client, runs)
    q = {"runset": sid, "tag": "late", "group": "regex", "group_by": "^(.)-", "width": 0,
         "expand": ["g"]}
    full0 = {(d["kind"], d["group"], d["run"]): c for d, c in _series(client, **q)[0]}
    # g-0 alone reaches step 5 (value 100): the row at 5 is g-0's own value, count 1
    provider.add_scalars("g-0", "late", [5], [100.0])
    provider.refresh()
    out, info = _series(client, **q, since=5)
    assert info["since"] == 5
    got = {(d["kind"], d["group"], d["run"]): (d, c) for d, c in out}
    d, c = got[("group", "g", None)]
    assert d["from"] == 4.0 and d["n"] == 2  # from g-0's last point before 5: rows 4 and 5
    assert c["x"].tolist() == [4.0, 5.0]
    assert c["value"].tolist() == [(4 + 5 + 6) / 3, 100.0]
    assert c["lo"].tolist() == [4.0, 100.0] and c["hi"].tolist() == [6.0, 100.0]
    assert c["count"].tolist() == [3, 1]
    d, c = got[("group", "h", None)]  # h-0 has no row at 5 yet
    assert c["x"].tolist() == [4.0, 5.0] and np.isnan(c["value"][1]) and c["count"][1] == 0
    d, c = got[("member", "g", "g-1")]
    assert c["x"].tolist() == [4.0, 5.0] and c["value"][0] == 5.0 and np.isnan(c["value"][1])
    # g-1 logs step 5 (7.0); g-2 jumps to step 7 (20.0): the row at 5 now holds all three, g-2
    # read between its step 4 (6.0) and 7 (20.0); row 7 only g-2 (g-0, g-1 stopped before)
    provider.add_scalars("g-1", "late", [5], [7.0])
    provider.add_scalars("g-2", "late", [7], [20.0])
    provider.refresh()
    out, _ = _series(client, **q, since=5)
    got = {(d["kind"], d["group"], d["run"]): (d, c) for d, c in out}
    d, c = got[("group", "g", None)]
    g2_at5 = 6.0 + (20.0 - 6.0) * (5 - 4) / (7 - 4)
    assert d["from"] == 4.0 and c["x"].tolist() == [4.0, 5.0, 7.0]
    assert c["value"][1] == np.mean([100.0, 7.0, g2_at5])
    assert c["lo"][1] == 7.0 and c["hi"][1] == 100.0 and c["count"].tolist() == [3, 3, 1]
    assert c["value"][2] == c["lo"][2] == c["hi"][2] == 20.0
    # the rows the page keeps (x < from) and the new ones equal a full answer
    full = {(d["kind"], d["group"], d["run"]): c for d, c in _series(client, **q)[0]}
    assert set(full) == set(got)
    for k, (d, c) in got.items():
        for col in c:
            kept = full0[k][col][full0[k]["x"] < d["from"]]
            assert np.array_equal(np.concatenate([kept, c[col]]), full[k][col], equal_nan=True)
    # nothing new past since: no rows; since with smoothing is refused
    out, _ = _series(client, **q, since=8)
    assert all(d["n"] == 0 and d["from"] is None for d, _ in out)
    r = client.get(SERIES, params={**q, "since": 5, "smoothing": 0.5})
    assert r.status_code == 400 and "since" in r.json()["error"]
    # since without group is refused, not ignored
    plain = {k: v for k, v in q.items() if k not in ("group", "group_by", "expand")}
    r = client.get(SERIES, params={**plain, "since": 5})
    assert r.status_code == 400
    assert r.json()["error"] == ("since applies to grouped charts only (group=regex or "
                                 "group=hparam): without group, ask for xmin instead")
    r = client.get(SERIES, params={**plain, "since": 5, "group": "none"})
    assert r.status_code == 400


def test_aggregate_unit():
    g = G.grid([np.array([0.0, 2.0, 4.0]), np.array([1.0, 3.0])])
    assert np.array_equal(g, [0, 1, 2, 3, 4])
    a = G.prepare(np.array([4.0, 0.0, 2.0]), np.array([4.0, 0.0, np.nan]))  # unsorted, a NaN
    b = G.prepare(np.array([1.0, 3.0]), np.array([10.0, 30.0]))
    line, lo, hi, count = G.aggregate([a, b], g, "mean", "minmax")
    # a: 0 at 0, 4 at 4 (its NaN at 2 left out: read as 2 there); b: 10 at 1, 30 at 3
    assert np.array_equal(count, [1, 2, 2, 2, 1])
    assert np.array_equal(line, [0, (1 + 10) / 2, (2 + 20) / 2, (3 + 30) / 2, 4])
    assert np.array_equal(hi, [0, 10, 20, 30, 4]) and np.array_equal(lo, [0, 1, 2, 3, 4])
    assert len(G.grid([np.arange(100.0)], cap=10)) == 10
    with pytest.raises(ValueError, match="agg"):
        G.aggregate([a], g, "mode")


# the run table ---------------------------------------------------------------------------------

def test_run_table(client, provider):
    t = client.get("/api/plugins/runs/table").json()
    assert t["runs"] == provider.runs()
    assert t["hparams"] == ["lr", "opt"] and t["metrics"] == ["loss"]  # named by the experiment
    assert t["scalar_tags"][:2] == ["loss", "acc"]
    i = t["runs"].index(name(3))
    assert t["hparam_values"]["lr"][i] == 0.01 and t["hparam_values"]["opt"][i] == "b"
    assert t["hparam_values"]["lr"][t["runs"].index("odd")] is None
    st = _stats(provider, name(3))
    assert t["stats"]["loss"]["last"][i] == st["last"]
    assert t["stats"]["loss"]["min"][i] == st["min"] and t["stats"]["loss"]["max"][i] == st["max"]
    assert t["stats"]["loss"]["step"][i] == 190
    j = t["runs"].index("nanlast")
    assert t["stats"]["loss"]["last"][j] is None and t["stats"]["loss"]["max"][j] == 1.0
    t2 = client.get("/api/plugins/runs/table", params={"metric": ["acc", "nope"]}).json()
    assert t2["metrics"] == ["acc", "nope"]
    assert t2["stats"]["acc"]["max"][i] == -st["min"]
    assert set(t2["stats"]["nope"]["last"]) == {None}
    assert client.get("/api/plugins/runs/table", params={"metrics": "none"}).json()["stats"] == {}
    assert client.get("/api/hparams").json() == {"hparams": ["lr", "opt"], "runs": N}
