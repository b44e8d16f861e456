// Custom scalars dashboard: the layouts of add_custom_scalars. Multiline charts draw every
// scalar tag matching one of their regular expressions; margin charts a value between a lower
// and an upper tag.
export default function render(root, api) {
  const { CardSet, ScalarChart, section, emptyDashboard } = api.charts;
  const cards = new CardSet();
  let layout = { categories: [] };

  function build() {
    const allTags = new Set();
    for (const ts of Object.values(api.tags({ filtered: false }))) for (const t of Object.keys(ts)) allTags.add(t);
    const nodes = [];
    const items = [];
    const grids = [];
    layout.categories.forEach((cat, ci) => {
      const [d, grid] = section(cat.title || 'custom', cat.charts.length, !cat.closed);
      nodes.push(d);
      cat.charts.forEach((ch, k) => {
        let tags;
        if (ch.kind === 'multiline') {
          const res = ch.tags.map((p) => { try { return new RegExp(p); } catch (_) { return null; } }).filter(Boolean);
          tags = [...allTags].filter((t) => res.some((re) => re.test(t)));
        } else {
          tags = ch.series.flatMap((s) => [s.value, s.lower, s.upper]);
        }
        items.push([`${ci}\0${k}\0${tags.join('\0')}`, () => new ScalarChart({
          title: ch.title || ch.tags?.join(', ') || 'chart',
          tags: tags.length ? tags : ['\u0000none'],
          label: (run, tag) => `${run} · ${tag}`,
          margin: ch.kind === 'margin' ? ch.series : null,
        })]);
        grids.push(grid);
      });
    });
    cards.sync(items).forEach((c, i) => grids[i].append(c.el));
    root.replaceChildren(...(nodes.length ? nodes : [emptyDashboard()]));
  }

  async function load() {
    try {
      layout = await api.fetchJSON('layout');
    } catch (e) {
      root.replaceChildren(api.el('div', { class: 'error', text: e.message }));
      return;
    }
    build();
  }

  build();
  load();
  return {
    update(change) {
      if (change.kind === 'tags' || (change.kind === 'data' && change.series.some((s) => s.plugin === 'custom_scalars'))) load();
      else if (change.kind === 'filter') build();
      cards.react(change);
    },
    destroy() { cards.destroy(); },
  };
}
