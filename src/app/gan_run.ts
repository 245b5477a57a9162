// app/gan_run.ts — a GAN training run as `npm run train` does it: epochs of the training loop (gan/loop.ts, which the
// playground's Train view runs too: ganStep over shuffled real images in [−1, 1]) with progress, the NaN guard and
// exact-position checkpoints on a stop request between steps, then per epoch a 10×10 sample grid (a row per class,
// fixed noise), loss and D-output curves (SVG), a metrics.jsonl line (losses, mean D(x) and D(G(z)), per-layer
// gradient norms, img/s) and an atomic checkpoint.
import { appendFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RunDir, resumingFrom } from './run_dir.js';
import type { LabelledImages } from '../data/idx.js';
import { loadClassifier } from './cnn_run.js';
import type { Cnn } from '../models/cnn.js';
import { accuracyOf, classify, featureGaussian, fidFromFeatures, fromSymmetric, pickImages } from '../eval/metrics.js';
import type { Gaussian } from '../eval/frechet.js';
import type { Backend } from '../autograd/backend.js';
import { Generator } from '../autograd/random.js';
import { Tensor } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import { batches, subset, type FashionMnist } from '../data/dataset.js';
import {
  type GanHyper,
  type GanState,
  SCALARS,
  generate,
  gradNorms,
  makeGan,
  recalibrateEma,
  sampleInputs,
  samplingGenerator,
} from '../gan/train.js';
import {
  GanLoop,
  type Position,
  ganCheckpointMeta,
  ganFromCheckpoint,
  ganStateTensors,
  positionOf,
  trainingSet,
} from '../gan/loop.js';
export { ganStateTensors } from '../gan/loop.js';
import type { GanConfig, GanGenerator } from '../gan/models.js';
import { writeGridPng } from '../node/png.js';
import { traceGan } from '../gan/trace.js';
import { NonFiniteError, firstNonFinite, SPREAD_NOTE } from '../train/guard.js';
export { NonFiniteError } from '../train/guard.js';
import { lineChart } from '../report/svg.js';
import { saveCheckpoint, readCheckpoint } from '../node/checkpoint.js';
import { parseCheckpoint, CheckpointError } from '../nn/checkpoint.js';

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
  /** the epoch's wall time, less any kernel timing (tuneSeconds) */
  seconds: number;
  /** seconds spent timing conv tiles during the epoch (the first, mostly; absent when none) */
  tuneSeconds?: number;
  gradNorms: { G: Record<string, number>; D: Record<string, number> };
  /** the GPU buffer pool at the epoch's end, MiB (Backend.memory; absent on the CPU reference): live, the peak of
   *  live during the epoch, and allocated on the device — equal from epoch to epoch once warm */
  memoryMiB?: { live: number; peak: number; allocated: number };
  /** FID on our classifier's features, on the epochs --fid-every picks (of the generator samples come from: the
   *  weight average when the run keeps one) */
  fid?: number;
  /** the classifier's accuracy on those generated images (their intended labels), same epochs */
  genAcc?: number;
  /** with a weight average: FID and accuracy of the trained weights themselves, for comparison */
  fidTrained?: number;
  genAccTrained?: number;
  /** the real-vs-real floor at the same size: FID of as many training images against the same test images */
  fidFloor?: number;
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
  /** checked after every step: true stops the run at once with an exact-position checkpoint (SIGINT/SIGTERM) */
  shouldStop?: () => boolean;
  /** on resume, use this learning rate instead of the checkpoint's (--lr, or a NaN rollback) */
  lrOverride?: number;
  /** test hook (--debug-nan-at-step): after this global step, fill a generator weight with NaN */
  injectNanAtStep?: number;
  /** test hook (--debug-gpu-fault KIND@STEP): make the GPU look out of memory or lost after that step */
  injectFault?: { kind: 'oom' | 'lost'; step: number };
  /** FID every `every` epochs (and at the last): `n` generated images (n/10 per class) vs `n` test images in the
   *  128-d feature space of the classifier checkpoint `classifier` (--fid-every, --classifier) */
  fid?: { every: number; classifier: string; n: number };
  onProgress?: (p: {
    epoch: number;
    epochs: number;
    step: number;
    steps: number;
    d: number;
    g: number;
    imgPerSec: number;
    etaSec: number;
  }) => void;
  log?: (s: string) => void;
}

async function saveGan(
  path: string,
  s: GanState,
  opts: GanRunOptions,
  epoch: number,
  step: number,
  history: GanEpoch[],
  position: Position,
): Promise<void> {
  await saveCheckpoint(path, {
    tensors: ganStateTensors(s),
    meta: ganCheckpointMeta(s, opts, epoch, step, history, position),
  });
}

/** rebuild a GAN from a checkpoint (kind checked when `kind` is given) */
export function loadGan(be: Backend, path: string, kind?: string): { state: GanState; meta: Record<string, any> } {
  return ganFromCheckpoint(be, parseCheckpoint(readCheckpoint(path), { name: path, model: kind }), path);
}

/**
 * A checkpoint taken in the middle of an epoch continues that epoch's shuffle after `inEpoch` batches: with another
 * batch size or training subset the batches already trained would not be the ones skipped. Refuse, naming the
 * flags that continue it exactly (an epoch-end checkpoint can go on with any batch size or subset).
 */
function checkMidEpochResume(path: string, meta: Record<string, any>, opts: GanRunOptions): void {
  const was = { batch: meta.hyper?.batch as number, subset: meta.trainSubset as number | null | undefined };
  const now = { batch: opts.hyper.batch, subset: opts.trainSubset ?? null };
  const diffs: string[] = [];
  if (was.batch !== now.batch) diffs.push(`--batch ${was.batch} (asked: ${now.batch})`);
  if (was.subset !== undefined && was.subset !== now.subset)
    diffs.push(
      was.subset === null
        ? `no --train-subset (asked: ${now.subset})`
        : `--train-subset ${was.subset} (asked: ${now.subset ?? 'all images'})`,
    );
  if (diffs.length)
    throw new CheckpointError(
      `${path} was written in the middle of epoch ${meta.position.epoch + 1} (after ${meta.position.inEpoch} batches) with ${diffs.join(' and ')}; resume it with the same settings, or continue from an epoch-end checkpoint`,
    );
}

/** bytes → MiB, to 0.1 */
const mib = (bytes: number) => Math.round((10 * bytes) / 2 ** 20) / 10;
/** G's and D's parameters by checkpoint name, for the non-finite scan */
const allParams = (s: GanState) => [
  ...s.G.namedParameters().map(([n, p]) => [`G.${n}`, p] as const),
  ...s.D.namedParameters().map(([n, p]) => [`D.${n}`, p] as const),
];

export interface GanRunResult {
  history: GanEpoch[];
  state: GanState;
  seconds: number;
  /** stopped early by shouldStop(): the checkpoint holds the exact position */
  interrupted: boolean;
  step: number;
}

export async function runGan(
  be: Backend,
  data: FashionMnist,
  opts: GanRunOptions,
  outDir: string,
  resumePath?: string,
): Promise<GanRunResult> {
  const log = opts.log ?? console.log;
  const t00 = performance.now();
  const { s, history, step, pos } = startGan(be, opts, resumePath, log);
  const dir = new RunDir(outDir);
  mkdirSync(dir.path('samples'), { recursive: true });
  const train = trainingSet(data.train, opts.trainSubset);
  const B = opts.hyper.batch;
  if (train.count < B) throw new Error(`--train-subset ${train.count} is smaller than one batch of ${B}`);
  const loop = new GanLoop(be, s, train, B, { step, position: pos });
  const [zFix, yFix] = sampleInputs(be, s.config, 10, 12345);
  const fidRuler = opts.fid ? await fidRulerFor(be, data, s, opts.fid) : null;
  const save = (epoch: number, position: Position) =>
    saveGan(dir.path('checkpoint.safetensors'), s, opts, epoch, loop.step, history, position);
  const run: GanRunParts = { be, opts, s, loop, dir, history, train, zFix, yFix, fidRuler, save, log };
  let interrupted = false;
  try {
    for (let epoch = loop.epoch; epoch <= opts.hyper.epochs && !interrupted; epoch++) {
      const t0 = performance.now();
      const tune0 = be.tuneMs ?? 0;
      /** seconds since t0, less the time spent timing kernels */
      const elapsed = () => (performance.now() - t0 - ((be.tuneMs ?? 0) - tune0)) / 1000;
      if (!(await trainEpoch(run, epoch, elapsed))) {
        interrupted = true;
        break;
      }
      await endEpoch(run, epoch, elapsed(), ((be.tuneMs ?? 0) - tune0) / 1000);
      if (opts.shouldStop?.()) interrupted = epoch < opts.hyper.epochs;
    }
  } finally {
    zFix.dispose();
    yFix.dispose();
    if (fidRuler) {
      fidRuler.model.dispose();
      fidRuler.z.dispose();
      fidRuler.y.dispose();
    }
  }
  return { history, state: s, seconds: (performance.now() - t00) / 1000, interrupted, step: loop.step };
}

/** what the steps of one GAN run share */
interface GanRunParts {
  be: Backend;
  opts: GanRunOptions;
  s: GanState;
  loop: GanLoop;
  dir: RunDir;
  history: GanEpoch[];
  train: LabelledImages;
  /** the fixed noise and labels of every epoch's sample grid */
  zFix: Tensor;
  yFix: Tensor;
  fidRuler: FidRuler | null;
  save: (epoch: number, position: Position) => Promise<void>;
  log: (s: string) => void;
}

/** a new GAN, or one resumed from a checkpoint (its history, step and position in the data) */
function startGan(be: Backend, opts: GanRunOptions, resumePath: string | undefined, log: (s: string) => void) {
  if (!resumePath)
    return { s: makeGan(be, opts.config, opts.hyper, opts.seed), history: [] as GanEpoch[], step: 0, pos: null };
  const loaded = loadGan(be, resumePath, opts.config.kind);
  const s = loaded.state;
  const pos = positionOf(loaded.meta);
  if (opts.lrOverride !== undefined) s.optG.lr = s.optD.lr = opts.lrOverride;
  if (pos.inEpoch) checkMidEpochResume(resumePath, loaded.meta, opts);
  log(resumingFrom(resumePath, pos.epoch, pos.inEpoch, loaded.meta.step));
  return { s, history: (loaded.meta.history ?? []) as GanEpoch[], step: loaded.meta.step as number, pos };
}

/** the FID ruler: the classifier and the real test set's feature Gaussian, computed once; the floor beside it */
async function fidRulerFor(
  be: Backend,
  data: FashionMnist,
  s: GanState,
  fid: NonNullable<GanRunOptions['fid']>,
): Promise<FidRuler> {
  const cls = loadClassifier(be, fid.classifier);
  const realImgs = pickImages(data.test, fid.n);
  const real = featureGaussian(await classify(be, cls.model, realImgs.images));
  // the floor: as many real training images against the same test images (what sampling noise alone gives)
  const train = featureGaussian(await classify(be, cls.model, pickImages(data.train, fid.n).images));
  const floor = fidFromFeatures(train, real, null, basename(fid.classifier)).fid;
  const [z, y] = sampleInputs(be, s.config, Math.max(1, Math.round(fid.n / s.config.classes)), 777);
  return {
    model: cls.model,
    real,
    floor,
    name: basename(fid.classifier),
    z,
    y,
    labels: Int32Array.from(await y.toArray()),
  };
}

/**
 * One epoch's steps: every `logEvery` steps the loss sums and weights are read back (a non-finite one stops the
 * run: NonFiniteError) and progress reported; a stop request between steps writes an exact-position checkpoint
 * and returns false.
 */
async function trainEpoch(run: GanRunParts, epoch: number, elapsed: () => number): Promise<boolean> {
  const { be, opts, s, loop } = run;
  const B = opts.hyper.batch;
  const steps = loop.stepsPerEpoch;
  s.G.train();
  s.D.train();
  loop.beginEpoch();
  const skip = loop.skipped;
  let checked = loop.step;
  while (!loop.epochDone) {
    loop.next();
    const k = loop.inEpoch;
    const step = loop.step;
    if (opts.injectFault?.step === step)
      (be as { gpu?: { injectFault(k: string): void } }).gpu?.injectFault(opts.injectFault.kind);
    // test hook
    if (opts.injectNanAtStep === step) s.G.up1.weight.assign(new Float32Array(s.G.up1.weight.size).fill(NaN));
    if (k % opts.logEvery === 0 || k === steps) {
      // losses and weights: a NaN weight can hide behind a ReLU (max(NaN, 0) is 0) and keep the loss finite
      const v = await loop.sums!.toArray();
      const tensor = await firstNonFinite(allParams(s));
      if (tensor || v.some((x) => !Number.isFinite(x))) {
        const bad = SCALARS.filter((_, i) => !Number.isFinite(v[i]));
        throw new NonFiniteError(
          `non-finite ${[...bad, ...(tensor ? ['weights'] : [])].join(', ')} between steps ${checked + 1} and ${step} (epoch ${epoch})${tensor ? `; first non-finite parameter (${SPREAD_NOTE}): ${tensor}` : ''}`,
          step,
        );
      }
      checked = step;
      const ips = ((k - skip) * B) / elapsed();
      opts.onProgress?.({
        epoch,
        epochs: opts.hyper.epochs,
        step: k,
        steps,
        d: (v[0] + v[1]) / k,
        g: v[3] / k,
        imgPerSec: ips,
        etaSec: ((steps - k) * B + (opts.hyper.epochs - epoch) * steps * B) / ips,
      });
    }
    // stay at most two steps ahead of the GPU (bounded queue; signal handlers get to run)
    await be.throttle?.(2);
    if (opts.shouldStop?.() && k < steps) {
      const position = await loop.position();
      loop.dispose();
      recalibrateEma(be, s); // the checkpoint's G_ema statistics match its weights
      await run.save(epoch - 1, position);
      return false;
    }
  }
  return true;
}

/** an epoch's end: its metrics line (FID on the epochs asked), trace, sample grid, curves and checkpoint */
async function endEpoch(run: GanRunParts, epoch: number, seconds: number, tuneSeconds: number): Promise<void> {
  const { be, opts, s, loop, dir, history, fidRuler } = run;
  const k = loop.inEpoch;
  const skip = loop.skipped;
  const m = await loop.endEpoch();
  const e: GanEpoch = {
    epoch,
    step: loop.step,
    ...m,
    imgPerSec: ((k - skip) * opts.hyper.batch) / seconds,
    seconds,
    ...(tuneSeconds > 0 ? { tuneSeconds } : {}),
    gradNorms: { G: await gradNorms(s.G), D: await gradNorms(s.D) },
  };
  const mem = be.memory?.(); // before this epoch's FID, trace and samples (their buffers count in the next peak)
  if (mem) e.memoryMiB = { live: mib(mem.live), peak: mib(mem.peak), allocated: mib(mem.allocated) };
  recalibrateEma(be, s);
  if (fidRuler && (epoch % opts.fid!.every === 0 || epoch === opts.hyper.epochs)) {
    ({ fid: e.fid, acc: e.genAcc } = await fidAndAccuracy(be, fidRuler, samplingGenerator(s)));
    e.fidFloor = fidRuler.floor;
    if (s.ema) ({ fid: e.fidTrained, acc: e.genAccTrained } = await fidAndAccuracy(be, fidRuler, s.G));
  }
  history.push(e);
  dir.appendMetrics(e);
  if (opts.trace) await traceEpoch(run, epoch);
  const imgs = await generate(samplingGenerator(s), run.zFix, run.yFix);
  const grid = dir.path('samples', `epoch_${String(epoch).padStart(3, '0')}.png`);
  writeGridPng(grid, imgs, { rows: 10, cols: 10 });
  copyFileSync(grid, dir.path('grid.png'));
  dir.writeCharts(ganCharts(history));
  await run.save(epoch, loop.epochEndPosition());
  run.log(
    `epoch ${epoch}: ${e.fid !== undefined ? `${fidNote(e)} | ` : ''}D(real) ${m.dReal.toFixed(3)} D(fake) ${m.dFake.toFixed(3)}${s.config.kind === 'acgan' ? ` aux ${m.aux.toFixed(3)}` : ''} G ${m.g.toFixed(3)} | D(x) ${m.dx.toFixed(2)} D(G(z)) ${m.dgz.toFixed(2)} | ${e.imgPerSec.toFixed(0)} img/s, ${seconds.toFixed(1)} s${e.tuneSeconds ? ` (+ ${e.tuneSeconds.toFixed(1)} s timing conv tiles)` : ''}`,
  );
}

/** --trace: per-layer statistics on the first batch of the training set and the grid's noise, into trace.jsonl */
async function traceEpoch(run: GanRunParts, epoch: number): Promise<void> {
  const { be, s, train } = run;
  const n = Math.min(run.opts.hyper.batch, train.count);
  const first = subset(
    train,
    Int32Array.from({ length: n }, (_, i) => i),
  );
  const real = [...batches(first, { batchSize: n, scale: 'symmetric', shuffle: false }, new Generator(0))][0];
  const inputs = [
    Tensor.from(be, real.x, [n, 1, 28, 28]),
    Tensor.from(be, real.y, [n], 'i32'),
    F.narrow(run.zFix, 0, 0, n),
    F.narrow(run.yFix, 0, 0, n),
  ];
  const tr = await traceGan(be, s, inputs[2], inputs[3], inputs[0], inputs[1]);
  appendFileSync(run.dir.path('trace.jsonl'), `${JSON.stringify({ epoch, step: run.loop.step, ...tr })}\n`);
  for (const t of inputs) t.dispose();
}

/** the FID ruler of a run: classifier, the real test set's feature Gaussian, fixed noise and labels (host copy) */
interface FidRuler {
  model: Cnn;
  real: Gaussian;
  /** FID of real training images against `real`, at the same size */
  floor: number;
  name: string;
  z: Tensor;
  y: Tensor;
  labels: Int32Array;
}

/** FID of G's images for the ruler's noise and labels, and the classifier's accuracy on them */
async function fidAndAccuracy(be: Backend, r: FidRuler, G: GanGenerator): Promise<{ fid: number; acc: number }> {
  const c = await classify(be, r.model, fromSymmetric(await generate(G, r.z, r.y)));
  return {
    fid: fidFromFeatures(featureGaussian(c), r.real, null, r.name).fid,
    acc: accuracyOf(c.predictions, r.labels).acc,
  };
}

/** "FID 17.84, accuracy 85.1% (trained weights: 19.20, 83.0%)" */
function fidNote(e: GanEpoch): string {
  const one = (fid: number, acc: number | undefined) =>
    `${fid.toFixed(2)}${acc !== undefined ? `, accuracy ${(100 * acc).toFixed(1)}%` : ''}`;
  return `FID ${one(e.fid!, e.genAcc)}${e.fidTrained !== undefined ? ` (trained weights: ${one(e.fidTrained, e.genAccTrained)})` : ''}${e.fidFloor !== undefined ? `, floor ${e.fidFloor.toFixed(2)}` : ''}`;
}

/**
 * The epochs with an FID (--fid-every) as two line charts: FID (with the real-vs-real floor), and the classifier's
 * accuracy on the generated images — of the weight average and, beside it, of the trained weights where the run
 * kept an average (`trained`). Null without FID epochs; `accuracy` null for runs from before it was recorded.
 */
export function fidCharts(
  h: readonly Pick<GanEpoch, 'epoch' | 'fid' | 'genAcc' | 'fidTrained' | 'genAccTrained' | 'fidFloor'>[],
): { fid: string; accuracy: string | null; trained: boolean } | null {
  const w = h.filter((e) => e.fid !== undefined);
  if (!w.length) return null;
  const x = w.map((e) => e.epoch);
  const trained = w.every((e) => e.fidTrained !== undefined);
  const chart = (
    title: string,
    what: string,
    key: 'fid' | 'genAcc',
    keyTrained: 'fidTrained' | 'genAccTrained',
    scale: number,
  ) => {
    const series = [{ name: trained ? `${what} (weight average)` : what, x, y: w.map((e) => scale * e[key]!) }];
    if (trained) series.push({ name: `${what} (trained weights)`, x, y: w.map((e) => scale * e[keyTrained]!) });
    if (key === 'fid' && w.every((e) => e.fidFloor !== undefined))
      series.push({ name: 'real-vs-real floor', x, y: w.map((e) => e.fidFloor!) });
    return lineChart(title, 'epoch', series);
  };
  return {
    fid: chart("FID (our classifier's features) per epoch", 'FID', 'fid', 'fidTrained', 1),
    accuracy: w.every((e) => e.genAcc !== undefined)
      ? chart('Classifier accuracy on generated images (%) per epoch', 'accuracy', 'genAcc', 'genAccTrained', 100)
      : null,
    trained,
  };
}

/** the losses per epoch (the AC-GAN's class loss where the run has one) and D's mean outputs, as line charts: the
 *  run's losses.svg and d_outputs.svg, and the report's first two curves */
export function lossCharts(h: readonly Pick<GanEpoch, 'epoch' | 'dReal' | 'dFake' | 'g' | 'aux' | 'dx' | 'dgz'>[]): {
  losses: string;
  dOutputs: string;
} {
  const x = h.map((e) => e.epoch);
  const series = [
    { name: 'D loss (real)', x, y: h.map((e) => e.dReal) },
    { name: 'D loss (fake)', x, y: h.map((e) => e.dFake) },
    { name: 'G loss', x, y: h.map((e) => e.g) },
  ];
  if (h.some((e) => e.aux)) series.push({ name: 'aux class loss', x, y: h.map((e) => e.aux) });
  return {
    losses: lineChart('GAN losses per epoch', 'epoch', series),
    dOutputs: lineChart('Mean discriminator output', 'epoch', [
      { name: 'D(x)', x, y: h.map((e) => e.dx) },
      { name: 'D(G(z))', x, y: h.map((e) => e.dgz) },
    ]),
  };
}

/** the run's charts by file name: losses, D's outputs, and FID/accuracy when measured */
function ganCharts(h: GanEpoch[]): Record<string, string | undefined> {
  const lc = lossCharts(h);
  const fc = fidCharts(h);
  return {
    'losses.svg': lc.losses,
    'fid.svg': fc?.fid,
    'gen_accuracy.svg': fc?.accuracy ?? undefined,
    'd_outputs.svg': lc.dOutputs,
  };
}
