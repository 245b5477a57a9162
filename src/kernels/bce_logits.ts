// bce_logits.ts — dispatch of wgsl/bce_logits.wgsl: the mean BCE-with-logits loss (and mean probability) and its
// gradient, one dispatch each.
import bce from '../../wgsl/bce_logits.wgsl';
import sumTree from '../../wgsl/sum_tree.wgsl';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';
import { REDUCE_SMALL_MAX } from './reduce.js';

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

/** loss[k], prob[k] = the means of the BCE terms and of sigmoid(logits) over group k's n logits (of `groups`
 * groups); targets: one value per logit, or one (tStride 0) */
export function bceLogitsMean(
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
export function bceLogitsMeanGrad(
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
