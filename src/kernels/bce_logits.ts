// bce_logits.ts — the GPU's BCE-with-logits family (the backend's bceLogitsMean and its gradient), and the choice of
// kernels: wgsl/bce_logits.wgsl's fused loss and gradient (one dispatch each) where the logits do not broadcast and
// the targets are one per logit or one for all, else the elementwise and reduce kernels composed, as the ops were
// before the fusion (the two are bit-identical where both apply: test/losses.test.ts).
import bce from '../../wgsl/bce_logits.wgsl';
import sumTree from '../../wgsl/sum_tree.wgsl';
import { broadcastAxes, broadcastShape } from '../autograd/backend.js';
import { sizeOf, stridesOf } from '../autograd/tensor.js';
import { copyStrided } from './copy_strided.js';
import { binary, unary } from './elementwise.js';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';
import { REDUCE_SMALL_MAX, reduceSum } from './reduce.js';

const FILE = 'wgsl/bce_logits.wgsl';
const MEAN: Kernel = {
  file: FILE,
  code: bce + sumTree,
  entry: 'bce_logits_mean',
  bindings: ['read', 'read', 'rw', 'rw'],
};
const MEAN_BWD: Kernel = {
  file: FILE,
  code: bce + sumTree,
  entry: 'bce_logits_mean_grad',
  bindings: ['read', 'read', 'read', 'rw'],
};

/** the fused kernels' target stride (1: one target per logit, 0: one for all), or null where they do not apply */
export function fusedTargetStride(lShape: readonly number[], tShape: readonly number[]): 0 | 1 | null {
  const n = sizeOf(lShape),
    nt = sizeOf(tShape);
  if (sizeOf(broadcastShape(lShape, tShape)) !== n || (nt !== n && nt !== 1)) return null;
  return nt === n && n > 1 ? 1 : 0;
}

/** Backend.bceLogitsMean: the fused kernel where it applies, else (one group only) the composed kernels */
export function bceLogitsMean(
  gpu: Gpu,
  logits: GBuf,
  lShape: readonly number[],
  targets: GBuf,
  tShape: readonly number[],
  loss: GBuf,
  prob: GBuf,
  groups = 1,
): void {
  const ts = fusedTargetStride(lShape, tShape);
  if (ts !== null) bceLogitsMeanFused(gpu, logits, targets, loss, prob, sizeOf(lShape) / groups, ts, groups);
  else if (groups === 1) bceLogitsMeanComposed(gpu, logits, lShape, targets, tShape, loss, prob);
  else throw new Error(`bceLogitsMean: ${groups} groups need targets one per logit or one for all`);
}

/** Backend.bceLogitsMeanGrad: the fused kernel unless the targets' gradient is asked or the layout is general */
export function bceLogitsMeanGrad(
  gpu: Gpu,
  logits: GBuf,
  lShape: readonly number[],
  targets: GBuf,
  tShape: readonly number[],
  gLoss: GBuf,
  gLogits: GBuf | null,
  gTargets: GBuf | null,
  groups = 1,
): void {
  const ts = fusedTargetStride(lShape, tShape);
  if (ts !== null && !gTargets) {
    if (gLogits) bceLogitsMeanFusedGrad(gpu, logits, targets, gLoss, gLogits, sizeOf(lShape) / groups, ts, groups);
  } else if (groups === 1) bceLogitsMeanComposedGrad(gpu, logits, lShape, targets, tShape, gLoss, gLogits, gTargets);
  else throw new Error(`bceLogitsMeanGrad: ${groups} groups need targets one per logit or one for all, no gradient`);
}

/** loss[k], prob[k] = the means of the BCE terms and of sigmoid(logits) over group k's n logits (of `groups`
 * groups); targets: one value per logit, or one (tStride 0) */
export function bceLogitsMeanFused(
  gpu: Gpu,
  logits: GBuf,
  targets: GBuf,
  loss: GBuf,
  prob: GBuf,
  n: number,
  tStride: 0 | 1,
  groups = 1,
): void {
  gpu.dispatch(
    MEAN,
    [logits, targets, loss, prob],
    (p) =>
      p
        .u(n, tStride, n <= REDUCE_SMALL_MAX ? 1 : 0, 1)
        .f(1 / n)
        .u(groups),
    [groups],
  );
}
/** gLogits = the gradient of the groups' mean losses, given their gradients gLoss [groups] */
export function bceLogitsMeanFusedGrad(
  gpu: Gpu,
  logits: GBuf,
  targets: GBuf,
  gLoss: GBuf,
  gLogits: GBuf,
  n: number,
  tStride: 0 | 1,
  groups = 1,
): void {
  const [gx, gy] = grid(Math.ceil((n * groups) / 256));
  gpu.dispatch(
    MEAN_BWD,
    [logits, targets, gLoss, gLogits],
    (p) =>
      p
        .u(n, tStride, 0, gx)
        .f(1 / n)
        .u(groups),
    [gx, gy],
  );
}

/** one group, any broadcast: loss = mean(binary bce_logits), prob = mean(sigmoid(logits)) */
export function bceLogitsMeanComposed(
  gpu: Gpu,
  logits: GBuf,
  lShape: readonly number[],
  targets: GBuf,
  tShape: readonly number[],
  loss: GBuf,
  prob: GBuf,
): void {
  const out = broadcastShape(lShape, tShape);
  const e = gpu.acquire(Math.max(4, sizeOf(out) * 4));
  binary(gpu, 'bce_logits', logits, lShape, targets, tShape, e, out);
  meanInto(gpu, e, out, loss);
  gpu.release(e);
  const p = gpu.acquire(Math.max(4, sizeOf(lShape) * 4));
  unary(gpu, 'sigmoid', logits, p, sizeOf(lShape), 0);
  meanInto(gpu, p, lShape, prob);
  gpu.release(p);
}

/** the gradient of bceLogitsMeanComposed's loss: the mean's (gLoss/n everywhere), times sigmoid(a) − t for the
 * logits and −a for the targets, each summed over the copies broadcasting made */
export function bceLogitsMeanComposedGrad(
  gpu: Gpu,
  logits: GBuf,
  lShape: readonly number[],
  targets: GBuf,
  tShape: readonly number[],
  gLoss: GBuf,
  gLogits: GBuf | null,
  gTargets: GBuf | null,
): void {
  const out = broadcastShape(lShape, tShape);
  const n = sizeOf(out),
    nl = sizeOf(lShape);
  const gs = gpu.acquire(4);
  unary(gpu, 'mul_s', gLoss, gs, 1, 1 / n);
  const gE = gpu.acquire(Math.max(4, n * 4));
  copyStrided(
    gpu,
    gs,
    0,
    out.map(() => 0),
    gE,
    0,
    stridesOf(out),
    out,
  );
  gpu.release(gs);
  if (gLogits) {
    const d = gpu.acquire(Math.max(4, n * 4));
    binary(gpu, 'sigmoid_sub', logits, lShape, targets, tShape, d, out);
    productTo(gpu, d, out, gE, out, lShape, gLogits);
    gpu.release(d);
  }
  if (gTargets) {
    const a = gpu.acquire(Math.max(4, nl * 4));
    unary(gpu, 'neg', logits, a, nl, 0);
    productTo(gpu, a, lShape, gE, out, tShape, gTargets);
    gpu.release(a);
  }
  gpu.release(gE);
}

/** dst [to] = x [xShape] · g [out] (broadcast), summed over the axes `to` was broadcast along (autograd's sumTo) */
function productTo(
  gpu: Gpu,
  x: GBuf,
  xShape: readonly number[],
  g: GBuf,
  out: readonly number[],
  to: readonly number[],
  dst: GBuf,
): void {
  if (sizeOf(to) === sizeOf(out)) {
    binary(gpu, 'mul', x, xShape, g, out, dst, out);
    return;
  }
  const m = gpu.acquire(sizeOf(out) * 4);
  binary(gpu, 'mul', x, xShape, g, out, m, out);
  reduceSum(gpu, m, out, broadcastAxes(out, to), dst);
  gpu.release(m);
}

/** out [1] = the mean of x [shape] (a sum over every axis, then a scale: autograd's mean) */
function meanInto(gpu: Gpu, x: GBuf, shape: readonly number[], out: GBuf): void {
  const s = gpu.acquire(4);
  reduceSum(
    gpu,
    x,
    shape,
    shape.map((_d, i) => i),
    s,
  );
  unary(gpu, 'mul_s', s, out, 1, 1 / sizeOf(shape));
  gpu.release(s);
}
