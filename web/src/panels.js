// Cards of the other dashboards: histograms, distributions, images, audio, text, PR curves.
import uPlot from 'uplot';
import { getJSON, query } from './api.js';
import { state, el, runColor, scheduleDraw } from './state.js';

class Card {
  constructor(run, tag, kind) {
    this.run = run;
    this.tag = tag;
    this.kind = kind;
    this.visible = false;
    this.stale = true;
    this.data = null;
    this.el = el('div', { class: `card ${kind}-card` });
    this.el.dataset.run = run;
    this.el.dataset.tag = tag;
    const head = el('div', { class: 'card-head' });
    const sw = el('span', { class: 'swatch' });
    sw.style.background = runColor(run);
    head.append(sw, el('span', { class: 'card-title', text: tag }), el('span', { class: 'card-run', text: run }));
    this.body = el('div', { class: 'card-body' });
    this.el.append(head, this.body);
    this.el.__chart = this;
  }

  async load() {
    this.stale = false;
    try {
      this.data = await getJSON(`/api/${this.kind}`, { run: this.run, tag: this.tag, ...this.params() });
    } catch (e) {
      this.body.replaceChildren(el('div', { class: 'error', text: e.message }));
      return;
    }
    this.el.dataset.loaded = 'true';
    scheduleDraw(this);
  }

  params() { return {}; }
}

// Histograms ------------------------------------------------------------------------------

function finiteEdges(p) {
  const xs = [];
  p.left.forEach((l, i) => {
    if (l != null) xs.push(l);
    if (p.right[i] != null) xs.push(p.right[i]);
  });
  return xs;
}

export class HistogramCard extends Card {
  constructor(run, tag) { super(run, tag, 'histograms'); }

  params() { return { samples: 60 }; }

  draw() {
    const pts = this.data ? this.data.points : [];
    if (!pts.length) { this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' })); return; }
    const W = Math.max(300, this.body.clientWidth || 400);
    const H = 260;
    const dpr = window.devicePixelRatio || 1;
    const canvas = el('canvas', { width: W * dpr, height: H * dpr });
    canvas.style.width = `${W}px`;
    canvas.style.height = `${H}px`;
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    let xmin = Infinity; let xmax = -Infinity; let ymax = 0;
    for (const p of pts) for (const x of finiteEdges(p)) { if (x < xmin) xmin = x; if (x > xmax) xmax = x; }
    if (!(xmax > xmin)) { xmax = xmin + 1; xmin -= 1; }
    // Re-bin every step onto the same uniform bins (counts split by overlap), so buckets of
    // uneven widths draw as a smooth shape comparable across steps.
    const BINS = 40;
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
    ymax = ymax || 1;
    const pad = { l: 50, r: 60, t: 10, b: 24 };
    const color = runColor(this.run);
    const offset = state.histMode === 'offset';
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
    ctx.fillStyle = '#555';
    for (let i = 0; i <= 4; i++) {
      const x = xmin + ((xmax - xmin) * i) / 4;
      ctx.fillText(Number(x.toPrecision(3)).toString(), sx(x) - 10, H - 6);
    }
    this.el.dataset.drawn = String(n);
    this.body.replaceChildren(canvas);
  }
}

function shade(hex, t) {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c) => Math.round(c * (0.4 + 0.6 * t) + 255 * (1 - (0.4 + 0.6 * t)));
  return `rgb(${mix(n >> 16)},${mix((n >> 8) & 255)},${mix(n & 255)})`;
}

// Distributions ---------------------------------------------------------------------------

export class DistributionCard extends Card {
  constructor(run, tag) { super(run, tag, 'distributions'); }

  params() { return { samples: 500 }; }

  draw() {
    const pts = this.data ? this.data.points : [];
    if (this.plot) { this.plot.destroy(); this.plot = null; }
    if (!pts.length) { this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' })); return; }
    const x = pts.map((p) => (state.xaxis === 'step' ? p.step
      : state.xaxis === 'wall_time' ? p.wall_time : p.wall_time - pts[0].wall_time));
    const cols = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((j) => pts.map((p) => p.bps[j]));
    const color = runColor(this.run);
    const names = ['min', '6.7%', '15.9%', '30.9%', 'median', '69.1%', '84.1%', '93.3%', 'max'];
    const series = [{ label: state.xaxis }, ...names.map((n, j) => ({
      label: n, stroke: j === 4 ? color : color + '66', width: j === 4 ? 1.5 : 0.5,
    }))];
    const bands = [[9, 1], [8, 2], [7, 3], [6, 4]].map((s) => ({ series: s, fill: color + '22' }));
    this.body.replaceChildren();
    this.plot = new uPlot({
      width: Math.max(300, this.body.clientWidth || 400), height: 240, series, bands,
      scales: { x: { time: state.xaxis === 'wall_time' } }, legend: { show: false },
    }, [x, ...cols], this.body);
    this.el.dataset.drawn = String(pts.length);
  }
}

// Images and audio ------------------------------------------------------------------------

class SliderCard extends Card {
  draw() {
    const pts = this.data ? this.data.points : [];
    if (!pts.length) { this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' })); return; }
    if (this.pos == null || this.pos >= pts.length || this.follow) this.pos = pts.length - 1;
    const label = el('span', { class: 'step-label' });
    const slider = el('input', { type: 'range', min: '0', max: String(pts.length - 1), value: String(this.pos), class: 'step-slider' });
    const media = el('div', { class: 'media' });
    const show = () => {
      const p = pts[this.pos];
      label.textContent = `step ${p.step}  (${this.pos + 1}/${pts.length})`;
      this.el.dataset.step = String(p.step);
      media.replaceChildren(...this.media(p));
    };
    slider.addEventListener('input', () => {
      this.pos = Number(slider.value);
      this.follow = this.pos === pts.length - 1;
      show();
    });
    show();
    this.body.replaceChildren(el('div', { class: 'slider-row' }, slider, label), media);
  }

  src(p, item) {
    return `/api/blob?${query({ run: this.run, tag: this.tag, index: p.index, item })}`;
  }
}

export class ImageCard extends SliderCard {
  constructor(run, tag) { super(run, tag, 'images'); this.follow = true; }

  media(p) {
    const out = [];
    for (let i = 0; i < Math.max(p.count, 1); i++) {
      const img = el('img', { src: this.src(p, i), alt: `${this.tag} step ${p.step}`, class: 'thumb' });
      img.addEventListener('click', () => openFull(img.src, `${this.run} · ${this.tag} · step ${p.step}`));
      out.push(img);
    }
    return out;
  }
}

export class AudioCard extends SliderCard {
  constructor(run, tag) { super(run, tag, 'audio'); this.follow = true; }

  media(p) {
    const out = [];
    for (let i = 0; i < Math.max(p.count, 1); i++) {
      out.push(el('audio', { controls: '', preload: 'none', src: this.src(p, i) }));
      if (p.labels[i]) out.push(el('div', { class: 'audio-label', text: p.labels[i] }));
    }
    return out;
  }
}

function openFull(src, title) {
  const dlg = el('div', { class: 'overlay', role: 'dialog' });
  const img = el('img', { src, class: 'full', alt: title });
  dlg.append(el('div', { class: 'overlay-title', text: title }), img);
  dlg.addEventListener('click', () => dlg.remove());
  document.body.append(dlg);
}

// Text ------------------------------------------------------------------------------------

export class TextCard extends Card {
  constructor(run, tag) { super(run, tag, 'text'); }

  draw() {
    const pts = this.data ? this.data.points : [];
    if (!pts.length) { this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' })); return; }
    const items = pts.map((p) => {
      const box = el('div', { class: 'text-item' });
      box.append(el('div', { class: 'text-step', text: `step ${p.step}` }));
      const html = el('div', { class: 'markdown' });
      // p.html is produced by markdown-it (raw HTML off) and sanitised by nh3 on the server.
      html.innerHTML = p.html;
      box.append(html);
      return box;
    });
    this.body.replaceChildren(...items);
  }
}

// PR curves -------------------------------------------------------------------------------

export class PrCard extends Card {
  constructor(run, tag) { super(run, tag, 'pr_curves'); this.follow = true; }

  params() { return { samples: 200 }; }

  draw() {
    const pts = this.data ? this.data.points : [];
    if (this.plot) { this.plot.destroy(); this.plot = null; }
    if (!pts.length) { this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' })); return; }
    if (this.pos == null || this.follow || this.pos >= pts.length) this.pos = pts.length - 1;
    const label = el('span', { class: 'step-label' });
    const slider = el('input', { type: 'range', min: '0', max: String(pts.length - 1), value: String(this.pos), class: 'step-slider' });
    const holder = el('div');
    const color = runColor(this.run);
    const render = () => {
      const p = pts[this.pos];
      label.textContent = `step ${p.step}`;
      this.el.dataset.step = String(p.step);
      // recall falls as the threshold rises: reverse so x ascends.
      const rec = [...p.recall].reverse().map((v) => v ?? null);
      const prec = [...p.precision].reverse().map((v) => v ?? null);
      const thr = [...p.thresholds].reverse();
      if (this.plot) this.plot.destroy();
      holder.replaceChildren();
      this.plot = new uPlot({
        width: Math.max(300, this.body.clientWidth || 400), height: 240,
        scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
        axes: [{ label: 'recall' }, { label: 'precision' }],
        series: [{ label: 'recall' }, { label: 'precision', stroke: color, width: 1.5 },
          { label: 'threshold', show: false }],
      }, [rec, prec, thr], holder);
    };
    slider.addEventListener('input', () => {
      this.pos = Number(slider.value);
      this.follow = this.pos === pts.length - 1;
      render();
    });
    this.body.replaceChildren(el('div', { class: 'slider-row' }, slider, label), holder);
    render();
  }
}
