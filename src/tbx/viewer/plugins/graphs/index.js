// Graphs dashboard: a run's model graph, grouped by name scope (PyTorch module paths), collapsed
// to the top level; click a group to expand or collapse it, a node for its details; search by
// name or op. The layout (dagre) runs in a web worker. The page's state is published as
// window.__tbx_graphs (and api.publish) for tests.
import { GraphView } from './draw.js';
import { Layouts } from './layout.js';
import { CSS } from './style.js';

const MAX_MATCHES = 50;

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

// Groups to open at first: while a level holds one group of several ops among at most 6
// children (a model wrapped in its class, beside its input and output), open it.
export function autoExpand(model) {
  const G = model.groups;
  const open = new Set();
  let g = 0;
  for (;;) {
    const kids = G.children[g];
    const big = kids.filter((r) => r < 0 && G.count[-r - 1] > 1);
    if (big.length !== 1 || kids.length > 6) break;
    g = -big[0] - 1;
    open.add(g);
  }
  return open;
}

function ancestors(model, ref) {
  const out = [];
  let g = ref >= 0 ? model.nodes.group[ref] : model.groups.parent[-ref - 1];
  while (g > 0) {
    out.push(g);
    g = model.groups.parent[g];
  }
  return out;
}

export default function render(root, api) {
  const t0 = performance.now();
  const style = h('style', { text: CSS });
  const runSel = h('select', { class: 'tbx-g-run', 'aria-label': 'run' });
  const graphSel = h('select', { class: 'tbx-g-graph', 'aria-label': 'graph' });
  const search = h('input', { type: 'search', class: 'tbx-g-search', placeholder: 'search nodes by name or op', autocomplete: 'off' });
  const matchList = h('div', { class: 'tbx-g-matches' });
  const status = h('span', { class: 'tbx-g-status' });
  const canvas = h('div', { class: 'tbx-g-canvas' });
  const details = h('div', { class: 'tbx-g-details' });
  const btn = (text, title, fn) => h('button', { type: 'button', title, text, onclick: fn });
  const bar = h('div', { class: 'tbx-g-bar' },
    h('label', {}, 'run ', runSel), h('label', { class: 'tbx-g-graphpick' }, 'graph ', graphSel),
    h('span', { class: 'tbx-g-searchbox' }, search, matchList),
    btn('fit', 'fit the graph to the view', () => view.fit()),
    btn('+', 'zoom in', () => zoom(1.25)), btn('−', 'zoom out', () => zoom(0.8)),
    btn('collapse all', 'collapse every group', () => { st.expanded = autoExpand(st.model); relayout(); }),
    status);
  const wrap = h('div', { class: 'tbx-graphs' }, style, bar, h('div', { class: 'tbx-g-body' }, canvas, details));
  root.append(wrap);

  const st = {
    list: {}, run: null, entry: null, model: null, expanded: new Set(), selected: null,
    matches: new Set(), layouts: null, seq: 0, id: null, loads: 0, worker: null, local: null,
    details: null,
  };
  const pub = {
    status: 'loading', run: null, tag: null, index: null, error: null, stats: null,
    expanded: [], visibleGroups: [], visibleNodes: [], selected: null, details: null,
    matches: [], layoutMs: null, layoutsComputed: 0, openMs: null, drawnAt: null, worker: false,
  };
  window.__tbx_graphs = pub;
  const publish = () => { if (typeof api.publish === 'function') api.publish(pub); };

  const view = new GraphView(canvas, {
    click: (ref, e) => onClick(ref, e),
    background: () => select(null),
  });
  const zoom = (f) => {
    const r = canvas.getBoundingClientRect();
    view.zoomAt(r.width / 2, r.height / 2, f);
  };

  function setStatus(kind, text) {
    pub.status = kind;
    status.textContent = text;
    status.className = `tbx-g-status tbx-g-${kind}`;
    publish();
  }

  function fail(err) {
    pub.error = String((err && err.message) || err);
    setStatus('error', `graph not shown: ${pub.error}`);
  }

  // ---- worker (layout off the main thread; in-page fallback when workers are unavailable)
  function startWorker() {
    try {
      const w = new Worker(new URL('./layout_worker.js', import.meta.url));
      w.onmessage = (ev) => onLayout(ev.data);
      w.onerror = (ev) => {
        ev.preventDefault();
        st.worker = null;
        pub.worker = false;
        if (st.model) { sendModel(); relayout(); }
      };
      st.worker = w;
      pub.worker = true;
    } catch (_) {
      st.worker = null;
    }
  }

  function sendModel() {
    const m = st.model;
    const slim = { nodes: { name: m.nodes.name }, groups: m.groups };
    if (st.worker) st.worker.postMessage({ type: 'model', id: st.id, model: slim });
    else st.local = new Layouts(slim);
  }

  function relayout() {
    if (!st.model) return;
    const seq = ++st.seq;
    const expanded = [...st.expanded];
    setStatus('layout', 'laying out…');
    if (st.worker) {
      st.worker.postMessage({ type: 'layout', id: st.id, seq, expanded });
      return;
    }
    setTimeout(() => {
      try {
        const t = performance.now();
        const before = st.local.runs;
        const layouts = st.local.layoutAll(expanded);
        onLayout({ seq, id: st.id, layouts, ms: performance.now() - t, runs: st.local.runs - before });
      } catch (err) {
        onLayout({ seq, id: st.id, error: String(err) });
      }
    }, 0);
  }

  function onLayout(msg) {
    if (msg.seq !== st.seq || msg.id !== st.id) return; // stale
    if (msg.error) { fail(msg.error); return; }
    const first = !st.layouts;
    st.layouts = msg.layouts;
    pub.layoutMs = msg.ms;
    pub.layoutsComputed += msg.runs;
    draw();
    if (first) view.fit();
    if (st.pendingCenter !== undefined) { view.center(st.pendingCenter); st.pendingCenter = undefined; }
    if (pub.openMs === null) { pub.openMs = performance.now() - t0; pub.drawnAt = performance.now(); }
    const s = st.model.stats;
    setStatus('drawn', `${s.nodes} nodes, ${s.edges} edges, ${s.groups - 1} groups`);
  }

  function draw() {
    const m = st.model;
    view.draw(m, st.layouts, st.expanded, { selected: st.selected, matches: st.matches });
    const G = m.groups;
    pub.expanded = [...st.expanded].map((g) => G.name[g]).sort();
    pub.visibleGroups = [];
    pub.visibleNodes = [];
    for (const ref of view.abs.keys()) {
      if (ref >= 0) pub.visibleNodes.push(m.nodes.name[ref]);
      else pub.visibleGroups.push(G.name[-ref - 1]);
    }
    pub.visibleGroups.sort();
    pub.visibleNodes.sort();
  }

  // ---- interaction
  // A collapsed group opens on a click anywhere on it; an open one closes on a click on its
  // header (a click elsewhere on it selects it).
  function onClick(ref, e) {
    if (ref < 0) {
      const g = -ref - 1;
      const onHeader = e && e.target && e.target.closest && e.target.closest('.tbx-head, .tbx-headband');
      if (st.expanded.has(g) && !onHeader) {
        select(ref);
        return;
      }
      if (st.expanded.has(g)) {
        for (const e of [...st.expanded]) if (e === g || ancestors(st.model, -(e + 1)).includes(g)) st.expanded.delete(e);
      } else {
        st.expanded.add(g);
      }
      select(ref, false);
      relayout();
      return;
    }
    select(ref);
  }

  function reveal(ref) {
    for (const g of ancestors(st.model, ref)) st.expanded.add(g);
    st.pendingCenter = ref;
    select(ref, false);
    relayout();
  }

  async function select(ref, redraw = true) {
    st.selected = ref;
    pub.selected = ref === null ? null : ref >= 0 ? st.model.nodes.name[ref] : st.model.groups.name[-ref - 1];
    pub.details = null;
    if (redraw && st.layouts) draw();
    details.replaceChildren();
    if (ref === null) { publish(); return; }
    if (ref < 0) { showGroup(-ref - 1); return; }
    const q = { run: st.run, tag: st.entry.tag, index: st.entry.index, node: ref };
    details.append(h('div', { class: 'tbx-g-muted', text: 'loading…' }));
    try {
      const d = await api.fetchJSON('node', q);
      if (st.selected !== ref) return;
      showNode(d);
    } catch (err) {
      details.replaceChildren(h('div', { class: 'tbx-g-error', text: String(err.message || err) }));
    }
  }

  const link = (name, ref) => (ref >= 0
    ? h('a', { href: '#', 'data-node': name, onclick: (e) => { e.preventDefault(); reveal(ref); } }, name)
    : h('span', { text: name }));

  function row(k, v) {
    return h('tr', {}, h('th', { text: k }), h('td', {}, v));
  }

  function showNode(d) {
    pub.details = d;
    const rows = [row('op', d.op), row('shape', d.shape || '?')];
    if (d.dtype) rows.push(row('dtype', d.dtype));
    if (d.device) rows.push(row('device', d.device));
    const attrs = d.attrs.map(([k, v]) => row(k, v));
    const ins = d.inputs.map((i) => h('li', {}, link(i.name, i.node), i.control ? ' (control)' : i.output ? ` :${i.output}` : ''));
    const outs = d.outputs.map((o) => h('li', {}, link(o.name, o.node)));
    details.replaceChildren(
      h('h3', { text: d.name.slice(d.name.lastIndexOf('/') + 1) }),
      h('div', { class: 'tbx-g-muted tbx-g-full', text: d.name }),
      h('table', {}, ...rows),
      h('h4', { text: `inputs (${ins.length})` }), h('ul', { class: 'tbx-g-ins' }, ...ins),
      h('h4', { text: `outputs (${outs.length})` }), h('ul', { class: 'tbx-g-outs' }, ...outs),
      attrs.length ? h('h4', { text: 'attributes' }) : null,
      attrs.length ? h('table', { class: 'tbx-g-attrs' }, ...attrs) : null);
    publish();
  }

  function showGroup(g) {
    const G = st.model.groups;
    const ops = [];
    for (let i = 0; i < G.ops[g].length; i += 2) ops.push(row(G.ops[g][i], String(G.ops[g][i + 1])));
    pub.details = { name: G.name[g], count: G.count[g], kind: G.kind[g] };
    details.replaceChildren(
      h('h3', { text: G.label[g] }),
      h('div', { class: 'tbx-g-muted tbx-g-full', text: G.name[g] }),
      h('table', {}, row('ops', String(G.count[g])), row('children', String(G.children[g].length))),
      h('h4', { text: 'commonest ops' }), h('table', {}, ...ops));
    publish();
  }

  function runSearch() {
    const q = search.value.trim().toLowerCase();
    st.matches = new Set();
    matchList.replaceChildren();
    pub.matches = [];
    if (!q || !st.model) { if (st.layouts) draw(); publish(); return; }
    const { name, op } = st.model.nodes;
    const found = [];
    for (let i = 0; i < name.length && found.length < MAX_MATCHES; i++) {
      if (name[i].toLowerCase().includes(q) || op[i].toLowerCase().includes(q)) found.push(i);
    }
    for (const i of found) st.matches.add(i);
    pub.matches = found.map((i) => name[i]);
    matchList.append(...found.map((i) => h('button', {
      type: 'button', class: 'tbx-g-match', 'data-node': name[i], title: name[i],
      onclick: () => { reveal(i); matchList.classList.remove('tbx-g-show'); },
    }, h('b', { text: name[i].slice(name[i].lastIndexOf('/') + 1) }), h('span', { text: ` ${op[i]}` }))));
    if (!found.length) matchList.append(h('div', { class: 'tbx-g-muted', text: 'no match' }));
    matchList.classList.add('tbx-g-show');
    if (st.layouts) draw();
    publish();
  }
  search.addEventListener('input', runSearch);
  search.addEventListener('focus', () => { if (search.value) matchList.classList.add('tbx-g-show'); });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && st.matches.size) { reveal([...st.matches][0]); matchList.classList.remove('tbx-g-show'); }
    if (e.key === 'Escape') matchList.classList.remove('tbx-g-show');
  });

  // ---- data
  function fillSelect(sel, items, current) {
    sel.replaceChildren(...items.map(([value, label]) => h('option', { value, text: label })));
    if (current !== null && items.some(([v]) => v === current)) sel.value = current;
  }

  async function loadList() {
    const data = await api.fetchJSON('list', {});
    st.list = data.runs || {};
    const shown = new Set(typeof api.runs === 'function' ? api.runs() : Object.keys(st.list));
    const runs = Object.keys(st.list).filter((r) => shown.has(r) && st.list[r].length);
    if (!runs.length) {
      st.model = null;
      view.view.replaceChildren();
      details.replaceChildren();
      setStatus('empty', 'No graph in the selected runs (add_graph writes one).');
      return;
    }
    fillSelect(runSel, runs.map((r) => [r, r]), st.run);
    if (st.run !== runSel.value) await pickRun(runSel.value);
    else fillGraphs();
  }

  function fillGraphs() {
    const entries = st.list[st.run] || [];
    fillSelect(graphSel, entries.map((e, i) => [String(i), e.label]), graphSel.value);
    graphSel.parentElement.style.display = entries.length > 1 ? '' : 'none';
  }

  async function pickRun(run) {
    st.run = run;
    graphSel.value = '0';
    fillGraphs();
    await loadGraph((st.list[run] || [])[Number(graphSel.value) || 0]);
  }

  async function loadGraph(entry, keep = false) {
    if (!entry) return;
    st.entry = entry;
    Object.assign(pub, { run: st.run, tag: entry.tag, index: entry.index });
    setStatus('loading', 'loading graph…');
    const model = await api.fetchJSON('graph', { run: st.run, tag: entry.tag, index: entry.index });
    if (st.entry !== entry) return;
    const keepNames = keep && st.model ? new Set([...st.expanded].map((g) => st.model.groups.name[g])) : null;
    st.model = model;
    st.id = `${++st.loads}`;
    st.layouts = keep ? st.layouts : null;
    st.expanded = keepNames
      ? new Set(model.groups.name.flatMap((n, g) => (keepNames.has(n) ? [g] : [])))
      : autoExpand(model);
    st.selected = null;
    pub.stats = model.stats;
    details.replaceChildren();
    sendModel();
    relayout();
    if (search.value) runSearch();
  }

  runSel.addEventListener('change', () => pickRun(runSel.value).catch(fail));
  graphSel.addEventListener('change', () => loadGraph(st.list[st.run][Number(graphSel.value)]).catch(fail));

  startWorker();
  loadList().catch(fail);

  return {
    update() {
      // new runs, tags or points: reload the list; the graph only when its own point changed
      const before = st.entry;
      loadList()
        .then(() => {
          if (!before || st.entry !== before) return null;
          const now = (st.list[st.run] || []).find((e) => e.tag === before.tag && e.index === before.index);
          if (!now) return null;
          if (now.step === before.step && now.wall_time === before.wall_time) return null;
          return loadGraph(now, true);
        })
        .catch(fail);
    },
    destroy() {
      if (st.worker) st.worker.terminate();
      view.destroy();
      wrap.remove();
      if (window.__tbx_graphs === pub) delete window.__tbx_graphs;
    },
  };
}
