"""PyTorch Lightning: :class:`TbxLogger`, Lightning's ``TensorBoardLogger`` written with tbx.

``pip install "tbx[lightning]"``, then replace ``TensorBoardLogger`` with ``TbxLogger``::

    from lightning.pytorch import Trainer
    from tbx.integrations.lightning import TbxLogger

    trainer = Trainer(logger=TbxLogger("tb_logs", name="my_model", log_graph=True))

Same arguments, same folders (``save_dir/name/version_N[/sub_dir]``, the next free ``N`` when no
version is given), same tags and steps, the hyperparameters in the same run (plugin ``hparams``,
with the ``hp_metric`` placeholder) and in ``hparams.yaml``, the graph when ``log_graph=True`` and
the model has ``example_input_array``; ``logger.experiment`` is a :class:`tbx.SummaryWriter`. It
needs neither ``tensorboard`` nor ``tensorboardX`` (Lightning's logger needs one of them).

Works with the ``lightning`` package (``lightning.pytorch``), or ``pytorch_lightning`` when
``lightning`` is not installed. ``TbxLogger`` is registered as a virtual subclass of Lightning's
``TensorBoardLogger`` (``abc.ABC.register``), so code that checks for a TensorBoard logger treats
it as one (``trainer.log_dir`` is the version folder, as with ``TensorBoardLogger``).
"""

from __future__ import annotations

import importlib
import os
from argparse import Namespace
from collections.abc import Mapping
from typing import Any


def _import_lightning():
    """(lightning.pytorch, lightning.fabric) or the standalone (pytorch_lightning,
    lightning_fabric)."""
    try:
        return (importlib.import_module("lightning.pytorch"),
                importlib.import_module("lightning.fabric"))
    except ImportError:
        pass
    try:
        return (importlib.import_module("pytorch_lightning"),
                importlib.import_module("lightning_fabric"))
    except ImportError as exc:
        raise ImportError(
            'tbx.integrations.lightning needs PyTorch Lightning: pip install "tbx[lightning]"'
        ) from exc


pl, _fabric = _import_lightning()
_sub = importlib.import_module
_fabric_logger = _sub(f"{_fabric.__name__}.loggers.logger")
_fabric_log_utils = _sub(f"{_fabric.__name__}.utilities.logger")
_cloud_io = _sub(f"{_fabric.__name__}.utilities.cloud_io")
_rank_zero = _sub(f"{pl.__name__}.utilities.rank_zero")
_saving = _sub(f"{pl.__name__}.core.saving")
_loggers = _sub(f"{pl.__name__}.loggers")

rank_zero_only = _rank_zero.rank_zero_only
rank_zero_experiment = _fabric_logger.rank_zero_experiment

__all__ = ["TbxLogger"]


def _is_dir(fs, path: str) -> bool:
    try:
        return fs.isdir(path)
    except OSError:
        return False


class TbxLogger(_loggers.Logger):
    r"""A Lightning logger writing TensorBoard event files with :class:`tbx.SummaryWriter`, with
    the arguments and behaviour of ``lightning.pytorch.loggers.TensorBoardLogger``.

    The run's folder (:attr:`log_dir`) is ``save_dir/name/version`` (``save_dir/version`` when
    ``name`` is empty), plus ``sub_dir`` when given; ``version`` is an int (folder
    ``version_<int>``) or a folder name; by default the next integer after the largest
    ``version_<int>`` folder already in ``save_dir/name`` (0 when there is none). ``save_dir``
    may be an fsspec URL (``s3://bucket/logs``), as for :class:`tbx.SummaryWriter`.

    Args:
        save_dir: the folder of all experiments (a path or an fsspec URL).
        name: the experiment's folder in ``save_dir`` (default ``"lightning_logs"``); ``""`` or
            None for none.
        version: an int, a folder name, or None for the next free ``version_<int>``.
        log_graph: :meth:`log_graph` writes the model's graph (traced with
            ``torch.jit.trace`` on ``model.example_input_array``; plugin ``graphs``).
        default_hp_metric: :meth:`log_hyperparams` without metrics logs ``hp_metric = -1`` so
            that TensorBoard's hparams dashboard shows the run (without any metric, nothing is
            written to the event file).
        prefix: put before every metric's tag, joined with ``"-"`` (``"train-loss"``).
        sub_dir: a folder inside the version folder, for the event files.
        **kwargs: passed to :class:`tbx.SummaryWriter` (``max_queue``, ``flush_secs``,
            ``filename_suffix``, ``write_to_disk``, ...).

    Raises:
        TypeError: an argument :class:`tbx.SummaryWriter` does not accept, when
            :attr:`experiment` is first used.
    """

    LOGGER_JOIN_CHAR = "-"
    NAME_HPARAMS_FILE = "hparams.yaml"

    def __init__(
        self,
        save_dir: str | os.PathLike,
        name: str | None = "lightning_logs",
        version: int | str | None = None,
        log_graph: bool = False,
        default_hp_metric: bool = True,
        prefix: str = "",
        sub_dir: str | os.PathLike | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        self._root_dir = os.fspath(save_dir)
        self._name = name or ""
        self._version = version
        self._log_graph = log_graph
        self._default_hp_metric = default_hp_metric
        self._prefix = prefix
        self._sub_dir = None if sub_dir is None else os.fspath(sub_dir)
        self._fs = _cloud_io.get_filesystem(self._root_dir)
        self._kwargs = kwargs
        self._experiment = None
        self.hparams: dict[str, Any] | Any = {}

    # ------------------------------------------------------------------ where

    @property
    def name(self) -> str:
        """The experiment's folder name (``""`` for none)."""
        return self._name

    @property
    def version(self) -> int | str:
        """The version: as given, else the next free integer (fixed on first use)."""
        if self._version is None:
            self._version = self._next_version()
        return self._version

    @property
    def save_dir(self) -> str:
        """The folder of all experiments (``save_dir`` as given)."""
        return self._root_dir

    @property
    def root_dir(self) -> str:
        """``save_dir/name``: the folder holding this experiment's versions."""
        return os.path.join(self._root_dir, self._name)

    @property
    def sub_dir(self) -> str | None:
        return self._sub_dir

    @property
    def log_dir(self) -> str:
        """The run's folder: ``save_dir/name/version_<N>`` (or ``.../<version str>``), then
        ``sub_dir``; ``~`` and environment variables expanded."""
        version = self.version if isinstance(self.version, str) else f"version_{self.version}"
        path = os.path.join(self.root_dir, version)
        if isinstance(self._sub_dir, str):
            path = os.path.join(path, self._sub_dir)
        return os.path.expanduser(os.path.expandvars(path))

    def _next_version(self) -> int:
        try:
            entries = self._fs.listdir(self.root_dir)
        except OSError:
            return 0
        found = []
        for entry in entries:
            path = entry["name"]
            base = os.path.basename(path.rstrip("/"))
            number = base[len("version_"):] if base.startswith("version_") else ""
            if number.isdigit() and _is_dir(self._fs, path):
                found.append(int(number))
        return max(found) + 1 if found else 0

    # ------------------------------------------------------------------ what

    @property
    @rank_zero_experiment
    def experiment(self):
        """The run's :class:`tbx.SummaryWriter` (created on first use, in :attr:`log_dir`);
        on processes other than global rank 0, an object whose methods do nothing."""
        if self._experiment is None:
            from tbx import SummaryWriter

            if self._root_dir:
                self._fs.makedirs(self._root_dir, exist_ok=True)
            self._experiment = SummaryWriter(log_dir=self.log_dir, **self._kwargs)
        return self._experiment

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Each metric as a scalar at ``step`` (tag: ``prefix-name`` with a prefix); a dict
        value as ``add_scalars``: one sub-run per key, ``<log_dir>/<tag>/<key>`` as tensorboardX
        names them (``TensorBoardLogger`` over ``torch.utils.tensorboard`` names them
        ``<log_dir>/<tag>_<key>``).

        Raises:
            ValueError: a value that is neither a number, a one-element tensor nor a dict.
        """
        if self._prefix:
            metrics = {f"{self._prefix}{self.LOGGER_JOIN_CHAR}{k}": v for k, v in metrics.items()}
        writer = self.experiment
        for tag, value in metrics.items():
            if hasattr(value, "item") and type(value).__module__.startswith("torch"):
                value = value.item()
            try:
                if isinstance(value, dict):
                    writer.add_scalars(tag, value, step)
                else:
                    writer.add_scalar(tag, value, step)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"metric {tag!r}: cannot log {value!r}; log a number, a one-element tensor "
                    f"or a dict of them ({exc})"
                ) from exc

    @rank_zero_only
    def log_hyperparams(
        self,
        params: dict[str, Any] | Namespace,
        metrics: dict[str, Any] | float | None = None,
        step: int | None = None,
    ) -> None:
        """Write the hyperparameters into this run (plugin ``hparams``), as
        ``TensorBoardLogger`` does: nested dicts flattened with ``/`` keys, values other than
        bool, int, float, str and tensors written as their ``str``; ``metrics`` (a dict, or a
        number meaning ``{"hp_metric": number}``; ``{"hp_metric": -1}`` when None and
        ``default_hp_metric``) logged as scalars at ``step``. Without metrics nothing is written
        to the event file. ``params`` are also kept for ``hparams.yaml`` (see :meth:`save`).
        """
        params = _fabric_log_utils._convert_params(params)
        if type(params).__module__.startswith("omegaconf"):
            from omegaconf import OmegaConf

            self.hparams = OmegaConf.merge(self.hparams, params)
        else:
            self.hparams.update(params)
        flat = _fabric_log_utils._sanitize_params(_fabric_log_utils._flatten_dict(params))
        flat = {k: str(v) if getattr(v, "ndim", 0) > 1 else v for k, v in flat.items()}
        if metrics is None:
            metrics = {"hp_metric": -1} if self._default_hp_metric else None
        elif not isinstance(metrics, dict):
            metrics = {"hp_metric": metrics}
        if not metrics:
            return
        self.log_metrics(metrics, step)
        from tbx.summary.hparams import hparams_summaries

        file_writer = self.experiment.file_writer
        if file_writer is not None:  # None with write_to_disk=False
            for summary in hparams_summaries(flat, metrics):
                file_writer.add_summary(summary, step)

    @rank_zero_only
    def log_graph(self, model, input_array=None) -> None:
        """Write ``model``'s graph (plugin ``graphs``) when the logger was made with
        ``log_graph=True``: traced on ``input_array``, else on ``model.example_input_array``
        (moved to the model's device as a batch would be); a warning and nothing written when
        neither is a tensor or a tuple of positional arguments."""
        if not self._log_graph:
            return
        if input_array is None:
            input_array = getattr(model, "example_input_array", None)
        if input_array is None:
            _rank_zero.rank_zero_warn(
                "Could not log computational graph: set `model.example_input_array` or give "
                "`input_array`."
            )
            return
        import torch

        if not isinstance(input_array, (torch.Tensor, tuple)):
            _rank_zero.rank_zero_warn(
                f"Could not log computational graph: the input has type {type(input_array)}; "
                "give a tensor or a tuple of the positional arguments of `forward()`."
            )
            return
        before = getattr(model, "_on_before_batch_transfer", None)
        transfer = getattr(model, "_apply_batch_transfer_handler", None)
        if callable(before) and callable(transfer):  # a LightningModule: as a batch would be
            input_array = transfer(before(input_array))
        scripting = getattr(getattr(pl.core, "module", None), "_jit_is_scripting", None)
        if callable(scripting):  # silences LightningModule properties that warn while traced
            with scripting():
                self.experiment.add_graph(model, input_array)
        else:
            self.experiment.add_graph(model, input_array)

    @rank_zero_only
    def save(self) -> None:
        """Flush the event file, and write ``hparams.yaml`` (the hyperparameters given to
        :meth:`log_hyperparams`) into :attr:`log_dir` unless it exists."""
        self.experiment.flush()
        path = os.path.join(self.log_dir, self.NAME_HPARAMS_FILE)
        if _is_dir(self._fs, self.log_dir) and not self._fs.isfile(path):
            _saving.save_hparams_to_yaml(path, self.hparams)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Flush and close the event files; on ``status == "success"``, :meth:`save`."""
        if self._experiment is not None:
            self._experiment.flush()
            self._experiment.close()
        if status == "success":
            self.save()

    def after_save_checkpoint(self, checkpoint_callback) -> None:
        """Nothing (checkpoints are not logged), as ``TensorBoardLogger``."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_experiment"] = None  # a copy opens its own writer when used
        return state


_loggers.TensorBoardLogger.register(TbxLogger)
