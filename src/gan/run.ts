// gan/run.ts — a GAN training run as `npm run train` does it: epochs of ganStep over shuffled real images in
// [−1, 1], then per epoch a 10×10 sample grid (a row per class, fixed noise), loss and D-output curves (SVG),
// a metrics.jsonl line (losses, mean D(x) and D(G(z)), per-layer gradient norms, img/s) and an atomic checkpoint.
import { appendFileSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../autograd/backend.js';
import { Generator } from '../autograd/random.js';
import { Tensor, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import { batches, subset, FashionMnist } from '../data/dataset.js';
import { GanHyper, GanState, SCALARS, StepScalars, ganStep, generate, gradNorms, makeGan, sampleInputs } from './train.js';
import type { GanConfig } from './models.js';
import { writeGridPng } from '../node/png.js';
import { traceGan } from './trace.js';
import { lineChart } from '../report/svg.js';
import { saveCheckpoint, readCheckpoint } from '../node/checkpoint.js';
import { assignState, parseCheckpoint, CheckpointError } from '../nn/checkpoint.js';

export interface GanEpoch {
  epoch: number;
  step: number;
  dReal: number;
  dFake: number;
  aux: number;
  g: number;
  dx: number;
  dgz: number;
  imgPerSec: number;
  seconds: number;
  gradNorms: { G: Record<string, number>; D: Record<string, number> };
}

export interface GanRunOptions {
  preset: string;
  config: GanConfig;
  hyper: GanHyper;
  seed: number;
  trainSubset?: number;
  logEvery: number;
  /** write trace.jsonl: per-layer activation/gradient statistics once per epoch */
  trace?: boolean;
  onProgress?: (p: { epoch: number; epochs: number; step: number; steps: number; d: number; g: number; imgPerSec: number; etaSec: number }) => void;
  log?: (s: string) => void;
}

export function ganStateTensors(s: GanState): Record<string, Tensor> {
  const gNames = s.G.namedParameters().map(([n]) => n);
  const dNames = s.D.namedParameters().map(([n]) => n);
  const pre = (p: string, r: Record<string, Tensor>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [`${p}${k}`, v]));
  return { ...pre('G.', s.G.stateDict()), ...pre('D.', s.D.stateDict()), ...pre('G.', s.optG.stateTensors(gNames)), ...pre('D.', s.optD.stateTensors(dNames)) };
}

async function saveGan(path: string, s: GanState, opts: GanRunOptions, epoch: number, step: number, history: GanEpoch[]): Promise<void> {
  await saveCheckpoint(path, {
    tensors: ganStateTensors(s),
    meta: {
      model: s.config.kind, config: s.config, hyper: opts.hyper, preset: opts.preset, seed: opts.seed, epoch, step,
      rng: { model: s.gen.state(), data: s.dataGen.state() },
      optimizer: { G: s.optG.stepCount, D: s.optD.stepCount },
      history: history.map((h) => ({ ...h, gradNorms: undefined })),
    },
  });
}

/** rebuild a GAN from a checkpoint (kind checked when `kind` is given) */
export function loadGan(be: Backend, path: string, kind?: string): { state: GanState; meta: Record<string, any> } {
  const parsed = parseCheckpoint(readCheckpoint(path), { name: path, model: kind });
  const meta = parsed.meta as Record<string, any>;
  if (meta.model !== 'cgan' && meta.model !== 'acgan') throw new CheckpointError(`${path}: a checkpoint of model "${meta.model}", not a GAN`);
  const state = makeGan(be, meta.config as GanConfig, meta.hyper as GanHyper, meta.seed ?? 0);
  assignState(parsed, ganStateTensors(state), { name: path });
  state.gen.setState(meta.rng.model);
  state.dataGen.setState(meta.rng.data);
  state.optG.stepCount = meta.optimizer.G;
  state.optD.stepCount = meta.optimizer.D;
  return { state, meta };
}

export async function runGan(be: Backend, data: FashionMnist, opts: GanRunOptions, outDir: string, resumePath?: string): Promise<{ history: GanEpoch[]; state: GanState; seconds: number }> {
  const log = opts.log ?? console.log;
  const t00 = performance.now();
  let s: GanState;
  let history: GanEpoch[] = [];
  let startEpoch = 1;
  let step = 0;
  if (resumePath) {
    const loaded = loadGan(be, resumePath, opts.config.kind);
    s = loaded.state;
    history = loaded.meta.history ?? [];
    startEpoch = loaded.meta.epoch + 1;
    step = loaded.meta.step;
    log(`resuming from ${resumePath} after epoch ${loaded.meta.epoch}`);
  } else s = makeGan(be, opts.config, opts.hyper, opts.seed);
  mkdirSync(join(outDir, 'samples'), { recursive: true });
  const train = opts.trainSubset && opts.trainSubset < data.train.count ? subset(data.train, Int32Array.from({ length: opts.trainSubset }, (_, i) => i)) : data.train;
  const B = opts.hyper.batch;
  const steps = Math.floor(train.count / B);
  const [zFix, yFix] = sampleInputs(be, s.config, 10, 12345);
  for (let epoch = startEpoch; epoch <= opts.hyper.epochs; epoch++) {
    s.G.train();
    s.D.train();
    const t0 = performance.now();
    let sums: Tensor = Tensor.zeros(be, [SCALARS.length]);
    let k = 0;
    for (const b of batches(train, { batchSize: B, scale: 'symmetric', shuffle: true, dropLast: true }, s.dataGen)) {
      const x = Tensor.from(be, b.x, [B, 1, 28, 28]);
      const y = Tensor.from(be, b.y, [B], 'i32');
      const next = tidy(() => {
        const r: StepScalars = ganStep(be, s, x, y);
        return noGrad(() => F.add(sums, F.concat(SCALARS.map((n) => F.reshape(r[n], [1])), 0)));
      });
      sums.dispose();
      sums = next;
      x.dispose();
      y.dispose();
      k++;
      step++;
      if (opts.onProgress && (k % opts.logEvery === 0 || k === steps)) {
        const v = await sums.toArray();
        const ips = (k * B) / ((performance.now() - t0) / 1000);
        opts.onProgress({ epoch, epochs: opts.hyper.epochs, step: k, steps, d: (v[0] + v[1]) / k, g: v[3] / k, imgPerSec: ips, etaSec: ((steps - k) * B + (opts.hyper.epochs - epoch) * steps * B) / ips });
      }
    }
    const v = await sums.toArray();
    sums.dispose();
    const seconds = (performance.now() - t0) / 1000;
    const m = Object.fromEntries(SCALARS.map((n, i) => [n, v[i] / Math.max(k, 1)])) as Record<(typeof SCALARS)[number], number>;
    for (const n of SCALARS) if (!Number.isFinite(m[n])) throw new Error(`training diverged: ${n} is ${m[n]} in epoch ${epoch} (step ${step}); lower --lr or --resume from the last checkpoint`);
    const e: GanEpoch = { epoch, step, ...m, imgPerSec: (k * B) / seconds, seconds, gradNorms: { G: await gradNorms(s.G), D: await gradNorms(s.D) } };
    history.push(e);
    appendFileSync(join(outDir, 'metrics.jsonl'), JSON.stringify(e) + '\n');
    if (opts.trace) {
      const n = Math.min(B, train.count);
      const real = [...batches(subset(train, Int32Array.from({ length: n }, (_, i) => i)), { batchSize: n, scale: 'symmetric', shuffle: false }, new Generator(0))][0];
      const inputs = [Tensor.from(be, real.x, [n, 1, 28, 28]), Tensor.from(be, real.y, [n], 'i32'), F.narrow(zFix, 0, 0, n), F.narrow(yFix, 0, 0, n)];
      const tr = await traceGan(be, s, inputs[2], inputs[3], inputs[0], inputs[1]);
      appendFileSync(join(outDir, 'trace.jsonl'), JSON.stringify({ epoch, step, ...tr }) + '\n');
      for (const t of inputs) t.dispose();
    }
    const imgs = await generate(s.G, zFix, yFix);
    const grid = join(outDir, 'samples', `epoch_${String(epoch).padStart(3, '0')}.png`);
    writeGridPng(grid, imgs, { rows: 10, cols: 10 });
    copyFileSync(grid, join(outDir, 'grid.png'));
    writeCurves(outDir, history);
    await saveGan(join(outDir, 'checkpoint.safetensors'), s, opts, epoch, step, history);
    log(`epoch ${epoch}: D(real) ${m.dReal.toFixed(3)} D(fake) ${m.dFake.toFixed(3)}${s.config.kind === 'acgan' ? ` aux ${m.aux.toFixed(3)}` : ''} G ${m.g.toFixed(3)} | D(x) ${m.dx.toFixed(2)} D(G(z)) ${m.dgz.toFixed(2)} | ${e.imgPerSec.toFixed(0)} img/s, ${seconds.toFixed(1)} s`);
  }
  zFix.dispose();
  yFix.dispose();
  return { history, state: s, seconds: (performance.now() - t00) / 1000 };
}

function writeCurves(dir: string, h: GanEpoch[]): void {
  const x = h.map((e) => e.epoch);
  const series = [
    { name: 'D loss (real)', x, y: h.map((e) => e.dReal) },
    { name: 'D loss (fake)', x, y: h.map((e) => e.dFake) },
    { name: 'G loss', x, y: h.map((e) => e.g) },
  ];
  if (h.some((e) => e.aux !== 0)) series.push({ name: 'aux class loss', x, y: h.map((e) => e.aux) });
  writeFileSync(join(dir, 'losses.svg'), lineChart('GAN losses per epoch', 'epoch', series));
  writeFileSync(join(dir, 'd_outputs.svg'), lineChart('Mean discriminator output', 'epoch', [{ name: 'D(x)', x, y: h.map((e) => e.dx) }, { name: 'D(G(z))', x, y: h.map((e) => e.dgz) }]));
}
