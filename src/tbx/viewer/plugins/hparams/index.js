// HParams dashboard: one row per session (run) with its hyperparameters and final metrics;
// click a header to sort, type a regex to filter rows, click a run to see its scalars.
export default function render(root, api) {
  const { el } = api;
  let hp = { hparams: [], metrics: [], sessions: [] };
  let sort = { key: 'run', dir: 1 };
  let filterSrc = '';

  function regex(src) {
    if (!src) return null;
    try { return new RegExp(src, 'i'); } catch (_) { return null; }
  }

  function build() {
    const wrap = el('div', { class: 'hparams' });
    const filter = el('input', { type: 'search', placeholder: 'filter rows (regex)', value: filterSrc, class: 'hp-filter' });
    filter.addEventListener('input', () => { filterSrc = filter.value; build(); root.querySelector('.hp-filter').focus(); });
    const cols = [['run', 'run'], ...hp.hparams.map((h) => [`h:${h}`, h]), ...hp.metrics.map((m) => [`m:${m}`, m])];
    const val = (s, key) => (key === 'run' ? s.run : key.startsWith('h:') ? s.hparams[key.slice(2)] : s.metrics[key.slice(2)]);
    const re = regex(filterSrc);
    let rows = hp.sessions.filter((s) => !re || re.test(cols.map(([k]) => String(val(s, k) ?? '')).join(' ')));
    rows = rows.slice().sort((a, b) => {
      const x = val(a, sort.key); const y = val(b, sort.key);
      if (x == null) return 1;
      if (y == null) return -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sort.dir;
    });
    const table = el('table', { class: 'hp-table' });
    const head = el('tr');
    for (const [k, name] of cols) {
      const th = el('th', { text: name + (sort.key === k ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''), class: k.startsWith('m:') ? 'metric' : '' });
      th.addEventListener('click', () => { sort = { key: k, dir: sort.key === k ? -sort.dir : 1 }; build(); });
      head.append(th);
    }
    table.append(el('thead', {}, head));
    const body = el('tbody');
    for (const s of rows) {
      const tr = el('tr');
      const a = el('a', { href: '#scalars', text: s.run, title: 'show this run\'s charts' });
      a.addEventListener('click', () => api.setRunFilter(`^${s.run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      tr.append(el('td', {}, a));
      for (const [k] of cols.slice(1)) {
        const v = val(s, k);
        tr.append(el('td', { text: v == null ? '' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v) }));
      }
      body.append(tr);
    }
    table.append(body);
    wrap.append(filter, table);
    if (!hp.sessions.length) wrap.append(el('div', { class: 'empty', text: 'No hparams sessions.' }));
    root.replaceChildren(wrap);
  }

  async function load() {
    try {
      hp = await api.fetchJSON('sessions');
    } catch (e) {
      root.replaceChildren(el('div', { class: 'error', text: e.message }));
      return;
    }
    api.publish(hp);
    build();
  }

  build();
  load();
  return {
    update(change) {
      if (change.kind === 'tags' || (change.kind === 'data' && change.series.some((s) => s.plugin === 'hparams'))) load();
    },
    destroy() {},
  };
}
