// Graphs dashboard: the layout web worker. Messages in: {type: 'model', id, model} (the groups
// part of the server's graph model, see hierarchy.py) and {type: 'layout', id, seq, expanded}
// (group indices). Out: {seq, id, layouts, ms, runs} or {seq, id, error}.
import { Layouts } from './layout.js';

let current = null; // {id, layouts}

self.onmessage = (ev) => {
  const msg = ev.data;
  try {
    if (msg.type === 'model') {
      current = { id: msg.id, layouts: new Layouts(msg.model) };
      return;
    }
    if (msg.type === 'layout') {
      if (!current || current.id !== msg.id) throw new Error('layout asked for an unknown graph');
      const t0 = performance.now();
      const before = current.layouts.runs;
      const layouts = current.layouts.layoutAll(msg.expanded);
      self.postMessage({ seq: msg.seq, id: msg.id, layouts, ms: performance.now() - t0, runs: current.layouts.runs - before });
    }
  } catch (err) {
    self.postMessage({ seq: msg.seq, id: msg.id, error: String((err && err.message) || err) });
  }
};
