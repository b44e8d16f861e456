"""The 10-line start: softmax regression on scikit-learn's digits in NumPy, logged with tbx.

    pip install "tbx[demo]"          # tbx, scikit-learn (the digits ship with it), the viewer
    python examples/numpy_quickstart.py
    tbx serve runs/quickstart         # then open the printed URL
"""

import numpy as np
from sklearn.datasets import load_digits

from tbx import SummaryWriter

x, y = load_digits(return_X_y=True)  # (1797, 64) pixels 0..16, (1797,) digits 0..9
x, w = x / 16.0, np.zeros((64, 10))
with SummaryWriter("runs/quickstart") as writer:
    for step in range(200):
        p = np.exp(x @ w - (x @ w).max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)  # (1797, 10) class probabilities
        w -= 0.5 * x.T @ (p - np.eye(10)[y]) / len(x)  # one step of gradient descent
        writer.add_scalar("loss", -np.log(p[np.arange(len(y)), y]).mean(), step)
        writer.add_scalar("accuracy", (p.argmax(1) == y).mean(), step)
    writer.add_histogram("weights", w, step)
    writer.add_images("weights_per_digit", (w.T.reshape(10, 1, 8, 8) - w.min()) / np.ptp(w), step)
print(f"final accuracy {(p.argmax(1) == y).mean():.1%}; view it with: tbx serve runs/quickstart")
