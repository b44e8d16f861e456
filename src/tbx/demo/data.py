"""The data set of ``tbx demo``: scikit-learn's bundled handwritten digits
(:func:`sklearn.datasets.load_digits`: 1,797 grayscale 8x8 images, 10 classes, pixel values
0..16; no download), scaled to [0, 1] and split into training and validation sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DigitsData", "load_digits_data", "N_CLASSES", "IMAGE_SIDE"]

N_CLASSES = 10
IMAGE_SIDE = 8


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
