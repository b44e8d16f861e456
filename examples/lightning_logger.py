"""PyTorch Lightning with tbx: a small MLP on scikit-learn's digits, logged by TbxLogger
(Lightning's TensorBoardLogger written with tbx: same arguments, folders, hparams and graph).

    pip install "tbx[lightning,demo]"
    python examples/lightning_logger.py                  # runs/lightning/digits/version_0
    python examples/lightning_logger.py --lr 0.3         # the next run: version_1
    tbx serve runs/lightning                             # curves, hparams table, graph
"""

import argparse
import warnings

import lightning.pytorch as pl
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tbx.integrations.lightning import TbxLogger


class DigitsMLP(pl.LightningModule):
    def __init__(self, lr: float = 0.1, hidden: int = 64):
        super().__init__()
        self.save_hyperparameters()  # lr and hidden: the run's row in the hparams table
        self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        self.example_input_array = torch.zeros(1, 64)  # for log_graph

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train/loss", loss)  # every log_every_n_steps optimizer steps
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", nn.functional.cross_entropy(logits, y))  # per epoch
        acc = (logits.argmax(1) == y).float().mean()
        self.log("val/accuracy", acc)
        self.log("hp_metric", acc)  # the metric of the hparams table (-1 until the first epoch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", default="runs/lightning", help="default runs/lightning")
    parser.add_argument("--epochs", type=int, default=10, help="default 10")
    parser.add_argument("--lr", type=float, default=0.1, help="default 0.1")
    parser.add_argument("--limit-batches", type=int, default=None,
                        help="training batches per epoch (default: all)")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    train = DataLoader(TensorDataset(x[:1500], y[:1500]), batch_size=64, shuffle=True)
    val = DataLoader(TensorDataset(x[1500:], y[1500:]), batch_size=512)

    pl.seed_everything(0, verbose=False)
    logger = TbxLogger(args.logdir, name="digits", log_graph=True)
    trainer = pl.Trainer(
        logger=logger, max_epochs=args.epochs, limit_train_batches=args.limit_batches,
        log_every_n_steps=5, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        trainer.fit(DigitsMLP(lr=args.lr), train, val)
    acc = trainer.callback_metrics["val/accuracy"].item()
    print(f"{logger.log_dir}: val/accuracy {acc:.4f}; view it with: tbx serve {args.logdir}")


if __name__ == "__main__":
    main()
