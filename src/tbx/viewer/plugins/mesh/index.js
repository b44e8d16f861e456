// Mesh dashboard: point clouds and triangle meshes (three.js), one view per selected run side by
// side with linked cameras, a step slider, orbit controls. At most VIEWS runs at a time (each
// view is a WebGL context, and Chromium keeps about 16 per page, dropping the oldest): pinned
// runs first, then the run list's order, with a notice and previous/next to page through. The page's data is published as
// window.__tbx_mesh (and api.publish) for tests: per run the vertex count, faces, and the colour
// and position arrays handed to WebGL.
import { MeshView, decodeFrame } from './scene.js';

const VIEWS = 12;

const CSS = `
.tbx-mesh-bar { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 4px 0 8px; }
.tbx-mesh-bar input[type=range] { vertical-align: middle; }
.tbx-mesh-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 10px; }
.tbx-mesh-card { border: 1px solid #ddd; border-radius: 4px; background: #fff; display: flex; flex-direction: column; }
.tbx-mesh-card h4 { margin: 0; padding: 4px 8px; font-size: 13px; display: flex; gap: 8px; align-items: center; }
.tbx-mesh-swatch { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
.tbx-mesh-canvas { height: 400px; position: relative; touch-action: none; }
.tbx-mesh-canvas canvas { display: block; }
.tbx-mesh-info { font-size: 11px; color: #555; padding: 3px 8px; }
.tbx-mesh-error { color: #b00020; padding: 8px; font-size: 12px; }
.tbx-mesh-empty { color: #666; padding: 20px; }
`;

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

export default function render(root, api) {
  const nameSel = h('select', { class: 'tbx-mesh-name', 'aria-label': 'mesh' });
  const slider = h('input', { type: 'range', class: 'tbx-mesh-step', min: 0, max: 0, value: 0, 'aria-label': 'step' });
  const stepText = h('span', { class: 'tbx-mesh-steptext' });
  const sample = h('input', { type: 'number', class: 'tbx-mesh-sample', min: 0, value: 0, style: 'width:4em' });
  const sampleBox = h('label', { style: 'display:none' }, 'sample ', sample);
  const pointSize = h('input', { type: 'range', min: -3, max: 3, step: 0.25, value: 0, 'aria-label': 'point size' });
  const linked = h('input', { type: 'checkbox', checked: '' });
  const status = h('span', { class: 'tbx-mesh-status' });
  const grid = h('div', { class: 'tbx-mesh-grid' });
  const notice = h('div', { class: 'tbx-mesh-notice' });
  const wrap = h('div', { class: 'tbx-mesh' }, h('style', { text: CSS }),
    h('div', { class: 'tbx-mesh-bar' }, h('label', {}, 'mesh ', nameSel), h('label', {}, 'step ', slider, ' ', stepText),
      sampleBox, h('label', {}, 'point size ', pointSize), h('label', {}, linked, ' link cameras'), status),
    notice, grid);
  root.append(wrap);

  const st = { list: {}, name: null, steps: [], cards: new Map(), loadSeq: 0, fitted: new Set(), offset: 0 };
  const pub = { status: 'loading', name: null, step: null, runs: {}, error: null, drawnAt: null };
  window.__tbx_mesh = pub;
  const publish = () => { if (typeof api.publish === 'function') api.publish(pub); };
  const scale = () => 2 ** Number(pointSize.value);
  const shared = {
    pointScale: scale,
    sync(from) {
      if (!linked.checked) return;
      for (const c of st.cards.values()) if (c.view !== from) c.view.copyCamera(from);
    },
  };
  // Helpers tests and benchmarks call through the page: colour / position of vertex i of a run
  // as handed to WebGL, and the frame rate of `frames` redraws while orbiting every view.
  pub.color = (run, i) => {
    const g = st.cards.get(run) && st.cards.get(run).view.geometry;
    const a = g && g.getAttribute('color');
    return a ? Array.from(a.array.subarray(3 * i, 3 * i + 3)) : null;
  };
  pub.position = (run, i) => {
    const g = st.cards.get(run) && st.cards.get(run).view.geometry;
    return g ? Array.from(g.getAttribute('position').array.subarray(3 * i, 3 * i + 3)) : null;
  };
  // Redraws per second of every view while the camera orbits, each redraw waited for (a pixel
  // is read back); preview: draw what is drawn while the camera moves (see scene.js).
  pub.fps = (frames = 60, preview = false) => new Promise((resolve) => {
    const views = [...st.cards.values()].map((c) => c.view);
    let n = 0;
    const t0 = performance.now();
    const tick = () => {
      for (const v of views) { v.orbit(0.02); v.render(preview); }
      for (const v of views) if (v.renderer) v.renderer.getContext().readPixels(0, 0, 1, 1, 0x1908, 0x1401, new Uint8Array(4));
      n += 1;
      if (n < frames) requestAnimationFrame(tick);
      else { for (const v of views) v.render(); resolve((1000 * n) / (performance.now() - t0)); }
    };
    requestAnimationFrame(tick);
  });

  function setStatus(kind, text) {
    pub.status = kind;
    status.textContent = text;
    publish();
  }

  // The selected runs with this mesh, in the run list's order; then the VIEWS of them shown
  // from st.offset on (pinned first), and the notice saying which.
  function runsWithMesh() {
    if (typeof api.runs !== 'function') return Object.keys(st.list).filter((r) => st.list[r][st.name]);
    return api.runs().filter((r) => st.list[r] && st.list[r][st.name]);
  }

  function shownRuns() {
    const all = runsWithMesh();
    const charts = api.charts || {};
    if (!charts.limitRuns) return all.slice(0, VIEWS);
    const lim = charts.limitRuns(all, VIEWS, st.offset);
    st.offset = lim.offset;
    const text = charts.runsNotice(lim);
    const page = (d) => () => { st.offset = Math.max(0, st.offset + d * VIEWS); loadFrames().catch(fail); };
    const buttons = [];
    if (lim.offset > 0) buttons.push([`previous ${VIEWS}`, 'the runs before these', page(-1)]);
    if (lim.offset + lim.shown.length < lim.total) buttons.push([`next ${Math.min(VIEWS, lim.total - lim.offset - lim.shown.length)}`, 'the runs after these', page(1)]);
    notice.replaceChildren(charts.noticeBox(text, buttons));
    pub.notice = text;
    pub.shown = lim.shown.length;
    pub.total = lim.total;
    return lim.shown;
  }

  function card(run) {
    let c = st.cards.get(run);
    if (c) return c;
    const canvas = h('div', { class: 'tbx-mesh-canvas' });
    const info = h('div', { class: 'tbx-mesh-info' });
    const color = typeof api.color === 'function' ? api.color(run) : '#888';
    const el = h('div', { class: 'tbx-mesh-card', 'data-run': run },
      h('h4', {}, h('span', { class: 'tbx-mesh-swatch', style: `background:${color}` }), h('span', { text: run })), canvas, info);
    const view = new MeshView(canvas, shared);
    if (view.error) canvas.replaceWith(h('div', { class: 'tbx-mesh-error', text: view.error }));
    c = { el, view, info };
    st.cards.set(run, c);
    return c;
  }

  async function loadFrames() {
    const seq = ++st.loadSeq;
    const runs = shownRuns();
    for (const [run, c] of st.cards) {
      if (!runs.includes(run)) { c.view.destroy(); c.el.remove(); st.cards.delete(run); delete pub.runs[run]; }
    }
    grid.replaceChildren(...runs.map((r) => card(r).el));
    if (!runs.length) {
      grid.replaceChildren(h('div', { class: 'tbx-mesh-empty', text: 'No mesh in the selected runs (add_mesh writes them).' }));
      setStatus('empty', '');
      return;
    }
    const want = st.steps[Number(slider.value)];
    pub.name = st.name;
    pub.step = want;
    stepText.textContent = want === undefined ? '' : String(want);
    setStatus('loading', 'loading…');
    const s = Number(sample.value) || 0;
    await Promise.all(runs.map(async (run) => {
      const info = st.list[run][st.name];
      const steps = info.steps.filter((x) => x <= want);
      const step = steps.length ? steps[steps.length - 1] : info.steps[0];
      const t = performance.now();
      const buf = await api.fetchBinary('frame', { run, name: st.name, step, sample: Math.min(s, info.samples - 1) });
      if (seq !== st.loadSeq) return;
      const frame = decodeFrame(buf);
      const c = card(run);
      const key = `${run}\0${st.name}`;
      c.view.setFrame(frame, !st.fitted.has(key));
      st.fitted.add(key);
      const hd = frame.header;
      c.info.textContent = `step ${hd.step} · ${hd.vertices.toLocaleString()} vertices${hd.faces ? ` · ${hd.faces.toLocaleString()} faces` : ''}${hd.colors ? '' : ' · no colours'}${hd.samples > 1 ? ` · sample ${hd.sample} of ${hd.samples}` : ''}`;
      pub.runs[run] = { name: st.name, step: hd.step, vertices: hd.vertices, faces: hd.faces, colors: hd.colors, components: hd.components, webgl: !!c.view.renderer, drawMs: performance.now() - t };
    }));
    if (seq !== st.loadSeq) return;
    if (linked.checked && st.cards.size > 1) shared.sync([...st.cards.values()][0].view);
    if (pub.drawnAt === null) pub.drawnAt = performance.now();
    setStatus('drawn', '');
  }

  const signature = () => JSON.stringify([st.name, st.offset, runsWithMesh().map((r) => [r, st.list[r][st.name]]),
    typeof api.pinned === 'function' ? api.pinned() : []]);

  async function loadList(force = true) {
    const before = signature();
    const data = await api.fetchJSON('list', {});
    st.list = data.runs || {};
    const names = [...new Set(Object.values(st.list).flatMap((m) => Object.keys(m)))].sort();
    nameSel.replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
    if (!names.length) {
      st.name = null;
      grid.replaceChildren(h('div', { class: 'tbx-mesh-empty', text: 'No mesh in this logdir (add_mesh writes them).' }));
      setStatus('empty', '');
      return;
    }
    if (!names.includes(st.name)) st.name = names[0];
    nameSel.value = st.name;
    pickName(false);
    if (force || signature() !== before || !st.cards.size) await loadFrames();
  }

  function pickName(resetStep = true) {
    const infos = Object.values(st.list).map((m) => m[st.name]).filter(Boolean);
    const atEnd = Number(slider.value) >= st.steps.length - 1;
    st.steps = [...new Set(infos.flatMap((i) => i.steps))].sort((a, b) => a - b);
    slider.max = String(Math.max(0, st.steps.length - 1));
    if (resetStep || atEnd) slider.value = slider.max;
    const samples = Math.max(...infos.map((i) => i.samples));
    sampleBox.style.display = samples > 1 ? '' : 'none';
    sample.max = String(samples - 1);
  }

  const fail = (err) => {
    pub.error = String((err && err.message) || err);
    setStatus('error', `mesh not shown: ${pub.error}`);
    status.style.color = '#b00020';
  };
  nameSel.addEventListener('change', () => { st.name = nameSel.value; pickName(); loadFrames().catch(fail); });
  slider.addEventListener('input', () => { loadFrames().catch(fail); });
  sample.addEventListener('change', () => loadFrames().catch(fail));
  pointSize.addEventListener('input', () => { for (const c of st.cards.values()) c.view.setPointScale(scale()); });
  loadList().catch(fail);

  return {
    update() { loadList(false).catch(fail); },
    destroy() {
      for (const c of st.cards.values()) c.view.destroy();
      wrap.remove();
      if (window.__tbx_mesh === pub) delete window.__tbx_mesh;
    },
  };
}
