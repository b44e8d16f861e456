"""Helpers shared by the tests of every data kind (tests/test_summary_*.py)."""

from __future__ import annotations

from conftest import read_logdir_events


def values(logdir, tag=None) -> list:
    """[(step, wall_time, Value)] of the Summary Values in logdir's event files (of ``tag``)."""
    return [
        (e.step, e.wall_time, v)
        for e in read_logdir_events(logdir)
        if e.HasField("summary")
        for v in e.summary.value
        if tag is None or v.tag == tag
    ]


def tags(logdir) -> list[str]:
    return [v.tag for _, _, v in values(logdir)]


def accumulator(logdir):
    """TensorBoard's EventAccumulator over ``logdir`` (one run folder), everything kept,
    loaded."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    kinds = [ea.SCALARS, ea.HISTOGRAMS, ea.COMPRESSED_HISTOGRAMS, ea.TENSORS, ea.IMAGES, ea.AUDIO,
             ea.GRAPH, ea.RUN_METADATA]
    acc = ea.EventAccumulator(str(logdir), size_guidance=dict.fromkeys(kinds, 0))
    acc.Reload()
    return acc


def assert_kept_after_error(writer, logdir, tag="before"):
    """The scalar logged as ``tag`` before a refused call is in the file after flush, and the
    writer still works."""
    writer.add_scalar("after", 2.0, 1)
    writer.flush()
    got = tags(logdir)
    assert tag in got and "after" in got, got


def tb_context(logdir):
    """(TBContext, RequestContext) of TensorBoard's data provider over ``logdir``, to drive a
    TensorBoard plugin's backend as its HTTP routes do."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin

    mux = pem.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
    tb = base_plugin.TBContext(logdir=str(logdir), multiplexer=mux, data_provider=provider)
    return tb, context.RequestContext()
