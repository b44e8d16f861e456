// Audio dashboard: per (run, tag), one step's clips at a time (slider), with their labels.
export default function render(root, api) {
  const { SliderCard, cardDashboard } = api.charts;

  class AudioCard extends SliderCard {
    media(p) {
      const out = [];
      for (let i = 0; i < Math.max(p.count, 1); i++) {
        const src = api.url('blob', { run: this.run, tag: this.tag, index: p.index, item: i });
        out.push(api.el('audio', { controls: '', preload: 'none', src }));
        if (p.labels[i]) out.push(api.el('div', { class: 'audio-label', text: p.labels[i] }));
      }
      return out;
    }
  }

  return cardDashboard(root, api, (run, tag) => new AudioCard(api, run, tag));
}
