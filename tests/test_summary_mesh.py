"""add_mesh: TensorBoard's mesh layout (tags, dtypes, components bitmask), read back by tbx's
decoder, by TensorBoard's EventAccumulator and by the mesh plugin's HTTP routes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kinds_helpers import accumulator, assert_kept_after_error, tb_context, values

import tbx
from tbx.summary import mesh as M

VERTICES = np.array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], dtype=np.float64) * 0.5
COLORS = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]])
FACES = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]])
CONFIG = {"camera": {"cls": "PerspectiveCamera", "fov": 75}, "lights": []}


def mesh_route(logdir, route, **args):
    """Response of the mesh plugin's ``route`` for the run ``"."``."""
    from tensorboard.plugins.mesh.mesh_plugin import MeshPlugin
    from werkzeug.test import Client

    tb, _ = tb_context(logdir)
    app = MeshPlugin(tb).get_plugin_apps()[route]
    resp = Client(app).get("/", query_string={"run": ".", **args})
    assert resp.status_code == 200, resp.data
    return resp.data


def test_mesh_round_trip_and_tensorboard(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_mesh("tetra", VERTICES, COLORS, FACES, CONFIG, global_step=2)
    got = {v.tag: (s, M.decode(v)) for s, _, v in values(logdir)}
    assert sorted(got) == ["tetra_COLOR", "tetra_FACE", "tetra_VERTEX"]
    want = {
        "tetra_VERTEX": ("VERTEX", VERTICES.astype(np.float32)),
        "tetra_FACE": ("FACE", FACES.astype(np.int32)),
        "tetra_COLOR": ("COLOR", COLORS.astype(np.uint8)),
    }
    for tag, (kind, arr) in want.items():
        step, c = got[tag]
        assert (step, c.name, c.content_type, c.components, c.config) == (
            2,
            "tetra",
            kind,
            0b1110,
            CONFIG,
        )
        assert c.data.dtype == arr.dtype
        np.testing.assert_array_equal(c.data, arr)

    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh import plugin_data_pb2 as pd
    from tensorboard.util import tensor_util

    acc = accumulator(logdir)
    contents = acc.PluginTagToContent("mesh")
    assert sorted(contents) == sorted(want)
    for tag, (kind, arr) in want.items():
        meta = metadata.parse_plugin_metadata(contents[tag])
        assert (meta.name, pd.MeshPluginData.ContentType.Name(meta.content_type)) == (
            "tetra",
            kind,
        )
        assert list(meta.shape) == list(arr.shape) and meta.components == 0b1110
        assert json.loads(meta.json_config) == CONFIG
        (event,) = acc.Tensors(tag)
        nd = tensor_util.make_ndarray(event.tensor_proto)
        assert nd.dtype == arr.dtype and event.step == 2
        np.testing.assert_array_equal(nd, arr)


def test_point_cloud_displays(logdir):
    """Without faces, components says VERTEX | COLOR, so TensorBoard's frontend draws points
    (tensorboardX leaves it 0, which TensorBoard reads as all three)."""
    with tbx.SummaryWriter(logdir) as w:
        w.add_mesh("cloud", VERTICES, colors=COLORS)
    assert sorted(v.tag for *_, v in values(logdir)) == ["cloud_COLOR", "cloud_VERTEX"]
    meshes = json.loads(mesh_route(logdir, "/meshes", tag="cloud"))
    assert sorted(m["content_type"] for m in meshes) == [1, 3]
    assert {m["components"] for m in meshes} == {(1 << 1) | (1 << 3)}
    assert {tuple(m["data_shape"]) for m in meshes} == {(1, 4, 3)}
    assert [m["config"] for m in meshes] == ["{}", "{}"]  # TensorBoard's "no config"
    raw = mesh_route(logdir, "/data", tag="cloud", content_type="VERTEX", sample=0)
    np.testing.assert_array_equal(
        np.frombuffer(raw, dtype=np.float32), VERTICES.astype(np.float32).reshape(-1)
    )
    raw = mesh_route(logdir, "/data", tag="cloud", content_type="COLOR", sample=0)
    np.testing.assert_array_equal(np.frombuffer(raw, dtype=np.uint8), COLORS.reshape(-1))
    tags = json.loads(mesh_route(logdir, "/tags"))
    assert tags == {".": {"cloud": {"samples": 1}}}


def test_faces_served_by_plugin(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_mesh("tetra", VERTICES, COLORS, FACES)
    raw = mesh_route(logdir, "/data", tag="tetra", content_type="FACE", sample=0)
    np.testing.assert_array_equal(np.frombuffer(raw, dtype=np.int32), FACES.reshape(-1))


def test_batch_and_torch_inputs(logdir):
    torch = pytest.importorskip("torch")
    v = torch.rand(3, 100, 3)
    with tbx.SummaryWriter(logdir) as w:
        w.add_mesh("batch", v, colors=torch.full((3, 100, 3), 7, dtype=torch.uint8))
    got = {val.tag: M.decode(val) for *_, val in values(logdir)}
    np.testing.assert_array_equal(got["batch_VERTEX"].data, v.numpy())
    assert got["batch_COLOR"].data.shape == (3, 100, 3) and (got["batch_COLOR"].data == 7).all()
    assert json.loads(mesh_route(logdir, "/tags")) == {".": {"batch": {"samples": 3}}}


def test_tensorboardx_layout_differs(tmp_path):
    """What tensorboardX writes for the same point cloud: numeric tag suffixes, float32
    colors, components 0 and json_config "null"."""
    import tensorboardX
    from tensorboard.plugins.mesh import metadata

    with tensorboardX.SummaryWriter(str(tmp_path)) as w:
        w.add_mesh("cloud", VERTICES, colors=COLORS)
    vals = {v.tag: v for *_, v in values(tmp_path)}
    assert sorted(vals) == ["cloud_1", "cloud_3"]
    raw = vals["cloud_3"].metadata.plugin_data.content
    assert metadata.parse_plugin_metadata(raw).components == 0b1110  # "has faces"
    assert M.decode(vals["cloud_3"]).config is None


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(vertices=np.zeros((4, 3))), ValueError, r"vertices must have shape \(B, N, 3\)"),
        (dict(vertices=np.zeros((1, 4, 2))), ValueError, r"got \(1, 4, 2\)"),
        (dict(colors=np.zeros((1, 3, 3))), ValueError, r"colors must have shape \(B, N, 3\)"),
        (dict(colors=np.full((1, 4, 3), 300)), ValueError, r"\[0, 255\]"),
        (dict(faces=np.zeros((2, 4, 3), int)), ValueError, "faces must have shape"),
        (dict(faces=np.full((1, 1, 3), 4)), ValueError, r"indices in \[0, 4\)"),
        (dict(faces=np.zeros((1, 1, 4), int)), ValueError, r"faces must have shape \(B, N, 3\)"),
        (dict(vertices=np.full((1, 4, 3), np.nan)), ValueError, "finite"),
        (dict(config_dict="camera"), TypeError, "config_dict must be a dict"),
        (dict(config_dict={"f": object()}), TypeError, "JSON"),
        (dict(vertices="abc"), TypeError, "vertices must be a number"),
    ],
)
def test_bad_input(logdir, kwargs, exc, match):
    kwargs = {"tag": "m", "vertices": VERTICES, **kwargs}
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(exc, match=match):
            w.add_mesh(**kwargs)
        assert_kept_after_error(w, logdir)
    assert not [t for t in (v.tag for *_, v in values(logdir)) if t.startswith("m_")]
