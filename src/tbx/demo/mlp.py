"""A small multilayer perceptron in plain NumPy, written for ``tbx demo``.

Fully connected layers with ReLU between them and a softmax cross-entropy loss, trained by
backpropagation with Adam. Everything is float32 NumPy; no deep-learning framework is needed.

Shapes: a batch of inputs is ``(N, D_in)`` float32, labels are ``(N,)`` int class indices in
``[0, n_classes)``, logits and probabilities are ``(N, n_classes)`` float32.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MLP", "Adam", "softmax", "cross_entropy"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits: ``(N, K)`` probabilities summing to 1 per row."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (nats) of ``(N,)`` int ``labels`` under ``(N, K)``
    ``probs``."""
    p = probs[np.arange(len(labels)), labels]
    return float(-np.log(np.maximum(p, 1e-12)).mean())


class MLP:
    """``Linear -> ReLU -> ... -> Linear`` with He-initialised weights.

    Args:
        sizes: layer widths including input and output, e.g. ``(64, 64, 32, 10)`` for
            64 inputs, hidden layers of 64 and 32 units, and 10 classes.
        seed: seed of the weight initialisation.

    Attributes:
        params: ``{name: array}`` in layer order: ``fc1.weight`` ``(D_in, D_out)`` and
            ``fc1.bias`` ``(D_out,)`` (float32), then ``fc2.*``, ...
        layer_names: ``["fc1", "fc2", ...]``.
    """

    def __init__(self, sizes: tuple[int, ...] = (64, 64, 32, 10), seed: int = 0):
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"sizes must be at least two positive widths, got {sizes!r}")
        self.sizes = tuple(int(s) for s in sizes)
        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        self.layer_names = [f"fc{i + 1}" for i in range(len(self.sizes) - 1)]
        for name, d_in, d_out in zip(self.layer_names, self.sizes, self.sizes[1:], strict=False):
            w = rng.normal(0.0, np.sqrt(2.0 / d_in), size=(d_in, d_out))
            self.params[f"{name}.weight"] = w.astype(np.float32)
            self.params[f"{name}.bias"] = np.zeros(d_out, np.float32)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits ``(N, K)`` of inputs ``x`` ``(N, D_in)``, and the activations of every layer
        (the input, then each hidden layer after ReLU), kept for :meth:`backward`."""
        acts = [np.asarray(x, np.float32)]
        h = acts[0]
        last = len(self.layer_names) - 1
        for i, name in enumerate(self.layer_names):
            h = h @ self.params[f"{name}.weight"] + self.params[f"{name}.bias"]
            if i < last:
                h = np.maximum(h, 0.0)
                acts.append(h)
        return h, acts

    def hidden(self, x: np.ndarray) -> np.ndarray:
        """The last hidden layer's activations ``(N, sizes[-2])`` (the learned features)."""
        return self.forward(x)[1][-1]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, K)`` float32."""
        return softmax(self.forward(x)[0])

    def loss_and_grads(
        self, x: np.ndarray, labels: np.ndarray
    ) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """Mean cross-entropy loss (nats) on a batch, its ``(N, K)`` probabilities, and the
        gradient of the loss with respect to every parameter (same names and shapes as
        :attr:`params`)."""
        logits, acts = self.forward(x)
        probs = softmax(logits)
        n = len(labels)
        loss = cross_entropy(probs, labels)
        delta = probs.copy()
        delta[np.arange(n), labels] -= 1.0
        delta /= n
        grads: dict[str, np.ndarray] = {}
        for i in range(len(self.layer_names) - 1, -1, -1):
            name = self.layer_names[i]
            grads[f"{name}.weight"] = acts[i].T @ delta
            grads[f"{name}.bias"] = delta.sum(axis=0)
            if i > 0:
                delta = (delta @ self.params[f"{name}.weight"].T) * (acts[i] > 0)
        return loss, probs, {k: grads[k] for k in self.params}


class Adam:
    """The Adam optimiser (Kingma & Ba, 2015) over a ``{name: array}`` dict, updated in place.

    Args:
        params: the arrays to update (e.g. :attr:`MLP.params`).
        betas: decay rates of the first and second moment estimates.
        eps: added to the denominator.
        weight_decay: decoupled (AdamW) weight decay per unit of learning rate, applied to
            parameters with 2 or more dimensions.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        self.params = params
        self.b1, self.b2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """One update with learning rate ``lr`` from ``grads`` (same names as the params)."""
        self.t += 1
        c1 = 1.0 - self.b1**self.t
        c2 = 1.0 - self.b2**self.t
        for k, p in self.params.items():
            g = grads[k]
            m = self.m[k]
            v = self.v[k]
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            if self.weight_decay and p.ndim > 1:
                p -= lr * self.weight_decay * p
            p -= (lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(p.dtype)
