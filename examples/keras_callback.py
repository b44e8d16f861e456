"""Keras 3 on the PyTorch backend, logged with tbx's TensorBoard callback (the arguments of
keras.callbacks.TensorBoard, no TensorFlow needed): a small MLP on scikit-learn's digits.

    pip install "tbx[keras,demo]"
    python examples/keras_callback.py            # runs/keras/train and runs/keras/validation
    tbx serve runs/keras                         # epoch_* and batch_* curves, weight histograms
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from tbx.integrations.keras import TensorBoard  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", default="runs/keras", help="default runs/keras")
    parser.add_argument("--epochs", type=int, default=10, help="default 10")
    parser.add_argument("--examples", type=int, default=1797,
                        help="how many of the 1797 digits to use (default all)")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    x, y = (x / 16.0).astype("float32")[: args.examples], y[: args.examples]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    tensorboard = TensorBoard(args.logdir, histogram_freq=1, update_freq=5)  # batch values: every 5
    history = model.fit(x, y, batch_size=64, epochs=args.epochs, validation_split=0.2,
                        callbacks=[tensorboard], verbose=0)
    acc = history.history["val_accuracy"][-1]
    print(f"val_accuracy {acc:.4f} (backend {keras.backend.backend()}); "
          f"view it with: tbx serve {args.logdir}")


if __name__ == "__main__":
    main()
