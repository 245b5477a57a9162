// cpu/backend.ts — the float64 CPU reference backend: every primitive kernel as plain loops, written for clarity.
// It is the oracle the GPU kernels are tested against and the baseline the benchmarks compare with. The loops live
// in one file per kernel family, named as src/kernels/ and wgsl/ name it (conv2d.ts: conv2dRef, …); this class
// hands them its stores as typed arrays.
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
import { adamMultiRef, adamRef } from './adam.js';
import {
  activationDropoutRef,
  batchnormApplyRef,
  batchnormEpilogueGradRef,
  batchnormGradRef,
  batchnormStatsRef,
  batchnormStatsRunningRef,
} from './batchnorm.js';
import { bceLogitsMeanGradRef, bceLogitsMeanRef } from './bce_logits.js';
import { concatRef, splitRef } from './concat.js';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef } from './conv2d.js';
import { copyStridedRef } from './copy_strided.js';
import { binaryRef, unaryGradRef, unaryRef } from './elementwise.js';
import { emaUpdateRef } from './ema.js';
import { embeddingGradRef, embeddingRef } from './embedding.js';
import { matmulBiasGradRef, matmulRef } from './matmul.js';
import { maxpool2dGradRef, maxpool2dRef } from './maxpool2d.js';
import { dropoutRef, randomIntRef, randomRef } from './random.js';
import { reduceSumRef } from './reduce.js';
import {
  argmaxMatchRef,
  softmaxXentGradRef,
  softmaxXentMeanGradRef,
  softmaxXentMeanRef,
  softmaxXentRef,
} from './softmax_xent.js';

type Arr = Float64Array | Int32Array;
const arr = (s: Store) => s as Arr;
const f64 = (s: Store) => s as Float64Array;
const i32 = (s: Store) => s as Int32Array;

/** batchnorm's x as its kernels see it: through relu with d.inputRelu */
function bnInput(x: Store, d: BatchnormDims): Float64Array {
  return d.inputRelu ? f64(x).map((v) => (v > 0 ? v : 0)) : f64(x);
}

/** run `fn`, which writes its result into the array it gets: into `out`, or, with `accumulate`, added to out */
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
    unaryRef(op, f64(x), f64(out), n, alpha);
  }
  unaryGrad(op: UnaryOp, x: Store, y: Store, gy: Store, gx: Store, n: number, alpha: number): void {
    unaryGradRef(op, f64(x), f64(y), f64(gy), f64(gx), n, alpha);
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
    binaryRef(op, f64(a), aShape, f64(b), bShape, f64(out), outShape);
  }
  reduceSum(x: Store, shape: readonly number[], axes: readonly number[], out: Store, accumulate = false): void {
    into(f64(out), accumulate, (O) => reduceSumRef(f64(x), shape, axes, O));
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
    copyStridedRef(arr(src), srcOffset, srcStrides, arr(dst), dstOffset, dstStrides, shape);
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
    concatRef(parts.map(arr), offsets, widths, W, outer, inner, arr(out));
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
    splitRef(arr(g), W, outer, inner, parts.map(arr), offsets, widths);
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
    into(f64(out), accumulate, (C) => matmulRef(f64(a), f64(b), C, d, bias && f64(bias), act, alpha));
    if (biasGrad) into(f64(biasGrad.out), biasGrad.add, (G) => matmulBiasGradRef(f64(b), G, d));
  }
  softmaxXent(logits: Store, labels: Store, out: Store, N: number, C: number): void {
    softmaxXentRef(f64(logits), i32(labels), f64(out), N, C);
  }
  softmaxXentGrad(logits: Store, labels: Store, gRow: Store, gLogits: Store, N: number, C: number): void {
    softmaxXentGradRef(f64(logits), i32(labels), f64(gRow), f64(gLogits), N, C);
  }
  softmaxXentMean(logits: Store, labels: Store, loss: Store, N: number, C: number): void {
    softmaxXentMeanRef(f64(logits), i32(labels), f64(loss), N, C);
  }
  softmaxXentMeanGrad(logits: Store, labels: Store, gLoss: Store, gLogits: Store, N: number, C: number): void {
    softmaxXentMeanGradRef(f64(logits), i32(labels), f64(gLoss), f64(gLogits), N, C);
  }
  bceLogitsMean(
    logits: Store,
    lShape: readonly number[],
    targets: Store,
    tShape: readonly number[],
    loss: Store,
    prob: Store,
    groups = 1,
  ): void {
    bceLogitsMeanRef(f64(logits), lShape, f64(targets), tShape, f64(loss), f64(prob), groups);
  }
  bceLogitsMeanGrad(
    logits: Store,
    lShape: readonly number[],
    targets: Store,
    tShape: readonly number[],
    gLoss: Store,
    gLogits: Store | null,
    gTargets: Store | null,
    groups = 1,
  ): void {
    const gl = gLogits && f64(gLogits),
      gt = gTargets && f64(gTargets);
    bceLogitsMeanGradRef(f64(logits), lShape, f64(targets), tShape, f64(gLoss), gl, gt, groups);
  }
  argmaxMatch(logits: Store, labels: Store, hit: Store, N: number, C: number): void {
    argmaxMatchRef(f64(logits), i32(labels), f64(hit), N, C);
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
    randomRef(f64(out), n, dist, seed, offset);
  }
  randomInt(out: Store, n: number, high: number, seed: number, offset: number): void {
    randomIntRef(i32(out), n, high, seed, offset);
  }
  dropout(x: Store, out: Store, n: number, p: number, seed: number, offset: number): void {
    dropoutRef(f64(x), f64(out), n, p, seed, offset);
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
    embeddingRef(f64(weight), i32(indices), f64(out), n, V, D);
  }
  embeddingGrad(indices: Store, g: Store, gWeight: Store, n: number, V: number, D: number, accumulate = false): void {
    into(f64(gWeight), accumulate, (o) => embeddingGradRef(i32(indices), f64(g), o, n, V, D));
  }
  maxpool2d(x: Store, out: Store, d: Pool2dDims, drop: { p: number; key: number } | null = null): void {
    maxpool2dRef(f64(x), f64(out), d, drop);
  }
  maxpool2dGrad(x: Store, g: Store, gx: Store, d: Pool2dDims, drop: { p: number; key: number } | null = null): void {
    maxpool2dGradRef(f64(x), f64(g), f64(gx), d, drop);
  }
}
