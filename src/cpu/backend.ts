// cpu/backend.ts — the float64 CPU reference backend: every primitive kernel as plain loops, written for clarity.
// It is the oracle the GPU kernels are tested against and the baseline the benchmarks compare with.
import { activationRef, unaryRef } from './activation.js';
import { conv2dRef, conv2dGradInputRef, conv2dGradWeightRef } from './conv2d.js';
import type {
  AdamHyper,
  Activation,
  ArenaLayout,
  ArenaSlot,
  Backend,
  BatchnormAccumulate,
  BatchnormDims,
  BatchnormEpilogue,
  BinaryOp,
  ConvDims,
  DType,
  MatmulDims,
  Pool2dDims,
  Store,
  UnaryOp,
} from '../autograd/backend.js';
import { broadcastStrides } from '../autograd/backend.js';
import { adamMultiRef, adamRef } from './adam.js';
import { emaUpdateRef } from './ema.js';
import { dropThreshold, dropoutAt, intAt, normalAt, uniformAt } from '../autograd/random.js';
import {
  activationDropoutRef,
  batchnormApplyRef,
  batchnormEpilogueGradRef,
  batchnormGradRef,
  batchnormStatsRef,
  batchnormStatsRunningRef,
} from './batchnorm.js';
import { embeddingGradRef, embeddingRef } from './embedding.js';
import { maxpool2dGradRef, maxpool2dRef } from './maxpool2d.js';

type Arr = Float64Array | Int32Array;
const arr = (s: Store) => s as Arr;
const f64 = (s: Store) => s as Float64Array;

/** d op(x) / dx, given x and y = op(x) */
export function unaryDerivRef(op: UnaryOp, x: number, y: number, a: number): number {
  switch (op) {
    case 'neg':
      return -1;
    case 'exp':
      return y;
    case 'log':
      return 1 / x;
    case 'tanh':
      return 1 - y * y;
    case 'sigmoid':
      return y * (1 - y);
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'leaky_relu':
      return x > 0 ? 1 : a;
    case 'add_s':
      return 1;
    case 'mul_s':
      return a;
    case 'rsub_s':
      return -1;
    case 'square':
      return 2 * x;
    case 'sqrt':
      return 0.5 / y;
    case 'recip':
      return -y * y;
    case 'abs':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
  }
}
export function binaryRef(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'sigmoid_sub':
      return 1 / (1 + Math.exp(-a)) - b;
    case 'bce_logits':
      return Math.max(a, 0) - a * b + Math.log1p(Math.exp(-Math.abs(a)));
  }
}

/** visit every multi-index of `shape`, calling fn with the two strided offsets */
function forEachIndex(
  shape: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
  oa: number,
  ob: number,
  fn: (ia: number, ib: number) => void,
): void {
  const r = shape.length;
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(r).fill(0);
  let ia = oa;
  let ib = ob;
  for (;;) {
    fn(ia, ib);
    let k = r - 1;
    while (k >= 0) {
      idx[k]++;
      ia += sa[k];
      ib += sb[k];
      if (idx[k] < shape[k]) break;
      ia -= sa[k] * shape[k];
      ib -= sb[k] * shape[k];
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

/** run `fn`, which writes its result into the array it gets: into `out`, or, with `accumulate`, added to out */
/** batchnorm's x as its kernels see it: through relu with d.inputRelu */
function bnInput(x: Store, d: BatchnormDims): Float64Array {
  return d.inputRelu ? f64(x).map((v) => (v > 0 ? v : 0)) : f64(x);
}

function into(out: Float64Array, accumulate: boolean, fn: (o: Float64Array) => void): void {
  if (!accumulate) {
    fn(out);
    return;
  }
  const t = new Float64Array(out.length);
  fn(t);
  for (let i = 0; i < out.length; i++) out[i] += t[i];
}

export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly name = 'cpu-float64';

  alloc(n: number, dtype: DType): Store {
    return dtype === 'f32' ? new Float64Array(n).fill(NaN) : new Int32Array(n).fill(-0x7fffffff);
  }
  upload(data: ArrayLike<number>, dtype: DType): Store {
    return dtype === 'f32' ? Float64Array.from(data) : Int32Array.from(data);
  }
  async read(s: Store, n: number): Promise<Float64Array | Int32Array> {
    return arr(s).slice(0, n);
  }
  write(s: Store, data: ArrayLike<number>): void {
    arr(s).set(data);
  }
  free(): void {}
  arena({ slots, total }: ArenaLayout): { whole: Store; slots: Store[] } {
    const whole = new Float64Array(total).fill(NaN);
    return { whole, slots: slots.map((s) => whole.subarray(s.offset, s.offset + s.n)) };
  }

  fill(out: Store, n: number, value: number): void {
    arr(out).fill(value, 0, n);
  }
  unary(op: UnaryOp, x: Store, out: Store, n: number, alpha: number): void {
    const X = f64(x),
      O = f64(out);
    for (let i = 0; i < n; i++) O[i] = unaryRef(op, X[i], alpha);
  }
  unaryGrad(op: UnaryOp, x: Store, y: Store, gy: Store, gx: Store, n: number, alpha: number): void {
    const X = f64(x),
      Y = f64(y),
      G = f64(gy),
      O = f64(gx);
    for (let i = 0; i < n; i++) O[i] = G[i] * unaryDerivRef(op, X[i], Y[i], alpha);
  }
  binary(
    op: BinaryOp,
    a: Store,
    aShape: readonly number[],
    b: Store,
    bShape: readonly number[],
    out: Store,
    outShape: readonly number[],
  ): void {
    const A = f64(a),
      B = f64(b),
      O = f64(out);
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    let o = 0;
    forEachIndex(outShape, sa, sb, 0, 0, (ia, ib) => (O[o++] = binaryRef(op, A[ia], B[ib])));
  }
  reduceSum(x: Store, shape: readonly number[], axes: readonly number[], out: Store, accumulate = false): void {
    const X = f64(x);
    const oshape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const n = oshape.reduce((a, d) => a * d, 1);
    into(f64(out), accumulate, (O) => {
      O.fill(0, 0, n);
      const os = broadcastStrides(oshape, shape);
      const xs = broadcastStrides(shape, shape);
      forEachIndex(shape, xs, os, 0, 0, (ix, io) => (O[io] += X[ix]));
    });
  }
  copyStrided(
    src: Store,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Store,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void {
    const S = arr(src),
      D = arr(dst);
    forEachIndex(shape, srcStrides, dstStrides, srcOffset, dstOffset, (is, id) => (D[id] = S[is]));
  }
  concat(
    parts: readonly Store[],
    offsets: readonly number[],
    widths: readonly number[],
    W: number,
    outer: number,
    inner: number,
    out: Store,
  ): void {
    const O = arr(out);
    parts.forEach((s, k) => {
      const S = arr(s),
        w = widths[k];
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < w; j++)
          for (let l = 0; l < inner; l++) O[(o * W + offsets[k] + j) * inner + l] = S[(o * w + j) * inner + l];
    });
  }
  split(
    g: Store,
    W: number,
    outer: number,
    inner: number,
    parts: readonly Store[],
    offsets: readonly number[],
    widths: readonly number[],
  ): void {
    const G = arr(g);
    parts.forEach((s, k) => {
      const S = arr(s),
        w = widths[k];
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < w; j++)
          for (let l = 0; l < inner; l++) S[(o * w + j) * inner + l] = G[(o * W + offsets[k] + j) * inner + l];
    });
  }
  matmul(
    a: Store,
    b: Store,
    out: Store,
    d: MatmulDims,
    bias: Store | null = null,
    act: Activation = 'none',
    alpha = 0,
    accumulate = false,
    biasGrad: { out: Store; add: boolean } | null = null,
  ): void {
    into(f64(out), accumulate, (C) => this.matmulInto(f64(a), f64(b), C, d, bias && f64(bias), act, alpha));
    if (!biasGrad) return;
    if (d.batch !== 1) throw new Error('matmul: biasGrad needs batch 1');
    const B = f64(b);
    into(f64(biasGrad.out), biasGrad.add, (G) => {
      for (let n = 0; n < d.N; n++) {
        let s = 0;
        for (let k = 0; k < d.K; k++) s += d.transB ? B[n * d.K + k] : B[k * d.N + n];
        G[n] = s;
      }
    });
  }
  private matmulInto(
    A: Float64Array,
    B: Float64Array,
    C: Float64Array,
    d: MatmulDims,
    bb: Float64Array | null,
    act: Activation,
    alpha: number,
  ): void {
    const { M, N, K } = d;
    for (let z = 0; z < d.batch; z++) {
      const oa = z * d.strideA,
        ob = z * d.strideB,
        oc = z * M * N;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            const av = d.transA ? A[oa + k * M + i] : A[oa + i * K + k];
            const bv = d.transB ? B[ob + j * K + k] : B[ob + k * N + j];
            s += av * bv;
          }
          C[oc + i * N + j] = activationRef(act, s + (bb ? bb[j] : 0), alpha);
        }
    }
  }
  softmaxXent(logits: Store, labels: Store, out: Store, N: number, C: number): void {
    const L = f64(logits),
      Y = labels as Int32Array,
      O = f64(out);
    for (let i = 0; i < N; i++) {
      const y = checkLabel(Y[i], C, i);
      O[i] = logSumExp(L, i * C, C) - L[i * C + y];
    }
  }
  softmaxXentGrad(logits: Store, labels: Store, gRow: Store, gLogits: Store, N: number, C: number): void {
    const L = f64(logits),
      Y = labels as Int32Array,
      G = f64(gRow),
      O = f64(gLogits);
    for (let i = 0; i < N; i++) {
      const y = checkLabel(Y[i], C, i);
      const lse = logSumExp(L, i * C, C);
      for (let c = 0; c < C; c++) O[i * C + c] = G[i] * (Math.exp(L[i * C + c] - lse) - (c === y ? 1 : 0));
    }
  }
  softmaxXentMean(logits: Store, labels: Store, loss: Store, N: number, C: number): void {
    const rows = new Float64Array(N);
    this.softmaxXent(logits, labels, rows, N, C);
    let s = 0;
    for (let i = 0; i < N; i++) s += rows[i];
    f64(loss)[0] = s * (1 / N);
  }
  softmaxXentMeanGrad(logits: Store, labels: Store, gLoss: Store, gLogits: Store, N: number, C: number): void {
    this.softmaxXentGrad(logits, labels, new Float64Array(N).fill(f64(gLoss)[0] * (1 / N)), gLogits, N, C);
  }
  bceLogitsMean(logits: Store, targets: Store, loss: Store, prob: Store, n: number, tStride: 0 | 1, groups = 1): void {
    const L = f64(logits),
      T = f64(targets);
    for (let k = 0; k < groups; k++) {
      let s = 0,
        q = 0;
      for (let i = k * n; i < (k + 1) * n; i++) {
        s += binaryRef('bce_logits', L[i], T[i * tStride]);
        q += unaryRef('sigmoid', L[i], 0);
      }
      f64(loss)[k] = s * (1 / n);
      f64(prob)[k] = q * (1 / n);
    }
  }
  bceLogitsMeanGrad(
    logits: Store,
    targets: Store,
    gLoss: Store,
    gLogits: Store,
    n: number,
    tStride: 0 | 1,
    groups = 1,
  ): void {
    const L = f64(logits),
      T = f64(targets),
      O = f64(gLogits),
      G = f64(gLoss);
    for (let i = 0; i < n * groups; i++)
      O[i] = binaryRef('sigmoid_sub', L[i], T[i * tStride]) * (G[Math.floor(i / n)] * (1 / n));
  }
  argmaxMatch(logits: Store, labels: Store, hit: Store, N: number, C: number): void {
    const L = f64(logits),
      Y = labels as Int32Array,
      O = f64(hit);
    for (let i = 0; i < N; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (L[i * C + c] > L[i * C + best]) best = c;
      O[i] = best === Y[i] ? 1 : 0;
    }
  }
  adam(param: Store, grad: Store, m: Store, v: Store, n: number, h: AdamHyper): void {
    adamRef(f64(param), f64(grad), f64(m), f64(v), n, h);
  }
  adamMulti(param: Store, grad: Store, m: Store, v: Store, slots: readonly ArenaSlot[], h: AdamHyper): void {
    adamMultiRef(f64(param), f64(grad), f64(m), f64(v), slots, h);
  }
  emaUpdate(avg: Store, x: Store, n: number, decay: number): void {
    emaUpdateRef(f64(avg), f64(x), n, decay);
  }
  random(out: Store, n: number, dist: 'uniform' | 'normal', seed: number, offset: number): void {
    const O = f64(out);
    for (let i = 0; i < n; i++) O[i] = dist === 'uniform' ? uniformAt(seed, offset + i) : normalAt(seed, offset + i);
  }
  randomInt(out: Store, n: number, high: number, seed: number, offset: number): void {
    const O = out as Int32Array;
    for (let i = 0; i < n; i++) O[i] = intAt(seed, offset + i, high);
  }
  dropout(x: Store, out: Store, n: number, p: number, seed: number, offset: number): void {
    const X = f64(x),
      O = f64(out);
    const t = dropThreshold(p);
    for (let i = 0; i < n; i++) O[i] = dropoutAt(X[i], seed, offset + i, p, t);
  }
  conv2d(x: Store, w: Store, bias: Store | null, y: Store, d: ConvDims, act: Activation, alpha: number): void {
    conv2dRef(f64(x), f64(w), bias && f64(bias), f64(y), d, act, alpha);
  }
  conv2dGradInput(
    gy: Store,
    w: Store,
    gx: Store,
    d: ConvDims,
    bias: Store | null,
    act: Activation,
    alpha: number,
  ): void {
    conv2dGradInputRef(f64(gy), f64(w), f64(gx), d, bias && f64(bias), act, alpha);
  }
  conv2dGradWeight(x: Store, gy: Store, gw: Store, d: ConvDims, accumulate = false): void {
    into(f64(gw), accumulate, (o) => conv2dGradWeightRef(f64(x), f64(gy), o, d));
  }
  batchnormStats(x: Store, mean: Store, variance: Store, d: BatchnormDims): void {
    batchnormStatsRef(bnInput(x, d), f64(mean), f64(variance), d);
  }
  batchnormApply(
    x: Store,
    mean: Store,
    variance: Store,
    gamma: Store,
    beta: Store,
    out: Store,
    d: BatchnormDims,
    eps: number,
    epi: BatchnormEpilogue | null = null,
  ): void {
    batchnormApplyRef(bnInput(x, d), f64(mean), f64(variance), f64(gamma), f64(beta), f64(out), d, eps, epi);
  }
  activationDropout(x: Store, out: Store, n: number, epi: BatchnormEpilogue): void {
    activationDropoutRef(f64(x), f64(out), n, epi);
  }
  batchnormEpilogueGrad(g: Store, y: Store, gn: Store, d: BatchnormDims, epi: BatchnormEpilogue): void {
    batchnormEpilogueGradRef(f64(g), f64(y), f64(gn), d, epi);
  }
  batchnormStatsRunning(
    x: Store,
    mean: Store,
    variance: Store,
    runMean: Store,
    runVar: Store,
    d: BatchnormDims,
    momentum: number,
  ): void {
    batchnormStatsRunningRef(bnInput(x, d), f64(mean), f64(variance), f64(runMean), f64(runVar), d, momentum);
  }
  batchnormGrad(
    x: Store,
    g: Store,
    mean: Store,
    variance: Store,
    gamma: Store,
    gx: Store,
    gGamma: Store,
    gBeta: Store,
    d: BatchnormDims,
    eps: number,
    training: boolean,
    acc: BatchnormAccumulate = {},
    through: { y: Store; epi: BatchnormEpilogue } | null = null,
  ): void {
    let gn = f64(g);
    if (through) {
      gn = new Float64Array(d.N * d.C * d.L);
      batchnormEpilogueGradRef(f64(g), f64(through.y), gn, d, through.epi);
    }
    into(f64(gGamma), !!acc.gamma, (gg) =>
      into(f64(gBeta), !!acc.beta, (gb) =>
        batchnormGradRef(bnInput(x, d), gn, f64(mean), f64(variance), f64(gamma), f64(gx), gg, gb, d, eps, training),
      ),
    );
    if (d.inputRelu) {
      const X = f64(x),
        GX = f64(gx);
      for (let i = 0; i < d.N * d.C * d.L; i++) GX[i] *= X[i] > 0 ? 1 : 0; // back through the ReLU
    }
  }
  embedding(weight: Store, indices: Store, out: Store, n: number, V: number, D: number): void {
    embeddingRef(f64(weight), indices as Int32Array, f64(out), n, V, D);
  }
  embeddingGrad(indices: Store, g: Store, gWeight: Store, n: number, V: number, D: number, accumulate = false): void {
    into(f64(gWeight), accumulate, (o) => embeddingGradRef(indices as Int32Array, f64(g), o, n, V, D));
  }
  maxpool2d(x: Store, out: Store, d: Pool2dDims, drop: { p: number; key: number } | null = null): void {
    maxpool2dRef(f64(x), f64(out), d, drop);
  }
  maxpool2dGrad(x: Store, g: Store, gx: Store, d: Pool2dDims, drop: { p: number; key: number } | null = null): void {
    maxpool2dGradRef(f64(x), f64(g), f64(gx), d, drop);
  }
}

/** log Σ_c exp(a[o + c]) over C values, max-subtracted */
function logSumExp(a: Float64Array, o: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, a[o + c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(a[o + c] - m);
  return m + Math.log(s);
}

function checkLabel(y: number, C: number, row: number): number {
  if (!(y >= 0 && y < C)) throw new Error(`label ${y} at row ${row} is outside [0, ${C})`);
  return y;
}
