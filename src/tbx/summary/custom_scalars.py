"""Custom scalar layouts: plugin ``custom_scalars``.

Written as tensorboardX writes them: one ``Summary.Value`` with tag ``custom_scalars__config__``,
metadata plugin ``custom_scalars`` (no content), and a 0-d ``DT_STRING`` tensor holding a
serialized ``Layout`` (TensorBoard's ``tensorboard/plugins/custom_scalar/layout.proto``).
TensorBoard's custom scalars dashboard reads the latest layout of each run and merges the runs'
layouts.

Layout dicts have tensorboardX's form::

    {category_title: {chart_title: ["Multiline", [tag_regex, ...]]
                                  | ["Margin", [value_tag, lower_tag, upper_tag]]}}

``"Margin"`` also accepts a list of such triples (several series in one chart).
"""

from __future__ import annotations

from tbx.proto import types_pb2
from tbx.proto.layout_pb2 import Category, Chart, Layout, MarginChartContent, MultilineChartContent
from tbx.proto.summary_pb2 import Summary, SummaryMetadata
from tbx.proto.tensor_pb2 import TensorProto
from tbx.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ["PLUGIN_NAME", "CONFIG_TAG", "layout_proto", "custom_scalars_summary", "decode"]

PLUGIN_NAME = "custom_scalars"
CONFIG_TAG = "custom_scalars__config__"

_FORM = (
    "layout must be {category: {chart_title: ['Multiline', [tag, ...]] or "
    "['Margin', [value_tag, lower_tag, upper_tag]]}}"
)


def _tags(tags, where: str) -> list[str]:
    if isinstance(tags, (str, bytes)) or not isinstance(tags, (list, tuple)):
        raise TypeError(f"{where}: tags must be a list of str, got {type(tags).__name__}. {_FORM}")
    for t in tags:
        if not isinstance(t, str):
            raise TypeError(f"{where}: every tag must be a str, got {type(t).__name__}. {_FORM}")
    return list(tags)


def _chart(title, spec, where: str) -> Chart:
    if not isinstance(title, str):
        raise TypeError(f"{where}: chart titles must be str, got {type(title).__name__}. {_FORM}")
    where = f"{where}[{title!r}]"
    if not isinstance(spec, (list, tuple)) or len(spec) != 2:
        raise ValueError(f"{where} must be a 2-element list [kind, tags], got {spec!r}. {_FORM}")
    kind, tags = spec
    if kind == "Multiline":
        return Chart(title=title, multiline=MultilineChartContent(tag=_tags(tags, where)))
    if kind == "Margin":
        if (
            isinstance(tags, (list, tuple))
            and tags
            and all(isinstance(t, (list, tuple)) for t in tags)
        ):
            triples = [_tags(t, where) for t in tags]
        else:
            triples = [_tags(tags, where)]
        series = []
        for t in triples:
            if len(t) != 3:
                raise ValueError(
                    f"{where}: a 'Margin' chart needs exactly 3 tags [value, lower, upper], got "
                    f"{len(t)}. {_FORM}"
                )
            series.append(MarginChartContent.Series(value=t[0], lower=t[1], upper=t[2]))
        return Chart(title=title, margin=MarginChartContent(series=series))
    raise ValueError(f"{where}: chart kind must be 'Multiline' or 'Margin', got {kind!r}. {_FORM}")


def layout_proto(layout: dict) -> Layout:
    """The ``Layout`` proto of a layout dict (categories and charts in the dict's order).

    Raises:
        TypeError: ``layout`` or a category is not a dict, a title or tag is not a str.
        ValueError: a chart is not ``[kind, tags]``, the kind is not ``'Multiline'`` or
            ``'Margin'``, or a margin series has other than 3 tags.
    """
    if not isinstance(layout, dict):
        raise TypeError(f"layout must be a dict, got {type(layout).__name__}. {_FORM}")
    categories = []
    for cat_title, charts in layout.items():
        if not isinstance(cat_title, str):
            raise TypeError(
                f"layout: category titles must be str, got {type(cat_title).__name__}. {_FORM}"
            )
        if not isinstance(charts, dict):
            raise TypeError(
                f"layout[{cat_title!r}] must be a dict {{chart_title: [kind, tags]}}, got "
                f"{type(charts).__name__}. {_FORM}"
            )
        where = f"layout[{cat_title!r}]"
        categories.append(
            Category(title=cat_title, chart=[_chart(t, s, where) for t, s in charts.items()])
        )
    return Layout(category=categories)


def custom_scalars_summary(layout: dict) -> Summary:
    """Summary holding the layout (see :func:`layout_proto` for the form and errors)."""
    data = layout_proto(layout).SerializeToString()
    tensor = TensorProto(
        dtype=types_pb2.DT_STRING, string_val=[data], tensor_shape=TensorShapeProto()
    )
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME))
    return Summary(value=[Summary.Value(tag=CONFIG_TAG, tensor=tensor, metadata=metadata)])


def decode(value: Summary.Value) -> dict:
    """The layout dict of a custom_scalars Value, in the form above (a margin chart with one
    series gives its 3 tags; with several, a list of triples).

    Raises:
        ValueError: the Value holds no string tensor with a Layout.
    """
    if value.WhichOneof("value") != "tensor" or value.tensor.dtype != types_pb2.DT_STRING:
        raise ValueError(f"custom scalars {value.tag!r}: Value holds no string tensor")
    if len(value.tensor.string_val) != 1:
        raise ValueError(f"custom scalars {value.tag!r}: expected one serialized Layout")
    layout = Layout.FromString(value.tensor.string_val[0])
    out: dict = {}
    for cat in layout.category:
        charts = out.setdefault(cat.title, {})
        for chart in cat.chart:
            if chart.WhichOneof("content") == "margin":
                triples = [[s.value, s.lower, s.upper] for s in chart.margin.series]
                charts[chart.title] = ["Margin", triples[0] if len(triples) == 1 else triples]
            else:
                charts[chart.title] = ["Multiline", list(chart.multiline.tag)]
    return out
