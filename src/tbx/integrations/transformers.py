"""Hugging Face Transformers: :class:`TensorBoardCallback` for the ``Trainer``, written with tbx.

``pip install "tbx[transformers]"``, then give the callback to the ``Trainer``::

    from transformers import Trainer, TrainingArguments
    from tbx.integrations.transformers import TensorBoardCallback

    trainer = Trainer(model=model, args=TrainingArguments("out", logging_steps=10),
                      train_dataset=train, callbacks=[TensorBoardCallback()])

It writes what Transformers' own ``TensorBoardCallback`` (``report_to="tensorboard"``) writes,
where that one writes it: at the start of training the text summaries ``args`` (the
``TrainingArguments`` as JSON) and ``model_config`` (the model's config as JSON), then on every
log of the ``Trainer`` each number as a scalar at ``state.global_step``, named as Transformers
names them (``loss`` -> ``train/loss``, ``eval_loss`` -> ``eval/loss``, ``test_x`` ->
``test/x``), strings as text. It needs neither ``tensorboard`` nor ``tensorboardX`` (the
Transformers callback needs one of them, and writes with ``torch.utils.tensorboard``).

Leave ``report_to`` at ``"none"`` (Transformers 5's default) or set it to other integrations: with
``report_to="tensorboard"`` (or ``"all"``) the ``Trainer`` also adds its own callback, and both
would write. tbx does not patch Transformers to replace that callback. Transformers' own callback
also accepts a tbx writer (``TensorBoardCallback(tb_writer=tbx.SummaryWriter(...))``, when
``tensorboard`` or ``tensorboardX`` is installed), since tbx's ``SummaryWriter`` has the same
methods.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - exercised without transformers installed
    raise ImportError(
        'tbx.integrations.transformers needs Hugging Face Transformers: '
        'pip install "tbx[transformers]"'
    ) from exc

__all__ = ["TensorBoardCallback", "rename_logs"]

_PREFIXES = (("eval_", "eval/"), ("test_", "test/"))


def rename_logs(logs: dict) -> dict:
    """The ``Trainer``'s log keys as TensorBoard tags: ``eval_x`` -> ``eval/x``, ``test_x`` ->
    ``test/x``, any other ``x`` -> ``train/x`` (Transformers' naming)."""
    out = {}
    for key, value in logs.items():
        for prefix, group in _PREFIXES:
            if key.startswith(prefix):
                out[group + key[len(prefix):]] = value
                break
        else:
            out["train/" + key] = value
    return out


def _default_logdir() -> str:
    """``runs/<Mon DD_HH-MM-SS>_<hostname>``, as Transformers and torch name a new run."""
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}")


class TensorBoardCallback(TrainerCallback):
    """A ``TrainerCallback`` logging the ``Trainer``'s logs into a tbx :class:`~tbx.SummaryWriter`.

    Args:
        tb_writer: the writer to use (a :class:`tbx.SummaryWriter`, or any object with its
            ``add_scalar``, ``add_text``, ``flush`` and ``close``); by default one is created at
            the start of training, in the first of: ``log_dir``; the environment variable
            ``TENSORBOARD_LOGGING_DIR``; ``args.logging_dir`` (Transformers 4); else
            ``<args.output_dir>/runs/<Mon DD_HH-MM-SS>_<hostname>``. During a hyperparameter
            search each trial gets its own run, ``<args.output_dir>/runs/<...>/<trial name>``.
        log_dir: the run's folder for the writer this callback creates.

    Only the process of global rank 0 writes. The writer is closed at the end of training and
    kept: logs after it (``trainer.evaluate()``) go to a new event file in the same run.
    """

    def __init__(self, tb_writer=None, log_dir: str | os.PathLike | None = None):
        self.tb_writer = tb_writer
        env = os.environ.get("TENSORBOARD_LOGGING_DIR")
        if log_dir is not None:
            self.logging_dir = os.fspath(log_dir)
        elif env:
            self.logging_dir = os.path.expanduser(env)
        else:
            self.logging_dir = None

    def _resolve_logdir(self, args, state) -> str:
        if state.is_hyper_param_search and state.trial_name is not None:
            return os.path.join(args.output_dir, _default_logdir(), state.trial_name)
        if self.logging_dir is not None:
            return self.logging_dir
        return getattr(args, "logging_dir", None) or os.path.join(
            args.output_dir, _default_logdir()
        )

    def _writer(self, args, state):
        if self.tb_writer is None:
            from tbx import SummaryWriter

            self.logging_dir = self._resolve_logdir(args, state)
            self.tb_writer = SummaryWriter(log_dir=self.logging_dir)
        return self.tb_writer

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        if state.is_hyper_param_search and state.trial_name is not None and self.tb_writer:
            self.tb_writer.close()  # a new trial: a run of its own
            self.tb_writer = None
        writer = self._writer(args, state)
        writer.add_text("args", args.to_json_string())
        to_json = getattr(getattr(kwargs.get("model"), "config", None), "to_json_string", None)
        if callable(to_json):
            writer.add_text("model_config", to_json())

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        writer = self._writer(args, state)
        for tag, value in rename_logs(logs).items():
            if isinstance(value, (int, float)):
                writer.add_scalar(tag, value, state.global_step)
            elif isinstance(value, str):
                writer.add_text(tag, value, state.global_step)
            # other values (lists, dicts, tensors) are skipped, as by Transformers' callback
        writer.flush()

    def on_train_end(self, args, state, control, **kwargs):
        if self.tb_writer is not None:
            self.tb_writer.close()  # kept: a later trainer.evaluate() logs into the same run
