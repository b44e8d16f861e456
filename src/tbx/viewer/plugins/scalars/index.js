// Scalars dashboard: one chart per scalar tag of the selected runs, grouped by tag prefix. Each
// chart asks the server by the page's selection (a run set), so any number of runs works.
export default function render(root, api) {
  const { CardSet, ScalarChart, groupOf, emptyDashboard } = api.charts;
  const cards = new CardSet();

  function build() {
    const tags = api.tags();
    const seen = new Set(); // tags of the listed runs, in first-seen order
    for (const run of api.runs({ legend: false })) {
      for (const t of Object.keys(tags[run] || {})) if (!t.startsWith('_hparams_/')) seen.add(t);
    }
    const items = [...seen].map((t) => [t, groupOf(t), () => new ScalarChart({ title: t, tags: [t] })]);
    const nodes = cards.sections(items);
    root.replaceChildren(...(nodes.length ? nodes : [emptyDashboard()]));
  }

  build();
  return {
    update(change) {
      if (change.kind === 'filter' || change.kind === 'tags') build();
      cards.react(change);
    },
    destroy() { cards.destroy(); },
  };
}
