// Page-wide state, DOM helper, run colours, and the draw scheduler (at most one redraw of
// each dirty visible chart per animation frame).

export const state = {
  runs: [],            // every run, sorted
  loaded: false,       // the server has read the logdir once
  logdir: '',          // the folder the server reads (as given to tbx serve)
  hidden: new Set(),   // runs switched off (not selected): the sidebar's and run table's checkboxes
  pinned: new Set(),   // runs always shown: past the run filter, and kept when a chart limits its runs
  excluded: new Set(), // runs hidden by the run table: in no dashboard, not listed
  runRe: '',
  tagRe: '',
  smoothing: 0.6,
  xaxis: 'step',       // step | relative | wall_time
  logy: false,
  histMode: 'offset',  // offset | overlay
  limit: 500,          // series a chart shows at most (the server picks them by rank)
  rank: { by: 'last', order: 'asc' },  // which ones by default (a chart may choose its own)
  group: { by: 'none', key: '', agg: 'mean', band: 'minmax' },  // by: none | regex | hparam
  selVersion: 0,       // grows with every change of the runs, filter, selection, pins, hides
};

// el('div', {class: 'x', text: 'y', title: ...}, ...children): text is always set as text.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
  '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#ad494a', '#637939', '#7b4173', '#3182bd'];

// Colour number k: the palette, then hues spaced by the golden angle (#rrggbb, so callers can
// append an alpha byte).
export function colorOf(k) {
  if (k < PALETTE.length) return PALETTE[k];
  const h = ((k - PALETTE.length) * 137.508 + 20) % 360;
  const f = (n) => {
    const a = 0.55 * Math.min(0.45, 0.55);
    const t = (n + h / 30) % 12;
    const c = 0.45 - a * Math.max(-1, Math.min(t - 3, 9 - t, 1));
    return Math.round(c * 255).toString(16).padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

// Run colours: a run gets the lowest colour number no present run holds when the page first
// sees it, and keeps it for the life of the page and across reloads (localStorage, per server
// origin), so a run that appears later never recolours the others.
const COLOR_KEY = 'tbx.runColors';
const MAX_REMEMBERED = 5000;
const colors = new Map(); // run -> colour number, in first-seen order
try {
  const saved = JSON.parse(localStorage.getItem(COLOR_KEY) || '[]');
  if (Array.isArray(saved)) for (const [run, k] of saved) if (typeof run === 'string' && Number.isInteger(k) && k >= 0) colors.set(run, k);
} catch (_) { /* no storage (file://, privacy mode) or bad JSON: colours last for this page */ }

function saveColors() {
  try {
    let list = [...colors];
    if (list.length > MAX_REMEMBERED) list = list.slice(-MAX_REMEMBERED);
    localStorage.setItem(COLOR_KEY, JSON.stringify(list));
  } catch (_) { /* storage full or unavailable */ }
}

// Give every run of `runs` (in this order) a colour if it has none yet.
export function assignColors(runs) {
  const fresh = runs.filter((r) => !colors.has(r));
  if (!fresh.length) return;
  const used = new Set();
  for (const r of new Set([...state.runs, ...runs])) if (colors.has(r)) used.add(colors.get(r));
  let k = 0;
  for (const r of fresh) {
    while (used.has(k)) k++;
    colors.set(r, k);
    used.add(k);
  }
  saveColors();
}

export function runColor(run) {
  if (!colors.has(run)) assignColors([run]);
  return colorOf(colors.get(run));
}

// What the page says when the server's first read found no event file.
export function noEventFiles() {
  return `No event files found under ${state.logdir} (files named *tfevents*); waiting for some.`;
}

export function safeRegex(src) {
  if (!src) return null;
  try {
    return new RegExp(src, 'i');
  } catch (_) {
    return undefined; // invalid: caller shows an error
  }
}

// Runs matching the run filter or pinned, not hidden by the run table; with legend = true,
// also selected (checked). Cached until the selection changes (10,000 runs: one pass).
const memo = { key: '', runs: [] };
export function filteredRuns(legend = true) {
  const key = `${state.selVersion}|${legend}`;
  if (memo.key === key) return memo.runs;
  const re = safeRegex(state.runRe);
  const out = state.runs.filter((r) => !state.excluded.has(r)
    && (!legend || !state.hidden.has(r)) && (!re || state.pinned.has(r) || re.test(r)));
  memo.key = key;
  memo.runs = out;
  return out;
}

// Call after changing state.runs, runRe, hidden, pinned or excluded.
export function selectionChanged() {
  state.selVersion += 1;
}

// The server-side run set of a list of runs (POST /api/runsets): a promise of its id. The page's
// selection is posted once per change (selectionId); other lists are cached by content.
const sets = new Map();
async function post(runs, pinned) {
  const res = await fetch('/api/runsets', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ runs, pinned }),
  });
  if (!res.ok) throw new Error(`POST /api/runsets: ${res.status}`);
  return (await res.json()).id;
}

export function runSetFor(runs, pinned = []) {
  const key = `${runs.length}\u0000${runs.join('\u0000')}\u0001${pinned.join('\u0000')}`;
  let p = sets.get(key);
  if (!p) {
    if (sets.size > 32) sets.clear();
    p = post(runs, pinned);
    sets.set(key, p);
    p.catch(() => sets.delete(key));
  }
  return p;
}

let current = { version: -1, promise: null };
export function selectionId() {
  if (current.version === state.selVersion && current.promise) return current.promise;
  const runs = filteredRuns(true);
  const pinned = runs.filter((r) => state.pinned.has(r));
  const p = post(runs, pinned);
  current = { version: state.selVersion, promise: p };
  p.catch(() => { if (current.promise === p) current.promise = null; });
  return p;
}

// The server no longer knows the ids (restarted, or dropped them): post again on next use.
export function forgetRunSets() {
  current = { version: -1, promise: null };
  sets.clear();
}

// Charts (objects with .el, .visible, .stale, .load(), .draw()) watched for visibility.
const dirty = new Set();
let frame = 0;

const forced = new Set();

// Draw the chart in the next animation frame if it is visible then; with force (data it
// fetched has arrived), even if it scrolled out of view meanwhile.
export function scheduleDraw(chart, force = false) {
  dirty.add(chart);
  if (force) forced.add(chart);
  if (!frame) {
    frame = requestAnimationFrame(() => {
      frame = 0;
      const list = [...dirty];
      dirty.clear();
      for (const c of list) if (c.visible || forced.has(c)) c.draw();
      forced.clear();
    });
  }
}

export const observer = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const c = e.target.__chart;
    if (!c) continue;
    c.visible = e.isIntersecting;
    e.target.dataset.visible = String(c.visible);
    if (c.visible && c.stale) c.load();
  }
}, { rootMargin: '200px' });

// Every watched chart or card of the page (window.__tbx.charts(), for tests).
export const live = new Set();

export function watch(chart) {
  live.add(chart);
  observer.observe(chart.el);
}

export function unwatch(chart) {
  live.delete(chart);
  observer.unobserve(chart.el);
  if (chart.destroy) chart.destroy();
}
