// Graphs dashboard: layered layout of the visible part of a grouped graph (dagre). Runs in a web
// worker (layout_worker.js); pure functions over the model the server sends (hierarchy.py).
//
// Each expanded group is laid out on its own as a flat graph of its children: nodes, collapsed
// groups (a box with the op count) and expanded groups (a box as big as their own layout). Its
// edges are those the server summarised to it; an expanded group with edges from or to outside
// gets two small port nodes, "in" (above its children) and "out" (below), joined to the children
// that receive or send them. Layouts are cached per group and reused until a child's size
// changes, so expanding a group re-lays out that group and its ancestors only.
import { graphlib, layout as dagreLayout } from '@dagrejs/dagre';

export const NODE_H = 24;
export const GROUP_H = 38;
export const PAD = 14;
export const HEAD = 22;
export const PORT = 8;
const CHAR = 6.6;

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

export function labelOf(model, ref) {
  if (ref >= 0) {
    const name = model.nodes.name[ref];
    return name.slice(name.lastIndexOf('/') + 1);
  }
  return model.groups.label[-ref - 1];
}

// Size of a leaf: an op node, or a collapsed group (two lines: label, op count).
export function leafSize(model, ref) {
  const label = labelOf(model, ref);
  if (ref >= 0) return [clamp(label.length * CHAR + 18, 44, 220), NODE_H];
  const count = `${model.groups.count[-ref - 1]} ops`;
  return [clamp(Math.max(label.length, count.length) * CHAR + 26, 70, 260), GROUP_H];
}

export class Layouts {
  constructor(model) {
    this.model = model;
    this.cache = new Map(); // group -> {key, result}
    this.runs = 0; // layouts computed (not reused), for tests and benchmarks
  }

  // Layouts of the root and every expanded group whose ancestors are expanded:
  // {group: {w, h, boxes: {ref: [x, y, w, h]}, edges: [[a, b, n, ctrl, points]], ports}}.
  // Coordinates are relative to the group's content box (its top-left, below the header).
  layoutAll(expanded) {
    const open = new Set(expanded);
    open.add(0);
    const order = [];
    const visit = (g) => {
      for (const ref of this.model.groups.children[g]) {
        if (ref < 0 && open.has(-ref - 1)) visit(-ref - 1);
      }
      order.push(g); // children before parents
    };
    visit(0);
    const out = {};
    for (const g of order) out[g] = this.layoutGroup(g, open, out);
    return out;
  }

  sizeOf(ref, open, done) {
    if (ref < 0 && open.has(-ref - 1)) {
      const l = done[-ref - 1];
      return [Math.max(l.w + 2 * PAD, leafSize(this.model, ref)[0]), l.h + 2 * PAD + HEAD];
    }
    return leafSize(this.model, ref);
  }

  layoutGroup(g, open, done) {
    const G = this.model.groups;
    const children = G.children[g];
    const sizes = children.map((ref) => this.sizeOf(ref, open, done));
    const key = sizes.map((s) => `${s[0]},${s[1]}`).join(';');
    const hit = this.cache.get(g);
    if (hit && hit.key === key) return hit.result;
    const result = this.compute(g, children, sizes);
    this.cache.set(g, { key, result });
    this.runs += 1;
    return result;
  }

  compute(g, children, sizes) {
    const G = this.model.groups;
    const dg = new graphlib.Graph({ multigraph: false });
    const big = children.length > 120;
    dg.setGraph({ rankdir: 'TB', nodesep: big ? 10 : 18, ranksep: big ? 22 : 30, marginx: 0, marginy: 0 });
    dg.setDefaultEdgeLabel(() => ({}));
    children.forEach((ref, i) => dg.setNode(String(ref), { width: sizes[i][0], height: sizes[i][1] }));
    const ins = g === 0 ? [] : G.in[g];
    const outs = g === 0 ? [] : G.out[g];
    if (ins.length) dg.setNode('in', { width: PORT, height: PORT });
    if (outs.length) dg.setNode('out', { width: PORT, height: PORT });
    for (const ref of ins) dg.setEdge('in', String(ref), { weight: 1 });
    for (const ref of outs) dg.setEdge(String(ref), 'out', { weight: 1 });
    const flat = G.edges[g];
    for (let i = 0; i < flat.length; i += 4) {
      if (flat[i] === flat[i + 1]) continue;
      dg.setEdge(String(flat[i]), String(flat[i + 1]), { weight: flat[i + 3] ? 1 : 2 });
    }
    dagreLayout(dg);
    const boxes = {};
    let w = 0;
    let h = 0;
    for (const ref of children) {
      const n = dg.node(String(ref));
      boxes[ref] = [n.x - n.width / 2, n.y - n.height / 2, n.width, n.height];
      w = Math.max(w, n.x + n.width / 2);
      h = Math.max(h, n.y + n.height / 2);
    }
    const ports = {};
    for (const p of ['in', 'out']) {
      if (dg.hasNode(p)) {
        const n = dg.node(p);
        ports[p] = [n.x, n.y];
        w = Math.max(w, n.x + PORT);
        h = Math.max(h, n.y + PORT);
      }
    }
    const pts = (v, u) => (dg.edge(v, u).points || []).map((q) => [q.x, q.y]);
    const edges = [];
    for (let i = 0; i < flat.length; i += 4) {
      if (flat[i] === flat[i + 1]) continue;
      edges.push([flat[i], flat[i + 1], flat[i + 2], flat[i + 3], pts(String(flat[i]), String(flat[i + 1]))]);
    }
    const portEdges = [];
    for (const ref of ins) portEdges.push(['in', ref, pts('in', String(ref))]);
    for (const ref of outs) portEdges.push([ref, 'out', pts(String(ref), 'out')]);
    return { w: Math.max(w, 40), h: Math.max(h, 20), boxes, edges, ports, portEdges };
  }
}
