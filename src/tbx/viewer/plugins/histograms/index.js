// Histograms dashboard: per (run, tag), every sampled step's buckets re-binned onto shared bins,
// drawn offset (one ridge per step) or overlaid (settings().histMode).
function finiteEdges(p) {
  const xs = [];
  p.left.forEach((l, i) => {
    if (l != null) xs.push(l);
    if (p.right[i] != null) xs.push(p.right[i]);
  });
  return xs;
}

function shade(hex, t) {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c) => Math.round(c * (0.4 + 0.6 * t) + 255 * (1 - (0.4 + 0.6 * t)));
  return `rgb(${mix(n >> 16)},${mix((n >> 8) & 255)},${mix(n & 255)})`;
}

// Re-bin every step onto the same uniform bins (counts split by overlap), so buckets of uneven
// widths draw as a smooth shape comparable across steps.
function rebin(pts, BINS) {
  let xmin = Infinity; let xmax = -Infinity; let ymax = 0;
  for (const p of pts) for (const x of finiteEdges(p)) { if (x < xmin) xmin = x; if (x > xmax) xmax = x; }
  if (!(xmax > xmin)) { // one value (a constant): centred, drawn as one spike
    const d = Math.abs(xmin) * 0.05 || 1;
    xmax = xmin + d;
    xmin -= d;
  }
  const bw = (xmax - xmin) / BINS;
  const shapes = pts.map((p) => {
    const ys = new Float64Array(BINS);
    p.left.forEach((l, i) => {
      const r = p.right[i]; const c = p.count[i] || 0;
      if (l == null || r == null || !c) return;
      if (r <= l) { ys[Math.min(BINS - 1, Math.max(0, Math.floor((l - xmin) / bw)))] += c; return; }
      const a = Math.max(0, Math.floor((l - xmin) / bw));
      const b = Math.min(BINS - 1, Math.floor((r - xmin) / bw));
      for (let k = a; k <= b; k++) {
        const lo = Math.max(l, xmin + k * bw); const hi = Math.min(r, xmin + (k + 1) * bw);
        if (hi > lo) ys[k] += (c * (hi - lo)) / (r - l);
      }
    });
    for (const y of ys) if (y > ymax) ymax = y;
    const xs = Array.from({ length: BINS }, (_, k) => xmin + (k + 0.5) * bw);
    return { step: p.step, xs, ys: Array.from(ys) };
  });
  return { shapes, xmin, xmax, ymax: ymax || 1 };
}

export default function render(root, api) {
  const { Card, cardDashboard, niceTicks, axisLabels } = api.charts;

  class HistogramCard extends Card {
    params() { return { samples: 60 }; }

    draw() {
      if (this.empty()) return;
      const W = Math.max(300, this.body.clientWidth || 400);
      const H = 260;
      const dpr = window.devicePixelRatio || 1;
      const canvas = api.el('canvas', { width: W * dpr, height: H * dpr });
      canvas.style.width = `${W}px`;
      canvas.style.height = `${H}px`;
      const ctx = canvas.getContext('2d');
      ctx.scale(dpr, dpr);
      const { shapes, xmin, xmax, ymax } = rebin(this.data.points, 40);
      const pad = { l: 50, r: 60, t: 10, b: 24 };
      const color = api.color(this.run);
      const offset = api.settings().histMode === 'offset';
      const n = shapes.length;
      const band = offset ? (H - pad.t - pad.b) * 0.35 : H - pad.t - pad.b;
      const sx = (x) => pad.l + ((x - xmin) / (xmax - xmin)) * (W - pad.l - pad.r);
      ctx.font = '11px sans-serif';
      ctx.fillStyle = '#555';
      shapes.forEach((s, k) => {
        const base = offset
          ? pad.t + band + (n > 1 ? (k / (n - 1)) * (H - pad.t - pad.b - band) : 0)
          : H - pad.b;
        const sy = (y) => base - (y / ymax) * band;
        const t = n > 1 ? k / (n - 1) : 1;
        ctx.beginPath();
        ctx.moveTo(sx(s.xs[0] ?? xmin), base);
        s.xs.forEach((x, i) => ctx.lineTo(sx(x), sy(s.ys[i])));
        ctx.lineTo(sx(s.xs[s.xs.length - 1] ?? xmax), base);
        ctx.globalAlpha = offset ? 1 : 0.25 + 0.75 * t;
        if (offset) {
          ctx.fillStyle = '#fff';
          ctx.fill();
          ctx.fillStyle = color + '33';
          ctx.fill();
        }
        ctx.strokeStyle = offset ? color : shade(color, t);
        ctx.lineWidth = 1;
        ctx.stroke();
        ctx.globalAlpha = 1;
        if (offset && (k === 0 || k === n - 1 || k % Math.ceil(n / 6) === 0)) {
          ctx.fillStyle = '#555';
          ctx.fillText(String(s.step), W - pad.r + 6, base);
        }
      });
      // x ticks: round values, labels distinct and each its value (a shared offset shown once)
      ctx.fillStyle = '#555';
      const { splits, incr } = niceTicks(xmin, xmax, 5);
      const t = axisLabels(splits, incr, { maxChars: 8 });
      this.ticks = { x: { values: splits, labels: t.labels, offset: t.offset, offsetText: t.offsetText } };
      ctx.textAlign = 'center';
      splits.forEach((x, i) => ctx.fillText(t.labels[i], sx(x), H - 6));
      ctx.textAlign = 'start';
      if (t.offsetText) ctx.fillText(`x: ${t.offsetText}`, 2, 11);
      this.el.dataset.drawn = String(n);
      this.body.replaceChildren(canvas);
    }
  }

  return cardDashboard(root, api, (run, tag) => new HistogramCard(api, run, tag));
}
