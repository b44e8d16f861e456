// Text dashboard: per (run, tag), the sampled steps' text, newest first, as HTML that the
// server rendered from Markdown (raw HTML off) and sanitised (nh3 allow-list).
export default function render(root, api) {
  const { Card, cardDashboard } = api.charts;

  class TextCard extends Card {
    draw() {
      if (this.empty()) return;
      const items = this.data.points.map((p) => {
        const box = api.el('div', { class: 'text-item' });
        box.append(api.el('div', { class: 'text-step', text: `step ${p.step}` }));
        const html = api.el('div', { class: 'markdown' });
        html.innerHTML = p.html; // sanitised on the server (see above)
        box.append(html);
        return box;
      });
      this.body.replaceChildren(...items);
    }
  }

  return cardDashboard(root, api, (run, tag) => new TextCard(api, run, tag));
}
