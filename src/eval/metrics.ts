// eval/metrics.ts — how good are generated images, as judged by our trained CNN classifier:
//   * classify: the classifier's 128-d penultimate features, its logits and predicted class for every image (eval
//     mode, no gradients, batched; images as Float32Array [N·784] in [0, 1] — GAN output in [−1, 1] goes through
//     `fromSymmetric` first);
//   * accuracy: does the classifier see the class the generator was asked for? overall, per class, confusion
//     matrix [intended][predicted];
//   * class balance: for samples drawn with uniform labels, each predicted class's share and the largest deviation
//     from 1/classes (a generator that collapses onto a few classes shows up here even when it is accurate);
//   * FID: the Fréchet distance (src/eval/frechet.ts) between generated and real (test set) features, next to the
//     real-vs-real floor (training images against the test set) — the value a perfect generator would get with
//     this many samples. Both depend on the sample counts and on the classifier, so both are reported with them.
// KID and precision/recall on the same features are in src/eval/kid_prc.ts, the classifier score on the logits
// in src/eval/isc.ts.
// Pure engine code (Backend, no Node); src/app/eval_run.ts does the files.
import type { Backend } from '../autograd/backend.js';
import { Tensor, noGrad, tidy } from '../autograd/tensor.js';
import type { Cnn } from '../models/cnn.js';
import type { LabelledImages } from '../data/idx.js';
import { CLASS_NAMES } from '../data/dataset.js';
import { Generator } from '../autograd/random.js';
import { frechetDistance, gaussianOf, type FrechetResult, type Gaussian } from './frechet.js';

/** GAN output in [−1, 1] → [0, 1] (a new array) */
export function fromSymmetric(x: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(1, Math.max(0, (x[i] + 1) / 2));
  return out;
}

/** uint8 images (dataset, IDX samples) → [0, 1] */
export function fromBytes(x: Uint8Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] / 255;
  return out;
}

/** [0, 1] or [−1, 1] floats → uint8 (what a GAN's samples become in an IDX file or a training set) */
export function toBytes(x: ArrayLike<number>, range: 'unit' | 'symmetric'): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const u = range === 'unit' ? x[i] : (x[i] + 1) / 2;
    out[i] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0)));
  }
  return out;
}

export interface Classified {
  count: number;
  /** feature width (the classifier's dense layer, 128 for the seed CNN) */
  dim: number;
  /** [count·dim] penultimate activations */
  features: Float32Array;
  /** [count] argmax of the logits */
  predictions: Int32Array;
  /** [count·classes] the logits (the classifier score's input, src/eval/isc.ts) */
  logits: Float32Array;
}

/**
 * Features and predictions of `model` for images [N·784] in [0, 1], `batch` at a time, in eval mode without
 * gradients. In eval mode dropout is the identity, so logits = out(features) exactly as `forward` computes them.
 */
export async function classify(be: Backend, model: Cnn, images: Float32Array, batch = 500): Promise<Classified> {
  const px = 28 * 28;
  if (images.length % px !== 0)
    throw new Error(`classify: ${images.length} values is not a whole number of 28×28 images`);
  const n = images.length / px;
  const dim = model.config.dense;
  const classes = model.config.classes;
  const features = new Float32Array(n * dim);
  const predictions = new Int32Array(n);
  const allLogits = new Float32Array(n * classes);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const x = Tensor.from(be, images.subarray(i * px, (i + m) * px), [m, 1, 28, 28]);
      const [f, logits] = noGrad(() =>
        tidy(() => {
          const f = model.features(x);
          return [f, model.out.forward(f)];
        }),
      );
      features.set(await f.toArray(), i * dim);
      const l = await logits.toArray();
      allLogits.set(l, i * classes);
      for (let k = 0; k < m; k++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (l[k * classes + c] > l[k * classes + best]) best = c;
        predictions[i + k] = best;
      }
      for (const t of [x, f, logits]) t.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
  return { count: n, dim, features, predictions, logits: allLogits };
}

export interface ClassAccuracy {
  cls: number;
  name: string;
  /** images with this intended label */
  count: number;
  correct: number;
  acc: number;
}

export interface AccuracyResult {
  count: number;
  correct: number;
  acc: number;
  perClass: ClassAccuracy[];
  /** [intended][predicted] counts */
  confusion: number[][];
}

/** accuracy of predictions against intended labels, overall, per class and as a confusion matrix */
export function accuracyOf(predictions: ArrayLike<number>, labels: ArrayLike<number>, classes = 10): AccuracyResult {
  if (predictions.length !== labels.length)
    throw new Error(`accuracyOf: ${predictions.length} predictions for ${labels.length} labels`);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) confusion[labels[i]][predictions[i]]++;
  const perClass = confusion.map((row, c) => {
    const count = row.reduce((a, b) => a + b, 0);
    return { cls: c, name: CLASS_NAMES[c] ?? String(c), count, correct: row[c], acc: count ? row[c] / count : NaN };
  });
  const correct = perClass.reduce((a, p) => a + p.correct, 0);
  return { count: labels.length, correct, acc: labels.length ? correct / labels.length : NaN, perClass, confusion };
}

export interface BalanceResult {
  count: number;
  /** images predicted as each class */
  counts: number[];
  /** counts / count */
  shares: number[];
  /** the share each class should have (1 / classes for uniform labels) */
  expected: number;
  /** max over classes of |share − expected| */
  maxDeviation: number;
  /** the class with that deviation */
  worstClass: number;
  /** total variation distance ½ Σ |share − expected| (0 balanced, → 1 collapsed onto one class) */
  totalVariation: number;
  /** shares of the intended labels (should all be ≈ expected; when not, the deviations above mean less) */
  intendedShares: number[] | null;
}

/** how evenly the predicted classes of samples drawn with uniform labels spread over the classes */
export function classBalance(
  predictions: ArrayLike<number>,
  classes = 10,
  intended?: ArrayLike<number>,
): BalanceResult {
  const count = predictions.length;
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < count; i++) counts[predictions[i]]++;
  const shares = counts.map((c) => (count ? c / count : 0));
  const expected = 1 / classes;
  let worstClass = 0;
  shares.forEach((s, c) => {
    if (Math.abs(s - expected) > Math.abs(shares[worstClass] - expected)) worstClass = c;
  });
  let intendedShares: number[] | null = null;
  if (intended) {
    const ic = new Array<number>(classes).fill(0);
    for (let i = 0; i < intended.length; i++) ic[intended[i]]++;
    intendedShares = ic.map((c) => (intended.length ? c / intended.length : 0));
  }
  return {
    count,
    counts,
    shares,
    expected,
    worstClass,
    maxDeviation: Math.abs(shares[worstClass] - expected),
    totalVariation: 0.5 * shares.reduce((a, s) => a + Math.abs(s - expected), 0),
    intendedShares,
  };
}

export interface FidResult {
  /** d² between generated and real (test) features */
  fid: number;
  /** d² between real training images and the test set: what a perfect generator would score at these counts */
  realFloor: number | null;
  nGenerated: number;
  nReal: number;
  /** training images in the floor */
  nRealTrain: number;
  dim: number;
  /** the classifier whose features these are (checkpoint file name) */
  classifier: string;
  /** the two terms of the generated-vs-real d² */
  meanTerm: number;
  covTerm: number;
  /** negative eigenvalues clipped to 0 (round-off), generated-vs-real and floor together */
  clipped: number;
  mostNegative: number;
}

/** FID of generated features against real ones, with the floor when real training features are given */
export function fidFromFeatures(
  generated: Gaussian,
  real: Gaussian,
  realTrain: Gaussian | null,
  classifier: string,
): FidResult {
  const g: FrechetResult = frechetDistance(generated, real);
  const f: FrechetResult | null = realTrain ? frechetDistance(realTrain, real) : null;
  return {
    fid: g.d2,
    realFloor: f ? f.d2 : null,
    nGenerated: generated.count,
    nReal: real.count,
    nRealTrain: realTrain?.count ?? 0,
    dim: generated.mu.length,
    classifier,
    meanTerm: g.meanTerm,
    covTerm: g.covTerm,
    clipped: g.clip.clipped + (f?.clip.clipped ?? 0),
    mostNegative: Math.min(g.clip.mostNegative, f?.clip.mostNegative ?? 0),
  };
}

/** the Gaussian of a classified set's features */
export const featureGaussian = (c: Classified): Gaussian => gaussianOf(c.features, c.dim);

/** the first `n` images of a set (all when n ≥ count), or a seeded random choice of n when `seed` is given */
export function pickImages(
  set: LabelledImages,
  n: number | undefined,
  seed?: number,
): { images: Float32Array; labels: Int32Array } {
  const px = set.rows * set.cols;
  const m = n === undefined ? set.count : Math.min(n, set.count);
  const idx =
    seed === undefined || m === set.count
      ? Int32Array.from({ length: m }, (_, i) => i)
      : new Generator(seed).permutation(set.count).subarray(0, m);
  const images = new Float32Array(m * px);
  const labels = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const k = idx[i];
    for (let p = 0; p < px; p++) images[i * px + p] = set.images[k * px + p] / 255;
    labels[i] = set.labels[k];
  }
  return { images, labels };
}
