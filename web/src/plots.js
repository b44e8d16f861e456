// uPlot series and data for a scalar chart's three ways of drawing: a few series (one table on
// shared x, legend with each series' own point), many series (each its own x: uPlot's mode 2,
// so 500 runs logged at different steps never make a 500-column table of their union), and
// groups (one line and a band per group, plus the members of expanded groups, all on the
// server's shared x values).
import uPlot from 'uplot';
import { fmtValue } from './format.js';
import { colorOf, runColor, state } from './state.js';

export function fmtDuration(s) {
  if (s == null) return '–';
  const a = Math.abs(s);
  if (a < 120) return `${Number(s.toPrecision(4))}s`;
  if (a < 7200) return `${Number((s / 60).toPrecision(4))}m`;
  return `${Number((s / 3600).toPrecision(4))}h`;
}

// The x of a point as the legend names it ('step 20', 'at 12:00:01').
export function fmtX(x, kind = state.xaxis) {
  if (x == null || Number.isNaN(x)) return '–';
  if (kind === 'relative') return fmtDuration(x);
  if (kind === 'wall_time') return new Date(x * 1000).toLocaleString();
  return Number.isInteger(x) ? String(x) : fmtValue(x);
}

const clean = (a) => Array.from(a, (v) => (Number.isFinite(v) && (!state.logy || v > 0) ? v : null));

// x (and the value columns) in ascending x, stable (equal steps keep their logged order): uPlot
// needs it when a run logged steps out of order.
function ascending(x, cols) {
  for (let i = 1; i < x.length; i++) {
    if (x[i] < x[i - 1]) {
      const order = Array.from(x.keys()).sort((a, b) => x[a] - x[b] || a - b);
      return [Float64Array.from(order, (k) => x[k]), cols.map((c) => Float64Array.from(order, (k) => c[k]))];
    }
  }
  return [x, cols];
}

export function xSeries() {
  return { label: state.xaxis, value: (u, v, si, idx) => (idx == null ? '–' : fmtX(v)) };
}

// A few series: one table (uPlot.join), legend entries that are each series' own point
// (legendSrc: uPlot series index -> {x, y} as logged), margin bands.
export function plainPlot(chart, list, value) {
  const smooth = chart.smoothing() > 0;
  const tables = [];
  const legendSrc = [null];
  for (const s of list) {
    const [x, cols] = ascending(chart.xOf(s), [s.value, s.smoothed].filter(Boolean));
    tables.push([Array.from(x), ...cols.map(clean)]);
    cols.forEach((c) => legendSrc.push({ x, y: c }));
  }
  const data = tables.length ? uPlot.join(tables) : [[]];
  const colors = Object.fromEntries(list.map((s) => [s.run, chart.spec.color ? chart.spec.color(s.run, s.tag) : runColor(s.run)]));
  const multiTag = chart.spec.tags.length > 1;
  const series = [xSeries()];
  const index = new Map(); // "run\0tag" -> uPlot series index of its raw line
  const bounds = new Set();
  for (const m of chart.spec.margin || []) { bounds.add(m.lower); bounds.add(m.upper); }
  for (const s of list) {
    index.set(`${s.run}\0${s.tag}`, series.length);
    const color = colors[s.run];
    if (bounds.has(s.tag)) {
      series.push({ label: `${s.run} · ${s.tag}`, stroke: `${color}66`, width: 1, dash: [4, 3], value });
      if (smooth) series.push({ label: `${s.run} · ${s.tag} (smoothed)`, show: false, value });
      continue;
    }
    const name = chart.spec.label ? chart.spec.label(s.run, s.tag) : (multiTag ? `${s.run} · ${s.tag}` : s.run);
    series.push({
      label: smooth ? `${name} (raw)` : name, stroke: smooth ? `${color}55` : color, width: smooth ? 1 : 1.5, value,
    });
    if (smooth) series.push({ label: name, stroke: color, width: 1.5, value });
  }
  const bands = [];
  for (const m of chart.spec.margin || []) {
    for (const run of new Set(list.map((x) => x.run))) {
      const lo = index.get(`${run}\0${m.lower}`);
      const hi = index.get(`${run}\0${m.upper}`);
      if (lo && hi) bands.push({ series: [hi, lo], fill: `${runColor(run)}22` });
    }
  }
  return { series, bands, data, legendSrc, legend: { live: true } };
}

// Many series, each with its own x (mode 2); no legend: the nearest line is named on hover.
export function manyPlot(chart, list) {
  const smooth = chart.smoothing() > 0;
  const data = [null];
  const series = [{}];
  for (const s of list) {
    const [x, [y]] = ascending(chart.xOf(s), [smooth && s.smoothed ? s.smoothed : s.value]);
    data.push([Array.from(x), clean(y)]);
    series.push({
      label: s.run, stroke: runColor(s.run), width: 1, paths: uPlot.paths.linear(), points: { show: false },
      facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: true }],
    });
  }
  return { series, bands: [], data, mode: 2, legend: { show: false }, cursor: { points: { show: false } } };
}

// The line nearest to the cursor in many mode: "run · value @ x".
export function nearest(u, list) {
  const { left, top } = u.cursor;
  if (left == null || left < 0) return '';
  const x = u.posToVal(left, 'x');
  let best = null;
  for (let i = 1; i < u.data.length; i++) {
    const [xs, ys] = u.data[i];
    if (!xs.length || x < xs[0] || x > xs[xs.length - 1]) continue;
    let lo = 0;
    let hi = xs.length - 1;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (xs[mid] <= x) lo = mid; else hi = mid; }
    const j = Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
    if (ys[j] == null) continue;
    const d = Math.abs(u.valToPos(ys[j], 'y') - top);
    if (!best || d < best.d) best = { d, i, j, x: xs[j], y: ys[j] };
  }
  if (!best || best.d > 30) return '';
  return `${list[best.i - 1].run} · ${fmtValue(best.y)} @ ${fmtX(best.x)}`;
}

export function groupColor(labels, label) {
  const i = labels.indexOf(label);
  return colorOf(i < 0 ? 0 : i);
}

// Members listed in a group chart's legend at most (past it, only the groups are).
const LEGEND_MEMBERS = 20;

// Groups: per tag one table of the shared x, each group's line, band edges and expanded
// members; legendSrc as plainPlot's (the points sent: the server's grid).
export function groupPlot(chart, groups, members, value) {
  const labels = [...new Set(groups.map((g) => g.group))];
  const multiTag = chart.spec.tags.length > 1;
  const tables = [];
  const series = [xSeries()];
  const legendSrc = [null];
  const bands = [];
  const hideLegend = [];
  const band = state.group.band;
  for (const tag of chart.spec.tags) {
    const gs = groups.filter((g) => g.tag === tag);
    if (!gs.length) continue;
    const ms = members.filter((m) => m.tag === tag);
    const x = gs[0].cols.x;
    const cols = [];
    const add = (s, y) => { series.push({ ...s, value }); cols.push(clean(y)); legendSrc.push({ x, y }); };
    for (const g of gs) {
      const color = groupColor(labels, g.group);
      const name = `${g.group} (${g.members})${multiTag ? ` · ${tag}` : ''}`;
      const base = series.length;
      add({ label: name, stroke: color, width: 2, points: { show: false } }, g.cols.value);
      if (band !== 'none') {
        const [lo, hi] = band === 'std' ? ['−σ', '+σ'] : ['min', 'max'];
        add({ label: `${name} ${lo}`, stroke: 'rgba(0,0,0,0)', width: 1, points: { show: false } }, g.cols.lo);
        add({ label: `${name} ${hi}`, stroke: 'rgba(0,0,0,0)', width: 1, points: { show: false } }, g.cols.hi);
        bands.push({ series: [base + 2, base + 1], fill: `${color}33` });
        hideLegend.push(base + 1, base + 2);
      }
      for (const m of ms.filter((mm) => mm.group === g.group)) {
        if (members.length > LEGEND_MEMBERS) hideLegend.push(series.length);
        add({ label: `${m.run}${multiTag ? ` · ${tag}` : ''}`, stroke: `${color}99`, width: 1, points: { show: false } }, m.cols.value);
      }
    }
    tables.push([Array.from(x), ...cols]);
  }
  const data = tables.length === 1 ? tables[0] : tables.length ? uPlot.join(tables) : [[]];
  return { series, bands, data, legendSrc, hideLegend, legend: { live: true } };
}
