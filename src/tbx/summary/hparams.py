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
_ACCEPTED = "bool, str, int, float, or a numpy/torch scalar"


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
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (str, np.str_)):
        return str(v)
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)):
        return float(v)
    if type(v).__module__.startswith(("torch", "jax", "numpy")) and hasattr(v, "shape"):
        from tbx.convert import to_numpy

        arr = to_numpy(v, f"hparam_dict[{key!r}]")
        if arr.size == 1:
            if arr.dtype.kind == "b":
                return bool(arr.reshape(-1)[0])
            if arr.dtype.kind in "iuf":
                return float(arr.reshape(-1)[0])
        raise TypeError(
            f"hparam_dict[{key!r}] must be {_ACCEPTED}, got an array of shape "
            f"{tuple(arr.shape)} and dtype {arr.dtype}"
        )
    raise TypeError(f"hparam_dict[{key!r}] must be {_ACCEPTED}, got {_type_name(v)}")


def check_hparams(hparam_dict) -> dict[str, bool | str | float]:
    """``hparam_dict`` with every value as a Python bool, str or float.

    Raises:
        TypeError: not a dict, a key not a str, or a value of another type (the key is named).
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
        hparam_dict: ``{name: value}``, values bool, str, int, float or numpy/torch scalars
            (numbers are stored as float64, as the plugin's ``number_value``).
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
