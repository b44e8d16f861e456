// Talking to the tbx server: JSON routes and the binary series transport.

export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

async function check(res) {
  if (res.ok) return res;
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) msg = body.error;
  } catch (_) { /* not JSON */ }
  throw new ApiError(msg, res.status);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, String(v));
  }
  return q.toString();
}

export async function getJSON(path, params = {}, signal) {
  const res = await fetch(`${path}?${query(params)}`, { signal, credentials: 'same-origin' });
  return (await check(res)).json();
}

export async function getBinary(path, params = {}, signal) {
  const res = await fetch(`${path}?${query(params)}`, { signal, credentials: 'same-origin' });
  return (await check(res)).arrayBuffer();
}

// Decode the binary series transport (layout in tbx/viewer/series.py):
// "TBXS" | u32 version | u32 count | u32 json length | JSON descriptors | float64 columns.
export function decodeSeries(buf) {
  const dv = new DataView(buf);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic !== 'TBXS' || dv.getUint32(4, true) !== 1) throw new ApiError('bad series payload');
  const hlen = dv.getUint32(12, true);
  const descs = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 16, hlen)));
  let off = 16 + hlen;
  return descs.map((d) => {
    const cols = {};
    for (const name of d.columns) {
      cols[name] = new Float64Array(buf, off, d.n);
      off += 8 * d.n;
    }
    return { ...d, cols };
  });
}

export const SERIES_URL = '/api/plugins/scalars/series';

// The series of a request, and (list.info) what the server says it left out: {selected, shown,
// unit, notice, rank, order, limit, groups...} from the X-Tbx-Series header.
export async function getSeries(params, signal) {
  const res = await check(await fetch(`${SERIES_URL}?${query(params)}`, { signal, credentials: 'same-origin' }));
  const list = decodeSeries(await res.arrayBuffer());
  const info = res.headers.get('X-Tbx-Series');
  list.info = info ? JSON.parse(info) : null;
  return list;
}

// Base64 little-endian float64 (live deltas) to a Float64Array.
export function b64f64(s) {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float64Array(bytes.buffer);
}
