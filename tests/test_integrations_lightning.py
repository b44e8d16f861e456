"""tbx.integrations.lightning.TbxLogger against Lightning's own TensorBoardLogger: the same tiny
model trained twice (same seed, CPU, deterministic), once with each logger, gives the same
folders, the same scalars (tags, steps, values: exactly), the same hparams in the same run, the
same hparams.yaml and a graph; plus the logger's own edge cases."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

pytest.importorskip("lightning", reason='pip install "tbx[lightning]"')
pytest.importorskip("pandas")
torch = pytest.importorskip("torch")

import lightning.pytorch as pl  # noqa: E402
from lightning.pytorch.loggers import TensorBoardLogger  # noqa: E402

from tbx import read  # noqa: E402
from tbx.integrations.lightning import TbxLogger  # noqa: E402

BATCHES = 3  # training batches per epoch
EPOCHS = 2


class TinyModel(pl.LightningModule):
    def __init__(self, lr: float = 0.1, hidden: int = 4, optim: dict | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(3, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)
        )
        self.example_input_array = torch.zeros(2, 3)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12, 3, generator=g)
    y = x.sum(dim=1, keepdim=True) * 0.5
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=4), torch.utils.data.DataLoader(ds,
                                                                                      batch_size=6)


def _fit(logger):
    pl.seed_everything(0, verbose=False)
    model = TinyModel(lr=0.1, hidden=4, optim={"name": "sgd", "momentum": 0.0})
    trainer = pl.Trainer(
        logger=logger, max_epochs=EPOCHS, limit_train_batches=BATCHES, limit_val_batches=1,
        log_every_n_steps=1, num_sanity_val_steps=0, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
        deterministic=True,
    )
    train, val = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, train, val)
    return trainer


def _no_wall(df):
    return df.drop(columns=["wall_time"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    pytest.importorskip("tensorboard", reason="the reference: Lightning's TensorBoardLogger")
    root = tmp_path_factory.mktemp("lightning")
    ref = TensorBoardLogger(root / "ref", name="exp", log_graph=True)
    ours = TbxLogger(root / "tbx", name="exp", log_graph=True)
    ref_trainer = _fit(ref)
    ours_trainer = _fit(ours)
    return root, ref, ours, ref_trainer, ours_trainer


def test_folders_and_log_dir(both_runs):
    root, ref, ours, _, ours_trainer = both_runs
    assert ours.version == 0 and ours.name == "exp"
    assert ours.log_dir == os.path.join(str(root / "tbx"), "exp", "version_0")
    assert ours.save_dir == str(root / "tbx") and ours.root_dir == os.path.join(ours.save_dir,
                                                                                "exp")
    assert ours_trainer.log_dir == ours.log_dir  # as for TensorBoardLogger (virtual subclass)
    assert isinstance(ours, TensorBoardLogger)
    for logger in (ref, ours):
        files = sorted(os.listdir(logger.log_dir))
        assert len([f for f in files if f.startswith("events.out.tfevents.")]) == 1, files
        assert "hparams.yaml" in files
    assert (root / "ref/exp/version_0/hparams.yaml").read_text() == \
        (root / "tbx/exp/version_0/hparams.yaml").read_text()


def test_scalars_equal_tensorboard_logger(both_runs):
    root, *_ = both_runs
    ref = read(root / "ref")
    ours = read(root / "tbx")
    assert ours.runs == ref.runs == ["exp/version_0"]
    a = _no_wall(ref.scalars)
    b = _no_wall(ours.scalars)
    assert len(b) > 0
    a = a.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True)
    b = b.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True)
    assert b.astype({"run": str, "tag": str}).equals(a.astype({"run": str, "tag": str}))
    run = "exp/version_0"
    # the step numbering Lightning gives (optimizer steps), values as the trainer reports them
    step_loss = ours.scalar_series(run, "train_loss_step")
    assert step_loss.step.tolist() == list(range(BATCHES * EPOCHS))
    epoch = ours.scalar_series(run, "epoch")
    assert sorted(set(epoch.value.tolist())) == [0.0, 1.0]
    ep_loss = ours.scalar_series(run, "train_loss_epoch")
    assert ep_loss.step.tolist() == [BATCHES - 1, 2 * BATCHES - 1]
    assert ours.scalar_series(run, "hp_metric").value.tolist() == [-1.0]


def test_logged_values_are_the_trainers(both_runs):
    root, _, ours, _, trainer = both_runs
    data = read(root / "tbx")
    run = "exp/version_0"
    for key in ("train_loss_epoch", "val_loss"):
        logged = data.scalar_series(run, key).value[-1]
        assert logged == np.float32(trainer.callback_metrics[key].item()), key


def test_hparams_in_the_same_run(both_runs):
    root, *_ = both_runs
    ref = read(root / "ref").hparams
    ours = read(root / "tbx").hparams
    assert ours["run"].tolist() == ["exp/version_0"]
    row = ours.iloc[0]
    assert row["lr"] == 0.1 and row["hidden"] == 4.0
    assert row["optim/name"] == "sgd" and row["optim/momentum"] == 0.0  # flattened with "/"
    assert row["hp_metric"] == -1.0
    assert sorted(ours.columns) == sorted(ref.columns)
    assert ours[sorted(ours.columns)].equals(ref[sorted(ref.columns)])


def test_graph_written(both_runs):
    root, *_ = both_runs
    ours = read(root / "tbx").tags["exp/version_0"]
    ref = read(root / "ref").tags["exp/version_0"]
    assert "__run_graph__" in ref and "__run_graph__" in ours
    assert ours["__run_graph__"].plugin_name == "graphs"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(root / "tbx/exp/version_0"))
    acc.Reload()
    ops = {n.op for n in acc.Graph().node}
    assert "aten::linear" in ops and "aten::tanh" in ops


def test_next_version_and_string_version(tmp_path):
    (tmp_path / "exp" / "version_3").mkdir(parents=True)
    (tmp_path / "exp" / "version_x").mkdir()
    (tmp_path / "exp" / "version_7").write_text("a file, not a version")
    assert TbxLogger(tmp_path, name="exp").version == 4
    assert TbxLogger(tmp_path / "none", name="exp").version == 0
    named = TbxLogger(tmp_path, name="", version="trial-1", sub_dir="tb")
    assert named.log_dir == os.path.join(str(tmp_path), "trial-1", "tb")
    assert TbxLogger(tmp_path, version=2).log_dir.endswith(os.path.join("lightning_logs",
                                                                        "version_2"))


def _direct_calls(logger):
    logger.log_hyperparams({"lr": 0.5, "layers": [1, 2], "arr": np.zeros((2, 2)),
                            "model": {"width": 8, "act": "relu"}}, metrics={"acc": 0.75})
    logger.log_metrics({"loss": torch.tensor(0.25), "n": 3}, step=5)
    logger.log_metrics({"pair": {"a": 1.5, "b": torch.tensor(-2.0)}}, step=6)
    logger.log_hyperparams({"later": 1}, metrics=0.5, step=7)
    logger.finalize("success")


def test_direct_calls_equal_tensorboard_logger(tmp_path):
    pytest.importorskip("tensorboard", reason="the reference: Lightning's TensorBoardLogger")
    _direct_calls(TensorBoardLogger(tmp_path / "ref", name="", version=0, prefix="p"))
    _direct_calls(TbxLogger(tmp_path / "tbx", name="", version=0, prefix="p"))
    ref, ours = read(tmp_path / "ref"), read(tmp_path / "tbx")
    # a dict value: add_scalars' sub-runs, named as tensorboardX names them (tbx's writer
    # follows tensorboardX; torch.utils.tensorboard, which Lightning uses when tensorboard is
    # installed, joins main tag and key with "_")
    assert ref.runs == ["version_0", "version_0/p-pair_a", "version_0/p-pair_b"]
    assert ours.runs == ["version_0", "version_0/p-pair/a", "version_0/p-pair/b"]
    expected = _no_wall(ref.scalars).astype({"run": str, "tag": str})
    expected["run"] = expected["run"].str.replace("p-pair_", "p-pair/")
    assert _no_wall(ours.scalars).astype({"run": str, "tag": str}).equals(expected)
    assert ours.hparams.equals(ref.hparams)
    assert (tmp_path / "ref/version_0/hparams.yaml").read_text() == \
        (tmp_path / "tbx/version_0/hparams.yaml").read_text()


def test_direct_use_prefix_metrics_and_errors(tmp_path):
    logger = TbxLogger(tmp_path, name="", version=0, prefix="train", flush_secs=1)
    logger.log_hyperparams({"lr": 0.5, "layers": [1, 2], "arr": np.zeros((2, 2))},
                           metrics={"acc": 0.75})
    logger.log_metrics({"loss": torch.tensor(0.25), "n": 3}, step=5)
    with pytest.raises(ValueError, match="metric 'train-bad'"):
        logger.log_metrics({"bad": "text"}, step=6)
    logger.finalize("success")
    data = read(tmp_path)
    assert data.runs == ["version_0"]
    assert data.scalar_series("version_0", "train-loss").step.tolist() == [5]
    assert data.scalar_series("version_0", "train-loss").value.tolist() == [0.25]
    assert data.scalar_series("version_0", "train-acc").value.tolist() == [0.75]
    hp = data.hparams.iloc[0]
    assert hp["lr"] == 0.5 and hp["layers"] == "[1, 2]" and hp["arr"] == str(np.zeros((2, 2)))
    assert "acc" in data.hparams.columns  # metric names as given, unprefixed (as Lightning)
    assert (tmp_path / "version_0" / "hparams.yaml").read_text().startswith("arr:")


def test_no_hparams_without_metrics(tmp_path):
    logger = TbxLogger(tmp_path, default_hp_metric=False)
    logger.log_hyperparams({"lr": 0.1})
    logger.log_metrics({"x": 1.0}, step=0)
    logger.finalize("success")
    data = read(tmp_path)
    assert len(data.hparams) == 0
    assert "lr: 0.1" in (tmp_path / "lightning_logs/version_0/hparams.yaml").read_text()


def test_pickled_logger_reopens(tmp_path):
    import pickle

    logger = TbxLogger(tmp_path, version=0)
    logger.log_metrics({"a": 1.0}, step=1)
    copy = pickle.loads(pickle.dumps(logger))
    assert copy._experiment is None and copy.log_dir == logger.log_dir
    copy.log_metrics({"b": 2.0}, step=2)
    copy.finalize("success")
    logger.finalize("success")
    data = read(tmp_path)
    assert data.scalar_series("lightning_logs/version_0", "b").value.tolist() == [2.0]
    assert data.scalar_series("lightning_logs/version_0", "a").value.tolist() == [1.0]


def test_standalone_pytorch_lightning_when_lightning_is_missing(tmp_path):
    pytest.importorskip("pytorch_lightning")
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['lightning'] = None  # as if only pytorch_lightning were installed\n"
        "import pytorch_lightning as pl\n"
        "from tbx.integrations import lightning as m\n"
        f"logger = m.TbxLogger({str(tmp_path)!r})\n"
        "logger.log_metrics({'a': 2.0}, step=3)\n"
        "logger.finalize('success')\n"
        "print(m.pl.__name__, isinstance(logger, pl.loggers.Logger),\n"
        "      isinstance(logger, pl.loggers.TensorBoardLogger))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["pytorch_lightning", "True", "True"]
    s = read(tmp_path).scalar_series("lightning_logs/version_0", "a")
    assert (s.step.tolist(), s.value.tolist()) == ([3], [2.0])
