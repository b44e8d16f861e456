// The run table's choices kept across reloads: which runs are selected, pinned and hidden, in
// the browser's storage (localStorage), one entry per logdir of this server (the storage is
// per origin, i.e. per host and port; the key names the logdir), so two servers or two logdirs
// never share them. The view settings (run filter, grouping, runs per chart) are kept the same
// way in an entry of their own (saveView, restoreView). Small with thousands of runs: the selection is stored as the deselected runs
// or, when most are deselected, as the selected ones ("only these"), and every list is sorted
// and front-coded (each name as the length of the prefix it shares with the previous one and
// the rest). Names of runs that no longer exist are ignored, and dropped at the next save.
import { state } from './state.js';

const PREFIX = 'tbx.runState:';
const VERSION = 1;

// Sorted names -> [shared prefix length, rest, ...] (any string survives JSON).
export function encodeNames(names) {
  const out = [];
  let prev = '';
  for (const n of [...names].sort()) {
    let k = 0;
    const m = Math.min(prev.length, n.length);
    while (k < m && prev.charCodeAt(k) === n.charCodeAt(k)) k++;
    out.push(k, n.slice(k));
    prev = n;
  }
  return out;
}

export function decodeNames(list) {
  const out = [];
  if (!Array.isArray(list)) return out;
  let prev = '';
  for (let i = 0; i + 1 < list.length; i += 2) {
    const k = list[i];
    const rest = list[i + 1];
    if (!Number.isInteger(k) || k < 0 || k > prev.length || typeof rest !== 'string') return [];
    prev = prev.slice(0, k) + rest;
    out.push(prev);
  }
  return out;
}

const key = () => PREFIX + state.logdir;

// Restored choices not yet applied to the runs they name: the server may still be reading the
// logdir, so a run is given its stored state when it first appears, until the first complete
// read (state.loaded); names never seen by then are stale and forgotten.
let pending = null;

// Read this logdir's stored choices (call once state.logdir is known, before applying).
export function restoreRunState() {
  pending = null;
  let data;
  try {
    data = JSON.parse(localStorage.getItem(key()) || 'null');
  } catch (_) { return; } // no storage (privacy mode) or bad JSON: start afresh
  if (!data || data.v !== VERSION || (data.sel !== 'off' && data.sel !== 'on')) return;
  pending = {
    sel: data.sel, selList: new Set(decodeNames(data.runs)),
    pinned: new Set(decodeNames(data.pinned)), hidden: new Set(decodeNames(data.hidden)),
  };
}

// Give runs that just appeared (a list) their stored state; returns whether any changed.
export function applyRunState(fresh) {
  if (!pending) return false;
  let changed = false;
  for (const r of fresh) {
    if (pending.pinned.has(r)) { state.pinned.add(r); changed = true; }
    if (pending.hidden.has(r)) { state.excluded.add(r); changed = true; }
    const listed = pending.selList.has(r);
    if ((pending.sel === 'off') === listed) { state.hidden.add(r); changed = true; }
  }
  if (state.loaded) pending = null; // the first complete read is done: the rest are stale
  return changed;
}

// Store the current choices (after every select, pin or hide).
export function saveRunState() {
  if (!state.logdir) return;
  const runs = state.runs;
  const off = runs.filter((r) => state.hidden.has(r));
  const on = off.length * 2 > runs.length ? runs.filter((r) => !state.hidden.has(r)) : null;
  const keep = (set) => runs.filter((r) => set.has(r));
  const pinned = keep(state.pinned);
  const hidden = keep(state.excluded);
  if (pending) { // still reading: keep what is stored for runs not seen yet
    const seen = new Set(runs);
    const unseen = (set) => [...set].filter((r) => !seen.has(r));
    pinned.push(...unseen(pending.pinned));
    hidden.push(...unseen(pending.hidden));
    if ((on ? 'on' : 'off') === pending.sel) (on || off).push(...unseen(pending.selList));
  }
  const data = { v: VERSION, sel: on ? 'on' : 'off', runs: encodeNames(on || off), pinned: encodeNames(pinned), hidden: encodeNames(hidden) };
  try {
    if (!off.length && !pinned.length && !hidden.length && !pending) localStorage.removeItem(key());
    else localStorage.setItem(key(), JSON.stringify(data));
  } catch (_) { /* storage full or unavailable: the choices last for this page */ }
}

// View settings: the run filter, the grouping of chart lines and the runs per chart, as the
// sidebar sets them. Stored only when they differ from the page's defaults.
const VIEW_PREFIX = 'tbx.view:';
const viewKey = () => VIEW_PREFIX + state.logdir;
const viewOf = () => ({ runRe: state.runRe, limit: state.limit, group: { ...state.group } });
const DEFAULT_VIEW = JSON.stringify(viewOf()); // state as the page starts (read at import)
const CHOICES = { by: ['none', 'regex', 'hparam'], agg: ['mean', 'median'], band: ['minmax', 'std', 'none'] };

// Store the view settings (after the run filter, grouping or runs per chart changed).
export function saveView() {
  if (!state.logdir) return;
  const view = JSON.stringify(viewOf());
  try {
    if (view === DEFAULT_VIEW) localStorage.removeItem(viewKey());
    else localStorage.setItem(viewKey(), JSON.stringify({ v: VERSION, ...viewOf() }));
  } catch (_) { /* storage full or unavailable: the settings last for this page */ }
}

// Put this logdir's stored view settings into state (call once state.logdir is known); values
// of the wrong type or out of range are left at their defaults. Returns whether any was stored.
export function restoreView() {
  let data;
  try {
    data = JSON.parse(localStorage.getItem(viewKey()) || 'null');
  } catch (_) { return false; }
  if (!data || data.v !== VERSION) return false;
  if (typeof data.runRe === 'string') state.runRe = data.runRe;
  if (Number.isInteger(data.limit) && data.limit >= 1 && data.limit <= 5000) state.limit = data.limit;
  const g = data.group || {};
  for (const [k, ok] of Object.entries(CHOICES)) if (ok.includes(g[k])) state.group[k] = g[k];
  if (typeof g.key === 'string') state.group.key = g.key;
  return true;
}
