// web/playground.ts — the browser side of the GAN playground (web/index.html). Gets a WebGPU device from
// navigator.gpu, loads a GAN checkpoint (fetched from ?checkpoint=URL, default checkpoint.safetensors beside the
// page, else the first of models.json; models.json's list, e.g. the shipped GANs, fills a picker to switch; or a
// file the user opens), and wires the page: the 10×10 grid for a seed, one sample's noise moved along its
// principal directions, interpolation between two noise vectors, and the sample's path through both networks.
// All model computation is in ./explore.ts (shared with Node tests); this file only draws and handles events.
// GPU work is serialised through `gpuTask` (one computation at a time, the newest request wins when the user
// drags a slider faster than the GPU answers).
//
// Test hooks: document.body.dataset.state is loading | ready | error | no-webgpu; window.__playground holds the
// last grid's float pixels, the current sample's image, the seed and any error text.
import { createGpu, describeGpu, NoAdapterError } from '../kernels/device.js';
import { GpuBackend } from '../kernels/backend.js';
import type { Gpu } from '../kernels/gpu.js';
import { CLASS_NAMES } from '../data/dataset.js';
import { loadGanModels, GanModels } from '../gan/load.js';
import * as X from './explore.js';

interface Hooks {
  state: string;
  error: string | null;
  seed: number;
  grid: Float32Array | null;
  sample: Float32Array | null;
  directions: number[] | null;
  frames: number;
  adapter: string;
}
const hooks: Hooks = { state: 'loading', error: null, seed: 0, grid: null, sample: null, directions: null, frames: 0, adapter: '' };
(window as unknown as { __playground: Hooks }).__playground = hooks;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const PER_CLASS = 10;
const SLIDERS = 5;

function setState(state: string, status?: string, error = false): void {
  hooks.state = state;
  document.body.dataset.state = state;
  if (status !== undefined) {
    const el = $('status');
    el.textContent = status;
    el.classList.toggle('error', error);
  }
}

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  hooks.error = msg;
  console.error(msg);
  setState('error', msg, true);
}

// --- drawing -------------------------------------------------------------------------------------------------
/** the byte a pixel value in [−1, 1] becomes (as `npm run sample` writes PNG and IDX files) */
export const toByte = (v: number) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);

/** draw `n` 28×28 images in [−1, 1] as a rows×cols mosaic onto a canvas of exactly that size */
function drawImages(canvas: HTMLCanvasElement, imgs: Float32Array, rows: number, cols: number): void {
  canvas.width = cols * 28;
  canvas.height = rows * 28;
  const ctx = canvas.getContext('2d')!;
  const im = ctx.createImageData(cols * 28, rows * 28);
  const n = imgs.length / 784;
  for (let k = 0; k < n; k++) {
    const r = Math.floor(k / cols), c = k % cols;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const b = toByte(imgs[k * 784 + y * 28 + x]);
        const o = ((r * 28 + y) * cols * 28 + c * 28 + x) * 4;
        im.data[o] = im.data[o + 1] = im.data[o + 2] = b;
        im.data[o + 3] = 255;
      }
  }
  ctx.putImageData(im, 0, 0);
}

/** one feature map, min–max scaled to grey levels (a constant map draws mid-grey) */
function drawMap(data: Float32Array, offset: number, h: number, w: number, lo: number, hi: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  const im = ctx.createImageData(w, h);
  const span = hi - lo;
  for (let i = 0; i < h * w; i++) {
    const v = span > 0 ? (data[offset + i] - lo) / span : 0.5;
    const b = Math.round(v * 255);
    im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = b;
    im.data[4 * i + 3] = 255;
  }
  ctx.putImageData(im, 0, 0);
  return c;
}

const LAYER_ABOUT: Record<string, string> = {
  'G.label_map': 'the label, embedded and mapped to one 7×7 map',
  'G.noise_maps': 'the noise through a dense layer + ReLU',
  'G.up1': '5×5 stride-2 transposed convolution of noise and label maps',
  'G.up1_bn_relu': 'after batchnorm (running statistics) and ReLU',
  'G.image': '5×5 stride-2 transposed convolution + tanh: the image',
  'D.label_map': 'the label as the discriminator\'s second input channel',
  'D.conv1': 'D: 3×3 stride-2 convolution + LeakyReLU',
  'D.conv2': 'D: 3×3 convolution, batchnorm, LeakyReLU',
  'D.conv3': 'D: 3×3 stride-2 convolution, batchnorm, LeakyReLU',
  'D.conv4': 'D: 3×3 convolution, batchnorm, LeakyReLU',
};
const MAX_MAPS = 48;

function drawPath(p: X.SamplePath, cfg: GanModels['config'], label: number): void {
  const v = p.verdict;
  $('verdict').innerHTML = `For this <b>${CLASS_NAMES[label]}</b>, the discriminator says <b>${v.real >= 0.5 ? 'real' : 'fake'}</b>: ` +
    `P(real) = ${v.real.toFixed(3)} (logit ${v.logit.toFixed(2)}).`;
  const probs = $('class-probs');
  probs.innerHTML = '';
  if (v.classProbs) {
    const box = document.createElement('div');
    box.className = 'bars';
    v.classProbs.forEach((q, k) => {
      const name = document.createElement('span');
      name.textContent = `${k} ${CLASS_NAMES[k]}${k === label ? ' ←' : ''}`;
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = `${(q * 100).toFixed(1)}%`;
      const val = document.createElement('span');
      val.textContent = q.toFixed(3);
      box.append(name, bar, val);
    });
    probs.append(Object.assign(document.createElement('p'), { textContent: `AC-GAN class head: what D thinks the class is (${cfg.classes} classes)` }), box);
  }
  const layers = $('layers');
  layers.innerHTML = '';
  for (const l of p.layers) {
    const [C, H, W] = l.shape;
    let lo = Infinity, hi = -Infinity;
    for (const x of l.data) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const div = document.createElement('div');
    div.className = 'layer';
    div.dataset.layer = l.name;
    const h3 = document.createElement('h3');
    h3.innerHTML = `${l.name} <span>[${C}, ${H}, ${W}] · ${LAYER_ABOUT[l.name] ?? ''} · range ${lo.toFixed(2)} … ${hi.toFixed(2)}${C > MAX_MAPS ? ` · first ${MAX_MAPS} of ${C} maps` : ''}</span>`;
    const maps = document.createElement('div');
    maps.className = 'maps';
    for (let c = 0; c < Math.min(C, MAX_MAPS); c++) maps.append(drawMap(l.data, c * H * W, H, W, lo, hi));
    div.append(h3, maps);
    layers.append(div);
  }
}

// --- the app -------------------------------------------------------------------------------------------------
let gpu: Gpu;
let be: GpuBackend;
let model: GanModels | null = null;
let gridZ: Float32Array | null = null;
let current = { label: 0, z: new Float32Array(100) };
let dirs: X.Directions | null = null;
const alphas = new Array(SLIDERS).fill(0);

/** serialise GPU work; a task superseded by a newer one with the same key is skipped */
let chain: Promise<unknown> = Promise.resolve();
const latest = new Map<string, number>();
function gpuTask(key: string, fn: () => Promise<void>): Promise<void> {
  const ticket = (latest.get(key) ?? 0) + 1;
  latest.set(key, ticket);
  const p = chain.then(() => (latest.get(key) === ticket ? fn() : undefined)).catch(fail);
  chain = p;
  return p;
}

async function showGrid(seed: number): Promise<void> {
  const m = model!;
  hooks.seed = seed;
  const t0 = performance.now();
  const { z, y } = X.gridNoise(m.config.noiseDim, m.config.classes, PER_CLASS, seed);
  const imgs = await X.generateImages(be, m.G, z, y);
  gridZ = z;
  hooks.grid = imgs;
  drawImages($<HTMLCanvasElement>('grid'), imgs, m.config.classes, PER_CLASS);
  setState('ready', `${hooks.adapter} · grid for seed ${seed}: ${y.length} images in ${(performance.now() - t0).toFixed(0)} ms`);
}

/** pick sample (row, col) of the grid as the one to explore */
async function select(label: number, col: number): Promise<void> {
  const d = model!.config.noiseDim;
  current = { label, z: gridZ!.slice((label * PER_CLASS + col) * d, (label * PER_CLASS + col + 1) * d) };
  $<HTMLSelectElement>('class').value = String(label);
  await refreshDirections();
}

async function refreshDirections(): Promise<void> {
  const m = model!;
  const t0 = performance.now();
  dirs = await X.principalDirections(be, m.G, current.z, current.label, SLIDERS);
  hooks.directions = dirs.gains;
  alphas.fill(0);
  buildSliders();
  await showSample();
  $('status').textContent = `${hooks.adapter} · directions for a ${CLASS_NAMES[current.label]} in ${(performance.now() - t0).toFixed(0)} ms (${2 * m.config.noiseDim} generator passes)`;
}

function buildSliders(): void {
  const box = $('sliders');
  box.innerHTML = '';
  dirs!.gains.forEach((g, r) => {
    const row = document.createElement('div');
    row.className = 'slider';
    const name = document.createElement('span');
    name.textContent = `direction ${r + 1}`;
    const input = Object.assign(document.createElement('input'), { type: 'range', min: '-3', max: '3', step: '0.05', value: '0' });
    input.id = `dir-${r}`;
    const gain = document.createElement('span');
    gain.textContent = `gain ${g.toFixed(2)}`;
    input.addEventListener('input', () => {
      alphas[r] = Number(input.value);
      void gpuTask('sample', showSample);
    });
    row.append(name, input, gain);
    box.append(row);
  });
}

async function showSample(): Promise<void> {
  const m = model!;
  const z = dirs ? X.moveAlong(current.z, dirs.vectors, alphas) : current.z;
  const path = await X.samplePath(be, m.G, m.D, z, current.label);
  hooks.sample = path.image;
  drawImages($<HTMLCanvasElement>('sample'), path.image, 1, 1);
  drawPath(path, m.config, current.label);
}

let playing = 0;
async function playInterpolation(): Promise<void> {
  const m = model!;
  const d = m.config.noiseDim;
  const steps = 16;
  const a = X.gridNoise(d, 1, 1, Number($<HTMLInputElement>('seed-a').value)).z;
  const b = X.gridNoise(d, 1, 1, Number($<HTMLInputElement>('seed-b').value)).z;
  const zs = X.interpolate(a, b, steps, $<HTMLSelectElement>('interp-mode').value as 'lerp' | 'slerp');
  const imgs = await X.generateImages(be, m.G, zs, new Int32Array(steps).fill(current.label));
  drawImages($<HTMLCanvasElement>('interp-strip'), imgs, 1, steps);
  hooks.frames = steps;
  const frame = $<HTMLCanvasElement>('interp-frame');
  const run = ++playing;
  const t0 = performance.now();
  // there and back, 2 s each way, then rest on the last frame
  const tick = (now: number) => {
    if (run !== playing) return;
    const u = ((now - t0) / 2000) % 2;
    const k = Math.round((u <= 1 ? u : 2 - u) * (steps - 1));
    drawImages(frame, imgs.subarray(k * 784, (k + 1) * 784), 1, 1);
    if (now - t0 < 8000) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

async function loadModel(bytes: Uint8Array, name: string): Promise<void> {
  const m = loadGanModels(be, bytes, name);
  if (model) {
    model.G.dispose();
    model.D.dispose();
  }
  model = m;
  const meta = m.meta;
  const params = m.G.parameterCount() + m.D.parameterCount();
  $('model-info').textContent = `${name}: ${meta.model === 'acgan' ? 'AC-GAN' : 'conditional GAN'}` +
    `${meta.preset ? `, preset ${meta.preset}` : ''}${meta.epoch !== undefined ? `, after ${meta.epoch} epoch${meta.epoch === 1 ? '' : 's'}` : ''}` +
    `${meta.step !== undefined ? ` (${meta.step} steps)` : ''} · ${(params / 1e6).toFixed(2)} M parameters (G ${m.G.parameterCount()}, D ${m.D.parameterCount()})`;
  $('app').hidden = false;
  await showGrid(Number($<HTMLInputElement>('seed').value));
  await select(current.label < m.config.classes ? current.label : 0, 0);
}

function wire(): void {
  const names = $('row-names');
  const cls = $<HTMLSelectElement>('class');
  CLASS_NAMES.forEach((n, k) => {
    names.append(Object.assign(document.createElement('li'), { textContent: n }));
    cls.append(Object.assign(document.createElement('option'), { value: String(k), textContent: `${k} ${n}` }));
  });
  $('regen').addEventListener('click', () => void gpuTask('grid', () => showGrid(Number($<HTMLInputElement>('seed').value))));
  $('new-seed').addEventListener('click', () => {
    const s = Math.floor(Math.random() * 1e6);
    $<HTMLInputElement>('seed').value = String(s);
    void gpuTask('grid', () => showGrid(s));
  });
  $('grid').addEventListener('click', (ev) => {
    const c = ev.currentTarget as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    const col = Math.min(PER_CLASS - 1, Math.floor(((ev.clientX - r.left) / r.width) * PER_CLASS));
    const row = Math.min(model!.config.classes - 1, Math.floor(((ev.clientY - r.top) / r.height) * model!.config.classes));
    void gpuTask('select', () => select(row, col));
  });
  cls.addEventListener('change', () => {
    current = { ...current, label: Number(cls.value) };
    void gpuTask('select', refreshDirections);
  });
  $('reset').addEventListener('click', () => {
    alphas.fill(0);
    document.querySelectorAll<HTMLInputElement>('#sliders input').forEach((i) => (i.value = '0'));
    void gpuTask('sample', showSample);
  });
  $('play').addEventListener('click', () => void gpuTask('interp', playInterpolation));
  $<HTMLInputElement>('file').addEventListener('change', async (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (!f) return;
    setState('loading', `reading ${f.name}…`);
    const bytes = new Uint8Array(await f.arrayBuffer());
    void gpuTask('load', () => loadModel(bytes, f.name));
  });
}

async function main(): Promise<void> {
  wire();
  const params = new URLSearchParams(location.search);
  if (params.has('seed')) $<HTMLInputElement>('seed').value = String(Number(params.get('seed')) || 0);
  if (!('gpu' in navigator) || !navigator.gpu) {
    $('no-webgpu').hidden = false;
    $('no-webgpu-why').textContent = window.isSecureContext
      ? 'navigator.gpu is missing: this browser or its settings do not expose WebGPU.'
      : `navigator.gpu is missing because this page is not a secure context (${location.protocol}//${location.host}).`;
    setState('no-webgpu', 'No WebGPU in this browser: see the box below.', true);
    return;
  }
  try {
    gpu = await createGpu(navigator.gpu);
  } catch (e) {
    if (e instanceof NoAdapterError) {
      $('no-webgpu').hidden = false;
      $('no-webgpu-why').textContent = 'navigator.gpu is there but gave no adapter: WebGPU is disabled or the GPU is blocklisted.';
      setState('no-webgpu', 'WebGPU gave no adapter: see the box below.', true);
      return;
    }
    throw e;
  }
  be = new GpuBackend(gpu);
  hooks.adapter = describeGpu(gpu);
  gpu.device.lost.then((info) => fail(`the GPU device was lost (${info.reason}): ${info.message}; reload the page`));
  const served = await servedModels();
  const url = params.get('checkpoint') ?? (served.length && !served.some((m) => m.url === 'checkpoint.safetensors') ? served[0].url : 'checkpoint.safetensors');
  await fetchModel(url, true);
}

/** the GAN files the server offers (models.json: the run it serves and the shipped GANs), in the picker */
async function servedModels(): Promise<{ name: string; url: string }[]> {
  const res = await fetch('models.json').catch(() => null);
  const list = res?.ok ? ((await res.json()) as { name: string; url: string }[]) : [];
  const pick = $<HTMLSelectElement>('model-pick');
  for (const m of list) pick.append(Object.assign(document.createElement('option'), { value: m.url, textContent: m.name }));
  $('model-pick-label').hidden = list.length < 2;
  pick.addEventListener('change', () => void fetchModel(pick.value, false));
  return list;
}

async function fetchModel(url: string, first: boolean): Promise<void> {
  setState('loading', `${hooks.adapter} · fetching ${url}…`);
  const res = await fetch(url);
  if (!res.ok) {
    setState('waiting', `No checkpoint at ${url} (HTTP ${res.status}). Open one above, or serve a run with ` +
      '`npm run playground -- --run runs/NAME`.');
    return;
  }
  const pick = $<HTMLSelectElement>('model-pick');
  if (first && Array.from(pick.options).some((o) => o.value === url)) pick.value = url;
  const bytes = new Uint8Array(await res.arrayBuffer());
  await gpuTask('load', () => loadModel(bytes, decodeURIComponent(url.split('/').pop() || url)));
}

main().catch(fail);
