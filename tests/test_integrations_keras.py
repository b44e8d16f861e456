"""tbx.integrations.keras.TensorBoard with KERAS_BACKEND=torch: a tiny model fitted for two
epochs of two batches; the values read back equal what Keras reports (History and a recording
callback), at Keras' steps, in Keras' runs and tags; histograms hold the weights; both graphs
are written and the official TensorBoard reads the conceptual one."""

from __future__ import annotations

import io
import json
import os
import sys

import numpy as np
import pytest

if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "torch") != "torch":
    pytest.skip("keras was imported with another backend", allow_module_level=True)
os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("torch")
keras = pytest.importorskip("keras", reason='pip install "tbx[keras]"')
if keras.backend.backend() != "torch":
    pytest.skip(f"KERAS_BACKEND is {keras.backend.backend()}, not torch", allow_module_level=True)
pytest.importorskip("pandas")

from tbx import read  # noqa: E402
from tbx.integrations.keras import TensorBoard  # noqa: E402

# Keras' own conversions to numpy warn under numpy 2 (keras/src/backend/...: np.array(x))
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


class Recorder(keras.callbacks.Callback):
    """What Keras hands the callbacks: batch logs in order, evaluation logs with iterations."""

    def __init__(self):
        super().__init__()
        self.batches, self.evaluations = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))

    def on_test_end(self, logs=None):
        self.evaluations.append((int(self.model.optimizer.iterations.numpy()), dict(logs)))


def _fit(log_dir, epochs=2, **kwargs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(3, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = np.random.RandomState(0).randn(16, 4).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    rec = Recorder()
    history = model.fit(x, y, batch_size=8, epochs=epochs, validation_data=(x, y), verbose=0,
                        callbacks=[TensorBoard(log_dir, **kwargs), rec])
    return model, history.history, rec


def _f32(values):
    return [float(np.float32(v)) for v in values]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("keras") / "logs"
    model, history, rec = _fit(log_dir, histogram_freq=1, update_freq="batch",
                               write_images=True)
    return log_dir, model, history, rec, read(log_dir)


def test_runs_and_tags(fitted):
    log_dir, _, _, _, data = fitted
    assert data.runs == ["train", "validation"]
    scalars = {r: {t for t, i in tags.items() if i.plugin_name == "scalars"}
               for r, tags in data.tags.items()}
    assert scalars == {
        "train": {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "batch_loss",
                  "batch_accuracy"},
        "validation": {"epoch_loss", "epoch_accuracy", "evaluation_loss_vs_iterations",
                       "evaluation_accuracy_vs_iterations"},
    }


def test_epoch_values_are_the_history(fitted):
    _, _, history, _, data = fitted
    for run, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "accuracy"):
            s = data.scalar_series(run, f"epoch_{metric}")
            assert s.step.tolist() == [0, 1]
            assert s.value.tolist() == _f32(history[prefix + metric]), (run, metric)
    assert data.scalar_series("train", "epoch_learning_rate").value.tolist() == _f32([0.1, 0.1])


def test_batch_values_at_keras_steps(fitted):
    _, _, _, rec, data = fitted
    s = data.scalar_series("train", "batch_loss")
    assert s.step.tolist() == [1, 2, 3, 4]  # counted from 1 over the whole fit
    assert s.value.tolist() == _f32([b["loss"] for b in rec.batches])
    ev = data.scalar_series("validation", "evaluation_loss_vs_iterations")
    assert ev.step.tolist() == [it for it, _ in rec.evaluations] == [2, 4]
    assert ev.value.tolist() == _f32([logs["loss"] for _, logs in rec.evaluations])


def test_histograms_hold_the_final_weights(fitted):
    _, model, _, _, data = fitted
    h = data.histograms
    h = h[h.step == 1].set_index(h[h.step == 1]["tag"].astype(str))
    for layer in model.layers:
        for w in layer.weights:
            values = keras.ops.convert_to_numpy(w)
            row = h.loc[f"{w.path}/histogram"]
            assert row["num"] == values.size
            assert row["min"] == values.min() and row["max"] == values.max()
            assert row["sum"] == pytest.approx(float(values.astype(np.float64).sum()), rel=1e-6)


def test_weight_images(fitted):
    from PIL import Image

    _, _, _, _, data = fitted
    img = data.images
    kernel = img[(img.tag == "sequential/dense/kernel/image") & (img.step == 0)].iloc[0]
    with Image.open(io.BytesIO(kernel["image"])) as im:
        assert im.size == (4, 3)  # the (4, 3) kernel, longer side horizontal
        pixels = np.asarray(im.convert("L"))
    assert pixels.min() == 0 and pixels.max() == 255  # scaled by its min and max


def test_graphs(fitted):
    log_dir, model, _, _, data = fitted
    tags = data.tags["train"]
    assert tags["__run_graph__"].plugin_name == "graphs"
    assert tags["keras"].plugin_name == "graph_keras_model"
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.graph import keras_util
    from tensorboard.util import tensor_util

    acc = EventAccumulator(str(log_dir / "train"))
    acc.Reload()
    model_json = tensor_util.make_ndarray(acc.Tensors("keras")[0].tensor_proto).item()
    assert json.loads(model_json) == json.loads(model.to_json())
    conceptual = keras_util.keras_model_to_graph_def(json.loads(model_json))
    assert [n.name for n in conceptual.node] == [
        "sequential/input_layer", "sequential/dense", "sequential/dense_1"]
    nodes = acc.Graph().node
    assert {"aten::matmul", "aten::add", "aten::relu", "aten::softmax"} <= {n.op for n in nodes}
    params = {n.name.rsplit("]/", 1)[-1] for n in nodes if n.op == "prim::GetAttr"}
    assert params == {w.path for w in model.weights}  # each weight read, named by its path


def test_update_freq_and_steps_per_second(tmp_path):
    _, history, rec = _fit(tmp_path, update_freq=3, write_graph=False, epochs=3,
                           write_steps_per_second=True)
    data = read(tmp_path)
    loss = data.scalar_series("train", "batch_loss")
    assert loss.step.tolist() == [3, 6]
    assert loss.value.tolist() == _f32([rec.batches[2]["loss"], rec.batches[5]["loss"]])
    assert data.scalar_series("train", "batch_steps_per_second").step.tolist() == [3, 6]
    sps = data.scalar_series("train", "epoch_steps_per_second")
    assert sps.step.tolist() == [0, 1, 2] and (sps.value > 0).all()
    assert "keras" not in data.tags["train"] and "__run_graph__" not in data.tags["train"]


def test_epoch_only_by_default(tmp_path):
    _fit(tmp_path, write_graph=False)
    data = read(tmp_path)
    assert not [t for t in data.tags["train"] if t.startswith("batch_")]
    assert not [t for t in data.tags["train"] if t.endswith("/histogram")]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"update_freq": "step"}, ValueError, "update_freq must be 'batch', 'epoch'"),
    ({"update_freq": 0}, ValueError, "update_freq must be >= 1"),
    ({"histogram_freq": -1}, ValueError, "histogram_freq must be >= 0"),
    ({"histogram_freq": 1.5}, TypeError, "histogram_freq must be an int"),
    ({"profile_batch": 2}, ValueError, "profiling is not supported"),
    ({"embeddings_freq": 1}, ValueError, "embeddings are not supported"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TensorBoard("logs", **kwargs)


def test_evaluate_alone(tmp_path):
    model, _, _ = _fit(tmp_path / "fit", epochs=1, write_graph=False)
    x = np.ones((4, 4), dtype="float32")
    y = np.zeros(4, dtype="int64")
    result = model.evaluate(x, y, verbose=0, return_dict=True,
                            callbacks=[TensorBoard(tmp_path / "eval", write_graph=False)])
    data = read(tmp_path / "eval")  # readable before the callback is closed
    ev = data.scalar_series("validation", "evaluation_loss_vs_iterations")
    assert ev.step.tolist() == [2]  # the optimizer's iterations after one epoch of 2 batches
    assert ev.value.tolist() == _f32([result["loss"]])
