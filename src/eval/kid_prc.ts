// eval/kid_prc.ts — two comparisons of generated with real feature sets beside FID, as torch-fidelity computes them
// (its `kid` and `prc`), on our classifier's features, in float64 (no GPU, no Node):
//   * KID, the kernel inception distance (Bińkowski et al. 2018): the unbiased estimate of MMD² with the cubic
//     polynomial kernel k(x, y) = (x·y/d + 1)³ (d the feature width) on `subsets` random pairs of subsets, a
//     generated and a real one of `subsetSize` rows each (drawn without replacement, seeded), reported as the mean
//     and the (population) standard deviation over the subsets. Per subset pair X, Y of m rows:
//       MMD² = Σ_{i≠j} k(x_i, x_j)/(m(m−1)) + Σ_{i≠j} k(y_i, y_j)/(m(m−1)) − 2 Σ_{i,j} k(x_i, y_j)/m²
//     Unlike FID it has no bias from the sample count: two samples of one distribution give 0 in expectation
//     (negative values happen). torch-fidelity's defaults, 100 subsets of 1000; the size is capped at the smaller
//     set (torch-fidelity refuses instead).
//   * improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of balls around
//     its rows, of radius the distance to the row's k-th nearest other row (k = 3). Precision: the share of
//     generated rows inside the real manifold (within the radius of some real row, ≤ as in the paper's code);
//     recall: the share of real rows inside the generated one. Full sets, as the paper and torch-fidelity; F-score
//     2PR/(P + R) as torch-fidelity's.
// Both are functions of the dot products of all pairs of rows, so one pass (src/eval/pairwise.ts) serves both:
// generated × generated and real × real (the upper triangles: k-NN radii, KID's within-set sums), then generated ×
// real (membership, KID's cross sums). A pair adds its kernel to the sums of exactly the subset pairs holding both
// of its rows (bit masks per row, one bit per subset), which gives the same numbers as torch-fidelity's subset by
// subset loop without a second pass: the cost is the pass, (n_g² + n_r²)/2 + n_g·n_r dot products, whatever the
// subsets (10 000 × 10 000 at 128-d: 2·10⁸ dots, 28 s on one core of this repo's CPU machine; bench/RESULTS.md).
import { Generator } from '../autograd/random.js';
import { forEachDotTile, rowsOf, squaredNorms, TILE } from './pairwise.js';

export interface KidOptions {
  /** subset pairs (default 100) */
  subsets?: number;
  /** rows per subset, capped at the smaller set (default 1000) */
  subsetSize?: number;
  /** seed of the subset draws (default 0) */
  seed?: number;
}

export interface PrcOptions {
  /** the k of the k-th nearest neighbour radius (default 3) */
  k?: number;
}

export const KID_DEFAULTS = { subsets: 100, subsetSize: 1000, seed: 0 };
export const PRC_DEFAULTS = { k: 3 };

export interface KidResult {
  /** mean of MMD² over the subset pairs */
  mean: number;
  /** population standard deviation of MMD² over the subset pairs (as numpy's std, torch-fidelity's) */
  std: number;
  subsets: number;
  /** rows per subset used (the requested size capped at the smaller set) */
  subsetSize: number;
  requestedSize: number;
  seed: number;
  nGenerated: number;
  nReal: number;
  dim: number;
  /** MMD² of each subset pair, in draw order */
  values: number[];
}

export interface PrcResult {
  /** share of generated rows inside the real manifold */
  precision: number;
  /** share of real rows inside the generated manifold */
  recall: number;
  /** 2PR / (P + R) (0 when both are 0) */
  fScore: number;
  k: number;
  nGenerated: number;
  nReal: number;
  dim: number;
}

/**
 * The subsets KID draws: for each subset pair in turn, `size` distinct generated rows, then `size` distinct real
 * rows (the first `size` of a seeded permutation of each set).
 */
export function kidSubsets(
  nGenerated: number,
  nReal: number,
  subsets: number,
  size: number,
  seed: number,
): { generated: Int32Array[]; real: Int32Array[] } {
  const g = new Generator(seed);
  const generated: Int32Array[] = [],
    real: Int32Array[] = [];
  for (let s = 0; s < subsets; s++) {
    generated.push(g.permutation(nGenerated).slice(0, size));
    real.push(g.permutation(nReal).slice(0, size));
  }
  return { generated, real };
}

/** row i's bit s is set when subset s holds row i: `words` 32-bit words per row */
function subsetMasks(n: number, subsets: Int32Array[], words: number): Uint32Array {
  const m = new Uint32Array(n * words);
  subsets.forEach((rows, s) => {
    for (const i of rows) m[i * words + (s >> 5)] |= 1 << (s & 31);
  });
  return m;
}

/** KID's sums: one per subset pair, and the masks that say which pairs hold a row */
interface KidSums {
  words: number;
  maskG: Uint32Array;
  maskR: Uint32Array;
  gg: Float64Array;
  rr: Float64Array;
  gr: Float64Array;
  invDim: number;
}

/** adds k(a, b) = (dot/d + 1)³ to sums[s] for every subset s whose bit is set in both rows' masks */
function addKernel(
  sums: Float64Array,
  ma: Uint32Array,
  a: number,
  mb: Uint32Array,
  b: number,
  words: number,
  dot: number,
  invDim: number,
): void {
  let any = 0;
  for (let w = 0; w < words; w++) any |= ma[a * words + w] & mb[b * words + w];
  if (any === 0) return;
  const t = dot * invDim + 1;
  const kv = t * t * t;
  for (let w = 0; w < words; w++) {
    let bits = ma[a * words + w] & mb[b * words + w];
    while (bits !== 0) {
      sums[(w << 5) + 31 - Math.clz32(bits & -bits)] += kv;
      bits &= bits - 1;
    }
  }
}

/** keeps knn[row·k …] the k smallest values seen, ascending */
function pushNearest(knn: Float64Array, row: number, k: number, d2: number): void {
  const o = row * k;
  if (!(d2 < knn[o + k - 1])) return;
  let p = k - 1;
  for (; p > 0 && knn[o + p - 1] > d2; p--) knn[o + p] = knn[o + p - 1];
  knn[o + p] = d2;
}

/** one set against itself (pairs i < j): k-NN squared distances and/or KID's within-set sums */
function selfPass(
  x: Float64Array,
  dim: number,
  norms: Float64Array,
  knn: Float64Array | null,
  k: number,
  kid: { sums: Float64Array; mask: Uint32Array; words: number; invDim: number } | null,
): void {
  forEachDotTile(x, x, dim, true, (i0, i1, j0, j1, dots) => {
    for (let i = i0; i < i1; i++) {
      const r = (i - i0) * TILE - j0;
      for (let j = Math.max(j0, i + 1); j < j1; j++) {
        const g = dots[r + j];
        if (knn) {
          const d2 = Math.max(0, norms[i] + norms[j] - 2 * g);
          pushNearest(knn, i, k, d2);
          pushNearest(knn, j, k, d2);
        }
        if (kid) addKernel(kid.sums, kid.mask, i, kid.mask, j, kid.words, g, kid.invDim);
      }
    }
  });
}

/** the k-th smallest of each row's k nearest squared distances */
function radii(knn: Float64Array, k: number): Float64Array {
  const n = knn.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = knn[i * k + k - 1];
  return out;
}

/**
 * KID and/or precision–recall of generated features [n_g, dim] against real ones [n_r, dim] (pass null to skip
 * one). Bad sizes or options throw an Error saying what to change.
 */
export function kidPrc(
  generated: ArrayLike<number>,
  real: ArrayLike<number>,
  dim: number,
  opts: { kid?: KidOptions | null; prc?: PrcOptions | null },
): { kid: KidResult | null; prc: PrcResult | null } {
  const xg = rowsOf(generated, dim, 'generated features'),
    xr = rowsOf(real, dim, 'real features');
  const nG = xg.length / dim,
    nR = xr.length / dim;
  const ng = squaredNorms(xg, dim),
    nr = squaredNorms(xr, dim);

  let sums: KidSums | null = null;
  let kidInfo: Pick<KidResult, 'subsets' | 'subsetSize' | 'requestedSize' | 'seed'> | null = null;
  if (opts.kid) {
    const subsets = opts.kid.subsets ?? KID_DEFAULTS.subsets;
    const requestedSize = opts.kid.subsetSize ?? KID_DEFAULTS.subsetSize;
    const seed = opts.kid.seed ?? KID_DEFAULTS.seed;
    if (!(Number.isInteger(subsets) && subsets >= 1))
      throw new Error(`KID: subsets must be an integer ≥ 1, got ${subsets}`);
    if (!(Number.isInteger(requestedSize) && requestedSize >= 2))
      throw new Error(`KID: the subset size must be an integer ≥ 2, got ${requestedSize}`);
    const size = Math.min(requestedSize, nG, nR);
    if (size < 2) throw new Error(`KID needs at least 2 generated and 2 real rows, got ${nG} and ${nR}`);
    const draw = kidSubsets(nG, nR, subsets, size, seed);
    const words = Math.ceil(subsets / 32);
    sums = {
      words,
      maskG: subsetMasks(nG, draw.generated, words),
      maskR: subsetMasks(nR, draw.real, words),
      gg: new Float64Array(words * 32),
      rr: new Float64Array(words * 32),
      gr: new Float64Array(words * 32),
      invDim: 1 / dim,
    };
    kidInfo = { subsets, subsetSize: size, requestedSize, seed };
  }
  let k = 0;
  if (opts.prc) {
    k = opts.prc.k ?? PRC_DEFAULTS.k;
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`precision/recall: k must be an integer ≥ 1, got ${k}`);
    if (Math.min(nG, nR) <= k)
      throw new Error(
        `precision/recall with k = ${k} needs more than ${k} rows in each set, got ${nG} generated and ${nR} real`,
      );
  }
  const knnG = opts.prc ? new Float64Array(nG * k).fill(Infinity) : null;
  const knnR = opts.prc ? new Float64Array(nR * k).fill(Infinity) : null;

  // the two sets against themselves
  selfPass(xg, dim, ng, knnG, k, sums && { sums: sums.gg, mask: sums.maskG, words: sums.words, invDim: sums.invDim });
  selfPass(xr, dim, nr, knnR, k, sums && { sums: sums.rr, mask: sums.maskR, words: sums.words, invDim: sums.invDim });
  // generated against real
  const radG = knnG && radii(knnG, k),
    radR = knnR && radii(knnR, k);
  const inReal = new Uint8Array(radR ? nG : 0),
    inGenerated = new Uint8Array(radG ? nR : 0);
  forEachDotTile(xg, xr, dim, false, (i0, i1, j0, j1, dots) => {
    for (let i = i0; i < i1; i++) {
      const r = (i - i0) * TILE - j0;
      for (let j = j0; j < j1; j++) {
        const g = dots[r + j];
        if (radG && radR) {
          const d2 = Math.max(0, ng[i] + nr[j] - 2 * g);
          if (d2 <= radR[j]) inReal[i] = 1;
          if (d2 <= radG[i]) inGenerated[j] = 1;
        }
        if (sums) addKernel(sums.gr, sums.maskG, i, sums.maskR, j, sums.words, g, sums.invDim);
      }
    }
  });

  let kid: KidResult | null = null;
  if (sums && kidInfo) {
    const m = kidInfo.subsetSize;
    // the passes summed each within-set pair once (i < j): Σ_{i≠j} is twice that
    const { gg, rr, gr } = sums;
    const values = Array.from(
      { length: kidInfo.subsets },
      (_, s) => (2 * gg[s] + 2 * rr[s]) / (m * (m - 1)) - (2 * gr[s]) / (m * m),
    );
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    kid = { mean, std, ...kidInfo, nGenerated: nG, nReal: nR, dim, values };
  }
  let prc: PrcResult | null = null;
  if (opts.prc) {
    const precision = inReal.reduce((a, v) => a + v, 0) / nG;
    const recall = inGenerated.reduce((a, v) => a + v, 0) / nR;
    const fScore = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    prc = { precision, recall, fScore, k, nGenerated: nG, nReal: nR, dim };
  }
  return { kid, prc };
}

/** KID alone (see the header) */
export function kid(
  generated: ArrayLike<number>,
  real: ArrayLike<number>,
  dim: number,
  opts: KidOptions = {},
): KidResult {
  return kidPrc(generated, real, dim, { kid: opts, prc: null }).kid!;
}

/** precision and recall alone (see the header) */
export function precisionRecall(
  generated: ArrayLike<number>,
  real: ArrayLike<number>,
  dim: number,
  opts: PrcOptions = {},
): PrcResult {
  return kidPrc(generated, real, dim, { kid: null, prc: opts }).prc!;
}
