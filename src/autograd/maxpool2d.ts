// autograd/maxpool2d.ts — differentiable 2-D max pooling (k×k windows, stride k by default, floor mode) on NCHW.
import type { Pool2dDims } from './backend.js';
import { Tensor, record } from './tensor.js';

/**
 * x [N, C, H, W] → [N, C, ⌊(H − k)/stride⌋ + 1, ⌊(W − k)/stride⌋ + 1]: the max of each k×k window, no padding;
 * rows/columns no window reaches are dropped (13×13 → 6×6 for k = 2, as PyTorch). The gradient goes to each
 * window's first maximum in row-major order (ties resolved the same way on every backend). `dropout`
 * (Dropout.fusedMask): then inverted dropout in the same kernel, each way — bit for bit F.dropout of the pooled
 * tensor with that key.
 */
export function maxpool2d(x: Tensor, k = 2, stride = k, dropout: { p: number; key: number } | null = null): Tensor {
  if (dropout && !(dropout.p >= 0 && dropout.p < 1))
    throw new Error(`maxpool2d: dropout p must be in [0, 1), got ${dropout.p}`);
  const drop = dropout?.p ? dropout : null;
  if (x.dtype !== 'f32' || x.shape.length !== 4)
    throw new Error(`maxpool2d: x must be f32 [N, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`);
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(stride) || stride < 1)
    throw new Error(`maxpool2d: window ${k} and stride ${stride} must be positive integers`);
  const [N, C, H, W] = x.shape;
  if (H < k || W < k) throw new Error(`maxpool2d: a ${k}×${k} window does not fit in ${H}×${W}`);
  const d: Pool2dDims = {
    N,
    C,
    H,
    W,
    k,
    stride,
    OH: Math.floor((H - k) / stride) + 1,
    OW: Math.floor((W - k) / stride) + 1,
  };
  const be = x.backend;
  const out = Tensor.empty(be, [N, C, d.OH, d.OW]);
  be.maxpool2d(x.store, out.store, d, drop);
  return record(out, 'maxpool2d', [x], (g) => {
    const gx = Tensor.empty(be, x.shape);
    be.maxpool2dGrad(x.store, g.store, gx.store, d, drop);
    return [gx];
  });
}
