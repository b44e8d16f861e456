// Numbers as the page prints them: hover values, legend entries, axis tick labels. Pure
// functions (no DOM, no page state), exposed to plugins on api.charts and to tests on
// window.__tbx.format. The rules they keep:
// - a hover value tells a logged value apart from its neighbours in the series: the decimal
//   shown is nearer to it than halfway to them (up to float64's 17 digits, at least 6);
//   float32 values (what add_scalar logs) are shown exactly, as the shortest decimal that
//   reads back as the same float32 (with more digits only when that is not apart);
// - a legend entry is a real point of its series; when it is not at the hovered x, its own x is
//   shown beside it;
// - tick labels are distinct and each equals its tick's value (plus the axis offset, shown once
//   beside the axis, when the values share a large offset).

const NNBSP = '\u202f'; // narrow no-break space between groups of three integer digits
const MIN_DIGITS = 6;

export function isFloat32(v) {
  return Math.fround(v) === v;
}

// v (finite) rounded to p significant digits: {neg, digits, e} = (-)d.ddd x 10^e, no trailing
// zeros in digits ('0' for zero).
export function decimal(v, p) {
  const [m, e] = Math.abs(v).toExponential(Math.min(100, Math.max(0, p - 1))).split('e');
  const digits = m.replace('.', '').replace(/0+$/, '') || '0';
  return { neg: v < 0 && digits !== '0', digits, e: digits === '0' ? 0 : Number(e) };
}

export function decimalValue(d) {
  return Number(`${d.neg ? '-' : ''}${d.digits[0]}.${d.digits.slice(1) || '0'}e${d.e}`);
}

// The fewest significant digits that read back as v (as the same float32 with f32).
export function shortest(v, f32 = false) {
  for (let p = 1; p < 17; p++) {
    const d = decimal(v, p);
    const back = decimalValue(d);
    if (f32 ? Math.fround(back) === v : back === v) return d;
  }
  return decimal(v, 17);
}

// A decimal as text: positional for 1e-5 <= |v| < 1e15 (integer digits grouped by threes when
// there are more than four), otherwise 1.25e-7 / 3e+21.
export function renderDecimal(d, { group = true } = {}) {
  const { digits, e } = d;
  if (digits === '0') return '0';
  const n = digits.length;
  let s;
  if (e >= -5 && e < 15) {
    let int;
    let frac = '';
    if (e >= n - 1) int = digits + '0'.repeat(e - n + 1);
    else if (e >= 0) { int = digits.slice(0, e + 1); frac = digits.slice(e + 1); } else { int = '0'; frac = '0'.repeat(-e - 1) + digits; }
    if (group && int.length > 4) int = int.replace(/\B(?=(\d{3})+(?!\d))/g, NNBSP);
    s = frac ? `${int}.${frac}` : int;
  } else {
    s = `${digits[0]}${n > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '' : '+'}${e}`;
  }
  return (d.neg ? '-' : '') + s;
}

// Text back to a number (removes the digit grouping): for tests and for reading labels.
export function parseShown(s) {
  return Number(String(s).replace(/[\s\u202f]/g, '').replace(/^\+Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity'));
}

// A value for the hover legend. neighbours: the values logged just before and after it in its
// series (undefined at the ends). Non-finite: 'NaN', '+Inf', '-Inf'; no value: '–'.
export function fmtValue(v, neighbours = []) {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const others = neighbours.filter((x) => typeof x === 'number' && Number.isFinite(x) && x !== v);
  const f32 = isFloat32(v) && others.every(isFloat32);
  // a decimal tells v apart when it is nearer to v than halfway to any neighbour (so it is
  // nearer to v than to them, and two adjacent values can never print the same)
  const apart = (d) => {
    const at = decimalValue(d);
    return Number.isFinite(at) && others.every((x) => Math.abs(v - at) < Math.abs(x - v) / 2);
  };
  const exact = shortest(v, f32);
  const n = exact.digits.length;
  // every float32 and short float64s: exact, or with more digits when that is not apart
  let p = n <= 9 ? n : MIN_DIGITS;
  if (n <= 9 && apart(exact)) return renderDecimal(exact);
  if (n <= 9) p = n + 1;
  while (p < 17 && !apart(decimal(v, p))) p++;
  // a long float64: the exact value when that is not much longer, else rounded to p digits
  return renderDecimal(n > 9 && n <= p + 2 && apart(exact) ? exact : decimal(v, p));
}

// Index of the point of a series (xs ascending) to show at x: the last point at x exactly, else
// the nearest (the earlier on a tie). {i: -1} for an empty series.
export function pointAt(xs, x) {
  const n = xs.length;
  if (!n || x === null || x === undefined || Number.isNaN(x)) return { i: -1, exact: false };
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (xs[m] <= x) lo = m + 1; else hi = m;
  }
  if (lo > 0 && xs[lo - 1] === x) return { i: lo - 1, exact: true };
  if (lo === 0) return { i: 0, exact: false };
  if (lo === n) return { i: n - 1, exact: false };
  return { i: x - xs[lo - 1] <= xs[lo] - x ? lo - 1 : lo, exact: false };
}

// The legend entry of one series at hovered x: its value there, or its nearest point's value
// with that point's own x (`where(x)`, e.g. 'step 20'); a point at x that the chart cannot draw
// (log scale, value <= 0) says so. xs ascending, ys the values as logged (NaN, ±Inf kept).
export function legendValue(xs, ys, x, { logy = false, where = (px) => `step ${px}` } = {}) {
  const { i, exact } = pointAt(xs, x);
  if (i < 0) return '–';
  const v = ys[i];
  let s = fmtValue(v, [ys[i - 1], ys[i + 1]]);
  if (!exact) s += ` (${where(xs[i])})`;
  else if (logy && Number.isFinite(v) && v <= 0) s += ' (not on the log scale)';
  return s;
}

// Exponent of the last significant digit of x (> 0): 2.5 -> -1, 5000 -> 3.
function lastDigitExp(x) {
  const d = shortest(x);
  return d.e - d.digits.length + 1;
}

function leadExp(x) {
  return x === 0 ? 0 : decimal(x, 17).e;
}

function fixed(v, dp) {
  const s = v.toFixed(Math.min(100, Math.max(0, dp)));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

// Labels of ticks at `vals` (finite, ascending) spaced by multiples of 10^r: positional with
// -r decimals, or with a common exponent; null when neither fits in maxChars.
function plainLabels(vals, r, maxChars, allowExp = true) {
  const nonzero = vals.filter((v) => v !== 0);
  const lead = nonzero.length ? Math.max(...nonzero.map((v) => leadExp(Math.abs(v)))) : r;
  if (lead < 15 && r >= -8) {
    const labels = vals.map((v) => fixed(v, -r));
    if (Math.max(...labels.map((l) => l.length)) <= maxChars) return labels;
  }
  if (allowExp && lead - r + 1 <= 4) {
    const labels = vals.map((v) => (v === 0 ? '0' : `${fixed(v / 10 ** lead, lead - r)}e${lead}`));
    if (Math.max(...labels.map((l) => l.length)) <= maxChars) return labels;
  }
  return null;
}

export function fmtOffset(base) {
  if (base === 0) return '';
  const d = shortest(Math.abs(base));
  const zeros = d.e - d.digits.length + 1;
  const body = zeros >= 3
    ? `${d.digits[0]}${d.digits.length > 1 ? `.${d.digits.slice(1)}` : ''}e${d.e}`
    : renderDecimal(d);
  return (base < 0 ? '-' : '+') + body;
}

// Tick labels of an axis. splits: tick values (ascending; null for ticks left unlabelled),
// incr: their spacing (uPlot's foundIncr; guessed from the splits when missing). Returns
// {labels, offset, offsetText}: value of tick i = offset + Number(labels[i]); every label
// distinct. log: ticks of a log scale (labelled by their own shortest decimals).
export function axisLabels(splits, incr, { log = false, maxChars = 8 } = {}) {
  const idx = [];
  const vals = [];
  splits.forEach((v, i) => { if (typeof v === 'number' && Number.isFinite(v)) { idx.push(i); vals.push(v); } });
  const labels = splits.map(() => '');
  if (!vals.length) return { labels, offset: 0, offsetText: '' };
  let out = null;
  let offset = 0;
  if (log) {
    out = vals.map((v) => {
      const d = shortest(v);
      const s = renderDecimal(d, { group: false });
      return s.length <= maxChars ? s : `${d.digits[0]}${d.digits.length > 1 ? `.${d.digits.slice(1)}` : ''}e${d.e}`;
    });
  } else {
    let step = incr;
    if (!(step > 0) || !Number.isFinite(step)) {
      step = Infinity;
      for (let k = 1; k < vals.length; k++) if (vals[k] - vals[k - 1] > 0) step = Math.min(step, vals[k] - vals[k - 1]);
      if (!Number.isFinite(step)) step = Math.abs(vals[0]) || 1;
    }
    const r = lastDigitExp(step);
    out = plainLabels(vals, r, maxChars);
    if (!out) {
      // values sharing a large offset: label base + delta, with base a multiple of 10^k
      // above the ticks' span
      const span = vals[vals.length - 1] - vals[0];
      const k = Math.max(r + 1, span > 0 ? Math.floor(Math.log10(span)) + 1 : r + 1);
      const unit = 10 ** k;
      offset = Math.floor(vals[0] / unit) * unit;
      if (!Number.isFinite(offset)) offset = 0;
      const deltas = vals.map((v) => v - offset);
      out = plainLabels(deltas, r, maxChars) || deltas.map((v) => fixed(v, -r));
    }
  }
  // safety: more digits until every label is distinct
  for (let extra = 1; new Set(out).size < out.length && extra < 18; extra++) {
    out = vals.map((v) => renderDecimal(decimal(v - offset, MIN_DIGITS + extra), { group: false }));
  }
  idx.forEach((i, j) => { labels[i] = out[j]; });
  return { labels, offset, offsetText: fmtOffset(offset) };
}

// About `count` round tick values between min and max: {splits, incr}.
export function niceTicks(min, max, count = 5) {
  if (!(max > min)) return { splits: Number.isFinite(min) ? [min] : [], incr: 0 };
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const incr = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const first = Math.ceil(min / incr);
  const splits = [];
  for (let k = first; k * incr <= max + incr * 1e-9 && splits.length < 100; k++) splits.push(k * incr);
  return { splits, incr };
}
