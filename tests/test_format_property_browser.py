"""Property tests of the page's number code (web/src/format.js and the y axis of web/src/chart.js),
run in one real Chromium page over random series: offsets up to 1e12, steps with gaps, NaN and
±Inf, float32 and float64 values, linear and log axes (issue 17, items 1 and 2).

Rules checked:
1. Hover: a value's text tells it apart from its adjacent logged values (it is closer to its own
   value than to theirs, and differs from their texts), keeps at least 6 significant digits,
   reads back as the same float32 for float32 series, and has at most 17 digits.
   Ticks: uPlot's tick labels (with our axis code) are distinct, each equals its tick's value
   (plus the axis offset), and the y range does not flatten the data.
2. Legend: each entry is a real point of its run: the one at the hovered x, or else the run's
   nearest point (the earlier on a tie) with its own step beside it; NaN/±Inf and values off a
   log scale are shown as themselves, never replaced by a neighbour.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from browser_helpers import browser, page_at  # noqa: F401 (fixture)
from viewer_fakes import running

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NNBSP = "\u202f"
SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

_HARNESS = """() => {
  const F = window.__tbx.format;
  const { uPlot, numAxis, valueRange } = window.__tbx.lib;
  window.__prop = {
    hover: (ys) => ys.map((v, i) => F.fmtValue(v, [ys[i - 1], ys[i + 1]])),
    legend: (runs, x, logy) => runs.map(
      ([xs, ys]) => F.legendValue(Float64Array.from(xs), ys, x, { logy })),
    ticks: async (ys, logy) => {
      const holder = document.createElement('div');
      document.body.append(holder);
      let rec = null;
      const u = new uPlot({
        width: 600, height: 240, series: [{}, { stroke: 'red' }],
        scales: { x: { time: false }, y: { distr: logy ? 3 : 1, range: valueRange } },
        axes: [{}, numAxis({ log: () => logy, onTicks: (t) => { rec = t; } })],
      }, [ys.map((_, i) => i), ys], holder);
      await new Promise((r) => setTimeout(r, 0)); // uPlot lays out in a microtask
      const ax = u.axes[1];
      const out = { splits: ax._splits, labels: ax._values, offset: rec ? rec.offset : 0,
                    min: u.scales.y.min, max: u.scales.y.max };
      u.destroy();
      holder.remove();
      return out;
    },
  };
}"""


@pytest.fixture(scope="module")
def pg(browser, tmp_path_factory):  # noqa: F811 (browser is the shared fixture)
    from tbx.reader.provider import LogdirProvider
    from tbx.viewer.app import create_app

    app = create_app(LogdirProvider(str(tmp_path_factory.mktemp("empty"))), reload_interval=5)
    with running(app) as url, page_at(browser, url) as page:
        page.evaluate(_HARNESS)
        yield page


def _num(s: str) -> float:
    s = s.replace(NNBSP, "")
    return {"+Inf": math.inf, "-Inf": -math.inf}.get(s) or float(s)


def _sig_digits(s: str) -> int:
    m = s.replace(NNBSP, "").lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(m) or 1


@st.composite
def values(draw, min_size=2, max_size=40, bound=None):
    """A series as a user logs it: an offset (up to 1e12) plus a walk or a grid of small steps,
    or arbitrary floats (within ±bound); float32 or float64; some points NaN or ±Inf."""
    n = draw(st.integers(min_size, max_size))
    kind = draw(st.sampled_from(["walk", "grid", "arbitrary"]))
    if kind == "arbitrary":
        ys = draw(st.lists(st.floats(min_value=-bound if bound else None, max_value=bound,
                                     allow_nan=False, allow_infinity=False, width=64),
                           min_size=n, max_size=n))
        ys = np.array(ys, dtype=np.float64)
    else:
        offset = draw(st.sampled_from([0.0, 1.0, 1e3, 1e6, 1e9, 1e12])) \
            * draw(st.sampled_from([1.0, -1.0]))
        scale = 10.0 ** draw(st.integers(-8, 3)) * draw(st.sampled_from([1.0, 0.25, 0.3]))
        if kind == "walk":
            ks = np.cumsum(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)))
        else:
            ks = np.arange(n)
        ys = offset + ks * scale
    if draw(st.booleans()):
        with np.errstate(over="ignore"):
            ys = ys.astype(np.float32).astype(np.float64)
    ys = ys.tolist()
    for i in draw(st.lists(st.integers(0, n - 1), max_size=3)):
        ys[i] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return ys


def _is_f32(v: float) -> bool:
    with np.errstate(over="ignore"):
        return math.isfinite(v) and float(np.float32(v)) == v


@SETTINGS
@given(ys=values())
def test_hover_tells_adjacent_values_apart(pg, ys):
    shown = pg.evaluate("ys => window.__prop.hover(ys)", ys)
    for i, (v, s) in enumerate(zip(ys, shown, strict=True)):
        if math.isnan(v):
            assert s == "NaN"
            continue
        if math.isinf(v):
            assert s == ("+Inf" if v > 0 else "-Inf")
            continue
        p = _num(s)
        assert _sig_digits(s) <= 17, s
        nbrs = [j for j in (i - 1, i + 1) if 0 <= j < len(ys)]
        finite = [ys[j] for j in nbrs if math.isfinite(ys[j]) and ys[j] != v]
        if _is_f32(v) and all(_is_f32(n) for n in finite):
            assert float(np.float32(p)) == v, (v, s)  # float32 shown exactly
        else:
            assert abs(p - v) <= 5e-6 * abs(v), (v, s)  # at least 6 significant digits
        for j in nbrs:
            n = ys[j]
            if math.isfinite(n) and n != v:
                assert abs(p - v) < abs(p - n), (v, s, n)  # closer to its own value
                assert shown[j] != s, (v, s, n)


@st.composite
def runs(draw):
    """Up to 6 runs: steps with gaps (sorted, distinct), values as in ``values``."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        ys = draw(values(min_size=1, max_size=25))
        gaps = draw(st.lists(st.integers(1, 50), min_size=len(ys), max_size=len(ys)))
        start = draw(st.integers(0, 10**6))
        xs = (start + np.cumsum(gaps) - gaps[0]).tolist()
        out.append((xs, ys))
    return out


@SETTINGS
@given(rs=runs(), pick=st.integers(0, 10**9), logy=st.booleans())
def test_legend_entries_are_real_points(pg, rs, pick, logy):
    union = sorted({x for xs, _ in rs for x in xs})
    x = union[pick % len(union)]  # uPlot hovers one of the joined x values
    texts = pg.evaluate("([rs, x, logy]) => window.__prop.legend(rs, x, logy)", [rs, x, logy])
    for (xs, ys), text in zip(rs, texts, strict=True):
        shown = pg.evaluate("ys => window.__prop.hover(ys)", ys)
        if x in xs:
            j = xs.index(x)
            v = ys[j]
            want = shown[j]
            if logy and math.isfinite(v) and v <= 0:
                want += " (not on the log scale)"
            assert text == want, (xs, ys, x, text)
        else:
            # the nearest point of this run, the earlier on a tie, with its own step
            j = min(range(len(xs)), key=lambda k: (abs(xs[k] - x), xs[k]))
            assert text == f"{shown[j]} (step {xs[j]})", (xs, ys, x, text)
            assert xs[j] != x


@SETTINGS
@given(ys=values(min_size=2, max_size=60, bound=1e15), logy=st.booleans())
@example(ys=[1000000000000.0, 999999999999.999], logy=True)  # log10 rounds it up to 12
def test_tick_labels_distinct_and_true(pg, ys, logy):
    ys = [v if math.isfinite(v) and (not logy or v > 0) else None for v in ys]
    finite = [v for v in ys if v is not None]
    if len(finite) < 2:
        return
    t = pg.evaluate("([ys, logy]) => window.__prop.ticks(ys, logy)", [ys, logy])
    pairs = [(s, lab) for s, lab in zip(t["splits"], t["labels"], strict=True)
             if s is not None and lab not in ("", None)]
    labels = [lab for _, lab in pairs]
    assert len(set(labels)) == len(labels), t
    if len(pairs) >= 2:
        step = min(b - a for (a, _), (b, _) in zip(pairs, pairs[1:], strict=False))
    else:
        step = abs(pairs[0][0]) if pairs else 1.0
    for s, lab in pairs:
        got = t["offset"] + _num(lab)
        tol = (1e-9 * abs(s)) if logy else (1e-6 * step + 4 * np.spacing(abs(s)))
        assert abs(got - s) <= tol, (s, lab, t["offset"], t)
    lo, hi = min(finite), max(finite)
    if not logy and 1e-6 * max(abs(lo), abs(hi)) < hi - lo and hi - lo > 1e-12:
        assert len(pairs) >= 2, t  # (uPlot has no ticks below 1e-16 apart)
    if logy:
        lo, hi = max(lo, 1e-300), max(hi, 1e-300)  # (the log range starts at 1e-300)
    assert t["min"] <= lo and hi <= t["max"], t
    if not logy and hi > lo:
        # the data are not flattened (spans of a few float64 steps widen to 1e-12 of the values)
        assert t["max"] - t["min"] <= 60 * max(hi - lo, 1e-12 * max(abs(lo), abs(hi))), t
