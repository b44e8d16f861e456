// The Projector's side panel: embedding and step, projection method and its parameters,
// colour and label columns with the legend, search, the selected point and its neighbours.

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

const row = (...children) => h('div', { class: 'tbx-p-row' }, ...children);
const options = (select, items, keep = true) => {
  const old = select.value;
  select.replaceChildren(...items.map(([value, text]) => h('option', { value, text })));
  if (keep && items.some(([v]) => v === old)) select.value = old;
};
const num = (name, value, attrs = {}) => h('input', { type: 'number', name, value: String(value), ...attrs });

export function buildPanel(api, S, on) {
  const ui = {};
  let searchTimer = 0;
  ui.status = h('div', { class: 'tbx-p-status', 'data-role': 'status' });
  ui.bar = h('div');
  ui.progressBox = h('div', { class: 'tbx-p-progress' }, ui.bar);
  ui.statusBox = h('div', {}, ui.status, ui.progressBox);

  // embedding
  ui.runSelect = h('select', { name: 'run', onchange: () => on.onRun(ui.runSelect.value) });
  ui.tagSelect = h('select', { name: 'tag', onchange: () => on.onTag(ui.tagSelect.value) });
  ui.stepSlider = h('input', { type: 'range', name: 'step', min: '0', max: '0', value: '0',
    oninput: () => ui.setStepLabel(S.steps[+ui.stepSlider.value]),
    onchange: () => on.onStep(+ui.stepSlider.value) });
  ui.stepLabel = h('span', { class: 'tbx-p-muted' });
  ui.stepRow = row(h('label', { text: 'Step' }), ui.stepSlider, ui.stepLabel);
  ui.problems = h('div', { class: 'tbx-p-problems', 'data-role': 'problems' });
  ui.problems.style.display = 'none';
  ui.configProblems = h('div', { class: 'tbx-p-problems' });
  ui.configProblems.style.display = 'none';

  // projection
  ui.method = h('select', { name: 'method', onchange: () => { S.method = ui.method.value; showMethod(); on.onMethod(); } });
  options(ui.method, [['pca', 'PCA'], ['tsne', 't-SNE'], ['umap', 'UMAP'], ['custom', 'Custom']]);
  ui.three = h('input', { type: 'checkbox', name: 'three_d', onchange: () => on.onAxes() });
  const axisSelect = (name, value) => h('select', { name, onchange: () => on.onAxes() },
    ...Array.from({ length: 10 }, (_, i) => h('option', { value: String(i), text: `PC${i + 1}`, selected: i === value })));
  ui.axes = [axisSelect('pc_x', 0), axisSelect('pc_y', 1), axisSelect('pc_z', 2)];
  ui.variance = h('div', { class: 'tbx-p-muted' });
  ui.pcaBox = h('div', {}, row(h('label', { text: 'X' }), ui.axes[0], h('label', { text: 'Y' }), ui.axes[1],
    h('label', { text: 'Z' }), ui.axes[2]), ui.variance);
  ui.tsne = { perplexity: num('perplexity', 30, { min: 2, max: 100 }), iterations: num('iterations', 500, { min: 10, max: 10000 }) };
  ui.tsneBox = h('div', {}, row(h('label', { text: 'Perplexity' }), ui.tsne.perplexity,
    h('label', { text: 'Iterations' }), ui.tsne.iterations));
  ui.umap = { neighbors: num('neighbors', 15, { min: 2, max: 200 }), min_dist: num('min_dist', 0.1, { min: 0, max: 1, step: 0.05 }) };
  ui.umapBox = h('div', {}, row(h('label', { text: 'Neighbours' }), ui.umap.neighbors,
    h('label', { text: 'Min. dist.' }), ui.umap.min_dist));
  ui.custom = {};
  const axisQuery = (axis) => {
    ui.custom[axis] = h('input', { type: 'text', name: `custom_${axis}`, placeholder: `${axis.toUpperCase()}: toward…` });
    ui.custom[`${axis}_left`] = h('input', { type: 'text', name: `custom_${axis}_left`, placeholder: 'from… (all)' });
    return row(ui.custom[`${axis}_left`], h('span', { text: '→' }), ui.custom[axis]);
  };
  ui.customColumn = h('select', { name: 'custom_column' });
  ui.customRegex = h('input', { type: 'checkbox', name: 'custom_regex' });
  ui.customBox = h('div', {}, h('div', { class: 'tbx-p-muted', text: 'Axes from metadata: the mean of the points matching “toward” minus those matching “from”.' }),
    axisQuery('x'), axisQuery('y'), axisQuery('z'),
    row(h('label', { text: 'in' }), ui.customColumn, h('label', {}, ui.customRegex, ' regex')));
  ui.runButton = h('button', { text: 'Run', name: 'run_projection', onclick: () => on.onMethod() });
  ui.stopButton = h('button', { text: 'Stop', name: 'stop', onclick: () => on.onStop() });
  const showMethod = () => {
    ui.pcaBox.style.display = S.method === 'pca' ? '' : 'none';
    ui.tsneBox.style.display = S.method === 'tsne' ? '' : 'none';
    ui.umapBox.style.display = S.method === 'umap' ? '' : 'none';
    ui.customBox.style.display = S.method === 'custom' ? '' : 'none';
  };
  showMethod();
  ui.subsetLabel = h('span', { class: 'tbx-p-muted' });
  ui.showAll = h('button', { text: 'Show all', name: 'show_all', onclick: () => { ui.subsetLabel.textContent = ''; on.onShowAll(); } });

  // colour and labels
  ui.colorSelect = h('select', { name: 'color_by', onchange: () => on.onColor() });
  ui.colorMode = h('select', { name: 'color_mode', onchange: () => on.onColor() });
  options(ui.colorMode, [['auto', 'auto'], ['categorical', 'categories'], ['continuous', 'gradient']]);
  ui.labelSelect = h('select', { name: 'label_by', onchange: () => on.onLabel() });
  ui.legend = h('div', { class: 'tbx-p-legend', 'data-role': 'legend' });
  ui.thumbs = h('input', { type: 'checkbox', name: 'thumbnails', onchange: () => on.onThumbs(ui.thumbs.checked) });

  // search
  ui.searchInput = h('input', { type: 'text', name: 'search', placeholder: 'Search metadata…',
    oninput: () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => on.onSearch(), 250); } });
  ui.searchColumn = h('select', { name: 'search_column', onchange: () => on.onSearch() });
  ui.regex = h('input', { type: 'checkbox', name: 'regex', onchange: () => on.onSearch() });
  ui.searchCount = h('span', { class: 'tbx-p-muted', 'data-role': 'search-count' });

  // selection and neighbours
  ui.selection = h('div', { 'data-role': 'selection' }, h('div', { class: 'tbx-p-muted', text: 'Click a point to select it.' }));
  ui.kInput = num('k', 10, { min: 1, max: 1000 });
  ui.kInput.addEventListener('change', () => on.onNeighbors());
  ui.metric = h('select', { name: 'metric', onchange: () => on.onNeighbors() });
  options(ui.metric, [['cosine', 'cosine'], ['euclidean', 'Euclidean']]);
  ui.neighborList = h('div', { class: 'tbx-p-list', 'data-role': 'neighbors' });

  ui.side = h('div', { class: 'tbx-p-side' },
    h('section', {}, h('h4', { text: 'Embedding' }), row(h('label', { text: 'Run' }), ui.runSelect),
      row(h('label', { text: 'Tensor' }), ui.tagSelect), ui.stepRow, ui.configProblems, ui.problems),
    h('section', {}, h('h4', { text: 'Projection' }), row(ui.method, h('label', {}, ui.three, ' 3-D'), ui.runButton, ui.stopButton),
      ui.pcaBox, ui.tsneBox, ui.umapBox, ui.customBox, row(ui.subsetLabel, ui.showAll),
      row(h('button', { text: 'Reset view', name: 'reset_view', onclick: () => on.onReset() }),
        h('label', {}, ui.thumbs, ' thumbnails'))),
    h('section', {}, h('h4', { text: 'Colour and labels' }), row(h('label', { text: 'Colour by' }), ui.colorSelect, ui.colorMode),
      ui.legend, row(h('label', { text: 'Label by' }), ui.labelSelect)),
    h('section', {}, h('h4', { text: 'Search' }), row(ui.searchInput), row(h('label', { text: 'in' }), ui.searchColumn,
      h('label', {}, ui.regex, ' regex')), row(ui.searchCount,
      h('button', { text: 'Isolate matches', name: 'isolate_matches', onclick: () => on.onIsolate('matches') }))),
    h('section', {}, h('h4', { text: 'Selected point' }), ui.selection,
      row(h('label', { text: 'Neighbours' }), ui.kInput, ui.metric,
        h('button', { text: 'Isolate', name: 'isolate_neighbors', onclick: () => on.onIsolate('neighbors') })),
      ui.neighborList));

  ui.setRuns = (runs, problems) => {
    options(ui.runSelect, runs.map((r) => [r, r]));
    const msgs = Object.entries(problems || {}).flatMap(([run, ps]) => ps.map((p) => `${run}: ${p}`));
    ui.configProblems.replaceChildren(...msgs.map((m) => h('div', { text: m })));
    ui.configProblems.style.display = msgs.length ? '' : 'none';
  };
  ui.setTags = (tags) => options(ui.tagSelect, tags.map((t) => [t, t]));
  ui.setSteps = (steps) => {
    ui.stepSlider.max = String(Math.max(0, steps.length - 1));
    ui.stepRow.style.display = steps.length > 1 ? '' : 'none';
  };
  ui.setStepLabel = (ref) => { ui.stepLabel.textContent = ref && ref.step !== null ? `step ${ref.step}` : ''; };
  ui.setColumns = (columns) => {
    const cols = columns.map((c) => [c.name, `${c.name} (${c.distinct})`]);
    options(ui.colorSelect, [['', '(none)'], ...cols]);
    options(ui.labelSelect, [['', '(index)'], ...cols]);
    options(ui.searchColumn, [['', 'all columns'], ...cols]);
    options(ui.customColumn, [['', 'all columns'], ...cols]);
  };
  ui.setRunning = (running) => {
    ui.stopButton.disabled = !running;
    ui.progressBox.style.visibility = running ? 'visible' : 'hidden';
  };
  ui.setProgress = (f) => { ui.bar.style.width = `${Math.round(f * 100)}%`; };
  ui.setVariance = (ratios) => {
    if (!ratios) { ui.variance.textContent = ''; return; }
    const axes = ui.pcaAxes().slice(0, ui.is3d() ? 3 : 2);
    const pct = axes.map((a) => ratios[a] ?? 0);
    ui.variance.textContent = `Variance explained: ${pct.map((p) => (100 * p).toFixed(1) + '%').join(' + ')} = ` +
      `${(100 * pct.reduce((a, b) => a + b, 0)).toFixed(1)}%`;
  };
  ui.pcaAxes = () => ui.axes.map((s) => +s.value);
  ui.is3d = () => ui.three.checked;
  ui.methodParams = () => {
    const dims = ui.is3d() ? 3 : 2;
    if (S.method === 'tsne') return { dims, perplexity: ui.tsne.perplexity.value, iterations: ui.tsne.iterations.value };
    if (S.method === 'umap') return { dims, neighbors: ui.umap.neighbors.value, min_dist: ui.umap.min_dist.value };
    if (S.method === 'custom') {
      const out = { column: ui.customColumn.value || undefined, regex: ui.customRegex.checked ? 1 : undefined };
      for (const [k, input] of Object.entries(ui.custom)) if (input.value) out[k] = input.value;
      return out;
    }
    return {};
  };
  ui.onPick = (i) => on.onSelect(i);
  ui.setRunning(false);
  return ui;
}

export function showProblems(ui, problems) {
  ui.problems.replaceChildren(...problems.map((p) => h('div', { text: p })));
  ui.problems.style.display = problems.length ? '' : 'none';
}

export function showLegend(ui, legend) {
  if (!legend) { ui.legend.replaceChildren(); return; }
  if (legend.type === 'continuous') {
    const bar = h('div', { class: 'tbx-p-gradient' });
    bar.style.background = `linear-gradient(to right, ${legend.stops.join(', ')})`;
    ui.legend.replaceChildren(bar, h('div', { class: 'tbx-p-ends' },
      h('span', { text: String(legend.min) }), h('span', { text: String(legend.max) })));
    return;
  }
  ui.legend.replaceChildren(...legend.items.map((it) => {
    const sw = h('span', { class: 'tbx-p-swatch' });
    sw.style.background = it.color;
    return h('div', { class: 'tbx-p-legend-item', 'data-label': it.label }, sw, h('span', { text: it.label }),
      h('span', { class: 'tbx-p-count', text: String(it.count) }));
  }));
}

export function showSelection(ui, S, value) {
  const i = S.selected;
  if (i < 0) { ui.selection.replaceChildren(h('div', { class: 'tbx-p-muted', text: 'Click a point to select it.' })); return; }
  const grid = h('div', { class: 'tbx-p-meta' }, h('span', { text: 'index' }), h('span', { text: String(i) }));
  for (const col of S.allColumns || []) grid.append(h('span', { text: col.name }), h('span', { text: value(col, i) }));
  ui.selection.replaceChildren(grid);
  const thumb = S.thumbnail(i, 4);
  if (thumb) ui.selection.append(thumb);
}

export function showNeighbors(ui, S, value) {
  if (S.selected < 0) { ui.neighborList.replaceChildren(); return; }
  const label = (i) => (S.labelCol ? value(S.labelCol, i) : '') || `#${i}`;
  ui.neighborList.replaceChildren(...S.neighbors.map((nb) => h('button', { 'data-index': String(nb.index), onclick: () => ui.onPick(nb.index) },
    h('span', { text: label(nb.index) }), h('span', { class: 'tbx-p-count', text: nb.distance.toFixed(4) }))));
}
