"""``tbx export --kind images | audio | plugins``: each point's data as a file, listed in
OUT/index.csv (run, tag, step, wall_time, path); the files hold exactly what was logged."""

from __future__ import annotations

import csv
import io
import wave

import numpy as np
import pytest

import tbx
from tbx.cli import main

RNG = np.random.default_rng(5)
IMG = (RNG.random((3, 6, 7)) * 255).astype(np.uint8)
VID = (RNG.random((1, 3, 3, 4, 4)) * 255).astype(np.uint8)
SND = np.round(np.linspace(-1, 1, 50) * 32767) / 32767


@pytest.fixture
def logdir(tmp_path):
    from tbx.proto.summary_pb2 import Summary, SummaryMetadata
    from tbx.summary.tensor import numpy_to_tensor

    for run in ("a", "b/c"):
        w = tbx.SummaryWriter(tmp_path / "logs" / run)
        w.add_image("img/x", IMG, 1, walltime=10.5)
        w.add_image("img/x", IMG[::-1], 1, walltime=11.0)  # a second image at step 1
        w.add_images("batch", np.stack([IMG, IMG]), 2, walltime=12.0)
        w.add_video("vid", VID, 3, walltime=13.0)
        w.add_audio("snd", SND, 4, sample_rate=8000, walltime=14.0)
        w.add_scalar("loss", 1.0, 0)
        w.add_pr_curve("pr", np.array([1, 0]), np.array([0.9, 0.2]), 0)  # a known plugin
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="my_plugin", content=b"v1"))
        for step in (0, 5):
            w.file_writer.add_summary(Summary(value=[
                Summary.Value(tag="custom/blob", metadata=meta, tensor=numpy_to_tensor(
                    np.array([b"first %d" % step, b"\x00\xff"], dtype=object))),
                Summary.Value(tag="custom/mat", metadata=meta,
                              tensor=numpy_to_tensor(np.arange(6, dtype=np.int32).reshape(2, 3)
                                                     + step)),
            ]), step, walltime=20.0 + step)
        w.close()
    return tmp_path / "logs"


def _index(out):
    with open(out / "index.csv", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_export_images(logdir, tmp_path):
    from tbx.summary.image import decode_png
    from tbx.summary.video import decode_gif

    out = tmp_path / "imgs"
    assert main(["export", str(logdir), "-o", str(out), "--kind", "images", "-q"]) == 0
    header, rows = _index(out)
    assert header == ["run", "tag", "step", "wall_time", "path"]
    assert [r[:4] for r in rows if r[0] == "a"] == [
        ["a", "img/x", "1", "10.5"], ["a", "img/x", "1", "11.0"], ["a", "batch", "2", "12.0"],
        ["a", "vid", "3", "13.0"]]
    paths = {(r[0], r[1], r[3]): r[4] for r in rows}
    assert paths[("b/c", "img/x", "10.5")] == "b%2Fc/img%2Fx/1_0.png"
    assert paths[("b/c", "img/x", "11.0")] == "b%2Fc/img%2Fx/1_1.png"
    np.testing.assert_array_equal(
        decode_png((out / paths[("a", "img/x", "10.5")]).read_bytes()), IMG.transpose(1, 2, 0))
    np.testing.assert_array_equal(
        decode_png((out / paths[("a", "img/x", "11.0")]).read_bytes()),
        IMG[::-1].transpose(1, 2, 0))
    assert decode_png((out / paths[("a", "batch", "12.0")]).read_bytes()).shape == (6, 14, 3)
    vid = paths[("a", "vid", "13.0")]
    assert vid.endswith(".gif")
    np.testing.assert_array_equal(decode_gif((out / vid).read_bytes())[0],
                                  VID[0].transpose(0, 2, 3, 1))
    assert len(rows) == 8


def test_export_audio(logdir, tmp_path):
    out = tmp_path / "snd"
    assert main(["export", str(logdir), "-o", str(out), "--kind", "audio", "--run", "^a$",
                 "-q"]) == 0
    _, rows = _index(out)
    assert rows == [["a", "snd", "4", "14.0", "a/snd/4_0.wav"]]
    with wave.open(io.BytesIO((out / rows[0][4]).read_bytes())) as w:
        assert w.getframerate() == 8000
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    np.testing.assert_array_equal(pcm, np.rint(SND * 32767))


def test_export_unknown_plugins_as_raw_bytes(logdir, tmp_path):
    out = tmp_path / "raw"
    assert main(["export", str(logdir), "-o", str(out), "--kind", "plugins", "-q"]) == 0
    header, rows = _index(out)
    assert header == ["run", "tag", "step", "wall_time", "path", "plugin"]
    mine = [r for r in rows if r[0] == "a"]
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in mine] == [
        ("custom/blob", "0", "20.0", "a/custom%2Fblob/0_0.bin", "my_plugin"),
        ("custom/blob", "0", "20.0", "a/custom%2Fblob/0_1.bin", "my_plugin"),
        ("custom/blob", "5", "25.0", "a/custom%2Fblob/5_0.bin", "my_plugin"),
        ("custom/blob", "5", "25.0", "a/custom%2Fblob/5_1.bin", "my_plugin"),
        ("custom/mat", "0", "20.0", "a/custom%2Fmat/0_0.npy", "my_plugin"),
        ("custom/mat", "5", "25.0", "a/custom%2Fmat/5_0.npy", "my_plugin")]
    assert (out / "a/custom%2Fblob/5_0.bin").read_bytes() == b"first 5"
    assert (out / "a/custom%2Fblob/0_1.bin").read_bytes() == b"\x00\xff"
    mat = np.load(out / "a/custom%2Fmat/5_0.npy")
    assert mat.dtype == np.int32 and mat.tolist() == [[5, 6, 7], [8, 9, 10]]
    assert (out / "a/custom%2Fmat/plugin_content.bin").read_bytes() == b"v1"
    assert {r[1] for r in rows} == {"custom/blob", "custom/mat"}  # pr_curves is known


def test_export_file_kinds_bad_arguments(logdir, tmp_path, capsys):
    for argv, needle in [
        (["export", str(logdir), "-o", "-", "--kind", "images"], "needs a folder"),
        (["export", str(logdir), "-o", str(tmp_path / "o"), "--kind", "audio", "--format",
          "json"], "--format json does not apply"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert needle in err and err.startswith("tbx export: error: ")


def test_folder_names_cannot_escape():
    from tbx.export.files import _component

    assert _component("..") == "%2E%2E" and _component(".") == "%2E"
    assert _component("a/../b") == "a%2F..%2Fb" and _component("é x") == "%C3%A9%20x"


def test_export_images_of_a_tag_that_also_holds_scalars(tmp_path):
    """A tag may carry several kinds; each is exported with its own kind."""
    from tbx.summary.image import decode_png

    with tbx.SummaryWriter(tmp_path / "logs" / "r") as w:
        w.add_scalar("weights", 0.5, 0, walltime=1.0)  # the tag's first kind: scalars
        w.add_image("weights", IMG, 3, walltime=2.0)
    out = tmp_path / "imgs"
    assert main(["export", str(tmp_path / "logs"), "-o", str(out), "--kind", "images",
                 "-q"]) == 0
    header, rows = _index(out)
    assert rows == [["r", "weights", "3", "2.0", "r/weights/3_0.png"]]
    assert np.array_equal(decode_png((out / "r" / "weights" / "3_0.png").read_bytes()),
                          IMG.transpose(1, 2, 0))
