"""tbx.convert: array objects of other libraries are converted by the protocols they implement,
without importing those libraries. Each stand-in class below behaves like the named library's
array in the one respect tbx relies on, and claims that library's module name, so a conversion
that tried to import it would be caught by the import blocker."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tbx.convert import to_float, to_numpy

BLOCKED = ("tensorflow", "cupy", "jax", "numba", "ml_dtypes_not_here")


class _Blocker:
    """A meta-path finder that fails (and records) any import of the libraries imitated here."""

    def __init__(self):
        self.attempts: list[str] = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            self.attempts.append(name)
            raise ImportError(f"test: importing {name} is not allowed")
        return None


@pytest.fixture(autouse=True)
def no_framework_imports():
    blocker = _Blocker()
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)
    assert blocker.attempts == []
    assert not any(m.split(".")[0] in BLOCKED for m in sys.modules)


def _stand_in(module: str, name: str, **methods):
    cls = type(name, (), methods)
    cls.__module__ = module
    return cls


def _eager_init(self, a):
    self._a = np.asarray(a)


# TensorFlow's EagerTensor: ``.numpy()`` (the real one also has __array__; this one has not).
TFEager = _stand_in(
    "tensorflow.python.framework.ops", "EagerTensor",
    __init__=_eager_init, numpy=lambda self: self._a.copy(),
    shape=property(lambda self: self._a.shape),
)


def _no_implicit(self, *args, **kwargs):
    raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()`")


# CuPy's ndarray: device memory, __array__ refuses, .get() copies to the host.
CupyArray = _stand_in(
    "cupy._core.core", "ndarray",
    __init__=_eager_init,
    __cuda_array_interface__=property(lambda self: {"shape": self._a.shape, "version": 3}),
    __array__=_no_implicit,
    get=lambda self: self._a.copy(),
)

# Numba's device array: __cuda_array_interface__ and .copy_to_host().
NumbaDeviceArray = _stand_in(
    "numba.cuda.cudadrv.devicearray", "DeviceNDArray",
    __init__=_eager_init,
    __cuda_array_interface__=property(lambda self: {"shape": self._a.shape, "version": 3}),
    copy_to_host=lambda self: self._a.copy(),
)

# A device array with neither copy method.
OpaqueDeviceArray = _stand_in(
    "cupy._core.core", "Opaque", __init__=_eager_init,
    __cuda_array_interface__=property(lambda self: {"shape": self._a.shape, "version": 3}),
)

# JAX's Array: __array__ (with numpy's dtype/copy keywords).
JaxArray = _stand_in(
    "jaxlib.xla_extension", "ArrayImpl", __init__=_eager_init,
    __array__=lambda self, dtype=None, copy=None: np.asarray(self._a, dtype=dtype),
)

# A DLPack-only producer (array API libraries): __dlpack__ and __dlpack_device__, no __array__.
DLPackOnly = _stand_in(
    "jax._src.array", "DLPackOnly", __init__=_eager_init,
    __dlpack__=lambda self, **kw: self._a.__dlpack__(**kw),
    __dlpack_device__=lambda self: self._a.__dlpack_device__(),
)


def _cuda_dlpack(self, **kw):
    raise BufferError("the tensor is on a CUDA device")


DLPackOnGPU = _stand_in(
    "cupy._core.core", "OnGPU", __init__=_eager_init,
    __dlpack__=_cuda_dlpack, __dlpack_device__=lambda self: (2, 0),
)

VALUES = np.array([[1.5, -2.25, 0.0], [3.0, np.inf, -0.5]], dtype=np.float32)


@pytest.mark.parametrize(
    "cls", [TFEager, CupyArray, NumbaDeviceArray, JaxArray, DLPackOnly],
    ids=["tensorflow-numpy", "cupy-get", "numba-copy_to_host", "jax-__array__", "dlpack"],
)
def test_array_objects_convert_exactly(cls):
    arr = to_numpy(cls(VALUES))
    assert isinstance(arr, np.ndarray)
    assert arr.dtype == np.float32 and arr.shape == (2, 3)
    np.testing.assert_array_equal(arr, VALUES)


@pytest.mark.parametrize("cls", [TFEager, CupyArray, NumbaDeviceArray, JaxArray, DLPackOnly])
def test_scalars_of_array_objects(cls):
    assert to_float(cls(np.float32(0.1))) == float(np.float32(0.1))
    assert to_float(cls(np.array([7], dtype=np.int64))) == 7.0
    with pytest.raises(ValueError, match=r"scalar_value must be a single number.*\(2, 3\)"):
        to_float(cls(VALUES), "scalar_value")


def test_cupy_is_read_through_get_not_array():
    # CuPy's __array__ raises; the device protocol comes first, so .get() is used.
    np.testing.assert_array_equal(to_numpy(CupyArray([1, 2, 3])), [1, 2, 3])


def test_device_array_without_copy_method_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"values must be .*cupy\._core\.core\.Opaque.*"
                                        r"neither \.get\(\) nor \.copy_to_host\(\)"):
        to_numpy(OpaqueDeviceArray([1.0]), "values")


def test_dlpack_outside_cpu_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"values must be .*OnGPU.*BufferError: the tensor is on "
                                        r"a CUDA device"):
        to_numpy(DLPackOnGPU([1.0]), "values")


def test_object_dtype_and_bad_inputs_are_type_errors():
    ObjArray = _stand_in("tensorflow.x", "Strings", __init__=_eager_init,
                         numpy=lambda self: np.array(["a", None], dtype=object))
    with pytest.raises(TypeError, match="values must be a number, array or tensor of numbers"):
        to_numpy(ObjArray([0]), "values")
    for bad in (None, "1.0", b"x", {"a": 1}):
        with pytest.raises(TypeError, match="values must be a number, array or tensor"):
            to_numpy(bad, "values")


def test_bfloat16_from_ml_dtypes_becomes_float32():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    raw = np.array([1.5, -0.0078125, 3.0e38], dtype=ml_dtypes.bfloat16)
    arr = to_numpy(JaxArray(raw))
    assert arr.dtype == np.float32
    np.testing.assert_array_equal(arr, raw.astype(np.float32))


def test_writer_takes_array_objects(tmp_path):
    from tbx import SummaryWriter, read

    pytest.importorskip("pandas")
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("tf", TFEager(np.float32(0.25)), TFEager(np.int64(3)).numpy())
        w.add_scalar("cupy", CupyArray(np.float64(-1.5)), 4)
        w.add_histogram("h", DLPackOnly(np.arange(10, dtype=np.float64)), 5)
    data = read(tmp_path)
    assert data.scalar_series(".", "tf").value.tolist() == [0.25]
    assert data.scalar_series(".", "tf").step.tolist() == [3]
    assert data.scalar_series(".", "cupy").value.tolist() == [-1.5]
    h = data.histograms
    assert (h.num.tolist(), h["sum"].tolist(), h["min"].tolist(), h["max"].tolist()) == (
        [10.0], [45.0], [0.0], [9.0])
