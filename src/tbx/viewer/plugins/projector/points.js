// Pure helpers of the Projector page: coordinates made drawable, axes kept pointing the same
// way from step to step, a sprite's thumbnail cut out.

// Centre and scale coordinates (n x dims, row-major) into about [-1, 1] on every axis with one
// scale (shapes keep their proportions); 2-D points get z = 0. NaN rows stay NaN.
export function normalise(raw, n, dims, is3d) {
  const out = new Float32Array(n * 3);
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  const used = is3d ? 3 : 2;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < used; j++) {
      const v = raw[i * dims + j];
      if (v < lo[j]) lo[j] = v;
      if (v > hi[j]) hi[j] = v;
    }
  }
  let span = 0;
  for (let j = 0; j < used; j++) if (hi[j] > lo[j]) span = Math.max(span, hi[j] - lo[j]);
  const scale = span > 0 ? 2 / span : 1;
  const mid = lo.map((l, j) => (j < used && Number.isFinite(l) ? (l + hi[j]) / 2 : 0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) out[i * 3 + j] = j < used ? (raw[i * dims + j] - mid[j]) * scale : 0;
  }
  return out;
}

// The same point should not jump to the mirror side when the step changes: flip each axis of
// raw (n x dims, row-major) whose coordinates correlate negatively with prev's.
export function alignSigns(raw, prev, dims) {
  if (prev.length !== raw.length) return;
  for (let j = 0; j < dims; j++) {
    let dot = 0;
    for (let i = j; i < raw.length; i += dims) if (Number.isFinite(raw[i]) && Number.isFinite(prev[i])) dot += raw[i] * prev[i];
    if (dot < 0) for (let i = j; i < raw.length; i += dims) raw[i] = -raw[i];
  }
}

// A canvas with thumbnail i of a loaded sprite ({img, single_image_dim, per_row, count}),
// scaled `zoom` times; null without a sprite or past its last thumbnail.
export function thumbnailCanvas(sprite, i, zoom) {
  if (!sprite || i >= sprite.count) return null;
  const [w, h] = sprite.single_image_dim;
  const c = document.createElement('canvas');
  c.width = w * zoom; c.height = h * zoom;
  c.className = 'tbx-p-thumb';
  const g = c.getContext('2d');
  g.imageSmoothingEnabled = false;
  g.drawImage(sprite.img, (i % sprite.per_row) * w, Math.floor(i / sprite.per_row) * h, w, h, 0, 0, w * zoom, h * zoom);
  return c;
}
