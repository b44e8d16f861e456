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
import { assignColors, el, live, noEventFiles, runColor, safeRegex, state } from './state.js';

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
  const { api, listeners } = makeApi(p, { tags: (n) => host.tags[n] || {}, setRunFilter, show });
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
  renderRuns();
  notify({ kind: 'filter', what: 'run' });
}

function renderRuns() {
  const re = safeRegex(state.runRe);
  $('run-filter').classList.toggle('invalid', re === undefined);
  $('run-list').replaceChildren(...state.runs.filter((r) => !re || re.test(r)).map((run) => {
    const cb = el('input', { type: 'checkbox' });
    cb.checked = !state.hidden.has(run);
    cb.addEventListener('change', () => {
      if (cb.checked) state.hidden.delete(run); else state.hidden.add(run);
      notify({ kind: 'legend' });
    });
    const sw = el('span', { class: 'swatch' });
    sw.style.background = runColor(run);
    return el('label', { class: 'run', title: run }, cb, sw, el('span', { class: 'run-name', text: run }));
  }));
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

async function loadRuns() {
  const runs = await getJSON('/api/runs');
  state.runs = runs.runs;
  assignColors(state.runs); // before anything draws: first-seen order, kept from then on
  state.loaded = runs.loaded;
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
  $('all-runs').addEventListener('click', () => { state.hidden.clear(); renderRuns(); notify({ kind: 'legend' }); });
  $('no-runs').addEventListener('click', () => { state.runs.forEach((r) => state.hidden.add(r)); renderRuns(); notify({ kind: 'legend' }); });
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
