// web/playground.ts — the browser side of the GAN playground (web/index.html). Gets a WebGPU device from
// navigator.gpu, loads a GAN checkpoint (fetched from ?checkpoint=URL, default checkpoint.safetensors beside the
// page, else the first of models.json; models.json's list, e.g. the shipped GANs, fills a picker to switch; or a
// file the user opens), and wires the Explore view: the 10×10 grid for a seed, one sample's noise moved along its
// principal directions, interpolation between two noise vectors, and the sample's path through both networks.
// The Train view (train_view.ts, ?view=train opens it) trains a GAN live on the same device.
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
import { loadGanModels, type GanModels } from '../gan/load.js';
import * as X from './explore.js';
import { drawImages, drawPath } from './draw.js';
import { initTrainView } from './train_view.js';

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
const hooks: Hooks = {
  state: 'loading',
  error: null,
  seed: 0,
  grid: null,
  sample: null,
  directions: null,
  frames: 0,
  adapter: '',
};
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
  setState(
    'ready',
    `${hooks.adapter} · grid for seed ${seed}: ${y.length} images in ${(performance.now() - t0).toFixed(0)} ms`,
  );
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
  $('status').textContent =
    `${hooks.adapter} · directions for a ${CLASS_NAMES[current.label]} in ${(performance.now() - t0).toFixed(0)} ms (${2 * m.config.noiseDim} generator passes)`;
}

function buildSliders(): void {
  const box = $('sliders');
  box.innerHTML = '';
  dirs!.gains.forEach((g, r) => {
    const row = document.createElement('div');
    row.className = 'slider';
    const name = document.createElement('span');
    name.textContent = `direction ${r + 1}`;
    const input = Object.assign(document.createElement('input'), {
      type: 'range',
      min: '-3',
      max: '3',
      step: '0.05',
      value: '0',
    });
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
  drawPath(path, m.config, current.label, { verdict: $('verdict'), probs: $('class-probs'), layers: $('layers') });
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
  $('model-info').textContent =
    `${name}: ${meta.model === 'acgan' ? 'AC-GAN' : 'conditional GAN'}` +
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
  $('regen').addEventListener(
    'click',
    () => void gpuTask('grid', () => showGrid(Number($<HTMLInputElement>('seed').value))),
  );
  $('new-seed').addEventListener('click', () => {
    const s = Math.floor(Math.random() * 1e6);
    $<HTMLInputElement>('seed').value = String(s);
    void gpuTask('grid', () => showGrid(s));
  });
  $('grid').addEventListener('click', (ev) => {
    const c = ev.currentTarget as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    const col = Math.min(PER_CLASS - 1, Math.floor(((ev.clientX - r.left) / r.width) * PER_CLASS));
    const row = Math.min(
      model!.config.classes - 1,
      Math.floor(((ev.clientY - r.top) / r.height) * model!.config.classes),
    );
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
      $('no-webgpu-why').textContent =
        'navigator.gpu is there but gave no adapter: WebGPU is disabled or the GPU is blocklisted.';
      setState('no-webgpu', 'WebGPU gave no adapter: see the box below.', true);
      return;
    }
    throw e;
  }
  be = new GpuBackend(gpu);
  hooks.adapter = describeGpu(gpu);
  const trainView = initTrainView(be, hooks.adapter, params);
  const show = (view: 'explore' | 'train') => {
    $('explore-view').hidden = view !== 'explore';
    $('train-view').hidden = view !== 'train';
    $('tab-explore').setAttribute('aria-pressed', String(view === 'explore'));
    $('tab-train').setAttribute('aria-pressed', String(view === 'train'));
    if (view === 'train') trainView.open();
  };
  $('tab-explore').addEventListener('click', () => show('explore'));
  $('tab-train').addEventListener('click', () => show('train'));
  $('views').hidden = false;
  if (params.get('view') === 'train') show('train');
  gpu.device.lost.then((info) => fail(`the GPU device was lost (${info.reason}): ${info.message}; reload the page`));
  const served = await servedModels();
  const url =
    params.get('checkpoint') ??
    (served.length && !served.some((m) => m.url === 'checkpoint.safetensors')
      ? served[0].url
      : 'checkpoint.safetensors');
  await fetchModel(url, true);
}

/** the GAN files the server offers (models.json: the run it serves and the shipped GANs), in the picker */
async function servedModels(): Promise<{ name: string; url: string }[]> {
  const res = await fetch('models.json').catch(() => null);
  const list = res?.ok ? ((await res.json()) as { name: string; url: string }[]) : [];
  const pick = $<HTMLSelectElement>('model-pick');
  for (const m of list)
    pick.append(Object.assign(document.createElement('option'), { value: m.url, textContent: m.name }));
  $('model-pick-label').hidden = list.length < 2;
  pick.addEventListener('change', () => void fetchModel(pick.value, false));
  return list;
}

async function fetchModel(url: string, first: boolean): Promise<void> {
  setState('loading', `${hooks.adapter} · fetching ${url}…`);
  const res = await fetch(url);
  if (!res.ok || res.status === 204) {
    setState(
      'waiting',
      `No checkpoint at ${url} (${res.status === 204 ? 'the server has none' : `HTTP ${res.status}`}). Open one ` +
        'above, serve a run with `npm run playground -- --run runs/NAME`, or train one in the Train view.',
    );
    return;
  }
  const pick = $<HTMLSelectElement>('model-pick');
  if (first && Array.from(pick.options).some((o) => o.value === url)) pick.value = url;
  const bytes = new Uint8Array(await res.arrayBuffer());
  await gpuTask('load', () => loadModel(bytes, decodeURIComponent(url.split('/').pop() || url)));
}

main().catch(fail);
