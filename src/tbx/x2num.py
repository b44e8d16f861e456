"""tensorboardX's ``x2num``: tensor-likes to numpy (``from tbx.x2num import make_np``).

A thin facade over :func:`tbx.convert.to_numpy`, the one conversion path of tbx: numpy arrays as
they are, Python numbers and (nested) lists, torch tensors (any device and dtype, bfloat16 and
``requires_grad`` included: tensorboardX fails on both), jax arrays, and anything with
``__array__``. No framework is imported.
"""

from __future__ import annotations

import logging

import numpy as np

from tbx.convert import to_numpy

__all__ = ["make_np", "check_nan", "prepare_pytorch", "prepare_mxnet", "prepare_chainer",
           "prepare_theano"]

logger = logging.getLogger(__name__)


class UnsupportedInputError(TypeError, NotImplementedError):
    """``make_np`` got something that is not a number, array or tensor (a TypeError, and the
    NotImplementedError tensorboardX raises)."""


def check_nan(array: np.ndarray) -> np.ndarray:
    """Log a warning (logger ``tbx.x2num``) when ``array`` holds NaN or ±Inf, as tensorboardX
    does; return ``array`` unchanged."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        logger.warning("NaN or Inf found in input tensor.")
    return array


def make_np(x) -> np.ndarray:
    """``x`` as a numpy array (0-d for a number; no copy for a numpy array), checked with
    :func:`check_nan`.

    Raises:
        UnsupportedInputError: ``x`` is None, a str, bytes, a dict or set, or holds objects
            numpy can only store as ``dtype=object``.
    """
    try:
        arr = to_numpy(x, "x")
    except TypeError as exc:
        raise UnsupportedInputError(str(exc)) from None
    return check_nan(np.asarray(arr))


def prepare_pytorch(x) -> np.ndarray:
    """A torch tensor (any device or dtype) as numpy."""
    return make_np(x)


def prepare_mxnet(x) -> np.ndarray:
    """An MXNet NDArray as numpy (its ``asnumpy()``)."""
    return make_np(x.asnumpy())


def prepare_chainer(x) -> np.ndarray:
    """A Chainer Variable (its ``array``) or array as numpy (CuPy arrays through
    ``__array__``/``get()``)."""
    data = getattr(x, "array", x)
    get = getattr(data, "get", None)
    return make_np(get() if callable(get) and not isinstance(data, np.ndarray) else data)


def prepare_theano(x) -> None:
    """tensorboardX's placeholder: does nothing and returns None."""
    return None
