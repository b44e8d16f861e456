// Numeric uPlot axes whose tick labels come from format.js (distinct, each its tick's value, a
// shared offset shown once), log ticks at any magnitude, and a y range that fits the values.
import uPlot from 'uplot';
import { axisLabels } from './format.js';

// uPlot options of a numeric axis whose tick labels come from axisLabels (distinct, each its
// tick's value): `values` and `size` for the axis, and the offset (when the ticks share a large
// one) written into `badge`, an element of the chart's own. onTicks({values, labels, offset})
// gets every labelling (tests read it). x: options for a horizontal axis (no width).
export function numAxis({ badge = null, onTicks = null, log = () => false, x = false } = {}) {
  const axis = {
    values: (u, splits, axisIdx, space, incr) => {
      const t = axisLabels(splits, incr, { log: log() });
      if (badge) {
        badge.textContent = t.offsetText;
        badge.hidden = !t.offsetText;
      }
      if (onTicks) onTicks({ values: splits.slice(), labels: t.labels, offset: t.offset, offsetText: t.offsetText });
      return t.labels;
    },
  };
  if (log()) {
    axis.splits = logSplits;
    axis.filter = logFilter;
  }
  if (!x) {
    axis.size = (u, values) => {
      if (!values) return 50;
      return Math.ceil(Math.max(20, ...values.map((v) => textWidth(String(v ?? ''))))) + 22;
    };
  }
  return axis;
}

// Ticks of a log10 axis: powers of ten (every k-th decade when there are many), and their 2..9
// multiples over a few decades; exact decimals. (uPlot's own fail below 1e-16.)
function logSplits(u, axisIdx, min, max) {
  if (!(min > 0) || !(max >= min)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const every = Math.max(1, Math.ceil((hi - lo) / 10));
  const mults = hi - lo <= 4 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : [1];
  const out = [];
  for (let e = Math.floor(lo / every) * every; e <= hi; e += every) {
    for (const m of mults) {
      const v = Number(`${m}e${e}`);
      if (v >= min && v <= max) out.push(v);
    }
  }
  return out;
}

// Which log ticks get a label: powers of ten, and 2x, 5x (or every multiple) when a decade is
// tall enough.
function logFilter(u, splits, axisIdx) {
  const key = u.axes[axisIdx].scale;
  const decade = Math.abs(u.valToPos(10, key) - u.valToPos(1, key));
  const keep = decade >= 270 ? /^[1-9]/ : decade >= 90 ? /^[125]/ : /^1/;
  return splits.map((v) => (v != null && keep.test(v.toExponential()) ? v : null));
}

const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
let measurer = null;
function textWidth(s) {
  if (!measurer) {
    measurer = document.createElement('canvas').getContext('2d');
    measurer.font = AXIS_FONT; // uPlot's axis font
  }
  return measurer.measureText(s).width;
}

// uPlot range of a value (y) scale: uPlot's own rounded range when it fits the values, else
// (uPlot widens [1e12, 1e12 + 25] to [0, 2e12] and narrows [1, 1.00000025] to [1, 1]) the
// values' own range, padded by a tenth of it; log scales from 1e-300.
export function valueRange(u, min, max) {
  if (min == null || max == null) return [null, null];
  if (u.scales.y && u.scales.y.distr === 3) {
    // (uPlot's log range fails on subnormal numbers, and may cut off a value just below a
    // power of ten: then whole decades)
    const lo = Math.max(min, 1e-300);
    const hi = Math.max(max, 1e-300);
    const r = uPlot.rangeLog(lo, hi, 10, false);
    if (r[0] <= lo && r[1] >= hi && r[1] > r[0]) return r;
    let a = Math.floor(Math.log10(lo));
    if (Number(`1e${a}`) > lo) a -= 1; // log10 rounds 999999999999.999 up to 12
    let b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
    if (Number(`1e${b}`) < hi) b += 1;
    return [Number(`1e${a}`), Number(`1e${b}`)];
  }
  const d = max - min;
  const mag = Math.max(Math.abs(min), Math.abs(max));
  if (d > 0 && d < 1e-12 * mag) {
    // values a few float64 steps apart: a span uPlot can tick (its ticks stop advancing
    // below ~10 steps of the last digit)
    const mid = min + d / 2;
    return [mid - 5e-13 * mag, mid + 5e-13 * mag];
  }
  const r = uPlot.rangeNum(min, max, 0.1, true);
  // uPlot's rounding loses small spans (1 .. 1.00000025 becomes [1, 1]) and flattens large
  // offsets: keep its range only when it holds the values and is not much wider
  if (r[0] <= min && r[1] >= max && r[1] > r[0] && (d === 0 || r[1] - r[0] <= 50 * d)) return r;
  const pad = d > 0 ? 0.1 * d : Math.abs(min) * 0.1 || 1;
  return [min - pad, max + pad];
}
