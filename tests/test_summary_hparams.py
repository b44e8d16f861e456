"""add_hparams: the hparams plugin's three summaries and the metric scalars, in the writer's own
run by default (``name`` for a sub-run as tensorboardX); read back by tbx's decoder, by
TensorBoard's metadata parsers and by the hparams plugin's session-group backend."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import event_files
from kinds_helpers import accumulator, assert_kept_after_error, tb_context, values

import tbx
from tbx.summary import hparams as HP

HPARAMS = {"lr": 0.1, "optimizer": "adam", "augment": True, "layers": 3}
METRICS = {"hparam/accuracy": 0.75, "hparam/loss": 0.5}
HP_TAGS = [HP.EXPERIMENT_TAG, HP.SESSION_START_INFO_TAG, HP.SESSION_END_INFO_TAG]


def decoded(logdir):
    return {v.tag: (s, HP.decode(v)) for s, _, v in values(logdir) if v.tag.startswith("_hp")}


def session_groups(logdir):
    """The hparams plugin's ListSessionGroups and GetExperiment answers, as dicts."""
    from google.protobuf import json_format
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment
    from tensorboard.plugins.hparams import list_session_groups as lsg

    tb, ctx = tb_context(logdir)
    bc = backend_context.Context(tb)
    req = api_pb2.ListSessionGroupsRequest(
        start_index=0, slice_size=100, allowed_statuses=[api_pb2.STATUS_SUCCESS]
    )
    groups = lsg.Handler(ctx, bc, "", req).run()
    exp = get_experiment.Handler(ctx, bc, "", api_pb2.GetExperimentRequest()).run()
    return json_format.MessageToDict(groups), json_format.MessageToDict(exp)


def test_own_run_by_default(tmp_path):
    logdir = tmp_path / "run"
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("train/loss", 2.0, 0)
        w.add_hparams(HPARAMS, METRICS, global_step=9)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert [p.is_file() for p in logdir.iterdir()] == [True]  # no sub-run folder
    got = decoded(logdir)
    assert sorted(got) == sorted(HP_TAGS)
    assert {s for s, _ in got.values()} == {9}
    assert got[HP.EXPERIMENT_TAG][1] == HP.HParamsData(
        "experiment",
        {
            "hparams": {
                "lr": "DATA_TYPE_FLOAT64",
                "optimizer": "DATA_TYPE_STRING",
                "augment": "DATA_TYPE_BOOL",
                "layers": "DATA_TYPE_FLOAT64",
            },
            "metrics": ["hparam/accuracy", "hparam/loss"],
        },
    )
    assert got[HP.SESSION_START_INFO_TAG][1] == HP.HParamsData(
        "session_start_info",
        {
            "hparams": {"lr": 0.1, "optimizer": "adam", "augment": True, "layers": 3.0},
            "group_name": "",
            "start_time_secs": 0.0,
        },
    )
    assert got[HP.SESSION_END_INFO_TAG][1] == HP.HParamsData(
        "session_end_info", {"status": "STATUS_SUCCESS", "end_time_secs": 0.0}
    )
    scalars = {v.tag: (s, v.simple_value) for s, _, v in values(logdir) if v.tag.startswith("h")}
    assert scalars == {"hparam/accuracy": (9, 0.75), "hparam/loss": (9, 0.5)}


def test_tensorboard_parses_the_plugin_data(logdir):
    from tensorboard.plugins.hparams import api_pb2, metadata

    with tbx.SummaryWriter(logdir) as w:
        w.add_hparams(HPARAMS, METRICS)
    acc = accumulator(logdir)
    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    assert sorted(content) == sorted(HP_TAGS)
    exp = metadata.parse_experiment_plugin_data(content[HP.EXPERIMENT_TAG])
    assert [(h.name, h.type) for h in exp.hparam_infos] == [
        ("lr", api_pb2.DATA_TYPE_FLOAT64),
        ("optimizer", api_pb2.DATA_TYPE_STRING),
        ("augment", api_pb2.DATA_TYPE_BOOL),
        ("layers", api_pb2.DATA_TYPE_FLOAT64),
    ]
    assert [m.name.tag for m in exp.metric_infos] == list(METRICS)
    ssi = metadata.parse_session_start_info_plugin_data(content[HP.SESSION_START_INFO_TAG])
    assert ssi.hparams["lr"].number_value == 0.1
    assert ssi.hparams["optimizer"].string_value == "adam"
    assert ssi.hparams["augment"].bool_value is True
    assert ssi.hparams["layers"].number_value == 3.0
    sei = metadata.parse_session_end_info_plugin_data(content[HP.SESSION_END_INFO_TAG])
    assert sei.status == api_pb2.STATUS_SUCCESS
    assert [e.step for e in acc.Scalars("hparam/accuracy")] == [0]


def test_plugin_lists_one_session_per_run(tmp_path):
    for i, lr in enumerate([0.1, 0.01]):
        with tbx.SummaryWriter(tmp_path / f"lr{i}") as w:
            for step in range(3):
                w.add_scalar("train/loss", 1.0 / (step + 1), step)
            w.add_hparams({"lr": lr, "opt": "sgd"}, {"hparam/acc": 0.5 + i / 4}, global_step=2)
    groups, exp = session_groups(tmp_path)
    assert groups["totalSize"] == 2
    by_name = {g["name"]: g for g in groups["sessionGroups"]}
    assert sorted(by_name) == ["lr0", "lr1"]
    for i, lr in enumerate([0.1, 0.01]):
        g = by_name[f"lr{i}"]
        assert g["hparams"] == {"lr": lr, "opt": "sgd"}
        ((session),) = g["sessions"]
        assert session["status"] == "STATUS_SUCCESS"
        ((mv),) = session["metricValues"]
        assert (mv["name"]["tag"], mv["value"], mv["trainingStep"]) == (
            "hparam/acc",
            0.5 + i / 4,
            2,
        )
    assert [h["name"] for h in exp["hparamInfos"]] == ["lr", "opt"]
    assert [m["name"]["tag"] for m in exp["metricInfos"]] == ["hparam/acc"]


def test_name_writes_a_sub_run_like_tensorboardx(tmp_path):
    import tensorboardX
    from tensorboard.plugins.hparams import metadata

    with tbx.SummaryWriter(tmp_path / "tbx") as w:
        w.add_hparams(HPARAMS, METRICS, name="trial1", global_step=4)
        w.flush()  # the sub-run's file is flushed by the writer's flush
        assert len(event_files(tmp_path / "tbx" / "trial1")) == 1
        assert HP.EXPERIMENT_TAG in [v.tag for *_, v in values(tmp_path / "tbx" / "trial1")]
    with tensorboardX.SummaryWriter(str(tmp_path / "tx")) as w:
        w.add_hparams(HPARAMS, METRICS, name="trial1", global_step=4)
    ours = accumulator(tmp_path / "tbx" / "trial1").PluginTagToContent("hparams")
    theirs = accumulator(tmp_path / "tx" / "trial1").PluginTagToContent("hparams")
    assert sorted(ours) == sorted(theirs) == sorted(HP_TAGS)
    for tag, parse in [
        (HP.EXPERIMENT_TAG, metadata.parse_experiment_plugin_data),
        (HP.SESSION_START_INFO_TAG, metadata.parse_session_start_info_plugin_data),
        (HP.SESSION_END_INFO_TAG, metadata.parse_session_end_info_plugin_data),
    ]:
        assert parse(ours[tag]) == parse(theirs[tag])
    ours_s = {v.tag: (s, v.simple_value) for s, _, v in values(tmp_path / "tbx" / "trial1")}
    theirs_s = {v.tag: (s, v.simple_value) for s, _, v in values(tmp_path / "tx" / "trial1")}
    assert {k: ours_s[k] for k in METRICS} == {k: theirs_s[k] for k in METRICS}
    groups, _ = session_groups(tmp_path / "tbx")
    assert [g["name"] for g in groups["sessionGroups"]] == ["trial1"]


def test_numpy_and_torch_values(logdir):
    torch = pytest.importorskip("torch")
    hp = {
        "f32": np.float32(0.5),
        "i64": np.int64(7),
        "b": np.bool_(False),
        "s": np.str_("x"),
        "t": torch.tensor(0.25),
        "tb": torch.tensor(True),
        "ti": torch.tensor([3]),
        "bf": torch.tensor(1.5, dtype=torch.bfloat16),
        "arr0d": np.array(2.0),
    }
    metrics = {"m": torch.tensor(0.125), "n": np.float64(2.0), "k": 3}
    with tbx.SummaryWriter(logdir) as w:
        w.add_hparams(hp, metrics)
    got = decoded(logdir)
    assert got[HP.SESSION_START_INFO_TAG][1].data["hparams"] == {
        "f32": 0.5,
        "i64": 7.0,
        "b": False,
        "s": "x",
        "t": 0.25,
        "tb": True,
        "ti": 3.0,
        "bf": 1.5,
        "arr0d": 2.0,
    }
    types = got[HP.EXPERIMENT_TAG][1].data["hparams"]
    assert (types["b"], types["tb"], types["s"], types["i64"]) == (
        "DATA_TYPE_BOOL",
        "DATA_TYPE_BOOL",
        "DATA_TYPE_STRING",
        "DATA_TYPE_FLOAT64",
    )
    scalars = {v.tag: v.simple_value for *_, v in values(logdir) if v.tag in metrics}
    assert scalars == {"m": 0.125, "n": 2.0, "k": 3.0}


class _Color(__import__("enum").Enum):
    RED = 1


def _schedule(step):
    return step


def test_none_and_other_types_are_recorded(tmp_path):
    """Config dicts full of None, lists, paths, functions: every key is recorded (None as the
    string "None"), and TensorBoard's hparams plugin lists them all with the metric."""
    import pathlib

    hp = {
        "scheduler": None,
        "lr": 0.1,
        "layers": [64, 64],
        "cfg": {"a": 1},
        "path": pathlib.PurePosixPath("/data/x"),
        "color": _Color.RED,
        "fn": _schedule,
        "cls": dict,
        "c": 1 + 2j,
        "arr": np.array([1.5, 2.5]),
        "flag": np.bool_(True),
    }
    logdir = tmp_path / "run"
    with tbx.SummaryWriter(logdir) as w:
        w.add_hparams(hp, {"hparam/acc": 0.5}, global_step=3)
    got = decoded(logdir)
    assert got[HP.SESSION_START_INFO_TAG][1].data["hparams"] == {
        "scheduler": "None",
        "lr": 0.1,
        "layers": "[64, 64]",
        "cfg": "{'a': 1}",
        "path": "/data/x",
        "color": "_Color.RED",
        "fn": "_schedule",
        "cls": "dict",
        "c": "(1+2j)",
        "arr": "[1.5 2.5]",
        "flag": True,
    }
    types = got[HP.EXPERIMENT_TAG][1].data["hparams"]
    assert types == {
        k: {"lr": "DATA_TYPE_FLOAT64", "flag": "DATA_TYPE_BOOL"}.get(k, "DATA_TYPE_STRING")
        for k in hp
    }
    groups, exp = session_groups(tmp_path)
    ((group),) = groups["sessionGroups"]
    assert group["hparams"]["scheduler"] == "None"
    assert group["hparams"]["lr"] == 0.1
    assert group["hparams"]["layers"] == "[64, 64]"
    assert sorted(group["hparams"]) == sorted(hp)
    ((mv),) = group["sessions"][0]["metricValues"]
    assert (mv["name"]["tag"], mv["value"], mv["trainingStep"]) == ("hparam/acc", 0.5, 3)
    assert sorted(h["name"] for h in exp["hparamInfos"]) == sorted(hp)


class _BadStr:
    def __str__(self):
        raise RuntimeError("no text")


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (({"lr": 0.1, "f": _BadStr()}, {}), {}, TypeError, r"hparam_dict\['f'\].*str\(value\)"),
        (({1: 2}, {}), {}, TypeError, "hparam_dict keys must be str"),
        (({"": 2}, {}), {}, ValueError, "non-empty"),
        (([("lr", 0.1)], {}), {}, TypeError, "hparam_dict must be a dict"),
        (({"lr": 0.1}, {"acc": "high"}), {}, TypeError, r"metric_dict\['acc'\]"),
        (({"lr": 0.1}, {"acc": [0.1, 0.2]}), {}, ValueError, r"metric_dict\['acc'\]"),
        (({"lr": 0.1}, None), {}, TypeError, "metric_dict must be a dict"),
        (({"lr": 0.1}, {"a": 1}), {"name": 5}, TypeError, "name must be None or a str"),
        (({"lr": 0.1}, {"a": 1}), {"name": ""}, ValueError, "name must be a non-empty"),
        (({"lr": 0.1}, {"a": 1}), {"name": "/tmp/x"}, ValueError, "relative folder"),
        (({"lr": 0.1}, {"a": 1}), {"global_step": "x"}, TypeError, "global_step"),
    ],
)
def test_bad_input(logdir, args, kwargs, exc, match):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(exc, match=match):
            w.add_hparams(*args, **kwargs)
        assert_kept_after_error(w, logdir)
    assert decoded(logdir) == {}
    assert [p.is_file() for p in logdir.iterdir()] == [True]
