// Page-wide state, DOM helper, run colours, and the draw scheduler (at most one redraw of
// each dirty visible chart per animation frame).

export const state = {
  runs: [],            // every run, sorted
  loaded: false,       // the server has read the logdir once
  logdir: '',          // the folder the server reads (as given to tbx serve)
  hidden: new Set(),   // runs switched off in the legend
  runRe: '',
  tagRe: '',
  smoothing: 0.6,
  xaxis: 'step',       // step | relative | wall_time
  logy: false,
  histMode: 'offset',  // offset | overlay
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

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
  '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#ad494a', '#637939', '#7b4173', '#3182bd'];

export function runColor(run) {
  const i = state.runs.indexOf(run);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
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

// Runs matching the run filter; with legend = true, also switched on in the legend.
export function filteredRuns(legend = true) {
  const re = safeRegex(state.runRe);
  return state.runs.filter((r) => (!legend || !state.hidden.has(r)) && (!re || re.test(r)));
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
