// Images dashboard: per (run, tag), one step's images at a time (slider; follows the newest
// step until moved); a click shows the image full size.
export default function render(root, api) {
  const { SliderCard, cardDashboard, openFull } = api.charts;

  class ImageCard extends SliderCard {
    media(p) {
      const out = [];
      for (let i = 0; i < Math.max(p.count, 1); i++) {
        const src = api.url('blob', { run: this.run, tag: this.tag, index: p.index, item: i });
        const img = api.el('img', { src, alt: `${this.tag} step ${p.step}`, class: 'thumb' });
        img.addEventListener('click', () => openFull(img.src, `${this.run} · ${this.tag} · step ${p.step}`));
        out.push(img);
      }
      return out;
    }
  }

  return cardDashboard(root, api, (run, tag) => new ImageCard(api, run, tag));
}
