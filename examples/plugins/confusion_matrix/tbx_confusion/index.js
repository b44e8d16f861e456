// The "Confusion matrix" tab: one heatmap card per (run, tag), a slider over its steps
// (following the newest step until moved). Cells carry data-row, data-col and their value.
export default function render(root, api) {
  const { Card, cardDashboard } = api.charts;
  const el = api.el;

  class Heatmap extends Card {
    constructor(run, tag) { super(api, run, tag, { route: 'matrices' }); this.follow = true; }

    draw() {
      const d = this.data;
      if (!d || !d.steps.length) { this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' })); return; }
      const last = d.steps.length - 1;
      if (this.pos == null || this.follow || this.pos > last) this.pos = last;
      const slider = el('input', { type: 'range', min: '0', max: String(last), value: String(this.pos), class: 'step-slider' });
      const label = el('span', { class: 'step-label' });
      const grid = el('div');
      const show = () => {
        const m = d.matrices[this.pos];
        const max = Math.max(1, ...m.flat());
        label.textContent = `step ${d.steps[this.pos]}`;
        this.el.dataset.step = String(d.steps[this.pos]);
        const head = el('tr', {}, el('th', { text: 'true \\ predicted' }), ...d.labels.map((l) => el('th', { text: l })));
        const rows = m.map((row, i) => el('tr', {}, el('th', { text: d.labels[i] ?? String(i) }), ...row.map((v, j) => {
          const td = el('td', { text: String(v), 'data-row': String(i), 'data-col': String(j) });
          td.style.cssText = `background: rgba(31,119,180,${(v / max).toFixed(3)}); color: ${v / max > 0.5 ? '#fff' : '#222'}; padding: 4px 8px; text-align: right`;
          return td;
        })));
        grid.replaceChildren(el('table', { class: 'heatmap' }, head, ...rows));
      };
      slider.addEventListener('input', () => {
        this.pos = Number(slider.value);
        this.follow = this.pos === last;
        show();
      });
      show();
      this.body.replaceChildren(el('div', { class: 'slider-row' }, slider, label), grid);
    }
  }

  return cardDashboard(root, api, (run, tag) => new Heatmap(run, tag));
}
