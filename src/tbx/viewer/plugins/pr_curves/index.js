// PR curves dashboard: per (run, tag), precision against recall at one step (slider; follows
// the newest step until moved).
export default function render(root, api) {
  const { Card, cardDashboard, uPlot, fmtValue, numAxis } = api.charts;

  class PrCard extends Card {
    constructor(...args) { super(...args); this.follow = true; }

    params() { return { samples: 200 }; }

    draw() {
      if (this.plot) { this.plot.destroy(); this.plot = null; }
      if (this.empty()) return;
      const pts = this.data.points;
      if (this.pos == null || this.follow || this.pos >= pts.length) this.pos = pts.length - 1;
      const label = api.el('span', { class: 'step-label' });
      const slider = api.el('input', { type: 'range', min: '0', max: String(pts.length - 1), value: String(this.pos), class: 'step-slider' });
      const holder = api.el('div');
      const color = api.color(this.run);
      const show = () => {
        const p = pts[this.pos];
        label.textContent = `step ${p.step}`;
        this.el.dataset.step = String(p.step);
        // recall falls as the threshold rises: reverse so x ascends.
        const rec = [...p.recall].reverse().map((v) => v ?? null);
        const prec = [...p.precision].reverse().map((v) => v ?? null);
        const thr = [...p.thresholds].reverse();
        if (this.plot) this.plot.destroy();
        holder.replaceChildren();
        // hover: every column's own value at the hovered threshold, with the digits that tell
        // it from its neighbours ('–' where it is not finite), never a neighbour's value
        const cols = [rec, prec, thr];
        const value = (u, v, si, idx) => (idx == null ? '–'
          : fmtValue(cols[si][idx], [cols[si][idx - 1], cols[si][idx + 1]]));
        this.plot = new uPlot({
          width: Math.max(300, this.body.clientWidth || 400), height: 240,
          scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
          axes: [{ label: 'recall', ...numAxis({ x: true }) }, { label: 'precision', ...numAxis() }],
          cursor: { dataIdx: (u, si, idx) => idx },
          series: [{ label: 'recall', value }, { label: 'precision', stroke: color, width: 1.5, value },
            { label: 'threshold', show: false, value }],
        }, cols, holder);
      };
      slider.addEventListener('input', () => {
        this.pos = Number(slider.value);
        this.follow = this.pos === pts.length - 1;
        show();
      });
      this.body.replaceChildren(api.el('div', { class: 'slider-row' }, slider, label), holder);
      show();
    }

    destroy() { if (this.plot) this.plot.destroy(); this.plot = null; }
  }

  return cardDashboard(root, api, (run, tag) => new PrCard(api, run, tag));
}
