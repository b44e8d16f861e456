// tbx viewer page: the sidebar (runs, filters, settings), the tabs, and the plugin host that
// mounts one plugin module per tab (render(root, api) -> {update, destroy}) and passes it the
// page's changes. A plugin that fails (import, render, update, its route) shows an error card
// in its own tab; the others keep working.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { b64f64, getJSON } from './api.js';
import uPlot from 'uplot';
import { numAxis, valueRange } from './axes.js';
import * as format from './format.js';
import { makeApi } from './pageapi.js';
import { applyRunState, restoreRunState, restoreView, saveRunState, saveView } from './persist.js';
import { assignColors, el, live, noEventFiles, runColor, safeRegex, selectionChanged, state } from './state.js';
import { VirtualList } from './virtual.js';

const $ = (id) => document.getElementById(id);
const host = {
  plugins: [],        // /api/plugins
  tags: {},           // plugin name -> {run: {tag: info}} (fetched for the mounted plugin)
  mounted: null,      // {name, root, api, listeners, inst, failed}
  seq: 0,
};
// for tests and the console: the page state, its charts, and the number formatting code
window.__tbx = { state, charts: () => live, host, format, lib: { uPlot, numAxis, valueRange } };
window.__tbx_plugin_data = {};

function current() {
  const h = decodeURIComponent(location.hash.replace(/^#/, ''));
  if (host.plugins.some((p) => p.name === h)) return h;
  return host.plugins.length ? host.plugins[0].name : '';
}

function errorCard(root, p, what, err) {
  const msg = err && err.message ? err.message : String(err);
  root.replaceChildren(el('div', { class: 'card plugin-error', 'data-plugin': p.name },
    el('div', { class: 'card-head' }, el('span', { class: 'card-title', text: `${p.title}: ${what}` })),
    el('pre', { class: 'error', text: msg })));
  root.dataset.error = msg;
}

function fail(m, what, err) {
  if (m.failed) return;
  m.failed = true;
  console.error(`tbx plugin ${m.name}: ${what}`, err);
  try { if (m.inst && m.inst.destroy) m.inst.destroy(); } catch (_) { /* already failing */ }
  errorCard(m.root, m.plugin, what, err);
}

function unmount() {
  const m = host.mounted;
  host.mounted = null;
  if (!m || m.failed) return;
  try { if (m.inst && m.inst.destroy) m.inst.destroy(); } catch (e) { console.error(e); }
}

async function fetchTags(name) {
  host.tags[name] = (await getJSON(`/api/plugins/${encodeURIComponent(name)}/tags`)).runs;
}

async function mount() {
  const name = current();
  unmount();
  const seq = ++host.seq;
  document.querySelectorAll('#tabs a').forEach((a) => {
    a.classList.toggle('active', a.dataset.dash === name);
    if (a.dataset.dash === name && a.scrollIntoView) a.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  });
  document.body.dataset.dashboard = name;
  const p = host.plugins.find((x) => x.name === name);
  const root = el('div', { class: 'plugin-root', 'data-plugin': name });
  $('main').replaceChildren(root);
  if (!p) return;
  const m = { name, plugin: p, root, failed: false, inst: null };
  if (p.error) { fail(m, 'failed to load', p.error); return; }
  if (!p.module_url) { fail(m, 'has no front-end module', 'module is None'); return; }
  let mod;
  try {
    await fetchTags(name);
    mod = await import(p.module_url);
  } catch (e) {
    if (seq === host.seq) fail(m, 'failed to load', e);
    return;
  }
  if (seq !== host.seq) return; // another tab was chosen meanwhile
  const { api, listeners } = makeApi(p, {
    tags: (n) => host.tags[n] || {}, setRunFilter, show, selectionChanged: changedSelection, settingsChanged: changedSettings,
  });
  Object.assign(m, { api, listeners });
  host.mounted = m;
  try {
    if (typeof mod.default !== 'function') throw new TypeError('the module has no default export render(root, api)');
    m.inst = (await mod.default(root, api)) || {};
  } catch (e) {
    fail(m, 'failed to render', e);
  }
}

// Send one change to the mounted plugin: its onChange listeners, then update(change).
function notify(change) {
  const m = host.mounted;
  if (!m || m.failed || !m.inst) return;
  try {
    for (const cb of m.listeners) cb(change);
    if (m.inst.update) m.inst.update(change);
  } catch (e) {
    fail(m, 'failed to update', e);
  }
}

// An error thrown later by a plugin's own code (a timer, a promise) is shown in its tab.
function attribute(err) {
  const m = host.mounted;
  const stack = err && err.stack ? String(err.stack) : '';
  if (m && m.plugin.module_url && stack.includes(`/api/plugins/${m.name}/`)) fail(m, 'failed', err);
}
window.addEventListener('error', (e) => attribute(e.error));
window.addEventListener('unhandledrejection', (e) => attribute(e.reason));

function show(name) { location.hash = `#${name}`; }

// Sidebar --------------------------------------------------------------------------------

function setRunFilter(v) {
  state.runRe = v;
  $('run-filter').value = v;
  selectionChanged();
  saveView(); // kept across reloads (persist.js)
  renderRuns();
  notify({ kind: 'filter', what: 'run' });
}

// The selection changed (a plugin checked, pinned or hid runs): sidebar, then the dashboard.
function changedSelection(what) {
  selectionChanged();
  saveRunState(); // kept across reloads (persist.js)
  renderRuns();
  notify({ kind: 'legend', what });
}

// A page-wide setting changed from a plugin or a chart: sidebar controls, then the dashboard.
function changedSettings(key) {
  showGroupControls();
  if (key === 'group' || key === 'limit') saveView(); // kept across reloads (persist.js)
  notify({ kind: 'settings', key });
}

// The sidebar's run list: runs matching the filter (or pinned), not hidden; a windowed list, so
// 10,000 runs render as fast as 10.
const ROW = 22;
let runList = null;
let listed = [];

function runRow(i) {
  const run = listed[i];
  const cb = el('input', { type: 'checkbox' });
  cb.checked = !state.hidden.has(run);
  cb.addEventListener('change', () => {
    if (cb.checked) state.hidden.delete(run); else state.hidden.add(run);
    changedSelection('select');
  });
  const sw = el('span', { class: 'swatch' });
  sw.style.background = runColor(run);
  const label = el('label', { class: 'run', title: run }, cb, sw, el('span', { class: 'run-name', text: run }));
  if (state.pinned.has(run)) label.append(el('span', { class: 'pin-mark', text: '★', title: 'pinned' }));
  return label;
}

function renderRuns() {
  const re = safeRegex(state.runRe);
  $('run-filter').classList.toggle('invalid', re === undefined);
  listed = state.runs.filter((r) => !state.excluded.has(r) && (!re || state.pinned.has(r) || re.test(r)));
  const box = $('run-list');
  if (!runList) runList = new VirtualList(box, { rowHeight: ROW, render: runRow, initialHeight: Math.round(0.4 * window.innerHeight) });
  box.style.height = `${Math.min(listed.length * ROW, Math.round(0.4 * window.innerHeight))}px`;
  runList.setCount(listed.length);
  const sel = state.runs.filter((r) => !state.hidden.has(r) && !state.excluded.has(r)).length;
  $('run-count').textContent = `${listed.length.toLocaleString('en-US')} listed, ${sel.toLocaleString('en-US')} selected`;
}

// Grouping and the runs-per-chart limit (sidebar).
let hparamNames = [];
async function loadHparamNames() {
  try {
    hparamNames = (await getJSON('/api/hparams')).hparams;
  } catch (_) { hparamNames = []; }
  $('hparam-names').replaceChildren(...hparamNames.map((h) => el('option', { value: h })));
  if (state.group.by === 'hparam' && !state.group.key && hparamNames.length) {
    state.group.key = hparamNames[0];
    changedSettings('group');
  }
}

function showGroupControls() {
  $('group-by').value = state.group.by;
  $('group-key').value = state.group.key;
  $('group-key').placeholder = state.group.by === 'hparam' ? 'hparam name' : 'regex, e.g. ^(\\w+)-';
  $('group-key').disabled = state.group.by === 'none';
  $('group-agg').value = state.group.agg;
  $('group-band').value = state.group.band;
  $('limit').value = String(state.limit);
}

function groupControls() {
  let timer = 0;
  const changed = () => { clearTimeout(timer); timer = setTimeout(() => changedSettings('group'), 250); };
  $('group-by').addEventListener('change', (e) => {
    state.group.by = e.target.value;
    if (state.group.by === 'hparam' && !hparamNames.includes(state.group.key)) state.group.key = hparamNames[0] || '';
    if (state.group.by === 'regex' && hparamNames.includes(state.group.key)) state.group.key = '';
    changedSettings('group');
  });
  $('group-key').addEventListener('input', (e) => {
    state.group.key = e.target.value;
    const bad = state.group.by === 'regex' && safeRegex(state.group.key) === undefined;
    e.target.classList.toggle('invalid', bad);
    if (!bad) changed();
  });
  $('group-agg').addEventListener('change', (e) => { state.group.agg = e.target.value; changedSettings('group'); });
  $('group-band').addEventListener('change', (e) => { state.group.band = e.target.value; changedSettings('group'); });
  $('limit').addEventListener('change', (e) => {
    const n = Math.round(Number(e.target.value));
    if (Number.isFinite(n) && n >= 1 && n <= 5000) { state.limit = n; changedSettings('limit'); } else e.target.value = String(state.limit);
  });
  showGroupControls();
}

function renderTabs() {
  $('tabs').replaceChildren(...host.plugins.map((p) => {
    const a = el('a', { href: `#${p.name}`, text: p.title, 'data-dash': p.name });
    if (!p.active) a.classList.add('nodata');
    if (p.error) { a.classList.add('broken'); a.title = p.error; }
    if (p.name === document.body.dataset.dashboard) a.classList.add('active');
    return a;
  }));
}

let restored = false;
async function loadRuns() {
  const runs = await getJSON('/api/runs');
  let changed = runs.runs.length !== state.runs.length || runs.runs.some((r, i) => r !== state.runs[i]);
  const before = changed ? new Set(state.runs) : null;
  state.runs = runs.runs;
  assignColors(state.runs); // before anything draws: first-seen order, kept from then on
  state.loaded = runs.loaded;
  if (!restored) { // this logdir's stored selection, pins and hides (persist.js)
    state.logdir = runs.logdir;
    restoreRunState();
    if (restoreView()) { // run filter, grouping, runs per chart: before the first dashboard
      $('run-filter').value = state.runRe;
      showGroupControls();
      changed = true;
    }
    restored = true;
  }
  if (before && applyRunState(state.runs.filter((r) => !before.has(r)))) changed = true;
  else applyRunState([]); // forgets stale names once the logdir has been read
  if (changed) selectionChanged();
  state.logdir = runs.logdir;
  let status = 'reading…';
  if (runs.loaded && !runs.runs.length) status = noEventFiles();
  else if (runs.loaded) status = `${runs.runs.length} runs` + (runs.corruptions ? `, ${runs.corruptions} corrupt records skipped` : '');
  $('status').textContent = status;
  renderProblems(runs.problems || []);
  renderRuns();
  return runs.loaded;
}

// Paths the server skips because it cannot read them (provider.problems()).
function renderProblems(list) {
  const box = $('problems');
  box.hidden = !list.length;
  box.replaceChildren(...(list.length ? [el('details', {},
    el('summary', { text: `${list.length} path${list.length === 1 ? '' : 's'} skipped (cannot be read)` }),
    ...list.map((p) => el('div', { class: 'problem', text: `${p.path}: ${p.reason}` })))] : []));
}

// The live stream was interrupted or this page fell behind it: read everything again and
// render the current dashboard anew (filters and settings are kept).
async function reloadAll() {
  const [, plugins] = await Promise.all([loadRuns(), getJSON('/api/plugins')]);
  host.plugins = plugins;
  renderTabs();
  await mount();
  document.body.dataset.reloads = String(Number(document.body.dataset.reloads || 0) + 1);
}

// Runs, plugins and the mounted plugin's tags again (new runs or tags arrived).
async function refresh(change) {
  const [loaded, plugins] = await Promise.all([loadRuns(), getJSON('/api/plugins')]);
  host.plugins = plugins;
  renderTabs();
  loadHparamNames();
  const m = host.mounted;
  if (m && !m.failed) {
    try { await fetchTags(m.name); } catch (e) { fail(m, 'failed to list its tags', e); }
    if (host.mounted === m) notify(change);
  }
  if (!loaded) setTimeout(() => refresh(noTags()), 500);
}

// {kind: 'tags', runs: [new runs], tags: [[run, tag]], series: [[run, tag, plugin]] (new),
// removed_runs: [run], removed_series: [[run, tag, plugin]]}, merged over 150 ms.
const TAG_FIELDS = ['runs', 'tags', 'series', 'removed_runs', 'removed_series'];
const noTags = () => Object.fromEntries([['kind', 'tags'], ...TAG_FIELDS.map((k) => [k, []])]);
let tagTimer = 0;
let tagChange = noTags();
function tagsChanged(msg) {
  for (const k of TAG_FIELDS) tagChange[k].push(...(msg[k] || []));
  clearTimeout(tagTimer);
  tagTimer = setTimeout(() => {
    const c = tagChange;
    tagChange = noTags();
    refresh(c);
  }, 150);
}

function liveUpdates() {
  const es = new EventSource('/api/events');
  host.events = es;
  es.addEventListener('scalars', (ev) => {
    const msg = JSON.parse(ev.data);
    for (const d of msg.series) {
      if (d.step) { d.step = b64f64(d.step); d.wall_time = b64f64(d.wall_time); d.value = b64f64(d.value); }
    }
    notify({ kind: 'scalars', series: msg.series });
  });
  es.addEventListener('changed', (ev) => notify({ kind: 'data', series: JSON.parse(ev.data).series }));
  es.addEventListener('tags', (ev) => tagsChanged(JSON.parse(ev.data)));
  es.addEventListener('problems', (ev) => renderProblems(JSON.parse(ev.data).problems));
  es.addEventListener('reload', () => reloadAll());
  let opened = false;
  es.addEventListener('open', () => {
    document.body.dataset.live = 'true';
    if (opened) reloadAll(); // reconnected: what happened meanwhile was not pushed
    opened = true;
  });
}

function setup() {
  $('run-filter').addEventListener('input', (e) => setRunFilter(e.target.value));
  $('tag-filter').addEventListener('input', (e) => {
    state.tagRe = e.target.value;
    e.target.classList.toggle('invalid', safeRegex(state.tagRe) === undefined);
    notify({ kind: 'filter', what: 'tag' });
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
    smTimer = setTimeout(() => notify({ kind: 'settings', key: 'smoothing' }), 80);
  });
  $('xaxis').addEventListener('change', (e) => { state.xaxis = e.target.value; notify({ kind: 'settings', key: 'xaxis' }); });
  $('logy').addEventListener('change', (e) => { state.logy = e.target.checked; notify({ kind: 'settings', key: 'logy' }); });
  $('hist-mode').addEventListener('change', (e) => { state.histMode = e.target.value; notify({ kind: 'settings', key: 'histMode' }); });
  $('all-runs').addEventListener('click', () => { listed.forEach((r) => state.hidden.delete(r)); changedSelection('select'); });
  $('no-runs').addEventListener('click', () => { listed.forEach((r) => state.hidden.add(r)); changedSelection('select'); });
  groupControls();
  loadHparamNames();
  window.addEventListener('hashchange', mount);
  let rz = 0;
  window.addEventListener('resize', () => { clearTimeout(rz); rz = setTimeout(() => notify({ kind: 'resize' }), 100); });
  Promise.all([loadRuns(), getJSON('/api/plugins')]).then(async ([loaded, plugins]) => {
    host.plugins = plugins;
    renderTabs();
    await mount();
    document.body.dataset.ready = 'true';
    if (!loaded) setTimeout(() => refresh(noTags()), 500);
  });
  liveUpdates();
}

setup();
