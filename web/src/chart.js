// A scalar chart: fetches downsampled series for its pixel width, redraws with uPlot,
// re-queries on zoom, appends live deltas.
import uPlot from 'uplot';
import { SERIES_URL, getSeries, query } from './api.js';
import { numAxis, valueRange } from './axes.js';
import { fmtValue, legendValue } from './format.js';
import { state, runColor, scheduleDraw, el } from './state.js';

const HEIGHT = 240;

// A number for a label where no neighbours are known (kept for plugins: api.charts.fmtNum).
export function fmtNum(v) {
  return fmtValue(v);
}

function fmtDuration(s) {
  if (s == null) return '–';
  const a = Math.abs(s);
  if (a < 120) return `${Number(s.toPrecision(4))}s`;
  if (a < 7200) return `${Number((s / 60).toPrecision(4))}m`;
  return `${Number((s / 3600).toPrecision(4))}h`;
}

// The x of a point as the legend names it ('step 20', 'at 12:00:01').
function fmtX(x, kind = state.xaxis) {
  if (x == null || Number.isNaN(x)) return '–';
  if (kind === 'relative') return fmtDuration(x);
  if (kind === 'wall_time') return new Date(x * 1000).toLocaleString();
  return Number.isInteger(x) ? String(x) : fmtValue(x);
}

function where(x) {
  return state.xaxis === 'step' ? `step ${fmtX(x)}` : `at ${fmtX(x)}`;
}

function concat(a, b) {
  const out = new Float64Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class ScalarChart {
  // spec: {title, runs() -> [run], tags: [tag], label(run, tag), color(run, tag), csv: bool}
  constructor(spec) {
    this.spec = spec;
    this.series = new Map(); // "run\0tag" -> {run, tag, step, wall, value, smoothed, ema, firstWall, total}
    this.zoom = null;
    this.visible = false;
    this.stale = true;
    this.requests = 0;
    this.plot = null;
    this.abort = null;
    this.pending = [];
    this.el = el('div', { class: 'card chart-card' });
    this.el.dataset.title = spec.title;
    const head = el('div', { class: 'card-head' });
    head.append(el('span', { class: 'card-title', text: spec.title }));
    const tools = el('span', { class: 'card-tools' });
    this.status = el('span', { class: 'status' });
    const reset = el('button', { type: 'button', class: 'reset-zoom', text: 'reset zoom', title: 'or double-click the chart' });
    reset.addEventListener('click', () => this.resetZoom());
    this.csv = el('a', { class: 'csv', text: 'CSV', title: 'every point of this chart as CSV' });
    this.json = el('a', { class: 'json', text: 'JSON', title: 'every point of this chart as JSON' });
    tools.append(this.status, reset, this.csv, this.json);
    head.append(tools);
    this.body = el('div', { class: 'chart-body' });
    this.el.append(head, this.body);
    this.el.__chart = this;
  }

  smoothing() {
    return this.spec.margin ? 0 : state.smoothing; // margin charts show the values as logged
  }

  pairs() {
    return { run: this.spec.runs(), tag: this.spec.tags };
  }

  width() {
    return Math.max(200, Math.floor(this.body.clientWidth || this.el.clientWidth || 400));
  }

  // The runs this chart would show now differ from those of its last load (runs appeared or
  // vanished): it must load again.
  runsChanged() {
    return this.loadedRuns !== undefined && JSON.stringify(this.spec.runs()) !== this.loadedRuns;
  }

  async load() {
    const { run, tag } = this.pairs();
    this.stale = false;
    this.loadedRuns = JSON.stringify(run);
    this.csv.href = `${SERIES_URL}.csv?${query({ run, tag })}`;
    this.csv.setAttribute('download', '');
    this.json.href = `${SERIES_URL}.json?${query({ run, tag })}`;
    this.json.setAttribute('download', '');
    if (!run.length) {
      this.series.clear();
      this.draw();
      return;
    }
    if (this.abort) this.abort.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    const params = {
      run, tag, width: this.width(), smoothing: this.smoothing() || undefined, x: state.xaxis,
    };
    if (this.zoom) [params.xmin, params.xmax] = this.zoom;
    this.requests += 1;
    this.el.dataset.requests = String(this.requests);
    let list;
    this.pending = []; // live points arriving while this request is under way
    try {
      list = await getSeries(params, ctl.signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.abort = null;
      this.status.textContent = e.message;
      this.el.dataset.error = e.message;
      return;
    }
    if (this.abort !== ctl) return;
    this.abort = null;
    this.series.clear();
    for (const d of list) {
      this.series.set(`${d.run}\0${d.tag}`, {
        run: d.run, tag: d.tag, step: d.cols.step, wall: d.cols.wall_time, value: d.cols.value,
        smoothed: d.cols.smoothed || null, ema: d.ema, firstWall: d.first_wall_time,
        total: d.total, downsampled: d.downsampled,
      });
    }
    const pending = this.pending;
    this.pending = [];
    for (const d of pending) this.delta(d); // those the answer does not hold yet
    this.draw();
  }

  // Live points of one series (already decoded columns): appended when they continue what the
  // chart holds (points the chart already has are skipped); anything else (a cut, a reset, a
  // gap, a series it does not hold) makes the chart stale, to be loaded again.
  delta(d) {
    if (this.abort) { // a load is under way: apply these after its answer
      this.pending.push(d);
      return;
    }
    const s = this.series.get(`${d.run}\0${d.tag}`);
    if (!s || d.reload || d.reset || d.cut != null || !d.step || this.zoom) {
      if (!this.zoom || d.cut != null || d.reset) this.stale = true;
      return;
    }
    const have = d.total - s.total; // points of this delta the chart does not hold
    if (have > d.n) { this.stale = true; return; } // points missed in between
    if (have <= 0) return; // the chart's answer already held them
    if (have < d.n) {
      const k = d.n - have;
      d = { ...d, n: have, step: d.step.subarray(k), wall_time: d.wall_time.subarray(k), value: d.value.subarray(k) };
    }
    const w = this.smoothing();
    s.step = concat(s.step, d.step);
    s.wall = concat(s.wall, d.wall_time);
    s.value = concat(s.value, d.value);
    if (w > 0 && s.smoothed) {
      let [acc, c] = s.ema;
      const sm = new Float64Array(d.value.length);
      d.value.forEach((v, i) => {
        if (Number.isFinite(v)) {
          acc = acc * w + (1 - w) * v;
          c += 1;
          sm[i] = acc / (1 - w ** c);
        } else sm[i] = v;
      });
      s.ema = [acc, c];
      s.smoothed = concat(s.smoothed, sm);
    }
    if (s.firstWall == null && s.wall.length) s.firstWall = s.wall[0];
    s.total = d.total;
    if (s.step.length > 8 * this.width()) this.stale = true;
    else scheduleDraw(this);
  }

  xOf(s) {
    if (state.xaxis === 'wall_time') return s.wall;
    if (state.xaxis === 'relative') return s.wall.map((t) => t - (s.firstWall || 0));
    return s.step;
  }

  // uPlot's tables (x ascending; values it cannot draw as null) and, per series, its points as
  // logged ({x, cols: [raw, smoothed?]}, same order) for the legend.
  buildData() {
    const tables = [];
    const meta = [];
    const own = [];
    const logy = state.logy;
    const clean = (a) => Array.from(a, (v) => (Number.isFinite(v) && (!logy || v > 0) ? v : null));
    for (const s of this.series.values()) {
      if (state.hidden.has(s.run)) continue;
      let x = this.xOf(s);
      let cols = [s.value, s.smoothed].filter(Boolean);
      // uPlot needs ascending x: sort when a run logged steps out of order (stable: equal
      // steps keep their logged order).
      let sorted = true;
      for (let i = 1; i < x.length; i++) if (x[i] < x[i - 1]) { sorted = false; break; }
      if (!sorted) {
        const order = Array.from(x.keys()).sort((i, j) => x[i] - x[j] || i - j);
        x = Float64Array.from(order, (i) => x[i]);
        cols = cols.map((c) => Float64Array.from(order, (i) => c[i]));
      }
      tables.push([Array.from(x), ...cols.map(clean)]);
      own.push({ x, cols });
      meta.push(s);
    }
    return { tables, meta, own };
  }

  // Legend text of uPlot series si at data index idx (of the joined x).
  legendText(u, si, idx) {
    const src = this.legendSrc && this.legendSrc[si];
    if (idx == null || !src) return '–';
    return legendValue(src.x, src.y, u.data[0][idx], { logy: state.logy, where });
  }

  draw() {
    const { tables, meta, own } = this.buildData();
    let points = 0;
    let downsampled = false;
    for (const s of meta) {
      points += s.step.length;
      downsampled = downsampled || s.downsampled;
    }
    this.el.dataset.points = String(points);
    this.el.dataset.downsampled = String(downsampled);
    this.el.dataset.series = String(meta.length);
    this.status.textContent = meta.length ? '' : 'no data';
    const smooth = this.smoothing() > 0;
    const data = tables.length ? uPlot.join(tables) : [[]];
    const sig = JSON.stringify([meta.map((s) => `${s.run}\0${s.tag}`), smooth, state.xaxis, state.logy]);
    // uPlot series index -> that series' own points (raw, or smoothed), as logged
    const legendSrc = [null];
    own.forEach((o) => o.cols.forEach((c) => legendSrc.push({ x: o.x, y: c })));
    this.legendSrc = legendSrc;
    this.colors = Object.fromEntries(meta.map((s) => [s.run, this.spec.color ? this.spec.color(s.run, s.tag) : runColor(s.run)]));
    if (this.plot && this.sig === sig) {
      this.programmatic = true;
      this.plot.setData(data, !this.zoom);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
      this.programmatic = false;
      return;
    }
    if (this.plot) this.plot.destroy();
    this.sig = sig;
    const multiTag = this.spec.tags.length > 1;
    const value = (u, v, si, idx) => this.legendText(u, si, idx);
    const series = [{
      label: state.xaxis,
      value: (u, v, si, idx) => (idx == null ? '–' : fmtX(v)),
    }];
    const index = new Map(); // "run\0tag" -> uPlot series index of its raw line
    const bounds = new Set();
    for (const m of this.spec.margin || []) { bounds.add(m.lower); bounds.add(m.upper); }
    for (const s of meta) {
      index.set(`${s.run}\0${s.tag}`, series.length);
      const color = this.colors[s.run];
      if (bounds.has(s.tag)) {
        series.push({ label: `${s.run} · ${s.tag}`, stroke: color + '66', width: 1, dash: [4, 3], value });
        if (smooth) series.push({ label: `${s.run} · ${s.tag} (smoothed)`, show: false, value });
        continue;
      }
      const name = this.spec.label ? this.spec.label(s.run, s.tag) : (multiTag ? `${s.run} · ${s.tag}` : s.run);
      series.push({
        label: smooth ? `${name} (raw)` : name, stroke: smooth ? color + '55' : color, width: smooth ? 1 : 1.5, value,
      });
      if (smooth) series.push({ label: name, stroke: color, width: 1.5, value });
    }
    const bands = [];
    for (const m of this.spec.margin || []) {
      for (const run of new Set(meta.map((x) => x.run))) {
        const lo = index.get(`${run}\0${m.lower}`);
        const hi = index.get(`${run}\0${m.upper}`);
        if (lo && hi) bands.push({ series: [hi, lo], fill: runColor(run) + '22' });
      }
    }
    const xAxis = { stroke: '#555', grid: { stroke: '#eee' } };
    if (state.xaxis === 'relative') xAxis.values = (u, vals) => vals.map((v) => (v == null ? '' : fmtDuration(v)));
    if (!this.badge) {
      this.badge = el('span', { class: 'axis-offset', title: 'add this to the y tick labels' });
      this.badge.hidden = true;
    }
    const yAxis = {
      stroke: '#555', grid: { stroke: '#eee' },
      ...numAxis({ badge: this.badge, log: () => state.logy, onTicks: (t) => { this.ticks = { y: t }; } }),
    };
    const opts = {
      width: this.width(),
      height: HEIGHT,
      series,
      bands,
      scales: { x: { time: state.xaxis === 'wall_time' }, y: { distr: state.logy ? 3 : 1, range: valueRange } },
      axes: [xAxis, yAxis],
      legend: { live: true },
      cursor: {
        // the legend shows each series' own point (legendText), never uPlot's nearest non-null
        dataIdx: (u, si, idx) => idx,
        drag: { x: true, y: false, setScale: true },
        bind: {
          dblclick: () => () => { this.resetZoom(); return null; },
        },
      },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 2) return;
          const min = u.posToVal(u.select.left, 'x');
          const max = u.posToVal(u.select.left + u.select.width, 'x');
          this.zoom = [min, max];
          this.el.dataset.zoomed = 'true';
          clearTimeout(this.zoomTimer);
          this.zoomTimer = setTimeout(() => this.load(), 30);
        }],
      },
    };
    this.programmatic = true;
    this.plot = new uPlot(opts, data, this.body);
    this.body.append(this.badge);
    if (this.zoom) this.plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    this.programmatic = false;
  }

  resetZoom() {
    if (!this.zoom) return;
    this.zoom = null;
    this.el.dataset.zoomed = 'false';
    this.load();
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
  }

  destroy() {
    if (this.abort) this.abort.abort();
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}
