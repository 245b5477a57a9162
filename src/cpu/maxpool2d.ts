// cpu/maxpool2d.ts — float64 reference of 2-D max pooling (k×k windows, stride s, floor mode) and its backward.
import type { Pool2dDims } from '../autograd/backend.js';
import { dropoutAt } from '../autograd/random.js';

type Drop = { p: number; key: number } | null;
/** the dropout of pooled element j's value v (the mask of `dropout` for stream key), or v without one */
function dropRef(v: number, j: number, drop: Drop): number {
  return drop ? dropoutAt(v, drop.key, j, drop.p) : v;
}

/** offset in x of the first maximum (row-major window order) of window (oh, ow) in plane `base` */
function argmax(X: Float64Array, base: number, oh: number, ow: number, d: Pool2dDims): number {
  const h0 = oh * d.stride,
    w0 = ow * d.stride;
  let best = base + h0 * d.W + w0;
  for (let i = 0; i < d.k; i++)
    for (let j = 0; j < d.k; j++) {
      const o = base + (h0 + i) * d.W + w0 + j;
      if (X[o] > X[best]) best = o;
    }
  return best;
}

export function maxpool2dRef(X: Float64Array, out: Float64Array, d: Pool2dDims, drop: Drop = null): void {
  for (let p = 0; p < d.N * d.C; p++)
    for (let oh = 0; oh < d.OH; oh++)
      for (let ow = 0; ow < d.OW; ow++) {
        const j = (p * d.OH + oh) * d.OW + ow;
        out[j] = dropRef(X[argmax(X, p * d.H * d.W, oh, ow, d)], j, drop);
      }
}

/** scatter: each window adds its gradient to its argmax (the GPU gathers per input element instead) */
export function maxpool2dGradRef(
  X: Float64Array,
  G: Float64Array,
  gx: Float64Array,
  d: Pool2dDims,
  drop: Drop = null,
): void {
  gx.fill(0, 0, d.N * d.C * d.H * d.W);
  for (let p = 0; p < d.N * d.C; p++)
    for (let oh = 0; oh < d.OH; oh++)
      for (let ow = 0; ow < d.OW; ow++) {
        const j = (p * d.OH + oh) * d.OW + ow;
        gx[argmax(X, p * d.H * d.W, oh, ow, d)] += dropRef(G[j], j, drop);
      }
}
