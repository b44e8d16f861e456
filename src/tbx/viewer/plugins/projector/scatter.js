// WebGL scatter plot of up to millions of points (three.js): 2-D (orthographic, pan and zoom)
// or 3-D (perspective, orbit), one draw call, per-point colour and state, thumbnails from a
// sprite sheet drawn as point sprites, labels on a 2-D overlay, hover picking on the CPU.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

// Point states (attribute `flag`): hidden points are not drawn at all.
export const HIDDEN = -1, NORMAL = 0, MATCH = 1, NEIGHBOR = 2, SELECTED = 3;
// Above PREVIEW_MIN points, a fixed random PREVIEW-point subset (plus the highlighted points) is
// drawn while the camera moves, and every point once it has been still for STILL_MS: with
// software WebGL a frame of a million points costs most of a second.
const PREVIEW_MIN = 250000, PREVIEW = 100000, STILL_MS = 300;

const VERT = `
attribute vec3 pcolor;
attribute float flag;
attribute float pidx;
uniform float uSize, uScale, uPerspective, uThumb, uThumbSize, uPerRow, uCount;
varying vec3 vColor;
varying float vFlag, vThumb;
varying vec2 vCell;
void main() {
  if (flag < -0.5) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }
  vec4 mv = modelViewMatrix * vec4(position, 1.0);
  gl_Position = projectionMatrix * mv;
  if (uPerspective < 0.5) gl_Position.z -= flag * 0.01;  // highlighted points in front (2-D)
  float s = uSize * (flag > 0.5 ? 1.8 : 1.0) * (flag > 2.5 ? 1.4 : 1.0);
  vThumb = (uThumb > 0.5 && pidx < uCount) ? 1.0 : 0.0;
  if (vThumb > 0.5) s = max(s, uThumbSize);
  if (uPerspective > 0.5) s *= uScale / max(-mv.z, 0.05);  // as large as in 2-D at the start distance
  gl_PointSize = clamp(s, 1.0, 96.0);
  vColor = pcolor;
  vFlag = flag;
  float row = floor((pidx + 0.5) / uPerRow);
  vCell = vec2(pidx - row * uPerRow, row);
}`;

const FRAG = `
uniform float uDim;
uniform sampler2D uSprite;
uniform vec2 uCellUV;
varying vec3 vColor;
varying float vFlag, vThumb;
varying vec2 vCell;
void main() {
  vec2 p = gl_PointCoord - 0.5;
  float faded = (uDim > 0.5 && vFlag < 0.5) ? 1.0 : 0.0;
  if (vThumb > 0.5) {
    vec4 t = texture2D(uSprite, (vCell + gl_PointCoord) * uCellUV);
    bool edge = max(abs(p.x), abs(p.y)) > 0.44;
    vec3 c = edge ? vColor : t.rgb;
    gl_FragColor = vec4(c, faded > 0.5 ? 0.25 : 1.0);
    return;
  }
  float r = dot(p, p);
  if (r > 0.25) discard;
  vec3 c = vColor;
  if (vFlag > 2.5 && r > 0.12) c = vec3(0.0);  // selected: a dark ring
  gl_FragColor = vec4(c, faded > 0.5 ? 0.18 : 1.0);
}`;

export class Scatter {
  constructor(container, { onHover, onClick } = {}) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(0xffffff, 1);
    this.canvas = this.renderer.domElement;
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'tbx-p-overlay';
    container.append(this.canvas, this.overlay);
    this.scene = new THREE.Scene();
    this.ortho = new THREE.OrthographicCamera(-1, 1, 1, -1, -10, 10);
    this.persp = new THREE.PerspectiveCamera(50, 1, 0.01, 100);
    this.uniforms = {
      uSize: { value: 4 }, uScale: { value: 3.1 }, uPerspective: { value: 0 }, uDim: { value: 0 },
      uThumb: { value: 0 }, uThumbSize: { value: 28 }, uPerRow: { value: 1 }, uCount: { value: 0 },
      uSprite: { value: null }, uCellUV: { value: new THREE.Vector2(1, 1) },
    };
    this.material = new THREE.ShaderMaterial({
      vertexShader: VERT, fragmentShader: FRAG, uniforms: this.uniforms, transparent: true,
      depthWrite: true,
    });
    this.geometry = new THREE.BufferGeometry();
    this.points = new THREE.Points(this.geometry, this.material);
    this.points.frustumCulled = false;
    this.scene.add(this.points);
    this.n = 0;
    this.is3d = false;
    this.labels = [];  // [{index, text, strong}]
    this.frames = 0;
    this.firstFrame = null;  // performance.now() of the first frame with points
    this.onHover = onHover || (() => {});
    this.onClick = onClick || (() => {});
    this._setupControls();
    this._observer = new ResizeObserver(() => this.resize());
    this._observer.observe(container);
    this._bindPointer();
    this.resize();
  }

  _setupControls() {
    if (this.controls) this.controls.dispose();
    const camera = this.is3d ? this.persp : this.ortho;
    const c = new OrbitControls(camera, this.canvas);
    c.screenSpacePanning = true;
    c.zoomToCursor = true;
    c.enableDamping = false;
    if (!this.is3d) {
      c.enableRotate = false;
      c.mouseButtons = { LEFT: THREE.MOUSE.PAN, MIDDLE: THREE.MOUSE.DOLLY, RIGHT: THREE.MOUSE.PAN };
      c.touches = { ONE: THREE.TOUCH.PAN, TWO: THREE.TOUCH.DOLLY_PAN };
    }
    c.addEventListener('change', () => this.requestRender());
    c.addEventListener('start', () => { this.moving = true; clearTimeout(this._still); });
    c.addEventListener('end', () => {
      clearTimeout(this._still);
      this._still = setTimeout(() => { this.moving = false; this.requestRender(); }, STILL_MS);
    });
    this.controls = c;
  }

  get camera() { return this.is3d ? this.persp : this.ortho; }

  // positions: Float32Array of n * 3 already normalised to about [-1, 1]; NaN = not drawn.
  setPoints(positions, n, is3d) {
    const modeChanged = is3d !== this.is3d;
    this.is3d = is3d;
    if (n !== this.n) {
      this.n = n;
      this.geometry.dispose();
      this.geometry = new THREE.BufferGeometry();
      this.points.geometry = this.geometry;
      const idx = new Float32Array(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      this.geometry.setAttribute('pidx', new THREE.BufferAttribute(idx, 1));
      if (!this.colors || this.colors.length !== n * 3) this.colors = new Float32Array(n * 3).fill(0.3);
      this.geometry.setAttribute('pcolor', new THREE.BufferAttribute(this.colors, 3));
      if (!this.flags || this.flags.length !== n) this.flags = new Float32Array(n);
      this.geometry.setAttribute('flag', new THREE.BufferAttribute(this.flags, 1));
    }
    this.positions = positions;
    this.geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    this.uniforms.uPerspective.value = is3d ? 1 : 0;
    this.uniforms.uSize.value = (n > 200000 ? 2 : n > 20000 ? 3 : n > 2000 ? 4 : 6) * this.renderer.getPixelRatio();
    if (modeChanged || !this._fitted) { this._setupControls(); this.resetView(); this._fitted = true; }
    this.requestRender();
  }

  // rgb: Float32Array n * 3 in [0, 1].
  setColors(rgb) {
    this.colors = rgb;
    if (rgb.length !== this.n * 3) return;  // applied by setPoints
    this.geometry.setAttribute('pcolor', new THREE.BufferAttribute(rgb, 3));
    this.requestRender();
  }

  // flags: Float32Array n of HIDDEN/NORMAL/MATCH/NEIGHBOR/SELECTED; dim: fade NORMAL points.
  setFlags(flags, dim) {
    this.flags = flags;
    this.uniforms.uDim.value = dim ? 1 : 0;
    if (flags.length !== this.n) return;  // applied by setPoints
    this.geometry.setAttribute('flag', new THREE.BufferAttribute(flags, 1));
    this.requestRender();
  }

  // image: a loaded <img> (sprite sheet); cell: [w, h]; perRow, count: thumbnails present.
  setSprite(image, cell, perRow, count) {
    if (this.uniforms.uSprite.value) this.uniforms.uSprite.value.dispose();
    if (!image) { this.uniforms.uSprite.value = null; this.uniforms.uCount.value = 0; return; }
    const tex = new THREE.Texture(image);
    tex.flipY = false;
    tex.magFilter = THREE.NearestFilter;
    tex.minFilter = THREE.LinearFilter;
    tex.generateMipmaps = false;
    tex.needsUpdate = true;
    this.uniforms.uSprite.value = tex;
    this.uniforms.uCellUV.value.set(cell[0] / image.naturalWidth, cell[1] / image.naturalHeight);
    this.uniforms.uPerRow.value = perRow;
    this.uniforms.uCount.value = count;
    this.requestRender();
  }

  setThumbnails(on) {
    this.uniforms.uThumb.value = on && this.uniforms.uSprite.value ? 1 : 0;
    this.requestRender();
  }

  setLabels(labels) { this.labels = labels; this.requestRender(); }

  resetView() {
    if (this.is3d) {
      this.persp.position.set(1.6, 1.2, 2.4);
      this.persp.up.set(0, 1, 0);
      this.controls.target.set(0, 0, 0);
    } else {
      this.ortho.position.set(0, 0, 5);
      this.ortho.zoom = 0.85 * Math.min(1, this.width / this.height);
      this.controls.target.set(0, 0, 0);
    }
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.requestRender();
  }

  resize() {
    const w = Math.max(50, this.container.clientWidth), h = Math.max(50, this.container.clientHeight);
    this.width = w; this.height = h;
    this.renderer.setSize(w, h, true);
    const ratio = this.renderer.getPixelRatio();
    this.overlay.width = w * ratio; this.overlay.height = h * ratio;
    this.overlay.style.width = `${w}px`; this.overlay.style.height = `${h}px`;
    const aspect = w / h;
    Object.assign(this.ortho, { left: -aspect, right: aspect, top: 1, bottom: -1 });
    this.ortho.updateProjectionMatrix();
    this.persp.aspect = aspect;
    this.persp.updateProjectionMatrix();
    this.requestRender();
  }

  requestRender() {
    if (this._pending) return;
    this._pending = requestAnimationFrame(() => { this._pending = 0; this.renderNow(); });
  }

  // Indices drawn while moving: a fixed random subset and every highlighted point.
  _previewIndex() {
    if (this.n < PREVIEW_MIN) return null;
    if (!this._preview || this._preview.n !== this.n || this._preview.flags !== this.flags) {
      if (!this._sample || this._sample.n !== this.n) {
        const pick = new Uint8Array(this.n);
        let left = PREVIEW;
        for (let i = 0; i < this.n && left > 0; i++) {  // selection sampling: exactly PREVIEW
          if (Math.random() * (this.n - i) < left) { pick[i] = 1; left--; }
        }
        this._sample = { n: this.n, pick };
      }
      const idx = [];
      const pick = this._sample.pick, flags = this.flags;
      for (let i = 0; i < this.n; i++) if (pick[i] || flags[i] > 0) idx.push(i);
      this._preview = { n: this.n, flags: this.flags, attr: new THREE.BufferAttribute(Uint32Array.from(idx), 1) };
    }
    return this._preview.attr;
  }

  renderNow() {
    const preview = this.moving ? this._previewIndex() : null;
    if (this.geometry.index !== preview) this.geometry.setIndex(preview);
    this.renderer.render(this.scene, this.camera);
    this.frames += 1;
    if (this.firstFrame === null && this.n > 0 && this.positions) {
      const gl = this.renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));  // wait for the GPU
      this.firstFrame = performance.now();
    }
    this._drawLabels();
  }

  // Rotate (3-D) or pan (2-D) by a small step per frame for `frames` frames, waiting for the GPU
  // each frame; returns frames per second.
  benchmark(frames = 60) {
    const gl = this.renderer.getContext();
    const px = new Uint8Array(4);
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      if (this.is3d) this.points.rotation.y += 0.02; else this.ortho.position.x += 0.001;
      this.renderer.render(this.scene, this.camera);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
    const fps = frames / ((performance.now() - t0) / 1000);
    this.points.rotation.y = 0;
    this.requestRender();
    return fps;
  }

  // Screen position (CSS pixels) of every point, computed into a reused buffer.
  _project() {
    const cam = this.camera;
    cam.updateMatrixWorld();
    this.points.updateMatrixWorld();
    const m = new THREE.Matrix4().multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse)
      .multiply(this.points.matrixWorld).elements;
    return { m, w: this.width, h: this.height };
  }

  screenOf(i, proj = this._project()) {
    const p = this.positions, m = proj.m, o = i * 3;
    const x = p[o], y = p[o + 1], z = p[o + 2];
    const cw = m[3] * x + m[7] * y + m[11] * z + m[15];
    if (!(cw > 0)) return null;
    const cx = (m[0] * x + m[4] * y + m[8] * z + m[12]) / cw;
    const cy = (m[1] * x + m[5] * y + m[9] * z + m[13]) / cw;
    if (!(Math.abs(cx) <= 1.05 && Math.abs(cy) <= 1.05)) return null;
    return [(cx + 1) / 2 * proj.w, (1 - cy) / 2 * proj.h];
  }

  // The drawn point nearest to (px, py) within `radius` CSS pixels, or -1.
  pick(px, py, radius = 8) {
    if (!this.positions || !this.n) return -1;
    const { m, w, h } = this._project();
    const p = this.positions, flags = this.flags;
    let best = -1, bestD = radius * radius;
    const nx = px / w * 2 - 1, ny = 1 - py / h * 2;
    const sx = w / 2, sy = h / 2;
    for (let i = 0, o = 0; i < this.n; i++, o += 3) {
      if (flags[i] < 0) continue;
      const x = p[o], y = p[o + 1], z = p[o + 2];
      const cw = m[3] * x + m[7] * y + m[11] * z + m[15];
      if (!(cw > 0)) continue;
      const dx = ((m[0] * x + m[4] * y + m[8] * z + m[12]) / cw - nx) * sx;
      const dy = ((m[1] * x + m[5] * y + m[9] * z + m[13]) / cw - ny) * sy;
      const d = dx * dx + dy * dy;
      if (d < bestD || (d === bestD && flags[i] > flags[best])) { bestD = d; best = i; }
    }
    return best;
  }

  _bindPointer() {
    let down = null, raf = 0, last = null;
    this.canvas.addEventListener('pointerdown', (e) => { down = [e.offsetX, e.offsetY]; });
    this.canvas.addEventListener('pointerup', (e) => {
      if (down && Math.hypot(e.offsetX - down[0], e.offsetY - down[1]) < 4) {
        this.onClick(this.pick(e.offsetX, e.offsetY), e);
      }
      down = null;
    });
    this.canvas.addEventListener('pointermove', (e) => {
      last = [e.offsetX, e.offsetY];
      if (down || raf) return;
      raf = requestAnimationFrame(() => { raf = 0; if (last) this.onHover(this.pick(last[0], last[1]), last); });
    });
    this.canvas.addEventListener('pointerleave', () => { last = null; this.onHover(-1, null); });
  }

  _drawLabels() {
    const ctx = this.overlay.getContext('2d');
    const ratio = this.renderer.getPixelRatio();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (!this.labels.length || !this.positions) return;
    const proj = this._project();
    ctx.font = '11px sans-serif';
    ctx.textBaseline = 'bottom';
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    for (const { index, text, strong } of this.labels) {
      if (index < 0 || index >= this.n || this.flags[index] < 0) continue;
      const s = this.screenOf(index, proj);
      if (!s) continue;
      ctx.font = strong ? 'bold 12px sans-serif' : '11px sans-serif';
      ctx.strokeText(text, s[0] + 5, s[1] - 3);
      ctx.fillStyle = strong ? '#000' : '#333';
      ctx.fillText(text, s[0] + 5, s[1] - 3);
    }
  }

  destroy() {
    this._observer.disconnect();
    if (this._pending) cancelAnimationFrame(this._pending);
    this.controls.dispose();
    this.geometry.dispose();
    this.material.dispose();
    if (this.uniforms.uSprite.value) this.uniforms.uSprite.value.dispose();
    this.renderer.dispose();
    this.canvas.remove();
    this.overlay.remove();
  }
}
