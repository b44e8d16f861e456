"""The training of ``tbx demo``: a small classifier on real data, logging every kind of data tbx
writes.

The data set is scikit-learn's bundled handwritten digits (:func:`sklearn.datasets.load_digits`:
1,797 grayscale 8x8 images, 10 classes, pixel values 0..16; no download). A NumPy MLP
(:mod:`tbx.demo.mlp`) is trained once per learning rate of a short sweep, one run folder per
learning rate (``<logdir>/lr_0.003``, ...), each logged through :class:`tbx.SummaryWriter`:

* ``train/loss``, ``train/accuracy``: mini-batch cross-entropy (nats) and accuracy, every step;
* ``train/lr``, ``train/grad_norm``: learning rate and global L2 norm of the gradient, every
  step; ``grad_norm/<layer>``: L2 norm of each layer's weight gradient, every step;
* ``val/loss``, ``val/accuracy``: on the validation set at step 0, every ``eval_every`` steps
  and at each epoch's end;
* ``epoch/{train,val}_{loss,accuracy}``: over each epoch (step = epoch number, from 1);
* histograms ``weights/<param>`` and ``grads/<param>`` per layer parameter (step 0 and each
  epoch), ``activations/<layer>`` of each hidden layer's ReLU output on the validation set;
* images ``inputs/train_samples`` (32 training digits, 40x40 each, 8 per row, step 0);
  matplotlib figures ``val/confusion_matrix`` and ``val/misclassified`` (the misclassified
  validation digits captioned ``predicted / true``) every ``figure_every`` epochs and at the end;
* PR curves ``pr/digit_<k>`` (class ``k`` against the rest, each epoch);
* text ``config`` (a Markdown table of the configuration); a custom-scalars layout (train and
  validation in one chart, the per-layer gradient norms in another);
* the hparams session (hyperparameters, and final metrics as scalars ``hparam/*``);
* the projector embedding ``val_hidden``: the last hidden layer of every validation digit,
  with the digit and the prediction as labels and a sprite of the digits;
* the graph of an equivalent ``torch.nn.Sequential`` when torch can be imported;
* meshes (:mod:`tbx.demo.geometry`): point cloud ``val/hidden_3d`` (the validation digits' last
  hidden layer on its first three principal components, coloured by digit, each epoch) and
  triangle mesh ``val/loss_surface`` (the validation loss around the final weights).

Steps are optimizer steps (mini-batches) counted from 0 within a run, except ``epoch/*``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from tbx.demo import geometry
from tbx.demo.data import N_CLASSES, DigitsData, load_digits_data
from tbx.demo.figures import confusion_figure, misclassified_figure
from tbx.demo.mlp import MLP, Adam, cross_entropy

__all__ = ["DemoConfig", "train_run", "run_sweep", "run_name", "torch_equivalent", "STOP"]

UPSCALE = 4  # sample digits are logged as 40x40 images (1-pixel border, 4x) to be visible

#: Set by Ctrl-C or SIGTERM while the demo runs. A KeyboardInterrupt raised where Python cannot
#: pass it on (a weakref or garbage-collection callback prints "Exception ignored" and goes on)
#: would be lost; the training loop checks this at every batch and stops all the same.
STOP = threading.Event()


@dataclass
class DemoConfig:
    """Settings of the sweep.

    Attributes:
        logdir: the folder that receives one run folder per learning rate.
        epochs: passes over the training set per run.
        learning_rates: peak Adam learning rates, one run each.
        batch_size: examples per optimizer step.
        hidden: widths of the hidden layers (the input has 64 pixels, the output 10 classes).
        val_fraction: share of the 1,797 digits held out for validation (stratified).
        eval_every: steps between validation evaluations (besides each epoch's end).
        figure_every: epochs between figures (confusion matrix, misclassified digits); the
            last epoch always gets them. 0 = the last epoch only.
        weight_decay: decoupled weight decay of Adam.
        seed: seeds the split, the initialisation and the shuffling.
        pace: seconds to sleep after each epoch, so that a live viewer can be watched.
        graph: log the model graph when torch can be imported.
    """

    logdir: str = os.path.join("runs", "demo")
    epochs: int = 15
    learning_rates: tuple[float, ...] = (0.003, 0.01, 0.03)
    batch_size: int = 16
    hidden: tuple[int, ...] = (64, 32)
    val_fraction: float = 0.2
    eval_every: int = 10
    figure_every: int = 3
    weight_decay: float = 1e-4
    seed: int = 0
    pace: float = 0.0
    graph: bool = True


def run_name(lr: float) -> str:
    """The run folder name of a learning rate, e.g. ``lr_0.003``."""
    return f"lr_{lr:g}"


def torch_equivalent(mlp: MLP):
    """A ``torch.nn.Sequential`` (``fc1``, ``relu1``, ``fc2``, ...) computing the same logits
    as ``mlp``, with its current weights copied. Raises ImportError without torch."""
    from collections import OrderedDict

    import torch

    layers: OrderedDict = OrderedDict()
    last = len(mlp.layer_names) - 1
    for i, name in enumerate(mlp.layer_names):
        w = mlp.params[f"{name}.weight"]
        lin = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(mlp.params[f"{name}.bias"]))
        layers[name] = lin
        if i < last:
            layers[f"relu{i + 1}"] = torch.nn.ReLU()
    return torch.nn.Sequential(layers)


def _lr_at(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first 5% of steps, then cosine decay to 5% of ``peak``."""
    warm = max(1, total // 20)
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * t)))


def _config_markdown(cfg: DemoConfig, lr: float, n_train: int, n_val: int, sizes) -> str:
    rows = [
        ("data", f"scikit-learn digits, 8x8 grayscale: {n_train} train / {n_val} validation"),
        ("model", "MLP " + " → ".join(str(s) for s in sizes) + " (ReLU), NumPy"),
        ("optimizer", f"Adam, weight decay {cfg.weight_decay:g}"),
        ("learning rate", f"{lr:g} peak; 5% linear warm-up, cosine decay to 5%"),
        ("batch size", str(cfg.batch_size)),
        ("epochs", str(cfg.epochs)),
        ("seed", str(cfg.seed)),
    ]
    lines = ["| setting | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def _evaluate(mlp: MLP, x, y):
    probs = mlp.predict_proba(x)
    return cross_entropy(probs, y), float((probs.argmax(1) == y).mean()), probs


def train_run(
    writer, cfg: DemoConfig, lr: float, data: DigitsData, graph_model=None, log=print
) -> dict:
    """Train one MLP with peak learning rate ``lr`` and log everything to ``writer``.

    Args:
        writer: a :class:`tbx.SummaryWriter` (or any object with its methods).
        graph_model: a function ``MLP -> torch.nn.Module`` for ``add_graph``, or None.
        log: called with one progress line per epoch.

    Returns:
        ``{"lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "steps",
        "seconds"}`` after the last epoch (losses in nats, accuracies in [0, 1]).
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    sizes = (data.x_train.shape[1], *cfg.hidden, N_CLASSES)
    mlp = MLP(sizes, seed=cfg.seed)
    opt = Adam(mlp.params, weight_decay=cfg.weight_decay)
    n = len(data.x_train)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    val_images = DigitsData.images(data.x_val)

    writer.add_text("config", _config_markdown(cfg, lr, n, len(data.x_val), sizes), 0)
    writer.add_custom_scalars(
        {
            "train vs validation": {
                "loss": ["Multiline", ["^train/loss$", "^val/loss$"]],
                "accuracy": ["Multiline", ["^train/accuracy$", "^val/accuracy$"]],
            },
            "gradients": {"norm per layer": ["Multiline", ["^grad_norm/"]]},
        }
    )
    samples = DigitsData.images(data.x_train[:32], UPSCALE, border=1)
    writer.add_images("inputs/train_samples", samples, 0)
    if graph_model is not None:
        try:
            import torch

            writer.add_graph(graph_model(mlp), torch.zeros(1, sizes[0]))
        except Exception as e:  # the graph is a nicety; never lose the run over it
            log(f"  (model graph not logged: {type(e).__name__}: {e})")

    def log_histograms(step: int, grads: dict | None) -> None:
        for name, p in mlp.params.items():
            writer.add_histogram(f"weights/{name}", p, step)
            if grads is not None:
                writer.add_histogram(f"grads/{name}", grads[name], step)
        _, acts = mlp.forward(data.x_val)
        for name, a in zip(mlp.layer_names, acts[1:], strict=False):
            writer.add_histogram(f"activations/{name}", a, step)

    log_histograms(0, None)
    v_loss, v_acc, _ = _evaluate(mlp, data.x_val, data.y_val)  # the untrained baseline
    writer.add_scalar("val/loss", v_loss, 0)
    writer.add_scalar("val/accuracy", v_acc, 0)
    step = 0
    result: dict = {}
    for epoch in range(1, cfg.epochs + 1):
        perm = rng.permutation(n)
        ep_loss = ep_correct = 0.0
        grads: dict = {}
        for start in range(0, n, cfg.batch_size):
            if STOP.is_set():  # Ctrl-C whose KeyboardInterrupt was swallowed on the way
                raise KeyboardInterrupt
            idx = perm[start : start + cfg.batch_size]
            xb, yb = data.x_train[idx], data.y_train[idx]
            loss, probs, grads = mlp.loss_and_grads(xb, yb)
            correct = float((probs.argmax(1) == yb).sum())
            ep_loss += loss * len(idx)
            ep_correct += correct
            layer_norms = {
                name: float(np.linalg.norm(grads[f"{name}.weight"])) for name in mlp.layer_names
            }
            grad_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
            cur_lr = _lr_at(step, total, lr)
            writer.add_scalar("train/loss", loss, step)
            writer.add_scalar("train/accuracy", correct / len(idx), step)
            writer.add_scalar("train/lr", cur_lr, step)
            writer.add_scalar("train/grad_norm", grad_norm, step)
            for name, v in layer_norms.items():
                writer.add_scalar(f"grad_norm/{name}", v, step)
            opt.step(grads, cur_lr)
            step += 1
            if step % cfg.eval_every == 0 and step % steps_per_epoch != 0:
                v_loss, v_acc, _ = _evaluate(mlp, data.x_val, data.y_val)
                writer.add_scalar("val/loss", v_loss, step)
                writer.add_scalar("val/accuracy", v_acc, step)

        v_loss, v_acc, probs = _evaluate(mlp, data.x_val, data.y_val)
        t_loss, t_acc = ep_loss / n, ep_correct / n
        writer.add_scalar("val/loss", v_loss, step)
        writer.add_scalar("val/accuracy", v_acc, step)
        writer.add_scalar("epoch/train_loss", t_loss, epoch)
        writer.add_scalar("epoch/train_accuracy", t_acc, epoch)
        writer.add_scalar("epoch/val_loss", v_loss, epoch)
        writer.add_scalar("epoch/val_accuracy", v_acc, epoch)
        log_histograms(step, grads)
        cloud, cloud_colors = geometry.feature_cloud(mlp.hidden(data.x_val), data.y_val)
        writer.add_mesh("val/hidden_3d", cloud, colors=cloud_colors, global_step=step)
        for k in range(N_CLASSES):
            writer.add_pr_curve(f"pr/digit_{k}", data.y_val == k, probs[:, k], step)
        last = epoch == cfg.epochs
        if last or (cfg.figure_every and epoch % cfg.figure_every == 0):
            pred = probs.argmax(1)
            title = f"{run_name(lr)}, epoch {epoch}"
            writer.add_figure(
                "val/confusion_matrix", confusion_figure(data.y_val, pred, title), step
            )
            writer.add_figure(
                "val/misclassified",
                misclassified_figure(data.x_val, data.y_val, pred, title),
                step,
            )
        writer.flush()
        log(
            f"  {run_name(lr):>9} epoch {epoch:>2}/{cfg.epochs}: train loss {t_loss:.3f} "
            f"acc {t_acc:6.1%} | val loss {v_loss:.3f} acc {v_acc:6.1%}"
        )
        result = {
            "lr": lr,
            "train_loss": t_loss,
            "train_accuracy": t_acc,
            "val_loss": v_loss,
            "val_accuracy": v_acc,
            "steps": step,
        }
        if cfg.pace > 0 and not last:
            time.sleep(cfg.pace)

    surface, surface_colors, surface_faces = geometry.loss_surface(
        mlp, data.x_val, data.y_val, lambda m, x, y: _evaluate(m, x, y)[0])
    writer.add_mesh("val/loss_surface", surface, colors=surface_colors, faces=surface_faces,
                    global_step=step)
    pred = probs.argmax(1)
    writer.add_embedding(
        mlp.hidden(data.x_val),
        metadata=[[int(t), int(p)] for t, p in zip(data.y_val, pred, strict=True)],
        label_img=val_images,
        global_step=step,
        tag="val_hidden",
        metadata_header=["digit", "predicted"],
    )
    hparams = {
        "lr": float(lr),
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "hidden": "-".join(str(h) for h in cfg.hidden),
        "optimizer": "adam",
        "weight_decay": float(cfg.weight_decay),
    }
    metrics = {
        "hparam/val_accuracy": result["val_accuracy"],
        "hparam/val_loss": result["val_loss"],
        "hparam/train_accuracy": result["train_accuracy"],
        "hparam/train_loss": result["train_loss"],
    }
    writer.add_hparams(hparams, metrics, global_step=step)
    writer.flush()
    result["seconds"] = time.perf_counter() - t0
    return result


def _torch_graph_factory(enabled: bool, log):
    if not enabled:
        return None
    try:
        import torch  # noqa: F401
    except ImportError:
        log("torch is not installed: the model graph is skipped")
        return None
    return torch_equivalent


def run_sweep(cfg: DemoConfig, log=print) -> list[dict]:
    """Train one run per learning rate of ``cfg`` into ``<cfg.logdir>/<run_name(lr)>``.

    Returns:
        One :func:`train_run` result per learning rate, with ``"run"`` (the folder name).
    """
    from tbx import SummaryWriter

    try:  # the matrices are tiny: BLAS threads only cost (scikit-learn brings threadpoolctl)
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(1, user_api="blas")
    except ImportError:
        limits = None
    try:
        return _sweep(cfg, log, SummaryWriter)
    finally:
        if limits is not None:
            limits.restore_original_limits()


def _sweep(cfg: DemoConfig, log, SummaryWriter) -> list[dict]:
    data = load_digits_data(cfg.val_fraction, cfg.seed)
    graph_model = _torch_graph_factory(cfg.graph, log)
    results = []
    for lr in cfg.learning_rates:
        name = run_name(lr)
        with SummaryWriter(os.path.join(cfg.logdir, name), flush_secs=1) as writer:
            res = train_run(writer, cfg, lr, data, graph_model, log)
        res["run"] = name
        results.append(res)
    return results
