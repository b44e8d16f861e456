// tbx viewer page: sidebar (runs, filters, options), dashboards, live updates.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { getJSON, b64f64 } from './api.js';
import { ScalarChart } from './chart.js';
import { AudioCard, DistributionCard, HistogramCard, ImageCard, PrCard, TextCard } from './panels.js';
import { el, runColor, safeRegex, state, unwatch, watch } from './state.js';

const DASHBOARDS = [
  ['scalars', 'Scalars', ['scalars']],
  ['custom_scalars', 'Custom scalars', ['custom_scalars']],
  ['histograms', 'Histograms', ['histograms']],
  ['distributions', 'Distributions', ['histograms']],
  ['images', 'Images', ['images']],
  ['audio', 'Audio', ['audio']],
  ['text', 'Text', ['text']],
  ['pr_curves', 'PR curves', ['pr_curves']],
  ['hparams', 'HParams', ['hparams']],
];
const CARD = {
  histograms: HistogramCard, distributions: DistributionCard, images: ImageCard,
  audio: AudioCard, text: TextCard, pr_curves: PrCard,
};

let charts = new Map(); // key -> chart/card of the current dashboard
const $ = (id) => document.getElementById(id);

function current() {
  const h = location.hash.replace(/^#/, '');
  return DASHBOARDS.some((d) => d[0] === h) ? h : 'scalars';
}

function pluginTags(plugins) {
  // [[run, tag]] of the given plugins, for runs matching the run filter, tags matching the tag filter
  const runRe = safeRegex(state.runRe);
  const tagRe = safeRegex(state.tagRe);
  const out = [];
  for (const run of state.runs) {
    if (runRe && !runRe.test(run)) continue;
    for (const [tag, info] of Object.entries(state.tags[run] || {})) {
      if (!plugins.includes(info.plugin)) continue;
      if (tagRe && !tagRe.test(tag)) continue;
      out.push([run, tag]);
    }
  }
  return out;
}

function groupOf(tag) {
  const i = tag.indexOf('/');
  return i > 0 ? tag.slice(0, i) : '(no prefix)';
}

function section(title, count) {
  const d = el('details', { class: 'group', open: '' });
  d.append(el('summary', {}, el('span', { text: title }), el('span', { class: 'count', text: ` ${count}` })));
  const grid = el('div', { class: 'grid' });
  d.append(grid);
  return [d, grid];
}

function reuse(key, make) {
  const c = charts.get(key) || make();
  next.set(key, c);
  return c;
}
let next = new Map();

function runsWithTag(tag) {
  const re = safeRegex(state.runRe);
  return state.runs.filter((r) => (!re || re.test(r)) && state.tags[r] && state.tags[r][tag]
    && state.tags[r][tag].class === 'scalar');
}

function render() {
  const dash = current();
  document.querySelectorAll('#tabs a').forEach((a) => a.classList.toggle('active', a.dataset.dash === dash));
  document.body.dataset.dashboard = dash;
  const main = $('main');
  next = new Map();
  const nodes = [];
  if (dash === 'scalars') {
    const tags = [...new Set(pluginTags(['scalars']).map(([, t]) => t))];
    const groups = new Map();
    for (const t of tags) {
      if (t.startsWith('_hparams_/')) continue;
      const g = groupOf(t);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(t);
    }
    for (const [g, ts] of groups) {
      const [d, grid] = section(g, ts.length);
      for (const t of ts) {
        const c = reuse(`s\0${t}`, () => new ScalarChart({ title: t, tags: [t], runs: () => runsWithTag(t) }));
        grid.append(c.el);
      }
      nodes.push(d);
    }
  } else if (dash === 'custom_scalars') {
    nodes.push(...renderCustom());
  } else if (dash === 'hparams') {
    nodes.push(renderHparams());
  } else {
    const plugin = DASHBOARDS.find((d) => d[0] === dash)[2];
    const pairs = pluginTags(plugin);
    const groups = new Map();
    for (const [r, t] of pairs) {
      const g = groupOf(t);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push([r, t]);
    }
    for (const [g, ps] of groups) {
      const [d, grid] = section(g, ps.length);
      for (const [r, t] of ps) grid.append(reuse(`${dash}\0${r}\0${t}`, () => new CARD[dash](r, t)).el);
      nodes.push(d);
    }
  }
  if (!nodes.length) nodes.push(el('div', { class: 'empty-dash', text: state.loaded ? 'No data for this dashboard (check the filters).' : 'Reading the logdir…' }));
  for (const [k, c] of charts) if (!next.has(k)) unwatch(c);
  for (const [k, c] of next) if (!charts.has(k)) watch(c);
  charts = next;
  main.replaceChildren(...nodes);
}

function restale() {
  for (const c of charts.values()) {
    c.stale = true;
    if (c.visible) c.load();
  }
}

function redrawAll() {
  for (const c of charts.values()) {
    if (c.visible) c.draw();
    else c.stale = true;
  }
}

// Custom scalars ------------------------------------------------------------------------
let layout = { categories: [] };

function renderCustom() {
  const allTags = new Set();
  for (const run of state.runs) {
    for (const [t, i] of Object.entries(state.tags[run] || {})) if (i.class === 'scalar') allTags.add(t);
  }
  const out = [];
  layout.categories.forEach((cat, ci) => {
    const [d, grid] = section(cat.title || 'custom', cat.charts.length);
    if (cat.closed) d.removeAttribute('open');
    cat.charts.forEach((ch, k) => {
      let tags;
      if (ch.kind === 'multiline') {
        const res = ch.tags.map((p) => { try { return new RegExp(p); } catch (_) { return null; } }).filter(Boolean);
        tags = [...allTags].filter((t) => res.some((re) => re.test(t)));
      } else {
        tags = ch.series.flatMap((s) => [s.value, s.lower, s.upper]);
      }
      const c = reuse(`c\0${ci}\0${k}\0${tags.join('\0')}`, () => new ScalarChart({
        title: ch.title || ch.tags?.join(', ') || 'chart',
        tags: tags.length ? tags : ['\u0000none'],
        runs: () => { const re = safeRegex(state.runRe); return state.runs.filter((r) => !re || re.test(r)); },
        label: (run, tag) => `${run} · ${tag}`,
        margin: ch.kind === 'margin' ? ch.series : null,
      }));
      grid.append(c.el);
    });
    out.push(d);
  });
  return out;
}

// HParams -------------------------------------------------------------------------------
let hp = { hparams: [], metrics: [], sessions: [] };
let hpSort = { key: 'run', dir: 1 };
let hpFilter = '';

function renderHparams() {
  const wrap = el('div', { class: 'hparams' });
  const filter = el('input', { type: 'search', placeholder: 'filter rows (regex)', value: hpFilter, class: 'hp-filter' });
  filter.addEventListener('input', () => { hpFilter = filter.value; render(); filter.focus(); });
  const cols = [['run', 'run'], ...hp.hparams.map((h) => [`h:${h}`, h]), ...hp.metrics.map((m) => [`m:${m}`, m])];
  const val = (s, key) => (key === 'run' ? s.run : key.startsWith('h:') ? s.hparams[key.slice(2)] : s.metrics[key.slice(2)]);
  const re = safeRegex(hpFilter);
  let rows = hp.sessions.filter((s) => !re || re.test(cols.map(([k]) => String(val(s, k) ?? '')).join(' ')));
  rows = rows.slice().sort((a, b) => {
    const x = val(a, hpSort.key); const y = val(b, hpSort.key);
    if (x == null) return 1;
    if (y == null) return -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * hpSort.dir;
  });
  const table = el('table', { class: 'hp-table' });
  const head = el('tr');
  for (const [k, name] of cols) {
    const th = el('th', { text: name + (hpSort.key === k ? (hpSort.dir > 0 ? ' ▲' : ' ▼') : ''), class: k.startsWith('m:') ? 'metric' : '' });
    th.addEventListener('click', () => { hpSort = { key: k, dir: hpSort.key === k ? -hpSort.dir : 1 }; render(); });
    head.append(th);
  }
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const s of rows) {
    const tr = el('tr');
    const a = el('a', { href: '#scalars', text: s.run, title: 'show this run\'s charts' });
    a.addEventListener('click', () => { setRunFilter(`^${s.run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`); });
    tr.append(el('td', {}, a));
    for (const [k] of cols.slice(1)) {
      const v = val(s, k);
      tr.append(el('td', { text: v == null ? '' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v) }));
    }
    body.append(tr);
  }
  table.append(body);
  wrap.append(filter, table);
  if (!hp.sessions.length) wrap.append(el('div', { class: 'empty', text: 'No hparams sessions.' }));
  return wrap;
}

// Sidebar --------------------------------------------------------------------------------

function setRunFilter(v) {
  state.runRe = v;
  $('run-filter').value = v;
  renderRuns();
  render();
  restale();
}

function renderRuns() {
  const re = safeRegex(state.runRe);
  $('run-filter').classList.toggle('invalid', re === undefined);
  const list = $('run-list');
  list.replaceChildren(...state.runs.filter((r) => !re || re.test(r)).map((run) => {
    const cb = el('input', { type: 'checkbox' });
    cb.checked = !state.hidden.has(run);
    cb.addEventListener('change', () => {
      if (cb.checked) state.hidden.delete(run); else state.hidden.add(run);
      redrawAll();
    });
    const sw = el('span', { class: 'swatch' });
    sw.style.background = runColor(run);
    return el('label', { class: 'run', title: run }, cb, sw, el('span', { class: 'run-name', text: run }));
  }));
}

function renderTabs() {
  const plugins = new Set();
  for (const run of state.runs) for (const i of Object.values(state.tags[run] || {})) plugins.add(i.plugin);
  $('tabs').replaceChildren(...DASHBOARDS.map(([key, name, ps]) => {
    const a = el('a', { href: `#${key}`, text: name, 'data-dash': key });
    if (!ps.some((p) => plugins.has(p))) a.classList.add('nodata');
    return a;
  }));
}

async function loadTags() {
  const [runs, tags] = await Promise.all([getJSON('/api/runs'), getJSON('/api/tags')]);
  state.runs = runs.runs;
  state.loaded = runs.loaded;
  state.tags = tags.runs;
  $('status').textContent = runs.loaded ? `${runs.runs.length} runs` + (runs.corruptions ? `, ${runs.corruptions} corrupt records skipped` : '') : 'reading…';
  const plugins = new Set();
  for (const run of state.runs) for (const i of Object.values(state.tags[run] || {})) plugins.add(i.plugin);
  if (plugins.has('hparams')) hp = await getJSON('/api/hparams');
  if (plugins.has('custom_scalars')) layout = await getJSON('/api/custom_scalars');
  renderTabs();
  renderRuns();
  render();
  if (!runs.loaded) setTimeout(loadTags, 500);
}

let tagTimer = 0;
function tagsChanged() {
  clearTimeout(tagTimer);
  tagTimer = setTimeout(loadTags, 150);
}

function live() {
  const es = new EventSource('/api/events');
  es.addEventListener('scalars', (ev) => {
    const msg = JSON.parse(ev.data);
    for (const d of msg.series) {
      if (d.step) { d.step = b64f64(d.step); d.wall_time = b64f64(d.wall_time); d.value = b64f64(d.value); }
      const info = state.tags[d.run] && state.tags[d.run][d.tag];
      if (info) { info.count = d.total; }
      for (const c of charts.values()) {
        if (!c.series || !c.spec.tags.includes(d.tag)) continue;
        c.delta(d);
        if (c.stale && c.visible) c.load();
      }
    }
  });
  es.addEventListener('changed', (ev) => {
    const msg = JSON.parse(ev.data);
    for (const d of msg.series) {
      for (const c of charts.values()) {
        if (c.run === d.run && c.tag === d.tag) { c.stale = true; if (c.visible) c.load(); }
      }
      if (d.plugin === 'hparams' || d.plugin === 'custom_scalars') tagsChanged();
    }
  });
  es.addEventListener('tags', tagsChanged);
  es.addEventListener('open', () => { document.body.dataset.live = 'true'; });
}

function setup() {
  $('run-filter').addEventListener('input', (e) => setRunFilter(e.target.value));
  $('tag-filter').addEventListener('input', (e) => {
    state.tagRe = e.target.value;
    e.target.classList.toggle('invalid', safeRegex(state.tagRe) === undefined);
    render();
  });
  const sm = $('smoothing');
  const smv = $('smoothing-value');
  sm.value = String(state.smoothing);
  smv.textContent = state.smoothing.toFixed(2);
  let smTimer = 0;
  sm.addEventListener('input', () => {
    state.smoothing = Math.min(0.999, Number(sm.value));
    smv.textContent = state.smoothing.toFixed(2);
    clearTimeout(smTimer);
    smTimer = setTimeout(restale, 80);
  });
  $('xaxis').addEventListener('change', (e) => {
    state.xaxis = e.target.value;
    for (const c of charts.values()) c.zoom = null;
    restale();
  });
  $('logy').addEventListener('change', (e) => { state.logy = e.target.checked; redrawAll(); });
  $('hist-mode').addEventListener('change', (e) => { state.histMode = e.target.value; redrawAll(); });
  $('all-runs').addEventListener('click', () => { state.hidden.clear(); renderRuns(); redrawAll(); });
  $('no-runs').addEventListener('click', () => { state.runs.forEach((r) => state.hidden.add(r)); renderRuns(); redrawAll(); });
  window.addEventListener('hashchange', render);
  let rz = 0;
  window.addEventListener('resize', () => { clearTimeout(rz); rz = setTimeout(() => { for (const c of charts.values()) if (c.resize) c.resize(); }, 100); });
  window.__tbx = { state, charts: () => charts };
  loadTags().then(() => { document.body.dataset.ready = 'true'; });
  live();
}

setup();
