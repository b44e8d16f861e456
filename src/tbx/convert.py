"""Tensor-likes to numpy, and argument checks shared by every ``add_*`` method.

Accepted inputs: Python numbers and (nested) lists, numpy arrays and scalars, PyTorch tensors (any
device, any dtype including bfloat16, with ``requires_grad``), and, recognised by the protocols they
implement (duck typing), every other array library: device arrays with
``__cuda_array_interface__`` (CuPy's ``.get()``, Numba's ``.copy_to_host()``), anything with
``__array__`` (JAX, TensorFlow eager tensors, pandas, xarray, ...), ``__dlpack__`` (CPU arrays of
any DLPack producer) or a ``.numpy()`` method (TensorFlow eager tensors and variables), then
buffers and sequences through ``numpy.asarray``. No framework is ever imported here: a PyTorch
tensor is recognised by the module its type comes from, everything else by its attributes, so
``import tbx`` never pulls in torch, jax, tensorflow or cupy.
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

__all__ = ["to_numpy", "to_float", "to_step", "to_walltime", "check_tag"]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _type_name(value) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _torch_to_numpy(value) -> np.ndarray:
    t = value.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()  # numpy has no bfloat16; float32 holds every bfloat16 value exactly
    if t.is_conj() if hasattr(t, "is_conj") else False:
        t = t.resolve_conj()
    return t.numpy()


def _convert(value) -> np.ndarray:
    """The conversion by protocol, most specific first (see the module's docstring).

    Raises whatever the object's own method raises; ``LookupError`` for a device array without
    a method that copies it to host memory.
    """
    if type(value).__module__.startswith("torch"):
        return _torch_to_numpy(value)
    if hasattr(value, "__cuda_array_interface__"):
        for method in ("get", "copy_to_host"):  # CuPy, Numba
            fn = getattr(value, method, None)
            if callable(fn):
                return np.asarray(fn())
        raise LookupError("a device array with neither .get() nor .copy_to_host()")
    if hasattr(value, "__array__"):
        return np.asarray(value)
    if hasattr(value, "__dlpack__"):
        return np.from_dlpack(value)
    to_np = getattr(value, "numpy", None)
    if callable(to_np):
        return np.asarray(to_np())
    return np.asarray(value)


def to_numpy(value, arg: str = "value") -> np.ndarray:
    """Convert a tensor-like to a numpy array (no copy when already one).

    Args:
        value: a number, (nested) list, numpy array or scalar, torch tensor, or any array object
            implementing ``__cuda_array_interface__`` (with ``.get()`` or ``.copy_to_host()``),
            ``__array__``, ``__dlpack__`` (CPU memory) or ``.numpy()``: CuPy, Numba, JAX,
            TensorFlow, ... (tried in this order; none of these packages is imported).
            A bfloat16 array becomes float32 (which holds every bfloat16 value exactly).
        arg: the argument's name, used in error messages.

    Raises:
        TypeError: ``value`` is None, a string, bytes, a dict or set, an object numpy can only
            hold as ``dtype=object``, or an array object whose conversion failed (a device array
            without a host copy method, a DLPack array outside CPU memory, ...; the cause is
            quoted).
    """
    if isinstance(value, np.ndarray):
        return value
    if value is None or isinstance(value, (str, bytes, bytearray, dict, set, frozenset)):
        raise TypeError(
            f"{arg} must be a number, array or tensor, got {_type_name(value)}"
        )
    try:
        arr = _convert(value)
    except (TypeError, ValueError, RuntimeError, BufferError, LookupError) as exc:
        raise TypeError(
            f"{arg} must be a number, array or tensor, got {_type_name(value)} that could not "
            f"be converted to a numpy array ({type(exc).__name__}: {exc})"
        ) from exc
    if arr.dtype == object:
        raise TypeError(
            f"{arg} must be a number, array or tensor of numbers, got {_type_name(value)}"
        )
    if arr.dtype.name == "bfloat16":  # ml_dtypes' (JAX, TensorFlow): numpy cannot compute on it
        arr = arr.astype(np.float32)
    return arr


def to_float(value, arg: str = "scalar_value") -> float:
    """One real number as a Python float; NaN and ±Inf are kept.

    Accepts Python numbers (bool counts as 0/1), numpy scalars and single-element arrays, and
    single-element torch/jax tensors of any real dtype (float16 and bfloat16 included).

    Raises:
        TypeError: not a number (a string, None, a dict, complex, ...).
        ValueError: an array or tensor with other than exactly one element.
    """
    t = type(value)
    if t is float:
        return value
    if t is int or t is bool:
        try:
            return float(value)
        except OverflowError:  # an int beyond float64's range
            return math.inf if value > 0 else -math.inf
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return float(value)
    arr = to_numpy(value, arg)
    if arr.size != 1:
        raise ValueError(
            f"{arg} must be a single number, got an array of shape {tuple(arr.shape)}"
        )
    if arr.dtype.kind not in "biuf" and arr.dtype.name != "bfloat16":
        raise TypeError(f"{arg} must be a real number, got dtype {arr.dtype}")
    return float(arr.reshape(-1)[0])


def to_step(value, arg: str = "global_step") -> int:
    """A step as a Python int in the int64 range.

    Accepts Python and numpy integers, integer 0-d tensors, and floats with an integral value
    (``3.0``); rejects bool, ``1.5``, strings and None.

    Raises:
        TypeError: not an integer.
        ValueError: a float that is not integral, or outside ``[-2**63, 2**63 - 1]``.
    """
    if type(value) is not int:
        if isinstance(value, bool) or isinstance(value, (str, bytes)) or value is None:
            raise TypeError(f"{arg} must be an integer, got {_type_name(value)} {value!r}")
        if isinstance(value, (float, np.floating)):
            if not math.isfinite(value) or not float(value).is_integer():
                raise ValueError(f"{arg} must be an integer, got {value!r}")
            value = int(value)
        else:
            try:
                value = operator.index(value)
            except TypeError:
                raise TypeError(
                    f"{arg} must be an integer, got {_type_name(value)} {value!r}"
                ) from None
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"{arg} must fit in int64 [-2**63, 2**63 - 1], got {value}")
    return value


def to_walltime(value, arg: str = "walltime") -> float:
    """Seconds since the epoch as a finite float.

    Raises:
        TypeError: not a real number.
        ValueError: NaN or ±Inf.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        if math.isfinite(value):
            return value
        raise ValueError(f"{arg} must be a finite number of seconds since the epoch, got {value}")
    raise TypeError(f"{arg} must be a number of seconds since the epoch, got {_type_name(value)}")


def check_tag(tag, arg: str = "tag") -> str:
    """Return ``tag`` unchanged if it is a non-empty ``str``.

    Raises:
        TypeError: not a ``str``.
        ValueError: empty, or not encodable as UTF-8 (a lone surrogate).
    """
    if not isinstance(tag, str):
        raise TypeError(f"{arg} must be a str, got {_type_name(tag)}")
    if not tag:
        raise ValueError(f"{arg} must be a non-empty str")
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{arg} must be encodable as UTF-8 (no lone surrogates): {exc}") from None
    return tag
