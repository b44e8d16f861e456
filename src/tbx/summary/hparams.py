"""Hyperparameters: plugin ``hparams``.

Written as tensorboardX and ``torch.utils.tensorboard`` write them: three Summaries tagged
``_hparams_/experiment``, ``_hparams_/session_start_info`` and ``_hparams_/session_end_info``,
each a Value whose metadata has plugin ``hparams`` and content ``HParamsPluginData(version=0)``
holding, respectively, an ``Experiment`` (one ``HParamInfo(name, type)`` per hyperparameter and
one ``MetricInfo(MetricName(tag))`` per metric), a ``SessionStartInfo`` (the hyperparameter
values) and a ``SessionEndInfo(status=STATUS_SUCCESS)``. Like TensorBoard's own
``hparams.summary_v2`` (and unlike tensorboardX), each Value also carries the empty float tensor
of shape ``[0]`` that TensorBoard writes, so every reader sees a tensor time series. The metric
values themselves are ordinary scalars (see :mod:`tbx.summary.scalar`).

TensorBoard keeps the first metadata of each tag of a run: the first session written to a run
is the one its hparams dashboard shows.

What each hyperparameter value becomes (``SessionStartInfo.hparams[name]``, a protobuf
``Value``, and the ``HParamInfo.type`` of the experiment):

* ``bool``, ``numpy.bool_``, a one-element bool array or tensor: ``bool_value``,
  ``DATA_TYPE_BOOL``;
* ``int``, ``float``, any ``numbers.Real`` (numpy scalars, ``Fraction``), a one-element real
  array or tensor (torch, jax, numpy): ``number_value`` (float64), ``DATA_TYPE_FLOAT64``;
* ``str``: ``string_value``, ``DATA_TYPE_STRING``;
* ``None``: the string ``"None"`` (``DATA_TYPE_STRING``), so the dashboard shows ``None``.
  tensorboardX 2.6.5 and ``torch.utils.tensorboard`` leave such a key out, and TensorBoard's
  dashboard ignores a protobuf ``null_value`` when it types a column;
* a function or class: its ``__name__`` as a string (tensorboardX's rule for callables);
* anything else (a list, tuple, dict, ``pathlib.Path``, enum member, complex number, an array or
  tensor of several elements, ...): ``str(value)`` as a string. tensorboardX records no value
  for these (the key shows empty) and ``torch.utils.tensorboard`` raises ``ValueError``; tbx
  keeps what the user would print. Only a value whose ``str()`` raises is refused
  (``TypeError`` naming the key), and then nothing of the dict is written.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from google.protobuf import struct_pb2

from tbx.proto import types_pb2
from tbx.proto.plugin_hparams_pb2 import (
    DataType,
    Experiment,
    HParamInfo,
    HParamsPluginData,
    MetricInfo,
    MetricName,
    SessionEndInfo,
    SessionStartInfo,
    Status,
)
from tbx.proto.summary_pb2 import Summary, SummaryMetadata
from tbx.proto.tensor_pb2 import TensorProto
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = [
    "PLUGIN_NAME",
    "EXPERIMENT_TAG",
    "SESSION_START_INFO_TAG",
    "SESSION_END_INFO_TAG",
    "HParamsData",
    "check_hparams",
    "check_metrics",
    "hparams_summaries",
    "decode",
]

PLUGIN_NAME = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"

_NULL_TENSOR = TensorProto(
    dtype=types_pb2.DT_FLOAT, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=0)])
)


class HParamsData(NamedTuple):
    """One decoded hparams Value.

    ``kind`` is ``"experiment"``, ``"session_start_info"`` or ``"session_end_info"``;
    ``data`` is, respectively, ``{"hparams": {name: "DATA_TYPE_..."}, "metrics": [tag, ...]}``,
    ``{"hparams": {name: bool | str | float}, "group_name": str, "start_time_secs": float}``, or
    ``{"status": "STATUS_...", "end_time_secs": float}``.
    """

    kind: str
    data: dict


def _type_name(v) -> str:
    t = type(v)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _hparam_value(key: str, v) -> bool | str | float:
    """The bool, float or str a hyperparameter value is recorded as (module docstring)."""
    if v is None:
        return "None"
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (str, np.str_)):
        return str(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if type(v).__module__.startswith(("torch", "jax", "numpy")) and hasattr(v, "shape"):
        from tbx.convert import to_numpy

        try:
            arr = to_numpy(v, f"hparam_dict[{key!r}]")
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.size == 1:
            if arr.dtype.kind == "b":
                return bool(arr.reshape(-1)[0])
            if arr.dtype.kind in "iuf":
                return float(arr.reshape(-1)[0])
    if isinstance(v, type) or (callable(v) and hasattr(v, "__name__")):
        return str(v.__name__)
    try:
        return str(v)
    except Exception as exc:  # noqa: BLE001 - any failure of a user's __str__
        raise TypeError(
            f"hparam_dict[{key!r}]: a {_type_name(v)} is recorded as str(value), which raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def check_hparams(hparam_dict) -> dict[str, bool | str | float]:
    """``hparam_dict`` with every value as a Python bool, str or float (the rules are in the
    module docstring: ``None`` becomes ``"None"``, other types their ``str()``).

    Raises:
        TypeError: not a dict, a key not a str, or a value whose ``str()`` raises (the key is
            named).
        ValueError: an empty key.
    """
    if not isinstance(hparam_dict, dict):
        raise TypeError(
            f"hparam_dict must be a dict {{name: value}}, got {_type_name(hparam_dict)}"
        )
    out = {}
    for k, v in hparam_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"hparam_dict keys must be str, got {_type_name(k)} {k!r}")
        if not k:
            raise ValueError("hparam_dict keys must be non-empty str")
        out[k] = _hparam_value(k, v)
    return out


def check_metrics(metric_dict) -> dict[str, float]:
    """``metric_dict`` with every value as a float.

    Raises:
        TypeError: not a dict, a key not a str, a value not a number (the key is named).
        ValueError: an empty key, or a value with more than one element.
    """
    from tbx.convert import to_float

    if not isinstance(metric_dict, dict):
        raise TypeError(
            f"metric_dict must be a dict {{tag: number}}, got {_type_name(metric_dict)}"
        )
    out = {}
    for k, v in metric_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"metric_dict keys must be str, got {_type_name(k)} {k!r}")
        if not k:
            raise ValueError("metric_dict keys must be non-empty str")
        out[k] = to_float(v, f"metric_dict[{k!r}]")
    return out


def _summary(tag: str, data: HParamsPluginData) -> Summary:
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=data.SerializeToString()
        )
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=_NULL_TENSOR)])


def _domains(domain_discrete, hparams: dict) -> dict[str, struct_pb2.ListValue]:
    """``HParamInfo.domain_discrete`` per name: each list's values of its hparam's kind."""
    if domain_discrete is None:
        return {}
    if not isinstance(domain_discrete, dict):
        raise TypeError(
            f"hparam_domain_discrete must be a dict {{name: [value, ...]}}, got "
            f"{_type_name(domain_discrete)}"
        )
    out = {}
    for k, values in domain_discrete.items():
        if k not in hparams:
            raise ValueError(f"hparam_domain_discrete[{k!r}]: {k!r} is not in hparam_dict")
        if not isinstance(values, (list, tuple)):
            raise TypeError(
                f"hparam_domain_discrete[{k!r}] must be a list, got {_type_name(values)}"
            )
        kind = type(hparams[k])
        checked = [_hparam_value(k, v) for v in values]
        if any(type(v) is not kind for v in checked):
            raise TypeError(
                f"hparam_domain_discrete[{k!r}] must hold values of the same kind as "
                f"hparam_dict[{k!r}] ({kind.__name__}), got {list(values)!r}"
            )
        field = {bool: "bool_value", str: "string_value", float: "number_value"}[kind]
        out[k] = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: v}) for v in checked])
    return out


def hparams_summaries(
    hparam_dict: dict, metric_dict: dict, domain_discrete: dict | None = None
) -> tuple[Summary, Summary, Summary]:
    """The experiment, session-start and session-end Summaries of one session.

    Args:
        hparam_dict: ``{name: value}``: bool, number (stored as float64, the plugin's
            ``number_value``), str, ``None`` (stored as ``"None"``), or any other value (stored
            as its ``str()``; a function or class as its ``__name__``); see the module
            docstring.
        metric_dict: ``{tag: number}``; only the tags are used here (they name the scalar
            series the dashboard shows as metrics).
        domain_discrete: optional ``{name: [value, ...]}``, the values a hyperparameter can
            take (``HParamInfo.domain_discrete``, torch.utils.tensorboard's
            ``hparam_domain_discrete``), each of its hyperparameter's kind.

    Raises:
        TypeError, ValueError: as :func:`check_hparams` and :func:`check_metrics`; a
            ``domain_discrete`` name missing from ``hparam_dict`` or holding values of another
            kind.
    """
    hparams = check_hparams(hparam_dict)
    metrics = check_metrics(metric_dict)
    domains = _domains(domain_discrete, hparams)
    ssi = SessionStartInfo()
    infos = []
    for k, v in hparams.items():
        if isinstance(v, bool):
            ssi.hparams[k].bool_value = v
            dtype = DataType.DATA_TYPE_BOOL
        elif isinstance(v, str):
            ssi.hparams[k].string_value = v
            dtype = DataType.DATA_TYPE_STRING
        else:
            ssi.hparams[k].number_value = v
            dtype = DataType.DATA_TYPE_FLOAT64
        infos.append(HParamInfo(name=k, type=dtype, domain_discrete=domains.get(k)))
    experiment = Experiment(
        hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metrics]
    )
    sei = SessionEndInfo(status=Status.STATUS_SUCCESS)
    return (
        _summary(EXPERIMENT_TAG, HParamsPluginData(version=0, experiment=experiment)),
        _summary(SESSION_START_INFO_TAG, HParamsPluginData(version=0, session_start_info=ssi)),
        _summary(SESSION_END_INFO_TAG, HParamsPluginData(version=0, session_end_info=sei)),
    )


def _struct_value(v: struct_pb2.Value):
    kind = v.WhichOneof("kind")
    if kind == "bool_value":
        return v.bool_value
    if kind == "string_value":
        return v.string_value
    if kind == "number_value":
        return v.number_value
    return None if kind in (None, "null_value") else math.nan


def decode(value: Summary.Value) -> HParamsData:
    """The :class:`HParamsData` of one hparams Value.

    Raises:
        ValueError: the Value has no hparams metadata, or holds an unknown version or none of
            the three kinds.
    """
    pd = value.metadata.plugin_data
    if pd.plugin_name != PLUGIN_NAME:
        raise ValueError(f"hparams {value.tag!r}: metadata is not of plugin 'hparams'")
    data = HParamsPluginData.FromString(pd.content)
    if data.version != 0:
        raise ValueError(f"hparams {value.tag!r}: unknown plugin data version {data.version}")
    kind = data.WhichOneof("data")
    if kind == "experiment":
        e = data.experiment
        return HParamsData(
            kind,
            {
                "hparams": {h.name: DataType.Name(h.type) for h in e.hparam_infos},
                "metrics": [m.name.tag for m in e.metric_infos],
            },
        )
    if kind == "session_start_info":
        s = data.session_start_info
        return HParamsData(
            kind,
            {
                "hparams": {k: _struct_value(v) for k, v in s.hparams.items()},
                "group_name": s.group_name,
                "start_time_secs": s.start_time_secs,
            },
        )
    if kind == "session_end_info":
        s = data.session_end_info
        return HParamsData(
            kind, {"status": Status.Name(s.status), "end_time_secs": s.end_time_secs}
        )
    raise ValueError(f"hparams {value.tag!r}: plugin data holds none of the three kinds")
