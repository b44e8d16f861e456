// Mesh dashboard: one three.js view (renderer, camera, orbit controls, lights) per run, and the
// frame binary decoder (layout in frames.py).
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

export function decodeFrame(buf) {
  const dv = new DataView(buf);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic !== 'TBXM' || dv.getUint32(4, true) !== 1) throw new Error('bad mesh frame payload');
  const hlen = dv.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 12, hlen)));
  let off = 12 + hlen;
  const n = header.vertices;
  const f = header.faces;
  const positions = new Float32Array(buf, off, 3 * n);
  off += 12 * n;
  const faces = new Uint32Array(buf, off, 3 * f);
  off += 12 * f;
  const colors = header.colors ? new Uint8Array(buf, off, 3 * n) : null;
  return { header, positions, faces, colors };
}

// While the camera moves, a cloud of more than PREVIEW points is drawn as a random subset of
// PREVIEW of them (sharing the cloud's GPU buffers); the whole cloud is drawn once the camera
// has been still for SETTLE_MS. A software-rendered 1M-point cloud stays interactive.
export const PREVIEW = 100_000;
const SETTLE_MS = 300;

function subsetIndex(n, m) {
  const idx = new Uint32Array(m);
  let x = 2463534242; // xorshift32, fixed seed: the same subset every time
  for (let i = 0; i < m; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    idx[i] = x % n;
  }
  return idx;
}

const num = (v, d) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const LIGHTS = { AmbientLight: THREE.AmbientLight, DirectionalLight: THREE.DirectionalLight, PointLight: THREE.PointLight, HemisphereLight: THREE.HemisphereLight };
const MATERIAL_KEYS = ['color', 'opacity', 'transparent', 'flatShading', 'wireframe', 'roughness', 'metalness', 'size', 'sizeAttenuation'];

function lightsOf(config) {
  const given = config && Array.isArray(config.lights) ? config.lights : null;
  const out = [];
  for (const l of given || [{ cls: 'AmbientLight', intensity: 1.2 }, { cls: 'DirectionalLight', intensity: 1.6, position: [1, 2, 3] }]) {
    const C = LIGHTS[l && l.cls];
    if (!C) continue;
    const light = new C(l.color !== undefined ? l.color : 0xffffff, num(l.intensity, 1));
    if (Array.isArray(l.position) && light.position) light.position.set(...l.position.slice(0, 3).map((x) => num(x, 0)));
    out.push(light);
  }
  return out;
}

function materialOptions(config) {
  const m = (config && config.material) || {};
  const out = {};
  for (const k of MATERIAL_KEYS) if (m[k] !== undefined && typeof m[k] !== 'object') out[k] = m[k];
  return out;
}

// One run's view. shared: {sync(view), pointScale()}.
export class MeshView {
  constructor(container, shared) {
    this.shared = shared;
    this.container = container;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0xf4f5f7);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
    this.object = null;
    this.lights = [];
    this.error = null;
    this.frames = 0;
    try {
      this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: false });
      this.renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
      container.append(this.renderer.domElement);
      this.controls = new OrbitControls(this.camera, this.renderer.domElement);
      this.controls.addEventListener('change', () => {
        if (this.quiet) return;
        this.moved();
        if (!this.syncing) this.shared.sync(this);
      });
    } catch (err) {
      this.renderer = null;
      this.controls = null;
      this.error = `WebGL is not available in this browser (${(err && err.message) || err}); the data is loaded but cannot be drawn.`;
    }
    this.resize = new ResizeObserver(() => this.fitSize());
    this.resize.observe(container);
  }

  fitSize() {
    if (!this.renderer) return;
    const w = Math.max(50, this.container.clientWidth);
    const h = Math.max(50, this.container.clientHeight);
    this.renderer.setSize(w, h, true);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  // frame: decodeFrame(...); fit: move the camera to show it whole.
  setFrame(frame, fit) {
    const { header, positions, faces, colors } = frame;
    if (this.object) {
      this.scene.remove(this.object);
      this.object.geometry.dispose();
      this.object.material.dispose();
    }
    if (this.preview) {
      this.scene.remove(this.preview);
      this.preview.geometry.dispose();
      this.preview = null;
    }
    for (const l of this.lights) this.scene.remove(l);
    const config = header.config || {};
    const geom = new THREE.BufferGeometry();
    geom.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    if (colors) geom.setAttribute('color', new THREE.BufferAttribute(colors, 3, true));
    const opts = materialOptions(config);
    const bounds = header.bounds || [[-1, -1, -1], [1, 1, 1]];
    const size = Math.hypot(bounds[1][0] - bounds[0][0], bounds[1][1] - bounds[0][1], bounds[1][2] - bounds[0][2]) || 1;
    this.radius = size / 2;
    if (faces.length) {
      geom.setIndex(new THREE.BufferAttribute(faces, 1));
      geom.computeVertexNormals();
      delete opts.size;
      delete opts.sizeAttenuation;
      this.object = new THREE.Mesh(geom, new THREE.MeshStandardMaterial({
        color: colors ? 0xffffff : 0x8fa6c8, roughness: 0.8, metalness: 0, side: THREE.DoubleSide, vertexColors: !!colors, ...opts,
      }));
      this.lights = lightsOf(config);
      for (const l of this.lights) this.scene.add(l);
    } else {
      this.lights = [];
      const n = positions.length / 3; // fewer points, bigger dots
      this.baseSize = num(opts.size, size * Math.min(1 / 40, Math.max(1 / 600, 0.5 / Math.cbrt(n))));
      this.object = new THREE.Points(geom, new THREE.PointsMaterial({
        color: colors ? 0xffffff : 0x3a6fb0, sizeAttenuation: true, vertexColors: !!colors, ...opts,
        size: this.baseSize * this.shared.pointScale(),
      }));
    }
    this.scene.add(this.object);
    this.geometry = geom;
    const n = positions.length / 3;
    if (this.object.isPoints && n > PREVIEW) {
      const pg = new THREE.BufferGeometry();
      pg.setAttribute('position', geom.getAttribute('position'));
      if (colors) pg.setAttribute('color', geom.getAttribute('color'));
      pg.setIndex(new THREE.BufferAttribute(subsetIndex(n, PREVIEW), 1));
      this.preview = new THREE.Points(pg, this.object.material);
      this.preview.visible = false;
      this.scene.add(this.preview);
    }
    const cam = config.camera || {};
    this.camera.fov = num(cam.fov, 45);
    this.camera.near = num(cam.near, size / 1000);
    this.camera.far = num(cam.far, size * 100);
    if (fit) {
      const c = bounds[0].map((lo, i) => (lo + bounds[1][i]) / 2);
      const d = (size / 2) / Math.sin((this.camera.fov * Math.PI) / 360);
      if (this.controls) this.controls.target.set(...c);
      this.camera.position.set(c[0] + d * 0.55, c[1] + d * 0.45, c[2] + d * 0.7);
      this.camera.lookAt(...c);
    }
    this.camera.updateProjectionMatrix();
    this.quiet = true;
    if (this.controls) this.controls.update();
    this.quiet = false;
    this.fitSize();
  }

  setPointScale(k) {
    if (this.object && this.object.isPoints) {
      this.object.material.size = this.baseSize * k;
      this.render();
    }
  }

  copyCamera(from) {
    if (!this.controls || from === this) return;
    this.syncing = true;
    this.camera.position.copy(from.camera.position);
    this.camera.quaternion.copy(from.camera.quaternion);
    this.controls.target.copy(from.controls.target);
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.syncing = false;
    this.moved();
  }

  // The camera moved: draw the preview on the next frame, the whole cloud once the camera has
  // been still for SETTLE_MS (however late the frames come on a slow machine).
  moved() {
    this.lastMove = performance.now();
    this.schedule(true);
    if (!this.settle) this.settle = setTimeout(() => this.settled(), SETTLE_MS);
  }

  settled() {
    const idle = performance.now() - Math.max(this.lastMove, this.lastPreview || 0);
    this.settle = idle < SETTLE_MS ? setTimeout(() => this.settled(), SETTLE_MS - idle) : 0;
    if (!this.settle) this.schedule(false);
  }

  // Draw on the next animation frame, once however many requests come before it (the whole
  // cloud if any of them asked for it).
  schedule(preview = false) {
    if (!this.renderer) return;
    this.wantFull = this.wantFull || !preview;
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      const full = this.wantFull;
      this.wantFull = false;
      this.render(!full);
    });
  }

  // preview: draw the subset (when the cloud has one) instead of every point.
  render(preview = false) {
    if (!this.renderer) return;
    if (this.preview) {
      this.preview.visible = preview;
      this.object.visible = !preview;
    }
    this.renderer.render(this.scene, this.camera);
    if (preview) this.lastPreview = performance.now(); // the camera is still moving
    this.frames += 1;
  }

  // Turn the camera around the target by `angle` radians (benchmarks, demos).
  orbit(angle) {
    if (!this.controls) return;
    const t = this.controls.target;
    const p = this.camera.position.clone().sub(t);
    p.applyAxisAngle(new THREE.Vector3(0, 1, 0), angle);
    this.camera.position.copy(t).add(p);
    this.camera.lookAt(t);
  }

  destroy() {
    if (this.pending) cancelAnimationFrame(this.pending);
    clearTimeout(this.settle);
    if (this.preview) this.preview.geometry.dispose();
    this.resize.disconnect();
    if (this.controls) this.controls.dispose();
    if (this.object) { this.object.geometry.dispose(); this.object.material.dispose(); }
    if (this.renderer) { this.renderer.dispose(); this.renderer.forceContextLoss(); }
  }
}
