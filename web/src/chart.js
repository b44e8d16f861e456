// A scalar chart: asks the server for its tags of the page's selection (a server-side run set,
// never one parameter per run), downsampled for its pixel width; draws with uPlot; re-queries
// on zoom; appends live deltas. The server sends at most state.limit series (or groups) and
// says what it left out: the chart shows that notice, with the ranking to change.
// Live points: a chart of some of its runs (limited) appends the points of the runs it shows and
// ignores the others; which runs it shows is ranked again on request ("re-rank") or every
// RERANK_MS at most, by asking the server for the ranking only. A grouped chart asks the server
// for the rows of its groups that new points change (since=, raw rows) and replaces its rows
// from there; it smooths its groups itself, so appended rows and a fresh load draw the same.
import uPlot from 'uplot';
import { SERIES_URL, getJSON, getSeries, query } from './api.js';
import { numAxis, valueRange } from './axes.js';
import { fmtValue, legendValue } from './format.js';
import { fmtDuration, fmtX, groupColor, groupPlot, manyPlot, nearest, plainPlot } from './plots.js';
import { el, filteredRuns, forgetRunSets, runSetFor, scheduleDraw, selectionId, state } from './state.js';

const HEIGHT = 240;
// Past this many series a chart draws each with its own x values (uPlot mode 2) and no legend.
export const MANY = 60;
// Live changes reload a grouped chart on a relative x axis at most this often (ms; more when slow).
const RELOAD_MS = 2000;
// A limited chart ranks its runs again at most this often while live points arrive (ms).
export const RERANK_MS = 30000;
const RANK_URL = '/api/plugins/scalars/rank';

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

// TensorBoard's debiased EMA over the finite values (non-finite ones pass through), from state
// [accumulator, count]; returns the smoothed values and the state after them.
function emaFrom(values, w, [acc, c] = [0, 0]) {
  const out = new Float64Array(values.length);
  values.forEach((v, i) => {
    if (Number.isFinite(v)) {
      acc = acc * w + (1 - w) * v;
      c += 1;
      out[i] = acc / (1 - w ** c);
    } else out[i] = v;
  });
  return [out, [acc, c]];
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
    this.gen = 0;            // grows with every load: an append answer of an older load is dropped
    this.since = null;       // group mode: smallest x of live points not yet asked for
    this.appending = false;
    this.appends = 0;        // incremental requests (group rows since x, or the ranking)
    this.rankedAt = null;    // limited: when the shown runs were ranked (Date)
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

  // Whether a live point of this run concerns the chart (its runs, or the page's selection).
  inSelection(run) {
    const key = this.selectionKey();
    if (this.selSetKey !== key) {
      this.selSet = new Set(this.spec.runs ? this.spec.runs() : filteredRuns(true));
      this.selSetKey = key;
    }
    return this.selSet.has(run);
  }

  params(sel) {
    const p = {
      ...sel, tag: this.spec.tags, width: this.width(), x: state.xaxis,
      smoothing: (!this.grouped() && this.smoothing()) || undefined, // groups: smoothed here
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
    this.gen += 1;
    this.since = null;
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
    this.rankedAt = new Date();
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

  // Limited: rank again within RERANK_MS (or 20 times the last load's time) of the first live
  // point since the last ranking.
  rerankSoon() {
    if (this.rerankTimer) return;
    const every = Math.max(RERANK_MS, 20 * this.loadMs);
    const wait = Math.max(0, every - (Date.now() - (this.rankedAt ? this.rankedAt.getTime() : 0)));
    this.rerankTimer = setTimeout(() => {
      this.rerankTimer = 0;
      if (this.visible) this.rerank(); else this.stale = true;
    }, wait);
  }

  // Ask the server which series it would show now (no points); load again only when they
  // differ from those shown.
  async rerank() {
    if (!this.limited() || this.groups.length || this.abort) return;
    const gen = this.gen;
    let got;
    try {
      const sel = await this.selection();
      if (!sel) { this.load(); return; }
      const p = this.params(sel);
      delete p.width;
      delete p.smoothing;
      this.appends += 1;
      this.el.dataset.appends = String(this.appends);
      got = await getJSON(RANK_URL, p);
    } catch (e) {
      if (gen === this.gen) this.load();
      return;
    }
    if (gen !== this.gen || this.abort) return; // loaded meanwhile
    const same = got.shown.length === this.series.size
      && got.shown.every(([r, t]) => this.series.has(`${r}\0${t}`));
    if (!same) { this.load(); return; }
    Object.assign(this.info, { ranked_step: got.ranked_step, selected: got.selected, notice: got.notice });
    this.rankedAt = new Date();
    this.showNotice();
  }

  // Group mode: live points of a member ask the server for the rows they change (since the
  // smallest x of the new points); on a relative x axis (x depends on each member's first
  // point) the chart reloads instead, throttled.
  groupDelta(d) {
    if (!this.inSelection(d.run)) return;
    if (d.reload || d.reset || d.cut != null || !d.step || this.zoom || state.xaxis === 'relative') {
      if (!this.zoom || d.cut != null || d.reset) this.reloadSoon();
      return;
    }
    const xs = state.xaxis === 'wall_time' ? d.wall_time : d.step;
    let lo = this.since == null ? Infinity : this.since;
    for (const v of xs) if (v < lo) lo = v;
    this.since = lo;
    if (!this.appending) this.appendGroups();
  }

  async appendGroups() {
    this.appending = true;
    try {
      while (this.since != null && this.groups.length && !this.stale && !this.abort) {
        const since = this.since;
        const gen = this.gen;
        this.since = null;
        const sel = await this.selection();
        if (!sel) return;
        if (gen !== this.gen) continue; // loaded meanwhile: only later points remain to ask for
        if (!this.grouped()) return; // grouping turned off: the reload that follows covers these
        this.appends += 1;
        this.el.dataset.appends = String(this.appends);
        const list = await getSeries({ ...this.params(sel), since });
        if (gen !== this.gen || this.abort) continue; // a load under way or done covers these
        if (!this.applyRows(list)) {
          this.stale = true;
          if (this.visible) this.load();
          return;
        }
        scheduleDraw(this);
      }
    } catch (e) {
      this.stale = true;
      if (this.visible && !this.abort) this.load();
    } finally {
      this.appending = false;
    }
  }

  // Replace the rows from each descriptor's `from` on with its rows; false when the answer
  // does not fit what the chart holds (a new group, a member left out): load again.
  applyRows(list) {
    const limitedGroups = this.limited();
    const changed = new Set(list.filter((d) => d.from != null && d.n).map((d) => d.tag));
    const got = new Set();
    for (const d of list) {
      if (d.from == null || !d.n) continue;
      const t = d.kind === 'group'
        ? this.groups.find((g) => g.tag === d.tag && g.group === d.group)
        : this.members.find((m) => m.tag === d.tag && m.run === d.run);
      if (!t) {
        if (d.kind === 'group' && !limitedGroups) return false; // a group appeared
        continue;
      }
      got.add(t);
      const x = t.cols.x;
      let k = x.length;
      while (k > 0 && x[k - 1] >= d.from) k -= 1;
      for (const c of Object.keys(t.cols)) t.cols[c] = concat(t.cols[c].subarray(0, k), d.cols[c]);
      t.n = t.cols.x.length;
      if (t.n > 8 * this.width()) return false;
    }
    // every line of a changed tag shares its x values: all must have been replaced
    return [...this.groups, ...this.members].every((t) => !changed.has(t.tag) || got.has(t));
  }

  // Live points of one series (already decoded columns): appended when they continue what the
  // chart holds (points the chart already has are skipped); points of runs the chart does not
  // show (outside its selection, or ranked out of a limited chart) are ignored; anything else
  // (a cut, a reset, a gap, a series it does not hold yet) makes the chart stale, to be loaded
  // again. A grouped chart asks for the rows the points change (groupDelta).
  delta(d) {
    if (this.abort) { // a load is under way: apply these after its answer
      this.pending.push(d);
      return;
    }
    if (this.groups.length) { this.groupDelta(d); return; }
    if (!this.inSelection(d.run)) return;
    const s = this.series.get(`${d.run}\0${d.tag}`);
    if (this.limited()) {
      this.rerankSoon(); // ranked out runs may now rank in: soon, not on every point
      if (!s) return;
    }
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
      const [sm, st] = emaFrom(d.value, w, s.ema);
      s.ema = st;
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
    if (!text) { this.notice.replaceChildren(); delete this.el.dataset.ranked; return; }
    const set = (k, v) => { this.rank = { ...this.ranking(), [k]: v }; this.load(); };
    const rank = select([['last', 'last'], ['min', 'min'], ['max', 'max']], this.ranking().by, (v) => set('by', v));
    const order = select([['asc', 'lowest'], ['desc', 'highest']], this.ranking().order, (v) => set('order', v));
    rank.className = 'rank-by';
    order.className = 'rank-order';
    const tools = el('span', { class: 'notice-tools' }, ' keep the ', order, ' ', rank);
    if (info.ranked_step != null && !this.groups.length) {
      const at = this.rankedAt ? this.rankedAt.toLocaleTimeString() : '';
      const ranked = `ranked at step ${fmtX(info.ranked_step, 'step')}${at ? `, ${at}` : ''}`;
      this.el.dataset.ranked = ranked;
      const again = el('button', { type: 'button', class: 'rerank', text: 're-rank', title: `live points append to the runs shown; the ranking is redone on request or every ${RERANK_MS / 1000} s at most` });
      again.addEventListener('click', () => this.rerank());
      tools.append(' · ', el('span', { class: 'ranked-at', text: ranked }), ' ', again);
    }
    this.notice.replaceChildren(el('span', { class: 'notice-text', text }), tools);
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
      const w = this.smoothing();
      const smooth = (t, names) => (w > 0
        ? { ...t, cols: { ...t.cols, ...Object.fromEntries(names.map((c) => [c, emaFrom(t.cols[c], w)[0]])) } } : t);
      built = groupPlot(this, this.groups.map((g) => smooth(g, ['value', 'lo', 'hi'])),
        this.members.map((m) => smooth(m, ['value'])), value);
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
    clearTimeout(this.rerankTimer);
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}
