// grads.ts — gradient helpers that record nothing on the tape, used by the ops' backward functions (ops.ts and the
// op families in their own files, e.g. conv2d.ts), kept apart so those files import them without importing ops.ts.
import type { Activation } from './backend.js';
import { Tensor } from './tensor.js';

/**
 * sum of x over `axes` written into `into.t` (a tensor of the reduced size, e.g. a parameter's gradient slot),
 * added to its values with `into.add`; no tape
 */
export function sumInto(x: Tensor, axes: readonly number[], into: { t: Tensor; add: boolean }): Tensor {
  if (x.dtype !== 'f32') throw new Error(`sum: expects f32, got ${x.dtype} [${x.shape}]`);
  const t = into.t;
  if (t.size !== x.shape.reduce((a, d, i) => (axes.includes(i) ? a : a * d), 1))
    throw new Error(`sumInto: [${x.shape}] over axes [${axes}] does not fit [${t.shape}]`);
  x.backend.reduceSum(x.store, x.shape, axes, t.store, into.add);
  return t;
}

/** the gradient before a fused activation: g · act'(pre), computed from y = act(pre) (valid for every Activation) */
export function preActivationGrad(y: Tensor, g: Tensor, act: Activation, alpha: number): Tensor {
  if (act === 'none') return g;
  const gp = Tensor.empty(g.backend, g.shape);
  g.backend.unaryGrad(act, y.store, y.store, g.store, gp.store, g.size, alpha); // relu/leaky: sign(y) = sign(pre)
  return gp;
}
