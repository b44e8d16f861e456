"""add_embedding: projector files in tensorboardX's layout that TensorBoard's projector plugin
reads (config parsed, tensor served as exactly the float32 values written), metadata rows that
never break, sprites for RGB, RGBA and grayscale thumbnails, bad input refused before anything
is written."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest
from kinds_helpers import assert_kept_after_error

import tbx
from tbx.summary import embedding as emb

rng = np.random.default_rng(5)


def projector(logdir):
    """TensorBoard's projector plugin over ``logdir``, configs loaded."""
    from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin

    plugin = ProjectorPlugin(types.SimpleNamespace(data_provider=None, logdir=str(logdir)))
    plugin._update_configs()
    return plugin


def served(plugin, route, **query):
    from werkzeug.test import Client

    app = plugin.get_plugin_apps()[route]
    response = Client(app).get(route, query_string=query)
    assert response.status_code == 200, response.get_data()
    return response.get_data()


def test_layout_config_and_tensor_read_by_tensorboard(logdir):
    mat = rng.standard_normal((30, 7)).astype(np.float32)
    mat[0, :3] = [np.float32(0.1), np.finfo(np.float32).tiny, np.float32(3.4e38)]
    labels = [f"p{i}" for i in range(30)]
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(mat, metadata=labels, global_step=3, tag="my/tag")
    folder = logdir / "00003" / "my%2ftag"
    assert sorted(os.listdir(folder)) == ["metadata.tsv", "tensors.tsv"]
    # the config parses into TensorBoard's own ProjectorConfig proto
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = text_format.Parse(
        (logdir / "projector_config.pbtxt").read_text(), ProjectorConfig()
    )
    (info,) = config.embeddings
    assert info.tensor_name == "my/tag:00003"
    assert info.tensor_path == "00003/my%2ftag/tensors.tsv"
    assert info.metadata_path == "00003/my%2ftag/metadata.tsv"
    assert list(info.tensor_shape) == [30, 7]
    # tensors.tsv parses back to exactly the float32 values written
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file

    np.testing.assert_array_equal(_read_tensor_tsv_file(str(folder / "tensors.tsv")), mat)
    # and the plugin serves them (as raw float32) and the labels
    plugin = projector(logdir)
    (run,) = plugin._configs
    assert [e.tensor_name for e in plugin._configs[run].embeddings] == ["my/tag:00003"]
    data = served(plugin, "/tensor", run=run, name="my/tag:00003")
    np.testing.assert_array_equal(np.frombuffer(data, "<f4").reshape(30, 7), mat)
    meta = served(plugin, "/metadata", run=run, name="my/tag:00003").decode()
    assert meta.split("\n")[:-1] == labels
    # tbx's reader
    got = emb.read_embedding(logdir, emb.read_projector_config(logdir).embeddings[0])
    np.testing.assert_array_equal(got["mat"], mat)
    assert got["metadata"] == [[x] for x in labels] and got["metadata_header"] is None


def test_same_values_as_tensorboardX_writes(tmp_path):
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file
    from tensorboardX import SummaryWriter as XWriter

    mat = rng.standard_normal((50, 4)).astype(np.float32)
    with tbx.SummaryWriter(tmp_path / "ours") as w:
        w.add_embedding(mat)
    xw = XWriter(str(tmp_path / "theirs"))
    xw.add_embedding(mat)
    xw.close()
    ours = _read_tensor_tsv_file(str(tmp_path / "ours/00000/default/tensors.tsv"))
    theirs = _read_tensor_tsv_file(str(tmp_path / "theirs/00000/default/tensors.tsv"))
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours, mat)


def test_float64_and_torch_mat(logdir):
    import torch

    m64 = rng.standard_normal((5, 3))
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(m64, tag="a")
        w.add_embedding(torch.arange(6.0).reshape(3, 2), tag="b")
    config = emb.read_projector_config(logdir)
    got = {e.tensor_name: emb.read_embedding(logdir, e)["mat"] for e in config.embeddings}
    np.testing.assert_array_equal(got["a:00000"], m64.astype(np.float32))
    np.testing.assert_array_equal(got["b:00000"], [[0, 1], [2, 3], [4, 5]])


def test_labels_with_tabs_newlines_and_blanks_never_break_rows(logdir):
    labels = ["a\tb", "line1\nline2", "cr\rx", "", "  ", 3, None, b"bytes", "ünï"]
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(np.zeros((len(labels), 2)), metadata=labels)
    text = (logdir / "00000/default/metadata.tsv").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(labels) + 1
    assert lines[:-1] == ["a\\tb", "line1\\nline2", "cr\\rx", '""', '""  ', "3", "None",
                          "bytes", "ünï"]
    # no line has a tab: the projector reads one column without a header
    assert all("\t" not in line for line in lines)
    plugin = projector(logdir)
    meta = served(plugin, "/metadata", run=next(iter(plugin._configs)), name="default:00000")
    assert len([ln for ln in meta.decode().split("\n") if ln.strip()]) == len(labels)


def test_metadata_header_columns(logdir):
    rows = [["cat", 1], ["dog\tx", 2], ["", ""]]
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(np.zeros((3, 2)), metadata=rows, metadata_header=["kind", "id"])
    lines = (logdir / "00000/default/metadata.tsv").read_text().split("\n")
    assert lines == ["kind\tid", "cat\t1", "dog\\tx\t2", '""\t', ""]
    got = emb.read_embedding(logdir, emb.read_projector_config(logdir).embeddings[0])
    assert got["metadata_header"] == ["kind", "id"]
    assert got["metadata"] == [["cat", "1"], ["dog\\tx", "2"], ['""', ""]]


def test_single_column_header_dropped_with_warning(logdir):
    with tbx.SummaryWriter(logdir) as w:
        with pytest.warns(UserWarning, match="single column"):
            w.add_embedding(np.zeros((2, 2)), metadata=[["a"], ["b"]], metadata_header=["x"])
    assert (logdir / "00000/default/metadata.tsv").read_text() == "a\nb\n"


def sprite_of(logdir, step="00000", tag="default"):
    from PIL import Image

    return Image.open(logdir / step / tag / "sprite.png")


@pytest.mark.parametrize("channels, mode", [(3, "RGB"), (4, "RGBA"), (1, "L")])
def test_sprite_grid(logdir, channels, mode):
    n, side = 10, 6
    imgs = rng.integers(0, 256, (n, channels, side, side), dtype=np.uint8)
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(rng.random((n, 3)), label_img=imgs, global_step=1)
    im = sprite_of(logdir, "00001")
    per_row = 4  # ceil(sqrt(10))
    assert im.mode == mode and im.size == (per_row * side, per_row * side)  # square
    arr = np.asarray(im)
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    for i in range(n):
        r, c = divmod(i, per_row)
        np.testing.assert_array_equal(
            arr[r * side:(r + 1) * side, c * side:(c + 1) * side], imgs[i].transpose(1, 2, 0)
        )
    assert (arr[2 * side:, 2 * side:] == 0).all() and (arr[3 * side:] == 0).all()
    (info,) = emb.read_projector_config(logdir).embeddings
    assert info.sprite.image_path == "00001/default/sprite.png"
    assert list(info.sprite.single_image_dim) == [side, side]
    plugin = projector(logdir)
    png = served(plugin, "/sprite_image", run=next(iter(plugin._configs)), name="default:00001")
    assert png == (logdir / "00001/default/sprite.png").read_bytes()


def test_sprite_float_and_grayscale_3d_and_nonsquare(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(np.zeros((4, 2)), label_img=np.full((4, 3, 2, 2), 0.5), tag="f")
        w.add_embedding(np.zeros((3, 2)), label_img=np.ones((3, 4, 4), np.uint8), tag="g")
        w.add_embedding(np.zeros((5, 2)), label_img=np.ones((5, 3, 2, 8)), tag="wide")
    f = np.asarray(sprite_of(logdir, tag="f"))
    assert f.shape == (4, 4, 3) and (f == 127).all()
    g = sprite_of(logdir, tag="g")
    assert g.mode == "L" and g.size == (8, 8)
    wide = sprite_of(logdir, tag="wide")
    # per row ceil(sqrt(5 * 2 * 8) / 8) = 2 thumbnails of 8x2; 3 rows
    assert wide.size == (16, 6)
    infos = {e.tensor_name: e for e in emb.read_projector_config(logdir).embeddings}
    assert list(infos["wide:00000"].sprite.single_image_dim) == [8, 2]


def test_config_appends_and_replaces(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(np.zeros((2, 2)), global_step=0)
        w.add_embedding(np.ones((2, 2)), global_step=1)
        w.add_embedding(np.zeros((3, 2)), global_step=0, tag="other")
        with pytest.warns(UserWarning, match="exists and is overwritten"):
            w.add_embedding(np.ones((4, 2)), global_step=1)
    config = emb.read_projector_config(logdir)
    names = [e.tensor_name for e in config.embeddings]
    assert names == ["default:00000", "default:00001", "other:00000"]
    assert list(config.embeddings[1].tensor_shape) == [4, 2]
    plugin = projector(logdir)
    assert len(next(iter(plugin._configs.values())).embeddings) == 3


def test_events_unaffected_and_write_to_disk_false(tmp_path):
    w = tbx.SummaryWriter(tmp_path / "off", write_to_disk=False)
    w.add_embedding(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        w.add_embedding(np.zeros(2))
    w.close()
    assert not (tmp_path / "off").exists()


HUGE = np.broadcast_to(np.zeros((1, 1, 1, 1), np.uint8), (3, 1, 4100, 4100))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"mat": np.zeros(5)}, ValueError, r"mat must have shape \(N, D\)"),
        ({"mat": np.zeros((0, 3))}, ValueError, r"mat must have shape \(N, D\)"),
        ({"mat": np.array([[1.0, np.nan]])}, ValueError, "NaN or infinite"),
        ({"mat": np.array([[1e39]])}, ValueError, "NaN or infinite"),
        ({"mat": "x"}, TypeError, "mat must be"),
        ({"metadata": ["a"]}, ValueError, "metadata has 1 labels but mat has 2 rows"),
        ({"metadata": "ab"}, TypeError, "metadata must be a list"),
        ({"metadata": [["a", 1], ["b"]], "metadata_header": ["x", "y"]}, ValueError,
         r"metadata\[1\] has 1 values but metadata_header has 2"),
        ({"metadata": ["a", "b"], "metadata_header": ["x", "y"]}, ValueError,
         r"metadata\[0\] must be a list of 2"),
        ({"label_img": np.zeros((3, 3, 4, 4))}, ValueError, "label_img has 3 images but mat"),
        ({"label_img": np.zeros((2, 2, 4, 4))}, ValueError, "has 2 channels"),
        ({"label_img": np.zeros((2, 4))}, ValueError, r"label_img must have shape \(N, C, H, W\)"),
        ({"mat": np.zeros((3, 2)), "label_img": HUGE}, ValueError, "at most 8192"),
        ({"tag": ""}, ValueError, "tag must be a non-empty"),
        ({"global_step": "1"}, TypeError, "global_step must be an integer"),
    ],
)
def test_bad_embedding_writes_nothing(logdir, kwargs, exc, match):
    args = {"mat": np.zeros((2, 2))} | kwargs
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(exc, match=match):
        w.add_embedding(**args)
    assert sorted(p.name for p in logdir.iterdir() if not p.name.startswith("events")) == []
    assert_kept_after_error(w, logdir)
    w.close()


def test_fsspec_logdir():
    fsspec = pytest.importorskip("fsspec")
    url = f"memory://tbx-emb-{os.getpid()}/run"
    with tbx.SummaryWriter(url) as w:
        w.add_embedding(np.eye(3), metadata=["a", "b", "c"], label_img=np.zeros((3, 1, 2, 2)))
        w.add_embedding(np.ones((2, 2)), global_step=2)
    fs = fsspec.filesystem("memory")
    root = url[len("memory://"):]
    assert fs.cat(f"{root}/00000/default/metadata.tsv") == b"a\nb\nc\n"
    config = emb.read_projector_config(url)
    assert [e.tensor_name for e in config.embeddings] == ["default:00000", "default:00002"]
    got = emb.read_embedding(url, config.embeddings[0])
    np.testing.assert_array_equal(got["mat"], np.eye(3))
    assert got["sprite"].shape == (4, 4, 1)
    fs.rm(root, recursive=True)


def test_missing_pillow_names_the_extra_and_writes_nothing(logdir, monkeypatch):
    import sys

    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[embedding\]"'):
        w.add_embedding(np.zeros((2, 2)), label_img=np.zeros((2, 3, 4, 4)))
    monkeypatch.undo()
    assert sorted(p.name for p in logdir.iterdir() if not p.name.startswith("events")) == []
    assert_kept_after_error(w, logdir)
    w.close()


def test_tensors_tsv_bit_exact_for_every_kind_of_float32(logdir):
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file

    special = np.array(
        [0.0, -0.0, 1.0, -1.0, 0.1, 10.0, 1e-45, -1e-45, 1e-40, 1.17549435e-38,
         3.4028235e38, -3.4028235e38, 999999.94, 1e9, 123456789.0, 9.999999e-5],
        np.float32,
    )
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    bits = bits[np.isfinite(bits)]
    mat = np.concatenate([special, bits])[: 16 * (len(bits) // 16)].reshape(-1, 16)
    with tbx.SummaryWriter(logdir) as w:
        w.add_embedding(mat)
    back = _read_tensor_tsv_file(str(logdir / "00000/default/tensors.tsv"))
    np.testing.assert_array_equal(back.view(np.uint32), mat.view(np.uint32))
    first = (logdir / "00000/default/tensors.tsv").read_text().split("\n")[0].split("\t")
    assert first[:4] == ["+0.00000000e+00", "-0.00000000e+00", "+1.00000000e+00",
                         "-1.00000000e+00"]


def test_metadata_rows_wider_than_a_one_name_header(tmp_path):
    import tbx

    w = tbx.SummaryWriter(tmp_path)
    with pytest.raises(ValueError, match=r"metadata\[0\] has 2 values but metadata_header has 1"):
        w.add_embedding(np.zeros((2, 3)), metadata=[["a", "b"], ["c", "d"]],
                        metadata_header=["name"])
    w.close()
    assert not list(tmp_path.glob("*/*/metadata.tsv"))
