"""The Projector's HTTP routes over a real logdir (``http_api.md``): listing, info, columns and
codes, sprite, projection jobs with long polls and binary coordinates, search, neighbours, and
the error answers (unknown run or embedding 404, unreadable tensor file 422 naming it, bad
parameters 400, coordinates not ready 409)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("starlette.testclient")
pytest.importorskip("nh3")
pytest.importorskip("tsdownsample")

from starlette.testclient import TestClient  # noqa: E402

from tbx.reader.provider import LogdirProvider  # noqa: E402
from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.plugins.projector import PLUGIN, demo_data  # noqa: E402

BASE = "/api/plugins/projector/"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    mats = demo_data.write_demo(root / "demo", n=90, d=6, steps=(0, 3))
    gone = root / "gone"
    demo_data.write_demo(gone, n=10, d=2, steps=(0,))
    (gone / "00000" / "demo" / "tensors.tsv").unlink()
    provider = LogdirProvider(str(root))
    provider.refresh()
    app = create_app(provider, refresh=False, plugins=[PLUGIN])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, mats


def get(client, route, status=200, **params):
    r = client.get(BASE + route, params=params)
    assert r.status_code == status, r.text
    return r


def test_listing_and_info(served):
    c, _ = served
    tags = get(c, "tags").json()["runs"]
    assert tags["demo"]["demo:00003"]["first_step"] == 3
    listed = get(c, "embeddings").json()
    assert [e["name"] for e in listed["runs"]["demo"]] == ["demo:00000", "demo:00003"]
    info = get(c, "info", run="demo", name="demo:00003").json()
    assert info["shape"] == [90, 6] and info["finite_rows"] == 90 and info["problems"] == []
    assert [(col["name"], col["kind"]) for col in info["columns"]] == [
        ("name", "text"), ("colour", "categorical"), ("size", "categorical")]
    assert info["sprite"]["count"] == 90
    col = get(c, "column", run="demo", name="demo:00003", column="colour").json()
    assert col["categories"] == ["blue", "green", "red"] and col["counts"] == [30, 30, 30]
    codes = np.frombuffer(get(c, "codes", run="demo", name="demo:00003",
                              column="colour").content, "<i4")
    assert codes.tolist() == [2, 1, 0] * 30  # red, green, blue, ...
    png = get(c, "sprite", run="demo", name="demo:00003")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_errors(served):
    c, _ = served
    assert "unknown run" in get(c, "info", 404, run="nope", name="x").json()["error"]
    assert "has no embedding 'x'" in get(c, "info", 404, run="demo", name="x").json()["error"]
    err = get(c, "info", 422, run="gone", name="demo:00000").json()["error"]
    assert "tensor file" in err and "tensors.tsv does not exist" in err
    err = get(c, "project", 400, run="demo", name="demo:00000", method="lda").json()["error"]
    assert "method must be one of" in err
    get(c, "column", 404, run="demo", name="demo:00000", column="nope")
    get(c, "neighbors", 400, run="demo", name="demo:00000", index=90)
    get(c, "job", 404, job="999999")
    err = get(c, "project", 400, run="demo", name="demo:00000", method="custom",
              x_vector="1,2").json()["error"]
    assert "x_vector must be 6 numbers" in err


def test_project_poll_and_coords(served):
    c, mats = served
    st = get(c, "project", run="demo", name="demo:00000", method="pca", wait=5).json()
    assert st["state"] == "done" and st["dims"] == 6 and st["solver"] == "exact"
    data = np.frombuffer(get(c, "coords", job=st["job"], columns="1,0").content, "<f4")
    xc = mats[0].astype(np.float64) - mats[0].mean(0)
    expected = xc @ np.linalg.svd(xc, full_matrices=False)[2].T
    got = data.reshape(90, 2)[:, ::-1]
    for j in range(2):
        sign = np.sign(got[:, j] @ expected[:, j])
        np.testing.assert_allclose(sign * got[:, j], expected[:, j], rtol=1e-4, atol=1e-4)
    again = get(c, "project", run="demo", name="demo:00000", method="pca").json()
    assert again["job"] == st["job"]  # cached
    assert get(c, "job", job=st["job"]).json()["state"] == "done"
    get(c, "coords", 409, job=st["job"], partial=1)
    get(c, "coords", 400, job=st["job"], columns="0,9")
    # custom axes from metadata queries, over a subset given by ranges
    st = get(c, "project", run="demo", name="demo:00000", method="custom", x="red",
             x_left="blue", y_vector="0,1,0,0,0,0", column="colour", subset="0-29",
             wait=5).json()
    assert st["state"] == "done" and st["points"] == 30
    xy = np.frombuffer(get(c, "coords", job=st["job"]).content, "<f4").reshape(90, 2)
    assert np.isnan(xy[30:]).all()
    x = mats[0].astype(np.float64)
    d = x[0::3].mean(0) - x[2::3].mean(0)
    sub = x[:30] - x[:30].mean(0)
    np.testing.assert_allclose(xy[:30, 0], sub @ (d / np.linalg.norm(d)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xy[:30, 1], sub[:, 1], rtol=1e-4, atol=1e-4)


def test_search_and_neighbors(served):
    c, mats = served
    r = get(c, "search", run="demo", name="demo:00003", query="^p8\\d$", column="name",
            regex=1).json()
    assert r["count"] == 10 and r["indices"] == list(range(80, 90))
    r = get(c, "neighbors", run="demo", name="demo:00003", index=4, k=3,
            metric="euclidean").json()
    x = mats[1].astype(np.float64)
    d = np.linalg.norm(x - x[4], axis=1)
    d[4] = np.inf
    assert [n["index"] for n in r["neighbors"]] == np.argsort(d)[:3].tolist()


@pytest.mark.parametrize("value, count", [("1", 10), ("true", 10), ("TRUE", 10), ("0", 0),
                                          ("false", 0), ("", 0)])
def test_regex_takes_only_boolean_values(served, value, count):
    c, _ = served
    r = get(c, "search", run="demo", name="demo:00003", query="^p8\\d$", column="name",
            regex=value).json()
    assert r["count"] == count


@pytest.mark.parametrize("value", ["nan", "\x00", "yes", "2", "on"])
def test_boolean_parameters_refuse_other_values(served, value):
    c, _ = served
    echo = repr(value)
    err = get(c, "search", 400, run="demo", name="demo:00003", query="p8", regex=value).json()
    assert err["error"] == f"regex must be 0, 1, true or false, got {echo}"
    err = get(c, "project", 400, run="demo", name="demo:00000", method="pca",
              subset_query="p8", subset_regex=value).json()
    assert err["error"] == f"subset_regex must be 0, 1, true or false, got {echo}"
    err = get(c, "project", 400, run="demo", name="demo:00000", method="custom", x="p1",
              regex=value).json()
    assert err["error"] == f"regex must be 0, 1, true or false, got {echo}"
    job = get(c, "project", run="demo", name="demo:00000", method="pca", wait=5).json()
    assert job["state"] == "done"
    err = get(c, "coords", 400, job=job["job"], partial=value).json()
    assert err["error"] == f"partial must be 0, 1, true or false, got {echo}"
