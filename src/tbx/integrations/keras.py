"""Keras 3: :class:`TensorBoard`, the ``keras.callbacks.TensorBoard`` callback written with tbx,
so it needs no TensorFlow (for example with ``KERAS_BACKEND=torch``).

``pip install "tbx[keras]"``, then use it where ``keras.callbacks.TensorBoard`` was::

    from tbx.integrations.keras import TensorBoard

    model.fit(x, y, validation_data=(xv, yv), epochs=5,
              callbacks=[TensorBoard(log_dir="logs", histogram_freq=1, update_freq="batch")])

Same arguments and the same runs and tags as Keras' callback:

* ``<log_dir>/train``: ``epoch_<metric>`` (``epoch_loss``, ``epoch_accuracy``, ...) and
  ``epoch_learning_rate`` at step = epoch (0-based); ``batch_<metric>`` at step = the training
  batch counted from 1 over the whole ``fit``, every ``update_freq`` batches
  (``update_freq="batch"`` is 1; ``"epoch"``: no batch-level values); with
  ``write_steps_per_second``, ``epoch_steps_per_second`` and ``batch_steps_per_second``; with
  ``histogram_freq=N``, every N epochs a histogram of each weight, tag
  ``<weight path>/histogram`` (``sequential/dense/kernel/histogram``), and with
  ``write_images`` the weight as an image, tag ``<weight path>/image``.
* ``<log_dir>/validation``: ``epoch_<metric>`` of the ``val_`` metrics (prefix removed) at step =
  epoch, and after each evaluation ``evaluation_<metric>_vs_iterations`` at step = the
  optimizer's iteration count.
* The graph (``write_graph=True``): the model's configuration as Keras writes it (tag ``keras``,
  plugin ``graph_keras_model``: TensorBoard's conceptual graph) for ``Sequential`` and functional
  models, and, with the torch backend, the op graph traced by ``torch.jit.trace`` on zeros of the
  model's input shapes (batch size 1), written after the first training batch. The op graph
  is flat: Keras runs its layers without torch's module scopes, so its operations are not grouped
  by layer (the weights it reads are named by their paths); the conceptual graph shows layers.

Differences from Keras' callback (which writes through ``tf.summary``):

* Histograms use tbx's bucket layout (tensorboardX's), not TensorFlow's 30 equal buckets.
* ``write_images``: all kernels of a weight in one grid image (TensorFlow: at most 3 images),
  each weight scaled to [0, 1] by its minimum and maximum (TensorFlow clips to [0, 1]).
* No op graph for the jax, tensorflow and numpy backends, nor for models without known inputs
  (subclassed models not yet called on ``keras.Input``): the conceptual graph only (Keras
  writes TensorFlow's ``train_function`` graph, which exists with the tensorflow backend only).
* ``evaluation_<metric>_vs_iterations`` is written after every evaluation (Keras, with an
  integer ``update_freq``, only when the evaluation's batch count is a multiple of it).
* ``profile_batch`` and ``embeddings_freq`` (TensorFlow's profiler and checkpoints) are not
  supported: anything other than 0 raises ``ValueError``.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

try:
    import keras
except ImportError as exc:  # pragma: no cover - exercised without keras installed
    raise ImportError('tbx.integrations.keras needs Keras 3: pip install "tbx[keras]"') from exc

__all__ = ["TensorBoard"]


def _check_freq(name: str, value, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '>= 1'}, got {value}")
    return int(value)


def _weight_image(w: np.ndarray) -> np.ndarray | None:
    """A weight as NHWC images in [0, 1] (Keras' layout rules), or None when it has none."""
    w = np.squeeze(w)
    if w.ndim == 1:  # a bias: one row
        w = w.reshape(1, 1, -1, 1)
    elif w.ndim == 2:  # a dense kernel, the longer side horizontal
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:  # a 1-D convolution's kernels, one image each
        if keras.backend.image_data_format() == "channels_last":
            w = np.transpose(w, (2, 0, 1))
        w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
    if w.ndim != 4 or w.shape[-1] not in (1, 3, 4):
        return None
    w = w.astype(np.float64)
    lo, hi = np.nanmin(w), np.nanmax(w)
    return np.zeros_like(w) if not hi > lo else (w - lo) / (hi - lo)


class TensorBoard(keras.callbacks.Callback):
    """Keras' TensorBoard callback over tbx writers (what is written where: module docstring).

    Args:
        log_dir: the folder of this training's runs ``train`` and ``validation`` (a path or
            an fsspec URL).
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph: write the model's graph.
        write_images: write weights as images (every ``histogram_freq`` epochs).
        write_steps_per_second: write training steps per second (batch and epoch level).
        update_freq: ``"epoch"`` (epoch-level values only), ``"batch"`` (every batch) or an
            int N >= 1 (every N batches).
        profile_batch: must be 0 (profiling is not supported).
        embeddings_freq: must be 0 (embeddings are not supported; use
            ``SummaryWriter.add_embedding``).
        embeddings_metadata: ignored (accepted for Keras' signature).

    Raises:
        TypeError: ``histogram_freq``, ``update_freq`` of another type.
        ValueError: a negative frequency, an unknown ``update_freq`` string, or a non-zero
            ``profile_batch`` or ``embeddings_freq``.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_freq("histogram_freq", histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            if isinstance(update_freq, str):
                raise ValueError(
                    f"update_freq must be 'batch', 'epoch' or an int >= 1, got {update_freq!r}"
                )
            update_freq = _check_freq("update_freq", update_freq, allow_zero=False)
        self.update_freq = update_freq
        if profile_batch not in (0, None, (0, 0)):
            raise ValueError(
                f"profile_batch={profile_batch!r}: profiling is not supported by tbx's "
                "TensorBoard callback (it needs TensorFlow's profiler); use 0"
            )
        if embeddings_freq:
            raise ValueError(
                f"embeddings_freq={embeddings_freq!r}: embeddings are not supported by tbx's "
                "TensorBoard callback; use 0 (and SummaryWriter.add_embedding for the projector)"
            )
        self.embeddings_freq = 0
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict = {}
        self._global_train_batch = 0
        self._batch_start = 0.0
        self._epoch_start = 0.0
        self._epoch_start_iterations = 0
        self._op_graph_pending = False

    # ------------------------------------------------------------------ writers

    def _writer(self, which: str):
        if which not in self._writers:
            from tbx import SummaryWriter

            self._writers[which] = SummaryWriter(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ------------------------------------------------------------------ graph

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()
        self._op_graph_pending = self.write_graph
        if self.write_graph and type(model).__name__ in ("Sequential", "Functional"):
            try:
                model_json = model.to_json()
            except Exception as exc:  # noqa: BLE001 - a model that cannot serialise
                warnings.warn(f"TensorBoard: the model's configuration was not written: {exc}",
                              stacklevel=2)
            else:
                from tbx.summary.graph import keras_model_summary

                self._writer("train").file_writer.add_summary(keras_model_summary(model_json), 0)

    def _example_inputs(self):
        """Zeros of the model's input shapes (batch 1), or None when they are not known."""
        inputs = getattr(self.model, "inputs", None)
        if not inputs:
            return None
        import torch

        arrays = []
        for spec in inputs:
            shape = [1 if d is None else int(d) for d in spec.shape]
            dtype = getattr(torch, keras.backend.standardize_dtype(spec.dtype))
            arrays.append(torch.zeros(shape, dtype=dtype))
        return arrays[0] if len(arrays) == 1 else tuple(arrays)

    def _write_op_graph(self) -> None:
        self._op_graph_pending = False
        if keras.backend.backend() != "torch":
            return
        example = self._example_inputs()
        if example is None:
            warnings.warn("TensorBoard: no op graph for a model without known inputs "
                          "(call it on keras.Input first)", stacklevel=2)
            return
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            try:
                self._writer("train").add_graph(self.model, example)
            except RuntimeError as exc:
                warnings.warn(f"TensorBoard: the op graph was not written: {exc}", stacklevel=2)

    # ------------------------------------------------------------------ training

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self._op_graph_pending:
            self._write_op_graph()
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        step = self._global_train_batch
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-9), step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                writer.add_scalar(f"batch_{name}", value, step)

    def on_test_end(self, logs=None):
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if iterations is None or not logs:
            return
        step = int(keras.ops.convert_to_numpy(iterations))
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
        writer.flush()  # model.evaluate() alone ends without on_train_end

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = self._iterations()
            self._epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # ------------------------------------------------------------------ helpers

    def _iterations(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def _learning_rates(self) -> dict:
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        out = {}
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                out[f"learning_rate_{opt.name}"] = float(
                    keras.ops.convert_to_numpy(opt.learning_rate))
        elif isinstance(optimizer, keras.optimizers.Optimizer):
            out["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        return out

    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start, 1e-9)
            steps = self._iterations() - self._epoch_start_iterations
            train["steps_per_second"] = steps / elapsed
        for which, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = keras.ops.convert_to_numpy(weight)
                writer.add_histogram(f"{name}/histogram", values, epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_images(f"{name}/image", image, epoch, dataformats="NHWC")
        writer.flush()
