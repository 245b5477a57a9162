// dataset.ts — Fashion-MNIST as the models see it: class names, a validation split, seeded shuffling, batches
// scaled to [0, 1] (classifier) or [−1, 1] (GANs), and optional augmentation (random shift-crop, horizontal flip).
// Pure TypeScript over the uint8 arrays from idx.ts.
import type { LabelledImages } from './idx.js';
import { Generator } from '../autograd/random.js';

/** the ten classes, as in the dataset's documentation */
export const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export interface FashionMnist {
  train: LabelledImages;
  test: LabelledImages;
  /** where the files came from */
  source: string;
}

export type Scale = 'unit' | 'symmetric';

export interface BatchOptions {
  batchSize: number;
  scale: Scale;
  shuffle: boolean;
  /** random shift by up to `shift` pixels (zero padding) and horizontal flip with probability 0.5 */
  augment?: { shift: number; flip: boolean };
  dropLast?: boolean;
}

export interface Batch {
  /** [B·rows·cols] floats, NCHW with C = 1 */
  x: Float32Array;
  /** [B] class indices */
  y: Int32Array;
  size: number;
}

/** a subset of a set by indices (copies) */
export function subset(set: LabelledImages, idx: ArrayLike<number>): LabelledImages {
  const px = set.rows * set.cols;
  const images = new Uint8Array(idx.length * px);
  const labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    images.set(set.images.subarray(idx[i] * px, (idx[i] + 1) * px), i * px);
    labels[i] = set.labels[idx[i]];
  }
  return { images, labels, count: idx.length, rows: set.rows, cols: set.cols };
}

/** a seeded train/validation split: the last `fraction` of a seeded permutation is validation */
export function splitValidation(
  set: LabelledImages,
  fraction: number,
  seed: number,
): { train: LabelledImages; val: LabelledImages } {
  const perm = new Generator(seed).permutation(set.count);
  const nVal = Math.round(set.count * fraction);
  return { train: subset(set, perm.subarray(0, set.count - nVal)), val: subset(set, perm.subarray(set.count - nVal)) };
}

/** the batches of one epoch; `gen` drives the shuffle and augmentation (so a run is reproducible from its seed) */
export function* batches(set: LabelledImages, opts: BatchOptions, gen: Generator): Generator_<Batch> {
  const order = opts.shuffle ? gen.permutation(set.count) : Int32Array.from({ length: set.count }, (_, i) => i);
  const px = set.rows * set.cols;
  const B = opts.batchSize;
  const a = opts.scale === 'unit' ? 1 / 255 : 2 / 255;
  const b = opts.scale === 'unit' ? 0 : -1;
  for (let start = 0; start < set.count; start += B) {
    const size = Math.min(B, set.count - start);
    if (size < B && opts.dropLast) break;
    const x = new Float32Array(size * px);
    const y = new Int32Array(size);
    const aug = opts.augment ? gen.uniform(size * 3) : null;
    for (let i = 0; i < size; i++) {
      const k = order[start + i];
      y[i] = set.labels[k];
      const src = set.images.subarray(k * px, (k + 1) * px);
      if (!aug) {
        for (let p = 0; p < px; p++) x[i * px + p] = src[p] * a + b;
        continue;
      }
      const s = opts.augment!.shift;
      const dy = Math.floor(aug[3 * i] * (2 * s + 1)) - s;
      const dx = Math.floor(aug[3 * i + 1] * (2 * s + 1)) - s;
      const flip = opts.augment!.flip && aug[3 * i + 2] < 0.5;
      for (let r = 0; r < set.rows; r++)
        for (let c = 0; c < set.cols; c++) {
          const sr = r + dy;
          const sc0 = c + dx;
          const sc = flip ? set.cols - 1 - sc0 : sc0;
          const v = sr >= 0 && sr < set.rows && sc0 >= 0 && sc0 < set.cols ? src[sr * set.cols + sc] : 0;
          x[i * px + r * set.cols + c] = v * a + b;
        }
    }
    yield { x, y, size };
  }
}
type Generator_<T> = globalThis.Generator<T, void, unknown>;
