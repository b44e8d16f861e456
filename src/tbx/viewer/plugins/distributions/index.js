// Distributions dashboard: per (run, tag), the histogram's percentile bands over the x-axis.
const NAMES = ['min', '6.7%', '15.9%', '30.9%', 'median', '69.1%', '84.1%', '93.3%', 'max'];

export default function render(root, api) {
  const { Card, cardDashboard, uPlot, numAxis, valueRange } = api.charts;

  class DistributionCard extends Card {
    params() { return { samples: 500 }; }

    draw() {
      if (this.plot) { this.plot.destroy(); this.plot = null; }
      if (this.empty()) return;
      const pts = this.data.points;
      const { xaxis } = api.settings();
      const x = pts.map((p) => (xaxis === 'step' ? p.step
        : xaxis === 'wall_time' ? p.wall_time : p.wall_time - pts[0].wall_time));
      const cols = NAMES.map((_, j) => pts.map((p) => p.bps[j]));
      const color = api.color(this.run);
      const series = [{ label: xaxis }, ...NAMES.map((n, j) => ({
        label: n, stroke: j === 4 ? color : color + '66', width: j === 4 ? 1.5 : 0.5,
      }))];
      const bands = [[9, 1], [8, 2], [7, 3], [6, 4]].map((s) => ({ series: s, fill: color + '22' }));
      this.body.replaceChildren();
      this.body.style.position = 'relative';
      const badge = api.el('span', { class: 'axis-offset', title: 'add this to the y tick labels' });
      badge.hidden = true;
      // y ticks: distinct, each its value (an offset such as +1e6 shown once when shared)
      const y = numAxis({ badge, onTicks: (t) => { this.ticks = { y: t }; } });
      this.plot = new uPlot({
        width: Math.max(300, this.body.clientWidth || 400), height: 240, series, bands,
        scales: { x: { time: xaxis === 'wall_time' }, y: { range: valueRange } }, legend: { show: false },
        axes: [{}, y],
      }, [x, ...cols], this.body);
      this.body.append(badge);
      this.el.dataset.drawn = String(pts.length);
    }

    destroy() { if (this.plot) this.plot.destroy(); this.plot = null; }
  }

  return cardDashboard(root, api, (run, tag) => new DistributionCard(api, run, tag));
}
