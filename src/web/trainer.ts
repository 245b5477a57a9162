// web/trainer.ts — what the playground's Train view computes, apart from the page so that Node tests run it on the
// Node engine: a GAN trained by the same loop as `npm run train` (gan/loop.ts: ganStep over a seeded shuffle of the
// training set), stepped whole or one half at a time (GAN Lab's manual mode), with D's and G's Adam settings
// changeable between steps; the live views' values, read back in one transfer every few steps (the step's own
// work never waits for the GPU); the fixed-noise grid, one sample's path through both networks, the class balance
// the shipped classifier sees; and checkpoints in the CLI's format both ways. Browser-clean (no Node, no DOM).
import type { Backend } from '../autograd/backend.js';
import { Tensor, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import type { LabelledImages } from '../data/idx.js';
import { parseCheckpoint, stateToSafetensors } from '../nn/checkpoint.js';
import { accuracyOf, classBalance, classify, fromSymmetric } from '../eval/metrics.js';
import type { Cnn } from '../models/cnn.js';
import type { GanGenerator } from '../gan/models.js';
import {
  PRESETS,
  SCALARS,
  type StepPart,
  type GanState,
  generate,
  makeGan,
  recalibrateEma,
  sampleInputs,
} from '../gan/train.js';
import {
  GanLoop,
  type GanRunInfo,
  type StepMeans,
  ganCheckpointMeta,
  ganFromCheckpoint,
  ganStateTensors,
  meansOf,
  positionOf,
  trainingSet,
} from '../gan/loop.js';
import { samplePath, type SamplePath } from './explore.js';

export interface TrainSetup {
  /** a key of PRESETS (gan/train.ts) */
  preset: string;
  batch: number;
  seed: number;
  /** train on the first N images (the CLI's --train-subset); null: all */
  trainSubset: number | null;
}

/** one epoch of the page's run, as the CLI's metrics.jsonl lines and checkpoint history hold them */
export interface PageEpoch extends StepMeans {
  epoch: number;
  step: number;
  imgPerSec: number;
  seconds: number;
}

/** what the live views draw, read back once every few steps */
export interface Snapshot {
  step: number;
  epoch: number;
  inEpoch: number;
  stepsPerEpoch: number;
  /** the scalars' means over the steps since the last snapshot (D's by its steps, G's by its), null where none ran */
  window: StepMeans | null;
  windowSteps: { d: number; g: number };
  /** the L2 norm of each parameter's gradient after its network's last step (G.*, D.*); absent before one */
  gradNorms: { G: Record<string, number>; D: Record<string, number> };
}

/** the class balance of a generated batch as the classifier judges it */
export interface Balance {
  count: number;
  /** predicted share of each class; the labels asked for were uniform */
  shares: number[];
  /** classes whose share fell below a fifth of an even share: G no longer makes them (mode collapse) */
  vanished: number[];
  /** the classifier's accuracy against the labels asked for */
  accuracy: number;
}

/** a class counts as vanished below this fraction of its even share */
export const VANISHED_BELOW = 0.2;
/** the CLI's sample-grid noise (run.ts): the page's grid shows the same images `npm run train`'s grid.png would */
const GRID_SEED = 12345;
const BALANCE_SEED = 777;

export class PageTrainer {
  readonly loop: GanLoop;
  readonly history: PageEpoch[];
  private last = { v: new Float64Array(SCALARS.length), d: 0, g: 0 };
  private carry = { v: new Float64Array(SCALARS.length), d: 0, g: 0 };
  private epochStart = { t: performance.now(), inEpoch: 0 };
  private fixed: [Tensor, Tensor];

  private constructor(
    private readonly be: Backend,
    readonly s: GanState,
    readonly run: GanRunInfo,
    train: LabelledImages,
    done: { step: number; position: ReturnType<typeof positionOf> | null },
    history: PageEpoch[],
  ) {
    this.loop = new GanLoop(be, s, trainingSet(train, run.trainSubset), run.hyper.batch, done);
    this.history = history;
    this.fixed = sampleInputs(be, s.config, 10, GRID_SEED);
  }

  /** a fresh run of a preset with the page's batch size, seed and subset */
  static create(be: Backend, train: LabelledImages, setup: TrainSetup): PageTrainer {
    const preset = PRESETS[setup.preset];
    if (!preset) throw new Error(`no preset "${setup.preset}" (presets: ${Object.keys(PRESETS).join(', ')})`);
    if (!(Number.isInteger(setup.batch) && setup.batch >= 1))
      throw new Error(`batch size ${setup.batch}: give a whole number ≥ 1`);
    const hyper = { ...preset.hyper, batch: setup.batch };
    const s = makeGan(be, preset.config, hyper, setup.seed);
    const run = { preset: setup.preset, hyper, seed: setup.seed, trainSubset: setup.trainSubset };
    return new PageTrainer(be, s, run, train, { step: 0, position: null }, []);
  }

  /** a run resumed from a training checkpoint (the CLI's or the page's): its batch size, subset and position */
  static resume(be: Backend, train: LabelledImages, bytes: Uint8Array, name: string): PageTrainer {
    const { state, meta } = ganFromCheckpoint(be, parseCheckpoint(bytes, { name }), name);
    const run: GanRunInfo = {
      preset: meta.preset ?? '?',
      hyper: meta.hyper,
      seed: meta.seed ?? 0,
      trainSubset: meta.trainSubset ?? null,
    };
    return new PageTrainer(
      be,
      state,
      run,
      train,
      { step: meta.step ?? 0, position: positionOf(meta) },
      (meta.history ?? []) as PageEpoch[],
    );
  }

  /**
   * One step (no readback): whole, or D's or G's half alone. Returns true when it ended an epoch's batches: call
   * endEpoch() before the next D or whole step.
   */
  step(part: StepPart = 'both'): boolean {
    if (!this.loop.sums) {
      this.loop.beginEpoch();
      this.epochStart = { t: performance.now(), inEpoch: this.loop.inEpoch };
    }
    this.s.G.train();
    this.s.D.train();
    this.loop.next(part);
    return this.loop.epochDone;
  }

  /** close the epoch (one readback): its means join the history, the steps since the last snapshot are carried */
  async endEpoch(): Promise<PageEpoch> {
    const l = this.loop;
    const v = l.sums ? await l.sums.toArray() : new Float32Array(SCALARS.length);
    this.addWindow(this.carry, v, l.counts);
    this.last = { v: new Float64Array(SCALARS.length), d: 0, g: 0 };
    const seconds = (performance.now() - this.epochStart.t) / 1000;
    const trained = l.inEpoch - this.epochStart.inEpoch;
    const epoch = l.epoch;
    const means = await l.endEpoch();
    const e: PageEpoch = {
      epoch,
      step: l.step,
      ...means,
      imgPerSec: (trained * l.batch) / Math.max(seconds, 1e-9),
      seconds,
    };
    this.history.push(e);
    return e;
  }

  /** carry += (v, counts) − last */
  private addWindow(
    into: { v: Float64Array; d: number; g: number },
    v: ArrayLike<number>,
    counts: { d: number; g: number },
  ): void {
    for (let i = 0; i < SCALARS.length; i++) into.v[i] += v[i] - this.last.v[i];
    into.d += counts.d - this.last.d;
    into.g += counts.g - this.last.g;
  }

  /** the live views' values: the scalars since the last snapshot and every gradient's norm, in one readback */
  async snapshot(): Promise<Snapshot> {
    const l = this.loop;
    const named = (net: 'G' | 'D') => (net === 'G' ? this.s.G : this.s.D).namedParameters().filter(([, p]) => p.grad);
    const gN = named('G'),
      dN = named('D');
    const flat = noGrad(() =>
      tidy(() =>
        F.concat(
          [
            l.sums ?? Tensor.zeros(this.be, [SCALARS.length]),
            ...[...gN, ...dN].map(([, p]) => F.reshape(F.sum(F.square(p.grad!)), [1])),
          ],
          0,
        ),
      ),
    );
    const all = await flat.toArray();
    flat.dispose();
    const v = all.subarray(0, SCALARS.length);
    const w = { v: new Float64Array(this.carry.v), d: this.carry.d, g: this.carry.g };
    this.addWindow(w, v, l.counts);
    this.carry = { v: new Float64Array(SCALARS.length), d: 0, g: 0 };
    this.last = { v: Float64Array.from(v), d: l.counts.d, g: l.counts.g };
    const norms = (list: [string, Tensor][], at: number) =>
      Object.fromEntries(list.map(([n], i) => [n, Math.sqrt(all[at + i])]));
    return {
      step: l.step,
      epoch: l.epoch,
      inEpoch: l.inEpoch,
      stepsPerEpoch: l.stepsPerEpoch,
      window: w.d || w.g ? meansOf(w.v, w) : null,
      windowSteps: { d: w.d, g: w.g },
      gradNorms: { G: norms(gN, SCALARS.length), D: norms(dN, SCALARS.length + gN.length) },
    };
  }

  /** D's or G's Adam settings, used from the next step on */
  setAdam(net: 'G' | 'D', opts: { lr?: number; beta1?: number }): void {
    const o = net === 'G' ? this.s.optG : this.s.optD;
    if (opts.lr !== undefined) {
      if (!(opts.lr >= 0 && Number.isFinite(opts.lr)))
        throw new Error(`${net}'s learning rate ${opts.lr}: give a number ≥ 0`);
      o.lr = opts.lr;
    }
    if (opts.beta1 !== undefined) {
      if (!(opts.beta1 >= 0 && opts.beta1 < 1)) throw new Error(`${net}'s β1 ${opts.beta1}: give a number in [0, 1)`);
      o.beta1 = opts.beta1;
    }
  }

  /**
   * The generator samples come from: the weight average or G. The average's batchnorm statistics are recomputed
   * for its weights once per step count, on 4×128 samples (the CLI's 8×256 cost a software adapter over a minute;
   * each batch's statistics already average 25 088 values per channel at the first upsampling).
   */
  private sampler(weights: 'average' | 'trained'): GanGenerator {
    if (weights === 'trained' || !this.s.ema) return this.s.G;
    if (this.calibratedAt !== this.loop.step) recalibrateEma(this.be, this.s, 4, 128);
    this.calibratedAt = this.loop.step;
    return this.s.ema.G;
  }
  private calibratedAt = -1;

  /** the fixed-noise grid, a row per class ([100·784] in [−1, 1]), the same noise as the CLI's grid.png */
  async grid(weights: 'average' | 'trained' = 'average'): Promise<Float32Array> {
    return generate(this.sampler(weights), this.fixed[0], this.fixed[1]);
  }

  /** the fixed noise of grid cell `index` */
  async gridNoise(index: number): Promise<{ z: Float32Array; label: number }> {
    const d = this.s.config.noiseDim;
    const z = noGrad(() => F.narrow(this.fixed[0], 0, index, 1));
    const zv = Float32Array.from(await z.toArray());
    z.dispose();
    return { z: zv.subarray(0, d), label: Math.floor(index / 10) };
  }

  /** one sample's way through G and D (as the explorer draws it) */
  async path(z: Float32Array, label: number, weights: 'average' | 'trained' = 'average'): Promise<SamplePath> {
    return samplePath(this.be, this.sampler(weights), this.s.D, z, label);
  }

  /** what the classifier sees in `perClass` generated images of each class (fixed noise) */
  async balance(judge: Cnn, perClass = 10, weights: 'average' | 'trained' = 'average'): Promise<Balance> {
    const [z, y] = sampleInputs(this.be, this.s.config, perClass, BALANCE_SEED);
    try {
      const imgs = await generate(this.sampler(weights), z, y);
      const c = await classify(this.be, judge, fromSymmetric(imgs));
      const labels = Int32Array.from(await y.toArray());
      const b = classBalance(c.predictions, this.s.config.classes);
      const even = 1 / this.s.config.classes;
      const vanished = b.shares.flatMap((s, k) => (s < VANISHED_BELOW * even ? [k] : []));
      return { count: b.count, shares: b.shares, vanished, accuracy: accuracyOf(c.predictions, labels).acc };
    } finally {
      z.dispose();
      y.dispose();
    }
  }

  /**
   * A training checkpoint in the CLI's format (`npm run train -- --resume`, `npm run sample`, `npm run eval -- gan`
   * read it): the exact position (mid-epoch included), G_ema's batchnorm statistics recomputed for its weights.
   */
  async checkpoint(): Promise<Uint8Array> {
    const l = this.loop;
    const position = await l.position();
    this.sampler('average');
    const meta = ganCheckpointMeta(this.s, this.run, l.epoch - 1, l.step, this.history, position);
    return stateToSafetensors({ tensors: ganStateTensors(this.s), meta });
  }

  dispose(): void {
    this.loop.dispose();
    for (const t of this.fixed) t.dispose();
    const s = this.s;
    s.G.dispose();
    s.D.dispose();
    s.optG.dispose();
    s.optD.dispose();
    if (s.ema) {
      s.ema.avg.dispose();
      s.ema.G.dispose();
    }
    for (const t of [s.ones, s.zeros, s.ones2, ...s.realFake.values()]) t.dispose();
  }
}
