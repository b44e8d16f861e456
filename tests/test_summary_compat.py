"""tensorboardX's module-level API in tbx: ``tbx.summary.<function>``, ``tbx.x2num``,
``tbx.utils``, and ``FileWriter.add_summary``/``add_event`` taking any package's messages.

The documented examples of each function run against tbx and tensorboardX in the same test and
give Summaries equal field by field (PNG/GIF compared as decoded pixels, WAV as decoded
samples, tensors as decoded arrays); every exception is one of the documented differences of
:mod:`tbx.summary.compat`, asserted as such. TensorBoard's EventAccumulator reads the result.
"""

from __future__ import annotations

import inspect
import io
import logging
import subprocess
import sys
import wave

import numpy as np
import pytest
from conftest import event_files, read_events

import tbx
from tbx import summary
from tbx.proto.summary_pb2 import Summary
from tbx.summary.tensor import tensor_to_numpy

xs = pytest.importorskip("tensorboardX.summary")
xutils = pytest.importorskip("tensorboardX.utils")

RNG = np.random.default_rng(7)


def ours(msg):
    """Any package's Summary (or Summary.Image) as tbx's class, through its bytes."""
    if msg.DESCRIPTOR.name == "Image":
        return Summary.Image.FromString(msg.SerializeToString())
    return Summary.FromString(msg.SerializeToString())


def png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def pcm(data: bytes) -> tuple[np.ndarray, tuple]:
    with wave.open(io.BytesIO(data)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        return frames.reshape(-1, w.getnchannels()), (w.getnchannels(), w.getframerate())


def plugin_content(meta) -> dict:
    """The decoded plugin content of a SummaryMetadata (every field, as a dict)."""
    from google.protobuf.json_format import MessageToDict

    from tbx.proto.layout_pb2 import Layout  # noqa: F401 - custom scalars has no content
    from tbx.proto.plugin_hparams_pb2 import HParamsPluginData
    from tbx.proto.plugin_mesh_pb2 import MeshPluginData
    from tbx.proto.plugin_pr_curve_pb2 import PrCurvePluginData
    from tbx.proto.plugin_text_pb2 import TextPluginData

    cls = {"hparams": HParamsPluginData, "mesh": MeshPluginData, "pr_curves": PrCurvePluginData,
           "text": TextPluginData}.get(meta.plugin_data.plugin_name)
    content = meta.plugin_data.content
    return MessageToDict(cls.FromString(content)) if cls else {"raw": content}


def fields(value, image=png) -> dict:
    """One Value as a dict of plain values: payloads decoded, metadata content parsed."""
    out = {"tag": value.tag}
    if value.HasField("metadata"):
        m = value.metadata
        out["metadata"] = (m.display_name, m.summary_description, m.plugin_data.plugin_name,
                           plugin_content(m))
    which = value.WhichOneof("value")
    if which == "simple_value":
        out["simple_value"] = value.simple_value
    elif which == "histo":
        h = value.histo
        out["histo"] = (h.min, h.max, h.num, h.sum, h.sum_squares, list(h.bucket_limit),
                        list(h.bucket))
    elif which == "image":
        im = value.image
        out["image"] = (im.height, im.width, im.colorspace)
        out["pixels"] = image(im.encoded_image_string)
    elif which == "tensor":
        arr = tensor_to_numpy(value.tensor)
        out["tensor"] = (arr.dtype.str, arr.shape, arr.tolist())
    return out


def assert_same(got: Summary, want, tags=None, **kw):
    """Equal field by field; ``tags`` maps tbx's tags to tensorboardX's where they differ."""
    want = ours(want)
    assert len(got.value) == len(want.value)
    for a, b in zip(got.value, want.value, strict=True):
        fa, fb = fields(a, **kw), fields(b, **kw)
        if tags:
            fa["tag"] = tags[fa["tag"]]
        assert fa.keys() == fb.keys()
        for k in fa:
            if isinstance(fa[k], np.ndarray):
                np.testing.assert_array_equal(fa[k], fb[k], err_msg=k)
            else:
                assert fa[k] == fb[k], k


# ------------------------------------------------------------------------------ the package


def test_import_tbx_summary_is_light():
    code = ("import sys, tbx.summary; "
            "print(sorted(m for m in sys.modules if m.startswith(('tbx.summary.', 'PIL'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_kind_modules_are_callable_and_still_modules():
    import tbx.summary.scalar as scalar_module
    from tbx.summary import histogram as H

    assert inspect.ismodule(scalar_module) and scalar_module is summary.scalar
    assert scalar_module.scalar_summary("t", 1.0) == summary.scalar("t", 1.0)
    assert H.make_histogram(np.arange(3.0), 3).num == 3  # tbx's own make_histogram
    assert summary.make_histogram(np.arange(3.0), 3).num == 3  # tensorboardX's: a proto
    assert type(summary.make_histogram(np.arange(3.0), 3)).__name__ == "HistogramProto"
    for name in summary.CALLABLE_KINDS:
        assert inspect.ismodule(getattr(summary, name)) and callable(getattr(summary, name))
    assert set(summary.FUNCTIONS) <= set(dir(summary))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = summary.nope


@pytest.mark.parametrize("name", summary.FUNCTIONS)
def test_signatures_extend_tensorboardx(name):
    """tensorboardX's parameters, in its order, with its defaults; extras come after them."""
    theirs = list(inspect.signature(getattr(xs, name)).parameters.values())
    mine = list(inspect.signature(getattr(summary, name)).parameters.values())
    assert [(p.name, p.default) for p in mine[: len(theirs)]] == [
        (p.name, p.default) for p in theirs]
    assert all(p.default is not inspect.Parameter.empty for p in mine[len(theirs):])


def test_tensorboardx_reexports():
    from tbx.proto.summary_pb2 import HistogramProto, SummaryMetadata

    assert summary.Summary is Summary and summary.HistogramProto is HistogramProto
    assert summary.SummaryMetadata is SummaryMetadata
    assert summary.make_np([1, 2]).tolist() == [1, 2]
    assert summary.convert_to_HWC(np.zeros((2, 3)), "HW").shape == (2, 3, 3)


# --------------------------------------------------------------------- documented examples


def test_scalar():
    # tensorboardX's add_scalar example: writer.add_scalar('y=2x', i * 2, i); tensorboardX
    # rewrites the tag to 'y_2x', tbx keeps it as given (documented)
    for i in range(3):
        assert_same(summary.scalar("y=2x", i * 2), xs.scalar("y=2x", i * 2), {"y=2x": "y_2x"})
    assert_same(summary.scalar("loss", np.float32(0.25), "Loss", "the loss"),
                xs.scalar("loss", np.float32(0.25), "Loss", "the loss"))
    assert_same(summary.scalar("t", np.array([[1.5]])), xs.scalar("t", np.array([[1.5]])))
    v = summary.scalar("d", 0.1, new_style=True, double_precision=True).value[0]
    assert tensor_to_numpy(v.tensor).item() == 0.1 and v.metadata.plugin_data.plugin_name
    with pytest.raises(ValueError, match="scalar must be a single number"):
        summary.scalar("t", [1.0, 2.0])


@pytest.mark.parametrize("bins", ["auto", 10, "edges", "tensorflow"])
def test_histogram(bins):
    # tensorboardX's add_histogram example: x = np.random.random(1000); x + i
    x = RNG.random(1000)
    edges = tbx.summary.histogram.default_bucket_edges()
    theirs_bins = list(edges) if bins in ("edges", "tensorflow") else bins
    mine_bins = edges if bins == "edges" else bins
    for i in range(3):
        got = summary.histogram("distribution centers", x + i, mine_bins)
        want = ours(xs.histogram("distribution centers", x + i, theirs_bins))
        g, w = got.value[0].histo, want.value[0].histo
        assert (g.min, g.max, g.num, g.sum) == (w.min, w.max, w.num, w.sum)
        assert list(g.bucket_limit) == list(w.bucket_limit)
        assert list(g.bucket) == list(w.bucket)
        # tensorboardX sums squares with BLAS ddot, tbx with einsum: the last bit may differ
        assert g.sum_squares == pytest.approx(w.sum_squares, rel=1e-14)
    proto = summary.make_histogram(x, mine_bins)
    assert list(proto.bucket) == list(xs.make_histogram(x, theirs_bins).bucket)


def test_histogram_differences():
    with pytest.warns(RuntimeWarning, match="left out 1 non-finite"):
        h = summary.histogram("h", [1.0, np.nan, 2.0], 2).value[0].histo
    assert h.num == 2  # tensorboardX raises on NaN
    with pytest.raises(ValueError, match="no finite number"), pytest.warns(RuntimeWarning):
        summary.histogram("h", [np.nan], 2)


def test_histogram_raw():
    # tensorboardX's add_histogram_raw example
    dummy_data = []
    for idx, value in enumerate(range(50)):
        dummy_data += [idx + 0.001] * value
    values = np.array(dummy_data).astype(float).reshape(-1)
    counts, limits = np.histogram(values, bins=np.array(list(range(50 + 2))))
    args = dict(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                sum_squares=values.dot(values), bucket_limits=limits[1:].tolist(),
                bucket_counts=counts.tolist())
    assert_same(summary.histogram_raw("histogram_with_raw_data", **args),
                xs.histogram_raw("histogram_with_raw_data", **args))


def _doc_image():
    # tensorboardX's add_image example
    img = np.zeros((3, 100, 100))
    img[0] = np.arange(0, 10000).reshape(100, 100) / 10000
    img[1] = 1 - np.arange(0, 10000).reshape(100, 100) / 10000
    return img


def test_image():
    img = _doc_image()
    assert_same(summary.image("my_image", img), xs.image("my_image", img))
    hwc = img.transpose(1, 2, 0)
    assert_same(summary.image("my_image_HWC", hwc, dataformats="HWC"),
                xs.image("my_image_HWC", hwc, dataformats="HWC"))
    u8 = RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    assert_same(summary.image("u8", u8, dataformats="HWC"), xs.image("u8", u8, dataformats="HWC"))
    # the add_images example: a batch of 16, tiled 8 per row
    batch = np.zeros((16, 3, 100, 100))
    for i in range(16):
        batch[i, 0] = np.arange(0, 10000).reshape(100, 100) / 10000 / 16 * i
        batch[i, 1] = (1 - np.arange(0, 10000).reshape(100, 100) / 10000) / 16 * i
    assert_same(summary.image("my_image_batch", batch, dataformats="NCHW"),
                xs.image("my_image_batch", batch, dataformats="NCHW"))


def test_image_differences():
    gray = RNG.random((1, 6, 7))
    got, want = summary.image("g", gray), ours(xs.image("g", gray))
    assert got.value[0].image.colorspace == 1 and want.value[0].image.colorspace == 3
    ours_px, theirs_px = png(got.value[0].image.encoded_image_string), png(
        want.value[0].image.encoded_image_string)
    np.testing.assert_array_equal(np.stack([ours_px] * 3, -1), theirs_px)  # same gray levels
    # rescale: the same LANCZOS pixels; tbx's height/width are the PNG's
    img = RNG.random((3, 10, 12))
    got, want = summary.image("r", img, rescale=2), ours(xs.image("r", img, rescale=2))
    np.testing.assert_array_equal(png(got.value[0].image.encoded_image_string),
                                  png(want.value[0].image.encoded_image_string))
    assert (got.value[0].image.height, got.value[0].image.width) == (20, 24)
    assert (want.value[0].image.height, want.value[0].image.width) == (10, 12)
    with pytest.raises(ValueError, match="rescale must be a positive"):
        summary.image("r", img, rescale=0)


def _box_mask(shape, boxes, band=2, label=(16, 90)):
    """Pixels near a box's outline or in a label's area (above or inside the top/bottom)."""
    mask = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in np.asarray(boxes, int):
        mask[max(y0 - band, 0): y1 + band + 1, max(x0 - band, 0): x1 + band + 1] = True
        mask[y0 + band + 1: y1 - band, x0 + band + 1: x1 - band] = False
        for top in (y0 - label[0], y0, y1 - label[0]):
            mask[max(top - 2, 0): top + label[0] + 2, max(x0 - 2, 0): x0 + label[1]] = True
    return mask


def test_image_boxes_and_draw_boxes():
    # tensorboardX's demo: add_image_with_boxes('imagebox_label', torch.ones(3, 240, 240) * 0.5,
    # torch.Tensor([[10, 10, 100, 100], [101, 101, 200, 200]]), labels=[...])
    torch = pytest.importorskip("torch")
    img = torch.ones(3, 240, 240) * 0.5
    boxes = torch.Tensor([[10, 10, 100, 100], [101, 101, 200, 200]])
    labels = ["abcde0", "fgh0"]
    got = summary.image_boxes("imagebox_label", img, boxes, labels=labels).value[0]
    want = ours(xs.image_boxes("imagebox_label", img, boxes, labels=labels)).value[0]
    assert (got.tag, got.image.height, got.image.width, got.image.colorspace) == (
        want.tag, want.image.height, want.image.width, want.image.colorspace)
    a, b = png(got.image.encoded_image_string), png(want.image.encoded_image_string)
    keep = ~_box_mask(a.shape, boxes.numpy())
    np.testing.assert_array_equal(a[keep], b[keep])  # the image itself is the same
    red = (a[..., 0] == 255) & (a[..., 1] == 0)
    for x0, y0, x1, y1 in boxes.int().tolist():  # tbx's outline: 2 pixels inside each box
        assert red[y0:y0 + 2, x0:x1 + 1].all() and red[y0:y1 + 1, x1 - 1:x1 + 1].all()
    from PIL import Image

    base = (np.ones((60, 80, 3)) * 128).astype(np.uint8)
    box = np.array([[5.0, 20.0, 40.0, 50.0]])
    mine = np.asarray(summary.draw_boxes(Image.fromarray(base), box))
    theirs = np.asarray(xs.draw_boxes(Image.fromarray(base), box))
    keep = ~_box_mask(base.shape, box)
    np.testing.assert_array_equal(mine[keep], theirs[keep])
    assert (mine[20, 5:41] == (255, 0, 0)).all()
    with pytest.raises(TypeError, match="disp_image must be a PIL.Image"):
        summary.draw_boxes(base, box)


def test_make_image():
    u8 = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    got, want = summary.make_image(u8), ours(xs.make_image(u8))
    assert (got.height, got.width, got.colorspace) == (want.height, want.width, want.colorspace)
    np.testing.assert_array_equal(png(got.encoded_image_string), png(want.encoded_image_string))


def _tensorboardx_frames(vid, dataformats="NTCHW"):
    """The uint8 frames tensorboardX's video() encodes (before moviepy, absent here)."""
    v = xutils._prepare_video(xutils.convert_to_NTCHW(vid, dataformats))
    return v if v.dtype == np.uint8 else (v * 255.0).astype(np.uint8)


def gif(data: bytes) -> np.ndarray:
    from tbx.summary.video import decode_gif

    return decode_gif(data)[0]


@pytest.mark.parametrize("n", [1, 3])
def test_video(n):
    # tensorboardX's add_video: vid_tensor (N, T, C, H, W), floats in [0, 1]
    vid = RNG.random((n, 4, 3, 6, 5)).astype(np.float32)
    got = summary.video("video", vid, fps=4).value[0]
    frames = _tensorboardx_frames(vid)
    np.testing.assert_array_equal(gif(got.image.encoded_image_string), frames)
    assert (got.image.height, got.image.width, got.image.colorspace) == frames.shape[1:]
    img = summary.make_video(frames, 4)
    np.testing.assert_array_equal(gif(img.encoded_image_string), frames)
    thwc = np.moveaxis(vid, 2, -1)
    assert summary.video("v", thwc, dataformats="NTHWC") == summary.video("v", vid)


def test_audio():
    pytest.importorskip("soundfile")  # tensorboardX's audio() writes WAV through soundfile
    snd = np.sin(np.linspace(0, 100, 2000))
    snd[:3] = (1.0, -1.0, 0.0)
    got = summary.audio("snd", snd, sample_rate=8000).value[0]
    want = ours(xs.audio("snd", snd, sample_rate=8000)).value[0]
    a, b = got.audio, want.audio
    assert (got.tag, a.sample_rate, a.num_channels, a.length_frames, a.content_type) == (
        want.tag, b.sample_rate, b.num_channels, b.length_frames, b.content_type)
    pa, fa = pcm(a.encoded_audio_string)
    pb, fb = pcm(b.encoded_audio_string)
    assert fa == fb == (1, 8000)
    # documented difference: tbx round(x * 32767), tensorboardX floor(x * 32768) (soundfile)
    np.testing.assert_array_equal(pa[:, 0], np.rint(snd * 32767))
    np.testing.assert_array_equal(pb[:, 0], np.clip(np.floor(snd * 32768), -32768, 32767))
    np.testing.assert_allclose(pa / 32767, pb / 32768, atol=1.5 / 32767)
    stereo = np.stack([snd, -snd], 1)[:100] * 0.5
    assert summary.audio("s", stereo).value[0].audio.num_channels == 2


def test_text():
    # tensorboardX's add_text example: writer.add_text('lstm', 'This is an lstm', 0)
    assert_same(summary.text("lstm", "This is an lstm"), xs.text("lstm", "This is an lstm"))
    assert_same(summary.text("rnn", "This is an rnn ünïcode"),
                xs.text("rnn", "This is an rnn ünïcode"))


def test_pr_curve_and_compute_curve():
    # tensorboardX's add_pr_curve example
    labels = RNG.integers(2, size=100)
    predictions = RNG.random(100)
    assert_same(summary.pr_curve("pr_curve", labels, predictions),
                xs.pr_curve("pr_curve", labels, predictions))
    weights = RNG.random(100)
    assert_same(summary.pr_curve("w", labels, predictions, 33, weights),
                xs.pr_curve("w", labels, predictions, 33, weights))
    curve = summary.compute_curve(labels, predictions, 127)
    np.testing.assert_array_equal(curve, xs.compute_curve(labels, predictions, 127))
    assert summary.compute_curve(labels, predictions).shape == (6, 127)
    tp, fp, tn, fn, precision, recall = curve
    assert_same(summary.pr_curve_raw("raw", tp, fp, tn, fn, precision, recall),
                xs.pr_curve_raw("raw", tp, fp, tn, fn, precision, recall))
    # documented difference: no cap at 127 thresholds
    assert summary.pr_curve("big", labels, predictions, 500).value[0].tensor.tensor_shape.dim[
        1].size == 500


def test_custom_scalars():
    # tensorboardX's add_custom_scalars example
    layout = {"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
              "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]],
                      "nasdaq": ["Margin", ["nasdaq/aaa", "nasdaq/bbb", "nasdaq/ccc"]]}}
    assert_same(summary.custom_scalars(layout), xs.custom_scalars(layout))


def _without_null_tensor(s: Summary) -> Summary:
    """tbx's hparams Values carry TensorBoard's empty [0] float tensor (documented)."""
    s = Summary.FromString(s.SerializeToString())
    for v in s.value:
        assert tensor_to_numpy(v.tensor).shape == (0,)
        v.ClearField("tensor")
    return s


def test_hparams():
    # tensorboardX's add_hparams example, and the "same run" recipe
    for i in range(3):
        hp = {"lr": 0.1 * i, "bsize": i}
        metrics = {"hparam/accuracy": 10 * i, "hparam/loss": 10 * i}
        for a, b in zip(summary.hparams(hp, metrics), xs.hparams(hp, metrics), strict=True):
            assert_same(_without_null_tensor(a), b)
    hp = {"opt": "adam", "nesterov": True, "act": np.tanh, "dropout": None, "n": 3}
    for a, b in zip(summary.hparams(hp, {"m": None}), xs.hparams(hp, {"m": None}), strict=True):
        assert_same(_without_null_tensor(a), b)
    # documented difference: numpy scalars are numbers (tensorboardX: type UNSET, no value)
    from tbx.summary.hparams import decode

    ssi = summary.hparams({"n": np.int64(3)}, {})[1].value[0]
    assert decode(ssi).data["hparams"] == {"n": 3.0}
    # documented difference: other values are recorded as str() (tensorboardX: UNSET, no value)
    ssi = summary.hparams({"l": [1, 2]}, {})[1].value[0]
    assert decode(ssi).data["hparams"] == {"l": "[1, 2]"}


def test_hparams_domain_discrete_like_torch():
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData as TbData

    tb = pytest.importorskip("torch.utils.tensorboard.summary")
    hp = {"lr": 0.1, "opt": "adam"}
    domains = {"lr": [0.1, 0.01], "opt": ["adam", "sgd"]}
    exp = summary.hparams(hp, {"acc": 1}, hparam_domain_discrete=domains)[0]
    want = tb.hparams(hp, {"acc": 1}, hparam_domain_discrete=domains)[0]
    a = TbData.FromString(exp.value[0].metadata.plugin_data.content)
    b = TbData.FromString(want.value[0].metadata.plugin_data.content)
    assert a == b
    with pytest.raises(ValueError, match="not in hparam_dict"):
        summary.hparams(hp, {}, hparam_domain_discrete={"x": [1]})
    with pytest.raises(TypeError, match="same kind"):
        summary.hparams(hp, {}, hparam_domain_discrete={"lr": ["a"]})
    with pytest.raises(TypeError, match="hparam_dict must be a dict"):
        summary.hparams(None, {})


def test_mesh():
    # tensorboardX's add_mesh example (a tetrahedron)
    torch = pytest.importorskip("torch")
    vertices = torch.as_tensor([[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]],
                               dtype=torch.float).unsqueeze(0)
    colors = torch.as_tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]],
                             dtype=torch.int).unsqueeze(0)
    faces = torch.as_tensor([[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]],
                            dtype=torch.int).unsqueeze(0)
    config = {"camera": {"cls": "PerspectiveCamera", "fov": 75}}
    got = summary.mesh("my_mesh", vertices, colors, faces, config)
    want = ours(xs.mesh("my_mesh", vertices, colors, faces, config))
    kinds = {1: "VERTEX", 2: "FACE", 3: "COLOR"}
    by_type = {}
    for v in want.value:
        by_type[plugin_content(v.metadata)["contentType"]] = v
    assert len(got.value) == len(want.value) == 3
    for v in got.value:
        meta = plugin_content(v.metadata)
        w = by_type[meta["contentType"]]
        wmeta = plugin_content(w.metadata)
        # documented differences: TensorBoard's tag suffixes, dtypes and components bitmask
        assert v.tag == f"my_mesh_{meta['contentType']}"
        assert w.tag == f"my_mesh_{[k for k, n in kinds.items() if n == meta['contentType']][0]}"
        assert meta.pop("components") == 0b1110 and "components" not in wmeta
        assert meta == wmeta
        np.testing.assert_array_equal(tensor_to_numpy(v.tensor), tensor_to_numpy(w.tensor))
    labelled = summary.mesh("m", vertices, None, None, display_name="M", description="d")
    assert [(v.metadata.display_name, v.metadata.summary_description)
            for v in labelled.value] == [("M", "d")]


# -------------------------------------------------------------------- x2num and utils


def test_make_np(caplog):
    from tensorboardX.x2num import make_np as their_make_np

    from tbx.x2num import UnsupportedInputError, make_np

    torch = pytest.importorskip("torch")
    for x in ([1, 2, 3], np.arange(4.0).reshape(2, 2), 3.5, np.float32(2), torch.arange(3.0)):
        a, b = make_np(x), their_make_np(x)
        assert a.dtype == b.dtype and a.tolist() == b.tolist()
    assert make_np(torch.ones(2, requires_grad=True)).tolist() == [1, 1]  # tensorboardX fails
    assert make_np(torch.ones(2, dtype=torch.bfloat16)).tolist() == [1, 1]
    with caplog.at_level(logging.WARNING, "tbx.x2num"):
        make_np([1.0, np.nan])
    assert "NaN or Inf found in input tensor." in caplog.text
    with pytest.raises(NotImplementedError):
        make_np({"a": 1})
    with pytest.raises(UnsupportedInputError, match="must be a number, array or tensor"):
        make_np(None)


def test_utils_equal_tensorboardx():
    from tbx import utils

    chw = RNG.integers(0, 256, (3, 4, 5), dtype=np.uint8)
    cases = [(chw, "CHW"), (chw.transpose(1, 2, 0), "HWC"), (chw[:1], "CHW"), (chw[0], "HW"),
             (RNG.random((10, 3, 4, 5)), "NCHW"), (RNG.random((3, 4, 5, 1)), "NHWC"),
             (RNG.random((2, 4, 5, 4)), "NHWC")]
    for arr, fmt in cases:
        a, b = utils.convert_to_HWC(arr, fmt), xutils.convert_to_HWC(arr, fmt)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    batch = RNG.random((11, 1, 3, 2))
    for ncols in (1, 4, 8, 20):
        np.testing.assert_array_equal(utils.make_grid(batch, ncols),
                                      xutils.make_grid(batch, ncols))
    vid = RNG.random((2, 3, 4, 5, 1))
    np.testing.assert_array_equal(utils.convert_to_NTCHW(vid, "NTHWC"),
                                  xutils.convert_to_NTCHW(vid, "NTHWC"))
    with pytest.raises(ValueError, match="has 3 dimensions but input_format 'HW' has 2"):
        utils.convert_to_HWC(chw, "HW")
    with pytest.raises(ValueError, match="input_format must name each axis once"):
        utils.convert_to_HWC(chw, "CCW")
    with pytest.raises(TypeError, match="I must be a numpy array"):
        utils.make_grid([[1]])


def test_figure_to_image_equals_tensorboardx():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from tbx import utils

    def fig():
        f = Figure(figsize=(2, 1.5), dpi=50)
        f.add_subplot().plot([0, 1, 0.3])
        return f

    a, b = utils.figure_to_image(fig()), xutils.figure_to_image(fig())
    assert a.shape == (3, 75, 100) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    both = utils.figure_to_image([fig(), fig()])
    np.testing.assert_array_equal(both, xutils.figure_to_image([fig(), fig()]))


# ------------------------------------------------------------ FileWriter takes any message


def test_file_writer_takes_messages_of_every_package(logdir):
    import tensorboardX
    from tensorboard.compat.proto import event_pb2 as tb_event
    from tensorboard.compat.proto import summary_pb2 as tb_summary  # torch's classes

    from tbx.proto.event_pb2 import Event

    fw = tbx.FileWriter(logdir)
    fw.add_summary(summary.scalar("tbx", 1.0), 1, walltime=10.0)
    fw.add_summary(xs.scalar("tensorboardX", 2.0), 2, walltime=11.0)
    theirs = tb_summary.Summary(value=[tb_summary.Summary.Value(tag="torch", simple_value=3.0)])
    fw.add_summary(theirs, 3, walltime=12.0)
    fw.add_summary(theirs.SerializeToString(), 4, walltime=13.0)  # TensorFlow 1's bytes

    class TensorFlowSummary:  # a stand-in: tf.compat.v1.Summary, duck-typed, not imported
        class DESCRIPTOR:
            name, full_name = "Summary", "tensorflow.Summary"

        def SerializeToString(self):  # noqa: N802 - protobuf's name
            return theirs.SerializeToString()

    fw.add_summary(TensorFlowSummary(), 7, walltime=13.5)
    event = tb_event.Event(summary=theirs, step=99)
    fw.add_event(event, walltime=14.0)  # keeps its own step
    fw.add_event(tensorboardX.proto.event_pb2.Event(summary=xs.scalar("x", 5.0)), 6, 15.0)
    assert event.wall_time == 0.0  # never changed
    for bad, exc, match in [({"value": 1}, TypeError, "summary must be a Summary protobuf"),
                            (event, TypeError, "got tensorboard.*Event"),
                            (b"\xff\xff", ValueError, "not a Summary message")]:
        with pytest.raises(exc, match=match):
            fw.add_summary(bad)
    with pytest.raises(TypeError, match="event must be an Event"):
        fw.add_event(theirs)
    fw.close()
    events = [e for e in read_events(event_files(logdir)[0]) if e.HasField("summary")]
    assert all(isinstance(e, Event) for e in events)
    assert [(e.summary.value[0].tag, e.step, e.wall_time, e.summary.value[0].simple_value)
            for e in events] == [("tbx", 1, 10.0, 1.0), ("tensorboardX", 2, 11.0, 2.0),
                                 ("torch", 3, 12.0, 3.0), ("torch", 4, 13.0, 3.0),
                                 ("torch", 7, 13.5, 3.0),
                                 ("torch", 99, 14.0, 3.0), ("x", 6, 15.0, 5.0)]


def test_tensorboard_reads_the_summaries(tmp_path):
    """The recipe users port: summaries built by the module-level API, written by the
    SummaryWriter's FileWriter; TensorBoard's EventAccumulator reads every kind."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    w = tbx.SummaryWriter(tmp_path)
    exp, ssi, sei = summary.hparams({"lr": 0.1, "opt": "adam"}, {"hparam/acc": 0})
    fw = w.file_writer
    for s in (exp, ssi, sei):
        fw.add_summary(s)
    labels, predictions = RNG.integers(2, size=50), RNG.random(50)
    kinds = [summary.scalar("s", 0.5), summary.histogram("h", np.arange(10.0), "tensorflow"),
             summary.image("i", _doc_image()), summary.audio("a", np.zeros(8), 8000),
             summary.text("t", "hi"), summary.pr_curve("p", labels, predictions),
             summary.video("v", RNG.random((1, 2, 3, 4, 4))),
             summary.custom_scalars({"c": {"x": ["Multiline", ["s"]]}}),
             summary.mesh("m", RNG.random((1, 5, 3)), None, None)]
    for step, s in enumerate(kinds):
        fw.add_summary(s, step)
    w.close()
    acc = EventAccumulator(str(tmp_path), size_guidance={k: 0 for k in (
        "scalars", "histograms", "images", "audio", "tensors")})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["s"] and tags["histograms"] == ["h"]
    assert sorted(tags["images"]) == ["i", "v"] and tags["audio"] == ["a"]
    assert acc.Scalars("s")[0].value == 0.5
    assert acc.Histograms("h")[0].histogram_value.num == 10
    assert png(acc.Images("i")[0].encoded_image_string).shape == (100, 100, 3)
    assert acc.Audio("a")[0].sample_rate == 8000
    assert tensor_util.make_ndarray(acc.Tensors("t/text_summary")[0].tensor_proto).tolist() == [
        b"hi"]
    pr = tensor_util.make_ndarray(acc.Tensors("p")[0].tensor_proto)
    np.testing.assert_array_equal(pr, summary.compute_curve(labels, predictions).astype(np.float32))
    assert set(acc.PluginTagToContent("hparams")) == {
        "_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    assert "custom_scalars__config__" in acc.PluginTagToContent("custom_scalars")
    assert list(acc.PluginTagToContent("mesh")) == ["m_VERTEX"]


def test_file_writer_graph_events_equal_tensorboardx(tmp_path):
    import tensorboardX
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef

    graph = GraphDef(node=[NodeDef(name="x", op="Const"), NodeDef(name="y", op="Add",
                                                                  input=["x"])])
    stats = GraphDef(node=[NodeDef(name="stats")])  # any message: written as bytes
    for name, cls in (("ours", tbx.FileWriter), ("theirs", tensorboardX.FileWriter)):
        fw = cls(str(tmp_path / name))
        fw.add_graph((graph, stats), walltime=5.0)
        fw.add_onnx_graph(graph, walltime=6.0)
        fw.add_openvino_graph(graph, walltime=7.0)
        fw.close()
    ours, theirs = (read_events(event_files(tmp_path / n)[0])[1:] for n in ("ours", "theirs"))
    assert [e.SerializeToString() for e in ours] == [e.SerializeToString() for e in theirs]
    assert ours[0].graph_def == graph.SerializeToString()
    assert ours[1].tagged_run_metadata.tag == "profiler"
    with pytest.raises(TypeError, match="graph_profile must be a"):
        tbx.FileWriter(tmp_path / "bad").add_graph(graph)
