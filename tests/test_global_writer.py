"""GlobalSummaryWriter: per-(method, tag) steps 0, 1, 2, ... for every add_* method, shared with
forked worker processes, tensorboardX's positional arguments."""

from __future__ import annotations

import multiprocessing as mp
import sys

import numpy as np
import pytest
from conftest import event_files
from kinds_helpers import values

import tbx
from tbx.summary import histogram as H

_W = None  # the writer the forked pool workers inherit


def _pool_work(x):
    _W.add_scalar("poolmap", float(x))
    _W.flush()
    return x


def test_steps_count_per_method_and_tag(logdir):
    with tbx.GlobalSummaryWriter(logdir) as w:
        for v in (1.0, 2.0, 3.0):
            w.add_scalar("a", v)
        w.add_scalar("b", 10.0)
        w.add_text("a", "first")
        w.add_text("a", "second")
        w.add_histogram("h", np.arange(10))
        w.add_histogram("h", np.arange(20), bins=5)
    got = [(v.tag, s) for s, _, v in values(logdir)]
    assert got == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("b", 0),
        ("a/text_summary", 0),
        ("a/text_summary", 1),
        ("h", 0),
        ("h", 1),
    ]
    scalars = [v.simple_value for _, _, v in values(logdir, "a")]
    assert scalars == [1.0, 2.0, 3.0]
    (_, _, h1) = values(logdir, "h")[1]
    assert H.decode(h1).num == 20.0 and len(H.decode(h1).bucket_counts) == 6


def test_tensorboardx_positional_walltime(logdir):
    with tbx.GlobalSummaryWriter(logdir) as w:
        w.add_scalar("a", 1.0, 123.0)  # (tag, scalar_value, walltime) as tensorboardX's
        w.add_text("t", "x", walltime=456.0)
    assert [(s, wt) for s, wt, _ in values(logdir)] == [(0, 123.0), (0, 456.0)]


def test_global_step_refused_and_errors_keep_the_step(logdir):
    with tbx.GlobalSummaryWriter(logdir) as w:
        with pytest.raises(TypeError, match="numbers the steps itself"):
            w.add_scalar("a", 1.0, global_step=5)
        with pytest.raises(TypeError, match="scalar_value"):
            w.add_scalar("a", "bad")
        w.add_scalar("a", 1.0)
        w.add_scalar("a", 2.0)
    assert [s for s, _, _ in values(logdir, "a")] == [0, 1]


def test_every_add_method_and_later_ones(logdir, monkeypatch):
    def add_thing(self, tag, x, global_step=None, walltime=None):
        self.add_scalar(tag + "/thing", x, global_step, walltime)

    monkeypatch.setattr(tbx.SummaryWriter, "add_thing", add_thing, raising=False)
    with tbx.GlobalSummaryWriter(logdir) as w:
        assert {"add_scalar", "add_histogram", "add_pr_curve", "add_mesh", "add_thing"} <= set(
            dir(w)
        )
        w.add_thing("z", 1.0)
        w.add_thing("z", 2.0)
        w.add_pr_curve("pr", [1, 0], [0.9, 0.1])
        w.add_custom_scalars_multilinechart(["z/thing"])  # no step: passed through
        w.add_hparams({"lr": 0.1}, {"m": 1.0})
        with pytest.raises(AttributeError):
            _ = w.add_nothing
    got = [(v.tag, s) for s, _, v in values(logdir)]
    assert got[:4] == [("z/thing", 0), ("z/thing", 1), ("pr", 0), ("custom_scalars__config__", 0)]


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork")
def test_steps_shared_with_forked_workers(logdir):
    global _W
    _W = tbx.GlobalSummaryWriter(logdir)
    try:
        _W.add_scalar("poolmap", -1.0)  # parent: step 0
        with mp.get_context("fork").Pool(2) as pool:
            assert sorted(pool.map(_pool_work, range(20))) == list(range(20))
        _W.flush()
    finally:
        _W.close()
        _W = None
    steps = sorted(s for s, _, _ in values(logdir, "poolmap"))
    assert steps == list(range(21))  # no step written twice
    assert len(event_files(logdir)) >= 2  # the workers wrote files of their own


def test_get_summary_writer_is_shared(tmp_path, monkeypatch):
    import tbx.global_writer as gw

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gw, "_writer", None)
    a = tbx.GlobalSummaryWriter.getSummaryWriter()
    try:
        assert tbx.GlobalSummaryWriter.getSummaryWriter() is a
        a.add_text("log", "from module 1")
        tbx.GlobalSummaryWriter.getSummaryWriter().add_text("log", "from module 2")
        a.flush()
        assert [s for s, _, _ in values(a.get_logdir(), "log/text_summary")] == [0, 1]
        assert a.get_logdir().startswith("runs")
    finally:
        a.close()


def test_series_key_is_the_tag_argument(logdir):
    with tbx.GlobalSummaryWriter(logdir) as w:
        x = np.arange(12.0).reshape(4, 3)
        w.add_embedding(x)  # tag "default", step 0
        w.add_embedding(x, tag="b")  # another series: step 0
        w.add_embedding(x)  # step 1
        w.add_scalars("grp", {"a": 1.0})
        w.add_scalars("grp", {"a": 2.0})
    dirs = sorted(p.relative_to(logdir).as_posix() for p in logdir.glob("0000*/*"))
    assert dirs == ["00000/b", "00000/default", "00001/default"]
    assert [s for s, _, _ in values(logdir / "grp" / "a", "grp")] == [0, 1]
