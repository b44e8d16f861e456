"""``tbx demo``: the NumPy MLP, and a short run of the demo checked with tbx's reader.

The demo runs once per module (``tbx demo --no-serve --epochs 1`` into a temp dir, through
:func:`tbx.cli.main`); each test checks one kind of data in it.
"""

from __future__ import annotations

import io
import math
import os
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the demo needs scikit-learn (tbx[demo])")
pytest.importorskip("matplotlib", reason="the demo needs matplotlib (tbx[demo])")
pytest.importorskip("PIL", reason="the demo needs Pillow (tbx[demo])")
pytest.importorskip("pandas", reason="the reader's DataFrames need pandas")

from tbx import read  # noqa: E402
from tbx.cli import main as cli_main  # noqa: E402
from tbx.demo.mlp import MLP, Adam, cross_entropy, softmax  # noqa: E402
from tbx.demo.run import DemoConfig, run_name  # noqa: E402

LRS = DemoConfig().learning_rates
RUNS = [run_name(lr) for lr in LRS]
N_VAL = 360  # 20% of 1,797, stratified
N_TRAIN = 1797 - N_VAL
STEPS = math.ceil(N_TRAIN / DemoConfig().batch_size)  # one epoch

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


# ---------------------------------------------------------------------------- the MLP


def test_mlp_gradients_match_finite_differences():
    mlp = MLP((5, 4, 3, 3), seed=1)
    mlp.params = {k: v.astype(np.float64) for k, v in mlp.params.items()}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    _, _, grads = mlp.loss_and_grads(x, y)
    eps = 1e-6
    for name, p in mlp.params.items():
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = cross_entropy(softmax(mlp.forward(x)[0]), y)
            p[i] = old - eps
            down = cross_entropy(softmax(mlp.forward(x)[0]), y)
            p[i] = old
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], num, atol=1e-7, err_msg=name)


def test_mlp_shapes_and_dtypes():
    mlp = MLP((64, 16, 10), seed=0)
    x = np.zeros((3, 64), np.float32)
    logits, acts = mlp.forward(x)
    assert logits.shape == (3, 10) and logits.dtype == np.float32
    assert [a.shape for a in acts] == [(3, 64), (3, 16)]
    assert mlp.hidden(x).shape == (3, 16)
    np.testing.assert_allclose(mlp.predict_proba(x).sum(1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="sizes"):
        MLP((64,))


def test_adam_fits_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    mlp = MLP((2, 8, 2), seed=0)
    opt = Adam(mlp.params)
    first = mlp.loss_and_grads(x, y)[0]
    for _ in range(200):
        loss, _, grads = mlp.loss_and_grads(x, y)
        opt.step(grads, 0.05)
    assert loss < first / 5
    assert (mlp.predict_proba(x).argmax(1) == y).mean() > 0.95
    assert all(v.dtype == np.float32 for v in mlp.params.values())


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed")
def test_torch_equivalent_computes_the_same_logits():
    import torch

    from tbx.demo.run import torch_equivalent

    mlp = MLP((64, 64, 32, 10), seed=3)
    x = np.random.default_rng(1).random((5, 64), dtype=np.float32)
    with torch.no_grad():
        out = torch_equivalent(mlp)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, mlp.forward(x)[0], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("demo") / "runs"
    status = cli_main(["demo", "--no-serve", "--epochs", "1", "--logdir", str(logdir)])
    assert status == 0
    return logdir


@pytest.fixture(scope="module")
def data(demo_logdir):
    return read(demo_logdir)


def test_one_run_per_learning_rate(data):
    assert data.runs == sorted(RUNS)


def _scalar(data, run, tag):
    s = data.scalar_series(run, tag)
    assert len(s) > 0, (run, tag)
    assert np.isfinite(s.value).all(), (run, tag)
    return s


def test_training_scalars(data):
    for lr, run in zip(LRS, RUNS, strict=True):
        loss = _scalar(data, run, "train/loss")
        assert loss.step.tolist() == list(range(STEPS))
        assert loss.value[:10].mean() > 1.5  # about ln(10) = 2.3 at the start
        assert loss.value[-10:].mean() < 0.5 * loss.value[:10].mean()  # decreasing
        acc = _scalar(data, run, "train/accuracy")
        assert ((acc.value >= 0) & (acc.value <= 1)).all()
        assert acc.value[-10:].mean() > acc.value[:10].mean()
        lrs = _scalar(data, run, "train/lr")
        assert (lrs.value > 0).all() and lrs.value.max() == pytest.approx(lr)
        assert lrs.value[-1] < lrs.value.max()  # cosine decay
        gn = _scalar(data, run, "train/grad_norm")
        assert (gn.value > 0).all() and len(gn) == STEPS
        for layer in ("fc1", "fc2", "fc3"):
            layer_norm = _scalar(data, run, f"grad_norm/{layer}")
            assert (layer_norm.value <= gn.value * (1 + 1e-6)).all()


def test_validation_and_epoch_scalars(data):
    for run in RUNS:
        val_loss = _scalar(data, run, "val/loss")
        val_acc = _scalar(data, run, "val/accuracy")
        assert val_loss.step.tolist() == sorted({*range(0, STEPS, 10), STEPS})
        assert val_loss.value[-1] < 0.5 * val_loss.value[0]  # from about ln(10) = 2.3
        assert val_acc.value[0] < 0.5
        assert val_acc.value[-1] > 0.8, run  # above 80% after one epoch
        for tag in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            s = _scalar(data, run, f"epoch/{tag}")
            assert s.step.tolist() == [1]
        assert _scalar(data, run, "epoch/val_accuracy").value[-1] == val_acc.value[-1]


def test_histograms_per_layer(data):
    h = data.histograms
    sizes = {"fc1": (64, 64), "fc2": (64, 32), "fc3": (32, 10)}
    for run in RUNS:
        hr = h[h.run == run]
        for layer, (d_in, d_out) in sizes.items():
            w = hr[hr.tag == f"weights/{layer}.weight"]
            assert w.step.tolist() == [0, STEPS]
            assert (w.num == d_in * d_out).all()
            assert (hr[hr.tag == f"weights/{layer}.bias"].num == d_out).all()
            g = hr[hr.tag == f"grads/{layer}.weight"]
            assert g.step.tolist() == [STEPS] and g.num.iloc[0] == d_in * d_out
            assert g["sum_squares"].iloc[0] > 0
        for layer, width in (("fc1", 64), ("fc2", 32)):
            a = hr[hr.tag == f"activations/{layer}"]
            assert (a.num == N_VAL * width).all() and (a["min"] >= 0).all()  # ReLU


def _png(blob: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(blob))


def test_images(data):
    im = data.images
    for run in RUNS:
        ir = im[im.run == run]
        samples = ir[ir.tag == "inputs/train_samples"]
        assert samples.step.tolist() == [0]
        # 32 digits with a 1-pixel border, upscaled 4x to 40x40, tiled 8 per row: 4 rows
        assert (samples.width.iloc[0], samples.height.iloc[0]) == (8 * 40, 4 * 40)
        png = _png(samples.image.iloc[0])
        assert png.size == (320, 160) and png.mode == "L"
        pixels = np.asarray(png)
        assert pixels.max() == 255 and pixels.min() == 0
        assert (pixels[:4] == 0).all() and (pixels[:, :4] == 0).all()  # the black border
        for tag in ("val/confusion_matrix", "val/misclassified"):
            fig = ir[ir.tag == tag]
            assert fig.step.tolist() == [STEPS], tag
            png = _png(fig.image.iloc[0])
            assert png.size == (fig.width.iloc[0], fig.height.iloc[0])
            assert png.mode in ("RGB", "RGBA") and min(png.size) > 100
            assert np.asarray(png).std() > 10  # something is drawn


def test_pr_curves_per_class(data, demo_logdir):
    from tbx.demo.run import load_digits_data

    y_val = load_digits_data().y_val
    pr = data.pr_curves
    for run in RUNS:
        pr_run = pr[pr.run == run]
        assert sorted(pr_run.tag.astype(str)) == sorted(f"pr/digit_{k}" for k in range(10))
        for _, row in pr_run.iterrows():
            k = int(str(row.tag).rsplit("_", 1)[1])
            positives = int((y_val == k).sum())
            np.testing.assert_allclose(row.true_positives + row.false_negatives, positives)
            np.testing.assert_allclose(row.false_positives + row.true_negatives, N_VAL - positives)
            assert row.recall[0] == pytest.approx(1.0)
            p = row.precision[row.true_positives + row.false_positives > 0]
            assert ((p >= 0) & (p <= 1)).all()
            assert row.step == STEPS


def test_text_config(data):
    t = data.text
    for run, lr in zip(RUNS, LRS, strict=True):
        text = t[(t.run == run) & (t.tag == "config/text_summary")].text.tolist()
        assert len(text) == 1
        assert "learning rate" in text[0] and f"{lr:g}" in text[0] and "digits" in text[0]


def test_one_hparams_session_per_run(data):
    hp = data.hparams.set_index("run")
    assert sorted(hp.index) == sorted(RUNS)
    for run, lr in zip(RUNS, LRS, strict=True):
        assert data.tags[run]["_hparams_/session_start_info"].count == 1
        assert data.tags[run]["_hparams_/experiment"].count == 1
        assert hp.loc[run, "lr"] == pytest.approx(lr)
        assert hp.loc[run, "epochs"] == 1 and hp.loc[run, "optimizer"] == "adam"
        final = data.scalar_series(run, "epoch/val_accuracy").value[-1]
        assert hp.loc[run, "hparam/val_accuracy"] == pytest.approx(final)
        assert hp.loc[run, "hparam/val_accuracy"] > 0.8
        assert 0 < hp.loc[run, "hparam/val_loss"] < 1


def test_embedding_with_labels_and_sprite(demo_logdir):
    from PIL import Image

    from tbx.summary.embedding import read_projector_config

    for run in RUNS:
        folder = os.path.join(demo_logdir, run)
        config = read_projector_config(folder)
        assert len(config.embeddings) == 1
        emb = config.embeddings[0]
        assert emb.tensor_name.startswith("val_hidden")
        assert list(emb.tensor_shape) == [N_VAL, 32]
        rows = np.loadtxt(os.path.join(folder, emb.tensor_path), delimiter="\t", ndmin=2)
        assert rows.shape == (N_VAL, 32) and (rows >= 0).all()  # ReLU features
        with open(os.path.join(folder, emb.metadata_path), encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert lines[0] == "digit\tpredicted" and len(lines) == N_VAL + 1
        labels = [int(line.split("\t")[0]) for line in lines[1:]]
        assert sorted(set(labels)) == list(range(10))
        assert list(emb.sprite.single_image_dim) == [8, 8]
        sprite = Image.open(os.path.join(folder, emb.sprite.image_path))
        side = math.ceil(math.sqrt(N_VAL)) * 8
        assert sprite.size == (side, side)


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed: the demo logs no graph")
def test_model_graph(data, demo_logdir):
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from conftest import read_logdir_events

    from tbx.proto.graph_pb2 import GraphDef

    for run in RUNS:
        assert data.tags[run]["__run_graph__"].plugin_name == "graphs"
        graphs = [e.graph_def for e in read_logdir_events(demo_logdir / run) if e.graph_def]
        assert len(graphs) == 1
        names = " ".join(n.name for n in GraphDef.FromString(graphs[0]).node)
        for layer in ("fc1", "fc2", "fc3", "relu1", "relu2"):
            assert layer in names


def test_meshes(demo_logdir):
    """The point cloud of the validation features (one point per digit, coloured by class,
    unit RMS) and the loss surface (a 25 x 25 grid of triangles, heights spanning [-1, 1])."""
    from tbx.demo.geometry import CLASS_COLORS
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.plugins.mesh.frames import mesh_frame, mesh_list

    p = LogdirProvider(demo_logdir)
    p.refresh()
    for run in RUNS:
        meshes = mesh_list(p, run)
        assert meshes["val/hidden_3d"]["steps"] == [STEPS]
        assert meshes["val/hidden_3d"]["components"] == ["VERTEX", "COLOR"]
        cloud = mesh_frame(p, run, "val/hidden_3d")
        assert cloud.vertices.shape == (N_VAL, 3)
        assert np.sqrt((cloud.vertices.astype(np.float64) ** 2).sum(1).mean()) == \
            pytest.approx(1, rel=1e-5)
        colors = {tuple(c) for c in cloud.colors.tolist()}
        assert colors == {tuple(c) for c in CLASS_COLORS.tolist()}
        surface = mesh_frame(p, run, "val/loss_surface")
        assert surface.vertices.shape == (625, 3) and surface.faces.shape == (1152, 3)
        assert surface.vertices[:, 2].min() == -1 and surface.vertices[:, 2].max() == 1
        assert surface.components == ("VERTEX", "FACE", "COLOR")


def test_custom_scalars_layout(data):
    from tbx.proto.layout_pb2 import Layout

    t = data.tensors
    for run in RUNS:
        rows = t[(t.run == run) & (t.tag == "custom_scalars__config__")]
        assert rows.plugin.tolist() == ["custom_scalars"]
        layout = Layout.FromString(rows.value.iloc[0].item())
        charts = {c.title: list(c.multiline.tag) for cat in layout.category for c in cat.chart}
        assert charts["loss"] == ["^train/loss$", "^val/loss$"]
        assert charts["norm per layer"] == ["^grad_norm/"]


def test_tensorboard_reads_every_kind(demo_logdir):
    """The official TensorBoard sees the same kinds in every run."""
    acc_mod = pytest.importorskip(
        "tensorboard.backend.event_processing.plugin_event_accumulator"
    )
    for run in RUNS:
        acc = acc_mod.EventAccumulator(str(demo_logdir / run), size_guidance={"tensors": 0})
        acc.Reload()
        counts = {p: len(acc.PluginTagToContent(p)) for p in acc.ActivePlugins()}
        assert counts["scalars"] == 17
        assert counts["histograms"] == 14  # 6 weights, 6 grads, 2 activations
        assert counts["images"] == 3
        assert counts["pr_curves"] == 10
        assert counts["text"] == 1 and counts["custom_scalars"] == 1
        assert counts["hparams"] == 3  # experiment, session start, session end
        assert counts["mesh"] == 5  # point cloud: vertices, colours; surface: + faces
        if HAVE_TORCH:
            assert acc.Graph() is not None
        loss = [e.tensor_proto.float_val[0] for e in acc.Tensors("train/loss")]
        assert len(loss) == STEPS


# ---------------------------------------------------------------------------- the command


def test_existing_runs_need_overwrite(demo_logdir, capsys, tmp_path):
    logdir = tmp_path / "again"
    args = ["demo", "--no-serve", "--no-graph", "--epochs", "1", "--lr", "0.01"]
    assert cli_main([*args, "--logdir", str(logdir)]) == 0
    capsys.readouterr()
    assert cli_main([*args, "--logdir", str(logdir)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli_main([*args, "--logdir", str(logdir), "--overwrite"]) == 0
    assert len(os.listdir(logdir / "lr_0.01")) >= 1
    assert len([f for f in os.listdir(logdir / "lr_0.01") if "tfevents" in f]) == 1
    assert "Done in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs: expected a positive whole number"),
        (["--epochs", "x"], "--epochs: expected a positive whole number"),
        (["--lr", "0.1,-1"], "--lr: learning rates must be positive"),
        (["--lr", "fast"], "--lr: expected comma-separated learning rates"),
        (["--lr", "0.1,0.1"], "--lr: learning rates must differ"),
        (["--port", "70000"], "--port: expected a port in 0..65535"),
        (["--pace", "-1"], "--pace: expected a number of seconds >= 0"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["demo", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_viewer_process_serves_the_logdir(tmp_path):
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    import json
    import urllib.request

    from tbx import SummaryWriter
    from tbx.demo.run import ViewerProcess

    with SummaryWriter(str(tmp_path / "run")) as w:
        w.add_scalar("x", 1.0, 0)
    viewer = ViewerProcess.start(str(tmp_path), port=0)
    try:
        assert viewer.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(viewer.url + "api/runs", timeout=30) as r:
            body = json.loads(r.read())
        assert "run" in json.dumps(body)
    finally:
        viewer.stop()
    assert viewer.proc.poll() is not None


def test_viewer_failure_is_reported(tmp_path):
    from tbx.demo.run import ViewerProcess

    with pytest.raises(RuntimeError, match="viewer did not start"):
        ViewerProcess.start(str(tmp_path / "missing"), port=0, timeout=30)


def test_without_torch_the_graph_is_skipped(monkeypatch):
    from tbx.demo.train import _torch_graph_factory

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    said: list[str] = []
    assert _torch_graph_factory(True, said.append) is None
    assert said == ["torch is not installed: the model graph is skipped"]
    assert _torch_graph_factory(False, said.append) is None and len(said) == 1


def test_without_scikit_learn_the_message_says_what_to_install(monkeypatch):
    from tbx.demo.run import load_digits_data

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "tbx\[demo\]"'):
        load_digits_data()


def test_without_the_viewer_the_demo_still_trains(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a)
    )
    args = ["demo", "--epochs", "1", "--no-graph", "--lr", "0.01", "--port", "0"]
    assert cli_main([*args, "--logdir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "the viewer is not installed (uvicorn missing)" in captured.err
    assert 'pip install "tbx[viewer]"' in captured.err
    assert "training without the live view" in captured.err
    assert "View it with: tbx serve" in captured.out
    assert read(tmp_path).runs == ["lr_0.01"]


def test_the_viewer_stops_when_the_demo_is_killed(tmp_path):
    """``tbx demo`` killed outright (SIGKILL: no chance to stop its viewer) must not leave its
    viewer process behind holding the port: the viewer sees its stdin pipe close and exits."""
    import queue
    import signal
    import subprocess
    import threading
    import time

    pytest.importorskip("uvicorn")
    cmd = [sys.executable, "-m", "tbx.demo", "--epochs", "1", "--no-graph", "--lr", "0.01",
           "--port", "0", "--pace", "0", "--logdir", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    url = None
    try:
        deadline = time.monotonic() + 180
        while url is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line.startswith("tbx viewer at "):
                url = line.split()[3]
        viewer = [
            int(pid) for pid in os.listdir("/proc") if pid.isdigit()
            and _ppid(int(pid)) == proc.pid
        ]
        assert len(viewer) == 1, viewer
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    deadline = time.monotonic() + 120
    while _alive(viewer[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(viewer[0]), f"the viewer {viewer[0]} of a killed demo is still running"


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, already ended, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_swallowed_ctrl_c_still_stops_training(tmp_path, capsys):
    """Python drops a KeyboardInterrupt raised inside a weakref or garbage-collection callback
    ("Exception ignored in ..."); the demo's signal handler also sets STOP, which the training
    loop checks at every batch, so Ctrl-C is never lost."""
    from tbx.demo import run as demo_run

    cfg = DemoConfig(logdir=str(tmp_path), epochs=1, learning_rates=(0.01,), graph=False, pace=0)
    demo_run.STOP.set()
    try:
        assert demo_run._train(cfg, None) == 130
    finally:
        demo_run.STOP.clear()
    assert "interrupted" in capsys.readouterr().err


def test_ctrl_c_in_the_terminal_stops_demo_and_viewer_cleanly(tmp_path):
    """Ctrl-C in a terminal signals the whole process group: the demo and its viewer. Both end
    (no viewer left behind), the viewer without a fatal error at shutdown, and the demo does
    not claim to be still serving."""
    import queue
    import signal
    import subprocess
    import threading
    import time

    pytest.importorskip("uvicorn")
    cmd = [sys.executable, "-m", "tbx.demo", "--epochs", "200", "--no-graph", "--lr", "0.01",
           "--port", "0", "--logdir", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: queue.Queue = queue.Queue()
    out: list[str] = []
    threading.Thread(target=lambda: [(out.append(x), lines.put(x)) for x in proc.stdout],
                     daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while True:  # the viewer is up and training has logged its first epoch
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if "epoch   1/" in line or "epoch  1/" in line or "epoch 1/" in line:
                break
        viewer = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == proc.pid]
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(60) == 130, "".join(out)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 60
    while any(_alive(v) for v in viewer) and time.monotonic() < deadline:
        time.sleep(0.1)
    text = "".join(out)
    assert not any(_alive(v) for v in viewer), text
    assert "interrupted" in text and "Still serving" not in text, text
    assert "Fatal Python error" not in text, text
