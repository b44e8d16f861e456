// Distributions dashboard: per (run, tag), the histogram's percentile bands over the x-axis.
const NAMES = ['min', '6.7%', '15.9%', '30.9%', 'median', '69.1%', '84.1%', '93.3%', 'max'];

export default function render(root, api) {
  const { Card, cardDashboard, uPlot } = api.charts;

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
      this.plot = new uPlot({
        width: Math.max(300, this.body.clientWidth || 400), height: 240, series, bands,
        scales: { x: { time: xaxis === 'wall_time' } }, legend: { show: false },
      }, [x, ...cols], this.body);
      this.el.dataset.drawn = String(pts.length);
    }

    destroy() { if (this.plot) this.plot.destroy(); this.plot = null; }
  }

  return cardDashboard(root, api, (run, tag) => new DistributionCard(api, run, tag));
}
