// eval/latent.ts — looking inside a generator and a feature space:
//   * interpolation grids: within one class, from one noise vector to another, linearly (lerp) or along the great
//     circle (slerp, which keeps the norm typical of a Gaussian sample in high dimension); and across classes at
//     fixed noise (one row per noise vector, one column per class). Returned as image arrays in [−1, 1], row-major,
//     for src/node/png.ts;
//   * PCA: a 2-D linear projection of feature vectors (the top two eigenvectors of the covariance, from
//     src/eval/frechet.ts's eigendecomposition), fitted on one set and applied to others so panels share axes;
//   * t-SNE: exact (O(n²) per iteration, meant for a few hundred points), perplexity 30 by default, plain float64
//     TypeScript after van der Maaten & Hinton (2008): per-point Gaussian bandwidths by bisection on the
//     perplexity, symmetrised P, Student-t Q, early exaggeration ×12 for the first 100 iterations, momentum
//     0.5 → 0.8, per-parameter gains; seeded, so a run is reproducible;
//   * silhouette scores by class (Euclidean, exact): how well the classes separate in a feature space.
import type { Backend } from '../autograd/backend.js';
import { Tensor } from '../autograd/tensor.js';
import { Generator } from '../autograd/random.js';
import type { GanGenerator } from '../gan/models.js';
import { generate } from '../gan/train.js';
import { covariance, mean, symmetricEigen } from './frechet.js';

/** (1 − t)·a + t·b */
export function lerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

/**
 * Spherical interpolation: sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b with Ω the angle between a and b (the norms
 * are interpolated along with the direction, as usual for GAN latents). Falls back to lerp when a ∥ b.
 */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float64Array {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
  const omega = Math.acos(cos);
  if (!(Math.abs(Math.sin(omega)) > 1e-8)) return lerp(a, b, t);
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s,
    wb = Math.sin(t * omega) / s;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

export interface ImageGrid {
  /** rows·cols images of 28×28, row-major, in [−1, 1] */
  images: Float32Array;
  rows: number;
  cols: number;
  /** what each row shows */
  rowLabels: string[];
}

/**
 * One row per entry of `classes`: `steps` images from noise z0 to z1 (both drawn from `seed`, a new pair per
 * row), interpolated by `mode`, all with that row's class label.
 */
export async function interpolationGrid(
  be: Backend,
  G: GanGenerator,
  opts: { classes: number[]; steps: number; seed: number; mode: 'lerp' | 'slerp' },
): Promise<ImageGrid> {
  const d = G.config.noiseDim;
  const g = new Generator(opts.seed);
  const z: number[] = [];
  const y: number[] = [];
  for (const c of opts.classes) {
    const z0 = g.normal(d),
      z1 = g.normal(d);
    for (let k = 0; k < opts.steps; k++) {
      const t = opts.steps === 1 ? 0 : k / (opts.steps - 1);
      z.push(...(opts.mode === 'slerp' ? slerp(z0, z1, t) : lerp(z0, z1, t)));
      y.push(c);
    }
  }
  const images = await generateFor(be, G, z, y);
  return {
    images,
    rows: opts.classes.length,
    cols: opts.steps,
    rowLabels: opts.classes.map((c) => `class ${c} (${opts.mode})`),
  };
}

/** `rows` noise vectors (from `seed`), each rendered as every class: row r, column c = G(z_r, c) */
export async function classSweepGrid(
  be: Backend,
  G: GanGenerator,
  opts: { rows: number; seed: number },
): Promise<ImageGrid> {
  const d = G.config.noiseDim,
    classes = G.config.classes;
  const g = new Generator(opts.seed);
  const z: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < opts.rows; r++) {
    const zr = g.normal(d);
    for (let c = 0; c < classes; c++) {
      z.push(...zr);
      y.push(c);
    }
  }
  const images = await generateFor(be, G, z, y);
  return {
    images,
    rows: opts.rows,
    cols: classes,
    rowLabels: Array.from({ length: opts.rows }, (_, r) => `noise ${r}`),
  };
}

/**
 * The truncation trick, seen: row r is one noise vector (from `seed`) truncated at thresholds[r] (Infinity: as
 * drawn; Generator.truncatedNormal keeps the components inside and redraws the others), rendered as every class.
 */
export async function truncationGrid(
  be: Backend,
  G: GanGenerator,
  opts: { thresholds: number[]; seed: number },
): Promise<ImageGrid> {
  const d = G.config.noiseDim,
    classes = G.config.classes;
  const z: number[] = [];
  const y: number[] = [];
  for (const t of opts.thresholds) {
    const zr = new Generator(opts.seed).truncatedNormal(d, t);
    for (let c = 0; c < classes; c++) {
      z.push(...zr);
      y.push(c);
    }
  }
  const images = await generateFor(be, G, z, y);
  return {
    images,
    rows: opts.thresholds.length,
    cols: classes,
    rowLabels: opts.thresholds.map((t) => (Number.isFinite(t) ? `truncated at ±${t}` : 'untruncated')),
  };
}

async function generateFor(be: Backend, G: GanGenerator, z: number[], y: number[]): Promise<Float32Array> {
  const n = y.length;
  const zt = Tensor.from(be, z, [n, G.config.noiseDim]);
  const yt = Tensor.from(be, y, [n], 'i32');
  try {
    return await generate(G, zt, yt);
  } finally {
    zt.dispose();
    yt.dispose();
  }
}

export interface Pca {
  mean: Float64Array;
  /** k principal directions, each [dim] (unit length), largest variance first */
  components: Float64Array[];
  /** the variance along each component */
  variances: number[];
  /** each component's share of the total variance */
  explained: number[];
}

/** the top-k principal components of x [n, dim] */
export function pcaFit(x: ArrayLike<number>, dim: number, k = 2): Pca {
  const mu = mean(x, dim);
  const cov = covariance(x, dim, mu);
  const { values, vectors } = symmetricEigen(cov);
  const total = values.reduce((a, v) => a + Math.max(v, 0), 0);
  const components: Float64Array[] = [];
  const variances: number[] = [];
  for (let j = 0; j < Math.min(k, dim); j++) {
    const col = dim - 1 - j; // eigenvalues ascending: the largest is last
    const v = new Float64Array(dim);
    for (let i = 0; i < dim; i++) v[i] = vectors[i * dim + col];
    // a deterministic sign: the largest-magnitude entry positive
    let big = 0;
    for (let i = 1; i < dim; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) for (let i = 0; i < dim; i++) v[i] = -v[i];
    components.push(v);
    variances.push(values[col]);
  }
  return { mean: mu, components, variances, explained: variances.map((v) => (total > 0 ? v / total : 0)) };
}

/** coordinates [n, k] of x [n, dim] in a fitted PCA */
export function pcaProject(p: Pca, x: ArrayLike<number>, dim: number): Float64Array {
  const n = x.length / dim,
    k = p.components.length;
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      const c = p.components[j];
      for (let i = 0; i < dim; i++) s += (x[r * dim + i] - p.mean[i]) * c[i];
      out[r * k + j] = s;
    }
  return out;
}

/** squared Euclidean distances [n, n] between the rows of x [n, dim] */
export function squaredDistances(x: ArrayLike<number>, dim: number): Float64Array {
  const n = x.length / dim;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const t = x[i * dim + k] - x[j * dim + k];
        s += t * t;
      }
      d[i * n + j] = s;
      d[j * n + i] = s;
    }
  return d;
}

export interface TsneOptions {
  perplexity?: number;
  iterations?: number;
  seed?: number;
  learningRate?: number;
  earlyExaggeration?: number;
  /** iterations with exaggerated P (and momentum 0.5) */
  exaggerationIters?: number;
}

export interface TsneResult {
  /** [n, 2] */
  y: Float64Array;
  /** KL(P‖Q) at the end (without exaggeration) */
  kl: number;
  /** KL after the early-exaggeration phase, for comparison */
  klAfterExaggeration: number;
  perplexity: number;
}

/** exact t-SNE of x [n, dim] to 2-D (see the header) */
export function tsne(x: ArrayLike<number>, dim: number, opts: TsneOptions = {}): TsneResult {
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 4)
    throw new Error(`tsne: needs at least 4 points of dimension ${dim}, got ${x.length / dim}`);
  const perplexity = Math.min(opts.perplexity ?? 30, (n - 1) / 3);
  const iters = opts.iterations ?? 1000;
  const eta = opts.learningRate ?? 200;
  const exag = opts.earlyExaggeration ?? 12;
  const exagIters = opts.exaggerationIters ?? 100;
  const P = jointProbabilities(squaredDistances(x, dim), n, perplexity);
  const g = new Generator(opts.seed ?? 0);
  const y = g.normal(2 * n, 0, 1e-4);
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  const num = new Float64Array(n * n);
  let klAfterExaggeration = NaN;
  for (let it = 0; it < iters; it++) {
    const ex = it < exagIters ? exag : 1;
    // Student-t affinities
    let sumNum = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const dx = y[2 * i] - y[2 * j],
          dy = y[2 * i + 1] - y[2 * j + 1];
        const v = 1 / (1 + dx * dx + dy * dy);
        num[i * n + j] = v;
        num[j * n + i] = v;
        sumNum += 2 * v;
      }
    // gradient 4 Σ_j (ex·p_ij − q_ij) num_ij (y_i − y_j)
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      let gx = 0,
        gy = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const v = num[i * n + j];
        const m = (ex * P[i * n + j] - v / sumNum) * v;
        gx += m * (y[2 * i] - y[2 * j]);
        gy += m * (y[2 * i + 1] - y[2 * j + 1]);
      }
      grad[2 * i] = 4 * gx;
      grad[2 * i + 1] = 4 * gy;
    }
    const momentum = it < Math.max(exagIters, 250) ? 0.5 : 0.8;
    for (let k = 0; k < 2 * n; k++) {
      gains[k] = Math.sign(grad[k]) !== Math.sign(update[k]) ? gains[k] + 0.2 : gains[k] * 0.8;
      if (gains[k] < 0.01) gains[k] = 0.01;
      update[k] = momentum * update[k] - eta * gains[k] * grad[k];
      y[k] += update[k];
    }
    // keep the embedding centred
    let cx = 0,
      cy = 0;
    for (let i = 0; i < n; i++) {
      cx += y[2 * i];
      cy += y[2 * i + 1];
    }
    for (let i = 0; i < n; i++) {
      y[2 * i] -= cx / n;
      y[2 * i + 1] -= cy / n;
    }
    if (it === exagIters - 1) klAfterExaggeration = klDivergence(P, y, n);
  }
  return { y, kl: klDivergence(P, y, n), klAfterExaggeration, perplexity };
}

/** symmetric joint probabilities p_ij = (p_j|i + p_i|j) / 2n with per-point bandwidths matching `perplexity` */
export function jointProbabilities(d2: Float64Array, n: number, perplexity: number): Float64Array {
  const target = Math.log(perplexity);
  const cond = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let beta = 1,
      lo = 0,
      hi = Infinity;
    let minD = Infinity;
    for (let j = 0; j < n; j++) if (j !== i && d2[i * n + j] < minD) minD = d2[i * n + j];
    // bisection on beta = 1/(2σ²) until the entropy H(P_i) = log(perplexity)
    for (let t = 0; t < 100; t++) {
      let sum = 0,
        dot = 0;
      for (let j = 0; j < n; j++) {
        row[j] = j === i ? 0 : Math.exp(-beta * (d2[i * n + j] - minD)); // shifted by the nearest for stability
        sum += row[j];
        dot += row[j] * (d2[i * n + j] - minD);
      }
      const H = Math.log(sum) + (beta * dot) / sum;
      const diff = H - target;
      if (Math.abs(diff) < 1e-6) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += row[j];
    for (let j = 0; j < n; j++) cond[i * n + j] = row[j] / sum;
  }
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) P[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2 * n), 1e-12);
  for (let i = 0; i < n; i++) P[i * n + i] = 0;
  return P;
}

function klDivergence(P: Float64Array, y: Float64Array, n: number): number {
  let sumNum = 0;
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const dx = y[2 * i] - y[2 * j],
        dy = y[2 * i + 1] - y[2 * j + 1];
      q[i * n + j] = 1 / (1 + dx * dx + dy * dy);
      sumNum += q[i * n + j];
    }
  let kl = 0;
  for (let k = 0; k < n * n; k++) if (P[k] > 0) kl += P[k] * Math.log(P[k] / Math.max(q[k] / sumNum, 1e-300));
  return kl;
}

export interface Silhouette {
  /** mean silhouette over all points with a defined score */
  overall: number;
  /** mean silhouette of each class's points (NaN for a class with no points) */
  perClass: number[];
  count: number;
}

/**
 * Silhouette scores with class labels as the clustering: s(i) = (b − a) / max(a, b), a the mean distance to i's
 * own class, b the smallest mean distance to another class. A point alone in its class scores 0 (the usual
 * convention). Exact, O(n²·dim).
 */
export function silhouette(x: ArrayLike<number>, dim: number, labels: ArrayLike<number>, classes = 10): Silhouette {
  const n = labels.length;
  if (x.length !== n * dim) throw new Error(`silhouette: ${x.length} values for ${n} points of dimension ${dim}`);
  const d2 = squaredDistances(x, dim);
  const perSum = new Array<number>(classes).fill(0);
  const perCount = new Array<number>(classes).fill(0);
  const classSize = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) classSize[labels[i]]++;
  const present = classSize.filter((c) => c > 0).length;
  let total = 0,
    counted = 0;
  const sums = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[labels[j]] += Math.sqrt(d2[i * n + j]);
    const own = labels[i];
    let s = 0;
    if (classSize[own] > 1 && present > 1) {
      const a = sums[own] / (classSize[own] - 1);
      let b = Infinity;
      for (let c = 0; c < classes; c++) if (c !== own && classSize[c] > 0) b = Math.min(b, sums[c] / classSize[c]);
      s = Math.max(a, b) > 0 ? (b - a) / Math.max(a, b) : 0;
    }
    perSum[own] += s;
    perCount[own]++;
    total += s;
    counted++;
  }
  return {
    overall: counted ? total / counted : NaN,
    perClass: perSum.map((s, c) => (perCount[c] ? s / perCount[c] : NaN)),
    count: n,
  };
}

/** indices of up to `perClass` items of each class (the first ones, in order), for the O(n²) methods above */
export function stratifiedIndices(labels: ArrayLike<number>, perClass: number, classes = 10): Int32Array {
  const taken = new Array<number>(classes).fill(0);
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++)
    if (taken[labels[i]] < perClass) {
      taken[labels[i]]++;
      out.push(i);
    }
  return Int32Array.from(out);
}

/** rows `idx` of x [n, dim] */
export function takeRows(x: ArrayLike<number>, dim: number, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length * dim);
  for (let r = 0; r < idx.length; r++) for (let k = 0; k < dim; k++) out[r * dim + k] = x[idx[r] * dim + k];
  return out;
}
