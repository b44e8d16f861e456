// Runs dashboard: every run with its hyperparameters and the last, min and max of chosen scalar
// metrics, in a windowed table (10,000 rows scroll smoothly). Sort by any column, filter by a
// regex (the page's run filter), select, pin and hide runs: the selection drives every other
// dashboard through the page API.
export default function render(root, api) {
  const { el } = api;
  const { VirtualList, fmtNum } = api.charts;
  const ROW = 24;
  const STAT_WORDS = { last: 'last value', min: 'minimum', max: 'maximum' };
  const W = { icon: 26, swatch: 14, run: 260, hp: 110, stat: 100 };
  let data = null;        // the table route's answer
  let metrics = null;     // chosen metric tags (null: the server's default)
  let sort = { key: 'run', dir: 1 };
  let showHidden = false;
  let rows = [];          // indices into data.runs, in display order
  let template = '';
  let width = 0;
  let cols = [];
  let pinnedSet = new Set();
  let hiddenSet = new Set();
  const colors = new Map(); // run -> colour, for the rows rendered while scrolling
  const color = (run) => { let c = colors.get(run); if (!c) { c = api.color(run); colors.set(run, c); } return c; };

  const filter = el('input', { type: 'search', placeholder: 'filter runs (regex)', class: 'runs-filter', value: api.runFilter() });
  filter.addEventListener('input', () => api.setRunFilter(filter.value));
  const counts = el('span', { class: 'counts' });
  const button = (text, title, fn) => {
    const b = el('button', { type: 'button', text, title });
    b.addEventListener('click', fn);
    return b;
  };
  const hiddenBox = el('input', { type: 'checkbox', class: 'show-hidden' });
  hiddenBox.addEventListener('change', () => { showHidden = hiddenBox.checked; compute(); });
  const menu = el('div', { class: 'metric-menu' });
  const metricPicker = el('details', { class: 'metric-picker' }, el('summary', { text: 'metrics' }), menu);
  const tools = el('div', { class: 'runs-tools' }, filter,
    button('select listed', 'select every listed run', () => api.select(listedRuns(), true)),
    button('deselect listed', 'deselect every listed run', () => api.select(listedRuns(), false)),
    button('unpin all', 'unpin every run', () => api.pin(api.pinned(), false)),
    el('label', {}, hiddenBox, ' show hidden'), metricPicker, counts);
  const scroller = el('div', { class: 'runs-scroll' });
  const head = el('div', { class: 'runs-row head' });
  scroller.append(head);
  const wrap = el('div', { class: 'runs-dash' }, tools, scroller);
  root.replaceChildren(wrap);
  const list = new VirtualList(scroller, { rowHeight: ROW, render: row, overscan: 12, initialHeight: 800 });

  const listedRuns = () => rows.map((i) => data.runs[i]);
  const regex = (src) => { if (!src) return null; try { return new RegExp(src, 'i'); } catch (_) { return undefined; } };
  const fmt = (v) => (v == null ? '' : typeof v === 'number' ? fmtNum(v) : String(v));

  // Column keys: 'run', 'h:<name>', 'm:<tag>:<last|min|max>'.
  function value(i, key) {
    if (key === 'run') return data.runs[i];
    if (key.startsWith('h:')) return data.hparam_values[key.slice(2)][i];
    const k = key.lastIndexOf(':');
    const st = data.stats[key.slice(2, k)];
    return st ? st[key.slice(k + 1)][i] : null;
  }

  function columns() {
    const cols = [];
    for (const h of data.hparams) cols.push([`h:${h}`, h, 'hp']);
    for (const m of data.metrics) for (const s of ['last', 'min', 'max']) cols.push([`m:${m}:${s}`, m, 'stat', s]);
    return cols;
  }

  function compute() {
    if (!data) return;
    const re = regex(api.runFilter());
    filter.classList.toggle('invalid', re === undefined);
    const hidden = new Set(api.hidden());
    const pinned = new Set(api.pinned());
    pinnedSet = pinned;
    hiddenSet = hidden;
    rows = [];
    data.runs.forEach((r, i) => {
      if (hidden.has(r) && !showHidden) return;
      if (re && !pinned.has(r) && !re.test(r)) return;
      rows.push(i);
    });
    const { key, dir } = sort;
    const cmp = (a, b) => {
      const pa = pinned.has(data.runs[a]);
      const pb = pinned.has(data.runs[b]);
      if (pa !== pb) return pa ? -1 : 1;
      const x = value(a, key);
      const y = value(b, key);
      if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1;
      if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
      const [sx, sy] = [String(x), String(y)];
      return (sx < sy ? -1 : sx > sy ? 1 : 0) * dir;
    };
    rows.sort(cmp);
    const selected = data.runs.filter((r) => api.selected(r)).length;
    counts.textContent = `${data.runs.length.toLocaleString('en-US')} runs · ${rows.length.toLocaleString('en-US')} listed · `
      + `${selected.toLocaleString('en-US')} selected · ${pinned.size} pinned · ${hidden.size} hidden`;
    hiddenBox.parentElement.lastChild.textContent = ` show hidden (${hidden.size})`;
    wrap.dataset.rows = String(rows.length);
    wrap.dataset.total = String(data.runs.length);
    api.publish({ runs: data.runs.length, rows: listedRuns(), metrics: data.metrics, hparams: data.hparams, sort: { ...sort } });
    list.setCount(rows.length);
  }

  function header() {
    cols = columns();
    template = [W.icon, W.icon, W.icon, W.swatch, W.run, ...cols.map(([, , k]) => W[k])].map((w) => `${w}px`).join(' ');
    width = W.icon * 3 + W.swatch + W.run + cols.reduce((a, [, , k]) => a + W[k], 0) + 12;
    const all = el('input', { type: 'checkbox', title: 'select or deselect every listed run' });
    all.addEventListener('change', () => api.select(listedRuns(), all.checked));
    // A metric's three columns: its name on the first line (cut to fit, whole in the tooltip)
    // and which statistic on a second line of its own, so they can be told apart.
    const cell = (key, text, cls, stat) => {
      const arrow = sort.key === key ? (sort.dir > 0 ? ' ▲' : ' ▼') : '';
      const title = `sort by ${text}${stat ? ` (${STAT_WORDS[stat]})` : ''}`;
      const c = stat
        ? el('span', { class: `sortable ${cls}`, title, 'data-key': key },
          el('span', { class: 'col-name', text }), el('span', { class: 'col-stat', text: stat + arrow }))
        : el('span', { class: `sortable ${cls}`, text: text + arrow, title, 'data-key': key });
      c.addEventListener('click', () => { sort = { key, dir: sort.key === key ? -sort.dir : 1 }; header(); compute(); });
      return c;
    };
    head.replaceChildren(all, el('span', { text: '★', title: 'pinned runs are always shown' }),
      el('span', { text: '×', title: 'hidden runs are in no dashboard' }), el('span'),
      cell('run', 'run', 'run'), ...cols.map(([k, t, kind, stat]) => cell(k, t, kind === 'stat' ? 'metric num' : 'hp', stat)));
    for (const n of [head, list.inner]) { n.style.width = `${width}px`; }
    head.style.gridTemplateColumns = template;
  }

  function row(index) {
    const i = rows[index];
    const run = data.runs[i];
    const pinned = pinnedSet.has(run);
    const hidden = hiddenSet.has(run);
    const r = el('div', { class: `runs-row${pinned ? ' pinned' : ''}${hidden ? ' hidden-run' : ''}`, 'data-run': run });
    r.style.gridTemplateColumns = template;
    r.style.width = `${width}px`;
    const cb = el('input', { type: 'checkbox', class: 'select', title: 'selected runs are shown in every dashboard' });
    cb.checked = api.selected(run);
    cb.addEventListener('change', () => api.select(run, cb.checked));
    const pin = el('button', { type: 'button', class: `icon pin${pinned ? ' on' : ''}`, text: pinned ? '★' : '☆', title: pinned ? 'unpin' : 'pin: always show this run' });
    pin.addEventListener('click', () => api.pin(run, !pinned));
    const eye = el('button', { type: 'button', class: `icon hide${hidden ? ' on' : ''}`, text: hidden ? '↺' : '×', title: hidden ? 'unhide' : 'hide from every dashboard' });
    eye.addEventListener('click', () => api.hide(run, !hidden));
    const sw = el('span', { class: 'swatch' });
    sw.style.background = color(run);
    r.append(cb, pin, eye, sw, el('span', { class: 'run-name', text: run, title: run }));
    for (const [k, , kind] of cols) {
      r.append(el('span', { class: kind === 'stat' ? 'num' : '', text: fmt(value(i, k)) }));
    }
    return r;
  }

  function pickers() {
    const chosen = new Set(data.metrics);
    menu.replaceChildren(...data.scalar_tags.map((t) => {
      const box = el('input', { type: 'checkbox', value: t });
      box.checked = chosen.has(t);
      box.addEventListener('change', () => {
        metrics = [...menu.querySelectorAll('input:checked')].map((x) => x.value);
        load();
      });
      return el('label', { class: 'row' }, box, ` ${t}`);
    }));
    metricPicker.querySelector('summary').textContent = `metrics (${data.metrics.length})`;
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    let got;
    try {
      const params = metrics == null ? {} : metrics.length ? { metric: metrics } : { metrics: 'none' };
      got = await api.fetchJSON('table', params);
    } catch (e) {
      if (mine === seq) counts.textContent = e.message;
      return;
    }
    if (mine !== seq) return;
    data = got;
    colors.clear();
    pickers();
    header();
    compute();
  }

  let timer = 0;
  let last = 0;
  function reloadSoon() { // live values: at most every 3 s
    if (timer) return;
    timer = setTimeout(() => { timer = 0; last = Date.now(); load(); }, Math.max(0, 3000 - (Date.now() - last)));
  }

  load();
  return {
    update(change) {
      if (change.kind === 'tags') load();
      else if (change.kind === 'scalars') reloadSoon();
      else if (change.kind === 'filter' || change.kind === 'legend') {
        if (filter.value !== api.runFilter()) filter.value = api.runFilter();
        compute();
      }
    },
    destroy() { clearTimeout(timer); list.destroy(); },
  };
}
