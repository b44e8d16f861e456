"""Mesh plugin data: meshes of a run grouped by MeshPluginData.name, frames per step and batch
sample with exact vertices, faces and colours, tensorboardX's form (components unset, tags
``_1``/``_2``/``_3``, float32 colours and faces) read sensibly, the frame binary round trip."""

from __future__ import annotations

import numpy as np
import pytest

import tbx
from tbx.proto.summary_pb2 import SummaryMetadata
from tbx.reader.provider import LogdirProvider
from tbx.summary import mesh as mesh_summary
from tbx.viewer.plugins.mesh import demo_data
from tbx.viewer.plugins.mesh.frames import (
    decode_frame,
    encode_frame,
    mesh_frame,
    mesh_list,
    mesh_tags,
)


def provider(path):
    p = LogdirProvider(path)
    p.refresh()
    return p


def test_meshes_of_a_run_and_frames(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(2, 5, 3)).astype(np.float32)
    c = rng.integers(0, 256, size=(2, 5, 3))
    f = np.array([[[0, 1, 2], [2, 3, 4]], [[0, 2, 4], [1, 3, 4]]])
    with tbx.SummaryWriter(tmp_path / "r") as w:
        w.add_mesh("shape", v, colors=c, faces=f, global_step=1,
                   config_dict={"camera": {"cls": "PerspectiveCamera", "fov": 60}})
        w.add_mesh("shape", v + 1, colors=c, faces=f, global_step=4)
        w.add_mesh("cloud", v[:1], global_step=2)
    p = provider(tmp_path)
    tags = mesh_tags(p, "r")
    assert tags["shape"]["tags"] == {"VERTEX": "shape_VERTEX", "FACE": "shape_FACE",
                                     "COLOR": "shape_COLOR"}
    listed = mesh_list(p, "r")
    assert sorted(listed) == ["cloud", "shape"]
    assert listed["shape"]["steps"] == [1, 4]
    assert listed["shape"]["components"] == ["VERTEX", "FACE", "COLOR"]
    assert (listed["shape"]["vertices"], listed["shape"]["faces"], listed["shape"]["samples"]) \
        == (5, 2, 2)
    assert listed["shape"]["config"] == {"camera": {"cls": "PerspectiveCamera", "fov": 60}}
    assert listed["cloud"]["components"] == ["VERTEX"] and listed["cloud"]["faces"] == 0

    fr = mesh_frame(p, "r", "shape", step=1, sample=1)
    assert fr.step == 1 and fr.samples == 2 and fr.sample == 1
    np.testing.assert_array_equal(fr.vertices, v[1])
    np.testing.assert_array_equal(fr.faces, f[1].astype(np.uint32))
    np.testing.assert_array_equal(fr.colors, c[1].astype(np.uint8))
    last = mesh_frame(p, "r", "shape")
    assert last.step == 4
    np.testing.assert_array_equal(last.vertices, v[0] + 1)

    head, vv, ff, cc = decode_frame(encode_frame(fr))
    np.testing.assert_array_equal(vv, v[1])
    np.testing.assert_array_equal(ff, f[1])
    np.testing.assert_array_equal(cc, c[1])
    assert head["bounds"] == [v[1].min(0).tolist(), v[1].max(0).tolist()]
    assert (head["vertices"], head["faces"], head["colors"], head["step"]) == (5, 2, True, 1)

    cloud = mesh_frame(p, "r", "cloud")
    assert cloud.colors is None and cloud.faces.shape == (0, 3)
    head, vv, ff, cc = decode_frame(encode_frame(cloud))
    assert cc is None and ff.shape == (0, 3) and head["components"] == ["VERTEX"]

    with pytest.raises(KeyError, match="no mesh 'nope'"):
        mesh_frame(p, "r", "nope")
    with pytest.raises(KeyError, match="no step 3"):
        mesh_frame(p, "r", "shape", step=3)
    with pytest.raises(ValueError, match=r"sample must be in \[0, 2\)"):
        mesh_frame(p, "r", "shape", sample=2)


def test_tensorboardx_point_cloud_and_mesh_render_sensibly(tmp_path):
    """tensorboardX leaves components 0 (TensorBoard then expects faces and shows nothing for
    a point cloud), tags components _1/_2/_3 and stores colours and faces as float32."""
    tbx_x = pytest.importorskip("tensorboardX")
    v = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], np.float32)
    c = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]])
    f = np.array([[[0, 1, 2], [0, 2, 3], [0, 3, 9]]])  # the last names a missing vertex
    w = tbx_x.SummaryWriter(str(tmp_path / "x"))
    w.add_mesh("pc", v, colors=c, global_step=7)
    w.add_mesh("m", v, colors=c, faces=f, global_step=0)
    w.close()
    p = provider(tmp_path)
    tags = mesh_tags(p, "x")
    assert tags["pc"]["tags"] == {"VERTEX": "pc_1", "COLOR": "pc_3"}
    assert tags["pc"]["components"] == 0 and tags["pc"]["config"] is None
    pc = mesh_frame(p, "x", "pc")
    assert pc.step == 7 and pc.components == ("VERTEX", "COLOR")
    np.testing.assert_array_equal(pc.vertices, v[0])
    np.testing.assert_array_equal(pc.colors, c[0].astype(np.uint8))
    m = mesh_frame(p, "x", "m")
    assert m.components == ("VERTEX", "FACE", "COLOR") and m.dropped_faces == 1
    np.testing.assert_array_equal(m.faces, f[0, :2].astype(np.uint32))


def test_components_bitmask_limits_what_is_shown(tmp_path):
    """A writer that sets components to VERTEX only: the colour tag is present but not shown."""
    summary = mesh_summary.mesh_summary("only", np.zeros((1, 3, 3)), colors=np.zeros((1, 3, 3)))
    for value in summary.value:
        meta = mesh_summary.decode_metadata(value.metadata)
        content = mesh_summary.MeshPluginData.FromString(value.metadata.plugin_data.content)
        content.components = mesh_summary.components_bitmask([1])
        value.metadata.CopyFrom(SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="mesh", content=content.SerializeToString())))
        assert meta.name == "only"
    w = tbx.FileWriter(tmp_path / "r")
    w.add_summary(summary, 0)
    w.close()
    fr = mesh_frame(provider(tmp_path), "r", "only")
    assert fr.components == ("VERTEX",) and fr.colors is None


def test_decode_metadata():
    s = mesh_summary.mesh_summary("t", np.zeros((1, 2, 3)), config_dict={"a": 1})
    info = mesh_summary.decode_metadata(s.value[0].metadata)
    assert info == mesh_summary.MeshInfo("t", "VERTEX", 2, {"a": 1}, (1, 2, 3))
    with pytest.raises(ValueError, match="names plugin 'images'"):
        mesh_summary.decode_metadata(SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(plugin_name="images")))
    with pytest.raises(ValueError, match="not MeshPluginData"):
        mesh_summary.decode_metadata(SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(plugin_name="mesh", content=b"\xff\xff")))


def test_demo_data_is_exact(tmp_path):
    v, c = demo_data.point_cloud(1000)
    assert v.shape == (1, 1000, 3) and c.dtype == np.uint8
    np.testing.assert_allclose(np.linalg.norm(v[0], axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(c[0], np.rint((v[0].astype(np.float64) + 1) * 127.5)
                                  .astype(np.uint8))
    tv, tc, tf = demo_data.torus(8, 6)
    assert tv.shape == (1, 48, 3) and tf.shape == (1, 96, 3) and tf.max() == 47
    demo_data.write_demo(tmp_path, points=100, steps=2)
    p = provider(tmp_path)
    assert mesh_list(p, "a")["cloud"]["steps"] == [0, 1]
    fr = mesh_frame(p, "b", "cloud", step=1)
    np.testing.assert_array_equal(fr.vertices, demo_data.point_cloud(100, 1)[0][0])
