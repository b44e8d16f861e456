"""``tbx demo``: train a small classifier on real data and log every kind of data tbx writes.

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

import argparse
import contextlib
import math
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

from tbx.demo import geometry
from tbx.demo.mlp import MLP, Adam, cross_entropy

__all__ = [
    "DemoConfig",
    "DigitsData",
    "load_digits_data",
    "train_run",
    "run_sweep",
    "run_name",
    "torch_equivalent",
    "ViewerProcess",
    "add_demo_parser",
    "demo_main",
]

N_CLASSES = 10
IMAGE_SIDE = 8
SERVE_PACE = 0.25  # seconds of pause per epoch while the viewer watches (about 10 s in all)
UPSCALE = 4  # sample digits are logged as 40x40 images (1-pixel border, 4x) to be visible


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


@dataclass
class DigitsData:
    """The digits split into training and validation sets.

    Attributes:
        x_train, x_val: ``(N, 64)`` float32 pixels scaled to [0, 1].
        y_train, y_val: ``(N,)`` int64 digit labels 0..9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @staticmethod
    def images(x: np.ndarray, upscale: int = 1, border: int = 0) -> np.ndarray:
        """``(N, 1, S, S)`` float32 images in [0, 1] of ``(N, 64)`` rows, with
        ``S = (8 + 2 * border) * upscale``: a black ``border`` (in original pixels) around each
        digit, so that tiled digits do not touch, then nearest-neighbour upscaling."""
        img = x.reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE)
        if border:
            img = np.pad(img, ((0, 0), (0, 0), (border, border), (border, border)))
        if upscale > 1:
            img = img.repeat(upscale, axis=2).repeat(upscale, axis=3)
        return np.ascontiguousarray(img, dtype=np.float32)


def load_digits_data(val_fraction: float = 0.2, seed: int = 0) -> DigitsData:
    """scikit-learn's bundled digits (no download), split with stratification.

    Raises:
        ImportError: scikit-learn is not installed (``pip install "tbx[demo]"``).
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as e:
        raise ImportError(f'tbx demo needs scikit-learn: pip install "tbx[demo]" ({e})') from e
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_tr, x_va, y_tr, y_va = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=seed
    )
    return DigitsData(x_tr, y_tr, x_va, y_va)


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


def _confusion_figure(y_true, y_pred, title: str):
    from matplotlib.figure import Figure  # no pyplot: no backend or display is involved
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=np.arange(N_CLASSES))
    fig = Figure(figsize=(5, 4.6), dpi=80)
    ax = fig.add_subplot()
    ConfusionMatrixDisplay(cm, display_labels=np.arange(N_CLASSES)).plot(
        ax=ax, colorbar=False, cmap="Blues"
    )
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _misclassified_figure(x, y_true, y_pred, title: str, limit: int = 32):
    """One axes: a mosaic of up to ``limit`` misclassified digits, each captioned
    ``predicted / true`` (one axes keeps matplotlib fast)."""
    from matplotlib.figure import Figure  # no pyplot: no backend or display is involved

    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:limit]
    cols = 8
    rows = max(1, math.ceil(len(shown) / cols))
    cell_w, cell_h = IMAGE_SIDE + 2, IMAGE_SIDE + 5  # room for the caption above each digit
    mosaic = np.zeros((rows * cell_h, cols * cell_w), np.float32)
    fig = Figure(figsize=(cols * 0.8, rows * 1.0 + 0.5), dpi=80)
    ax = fig.add_subplot()
    for k, i in enumerate(shown):
        r, c = divmod(k, cols)
        top, left = r * cell_h + 4, c * cell_w + 1
        mosaic[top : top + IMAGE_SIDE, left : left + IMAGE_SIDE] = x[i].reshape(
            IMAGE_SIDE, IMAGE_SIDE
        )
        ax.text(
            left + IMAGE_SIDE / 2 - 0.5,
            top - 1.2,
            f"{y_pred[i]} / {y_true[i]}",
            ha="center",
            va="bottom",
            fontsize=9,
            color="crimson",
        )
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    more = f" (first {len(shown)})" if len(wrong) > len(shown) else ""
    ax.set_title(f"{title}: {len(wrong)} misclassified{more}, predicted / true", fontsize=10)
    fig.tight_layout()
    return fig


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
                "val/confusion_matrix", _confusion_figure(data.y_val, pred, title), step
            )
            writer.add_figure(
                "val/misclassified",
                _misclassified_figure(data.x_val, data.y_val, pred, title),
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


# ---------------------------------------------------------------------------- the viewer


class ViewerProcess:
    """``tbx serve LOGDIR`` in a child process (the viewer's :func:`tbx.viewer.server.serve`),
    so that it runs beside the training on another core. A port in use is handled as by
    ``tbx serve``: a free one is taken and the viewer says so; the viewer's messages (stderr)
    are passed on to this process' stderr.

    Use :meth:`start`; ``url`` is the address it printed. :meth:`stop` ends it.
    """

    # The child reads its stdin, a pipe that only this process holds open: end of file means
    # this process is gone (even by SIGKILL), and the viewer stops instead of keeping the port.
    _CODE = (
        "import os, signal, sys, threading\n"
        "def _parent_gone():\n"
        "    while os.read(0, 4096):\n"
        "        pass\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    threading.Timer(10, os._exit, (1,)).start()\n"
        "threading.Thread(target=_parent_gone, daemon=True).start()\n"
        "from tbx.viewer.server import serve\n"
        "sys.exit(serve(sys.argv[1], host=sys.argv[2], port=int(sys.argv[3])))\n"
    )

    def __init__(self, proc, url: str):
        self.proc = proc
        self.url = url

    @classmethod
    def start(cls, logdir: str, host: str = "127.0.0.1", port: int = 6006, timeout: float = 30):
        """Start the viewer and wait (at most ``timeout`` seconds) for its URL.

        Returns:
            a running :class:`ViewerProcess`.

        Raises:
            RuntimeError: the viewer is not installed or did not start; the message says why.
        """
        import importlib.util
        import queue
        import subprocess
        import threading

        missing = [m for m in ("uvicorn", "starlette") if importlib.util.find_spec(m) is None]
        if missing or importlib.util.find_spec("tbx.viewer.server") is None:
            raise RuntimeError(
                f"the viewer is not installed ({', '.join(missing) or 'tbx.viewer.server'} "
                f'missing): pip install "tbx[viewer]"'
            )
        proc = subprocess.Popen(
            [sys.executable, "-u", "-c", cls._CODE, os.fspath(logdir), host, str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue = queue.Queue()
        errors: list[str] = []

        def pump(stream, sink):
            for line in stream:
                sink(line.rstrip("\n"))
            if stream is proc.stdout:
                lines.put(None)

        started = threading.Event()
        lock = threading.Lock()

        def relay(line: str) -> None:  # kept for the error until started, passed on after
            if "no event files found" in line:
                return  # the demo is about to write them
            with lock:
                if started.is_set():
                    print(line, file=sys.stderr, flush=True)
                else:
                    errors.append(line)

        threading.Thread(target=pump, args=(proc.stdout, lines.put), daemon=True).start()
        threading.Thread(target=pump, args=(proc.stderr, relay), daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
                proc.kill()
            if line is None:
                proc.wait()
                tail = "\n".join(errors[-5:]).strip() or "no output"
                raise RuntimeError(f"the viewer did not start: {tail}")
            if " at http" in line:
                with lock:
                    for note in errors:
                        print(note, file=sys.stderr, flush=True)
                    started.set()
                return cls(proc, line.rsplit(" at ", 1)[1].strip())

    def stop(self) -> None:
        """End the viewer process (terminate, then kill after 5 s)."""
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def wait(self) -> None:
        """Block until the viewer process ends (e.g. on Ctrl-C)."""
        self.proc.wait()


# ---------------------------------------------------------------------------- the command


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        msg = f"expected a positive whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {v}")
    return v


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 0..65535, got {v}")
    return v


def _nonnegative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (v >= 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text}")
    return v


def _learning_rates(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated learning rates such as 0.003,0.01,0.03, got {text!r}"
        ) from None
    if not values or any(not (v > 0 and math.isfinite(v)) for v in values):
        raise argparse.ArgumentTypeError(f"learning rates must be positive numbers, got {text!r}")
    if len({run_name(v) for v in values}) != len(values):
        raise argparse.ArgumentTypeError(f"learning rates must differ, got {text!r}")
    return values


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand on an ``argparse`` subparsers object; its ``func``
    default runs :func:`demo_main`."""
    d = DemoConfig()
    p = subparsers.add_parser(
        "demo",
        help="train a small classifier on real data (digits) and view it live",
        description=(
            "Train a NumPy MLP on scikit-learn's handwritten digits with a short learning-rate "
            "sweep, logging scalars, histograms, images, figures, PR curves, an embedding, "
            "hparams, text and (with torch) the model graph. Unless --no-serve, the viewer "
            "is started on LOGDIR first and its URL printed, so the curves can be watched "
            "as they grow."
        ),
    )
    p.add_argument("--logdir", default=d.logdir,
                   help=f"local folder for the runs, made when missing (default {d.logdir}; "
                        "not a URL)")
    p.add_argument("--no-serve", action="store_true", help="only train; do not start the viewer")
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=d.epochs,
        help=f"epochs per run (default {d.epochs})",
    )
    p.add_argument(
        "--lr",
        type=_learning_rates,
        default=d.learning_rates,
        metavar="LR[,LR...]",
        help="peak learning rates of the sweep, one run each (default "
        + ",".join(f"{v:g}" for v in d.learning_rates)
        + ")",
    )
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument(
        "--port", type=_port, default=6006,
        help="viewer port (default 6006; if it is taken, a free one is used and printed; "
        "0 = any free)",
    )
    p.add_argument(
        "--pace",
        type=_nonnegative_float,
        default=None,
        metavar="S",
        help="seconds to pause after each epoch so the live view can be followed "
        "(default 0.25 while serving, 0 with --no-serve)",
    )
    p.add_argument(
        "--no-graph", action="store_true", help="do not log the model graph (skips importing torch)"
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the demo's run folders in LOGDIR left by an earlier demo",
    )
    p.add_argument(
        "--exit",
        action="store_true",
        help="stop the viewer when training ends (default: keep serving until Ctrl-C)",
    )
    p.set_defaults(func=demo_main)
    return p


#: Set by Ctrl-C or SIGTERM while the demo runs. A KeyboardInterrupt raised where Python cannot
#: pass it on (a weakref or garbage-collection callback prints "Exception ignored" and goes on)
#: would be lost; the training loop checks this at every batch and stops all the same.
STOP = threading.Event()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM stops the demo like Ctrl-C (so the viewer process is stopped
    too), and both set :data:`STOP`; the previous handlers are restored afterwards. A SIGINT
    that the demo was started to ignore (``nohup``, a shell's background job) stays ignored."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        STOP.set()
        raise KeyboardInterrupt

    STOP.clear()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig, before in previous.items():
        if before is not signal.SIG_IGN:
            signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


def demo_main(args) -> int:
    """Run ``tbx demo`` from parsed arguments; returns the exit status."""
    from tbx.reader._names import is_url

    if is_url(args.logdir):
        print(f"tbx demo: error: --logdir {args.logdir!r} is a URL; the demo writes a local "
              f"folder (tbx serve and SummaryWriter take URLs)", file=sys.stderr)
        return 2
    if os.path.exists(args.logdir) and not os.path.isdir(args.logdir):
        print(f"tbx demo: error: --logdir {args.logdir!r} is a file; expected a folder (it is "
              f"made when missing)", file=sys.stderr)
        return 2
    cfg = DemoConfig(
        logdir=args.logdir,
        epochs=args.epochs,
        learning_rates=tuple(args.lr),
        seed=args.seed,
        graph=not args.no_graph,
        pace=(0.0 if args.no_serve else SERVE_PACE) if args.pace is None else args.pace,
    )
    existing = [
        run_name(lr)
        for lr in cfg.learning_rates
        if os.path.isdir(os.path.join(cfg.logdir, run_name(lr)))
        and os.listdir(os.path.join(cfg.logdir, run_name(lr)))
    ]
    if existing:
        if not args.overwrite:
            print(
                f"tbx demo: error: {cfg.logdir} already holds the run(s) {', '.join(existing)} "
                f"of an earlier demo; pass --overwrite to replace them or --logdir to choose "
                f"another folder",
                file=sys.stderr,
            )
            return 2
        for name in existing:
            shutil.rmtree(os.path.join(cfg.logdir, name))
    try:
        os.makedirs(cfg.logdir, exist_ok=True)
    except OSError as exc:
        print(f"tbx demo: error: --logdir {cfg.logdir!r} cannot be made: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2

    if args.no_serve:
        with _sigterm_as_interrupt():
            return _train(cfg, None)
    with _sigterm_as_interrupt():
        try:
            viewer = ViewerProcess.start(cfg.logdir, port=args.port)
        except RuntimeError as e:
            print(f"tbx demo: {e}; training without the live view", file=sys.stderr)
            return _train(cfg, None)
        print(f"tbx viewer at {viewer.url}  (open it to watch the runs live)", flush=True)
        status = 130
        try:
            status = _train(cfg, viewer)
            if status == 0 and not args.exit:
                if viewer.proc.poll() is not None:  # e.g. Ctrl-C reached its process too
                    print(f"\nThe viewer has stopped (exit status {viewer.proc.returncode}); "
                          f"view the runs with: tbx serve {cfg.logdir}", flush=True)
                    return status
                print(f"\nStill serving at {viewer.url} ; press Ctrl-C to stop.", flush=True)
                viewer.wait()
        except KeyboardInterrupt:
            print("\nstopped")
        finally:
            viewer.stop()
    return status


def _train(cfg: DemoConfig, viewer) -> int:
    """The sweep with progress lines; 130 when interrupted."""
    try:
        t0 = time.perf_counter()
        lrs = ", ".join(f"{v:g}" for v in cfg.learning_rates)
        print(
            f"Training an MLP on the digits ({cfg.epochs} epochs, learning rates {lrs}) "
            f"into {cfg.logdir}",
            flush=True,
        )
        results = run_sweep(cfg, log=lambda s: print(s, flush=True))
        elapsed = time.perf_counter() - t0
        if STOP.is_set():  # a Ctrl-C whose KeyboardInterrupt was swallowed after the last batch
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    print(f"\nDone in {elapsed:.1f} s. Final validation accuracy per run:")
    for r in results:
        print(f"  {r['run']:>9}: {r['val_accuracy']:6.1%}  (val loss {r['val_loss']:.3f})")
    if viewer is None:
        print(f"\nView it with: tbx serve {cfg.logdir}")
    return 0


def main(argv=None) -> int:
    """``python -m tbx.demo [options]``: the ``tbx demo`` command on its own."""
    from tbx._cliutil import Parser

    parser = Parser(prog="tbx")
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(sub)
    args = parser.parse_args(["demo", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
