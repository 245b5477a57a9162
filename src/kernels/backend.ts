// kernels/backend.ts — the GPU backend: the Backend primitives (src/autograd/backend.ts) mapped onto the WGSL
// kernels. Storage is a pooled GPU buffer or a slot of an arena (Gpu.arena); f32 data is uploaded as float32, i32
// as int32.
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
import type { Gpu, GBuf } from './gpu.js';
import * as ew from './elementwise.js';
import { reduceSum } from './reduce.js';
import { copyStrided } from './copy_strided.js';
import { concat, split } from './concat.js';
import { matmul } from './matmul.js';
import { argmaxMatch, softmaxXent, softmaxXentGrad, softmaxXentMean, softmaxXentMeanGrad } from './softmax_xent.js';
import { bceLogitsMean, bceLogitsMeanGrad } from './bce_logits.js';
import { random, randomInt, dropout } from './random.js';
import * as conv from './conv2d.js';
import { tuneConvTiles, type TunedConv, type TuneOptions } from './conv2d_tune.js';
import { adam, adamMulti } from './adam.js';
import { emaUpdate } from './ema.js';
import * as bn from './batchnorm.js';
import { embedding, embeddingGrad } from './embedding.js';
import { maxpool2d, maxpool2dGrad } from './maxpool2d.js';

const g = (s: Store) => s as GBuf;

export class GpuBackend implements Backend {
  readonly kind = 'gpu' as const;
  readonly name: string;
  constructor(readonly gpu: Gpu) {
    this.name = `webgpu:${gpu.adapter.description}`;
  }
  alloc(n: number): Store {
    return this.gpu.acquire(Math.max(4, n * 4));
  }
  upload(data: ArrayLike<number>, dtype: DType): Store {
    const b = this.gpu.acquire(Math.max(4, data.length * 4));
    this.write(b, data, dtype);
    return b;
  }
  write(s: Store, data: ArrayLike<number>, dtype: DType): void {
    if (data.length) this.gpu.upload(g(s), dtype === 'f32' ? Float32Array.from(data) : Int32Array.from(data));
  }
  async read(s: Store, n: number, dtype: DType): Promise<Float32Array | Int32Array> {
    const buf = await this.gpu.read(g(s), n * 4);
    return dtype === 'f32' ? new Float32Array(buf) : new Int32Array(buf);
  }
  free(s: Store): void {
    this.gpu.release(g(s));
  }
  arena({ slots, total }: ArenaLayout): { whole: Store; slots: Store[] } {
    return this.gpu.arena(
      total * 4,
      slots.map((s) => s.offset * 4),
      slots.map((s) => s.n * 4),
    );
  }
  memory(): { live: number; peak: number; allocated: number } {
    const s = this.gpu.pool.stats();
    this.gpu.pool.resetPeak();
    return { live: s.liveBytes, peak: s.peakLiveBytes, allocated: s.allocatedBytes };
  }
  private tuneReport: ((r: TunedConv[], ms: number) => void) | null = null;
  tuneMs = 0;
  private tuneOptions: TuneOptions = {};
  /**
   * Choose conv tiles by timing on this device (kernels/conv2d_tune.ts): conv problems run from now on are noted,
   * and the next throttle point (the end of a training step, outside it) times them under every tile and keeps
   * the fastest; `report` hears what was tuned. The results' bits do not change. False (and nothing noted) where
   * the device has no timestamp queries.
   */
  tuneConvs(report: (r: TunedConv[], ms: number) => void = () => {}, options: TuneOptions = {}): boolean {
    if (!this.gpu.canTime) return false; // no timestamp queries: pickTile's rule
    conv.enableConvTuning(this.gpu);
    this.tuneReport = report;
    this.tuneOptions = options;
    return true;
  }
  async throttle(max: number): Promise<void> {
    await this.gpu.throttle(max);
    if (this.tuneReport && conv.convTuning(this.gpu)?.pending.size) {
      const t0 = performance.now();
      const r = await tuneConvTiles(this.gpu, this.tuneOptions);
      const ms = performance.now() - t0;
      this.tuneMs += ms;
      this.tuneReport(r, ms);
    }
  }
  fill(out: Store, n: number, value: number): void {
    const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
    this.gpu.fillWords(g(out), bits, n);
  }
  unary(op: UnaryOp, x: Store, out: Store, n: number, alpha: number): void {
    ew.unary(this.gpu, op, g(x), g(out), n, alpha);
  }
  unaryGrad(op: UnaryOp, x: Store, y: Store, gy: Store, gx: Store, n: number, alpha: number): void {
    ew.unaryGrad(this.gpu, op, g(x), g(y), g(gy), g(gx), n, alpha);
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
    ew.binary(this.gpu, op, g(a), aShape, g(b), bShape, g(out), outShape);
  }
  reduceSum(x: Store, shape: readonly number[], axes: readonly number[], out: Store, accumulate = false): void {
    reduceSum(this.gpu, g(x), shape, axes, g(out), accumulate);
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
    copyStrided(this.gpu, g(src), srcOffset, srcStrides, g(dst), dstOffset, dstStrides, shape);
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
    concat(this.gpu, parts.map(g), offsets, widths, W, outer, inner, g(out));
  }
  split(
    gs: Store,
    W: number,
    outer: number,
    inner: number,
    parts: readonly Store[],
    offsets: readonly number[],
    widths: readonly number[],
  ): void {
    split(this.gpu, g(gs), W, outer, inner, parts.map(g), offsets, widths);
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
    const bg = biasGrad && { out: g(biasGrad.out), add: biasGrad.add };
    matmul(this.gpu, g(a), g(b), g(out), d, bg ? 'matmul' : undefined, bias && g(bias), act, alpha, accumulate, bg);
  }
  softmaxXent(logits: Store, labels: Store, out: Store, N: number, C: number): void {
    softmaxXent(this.gpu, g(logits), g(labels), g(out), N, C);
  }
  softmaxXentGrad(logits: Store, labels: Store, gRow: Store, gLogits: Store, N: number, C: number): void {
    softmaxXentGrad(this.gpu, g(logits), g(labels), g(gRow), g(gLogits), N, C);
  }
  softmaxXentMean(logits: Store, labels: Store, loss: Store, N: number, C: number): void {
    softmaxXentMean(this.gpu, g(logits), g(labels), g(loss), N, C);
  }
  softmaxXentMeanGrad(logits: Store, labels: Store, gLoss: Store, gLogits: Store, N: number, C: number): void {
    softmaxXentMeanGrad(this.gpu, g(logits), g(labels), g(gLoss), g(gLogits), N, C);
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
    bceLogitsMean(this.gpu, g(logits), lShape, g(targets), tShape, g(loss), g(prob), groups);
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
    const gl = gLogits && g(gLogits),
      gt = gTargets && g(gTargets);
    bceLogitsMeanGrad(this.gpu, g(logits), lShape, g(targets), tShape, g(gLoss), gl, gt, groups);
  }
  argmaxMatch(logits: Store, labels: Store, hit: Store, N: number, C: number): void {
    argmaxMatch(this.gpu, g(logits), g(labels), g(hit), N, C);
  }
  adam(param: Store, grad: Store, m: Store, v: Store, n: number, h: AdamHyper): void {
    adam(this.gpu, g(param), g(grad), g(m), g(v), n, h);
  }
  adamMulti(param: Store, grad: Store, m: Store, v: Store, slots: readonly ArenaSlot[], h: AdamHyper): void {
    adamMulti(this.gpu, g(param), g(grad), g(m), g(v), slots, h);
  }
  emaUpdate(avg: Store, x: Store, n: number, decay: number): void {
    emaUpdate(this.gpu, g(avg), g(x), n, decay);
  }
  random(out: Store, n: number, dist: 'uniform' | 'normal', seed: number, offset: number): void {
    random(this.gpu, g(out), n, dist, seed, offset);
  }
  randomInt(out: Store, n: number, high: number, seed: number, offset: number): void {
    randomInt(this.gpu, g(out), n, high, seed, offset);
  }
  dropout(x: Store, out: Store, n: number, p: number, seed: number, offset: number): void {
    dropout(this.gpu, g(x), g(out), n, p, seed, offset);
  }
  conv2d(x: Store, w: Store, bias: Store | null, y: Store, d: ConvDims, act: Activation, alpha: number): void {
    conv.conv2d(this.gpu, g(x), g(w), bias && g(bias), g(y), d, act, alpha);
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
    conv.conv2dGradInput(this.gpu, g(gy), g(w), g(gx), d, bias && g(bias), act, alpha);
  }
  conv2dGradWeight(x: Store, gy: Store, gw: Store, d: ConvDims, accumulate = false): void {
    conv.conv2dGradWeight(this.gpu, g(x), g(gy), g(gw), d, undefined, accumulate);
  }
  batchnormStats(x: Store, mean: Store, variance: Store, d: BatchnormDims): void {
    bn.batchnormStats(this.gpu, g(x), g(mean), g(variance), d);
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
    bn.batchnormApply(this.gpu, g(x), g(mean), g(variance), g(gamma), g(beta), g(out), d, eps, epi);
  }
  activationDropout(x: Store, out: Store, n: number, epi: BatchnormEpilogue): void {
    bn.activationDropout(this.gpu, g(x), g(out), n, epi);
  }
  batchnormEpilogueGrad(gy: Store, y: Store, gn: Store, d: BatchnormDims, epi: BatchnormEpilogue): void {
    bn.batchnormEpilogueGrad(this.gpu, g(gy), g(y), g(gn), d, epi);
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
    bn.batchnormStatsRunning(this.gpu, g(x), g(mean), g(variance), g(runMean), g(runVar), d, momentum);
  }
  batchnormGrad(
    x: Store,
    gy: Store,
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
    bn.batchnormGrad(
      this.gpu,
      g(x),
      g(gy),
      g(mean),
      g(variance),
      g(gamma),
      g(gx),
      g(gGamma),
      g(gBeta),
      d,
      eps,
      training,
      acc,
      through && { y: g(through.y), epi: through.epi },
    );
  }
  embedding(weight: Store, indices: Store, out: Store, n: number, V: number, D: number): void {
    embedding(this.gpu, g(weight), g(indices), g(out), n, V, D);
  }
  embeddingGrad(indices: Store, gy: Store, gWeight: Store, n: number, V: number, D: number, accumulate = false): void {
    embeddingGrad(this.gpu, g(indices), g(gy), g(gWeight), n, V, D, accumulate);
  }
  maxpool2d(x: Store, out: Store, d: Pool2dDims, drop: { p: number; key: number } | null = null): void {
    maxpool2d(this.gpu, g(x), g(out), d, drop);
  }
  maxpool2dGrad(x: Store, gy: Store, gx: Store, d: Pool2dDims, drop: { p: number; key: number } | null = null): void {
    maxpool2dGrad(this.gpu, g(x), g(gy), g(gx), d, drop);
  }
}
