"""Each script of ``examples/`` runs (as a user would: ``python examples/<name>.py`` in a fresh
folder) with small sizes, and what it wrote is checked with ``tbx.read``.

The PyTorch example is skipped when torch is not installed, each framework's example when that
framework is not installed (the ``dev`` extra installs them all).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the examples use scikit-learn's digits (tbx[demo])")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

from tbx import read  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str, cwd: Path) -> str:
    """Run ``examples/<name>`` with ``args`` in ``cwd``; its standard output (fails the test,
    showing stderr, on a non-zero exit)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_every_example_is_tested():
    tested = {"numpy_quickstart.py", "pytorch_finetune.py", "read_back.py",
              "lightning_logger.py", "keras_callback.py", "transformers_trainer.py",
              "duckdb_query.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_numpy_quickstart(tmp_path):
    out = run_example("numpy_quickstart.py", cwd=tmp_path)
    assert "tbx serve runs/quickstart" in out
    data = read(tmp_path / "runs" / "quickstart")
    assert data.runs == ["."]
    loss = data.scalar_series(".", "loss")
    acc = data.scalar_series(".", "accuracy")
    assert loss.step.tolist() == list(range(200))
    assert loss.value[0] == pytest.approx(np.log(10))  # uniform at the start
    assert (np.diff(loss.value) < 0).all()  # full-batch gradient descent: always down
    assert acc.value[-1] > 0.9
    h = data.histograms
    assert h.num.tolist() == [640]
    img = data.images
    assert (img.width.iloc[0], img.height.iloc[0]) == (64, 16)  # 10 8x8 images, 8 per row


def test_read_back_on_quickstart(tmp_path):
    run_example("numpy_quickstart.py", cwd=tmp_path)
    out = run_example("read_back.py", "runs/quickstart", "--out", "plot.png", cwd=tmp_path)
    assert "accuracy" in out and "wrote plot.png" in out
    from PIL import Image

    with Image.open(tmp_path / "plot.png") as im:
        assert im.size[0] > im.size[1] > 100  # two charts side by side
        assert np.asarray(im.convert("L")).std() > 5


def test_read_back_on_demo(tmp_path):
    demo = [sys.executable, "-m", "tbx.demo", "--no-serve", "--no-graph", "--epochs", "1"]
    subprocess.run([*demo, "--lr", "0.01,0.03", "--logdir", "d"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    out = run_example("read_back.py", "d", "--out", "demo.svg", cwd=tmp_path)
    assert "lr_0.01" in out and "lr_0.03" in out
    assert "hparam/val_accuracy" in out  # the hparams table
    svg = (tmp_path / "demo.svg").read_text()
    for tag in ("train/loss", "val/loss", "train/accuracy", "val/accuracy"):
        assert tag in svg


def test_read_back_errors(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "read_back.py"), "missing"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "tbx demo --no-serve" in proc.stderr


def test_pytorch_finetune(tmp_path):
    pytest.importorskip("torch", reason="pip install torch==2.13.0")
    args = ["--pretrain-epochs", "2", "--finetune-epochs", "3", "--freeze-epochs", "1",
            "--shots", "20", "--logdir", "ft"]
    out = run_example("pytorch_finetune.py", *args, cwd=tmp_path)
    assert "fine-tuned" in out
    data = read(tmp_path / "ft")
    assert data.runs == ["finetune", "pretrain"]
    pre_acc = data.scalar_series("pretrain", "val/accuracy").value
    assert pre_acc[-1] > 0.8 > pre_acc[0]
    ft_tags = data.tags["finetune"]
    for tag in ("train/loss", "val/loss", "val/accuracy", "lr/backbone", "lr/head",
                "grad_norm/head.weight", "grad_norm/backbone.conv1.weight", "__run_graph__",
                "weights/backbone.conv1.weight", "grads/head.weight", "setup/text_summary"):
        assert tag in ft_tags, tag
    # warm-up then cosine decay; the backbone at a tenth of the head's rate
    head = data.scalar_series("finetune", "lr/head").value
    backbone = data.scalar_series("finetune", "lr/backbone").value
    peak = int(np.argmax(head))
    assert 0 < peak < len(head) - 1 and head[0] < head[peak] and head[-1] < head[peak]
    np.testing.assert_allclose(backbone, head / 10, rtol=1e-6)
    # frozen for the first epoch: no backbone gradient until then
    steps_per_epoch = -(-5 * 20 // 16)  # 100 examples in batches of 16: 7 steps, 21 in all
    gn_backbone = data.scalar_series("finetune", "grad_norm/backbone.conv1.weight")
    gn_head = data.scalar_series("finetune", "grad_norm/head.weight")
    assert gn_head.step[0] == 0
    assert gn_backbone.step[0] == steps_per_epoch
    h = data.histograms
    grads = h[(h.run == "finetune") & (h.tag == "grads/backbone.conv1.weight")]
    assert grads.step.min() == 2 * steps_per_epoch
    assert data.hparams.set_index("run").loc["finetune", "shots"] == 20
    assert "__run_graph__" in data.tags["pretrain"]


def _printed(name: str, out: str) -> float:
    """The value the example printed for ``name`` (4 decimals)."""
    return float(re.search(rf"{re.escape(name)} ([0-9.]+)", out).group(1))


def test_lightning_logger(tmp_path):
    pytest.importorskip("lightning", reason='pip install "tbx[lightning]"')
    out = run_example("lightning_logger.py", "--epochs", "2", "--limit-batches", "3",
                      "--logdir", "lt", cwd=tmp_path)
    data = read(tmp_path / "lt")
    assert data.runs == ["digits/version_0"]
    acc = data.scalar_series("digits/version_0", "val/accuracy")
    assert acc.value[-1] == pytest.approx(_printed("val/accuracy", out), abs=5e-5)
    assert acc.step.tolist() == [2, 5]  # optimizer steps at the end of each epoch
    hp = data.hparams.iloc[0]
    assert (hp["lr"], hp["hidden"]) == (0.1, 64.0)
    assert hp["hp_metric"] == acc.value[-1]  # the hparams table's metric: the last accuracy
    assert "__run_graph__" in data.tags["digits/version_0"]
    assert (tmp_path / "lt/digits/version_0/hparams.yaml").read_text() == "hidden: 64\nlr: 0.1\n"


def test_keras_callback(tmp_path):
    import importlib.util

    if importlib.util.find_spec("keras") is None:  # not imported here: its backend is torch there
        pytest.skip('pip install "tbx[keras]"')
    out = run_example("keras_callback.py", "--epochs", "2", "--examples", "200",
                      "--logdir", "k", cwd=tmp_path)
    assert "backend torch" in out
    data = read(tmp_path / "k")
    assert data.runs == ["train", "validation"]
    acc = data.scalar_series("validation", "epoch_accuracy")
    assert acc.step.tolist() == [0, 1]
    assert acc.value[-1] == pytest.approx(_printed("val_accuracy", out), abs=5e-5)
    # 160 training examples in batches of 64: 3 batches an epoch, batch values every 5th
    assert data.scalar_series("train", "batch_loss").step.tolist() == [5]
    h = data.histograms
    assert sorted(set(h[h.tag == "sequential/dense/kernel/histogram"].step)) == [0, 1]
    assert set(h.num) == {64 * 64, 64, 64 * 10, 10}


def test_transformers_trainer(tmp_path):
    pytest.importorskip("transformers", reason='pip install "tbx[transformers]"')
    pytest.importorskip("accelerate", reason='pip install "tbx[transformers]"')
    out = run_example("transformers_trainer.py", "--epochs", "2", "--examples", "64",
                      "--logdir", "hf", cwd=tmp_path)
    data = read(tmp_path / "hf")
    assert data.runs == ["."]
    acc = data.scalar_series(".", "eval/accuracy")
    assert acc.step.tolist() == [2, 4]  # 64 examples in batches of 32, evaluated every epoch
    assert acc.value[-1] == pytest.approx(_printed("eval_accuracy", out), abs=5e-5)
    assert data.scalar_series(".", "train/loss").step.tolist() == [4]  # logging_steps=4
    assert "args/text_summary" in data.tags["."]


def test_duckdb_query(tmp_path):
    """The sweep's final losses per optimizer and learning rate, from one DuckDB statement over
    the partitioned Parquet export, equal those computed from the generator's formulas."""
    pytest.importorskip("duckdb")
    pytest.importorskip("pyarrow")
    from tbx.viewer.plugins.runs import demo_data as D

    runs, steps = 100, 12
    out = run_example("duckdb_query.py", "--runs", str(runs), "--steps", str(steps),
                      cwd=tmp_path)
    lines = out.strip().splitlines()
    head = lines.index("opt | lr | runs | mean_final_loss | best_final_loss | best_run")
    rows = [ln.split(" | ") for ln in lines[head + 1:head + 11]]
    assert lines[head + 11].startswith(f"query over {runs} runs in ")
    final = {D.run_name(i): D.loss_values(i, steps)[-1] for i in range(runs)}
    want = {}
    for name, v in final.items():
        key = (name.split("-")[0], float(name.split("-lr")[1].split("-")[0]))
        want.setdefault(key, []).append((v, name))
    assert len(rows) == len(want) == 10
    for opt, lr, n, mean, best, best_run in rows:
        got = want[(opt, float(lr))]
        assert int(n) == len(got) == runs // 10
        assert float(mean) == pytest.approx(np.mean([v for v, _ in got]), abs=5e-5)
        assert best_run == min(got)[1] and float(best) == pytest.approx(min(got)[0], abs=5e-5)
    means = [float(r[3]) for r in rows]
    assert means == sorted(means)
