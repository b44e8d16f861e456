// The page API handed to each plugin's render(root, api): runs and colours, filters, settings,
// fetch helpers for its routes, live changes, DOM and chart helpers. Documented in
// docs/plugins.md; keep the two in step.
import uPlot from 'uplot';
import { ApiError, decodeSeries, getBinary, getJSON, query } from './api.js';
import { numAxis, valueRange } from './axes.js';
import {
  CARD_RUNS, Card, CardSet, SliderCard, cardDashboard, emptyDashboard, groupOf, limitRuns, noticeBox, openFull, runsNotice, section,
} from './cards.js';
import { ScalarChart, fmtNum } from './chart.js';
import { axisLabels, fmtValue, legendValue, niceTicks, pointAt } from './format.js';
import {
  el, filteredRuns, runColor, runSetFor, safeRegex, scheduleDraw, selectionId, state, watch, unwatch,
} from './state.js';
import { VirtualList } from './virtual.js';

const charts = {
  ScalarChart, Card, SliderCard, CardSet, cardDashboard, section, groupOf, emptyDashboard, openFull,
  uPlot, fmtNum, decodeSeries, scheduleDraw, watch, unwatch, VirtualList,
  // many runs: which a dashboard of per-run cards shows, and its notice
  CARD_RUNS, limitRuns, runsNotice, noticeBox,
  // numbers as the page prints them (web/src/format.js)
  fmtValue, legendValue, pointAt, axisLabels, niceTicks, numAxis, valueRange,
};

const toList = (runs) => (typeof runs === 'string' ? [runs] : [...runs]);

// host: {tags(name) -> {run: {tag: info}}, setRunFilter(src), show(name),
//        selectionChanged(what), settingsChanged(key)}
export function makeApi(plugin, host) {
  const base = `/api/plugins/${encodeURIComponent(plugin.name)}/`;
  const listeners = new Set();
  const route = (path) => (path.startsWith('/') ? path : base + path);
  const filterTags = (all, byTag) => {
    const runs = new Set(filteredRuns(false));
    const tagRe = byTag ? safeRegex(state.tagRe) : null;
    const out = {};
    for (const [run, tags] of Object.entries(all)) {
      if (!runs.has(run)) continue;
      const kept = {};
      for (const [tag, info] of Object.entries(tags)) if (!tagRe || tagRe.test(tag)) kept[tag] = info;
      if (Object.keys(kept).length) out[run] = kept;
    }
    return out;
  };
  const api = {
    name: plugin.name,
    title: plugin.title,
    pluginNames: plugin.plugin_names,
    // The selection: runs matching the run filter (or pinned), not hidden, and selected
    // (legend: false ignores the selection checkboxes), sorted.
    runs: ({ legend = true } = {}) => filteredRuns(legend).slice(),
    allRuns: () => state.runs.slice(),
    color: (run) => runColor(run),
    // Selection checkboxes (the sidebar's and the run table's): select(runs, on) checks or
    // unchecks runs (a name or a list); selected(run) tells.
    selected: (run) => !state.hidden.has(run) && !state.excluded.has(run),
    select: (runs, on = true) => {
      for (const r of toList(runs)) { if (on) state.hidden.delete(r); else state.hidden.add(r); }
      host.selectionChanged('select');
    },
    // Pinned runs are always shown: past the run filter, and kept when a chart shows only some.
    pinned: () => state.runs.filter((r) => state.pinned.has(r)),
    pin: (runs, on = true) => {
      for (const r of toList(runs)) { if (on) state.pinned.add(r); else state.pinned.delete(r); }
      host.selectionChanged('pin');
    },
    // Hidden runs are in no dashboard and listed only by the run table (to unhide them).
    hidden: () => state.runs.filter((r) => state.excluded.has(r)),
    hide: (runs, on = true) => {
      for (const r of toList(runs)) { if (on) state.excluded.add(r); else state.excluded.delete(r); }
      host.selectionChanged('hide');
    },
    // A promise of the server-side run set id of the selection (api.runs() and its pins), for
    // a route's `runset` parameter; runSetFor(runs, pinned) makes one of any list.
    runSet: () => selectionId(),
    runSetFor: (runs, pinned = []) => runSetFor(toList(runs), toList(pinned)),
    // Grouping of chart lines: {by: 'none'|'regex'|'hparam', key, agg: 'mean'|'median',
    // band: 'minmax'|'std'|'none'}; setGrouping(partial) changes it (a 'settings' change, key 'group').
    grouping: () => ({ ...state.group }),
    setGrouping: (g) => { Object.assign(state.group, g); host.settingsChanged('group'); },
    // Series a chart shows at most, and which ones: {limit, by: 'last'|'min'|'max', order: 'asc'|'desc'}.
    ranking: () => ({ limit: state.limit, ...state.rank }),
    // {run: {tag: info}} of this plugin, run filter and tag filter applied (filtered: false:
    // neither applied). info: {plugin, class, count, first_step, last_step, ...}.
    tags: ({ filtered = true } = {}) => {
      const all = host.tags(plugin.name);
      return filtered ? filterTags(all, true) : all;
    },
    tagFilter: () => state.tagRe,
    runFilter: () => state.runRe,
    setRunFilter: (src) => host.setRunFilter(src),
    show: (name) => host.show(name),
    settings: () => ({
      smoothing: state.smoothing, xaxis: state.xaxis, logy: state.logy, histMode: state.histMode,
      limit: state.limit, rank: { ...state.rank }, group: { ...state.group },
    }),
    loaded: () => state.loaded,
    url: (path, params = {}) => {
      const q = query(params);
      return q ? `${route(path)}?${q}` : route(path);
    },
    staticUrl: (file) => `${base}static/${file}`,
    asset: (file) => new URL(file, new URL(plugin.module_url, location.href)).pathname,
    fetchJSON: (path, params = {}, signal) => getJSON(route(path), params, signal),
    fetchBinary: (path, params = {}, signal) => getBinary(route(path), params, signal),
    onChange: (cb) => { listeners.add(cb); return () => listeners.delete(cb); },
    // Values a test (or the console) can read: window.__tbx_plugin_data[name].
    publish: (data) => { window.__tbx_plugin_data[plugin.name] = data; },
    el,
    charts,
    ApiError,
  };
  return { api, listeners };
}
