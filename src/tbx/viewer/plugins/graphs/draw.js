// Graphs dashboard: draws laid-out groups as SVG, with pan (drag) and zoom (wheel, buttons).
// Every drawn node and group is a <g> with data-name (its full name) and data-ref.
import { GROUP_H, HEAD, PAD, PORT, labelOf } from './layout.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const pathOf = (pts, ox, oy) => pts.map((p, i) => `${i ? 'L' : 'M'}${(p[0] + ox).toFixed(1)},${(p[1] + oy).toFixed(1)}`).join('');

export class GraphView {
  // handlers: {click(ref, event), background()}
  constructor(container, handlers) {
    this.handlers = handlers;
    this.svg = s('svg', { class: 'tbx-graph-svg', width: '100%', height: '100%' });
    const defs = s('defs');
    const marker = s('marker', { id: 'tbx-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' });
    marker.append(s('path', { d: 'M0,0L10,5L0,10z', class: 'tbx-arrow' }));
    defs.append(marker);
    this.view = s('g');
    this.svg.append(defs, this.view);
    container.append(this.svg);
    this.t = { x: 20, y: 20, k: 1 };
    this.abs = new Map(); // ref -> [x, y, w, h] absolute, of what was drawn
    this.bounds = [0, 0, 1, 1];
    this.panZoom();
  }

  panZoom() {
    let drag = null;
    this.svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, t: { ...this.t }, moved: false };
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        if (!this.svg.hasPointerCapture(e.pointerId)) this.svg.setPointerCapture(e.pointerId);
        this.t.x = drag.t.x + dx;
        this.t.y = drag.t.y + dy;
        this.apply();
      }
    });
    const end = (e) => {
      if (drag && !drag.moved) this.clickAt(e);
      drag = null;
    };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', () => { drag = null; });
    this.svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = this.svg.getBoundingClientRect();
      this.zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.0015));
    }, { passive: false });
  }

  clickAt(e) {
    const hit = e.target.closest && e.target.closest('[data-ref]');
    if (hit) this.handlers.click(Number(hit.dataset.ref), e);
    else this.handlers.background();
  }

  zoomAt(px, py, f) {
    const k = Math.min(4, Math.max(0.02, this.t.k * f));
    this.t.x = px - ((px - this.t.x) * k) / this.t.k;
    this.t.y = py - ((py - this.t.y) * k) / this.t.k;
    this.t.k = k;
    this.apply();
  }

  apply() {
    this.view.setAttribute('transform', `translate(${this.t.x.toFixed(1)},${this.t.y.toFixed(1)}) scale(${this.t.k.toFixed(4)})`);
  }

  fit() {
    const r = this.svg.getBoundingClientRect();
    const [x0, y0, x1, y1] = this.bounds;
    const w = Math.max(1, x1 - x0);
    const h = Math.max(1, y1 - y0);
    const k = Math.min(1.5, Math.max(0.02, Math.min((r.width - 40) / w, (r.height - 40) / h)));
    this.t = { k, x: (r.width - w * k) / 2 - x0 * k, y: Math.max(20, (r.height - h * k) / 2) - y0 * k };
    this.apply();
  }

  center(ref) {
    const b = this.abs.get(ref);
    if (!b) return;
    const r = this.svg.getBoundingClientRect();
    const k = Math.max(this.t.k, 0.6);
    this.t = { k, x: r.width / 2 - (b[0] + b[2] / 2) * k, y: r.height / 2 - (b[1] + b[3] / 2) * k };
    this.apply();
  }

  // model: the server's graph model; layouts: {group: layout} (layout.js); expanded: Set of
  // groups; mark: {selected: ref|null, matches: Set of refs}.
  draw(model, layouts, expanded, mark) {
    this.abs.clear();
    const framesLayer = s('g', { class: 'tbx-frames' });
    const edgesLayer = s('g', { class: 'tbx-edges' });
    const nodesLayer = s('g', { class: 'tbx-nodes' });
    const G = model.groups;
    // ox, oy: the group's content origin; top, bottom: its frame's edges (ports sit on them)
    const walk = (g, ox, oy, top, bottom) => {
      const l = layouts[g];
      for (const [a, b, n, ctrl, pts] of l.edges) {
        const p = s('path', { d: pathOf(pts, ox, oy), class: ctrl ? 'tbx-edge tbx-ctrl' : 'tbx-edge', 'stroke-width': Math.min(6, 1 + Math.log2(n)).toFixed(2), 'marker-end': 'url(#tbx-arrow)' });
        p.append(s('title', {}, `${labelOf(model, a)} → ${labelOf(model, b)}${n > 1 ? ` (${n} edges)` : ''}`));
        edgesLayer.append(p);
      }
      const edgeY = { in: top - oy, out: bottom - oy };
      for (const [a, b, pts] of l.portEdges) {
        const p = a === 'in' ? [[pts[0][0], edgeY.in], ...pts] : [...pts, [pts[pts.length - 1][0], edgeY.out]];
        edgesLayer.append(s('path', { d: pathOf(p, ox, oy), class: 'tbx-edge tbx-port-edge' }));
      }
      for (const [k, [px]] of Object.entries(l.ports)) nodesLayer.append(s('circle', { cx: px + ox, cy: edgeY[k] + oy, r: PORT / 2, class: 'tbx-port' }));
      for (const ref of G.children[g]) {
        const [x, y, w, h] = l.boxes[ref];
        const ax = x + ox;
        const ay = y + oy;
        this.abs.set(ref, [ax, ay, w, h]);
        const name = ref >= 0 ? model.nodes.name[ref] : G.name[-ref - 1];
        const cls = [];
        if (mark.selected === ref) cls.push('tbx-selected');
        if (mark.matches.has(ref)) cls.push('tbx-match');
        const el = s('g', { 'data-ref': ref, 'data-name': name });
        const title = s('title', {}, name);
        if (ref >= 0) {
          el.setAttribute('class', ['tbx-node', ...cls].join(' '));
          const io = model.nodes.op[ref] === 'IO Node';
          el.append(s('rect', { x: ax, y: ay, width: w, height: h, rx: io ? 4 : h / 2, class: io ? 'tbx-io' : '' }));
          el.append(s('text', { x: ax + w / 2, y: ay + h / 2 + 4, 'text-anchor': 'middle' }, labelOf(model, ref)));
          el.append(title);
          nodesLayer.append(el);
          continue;
        }
        const j = -ref - 1;
        const open = expanded.has(j);
        el.setAttribute('class', ['tbx-group', open ? 'tbx-open' : 'tbx-closed', `tbx-${G.kind[j]}`, ...cls].join(' '));
        el.setAttribute('data-count', G.count[j]);
        if (open) {
          const frame = s('g', { 'data-ref': ref, 'data-name': name, class: el.getAttribute('class') });
          frame.append(s('rect', { x: ax, y: ay, width: w, height: h, rx: 6 }));
          frame.append(s('rect', { x: ax, y: ay, width: w, height: HEAD, class: 'tbx-headband' }));
          frame.append(s('text', { x: ax + 8, y: ay + 15, class: 'tbx-head' }, `− ${G.label[j]}`));
          frame.append(title);
          framesLayer.append(frame);
          const inner = layouts[j];
          walk(j, ax + PAD + (w - 2 * PAD - inner.w) / 2, ay + PAD + HEAD, ay, ay + h);
        } else {
          el.append(s('rect', { x: ax, y: ay, width: w, height: h, rx: 6 }));
          el.append(s('text', { x: ax + w / 2, y: ay + 16, 'text-anchor': 'middle', class: 'tbx-head' }, `+ ${G.label[j]}`));
          el.append(s('text', { x: ax + w / 2, y: ay + GROUP_H - 8, 'text-anchor': 'middle', class: 'tbx-count' }, `${G.count[j]} op${G.count[j] === 1 ? '' : 's'}`));
          el.append(title);
          nodesLayer.append(el);
        }
      }
    };
    walk(0, 0, 0, 0, 0);
    this.view.replaceChildren(framesLayer, edgesLayer, nodesLayer);
    this.bounds = [0, 0, layouts[0].w, layouts[0].h];
    this.apply();
  }

  destroy() {
    this.svg.remove();
  }
}
