"""TensorProto <-> numpy, for every kind that stores a tensor (v2 summaries).

Follows TensorFlow's ``tensor_util``: ``tensor_content`` holds the row-major little-endian element
bytes; otherwise the typed ``*_val`` field holds the elements, and fewer values than the shape
needs repeat the last one (an empty field means zeros). float16 and bfloat16 live in ``half_val``
as 16-bit patterns. bfloat16 has no numpy dtype: it decodes to float32 (exactly).
"""

from __future__ import annotations

import numpy as np

from tbx.proto import types_pb2
from tbx.proto.tensor_pb2 import TensorProto
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ["tensor_to_numpy", "numpy_to_tensor", "NUMPY_DTYPES"]

#: DataType enum value -> numpy dtype of its elements (little-endian).
NUMPY_DTYPES: dict[int, np.dtype] = {
    types_pb2.DT_FLOAT: np.dtype("<f4"),
    types_pb2.DT_DOUBLE: np.dtype("<f8"),
    types_pb2.DT_INT32: np.dtype("<i4"),
    types_pb2.DT_UINT8: np.dtype("u1"),
    types_pb2.DT_INT16: np.dtype("<i2"),
    types_pb2.DT_INT8: np.dtype("i1"),
    types_pb2.DT_COMPLEX64: np.dtype("<c8"),
    types_pb2.DT_INT64: np.dtype("<i8"),
    types_pb2.DT_BOOL: np.dtype("?"),
    types_pb2.DT_UINT16: np.dtype("<u2"),
    types_pb2.DT_COMPLEX128: np.dtype("<c16"),
    types_pb2.DT_HALF: np.dtype("<f2"),
    types_pb2.DT_UINT32: np.dtype("<u4"),
    types_pb2.DT_UINT64: np.dtype("<u8"),
}
_DATA_TYPES = {dt.newbyteorder("="): code for code, dt in NUMPY_DTYPES.items()}

_VAL_FIELD = {
    types_pb2.DT_FLOAT: "float_val",
    types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_INT32: "int_val",
    types_pb2.DT_UINT8: "int_val",
    types_pb2.DT_INT16: "int_val",
    types_pb2.DT_INT8: "int_val",
    types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_BOOL: "bool_val",
    types_pb2.DT_COMPLEX64: "scomplex_val",
    types_pb2.DT_COMPLEX128: "dcomplex_val",
    types_pb2.DT_HALF: "half_val",
    types_pb2.DT_BFLOAT16: "half_val",
    types_pb2.DT_UINT32: "uint32_val",
    types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_STRING: "string_val",
}


def _bfloat16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def tensor_to_numpy(tensor: TensorProto) -> np.ndarray:
    """The tensor's values as a numpy array of its shape.

    Strings come back as an ``object`` array of ``bytes``; bfloat16 as float32.

    Raises:
        ValueError: an unsupported dtype, or content whose size does not match the shape.
    """
    dtype = tensor.dtype
    shape = tuple(d.size for d in tensor.tensor_shape.dim)
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if dtype == types_pb2.DT_STRING:
        vals = list(tensor.string_val)
        if len(vals) < size:
            vals += [vals[-1] if vals else b""] * (size - len(vals))
        out = np.empty(size, dtype=object)
        out[:] = vals[:size]
        return out.reshape(shape)
    if dtype == types_pb2.DT_BFLOAT16:
        if tensor.tensor_content:
            bits = np.frombuffer(tensor.tensor_content, dtype="<u2")
        else:
            bits = np.asarray(tensor.half_val, dtype=np.uint32).astype(np.uint16)
        flat = _bfloat16_bits_to_float32(bits)
    elif dtype in NUMPY_DTYPES:
        np_dtype = NUMPY_DTYPES[dtype]
        if tensor.tensor_content:
            flat = np.frombuffer(tensor.tensor_content, dtype=np_dtype)
        else:
            field = _VAL_FIELD[dtype]
            raw = getattr(tensor, field)
            if dtype == types_pb2.DT_HALF:
                flat = np.asarray(raw, dtype=np.uint32).astype(np.uint16).view(np.float16)
            elif dtype in (types_pb2.DT_COMPLEX64, types_pb2.DT_COMPLEX128):
                parts = np.asarray(raw, dtype=np.float64)
                flat = (parts[0::2] + 1j * parts[1::2]).astype(np_dtype)
            else:
                flat = np.asarray(raw, dtype=np_dtype)
    else:
        name = types_pb2.DataType.Name(dtype) if dtype in types_pb2.DataType.values() else dtype
        raise ValueError(f"unsupported tensor dtype {name}")
    if flat.size != size:
        if tensor.tensor_content or flat.size > size:
            raise ValueError(
                f"tensor content holds {flat.size} elements, shape {list(shape)} needs {size}"
            )
        fill = flat[-1] if flat.size else flat.dtype.type(0)
        flat = np.concatenate([flat, np.full(size - flat.size, fill, dtype=flat.dtype)])
    return flat.reshape(shape)


def numpy_to_tensor(array: np.ndarray) -> TensorProto:
    """A TensorProto of ``array`` (any numeric or bool dtype, or bytes/str as DT_STRING), the
    elements in ``tensor_content``.

    Raises:
        TypeError: a dtype TensorProto cannot hold (object arrays of non-strings, datetimes).
    """
    array = np.asarray(array)
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(n)) for n in array.shape])
    if array.dtype.kind in "SUO":
        flat = [x if isinstance(x, bytes) else str(x).encode("utf-8") for x in array.reshape(-1)]
        return TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=shape, string_val=flat)
    code = _DATA_TYPES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"cannot store dtype {array.dtype} in a TensorProto")
    data = np.ascontiguousarray(array, dtype=NUMPY_DTYPES[code]).tobytes()
    return TensorProto(dtype=code, tensor_shape=shape, tensor_content=data)
