"""Fine-tuning with PyTorch, logged with tbx; runs offline in well under a minute on a CPU.

A small CNN is pre-trained to tell the digits 0-4 apart (scikit-learn's bundled 8x8 digits),
then its backbone is reused with a new head to tell 5-9 apart from only a few labelled examples
per class: first with the backbone frozen (only the head learns), then unfrozen with a 10x
smaller learning rate. Both phases use a linear warm-up and a cosine learning-rate schedule.

Logged (runs ``<logdir>/pretrain`` and ``<logdir>/finetune``): train/validation loss and
accuracy, the learning rate of each parameter group, the gradient norm of every layer at every
step, weight and gradient histograms per layer at each epoch, the model graph (``add_graph``),
a text summary of the setup and the fine-tuning's hyperparameters with final metrics.

    pip install "tbx[demo]" torch==2.13.0
    python examples/pytorch_finetune.py [--logdir runs/finetune]
    tbx serve runs/finetune
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from tbx import SummaryWriter


class Backbone(nn.Module):
    """``(N, 1, 8, 8)`` float32 images in [0, 1] -> ``(N, 64)`` features."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 64)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)  # (N, 32, 4, 4)
        return torch.relu(self.fc(x.flatten(1)))


class Classifier(nn.Module):
    """A backbone and a linear head: ``(N, 1, 8, 8)`` -> ``(N, n_classes)`` logits."""

    def __init__(self, backbone: Backbone, n_classes: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def warmup_cosine(total_steps: int, warmup_steps: int):
    """LambdaLR factor: linear warm-up from 0 to 1, then cosine decay to 0."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))

    return factor


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    model.train()
    return loss, acc


def train(model, writer, optimizer, data, epochs, batch_size, *, freeze_epochs=0, log_every=1):
    """Train ``model`` for ``epochs``; the backbone is frozen for the first ``freeze_epochs``.
    ``data`` is ``(x_train, y_train, x_val, y_val)`` tensors. Returns the final metrics."""
    x_tr, y_tr, x_va, y_va = data
    steps_per_epoch = math.ceil(len(x_tr) / batch_size)
    total = steps_per_epoch * epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(total, max(1, total // 10))
    )
    names = [g.get("name", f"group{i}") for i, g in enumerate(optimizer.param_groups)]
    generator = torch.Generator().manual_seed(0)
    step = 0
    loss, acc = evaluate(model, x_va, y_va)
    writer.add_scalar("val/loss", loss, 0)
    writer.add_scalar("val/accuracy", acc, 0)
    for epoch in range(1, epochs + 1):
        frozen = epoch <= freeze_epochs
        for p in model.backbone.parameters():
            p.requires_grad_(not frozen)
        if epoch == freeze_epochs + 1 and freeze_epochs:
            writer.add_text("phase", f"epoch {epoch}: backbone unfrozen", step)
        perm = torch.randperm(len(x_tr), generator=generator)
        for start in range(0, len(x_tr), batch_size):
            idx = perm[start : start + batch_size]
            logits = model(x_tr[idx])
            loss = nn.functional.cross_entropy(logits, y_tr[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if step % log_every == 0:
                writer.add_scalar("train/loss", loss.item(), step)
                acc = (logits.argmax(1) == y_tr[idx]).float().mean().item()
                writer.add_scalar("train/accuracy", acc, step)
                for name, group in zip(names, optimizer.param_groups, strict=True):
                    writer.add_scalar(f"lr/{name}", group["lr"], step)
                for name, p in model.named_parameters():
                    if p.grad is not None and name.endswith("weight"):
                        writer.add_scalar(f"grad_norm/{name}", p.grad.norm().item(), step)
            optimizer.step()
            scheduler.step()
            step += 1
        for name, p in model.named_parameters():
            writer.add_histogram(f"weights/{name}", p.detach(), step)
            if p.grad is not None:
                writer.add_histogram(f"grads/{name}", p.grad, step)
        val_loss, val_acc = evaluate(model, x_va, y_va)
        writer.add_scalar("val/loss", val_loss, step)
        writer.add_scalar("val/accuracy", val_acc, step)
        state = "frozen" if frozen else "trainable"
        print(
            f"  {writer.logdir}: epoch {epoch:>2}/{epochs} (backbone {state}): "
            f"val loss {val_loss:.3f} acc {val_acc:6.1%}",
            flush=True,
        )
    writer.flush()
    return {"val_loss": val_loss, "val_accuracy": val_acc}


def tensors(x, y, offset):
    return (
        torch.from_numpy((x / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)),
        torch.from_numpy((y - offset).astype(np.int64)),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", default="runs/finetune", help="default runs/finetune")
    parser.add_argument("--pretrain-epochs", type=int, default=12, help="default 12")
    parser.add_argument("--finetune-epochs", type=int, default=20, help="default 20")
    parser.add_argument(
        "--freeze-epochs", type=int, default=6, help="fine-tuning epochs with a frozen backbone"
    )
    parser.add_argument(
        "--shots", type=int, default=30, help="labelled examples per class for fine-tuning"
    )
    parser.add_argument("--lr", type=float, default=1e-2, help="peak learning rate of the head")
    args = parser.parse_args(argv)
    for name in ("pretrain_epochs", "finetune_epochs", "shots"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.freeze_epochs <= args.finetune_epochs:
        parser.error("--freeze-epochs must be between 0 and --finetune-epochs")

    torch.manual_seed(0)
    torch.set_num_threads(1)  # the model is tiny: more threads only add synchronisation
    t0 = time.perf_counter()
    x, y = load_digits(return_X_y=True)
    first = y < 5

    # 1. pre-train on the digits 0-4
    xa, xb, ya, yb = train_test_split(
        x[first], y[first], test_size=0.25, stratify=y[first], random_state=0
    )
    pre_data = (*tensors(xa, ya, 0), *tensors(xb, yb, 0))
    model = Classifier(Backbone(), 5)
    print(f"pre-training on 0-4: {len(xa)} train / {len(xb)} validation images")
    with SummaryWriter(f"{args.logdir}/pretrain") as writer:
        writer.add_graph(model, pre_data[0][:1])
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        pre = train(model, writer, opt, pre_data, args.pretrain_epochs, 32)

    # 2. fine-tune on 5-9 from a few examples per class: new head, frozen then unfrozen backbone
    xa, xb, ya, yb = train_test_split(
        x[~first], y[~first], train_size=5 * args.shots, stratify=y[~first], random_state=0
    )
    ft_data = (*tensors(xa, ya, 5), *tensors(xb, yb, 5))
    model = Classifier(model.backbone, 5)  # a fresh head for the new classes
    print(f"fine-tuning on 5-9: {len(xa)} train / {len(xb)} validation images")
    with SummaryWriter(f"{args.logdir}/finetune") as writer:
        writer.add_graph(model, ft_data[0][:1])
        writer.add_text(
            "setup",
            f"Backbone pre-trained on the digits 0-4 (val accuracy {pre['val_accuracy']:.1%}); "
            f"new head for 5-9 trained on {args.shots} examples per class. Backbone frozen "
            f"for {args.freeze_epochs} of {args.finetune_epochs} epochs, then trained at a "
            f"10x smaller learning rate. Warm-up (10% of steps), then cosine decay.",
        )
        opt = torch.optim.AdamW(
            [
                {"params": model.backbone.parameters(), "lr": args.lr / 10, "name": "backbone"},
                {"params": model.head.parameters(), "lr": args.lr, "name": "head"},
            ],
            weight_decay=1e-4,
        )
        batch = min(16, len(xa))
        ft = train(
            model, writer, opt, ft_data, args.finetune_epochs, batch,
            freeze_epochs=args.freeze_epochs,
        )
        writer.add_hparams(
            {
                "lr": args.lr,
                "shots": args.shots,
                "freeze_epochs": args.freeze_epochs,
                "finetune_epochs": args.finetune_epochs,
            },
            {"hparam/val_accuracy": ft["val_accuracy"], "hparam/val_loss": ft["val_loss"]},
        )
    print(
        f"done in {time.perf_counter() - t0:.1f} s: pre-trained val accuracy "
        f"{pre['val_accuracy']:.1%} (0-4), fine-tuned {ft['val_accuracy']:.1%} (5-9, "
        f"{args.shots} examples per class). View it with: tbx serve {args.logdir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
