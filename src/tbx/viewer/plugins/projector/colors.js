// Point colours from a metadata column: a categorical palette (at most 20 categories; the rest
// "other") or a continuous colour map (viridis) for numeric columns with many values.

// 20 distinct colours (Tableau 10 and its light companions).
export const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7',
  '#9c755f', '#bab0ac', '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
  '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];
export const OTHER = '#c8c8c8';
export const MISSING = '#9a9a9a';
export const DEFAULT = '#3b6fb6';
// Viridis, 9 stops.
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

export function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16 & 255) / 255, (v >> 8 & 255) / 255, (v & 255) / 255];
}

const toHex = (c) => '#' + c.map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('');

export function viridis(t) {
  t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i;
  const a = hexRgb(VIRIDIS[i]), b = hexRgb(VIRIDIS[i + 1]);
  return [0, 1, 2].map((k) => a[k] + (b[k] - a[k]) * f);
}

export function viridisStops() { return VIRIDIS.slice(); }

// Colours of n points. column: {kind, categories, counts, min, max} (or null: one colour);
// codes: Int32Array of category per point (-1 = none); mode: 'auto' | 'categorical' |
// 'continuous'. Returns {rgb: Float32Array n*3, legend: {type, items|min,max,stops}}.
export function colorize(n, column, codes, mode = 'auto') {
  const rgb = new Float32Array(n * 3);
  if (!column) {
    const c = hexRgb(DEFAULT);
    for (let i = 0; i < n; i++) rgb.set(c, i * 3);
    return { rgb, legend: null };
  }
  const cats = column.categories;
  const numeric = column.numeric && cats.length > 0;
  const continuous = mode === 'continuous' ? numeric : mode === 'categorical' ? false : (numeric && cats.length > PALETTE.length);
  const table = new Float32Array((cats.length + 1) * 3);  // last entry: missing
  let legend;
  if (continuous) {
    const values = cats.map(Number);
    const lo = Math.min(...values), hi = Math.max(...values);
    values.forEach((v, j) => table.set(viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5), j * 3));
    legend = { type: 'continuous', min: lo, max: hi, stops: viridisStops(), column: column.name };
  } else {
    // the most frequent categories get palette colours (in category order), the rest "other"
    const order = cats.map((_, j) => j).sort((a, b) => column.counts[b] - column.counts[a] || a - b);
    const coloured = new Set(order.slice(0, cats.length > PALETTE.length ? PALETTE.length - 1 : PALETTE.length));
    let k = 0;
    const items = [];
    let other = 0;
    cats.forEach((label, j) => {
      if (coloured.has(j)) {
        const hex = PALETTE[k++];
        table.set(hexRgb(hex), j * 3);
        items.push({ label, color: hex, count: column.counts[j] });
      } else {
        table.set(hexRgb(OTHER), j * 3);
        other += column.counts[j];
      }
    });
    if (other) items.push({ label: `(${cats.length - coloured.size} others)`, color: OTHER, count: other });
    legend = { type: 'categorical', items, column: column.name };
  }
  table.set(hexRgb(MISSING), cats.length * 3);
  let missing = 0;
  for (let i = 0; i < n; i++) {
    let c = codes[i];
    if (c < 0) { c = cats.length; missing++; }
    rgb[i * 3] = table[c * 3]; rgb[i * 3 + 1] = table[c * 3 + 1]; rgb[i * 3 + 2] = table[c * 3 + 2];
  }
  if (missing && legend.type === 'categorical') legend.items.push({ label: '(no value)', color: MISSING, count: missing });
  return { rgb, legend };
}

export { toHex };
