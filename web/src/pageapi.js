// The page API handed to each plugin's render(root, api): runs and colours, filters, settings,
// fetch helpers for its routes, live changes, DOM and chart helpers. Documented in
// docs/plugins.md; keep the two in step.
import uPlot from 'uplot';
import { ApiError, decodeSeries, getBinary, getJSON, query } from './api.js';
import { numAxis, valueRange } from './axes.js';
import { Card, CardSet, SliderCard, cardDashboard, emptyDashboard, groupOf, openFull, section } from './cards.js';
import { ScalarChart, fmtNum } from './chart.js';
import { axisLabels, fmtValue, legendValue, niceTicks, pointAt } from './format.js';
import { el, filteredRuns, runColor, safeRegex, scheduleDraw, state, watch, unwatch } from './state.js';

const charts = {
  ScalarChart, Card, SliderCard, CardSet, cardDashboard, section, groupOf, emptyDashboard, openFull,
  uPlot, fmtNum, decodeSeries, scheduleDraw, watch, unwatch,
  // numbers as the page prints them (web/src/format.js)
  fmtValue, legendValue, pointAt, axisLabels, niceTicks, numAxis, valueRange,
};

// host: {tags(name) -> {run: {tag: info}}, setRunFilter(src), show(name)}
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
    // Runs matching the run filter and switched on in the legend (legend: false ignores the
    // legend), sorted.
    runs: ({ legend = true } = {}) => filteredRuns(legend),
    allRuns: () => state.runs.slice(),
    color: (run) => runColor(run),
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
    settings: () => ({ smoothing: state.smoothing, xaxis: state.xaxis, logy: state.logy, histMode: state.histMode }),
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
