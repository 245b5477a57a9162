// gan/loop.ts — the GAN training loop that `npm run train` (app/gan_run.ts) and the playground's Train view
// (web/trainer.ts) both run: the data order (a seeded shuffle per epoch, resumable in the middle of one), one
// ganStep per batch (or, in the page's manual mode, D's or G's half alone), the epoch's scalar sums kept on the GPU
// (read back only when the caller asks), and a GAN's checkpoint: its tensors, its metadata, and the state rebuilt
// from it. Browser-clean (no Node built-ins): files, timing, logging and drawing belong to the callers.
import type { Backend } from '../autograd/backend.js';
import { Tensor, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import { batches, subset, type Batch } from '../data/dataset.js';
import type { LabelledImages } from '../data/idx.js';
import { CheckpointError, assignState, type ParsedCheckpoint } from '../nn/checkpoint.js';
import { ganConventions, ganPreprocessing, type GanConfig } from './models.js';
import { type GanHyper, type GanState, SCALARS, type StepPart, ganStep, makeGan, stepVector } from './train.js';

/** where in training a checkpoint was taken: after `inEpoch` batches of epoch `epoch` + 1 (0: at an epoch end) */
export interface Position {
  epoch: number;
  inEpoch: number;
  /** the data generator's state when that epoch began (its shuffle is redrawn from it on resume) */
  epochData: { seed: number; calls: number };
  /** the epoch's running sums so far (SCALARS' order) */
  partial: number[];
  /** the epoch's D and G steps so far, where they differ from inEpoch (the page's manual steps); absent: both inEpoch
  /** */
  counts?: { d: number; g: number };
}

/** the images a run trains on: the first `trainSubset` of the training set (--train-subset), or all of them */
export function trainingSet(train: LabelledImages, trainSubset?: number | null): LabelledImages {
  return trainSubset && trainSubset < train.count
    ? subset(
        train,
        Int32Array.from({ length: trainSubset }, (_, i) => i),
      )
    : train;
}

/** a step's scalars as the epoch's means: D's by the D steps, G's by the G steps */
export type StepMeans = Record<(typeof SCALARS)[number], number>;

/** the means of summed step vectors (SCALARS' order) over `counts` D and G steps */
export function meansOf(v: ArrayLike<number>, counts: { d: number; g: number }): StepMeans {
  return Object.fromEntries(
    SCALARS.map((n, i) => [n, v[i] / Math.max(n === 'g' ? counts.g : counts.d, 1)]),
  ) as StepMeans;
}

/**
 * The loop over one GAN's training data. An epoch is `stepsPerEpoch` batches of a fresh seeded shuffle (drop-last);
 * `next()` trains on the next batch (a D or full step consumes one, a G-only step none). The caller decides what
 * happens between steps (progress, checkpoints, throttling, the page's refreshes) and at an epoch's end.
 */
export class GanLoop {
  readonly stepsPerEpoch: number;
  /** the epoch being trained, from 1 */
  epoch: number;
  /** batches of it trained so far (the resume position counts the ones trained before) */
  inEpoch = 0;
  /** where this session began in the epoch (batches trained before a resume) */
  skipped = 0;
  /** steps of any kind, over the whole run */
  step: number;
  /** the epoch's D and G steps (equal to inEpoch unless manual steps ran one half alone) */
  counts = { d: 0, g: 0 };
  /** the epoch's step vectors summed, on the GPU [SCALARS.length] */
  sums: Tensor | null = null;
  private batchIter: Iterator<Batch> | null = null;
  private epochData: Position['epochData'] | null = null;
  /** the checkpoint's mid-epoch position, until its epoch begins */
  private resumeAt: Position | null;

  /**
   * `done`: the run's position so far (a checkpoint's `step` and position; nothing for a fresh run), from which the
   * next epoch begins (the middle of one when the position says so).
   */
  constructor(
    private readonly be: Backend,
    readonly s: GanState,
    readonly train: LabelledImages,
    readonly batch: number,
    done: { step: number; position: Position | null } = { step: 0, position: null },
  ) {
    this.stepsPerEpoch = Math.floor(train.count / batch);
    if (this.stepsPerEpoch < 1) throw new Error(`${train.count} training images are fewer than one batch of ${batch}`);
    this.step = done.step;
    this.epoch = (done.position?.epoch ?? 0) + 1;
    this.resumeAt = done.position?.inEpoch ? done.position : null;
  }

  /**
   * begin `this.epoch`: its shuffle drawn, its sums zeroed (at a resume position: the batches already trained skipped)
   */
  beginEpoch(): void {
    const pos = this.resumeAt;
    this.resumeAt = null;
    const skip = pos?.inEpoch ?? 0;
    if (skip) this.s.dataGen.setState(pos!.epochData);
    this.epochData = this.s.dataGen.state();
    this.sums?.dispose();
    this.sums =
      skip && pos!.partial.length
        ? Tensor.from(this.be, pos!.partial, [SCALARS.length])
        : Tensor.zeros(this.be, [SCALARS.length]);
    const order = { batchSize: this.batch, scale: 'symmetric' as const, shuffle: true, dropLast: true };
    this.batchIter = batches(this.train, order, this.s.dataGen)[Symbol.iterator]();
    // already trained before the interruption (the shuffle is redrawn identically)
    for (let k = 0; k < skip; k++) this.batchIter.next();
    this.inEpoch = this.skipped = skip;
    this.counts = pos?.counts ? { ...pos.counts } : { d: skip, g: skip };
  }

  /** the epoch has no batch left: endEpoch() next */
  get epochDone(): boolean {
    return this.inEpoch >= this.stepsPerEpoch;
  }

  /**
   * One step: ganStep on the next batch ('both'), D's half alone on it ('D'), or G's half alone ('G', no batch
   * used). Records GPU work only (no readback); its scalars are added to the epoch's sums.
   */
  next(part: StepPart = 'both'): void {
    if (!this.sums || !this.batchIter) this.beginEpoch();
    if (part !== 'G' && this.epochDone)
      throw new Error('GanLoop.next: the epoch has no batch left; call endEpoch() first');
    const B = this.batch;
    let x: Tensor | null = null,
      y: Tensor | null = null;
    if (part !== 'G') {
      const b = this.batchIter!.next().value as Batch;
      x = Tensor.from(this.be, b.x, [B, 1, 28, 28]);
      y = Tensor.from(this.be, b.y, [B], 'i32');
    }
    const sums = this.sums!;
    const next = tidy(() => {
      const r = ganStep(this.be, this.s, x ?? B, y, part);
      return noGrad(() => F.add(sums, stepVector(r)));
    });
    sums.dispose();
    this.sums = next;
    x?.dispose();
    y?.dispose();
    if (part !== 'G') {
      this.inEpoch++;
      this.counts.d++;
    }
    if (part !== 'D') this.counts.g++;
    this.step++;
  }

  /** the position for a checkpoint now (one readback of the sums); the epoch goes on */
  async position(): Promise<Position> {
    if (!this.sums) return { epoch: this.epoch - 1, inEpoch: 0, epochData: this.s.dataGen.state(), partial: [] };
    const partial = Array.from(await this.sums.toArray());
    const both = this.counts.d === this.inEpoch && this.counts.g === this.inEpoch;
    const counts = both ? {} : { counts: { ...this.counts } };
    return { epoch: this.epoch - 1, inEpoch: this.inEpoch, epochData: this.epochData!, partial, ...counts };
  }

  /** the epoch's mean scalars (one readback); the next epoch begins at the next step */
  async endEpoch(): Promise<StepMeans> {
    const v = this.sums ? await this.sums.toArray() : new Float32Array(SCALARS.length);
    this.sums?.dispose();
    this.sums = null;
    this.batchIter = null;
    const m = meansOf(v, this.counts);
    this.epoch++;
    this.inEpoch = this.skipped = 0;
    this.counts = { d: 0, g: 0 };
    return m;
  }

  /** the position at an epoch's end (after endEpoch) */
  epochEndPosition(): Position {
    return { epoch: this.epoch - 1, inEpoch: 0, epochData: this.s.dataGen.state(), partial: [] };
  }

  dispose(): void {
    this.sums?.dispose();
    this.sums = null;
  }
}

// --- checkpoints ------------------------------------------------------------------------------------------------

/** a GAN state's tensors by checkpoint name: G, D, their Adam moments, G_ema where kept */
export function ganStateTensors(s: GanState): Record<string, Tensor> {
  const gNames = s.G.namedParameters().map(([n]) => n);
  const dNames = s.D.namedParameters().map(([n]) => n);
  const pre = (p: string, r: Record<string, Tensor>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [`${p}${k}`, v]));
  return {
    // each network's state_dict under its prefix; the optimizers' moments under optim.m. / optim.v. + the full name
    ...pre('G.', s.G.stateDict()),
    ...pre('D.', s.D.stateDict()),
    ...s.optG.stateTensors(gNames.map((n) => `G.${n}`)),
    ...s.optD.stateTensors(dNames.map((n) => `D.${n}`)),
    ...(s.ema ? pre('G_ema.', s.ema.G.stateDict()) : {}),
  };
}

/** what a run was started with: the facts a checkpoint names besides the state */
export interface GanRunInfo {
  preset: string;
  hyper: GanHyper;
  seed: number;
  trainSubset?: number | null;
}

/**
 * A GAN checkpoint's metadata. Where D's and G's Adam settings differ from hyper's single lr and β1 (changed in the
 * playground), `adam` records each; a resume restores them.
 */
export function ganCheckpointMeta(
  s: GanState,
  run: GanRunInfo,
  epoch: number,
  step: number,
  history: readonly object[],
  position: Position,
): Record<string, unknown> {
  const one = s.optG.lr === s.optD.lr && s.optG.beta1 === run.hyper.beta1 && s.optD.beta1 === run.hyper.beta1;
  return {
    // the state's own average (a run resumed from a checkpoint without one keeps none, whatever opts ask)
    model: s.config.kind,
    config: s.config,
    preprocessing: ganPreprocessing(s.config),
    conventions: ganConventions(s.config),
    hyper: { ...run.hyper, lr: s.optG.lr, emaDecay: s.ema?.avg.decay ?? 0 },
    preset: run.preset,
    seed: run.seed,
    epoch,
    step,
    position,
    trainSubset: run.trainSubset ?? null,
    rng: { model: s.gen.state(), data: s.dataGen.state() },
    optimizer: { G: s.optG.stepCount, D: s.optD.stepCount },
    ...(one ? {} : { adam: { G: { lr: s.optG.lr, beta1: s.optG.beta1 }, D: { lr: s.optD.lr, beta1: s.optD.beta1 } } }),
    ...(s.ema ? { ema: { decay: s.ema.avg.decay, updates: s.ema.avg.updates } } : {}),
    history: history.map((h) => ({ ...h, gradNorms: undefined })),
  };
}

/** rebuild a GAN's whole training state (networks, optimizers, random streams) from a parsed checkpoint */
export function ganFromCheckpoint(
  be: Backend,
  parsed: ParsedCheckpoint,
  name: string,
): { state: GanState; meta: Record<string, any> } {
  const meta = parsed.meta as Record<string, any>;
  if (meta.model !== 'cgan' && meta.model !== 'acgan')
    throw new CheckpointError(`${name}: a checkpoint of model "${meta.model}", not a GAN`);
  if (meta.slim === true || !meta.rng || !meta.optimizer)
    throw new CheckpointError(
      `${name}: a slim checkpoint (weights only) cannot resume training: open the run's full checkpoint.safetensors`,
    );
  const state = makeGan(be, meta.config as GanConfig, meta.hyper as GanHyper, meta.seed ?? 0);
  assignState(parsed, ganStateTensors(state), { name });
  state.gen.setState(meta.rng.model);
  state.dataGen.setState(meta.rng.data);
  state.optG.stepCount = meta.optimizer.G;
  state.optD.stepCount = meta.optimizer.D;
  if (meta.adam) {
    ({ lr: state.optG.lr, beta1: state.optG.beta1 } = meta.adam.G);
    ({ lr: state.optD.lr, beta1: state.optD.beta1 } = meta.adam.D);
  }
  if (state.ema) state.ema.avg.updates = meta.ema?.updates ?? 0;
  return { state, meta };
}

/** a checkpoint's resume position (one written before positions existed: its epoch's end) */
export function positionOf(meta: Record<string, any>): Position {
  return (
    (meta.position as Position | undefined) ?? { epoch: meta.epoch, inEpoch: 0, epochData: meta.rng.data, partial: [] }
  );
}
