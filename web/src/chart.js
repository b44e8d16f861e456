// A scalar chart: asks the server for its tags of the page's selection (a server-side run set,
// never one parameter per run), downsampled for its pixel width; draws with uPlot; re-queries
// on zoom; appends live deltas. The server sends at most state.limit series (or groups) and
// says what it left out: the chart shows that notice, with the ranking to change.
import uPlot from 'uplot';
import { SERIES_URL, getSeries, query } from './api.js';
import { numAxis, valueRange } from './axes.js';
import { fmtValue, legendValue } from './format.js';
import { fmtDuration, fmtX, groupColor, groupPlot, manyPlot, nearest, plainPlot } from './plots.js';
import { el, filteredRuns, forgetRunSets, runSetFor, scheduleDraw, selectionId, state } from './state.js';

const HEIGHT = 240;
// Past this many series a chart draws each with its own x values (uPlot mode 2) and no legend.
export const MANY = 60;
// Live changes reload a limited or grouped chart at most this often (ms; more when slow).
const RELOAD_MS = 2000;

// A number for a label where no neighbours are known (kept for plugins: api.charts.fmtNum).
export function fmtNum(v) {
  return fmtValue(v);
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

function select(options, value, onChange) {
  const s = el('select', {});
  for (const [v, text] of options) s.append(el('option', { value: v, text }));
  s.value = value;
  s.addEventListener('change', () => onChange(s.value));
  return s;
}

export class ScalarChart {
  // spec: {title, tags: [tag], runs() -> [run] (default: the page's selection), label(run, tag),
  //        color(run, tag), margin: [{value, lower, upper}]}
  constructor(spec) {
    this.spec = spec;
    this.series = new Map(); // "run\0tag" -> {run, tag, step, wall, value, smoothed, ema, firstWall, total}
    this.groups = [];        // group mode: [{group, tag, members, cols: {x, value, lo, hi, count}}]
    this.members = [];       // group mode: members of expanded groups [{group, run, tag, cols}]
    this.expanded = new Set();
    this.info = null;        // what the server left out (X-Tbx-Series)
    this.rank = null;        // this chart's ranking ({by, order}); null: the page's (state.rank)
    this.zoom = null;
    this.visible = false;
    this.stale = true;
    this.requests = 0;
    this.plot = null;
    this.abort = null;
    this.pending = [];
    this.loadedAt = 0;
    this.loadMs = 0;
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
    this.notice = el('div', { class: 'chart-notice' });
    this.hover = el('div', { class: 'chart-hover' });
    this.body = el('div', { class: 'chart-body' });
    this.chips = el('div', { class: 'group-chips' });
    this.el.append(head, this.notice, this.body, this.hover, this.chips);
    this.el.__chart = this;
  }

  smoothing() {
    return this.spec.margin ? 0 : state.smoothing; // margin charts show the values as logged
  }

  grouped() {
    return !this.spec.margin && state.group.by !== 'none' && !!state.group.key;
  }

  ranking() {
    return this.rank || state.rank;
  }

  width() {
    return Math.max(200, Math.floor(this.body.clientWidth || this.el.clientWidth || 400));
  }

  // What this chart asks for: its own runs, or the page's selection (changes with selVersion).
  selectionKey() {
    return this.spec.runs ? JSON.stringify(this.spec.runs()) : `v${state.selVersion}`;
  }

  // The runs this chart would show now differ from those of its last load (runs appeared or
  // vanished, the selection changed): it must load again.
  runsChanged() {
    return this.loadedSel !== undefined && this.selectionKey() !== this.loadedSel;
  }

  // {runset: id} of the runs to ask for, or null when there are none.
  async selection() {
    if (this.spec.runs) {
      const runs = this.spec.runs();
      return runs.length ? { runset: await runSetFor(runs, runs.filter((r) => state.pinned.has(r))) } : null;
    }
    if (!filteredRuns(true).length) return null;
    return { runset: await selectionId() };
  }

  params(sel) {
    const p = {
      ...sel, tag: this.spec.tags, width: this.width(), smoothing: this.smoothing() || undefined, x: state.xaxis,
      limit: state.limit, rank: this.ranking().by, order: this.ranking().order,
    };
    if (this.grouped()) {
      Object.assign(p, { group: state.group.by, group_by: state.group.key, agg: state.group.agg, band: state.group.band, expand: [...this.expanded] });
    }
    if (this.zoom) [p.xmin, p.xmax] = this.zoom;
    return p;
  }

  async load(retry = true) {
    this.stale = false;
    this.loadedSel = this.selectionKey();
    if (this.abort) this.abort.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    this.pending = []; // live points arriving while this request is under way
    const t0 = performance.now();
    let list;
    try {
      const sel = await this.selection();
      if (this.abort !== ctl) return;
      if (!sel) {
        this.abort = null;
        this.series.clear();
        this.groups = [];
        this.members = [];
        this.info = null;
        this.draw();
        return;
      }
      const q = query({ ...sel, tag: this.spec.tags });
      this.csv.href = `${SERIES_URL}.csv?${q}`;
      this.csv.setAttribute('download', '');
      this.json.href = `${SERIES_URL}.json?${q}`;
      this.json.setAttribute('download', '');
      this.requests += 1;
      this.el.dataset.requests = String(this.requests);
      list = await getSeries(this.params(sel), ctl.signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (this.abort === ctl) this.abort = null;
      if (retry && e.status === 404 && /run set/.test(e.message)) { // the server forgot it
        forgetRunSets();
        this.load(false);
        return;
      }
      this.status.textContent = e.message;
      this.el.dataset.error = e.message;
      return;
    }
    if (this.abort !== ctl) return;
    this.abort = null;
    this.loadedAt = performance.now();
    this.loadMs = this.loadedAt - t0;
    if (this.el.dataset.error) { this.status.textContent = ''; delete this.el.dataset.error; }
    this.info = list.info;
    this.series.clear();
    this.groups = [];
    this.members = [];
    for (const d of list) {
      if (d.kind === 'group') this.groups.push(d);
      else if (d.kind === 'member') this.members.push(d);
      else {
        this.series.set(`${d.run}\0${d.tag}`, {
          run: d.run, tag: d.tag, step: d.cols.step, wall: d.cols.wall_time, value: d.cols.value,
          smoothed: d.cols.smoothed || null, ema: d.ema, firstWall: d.first_wall_time,
          total: d.total, downsampled: d.downsampled, pinned: d.pinned,
        });
      }
    }
    const pending = this.pending;
    this.pending = [];
    for (const d of pending) this.delta(d); // those the answer does not hold yet
    // a reset, cut or gap that arrived during the request: its answer may predate it
    if (this.stale && this.visible) { this.load(); return; }
    this.draw();
  }

  // Reload soon (live changes of a limited or grouped chart): at most once per RELOAD_MS, or
  // 5 times the last load's time.
  reloadSoon() {
    if (!this.visible) { this.stale = true; return; }
    if (this.reloadTimer) return;
    const every = Math.max(RELOAD_MS, 5 * this.loadMs);
    const wait = Math.max(0, every - (performance.now() - this.loadedAt));
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = 0;
      if (this.visible) this.load(); else this.stale = true;
    }, wait);
  }

  limited() {
    return !!this.info && this.info.shown < this.info.selected;
  }

  // Live points of one series (already decoded columns): appended when they continue what the
  // chart holds (points the chart already has are skipped); anything else (a cut, a reset, a
  // gap, a series it does not hold) makes the chart stale, to be loaded again. A grouped chart,
  // or one showing only some of its series, reloads instead (throttled: new points may change
  // the groups and which series rank first).
  delta(d) {
    if (this.abort) { // a load is under way: apply these after its answer
      this.pending.push(d);
      return;
    }
    if (this.groups.length || this.limited()) {
      if (!this.zoom || d.cut != null || d.reset) this.reloadSoon();
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

  // Legend text of uPlot series si at data index idx (of the joined x): the series' own point.
  legendText(u, si, idx) {
    const src = this.legendSrc && this.legendSrc[si];
    if (idx == null || !src) return '–';
    return legendValue(src.x, src.y, u.data[0][idx], { logy: state.logy, where });
  }

  showNotice() {
    const info = this.info;
    const text = info && info.notice ? info.notice : '';
    this.el.dataset.notice = text;
    this.el.dataset.shown = info ? String(info.shown) : '';
    this.el.dataset.selected = info ? String(info.selected) : '';
    if (!text) { this.notice.replaceChildren(); return; }
    const set = (k, v) => { this.rank = { ...this.ranking(), [k]: v }; this.load(); };
    const rank = select([['last', 'last'], ['min', 'min'], ['max', 'max']], this.ranking().by, (v) => set('by', v));
    const order = select([['asc', 'lowest'], ['desc', 'highest']], this.ranking().order, (v) => set('order', v));
    rank.className = 'rank-by';
    order.className = 'rank-order';
    this.notice.replaceChildren(el('span', { class: 'notice-text', text }), el('span', { class: 'notice-tools' }, ' keep the ', order, ' ', rank));
  }

  showChips() {
    if (!this.groups.length) { this.chips.replaceChildren(); return; }
    const labels = [...new Set(this.groups.map((g) => g.group))];
    this.chips.replaceChildren(...labels.map((label) => {
      const g = this.groups.find((x) => x.group === label);
      const b = el('button', { type: 'button', class: 'group-chip', 'data-group': label, title: 'show or hide this group\'s runs' });
      const sw = el('span', { class: 'swatch' });
      sw.style.background = groupColor(labels, label);
      b.append(sw, el('span', { text: `${label} · ${g.members} run${g.members === 1 ? '' : 's'}` }));
      b.classList.toggle('expanded', this.expanded.has(label));
      b.addEventListener('click', () => {
        if (this.expanded.has(label)) this.expanded.delete(label); else this.expanded.add(label);
        this.load();
      });
      return b;
    }));
  }

  draw() {
    this.showNotice();
    this.showChips();
    const value = (u, v, si, idx) => this.legendText(u, si, idx);
    let built;
    let mode = 'plain';
    let list = [];
    let points = 0;
    let downsampled = false;
    if (this.groups.length) {
      mode = 'group';
      built = groupPlot(this, this.groups, this.members, value);
      for (const g of this.groups) { points += g.n; downsampled = downsampled || g.downsampled; }
      this.el.dataset.groups = String(this.groups.length);
      this.el.dataset.members = String(this.members.length);
      this.el.dataset.series = String(this.groups.length + this.members.length);
    } else {
      list = [...this.series.values()].filter((s) => !state.hidden.has(s.run));
      for (const s of list) { points += s.step.length; downsampled = downsampled || s.downsampled; }
      mode = list.length > MANY ? 'many' : 'plain';
      built = mode === 'many' ? manyPlot(this, list) : plainPlot(this, list, value);
      this.el.dataset.series = String(list.length);
      delete this.el.dataset.groups;
      delete this.el.dataset.members;
    }
    this.legendSrc = built.legendSrc || null;
    this.el.dataset.mode = mode;
    this.el.dataset.points = String(points);
    this.el.dataset.downsampled = String(downsampled);
    const count = mode === 'group' ? this.groups.length : list.length;
    if (!count) this.status.textContent = this.status.textContent || 'no data';
    else if (this.status.textContent === 'no data') this.status.textContent = '';
    const keys = mode === 'group' ? built.series.map((s) => s.label) : list.map((s) => `${s.run}\0${s.tag}`);
    const sig = JSON.stringify([mode, keys, this.smoothing() > 0, state.xaxis, state.logy]);
    if (this.plot && this.sig === sig) {
      this.programmatic = true;
      this.plot.setData(built.data, !this.zoom);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
      this.programmatic = false;
      return;
    }
    if (this.plot) this.plot.destroy();
    this.sig = sig;
    this.hover.textContent = '';
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
      mode: built.mode || 1,
      width: this.width(),
      height: HEIGHT,
      series: built.series,
      bands: built.bands,
      scales: { x: { time: state.xaxis === 'wall_time' }, y: { distr: state.logy ? 3 : 1, range: valueRange } },
      axes: [xAxis, yAxis],
      legend: built.legend,
      cursor: {
        ...(built.cursor || {}),
        drag: { x: true, y: false, setScale: true },
        bind: { dblclick: () => () => { this.resetZoom(); return null; } },
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
        setCursor: mode === 'many' ? [(u) => { this.hover.textContent = nearest(u, list); }] : [],
      },
    };
    // the legend shows each series' own point (legendText), never uPlot's nearest non-null
    if (mode !== 'many') opts.cursor.dataIdx = (u, si, idx) => idx;
    this.programmatic = true;
    this.plot = new uPlot(opts, built.data, this.body);
    this.body.append(this.badge);
    if (built.hideLegend) {
      const rows = this.plot.root.querySelectorAll('.u-legend .u-series');
      for (const i of built.hideLegend) if (rows[i]) rows[i].style.display = 'none';
    }
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
    clearTimeout(this.reloadTimer);
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}
