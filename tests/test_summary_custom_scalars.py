"""add_custom_scalars and its shorthands: tensorboardX's layout bytes, read back by tbx's
decoder, by TensorBoard's EventAccumulator and by the custom scalars plugin's backend."""

from __future__ import annotations

import json

import pytest
from kinds_helpers import accumulator, assert_kept_after_error, tb_context, values

import tbx
from tbx.summary import custom_scalars as C

LAYOUT = {
    "Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
    "USA": {
        "dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]],
        "nasdaq": ["Margin", ["nasdaq/aaa", "nasdaq/bbb", "nasdaq/ccc"]],
    },
}


def test_layout_round_trip_and_tensorboard(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_custom_scalars(LAYOUT)
    ((step, _, v),) = values(logdir, C.CONFIG_TAG)
    assert step == 0
    assert v.metadata.plugin_data.plugin_name == "custom_scalars"
    assert C.decode(v) == LAYOUT

    from tensorboard.plugins.custom_scalar import layout_pb2
    from tensorboard.plugins.custom_scalar.custom_scalars_plugin import CustomScalarsPlugin
    from tensorboard.util import tensor_util

    acc = accumulator(logdir)
    assert C.CONFIG_TAG in acc.PluginTagToContent("custom_scalars")
    (event,) = acc.Tensors(C.CONFIG_TAG)
    layout = layout_pb2.Layout.FromString(tensor_util.make_ndarray(event.tensor_proto).item())
    assert [c.title for c in layout.category] == ["Taiwan", "USA"]
    assert list(layout.category[0].chart[0].multiline.tag) == ["twse/0050", "twse/2330"]
    s = layout.category[1].chart[1].margin.series[0]
    assert (layout.category[1].chart[1].title, s.value, s.lower, s.upper) == (
        "nasdaq",
        "nasdaq/aaa",
        "nasdaq/bbb",
        "nasdaq/ccc",
    )
    # the plugin's own backend (what its /layout route returns)
    tb, ctx = tb_context(logdir.parent)
    got = json.loads(CustomScalarsPlugin(tb).layout_impl(ctx, ""))
    assert [c["title"] for c in got["category"]] == ["Taiwan", "USA"]
    assert got["category"][1]["chart"][0]["margin"]["series"] == [
        {"value": "dow/aaa", "lower": "dow/bbb", "upper": "dow/ccc"}
    ]


def test_same_bytes_as_tensorboardx(tmp_path):
    import tensorboardX

    with tbx.SummaryWriter(tmp_path / "tbx") as w:
        w.add_custom_scalars(LAYOUT)
        w.add_custom_scalars_multilinechart(["a", "b"], category="c", title="t")
        w.add_custom_scalars_marginchart(["v", "lo", "hi"])
    with tensorboardX.SummaryWriter(str(tmp_path / "tx")) as w:
        w.add_custom_scalars(LAYOUT)
        w.add_custom_scalars_multilinechart(["a", "b"], category="c", title="t")
        w.add_custom_scalars_marginchart(["v", "lo", "hi"])
    ours = [v.SerializeToString() for *_, v in values(tmp_path / "tbx", C.CONFIG_TAG)]
    theirs = [v.SerializeToString() for *_, v in values(tmp_path / "tx", C.CONFIG_TAG)]
    assert len(ours) == 3 and ours == theirs


def test_shorthands(logdir):
    with tbx.SummaryWriter(logdir) as w:
        w.add_custom_scalars_multilinechart(["loss/.*", "acc"])
        w.add_custom_scalars_marginchart(["v", "lo", "hi"], category="cat", title="m")
    got = [C.decode(v) for *_, v in values(logdir, C.CONFIG_TAG)]
    assert got == [
        {"default": {"untitled": ["Multiline", ["loss/.*", "acc"]]}},
        {"cat": {"m": ["Margin", ["v", "lo", "hi"]]}},
    ]


def test_margin_with_several_series(logdir):
    layout = {"c": {"m": ["Margin", [["a", "b", "c"], ["d", "e", "f"]]]}}
    with tbx.SummaryWriter(logdir) as w:
        w.add_custom_scalars(layout)
    ((*_, v),) = values(logdir, C.CONFIG_TAG)
    assert C.decode(v) == layout


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda w: w.add_custom_scalars(["Multiline", ["a"]]), TypeError, "layout must be a dict"),
        (lambda w: w.add_custom_scalars({"c": ["Multiline", ["a"]]}), TypeError, r"layout\['c'\]"),
        (lambda w: w.add_custom_scalars({"c": {"t": ["Pie", ["a"]]}}), ValueError, "'Pie'"),
        (lambda w: w.add_custom_scalars({"c": {"t": ["Multiline"]}}), ValueError, "2-element"),
        (lambda w: w.add_custom_scalars({"c": {"t": ["Multiline", "a"]}}), TypeError, "list"),
        (lambda w: w.add_custom_scalars({"c": {"t": ["Multiline", [1]]}}), TypeError, "str"),
        (lambda w: w.add_custom_scalars_marginchart(["a", "b"]), ValueError, "exactly 3 tags"),
        (lambda w: w.add_custom_scalars({1: {}}), TypeError, "category titles must be str"),
    ],
)
def test_bad_layouts(logdir, call, exc, match):
    with tbx.SummaryWriter(logdir) as w:
        w.add_scalar("before", 1.0, 0)
        with pytest.raises(exc, match=match) as info:
            call(w)
        assert "{category: {chart_title:" in str(info.value)  # the expected form is shown
        assert_kept_after_error(w, logdir)
    assert values(logdir, C.CONFIG_TAG) == []
