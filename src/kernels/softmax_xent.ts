// softmax_xent.ts — dispatch of wgsl/softmax_xent.wgsl (row-wise loss and its gradient; the mean loss and its
// gradient in one dispatch each).
import xent from '../../wgsl/softmax_xent.wgsl';
import sumTree from '../../wgsl/sum_tree.wgsl';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';
import { REDUCE_SMALL_MAX } from './reduce.js';

const src = xent + sumTree;

const FWD: Kernel = {
  file: 'wgsl/softmax_xent.wgsl',
  code: src,
  entry: 'softmax_xent',
  bindings: ['read', 'read', 'rw'],
};
const MATCH: Kernel = {
  file: 'wgsl/softmax_xent.wgsl',
  code: src,
  entry: 'argmax_match',
  bindings: ['read', 'read', 'rw'],
};
const BWD: Kernel = {
  file: 'wgsl/softmax_xent.wgsl',
  code: src,
  entry: 'softmax_xent_grad',
  bindings: ['read', 'read', 'read', 'rw'],
};
const MEAN: Kernel = { ...FWD, entry: 'softmax_xent_mean' };
const MEAN_BWD: Kernel = { ...BWD, entry: 'softmax_xent_mean_grad' };

export function softmaxXent(gpu: Gpu, logits: GBuf, labels: GBuf, out: GBuf, N: number, C: number): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(FWD, [logits, labels, out], (p) => p.u(N, C, gx), [gx, gy]);
}
export function softmaxXentGrad(
  gpu: Gpu,
  logits: GBuf,
  labels: GBuf,
  gRow: GBuf,
  gLogits: GBuf,
  N: number,
  C: number,
): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(BWD, [logits, labels, gRow, gLogits], (p) => p.u(N, C, gx), [gx, gy]);
}
export function argmaxMatch(gpu: Gpu, logits: GBuf, labels: GBuf, hit: GBuf, N: number, C: number): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(MATCH, [logits, labels, hit], (p) => p.u(N, C, gx), [gx, gy]);
}
/** loss[0] = the mean over rows of the cross-entropy (summed in reduce_sum's order) */
export function softmaxXentMean(gpu: Gpu, logits: GBuf, labels: GBuf, loss: GBuf, N: number, C: number): void {
  gpu.dispatch(MEAN, [logits, labels, loss], (p) => p.u(N, C, 1, N <= REDUCE_SMALL_MAX ? 1 : 0).f(1 / N), [1]);
}
/** gLogits = the gradient of the mean loss, given its gradient gLoss [1] */
export function softmaxXentMeanGrad(
  gpu: Gpu,
  logits: GBuf,
  labels: GBuf,
  gLoss: GBuf,
  gLogits: GBuf,
  N: number,
  C: number,
): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(MEAN_BWD, [logits, labels, gLoss, gLogits], (p) => p.u(N, C, gx, 0).f(1 / N), [gx, gy]);
}
