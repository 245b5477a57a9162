// web/train_view.ts — the playground's Train view: a GAN learning live on the browser's WebGPU. Loads the training
// set (served under data/ or picked), starts a run of any preset or resumes a checkpoint, and plays, pauses or
// steps it (whole, D alone, G alone); D's and G's learning rates and β1 apply from the next step. The views redraw
// from one readback every N steps (losses, D's outputs, gradient norms, images per second) and every M such
// refreshes the images too (fixed-noise grid, a sample's path through G and D, the class balance the shipped
// classifier sees, with an alarm when a class vanishes). All computing is in trainer.ts; this file draws.
//
// Test hooks: document.body.dataset.train is idle | loading | no-data | ready | playing | paused | error;
// window.__train holds the step count, the snapshots drawn, the last balance and grid, errors, and params() (every
// parameter's values, base64 of float32).
import type { GpuBackend } from '../kernels/backend.js';
import { CLASS_NAMES } from '../data/dataset.js';
import type { LabelledImages } from '../data/idx.js';
import { PRESETS, type StepPart } from '../gan/train.js';
import { cnnFromCheckpoint } from '../models/cnn_load.js';
import type { Cnn } from '../models/cnn.js';
import { lineChart, type Series } from '../report/svg.js';
import { base64 } from '../report/html.js';
import { HOW_TO_GET_DATA, fetchTrainSet, sha256Hex, trainSetFromPicked } from './data.js';
import { PageTrainer, VANISHED_BELOW, type Balance, type Snapshot } from './trainer.js';
import { drawImages, drawPath } from './draw.js';

interface TrainHooks {
  state: string;
  error: string | null;
  /** steps of the current run */
  step: number;
  epoch: number;
  /** every snapshot drawn, oldest first (window means and gradient norms), with when it was read (performance.now) */
  snapshots: (Snapshot & { t: number })[];
  imgPerSec: number | null;
  grid: Float32Array | null;
  balance: Balance | null;
  /** checkpoints saved (downloads started) */
  saved: number;
  run: { preset: string; batch: number; seed: number; trainSubset: number | null; resumedFrom: string | null } | null;
  /** the current parameters by checkpoint name (G.*, D.*), each base64 of its float32 values */
  params(): Promise<Record<string, string>>;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);

/** at most this many points per chart series: older ones are thinned to every other */
const MAX_POINTS = 600;

export function initTrainView(be: GpuBackend, adapter: string, params: URLSearchParams): { open(): void } {
  let train: LabelledImages | null = null;
  let judge: Cnn | null = null;
  let judgeNote = '';
  let trainer: PageTrainer | null = null;
  let playing = false;
  let sinceRefresh = 0;
  let refreshes = 0;
  let windowStart = { t: performance.now(), images: 0 };
  let imagesTrained = 0;
  let selected = 0;
  const series = new Map<string, { x: number[]; y: number[] }>();
  const hooks: TrainHooks = {
    state: 'idle',
    error: null,
    step: 0,
    epoch: 0,
    snapshots: [],
    imgPerSec: null,
    grid: null,
    balance: null,
    saved: 0,
    run: null,
    params: async () => {
      if (!trainer) return {};
      const out: Record<string, string> = {};
      for (const [pre, m] of [
        ['G.', trainer.s.G],
        ['D.', trainer.s.D],
      ] as const)
        for (const [n, p] of m.namedParameters())
          out[pre + n] = base64(new Uint8Array(Float32Array.from(await p.toArray()).buffer));
      return out;
    },
  };
  (window as unknown as { __train: TrainHooks }).__train = hooks;

  const setState = (state: string, status?: string, error = false) => {
    hooks.state = state;
    document.body.dataset.train = state;
    if (status !== undefined) {
      $('t-status').textContent = status;
      $('t-status').classList.toggle('error', error);
    }
    const has = !!trainer;
    for (const id of ['t-play', 't-step', 't-step-d', 't-step-g', 't-save', 't-draw'])
      $<HTMLButtonElement>(id).disabled = !has;
    $<HTMLButtonElement>('t-pause').disabled = !playing;
    for (const id of ['t-new', 't-open']) $<HTMLInputElement>(id).disabled = !train;
  };
  const fail = (e: unknown) => {
    playing = false;
    const msg = e instanceof Error ? e.message : String(e);
    hooks.error = msg;
    console.error(msg);
    setState('error', msg, true);
  };

  /** one trainer operation at a time (the play loop is one, until paused) */
  let chain: Promise<unknown> = Promise.resolve();
  const task = (fn: () => Promise<void>) => (chain = chain.then(fn).catch(fail));

  // --- data and the judge ---------------------------------------------------------------------------------------
  let opened = false;
  function open(): void {
    if (opened) return;
    opened = true;
    void task(async () => {
      setState('loading', `${adapter} · fetching Fashion-MNIST's training set from data/ …`);
      const [set] = await Promise.all([fetchTrainSet('data/'), loadJudge()]);
      if (!set) {
        $('t-data').textContent = HOW_TO_GET_DATA;
        $('t-data').classList.add('error');
        setState('no-data', 'No training data: see above.', true);
        return;
      }
      useData(set, "served by the page's server (data/)");
    });
  }
  function useData(set: LabelledImages, from: string): void {
    train = set;
    $('t-data').textContent =
      `Fashion-MNIST training set: ${set.count} images, ${from}; SHA-256 checked against the official files.`;
    $('t-data').classList.remove('error');
    setState('ready', `${adapter} · data ready: start a new run or open a checkpoint`);
  }
  /** the shipped classifier (the evaluation's judge), checked against its .sha256; without it, a note why not */
  async function loadJudge(): Promise<void> {
    const url = 'models/eval-classifier.safetensors';
    try {
      const res = await fetch(url);
      if (!res.ok) {
        judgeNote = `no class balance: no classifier at ${url} (HTTP ${res.status}); \`npm run build:web\` copies the shipped one there`;
        return;
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      const rec = await fetch(`${url}.sha256`);
      if (rec.ok) {
        const want = (await rec.text()).trim().split(/\s+/)[0];
        const got = await sha256Hex(bytes);
        if (want !== got) {
          judgeNote = `no class balance: ${url} has SHA-256 ${got.slice(0, 12)}…, its .sha256 says ${want.slice(0, 12)}… (not the shipped judge)`;
          return;
        }
      }
      judge = cnnFromCheckpoint(be, bytes, url).model;
      judgeNote = `judged by ${url} (the evaluation's classifier)`;
    } catch (e) {
      judgeNote = `no class balance: ${url} did not load (${(e as Error).message})`;
    }
  }

  // --- runs -----------------------------------------------------------------------------------------------------
  function startRun(make: () => PageTrainer, resumedFrom: string | null): void {
    trainer?.dispose();
    trainer = null;
    series.clear();
    hooks.snapshots = [];
    hooks.grid = null;
    hooks.balance = null;
    refreshes = sinceRefresh = imagesTrained = 0;
    trainer = make();
    const t = trainer;
    hooks.run = {
      preset: t.run.preset,
      batch: t.run.hyper.batch,
      seed: t.run.seed,
      trainSubset: t.run.trainSubset ?? null,
      resumedFrom,
    };
    hooks.step = t.loop.step;
    hooks.epoch = t.loop.epoch;
    $<HTMLInputElement>('t-lr-d').value = String(t.s.optD.lr);
    $<HTMLInputElement>('t-b1-d').value = String(t.s.optD.beta1);
    $<HTMLInputElement>('t-lr-g').value = String(t.s.optG.lr);
    $<HTMLInputElement>('t-b1-g').value = String(t.s.optG.beta1);
    const c = t.s.config;
    $('t-run').textContent =
      `${resumedFrom ? `resumed from ${resumedFrom}: ` : ''}${c.kind === 'acgan' ? 'AC-GAN' : 'conditional GAN'}, preset ${t.run.preset}, ` +
      `batch ${t.run.hyper.batch}, seed ${t.run.seed}, ${t.loop.train.count} images (${t.loop.stepsPerEpoch} steps per epoch) · ` +
      `${((t.s.G.parameterCount() + t.s.D.parameterCount()) / 1e6).toFixed(2)} M parameters`;
    setState('paused', `${adapter} · step ${t.loop.step}: press play or step`);
  }

  async function refresh(images: boolean): Promise<void> {
    const t = trainer!;
    const snap = await t.snapshot();
    const now = performance.now();
    const secs = (now - windowStart.t) / 1000;
    const imgs = imagesTrained - windowStart.images;
    // while playing only: between manual steps the clock also counts the user's pauses
    if (playing && imgs > 0 && secs > 0) hooks.imgPerSec = imgs / secs;
    windowStart = { t: now, images: imagesTrained };
    hooks.snapshots.push({ ...snap, t: now });
    hooks.step = snap.step;
    hooks.epoch = snap.epoch;
    record(snap);
    drawCharts();
    $('t-status').textContent =
      `${adapter} · step ${snap.step} · epoch ${snap.epoch}, batch ${snap.inEpoch}/${snap.stepsPerEpoch}` +
      ` · ${hooks.imgPerSec === null ? '– img/s (measured while training)' : `${hooks.imgPerSec.toFixed(1)} img/s`}`;
    refreshes++;
    if (images) await drawImagesNow();
  }

  /** images at this refresh? Every M read-backs while playing, and after a manual step, a pause or a new run;
   *  M = 0: only when asked ("Draw images") */
  const imagesDue = (manual: boolean): boolean => {
    const m = num('t-img-every');
    return m > 0 && (manual || refreshes % m === 0);
  };

  function record(snap: Snapshot): void {
    const add = (name: string, y: number) => {
      let s = series.get(name);
      if (!s) series.set(name, (s = { x: [], y: [] }));
      s.x.push(snap.step);
      s.y.push(y);
      if (s.x.length > MAX_POINTS) {
        s.x = s.x.filter((_, i) => i % 2 === 0);
        s.y = s.y.filter((_, i) => i % 2 === 0);
      }
    };
    const w = snap.window;
    if (w && snap.windowSteps.d) {
      add('D loss (real)', w.dReal);
      add('D loss (fake)', w.dFake);
      if (trainer!.s.config.kind === 'acgan') add('aux class loss', w.aux);
      add('D(x)', w.dx);
      add('D(G(z))', w.dgz);
    }
    if (w && snap.windowSteps.g) add('G loss', w.g);
    for (const net of ['G', 'D'] as const)
      for (const [n, v] of Object.entries(snap.gradNorms[net]))
        if (n.endsWith('weight')) add(`${net}|${n}`, Math.log10(Math.max(v, 1e-12)));
  }

  function drawCharts(): void {
    const pick = (names: string[]): Series[] =>
      names.flatMap((n) => (series.has(n) ? [{ name: n, ...series.get(n)! }] : []));
    const byNet = (net: string): Series[] =>
      [...series.entries()]
        .filter(([k]) => k.startsWith(`${net}|`))
        .map(([k, s]) => ({ name: k.slice(2).replace(/\.weight$/, ''), ...s }));
    $('t-chart-losses').innerHTML = lineChart(
      'Losses (mean over each refresh window)',
      'step',
      pick(['D loss (real)', 'D loss (fake)', 'G loss', 'aux class loss']),
      520,
      300,
    );
    $('t-chart-dout').innerHTML = lineChart(
      'Mean D output: real images D(x), generated D(G(z))',
      'step',
      pick(['D(x)', 'D(G(z))']),
      520,
      300,
    );
    $('t-chart-grad-g').innerHTML = lineChart(
      'G: log10 gradient norm per layer (weights)',
      'step',
      byNet('G'),
      520,
      300,
    );
    $('t-chart-grad-d').innerHTML = lineChart(
      'D: log10 gradient norm per layer (weights)',
      'step',
      byNet('D'),
      520,
      300,
    );
  }

  async function drawImagesNow(): Promise<void> {
    const t = trainer!;
    const weights = $<HTMLSelectElement>('t-weights').value as 'average' | 'trained';
    const grid = await t.grid(weights);
    hooks.grid = grid;
    drawImages($<HTMLCanvasElement>('t-grid'), grid, t.s.config.classes, 10);
    const { z, label } = await t.gridNoise(selected);
    const path = await t.path(z, label, weights);
    drawImages($<HTMLCanvasElement>('t-sample'), path.image, 1, 1);
    drawPath(path, t.s.config, label, { verdict: $('t-verdict'), probs: $('t-class-probs'), layers: $('t-layers') });
    if (!judge) {
      $('t-balance').textContent = judgeNote;
      return;
    }
    const b = await t.balance(judge, 10, weights);
    hooks.balance = b;
    drawBalance(b);
  }

  function drawBalance(b: Balance): void {
    const box = $('t-balance');
    box.innerHTML = '';
    const bars = document.createElement('div');
    bars.className = 'bars';
    b.shares.forEach((q, k) => {
      const name = document.createElement('span');
      name.textContent = `${k} ${CLASS_NAMES[k]}`;
      const bar = document.createElement('div');
      bar.className = b.vanished.includes(k) ? 'bar gone' : 'bar';
      bar.style.width = `${Math.min(100, q * 100 * 4).toFixed(1)}%`; // 25 % fills the row
      const val = document.createElement('span');
      val.textContent = `${(100 * q).toFixed(0)} %`;
      bars.append(name, bar, val);
    });
    const note =
      `Predicted classes of ${b.count} generated images (10 asked of each class; an even share is 10 %), ` +
      `${judgeNote}; accuracy against the asked class ${(100 * b.accuracy).toFixed(0)} %.`;
    box.append(Object.assign(document.createElement('p'), { className: 'hint', textContent: note }), bars);
    const alarm = $('t-alarm');
    alarm.hidden = b.vanished.length === 0;
    const many = b.vanished.length > 1;
    alarm.textContent = b.vanished.length
      ? `Mode collapse alarm: ${b.vanished.map((k) => CLASS_NAMES[k]).join(', ')} ` +
        `${many ? 'are' : 'is'} below ${((100 * VANISHED_BELOW) / 10).toFixed(0)} % of the generated images (the classifier ` +
        `no longer sees ${many ? 'them' : 'it'}).`
      : '';
  }

  /** one step, then the epoch's end and the refresh where due */
  async function step(part: StepPart, manual: boolean): Promise<void> {
    const t = trainer!;
    const ended = t.step(part);
    if (part !== 'G') imagesTrained += t.loop.batch;
    sinceRefresh++;
    if (ended) await t.endEpoch();
    const every = Math.max(1, num('t-every') || 1);
    if (manual || sinceRefresh >= every) {
      sinceRefresh = 0;
      await refresh(imagesDue(manual));
    }
  }

  async function playLoop(): Promise<void> {
    if (!trainer) return;
    playing = true;
    setState('playing');
    windowStart = { t: performance.now(), images: imagesTrained };
    let yielded = performance.now();
    try {
      while (playing) {
        await step('both', false);
        // stay at most two steps ahead of the GPU (no readback; the queue drains while the next step is recorded)
        await be.throttle(2);
        // let the page handle input at least every 50 ms
        if (performance.now() - yielded > 50) {
          await new Promise<void>((ok) => setTimeout(ok, 0));
          yielded = performance.now();
        }
      }
    } finally {
      playing = false;
    }
    if (sinceRefresh) {
      sinceRefresh = 0;
      await refresh(imagesDue(true));
    }
    setState('paused', undefined);
  }

  // --- controls -------------------------------------------------------------------------------------------------
  const presetSel = $<HTMLSelectElement>('t-preset');
  for (const [k, p] of Object.entries(PRESETS))
    presetSel.append(Object.assign(document.createElement('option'), { value: k, textContent: k, title: p.about }));
  presetSel.value = params.get('preset') ?? 'cgan-lite';
  for (const [id, key] of [
    ['t-batch', 'batch'],
    ['t-seed', 'seed'],
    ['t-subset', 'subset'],
    ['t-every', 'every'],
    ['t-img-every', 'images'],
  ] as const)
    if (params.has(key)) $<HTMLInputElement>(id).value = params.get(key)!;

  $('t-new').addEventListener('click', () => {
    playing = false;
    void task(async () => {
      const subset = $<HTMLInputElement>('t-subset').value.trim();
      const setup = {
        preset: presetSel.value,
        batch: num('t-batch'),
        seed: num('t-seed'),
        trainSubset: subset ? Number(subset) : null,
      };
      startRun(() => PageTrainer.create(be, train!, setup), null);
      await refresh(imagesDue(true));
    });
  });
  $<HTMLInputElement>('t-open').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (!f) return;
    playing = false;
    void task(async () => {
      const bytes = new Uint8Array(await f.arrayBuffer());
      startRun(() => PageTrainer.resume(be, train!, bytes, f.name), f.name);
      await refresh(imagesDue(true));
    });
  });
  $<HTMLInputElement>('data-files').addEventListener('change', (ev) => {
    const files = Array.from((ev.target as HTMLInputElement).files ?? []);
    opened = true;
    void task(async () => {
      setState('loading', `reading ${files.length} file(s)…`);
      const picked = await Promise.all(
        files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
      );
      if (!judge && !judgeNote) await loadJudge();
      useData(await trainSetFromPicked(picked), `picked from disk (${files.map((f) => f.name).join(', ')})`);
    });
  });
  $('t-play').addEventListener('click', () => {
    if (!playing) void task(playLoop);
  });
  $('t-pause').addEventListener('click', () => {
    playing = false;
  });
  for (const [id, part] of [
    ['t-step', 'both'],
    ['t-step-d', 'D'],
    ['t-step-g', 'G'],
  ] as const)
    $(id).addEventListener('click', () => {
      playing = false;
      void task(async () => {
        await step(part, true);
        setState('paused');
      });
    });
  for (const [id, net, key] of [
    ['t-lr-d', 'D', 'lr'],
    ['t-b1-d', 'D', 'beta1'],
    ['t-lr-g', 'G', 'lr'],
    ['t-b1-g', 'G', 'beta1'],
  ] as const)
    $<HTMLInputElement>(id).addEventListener('change', () => {
      // between two steps (JavaScript runs one thing at a time): the next step uses it
      try {
        trainer?.setAdam(net, { [key]: num(id) });
      } catch (e) {
        fail(e);
      }
    });
  $('t-save').addEventListener('click', () => {
    void task(async () => {
      const t = trainer!;
      const bytes = await t.checkpoint();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      a.download = `${t.run.preset}-seed${t.run.seed}-step${t.loop.step}.safetensors`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      hooks.saved++;
      $('t-status').textContent =
        `${adapter} · saved ${a.download} (${(bytes.length / 1e6).toFixed(1)} MB): ` +
        `npm run sample -- --checkpoint FILE, or npm run train -- ${t.s.config.kind} --resume FILE`;
    });
  });
  $('t-grid').addEventListener('click', (ev) => {
    if (!trainer) return;
    const c = ev.currentTarget as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    const col = Math.min(9, Math.floor(((ev.clientX - r.left) / r.width) * 10));
    const row = Math.min(
      trainer.s.config.classes - 1,
      Math.floor(((ev.clientY - r.top) / r.height) * trainer.s.config.classes),
    );
    selected = row * 10 + col;
    if (!playing) void task(drawImagesNow);
  });
  $('t-draw').addEventListener('click', () => {
    if (trainer) void task(drawImagesNow);
  });
  $('t-weights').addEventListener('change', () => {
    if (trainer && !playing) void task(drawImagesNow);
  });
  setState('idle');
  return { open };
}
