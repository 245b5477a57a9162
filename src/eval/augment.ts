// eval/augment.ts — are generated images useful as training data? Trains the CNN classifier (trainClassifier, same
// epochs, seed, initial weights and hyper-parameters every time) on
//   * real only (the baseline),
//   * real + synthetic at ratios of the real count (0.5× and 1× by default),
//   * synthetic only, as many as the real count ("train on synthetic, test on real", TSTR),
// and tests every one on the same real test images. Synthetic images are appended to the training split through
// ClassifierOptions.extraTrain, after the validation split, so validation (early-stopping bookkeeping) and test
// stay real; the TSTR run has no real training images, so its validation images are synthetic (with patience 0,
// the default here, validation only reports and never picks the weights). The synthetic images are drawn once
// (labels cycling through the classes, so every prefix is balanced) and the smaller ratios use a prefix of them.
// Full size (54 000 real images, many epochs) is meant for a GPU; the tests run it on a few dozen images.
import type { Backend } from '../autograd/backend.js';
import type { FashionMnist } from '../data/dataset.js';
import type { LabelledImages } from '../data/idx.js';
import { subset } from '../data/dataset.js';
import type { CnnConfig } from '../models/cnn.js';
import { SEED_CNN } from '../models/cnn.js';
import { prepareData, trainClassifier, type ClassifierOptions } from '../train/classifier.js';

/** `count` labelled synthetic images (uint8, 28×28; fewer when the source has fewer) */
export type SyntheticSource = (count: number) => Promise<LabelledImages>;

export interface AugmentOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** synthetic images per real image, 0 = the real-only baseline (default [0, 0.5, 1]) */
  ratios?: number[];
  /** also train on synthetic images only, as many as the real ones (default true) */
  tstr?: boolean;
  /** real training images: the first N of the seeded training split (default: all of it) */
  trainSubset?: number;
  /** real test images (default: all 10 000) */
  testSubset?: number;
  valFraction?: number;
  config?: CnnConfig;
  log?: (s: string) => void;
}

export interface AugmentRow {
  /** 'real', 'real + 0.5× synthetic', 'synthetic only (TSTR)' */
  setting: string;
  /** synthetic per real image (null for TSTR) */
  ratio: number | null;
  real: number;
  synthetic: number;
  testAcc: number;
  testLoss: number;
  /** per-class test accuracy */
  perClass: number[];
  /** last epoch's validation accuracy */
  valAcc: number;
  seconds: number;
}

export interface AugmentResult {
  rows: AugmentRow[];
  epochs: number;
  seed: number;
  testCount: number;
  realCount: number;
  notes: string[];
}

export async function augmentationStudy(
  be: Backend,
  data: FashionMnist,
  synth: SyntheticSource,
  opts: AugmentOptions,
): Promise<AugmentResult> {
  const log = opts.log ?? (() => {});
  const ratios = opts.ratios ?? [0, 0.5, 1];
  const tstr = opts.tstr ?? true;
  const base: ClassifierOptions = {
    epochs: opts.epochs,
    batch: opts.batch,
    lr: opts.lr,
    seed: opts.seed,
    valFraction: opts.valFraction ?? 0.1,
    patience: 0,
    augment: false,
    trainSubset: opts.trainSubset,
    testSubset: opts.testSubset,
    logEvery: 1 << 30,
    config: opts.config ?? SEED_CNN,
  };
  const realCount = prepareData(data, base).train.count;
  const notes: string[] = [];
  const want = Math.max(tstr ? realCount : 0, ...ratios.map((r) => Math.round(r * realCount)));
  const pool = want > 0 ? await synth(want) : null;
  if (pool && pool.count < want)
    notes.push(`only ${pool.count} synthetic images available of the ${want} wanted; larger settings use all of them`);
  const take = (n: number): LabelledImages =>
    subset(
      pool!,
      Int32Array.from({ length: Math.min(n, pool!.count) }, (_, i) => i),
    );
  const rows: AugmentRow[] = [];
  const run = async (
    setting: string,
    ratio: number | null,
    d: FashionMnist,
    o: ClassifierOptions,
    real: number,
    synthetic: number,
  ) => {
    log(`augment: ${setting} (${real} real + ${synthetic} synthetic, ${o.epochs} epochs)`);
    const t0 = performance.now();
    const { state, test: result } = await trainClassifier(be, d, o);
    if (!result) throw new Error(`augment: the ${setting} training was interrupted`);
    const test = result;
    const last = state.history[state.history.length - 1];
    rows.push({
      setting,
      ratio,
      real,
      synthetic,
      testAcc: test.acc,
      testLoss: test.loss,
      perClass: test.perClass.map((p) => p.acc),
      valAcc: last?.valAcc ?? NaN,
      seconds: (performance.now() - t0) / 1000,
    });
    state.model.dispose();
    state.opt.dispose();
    log(`augment: ${setting}: test accuracy ${(100 * test.acc).toFixed(2)}%`);
  };
  for (const r of ratios) {
    if (r === 0) {
      await run('real', 0, data, base, realCount, 0);
      continue;
    }
    const extra = take(Math.round(r * realCount));
    await run(`real + ${r}× synthetic`, r, data, { ...base, extraTrain: extra }, realCount, extra.count);
  }
  if (tstr && pool) {
    const s = take(realCount);
    // synthetic images as the whole training set; the real test set as it is
    const d: FashionMnist = { train: s, test: data.test, source: `${data.source} (test) + synthetic (train)` };
    await run('synthetic only (TSTR)', null, d, { ...base, trainSubset: undefined }, 0, s.count);
  }
  const testCount = prepareData(data, base).test.count;
  return { rows, epochs: opts.epochs, seed: opts.seed, testCount, realCount, notes };
}
