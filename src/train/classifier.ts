// train/classifier.ts — training and evaluation of the CNN classifier, step by step: upload a batch, forward,
// cross-entropy, backward, Adam, all recorded into the shared command encoder inside one tidy scope; the running
// loss and correct count are summed on the GPU and read back only every `logEvery` steps and at epoch ends.
// Early stopping watches validation accuracy and restores the best weights.
import type { Backend } from '../autograd/backend.js';
import { Tensor, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import { Generator } from '../autograd/random.js';
import { Adam } from '../nn/optim.js';
import { NonFiniteError, firstNonFinite, SPREAD_NOTE } from './guard.js';
import { Cnn, type CnnConfig, SEED_CNN } from '../models/cnn.js';
import { batches, splitValidation, subset, CLASS_NAMES, type FashionMnist } from '../data/dataset.js';
import type { LabelledImages } from '../data/idx.js';

export interface ClassifierOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** fraction of the training set held out for early stopping */
  valFraction: number;
  /** stop after this many epochs without a better validation accuracy (0: never) */
  patience: number;
  augment: boolean;
  /** train on the first N images of the (seeded, shuffled) training split only */
  trainSubset?: number;
  testSubset?: number;
  /**
   * extra labelled images appended to the training split after the validation split and `trainSubset` (so
   * validation and test stay real): generated images for the train-on-synthetic study (src/eval/augment.ts).
   * Not meant for runs that save checkpoints: the options, this included, go into the checkpoint's metadata.
   */
  extraTrain?: LabelledImages;
  logEvery: number;
  config?: CnnConfig;
  /** called with each epoch's metrics (the CLI writes metrics.jsonl, curves and checkpoints from here) */
  onEpoch?: (m: EpochMetrics, state: TrainState) => void | Promise<void>;
  onProgress?: (p: Progress) => void;
  /** continue from this state (a loaded checkpoint) */
  resume?: {
    epoch: number;
    step: number;
    history: EpochMetrics[];
    best: { epoch: number; valAcc: number } | null;
    position?: ClassifierPosition;
  };
  /** checked after every step: true stops at once; onInterrupt gets the exact position to checkpoint */
  shouldStop?: () => boolean;
  onInterrupt?: (p: ClassifierPosition, state: TrainState, step: number) => Promise<void>;
}

/** mid-epoch position: `inEpoch` batches of epoch `epoch` + 1 done, from the shuffle drawn at `epochData` */
export interface ClassifierPosition {
  epoch: number;
  inEpoch: number;
  epochData: { seed: number; calls: number };
  /** loss sum, correct count and images seen so far in that epoch */
  partial: [number, number, number];
}

export interface Progress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  acc: number;
  imgPerSec: number;
  etaSec: number;
}

export interface EpochMetrics {
  epoch: number;
  step: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  imgPerSec: number;
  /** the epoch's training wall time, less any kernel timing (tuneSeconds) */
  seconds: number;
  /** seconds spent timing conv tiles during the epoch (absent when none) */
  tuneSeconds?: number;
}

export interface TrainState {
  model: Cnn;
  opt: Adam;
  gen: Generator;
  dataGen: Generator;
  history: EpochMetrics[];
  best: { epoch: number; valAcc: number } | null;
}

export interface EvalResult {
  loss: number;
  acc: number;
  count: number;
  /** [true][predicted] */
  confusion: number[][];
  perClass: { name: string; acc: number }[];
}

/** loss, accuracy and (when asked) the confusion matrix of `model` on `set`, in eval mode, without gradients */
export async function evaluate(
  be: Backend,
  model: Cnn,
  set: LabelledImages,
  batch = 500,
  confusion = true,
): Promise<EvalResult> {
  model.eval();
  const classes = model.config.classes;
  const conf = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = Tensor.zeros(be, [1]);
  let hitSum = Tensor.zeros(be, [1]);
  const gen = new Generator(0);
  for (const b of batches(set, { batchSize: batch, scale: 'unit', shuffle: false }, gen)) {
    const x = Tensor.from(be, b.x, [b.size, 1, set.rows, set.cols]);
    const y = Tensor.from(be, b.y, [b.size], 'i32');
    const [l, h, logits] = noGrad(() =>
      tidy(() => {
        const logits = model.forward(x);
        return [
          F.add(lossSum, F.sum(F.softmaxCrossEntropyRows(logits, y))),
          F.add(hitSum, F.sum(F.argmaxMatch(logits, y))),
          logits,
        ];
      }),
    );
    lossSum.dispose();
    hitSum.dispose();
    lossSum = l;
    hitSum = h;
    if (confusion) {
      const v = await logits.toArray();
      for (let i = 0; i < b.size; i++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (v[i * classes + c] > v[i * classes + best]) best = c;
        conf[b.y[i]][best]++;
      }
    }
    for (const t of [x, y, logits]) t.dispose();
  }
  const loss = (await lossSum.item()) / set.count;
  const acc = (await hitSum.item()) / set.count;
  lossSum.dispose();
  hitSum.dispose();
  const perClass = conf.map((row, c) => ({
    name: CLASS_NAMES[c] ?? String(c),
    acc:
      row[c] /
      Math.max(
        1,
        row.reduce((a, b) => a + b, 0),
      ),
  }));
  return { loss, acc, count: set.count, confusion: conf, perClass };
}

/** copy every parameter and buffer to the host (for restoring the best epoch) */
async function snapshot(model: Cnn): Promise<Map<string, Float32Array | Float64Array | Int32Array>> {
  const out = new Map<string, Float32Array | Float64Array | Int32Array>();
  for (const [n, t] of Object.entries(model.stateDict())) out.set(n, await t.toArray());
  return out;
}

export function makeClassifier(be: Backend, seed: number, config: CnnConfig = SEED_CNN, lr = 1e-3): TrainState {
  const gen = new Generator(seed);
  const model = new Cnn(be, gen, config);
  const opt = new Adam(model.parameters(), { lr });
  return { model, opt, gen, dataGen: new Generator(seed ^ 0x5eed), history: [], best: null };
}

/** split and trim the data as the options say (deterministic in the seed) */
export function prepareData(
  data: FashionMnist,
  opts: Pick<ClassifierOptions, 'valFraction' | 'seed' | 'trainSubset' | 'testSubset'>,
) {
  const { train, val } = splitValidation(data.train, opts.valFraction, opts.seed);
  const first = (s: LabelledImages, n?: number) =>
    n && n < s.count
      ? subset(
          s,
          Int32Array.from({ length: n }, (_, i) => i),
        )
      : s;
  const valN = opts.trainSubset ? Math.max(100, Math.round(opts.trainSubset * opts.valFraction)) : undefined;
  return { train: first(train, opts.trainSubset), val: first(val, valN), test: first(data.test, opts.testSubset) };
}

/** a followed by b (same image size) */
function concatSets(a: LabelledImages, b: LabelledImages): LabelledImages {
  if (a.rows !== b.rows || a.cols !== b.cols)
    throw new Error(`extraTrain: ${b.rows}×${b.cols} images for a ${a.rows}×${a.cols} training set`);
  const px = a.rows * a.cols;
  const images = new Uint8Array((a.count + b.count) * px);
  images.set(a.images.subarray(0, a.count * px));
  images.set(b.images.subarray(0, b.count * px), a.count * px);
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels.subarray(0, a.count));
  labels.set(b.labels.subarray(0, b.count), a.count);
  return { images, labels, count: a.count + b.count, rows: a.rows, cols: a.cols };
}

export async function trainClassifier(
  be: Backend,
  data: FashionMnist,
  opts: ClassifierOptions,
  state: TrainState = makeClassifier(be, opts.seed, opts.config, opts.lr),
): Promise<{ state: TrainState; test: EvalResult | null; interrupted: boolean }> {
  const prepared = prepareData(data, opts);
  const { val, test } = prepared;
  const train = opts.extraTrain ? concatSets(prepared.train, opts.extraTrain) : prepared.train;
  const { model, opt } = state;
  const stepsPerEpoch = Math.ceil(train.count / opts.batch);
  let step = opts.resume?.step ?? 0;
  let bestWeights: Map<string, Float32Array | Float64Array | Int32Array> | null = null;
  let stale = 0;
  if (opts.resume) {
    state.history = opts.resume.history;
    state.best = opts.resume.best;
  }
  let pos = opts.resume?.position ?? null;
  let checked = step;
  for (let epoch = (opts.resume?.epoch ?? 0) + 1; epoch <= opts.epochs; epoch++) {
    model.train();
    const t0 = performance.now();
    const tune0 = be.tuneMs ?? 0;
    /** seconds since t0, less the time spent timing kernels */
    const elapsed = () => (performance.now() - t0 - ((be.tuneMs ?? 0) - tune0)) / 1000;
    const skip = pos?.inEpoch ?? 0;
    if (skip) state.dataGen.setState(pos!.epochData);
    const epochData = state.dataGen.state();
    let lossSum = Tensor.full(be, [1], skip ? pos!.partial[0] : 0);
    let hitSum = Tensor.full(be, [1], skip ? pos!.partial[1] : 0);
    let seen = skip ? pos!.partial[2] : 0;
    pos = null;
    let k = 0;
    for (const b of batches(
      train,
      {
        batchSize: opts.batch,
        scale: 'unit',
        shuffle: true,
        augment: opts.augment ? { shift: 2, flip: true } : undefined,
      },
      state.dataGen,
    )) {
      if (k < skip) {
        k++; // trained before the interruption; the shuffle and augmentation draws are replayed identically
        continue;
      }
      const x = Tensor.from(be, b.x, [b.size, 1, train.rows, train.cols]);
      const y = Tensor.from(be, b.y, [b.size], 'i32');
      const [l, h] = tidy(() => {
        const logits = model.forward(x);
        const loss = F.softmaxCrossEntropy(logits, y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        return noGrad(() => [
          F.add(lossSum, F.mulScalar(loss, b.size)),
          F.add(hitSum, F.sum(F.argmaxMatch(logits, y))),
        ]);
      });
      lossSum.dispose();
      hitSum.dispose();
      x.dispose();
      y.dispose();
      lossSum = l;
      hitSum = h;
      seen += b.size;
      step++;
      k++;
      if (k % opts.logEvery === 0 || k === stepsPerEpoch) {
        const [ls, hs] = [await lossSum.item(), await hitSum.item()];
        // the loss, and the weights (a NaN weight can hide behind a ReLU and keep the loss finite)
        const tensor = await firstNonFinite(model.namedParameters());
        if (tensor || !Number.isFinite(ls)) {
          lossSum.dispose();
          hitSum.dispose();
          throw new NonFiniteError(
            `non-finite ${tensor ? 'weights' : 'loss'} between steps ${checked + 1} and ${step} (epoch ${epoch})${tensor ? `; first non-finite parameter (${SPREAD_NOTE}): ${tensor}` : ''}`,
            step,
          );
        }
        checked = step;
        if (opts.onProgress) {
          const secs = elapsed();
          const ips = seen / secs;
          const left = (stepsPerEpoch - k) * opts.batch + (opts.epochs - epoch) * train.count;
          opts.onProgress({
            epoch,
            epochs: opts.epochs,
            step: k,
            stepsPerEpoch,
            loss: ls / seen,
            acc: hs / seen,
            imgPerSec: ips,
            etaSec: left / ips,
          });
        }
      }
      await be.throttle?.(2); // at most two steps ahead of the GPU; signal handlers get to run
      if (opts.shouldStop?.() && k < stepsPerEpoch) {
        const partial: [number, number, number] = [await lossSum.item(), await hitSum.item(), seen];
        lossSum.dispose();
        hitSum.dispose();
        await opts.onInterrupt?.({ epoch: epoch - 1, inEpoch: k, epochData, partial }, state, step);
        return { state, test: null, interrupted: true };
      }
    }
    const trainLoss = (await lossSum.item()) / seen;
    const trainAcc = (await hitSum.item()) / seen;
    lossSum.dispose();
    hitSum.dispose();
    if (!Number.isFinite(trainLoss))
      throw new Error(`training diverged: the loss is ${trainLoss} in epoch ${epoch} (step ${step}); lower --lr`);
    const seconds = elapsed();
    const tuneSeconds = ((be.tuneMs ?? 0) - tune0) / 1000;
    const v = await evaluate(be, model, val, 500, false);
    const m: EpochMetrics = {
      epoch,
      step,
      trainLoss,
      trainAcc,
      valLoss: v.loss,
      valAcc: v.acc,
      imgPerSec: seen / seconds,
      seconds,
      ...(tuneSeconds > 0 ? { tuneSeconds } : {}),
    };
    state.history.push(m);
    if (!state.best || v.acc > state.best.valAcc) {
      state.best = { epoch, valAcc: v.acc };
      bestWeights = opts.patience > 0 ? await snapshot(model) : null;
      stale = 0;
    } else stale++;
    await opts.onEpoch?.(m, state);
    if (opts.patience > 0 && stale >= opts.patience) break;
    if (opts.shouldStop?.() && epoch < opts.epochs) return { state, test: null, interrupted: true };
  }
  if (bestWeights && state.best && state.best.epoch !== state.history[state.history.length - 1]?.epoch) {
    for (const [n, t] of Object.entries(model.stateDict())) t.assign(bestWeights.get(n)!);
  }
  const testResult = await evaluate(be, model, test);
  return { state, test: testResult, interrupted: false };
}
