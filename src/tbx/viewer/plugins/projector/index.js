// Projector dashboard: an embedding's points, projected on the server (PCA over all points,
// t-SNE, UMAP, custom directions), drawn by WebGL in 2-D or 3-D. Colour and label by a metadata
// column, search, nearest neighbours over the original vectors, isolate and re-project, a step
// slider that keeps the selected point. The page's state is published for tests as
// window.__tbx_projector (and api.publish).
import { Scatter, HIDDEN, NORMAL, MATCH, NEIGHBOR, SELECTED } from './scatter.js';
import { colorize } from './colors.js';
import { CSS } from './style.js';
import { alignSigns, normalise, thumbnailCanvas } from './points.js';
import { buildPanel, showLegend, showNeighbors, showSelection, showProblems } from './panel.js';

const POLL_WAIT = 1;  // seconds each status request waits on the server
const LIST_EVERY = 10000;  // ms between looks for new embeddings
const THUMBS_MAX = 50000;  // more points than this start without thumbnails

export default function render(root, api) {
  const S = {
    refs: {}, run: null, tag: null, steps: [], ref: null, info: null, method: 'pca', is3d: false,
    axes: [0, 1, 2], coords: null, dims: 0, variance: null, colorBy: '', colorMode: 'auto',
    labelBy: '', columns: {}, query: '', queryColumn: '', regex: false, matches: null,
    selected: -1, hovered: -1, neighbors: [], k: 10, metric: 'cosine', subset: null,
    job: null, status: 'loading', error: null, legend: null, thumbs: false, thumbsChosen: false, sprite: null,
    generation: 0,
  };
  const pub = {};
  const publish = () => {
    Object.assign(pub, {
      status: S.status, error: S.error, run: S.run, name: S.ref && S.ref.name, tag: S.tag,
      step: S.ref && S.ref.step, steps: S.steps.map((r) => r.step), n: S.info ? S.info.shape[0] : 0,
      dim: S.info ? S.info.shape[1] : 0, method: S.method, is3d: S.is3d, axes: S.axes.slice(),
      dims: S.dims, coords: S.coords, variance: S.variance, colorBy: S.colorBy, legend: S.legend,
      labelBy: S.labelBy, query: S.query, matches: S.matches ? Array.from(S.matches) : null,
      selected: S.selected, neighbors: S.neighbors, subset: S.subset && S.subset.label,
      problems: S.info ? S.info.problems : [], job: S.job, thumbnails: S.thumbs,
      sprite: S.sprite ? { count: S.sprite.count, width: S.sprite.img.naturalWidth, height: S.sprite.img.naturalHeight } : null,
      bench: (frames) => plot.benchmark(frames),
      // where point i is drawn, in CSS pixels from the plot canvas's top-left corner (or null)
      screenOf: (i) => (plot.positions && plot.flags[i] >= 0 ? plot.screenOf(i) : null),
      select: (i) => select(i),
    });
    if (!('highlighted' in pub)) {
      // the points drawn as search matches, read back from the plot's own per-point state
      Object.defineProperty(pub, 'highlighted', { enumerable: true, get: () => {
        const f = plot.flags, out = [];
        if (f) for (let i = 0; i < f.length; i++) if (f[i] === MATCH) out.push(i);
        return out;
      } });
      Object.defineProperty(pub, 'drawn', { enumerable: true, get: () => {
        const f = plot.flags; let c = 0;
        if (f) for (let i = 0; i < f.length; i++) if (f[i] !== HIDDEN) c++;
        return c;
      } });
    }
    if (!('frames' in pub)) {
      Object.defineProperty(pub, 'frames', { get: () => plot.frames, enumerable: true });
      Object.defineProperty(pub, 'firstFrame', { get: () => plot.firstFrame, enumerable: true });
    }
    api.publish(pub);
    window.__tbx_projector = pub;
  };

  root.replaceChildren();
  root.append(api.el('style', { text: CSS }));
  const plotBox = api.el('div', { class: 'tbx-p-plot' });
  const tip = api.el('div', { class: 'tbx-p-tip' });
  plotBox.append(tip);
  const ui = buildPanel(api, S, {
    onRun: (run) => { S.run = run; pickTag(); },
    onTag: (tag) => { S.tag = tag; pickSteps(); },
    onStep: (i) => loadEmbedding(S.steps[i]),
    onMethod: () => project(),
    onAxes: () => project(),
    onStop: () => cancelJob(),
    onColor: () => recolor(),
    onLabel: () => relabel(),
    onSearch: () => runSearch(),
    onNeighbors: () => fetchNeighbors(),
    onSelect: (i) => select(i),
    onIsolate: (which) => isolate(which),
    onShowAll: () => { S.subset = null; project(); },
    onThumbs: (on) => { S.thumbs = on; S.thumbsChosen = true; plot.setThumbnails(on); publish(); },
    onReset: () => plot.resetView(),
  });
  const main = api.el('div', { class: 'tbx-p-main' }, ui.statusBox, plotBox);
  root.append(api.el('div', { class: 'tbx-p' }, ui.side, main));
  const plot = new Scatter(plotBox, {
    onHover: (i, at) => hover(i, at),
    onClick: (i) => select(i),
  });

  const status = (text, error = false) => {
    ui.status.textContent = text;
    ui.status.className = 'tbx-p-status' + (error ? ' tbx-p-error' : '');
  };
  const fail = (e) => {
    if (e && e.name === 'AbortError') return;
    S.status = 'error'; S.error = String(e && e.message || e);
    status(S.error, true);
    publish();
  };
  const params = (extra = {}) => ({ run: S.run, name: S.ref.name, ...extra });

  // -- choosing an embedding -----------------------------------------------------------------
  async function loadList() {
    const data = await api.fetchJSON('embeddings');
    const selected = new Set(api.runs({ legend: false }));
    const key = JSON.stringify([data, [...selected]]);
    if (key === S.listKey && S.ref) return;  // nothing new: leave the page as it is
    S.listKey = key;
    S.refs = {};
    for (const [run, refs] of Object.entries(data.runs)) if (selected.has(run)) S.refs[run] = refs;
    ui.setRuns(Object.keys(S.refs), data.problems);
    if (!Object.keys(S.refs).length) {
      S.status = 'empty';
      status('No embeddings: write one with writer.add_embedding(mat, metadata, label_img).');
      publish();
      return;
    }
    if (!S.refs[S.run]) S.run = Object.keys(S.refs)[0];
    ui.runSelect.value = S.run;
    pickTag();
  }

  function pickTag() {
    const tags = [...new Set(S.refs[S.run].map((r) => r.tag))];
    ui.setTags(tags);
    if (!tags.includes(S.tag)) S.tag = tags[0];
    ui.tagSelect.value = S.tag;
    pickSteps();
  }

  function pickSteps() {
    const steps = S.refs[S.run].filter((r) => r.tag === S.tag)
      .sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
    const same = S.steps.length === steps.length && S.steps.every((r, i) => r.name === steps[i].name);
    S.steps = steps;
    ui.setSteps(steps);
    if (!same || !S.ref || !steps.some((r) => r.name === S.ref.name)) {
      const i = steps.length - 1;
      ui.stepSlider.value = String(i);
      loadEmbedding(steps[i]);
    }
  }

  async function loadEmbedding(ref) {
    const gen = ++S.generation;
    const prevN = S.info ? S.info.shape[0] : -1;
    S.ref = ref; S.status = 'loading'; S.error = null;
    ui.setStepLabel(ref);
    status(`Loading ${ref.name} of ${ref.run}…`);
    publish();
    try {
      const info = await api.fetchJSON('info', { run: ref.run, name: ref.name });
      if (gen !== S.generation) return;
      S.info = info;
      S.columns = {};
      if (info.shape[0] !== prevN) { S.selected = -1; S.neighbors = []; S.subset = null; S.prevCoords = null; }
      showProblems(ui, info.problems);
      ui.setColumns(info.columns);
      if (!info.columns.some((c) => c.name === S.colorBy)) {
        const cat = info.columns.find((c) => c.kind === 'categorical' && c.distinct > 1);
        S.colorBy = cat ? cat.name : '';
      }
      if (!info.columns.some((c) => c.name === S.labelBy)) S.labelBy = info.columns.length ? info.columns[0].name : '';
      ui.colorSelect.value = S.colorBy; ui.labelSelect.value = S.labelBy;
      loadSprite(ref, info.sprite);
      await Promise.all([project(), recolor(), relabel(), runSearch()]);
      if (S.selected >= 0 && gen === S.generation) await fetchNeighbors();
    } catch (e) { if (gen === S.generation) fail(e); }
  }

  function loadSprite(ref, sprite) {
    S.sprite = null;
    plot.setSprite(null);
    ui.thumbs.disabled = !sprite;
    if (!sprite) return;
    const img = new Image();
    img.onload = () => {
      if (S.ref !== ref) return;
      S.sprite = { img, ...sprite };
      plot.setSprite(img, sprite.single_image_dim, sprite.per_row, sprite.count);
      // thumbnails as points by default, unless there are so many that they would only clutter
      if (!S.thumbsChosen) S.thumbs = sprite.count <= THUMBS_MAX;
      ui.thumbs.checked = S.thumbs;
      plot.setThumbnails(S.thumbs);
      publish();
      if (S.selected >= 0) showSelection(ui, S, columnValue);
    };
    img.onerror = () => showProblems(ui, [...S.info.problems, `sprite of ${ref.name} could not be loaded`]);
    img.src = api.url('sprite', { run: ref.run, name: ref.name });
  }

  // -- projection ---------------------------------------------------------------------------
  async function project() {
    const gen = S.generation;
    await cancelJob(true);
    const q = params({ method: S.method, wait: POLL_WAIT, ...ui.methodParams() });
    if (S.subset) Object.assign(q, S.subset.params);
    if (S.method === 'custom' && !(q.x || q.x_vector) && !(q.y || q.y_vector)) {
      status('Custom: type what the X and Y axes point toward (metadata queries), then Run.');
      return;
    }
    S.status = 'projecting'; S.error = null; publish();
    ui.setRunning(true);
    try {
      let st = await api.fetchJSON('project', q);
      S.job = st; let partial = null;
      while (st.state === 'queued' || st.state === 'running') {
        if (gen !== S.generation || S.job.job !== st.job) return;
        status(`${S.method.toUpperCase()}: ${st.state} ${st.message || ''} ${Math.round(st.progress * 100)}%`);
        ui.setProgress(st.progress);
        if (st.partial && st.partial !== partial) {
          partial = st.partial;
          await showCoords(st, true);
        }
        st = await api.fetchJSON('job', { job: st.job, wait: POLL_WAIT });
        S.job = st; publish();
      }
      if (gen !== S.generation || S.job.job !== st.job) return;
      ui.setProgress(st.state === 'done' ? 1 : 0);
      if (st.state !== 'done') {
        if (st.state === 'cancelled') { status(`${S.method.toUpperCase()} stopped.`); S.status = 'ready'; publish(); }
        else fail(new Error(`${S.method.toUpperCase()} failed: ${st.error}`));
        return;
      }
      await showCoords(st, false);
      if (gen !== S.generation) return;
      S.status = 'ready';
      const secs = st.seconds != null ? ` in ${st.seconds.toFixed(2)} s` : '';
      status(`${S.ref.name}: ${st.points} of ${S.info.shape[0]} points, ${S.info.shape[1]} dimensions; ` +
             `${S.method.toUpperCase()}${st.solver ? ` (${st.solver})` : ''}${secs}.`);
      publish();
    } catch (e) { if (gen === S.generation) fail(e); } finally { ui.setRunning(false); }
  }

  async function cancelJob(quiet = false) {
    const j = S.job;
    if (j && (j.state === 'queued' || j.state === 'running') && (S.method === 'tsne' || S.method === 'umap' || !quiet)) {
      S.job = { ...j, state: 'cancelled' };
      try { await api.fetchJSON('cancel', { job: j.job }); } catch (_) { /* finished meanwhile */ }
    }
  }

  async function showCoords(st, partial) {
    const n = S.info.shape[0];
    let cols = null;
    if (S.method === 'pca') {
      const k = st.dims;
      S.axes = ui.pcaAxes().map((a) => Math.min(a, k - 1));
      cols = (ui.is3d() ? S.axes : S.axes.slice(0, 2)).join(',');
      S.variance = st.variance_ratio;
      ui.setVariance(st.variance_ratio);
    }
    const buf = await api.fetchBinary('coords', { job: st.job, partial: partial ? 1 : undefined, columns: cols ?? undefined });
    const raw = new Float32Array(buf);
    const dims = raw.length / n;
    S.is3d = ui.is3d() && dims >= 3;
    // the same projection of another step: keep its axes pointing the same way
    const key = JSON.stringify([S.method, cols, ui.methodParams()]);
    const prev = S.prevCoords;
    if (!partial && prev && prev.key === key && prev.name !== S.ref.name && prev.dims === dims &&
        S.method === 'pca') alignSigns(raw, prev.coords, dims);
    S.coords = raw; S.dims = dims;
    if (!partial) S.prevCoords = { coords: raw, dims, key, name: S.ref.name };
    plot.setPoints(normalise(raw, n, dims, S.is3d), n, S.is3d);
    updateFlags();
    publish();
  }

  // -- colour, labels, search, selection ----------------------------------------------------
  async function column(name) {
    if (!name) return null;
    if (!S.columns[name]) {
      S.columns[name] = (async () => {
        const p = params({ column: name });
        const [meta, buf] = await Promise.all([api.fetchJSON('column', p), api.fetchBinary('codes', p)]);
        return { ...meta, codes: new Int32Array(buf) };
      })();
    }
    return S.columns[name];
  }

  function columnValue(col, i) {
    const c = col.codes[i];
    return c < 0 ? '' : col.categories[c];
  }

  async function recolor() {
    const gen = S.generation;
    S.colorBy = ui.colorSelect.value; S.colorMode = ui.colorMode.value;
    const col = await column(S.colorBy);
    if (gen !== S.generation) return;
    const n = S.info.shape[0];
    const { rgb, legend } = colorize(n, col, col && col.codes, S.colorMode);
    plot.setColors(rgb);
    S.legend = legend;
    showLegend(ui, legend);
    publish();
  }

  async function relabel() {
    S.labelBy = ui.labelSelect.value;
    S.labelCol = await column(S.labelBy);
    updateLabels();
    if (S.selected >= 0) showSelection(ui, S, columnValue);
    showNeighbors(ui, S, columnValue);
  }

  function labelOf(i) {
    if (S.labelCol) { const v = columnValue(S.labelCol, i); if (v) return v; }
    return `#${i}`;
  }

  function updateLabels() {
    const labels = [];
    if (S.matches) for (const i of S.matches.slice(0, 100)) labels.push({ index: i, text: labelOf(i) });
    for (const nb of S.neighbors) labels.push({ index: nb.index, text: labelOf(nb.index) });
    if (S.selected >= 0) labels.push({ index: S.selected, text: labelOf(S.selected), strong: true });
    if (S.hovered >= 0) labels.push({ index: S.hovered, text: labelOf(S.hovered), strong: true });
    plot.setLabels(labels);
  }

  function updateFlags() {
    if (!S.info || !S.coords) return;
    const n = S.info.shape[0], d = S.dims;
    const flags = new Float32Array(n);
    for (let i = 0; i < n; i++) if (!Number.isFinite(S.coords[i * d])) flags[i] = HIDDEN;
    if (S.matches) for (const i of S.matches) if (flags[i] !== HIDDEN) flags[i] = MATCH;
    for (const nb of S.neighbors) if (flags[nb.index] !== HIDDEN) flags[nb.index] = NEIGHBOR;
    if (S.selected >= 0 && flags[S.selected] !== HIDDEN) flags[S.selected] = SELECTED;
    const dim = (S.matches && S.matches.length > 0) || S.neighbors.length > 0;
    plot.setFlags(flags, dim);
    updateLabels();
  }

  async function runSearch() {
    const gen = S.generation;
    S.query = ui.searchInput.value; S.queryColumn = ui.searchColumn.value; S.regex = ui.regex.checked;
    if (!S.query) { S.matches = null; ui.searchCount.textContent = ''; updateFlags(); publish(); return; }
    try {
      const r = await api.fetchJSON('search', params({ query: S.query, column: S.queryColumn || undefined, regex: S.regex ? 1 : undefined }));
      if (gen !== S.generation || r.query !== ui.searchInput.value) return;
      S.matches = Int32Array.from(r.indices);
      ui.searchCount.textContent = `${r.count} match${r.count === 1 ? '' : 'es'}`;
      ui.searchCount.className = 'tbx-p-muted';
    } catch (e) {
      S.matches = null;
      ui.searchCount.textContent = String(e.message || e);
      ui.searchCount.className = 'tbx-p-status tbx-p-error';
    }
    updateFlags();
    publish();
  }

  async function select(i) {
    S.selected = i;
    S.neighbors = [];
    if (i < 0) { showSelection(ui, S, columnValue); showNeighbors(ui, S, columnValue); updateFlags(); publish(); return; }
    await Promise.all(S.info.columns.map((c) => column(c.name)));
    S.allColumns = await Promise.all(S.info.columns.map((c) => column(c.name)));
    showSelection(ui, S, columnValue);
    await fetchNeighbors();
  }

  async function fetchNeighbors() {
    if (S.selected < 0 || !S.info) return;
    const gen = S.generation;
    S.k = ui.kInput.valueAsNumber || 10; S.metric = ui.metric.value;
    try {
      const r = await api.fetchJSON('neighbors', params({ index: S.selected, k: S.k, metric: S.metric }));
      if (gen !== S.generation || r.index !== S.selected) return;
      S.neighbors = r.neighbors;
    } catch (e) {
      S.neighbors = [];
      ui.neighborList.replaceChildren(api.el('div', { class: 'tbx-p-status tbx-p-error', text: String(e.message || e) }));
    }
    if (!S.allColumns || S.allColumns.length !== S.info.columns.length) {
      S.allColumns = await Promise.all(S.info.columns.map((c) => column(c.name)));
    }
    showSelection(ui, S, columnValue);
    showNeighbors(ui, S, columnValue);
    updateFlags();
    publish();
  }

  function hover(i, at) {
    S.hovered = i;
    if (i < 0 || !at) { tip.style.display = 'none'; updateLabels(); return; }
    tip.replaceChildren(api.el('div', { text: labelOf(i) }));
    const thumb = thumbnail(i, 3);
    if (thumb) tip.append(thumb);
    tip.style.display = 'block';
    tip.style.left = `${Math.min(at[0] + 14, plotBox.clientWidth - 200)}px`;
    tip.style.top = `${Math.max(0, at[1] - 10)}px`;
    updateLabels();
  }

  const thumbnail = (i, zoom) => thumbnailCanvas(S.sprite, i, zoom);
  S.thumbnail = thumbnail;

  function isolate(which) {
    if (which === 'matches' && S.query) {
      S.subset = { label: `matches of “${S.query}”`, params: { subset_query: S.query, subset_column: S.queryColumn || undefined, subset_regex: S.regex ? 1 : undefined } };
    } else if (which === 'neighbors' && S.selected >= 0) {
      const rows = [S.selected, ...S.neighbors.map((nb) => nb.index)].sort((a, b) => a - b);
      S.subset = { label: `point ${S.selected} and ${S.neighbors.length} neighbours`, params: { subset: rows.join(',') } };
    } else return;
    ui.subsetLabel.textContent = `Showing ${S.subset.label}.`;
    project();
  }

  loadList().catch(fail);
  // Embeddings are files beside the event files, so new ones are looked for every few seconds
  // as well as when runs, tags or the run filter change.
  const timer = setInterval(() => { if (S.status === 'ready' || S.status === 'empty') loadList().catch(fail); }, LIST_EVERY);
  return {
    update(change) {
      if (change && ['tags', 'filter', 'legend'].includes(change.kind)) loadList().catch(fail);
      if (change && change.kind === 'resize') plot.resize();
    },
    destroy() { clearInterval(timer); cancelJob(); plot.destroy(); S.generation++; },
  };
}
