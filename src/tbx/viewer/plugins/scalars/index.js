// Scalars dashboard: one chart per scalar tag (all runs), grouped by tag prefix.
export default function render(root, api) {
  const { CardSet, ScalarChart, groupOf, emptyDashboard } = api.charts;
  const cards = new CardSet();

  function build() {
    const tags = api.tags();
    const runsOf = new Map(); // tag -> runs holding it, in run order
    for (const run of api.runs({ legend: false })) {
      for (const t of Object.keys(tags[run] || {})) {
        if (t.startsWith('_hparams_/')) continue;
        if (!runsOf.has(t)) runsOf.set(t, []);
        runsOf.get(t).push(run);
      }
    }
    const items = [...runsOf.keys()].map((t) => [t, groupOf(t), () => new ScalarChart({
      title: t, tags: [t],
      runs: () => { const now = api.tags({ filtered: false }); return api.runs({ legend: false }).filter((r) => now[r] && now[r][t]); },
    })]);
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
