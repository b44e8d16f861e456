// tbx report: the page of a single self-contained HTML file (tbx/report/). No server: the data
// is in the file (<script id="tbx-meta"> JSON, <script id="tbx-series"> base64 of the
// zlib-compressed series block; layout in src/tbx/report/data.py). The charts are the viewer's
// (chart.js over uPlot), fed from that data instead of the /api routes.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import './report.css';
import { ScalarChart } from './chart.js';
import { el, runColor, safeRegex, state, watch } from './state.js';

const $ = (id) => document.getElementById(id);

// Series block (layout in src/tbx/report/data.py): the step columns of every series, then
// their wall_time columns, then their value columns, each column byte-shuffled.

const SIZES = { i4d: 4, i4p: 4, f4: 4, f8: 8 };
const SECTIONS = ['step', 'wall_time', 'value'];

function unshuffle(bytes, offset, n, size) {
  const out = new Uint8Array(n * size);
  for (let j = 0; j < size; j++) {
    const base = offset + j * n;
    for (let i = 0; i < n; i++) out[i * size + j] = bytes[base + i];
  }
  return out.buffer; // little-endian numbers, as typed arrays read them on every current CPU
}

function decodeColumn(buf, type, n, s, step) {
  if (type === 'f8') return new Float64Array(buf);
  if (type === 'f4') return Float64Array.from(new Float32Array(buf));
  const r = new Int32Array(buf);
  const out = new Float64Array(n);
  if (type === 'i4d') { // int32 deltas
    let acc = 0;
    for (let i = 0; i < n; i++) { acc += r[i]; out[i] = acc; }
    return out;
  }
  if (type === 'i4p') { // ms since first_wall_time: residuals of floor(step delta * ms_per_step)
    const rate = s.ms_per_step;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0) acc += Math.floor((step[i] - step[i - 1]) * rate);
      acc += r[i];
      out[i] = acc;
    }
    return out;
  }
  throw new Error(`unknown column type ${type}`);
}

async function inflate(b64) {
  const bin = atob(b64.trim());
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function decodeSeries(meta) {
  const bytes = meta.scalars.length ? await inflate($('tbx-series').textContent) : new Uint8Array();
  const cols = meta.scalars.map(() => ({}));
  let off = 0;
  for (const section of SECTIONS) {
    meta.scalars.forEach((s, k) => {
      const type = s.columns[section];
      const size = SIZES[type];
      if (!size) throw new Error(`unknown column type ${type}`);
      const buf = unshuffle(bytes, off, s.n, size);
      off += s.n * size;
      cols[k][section] = decodeColumn(buf, type, s.n, s, cols[k].step);
    });
  }
  if (off !== bytes.length) throw new Error('series block of unexpected length');
  const out = new Map(); // "run\0tag" -> series
  meta.scalars.forEach((s, k) => {
    const c = cols[k];
    const first = s.first_wall_time || 0;
    const ms = s.columns.wall_time === 'i4p';
    const wall = c.wall_time.map((t) => (ms ? first + t / 1000 : first + t));
    out.set(`${s.run}\0${s.tag}`, {
      run: s.run, tag: s.tag, step: c.step, value: c.value, wall,
      firstWall: s.first_wall_time, total: s.total, downsampled: s.n < s.total,
    });
  });
  return out;
}

// The viewer's debiased EMA (tbx/viewer/plugins/scalars/series.py ema), over the points in the file.
function ema(values, w) {
  const out = new Float64Array(values.length);
  let acc = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      acc = acc * w + (1 - w) * v;
      count += 1;
      out[i] = acc / (1 - w ** count);
    } else out[i] = v;
  }
  return [out, [acc, count]];
}

// A viewer chart whose data comes from the file.
class ReportChart extends ScalarChart {
  constructor(spec, data) {
    super(spec);
    this.data = data;
    this.csv.remove();
    this.json.remove(); // downloads are server routes
  }

  async load() {
    this.stale = false;
    const w = this.smoothing();
    this.series.clear();
    for (const run of this.spec.runs()) {
      for (const tag of this.spec.tags) {
        const s = this.data.get(`${run}\0${tag}`);
        if (!s) continue;
        const [smoothed, st] = w > 0 ? ema(s.value, w) : [null, [0, 0]];
        this.series.set(`${run}\0${tag}`, { ...s, smoothed, ema: st });
      }
    }
    this.draw();
  }
}

// Page ----------------------------------------------------------------------------------

let meta;
let data;
let charts = [];

function groupOf(tag) {
  const i = tag.indexOf('/');
  return i > 0 ? tag.slice(0, i) : '(no prefix)';
}

function section(id, title, count) {
  const d = el('details', { class: 'group', open: '' });
  d.append(el('summary', {}, el('span', { text: title }), el('span', { class: 'count', text: ` ${count}` })));
  const grid = el('div', { class: 'grid' });
  d.append(grid);
  const sec = el('section', { id, class: 'report-section' });
  sec.append(d);
  return [sec, grid];
}

function runsWithTag(tag) {
  const re = safeRegex(state.runRe);
  return state.runs.filter((r) => (!re || re.test(r)) && data.has(`${r}\0${tag}`));
}

function renderScalars() {
  const tagRe = safeRegex(state.tagRe);
  const tags = [...new Set(meta.scalars.map((s) => s.tag))].filter((t) => !tagRe || tagRe.test(t));
  const groups = new Map();
  for (const t of tags) {
    if (!groups.has(groupOf(t))) groups.set(groupOf(t), []);
    groups.get(groupOf(t)).push(t);
  }
  for (const c of charts) c.destroy();
  charts = [];
  const out = [];
  for (const [g, ts] of groups) {
    const [sec, grid] = section(`scalars-${out.length}`, g, ts.length);
    for (const t of ts) {
      const c = new ReportChart({ title: t, tags: [t], runs: () => runsWithTag(t) }, data);
      charts.push(c);
      grid.append(c.el);
      watch(c);
    }
    out.push(sec);
  }
  if (!out.length) out.push(el('div', { class: 'empty', text: 'No scalars (check the filters).' }));
  $('scalars').replaceChildren(...out);
}

function fmt(v) {
  return v == null ? '' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
}

function renderHparams() {
  const hp = meta.hparams;
  if (!hp.sessions.length) return [];
  const cols = [['run', 'run'], ...hp.hparams.map((h) => [`h:${h}`, h]), ...hp.metrics.map((m) => [`m:${m}`, m])];
  const val = (s, k) => (k === 'run' ? s.run : k.startsWith('h:') ? s.hparams[k.slice(2)] : s.metrics[k.slice(2)]);
  const table = el('table', { class: 'hp-table' });
  table.append(el('thead', {}, el('tr', {}, ...cols.map(([k, name]) => el('th', { text: name, class: k.startsWith('m:') ? 'metric' : '' })))));
  table.append(el('tbody', {}, ...hp.sessions.map((s) => el('tr', {}, ...cols.map(([k]) => el('td', { text: fmt(val(s, k)) }))))));
  const sec = el('section', { id: 'hparams', class: 'report-section' });
  sec.append(el('h2', { text: 'HParams' }), el('div', { class: 'hparams' }, table));
  return [sec];
}

function card(run, tag, kind) {
  const c = el('div', { class: `card ${kind}-card` });
  const sw = el('span', { class: 'swatch' });
  sw.style.background = runColor(run);
  c.append(el('div', { class: 'card-head' }, sw, el('span', { class: 'card-title', text: tag }), el('span', { class: 'card-run', text: run })));
  return c;
}

function renderImages() {
  if (!meta.images.length) return [];
  const [sec, grid] = section('images', 'Images (last of each tag)', meta.images.length);
  for (const im of meta.images) {
    const c = card(im.run, im.tag, 'image');
    c.append(el('div', { class: 'step-label', text: `step ${im.step} (${im.total} points)` }),
      el('div', { class: 'media' }, el('img', { src: im.src, alt: `${im.tag} step ${im.step}`, class: 'thumb' })));
    grid.append(c);
  }
  return [sec];
}

function renderText() {
  if (!meta.text.length) return [];
  const [sec, grid] = section('text', 'Text', meta.text.length);
  for (const t of meta.text) {
    const c = card(t.run, t.tag, 'text');
    for (const p of t.points) {
      const box = el('div', { class: 'markdown' });
      box.innerHTML = p.html; // sanitised by the report builder (tbx/viewer/plugins/text/render.py)
      c.append(el('div', { class: 'text-item' }, el('div', { class: 'text-step', text: `step ${p.step}` }), box));
    }
    grid.append(c);
  }
  return [sec];
}

function redrawAll() {
  for (const c of charts) {
    if (c.visible) c.draw();
    else c.stale = true;
  }
}

function reloadAll() {
  for (const c of charts) {
    c.stale = true;
    if (c.visible) c.load();
  }
}

function renderRuns() {
  const re = safeRegex(state.runRe);
  $('run-filter').classList.toggle('invalid', re === undefined);
  $('run-list').replaceChildren(...state.runs.filter((r) => !re || re.test(r)).map((run) => {
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

function sidebar() {
  const runFilter = el('input', { type: 'search', id: 'run-filter', placeholder: 'filter runs (regex)' });
  runFilter.addEventListener('input', () => { state.runRe = runFilter.value; renderRuns(); reloadAll(); });
  const tagFilter = el('input', { type: 'search', id: 'tag-filter', placeholder: 'filter tags (regex)' });
  tagFilter.addEventListener('input', () => {
    state.tagRe = tagFilter.value;
    tagFilter.classList.toggle('invalid', safeRegex(state.tagRe) === undefined);
    renderScalars();
  });
  const sm = el('input', { type: 'range', id: 'smoothing', min: '0', max: '0.99', step: '0.01', value: String(state.smoothing) });
  const smv = el('span', { id: 'smoothing-value', text: state.smoothing.toFixed(2) });
  sm.addEventListener('input', () => {
    state.smoothing = Math.min(0.99, Number(sm.value));
    smv.textContent = state.smoothing.toFixed(2);
    reloadAll();
  });
  const xaxis = el('select', { id: 'xaxis' }, ...['step', 'relative', 'wall_time'].map((x) => el('option', { value: x, text: x })));
  xaxis.addEventListener('change', () => {
    state.xaxis = xaxis.value;
    for (const c of charts) c.zoom = null;
    reloadAll();
  });
  const logy = el('input', { type: 'checkbox', id: 'logy' });
  logy.addEventListener('change', () => { state.logy = logy.checked; redrawAll(); });
  const all = el('button', { type: 'button', class: 'linkish', text: 'all' });
  all.addEventListener('click', () => { state.hidden.clear(); renderRuns(); redrawAll(); });
  const none = el('button', { type: 'button', class: 'linkish', text: 'none' });
  none.addEventListener('click', () => { state.runs.forEach((r) => state.hidden.add(r)); renderRuns(); redrawAll(); });
  const nav = el('nav', { class: 'report-nav' }, el('a', { href: '#scalars', text: 'Scalars' }));
  if (meta.hparams.sessions.length) nav.append(el('a', { href: '#hparams', text: 'HParams' }));
  if (meta.images.length) nav.append(el('a', { href: '#images', text: 'Images' }));
  if (meta.text.length) nav.append(el('a', { href: '#text', text: 'Text' }));
  $('side').replaceChildren(
    nav,
    el('h3', { text: 'Runs' }), runFilter, el('div', { class: 'row' }, all, none), el('div', { id: 'run-list' }),
    el('h3', { text: 'Tags' }), tagFilter,
    el('h3', { text: 'Smoothing' }), el('div', { class: 'row' }, sm, smv),
    el('h3', { text: 'Horizontal axis' }), el('div', { class: 'row' }, xaxis),
    el('label', { class: 'row' }, logy, el('span', { text: 'log scale (y)' })),
    el('p', { class: 'note', text: meta.full ? 'Every point is in this file.'
      : `Series downsampled to ${meta.width} px per chart (M4: first, last, min, max per pixel column; values exact); smoothing is computed over these points.` }),
  );
}

async function main() {
  meta = JSON.parse($('tbx-meta').textContent);
  state.runs = meta.runs;
  data = await decodeSeries(meta);
  sidebar();
  renderRuns();
  const main = $('main');
  main.replaceChildren(el('section', { id: 'scalars', class: 'report-section' }), ...renderHparams(), ...renderImages(), ...renderText());
  renderScalars();
  let rz = 0;
  window.addEventListener('resize', () => { clearTimeout(rz); rz = setTimeout(() => charts.forEach((c) => c.resize()), 100); });
  window.__tbx = { state, charts: () => charts, data };
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  document.body.dataset.error = String(e && e.message);
  $('main').replaceChildren(el('div', { class: 'error', text: `This report could not be shown: ${e && e.message}` }));
});
