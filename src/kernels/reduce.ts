// reduce.ts — dispatch of wgsl/reduce.wgsl: sum over any axes. Chooses a workgroup per output (large reductions)
// or a thread per output (small ones).
import src from '../../wgsl/reduce.wgsl';
import { Gpu, GBuf, Kernel, grid } from './gpu.js';
import { stridesOf } from '../autograd/tensor.js';

const WG: Kernel = { file: 'wgsl/reduce.wgsl', code: src, entry: 'reduce_wg', bindings: ['read', 'rw'], constants: { ACCUM: 0 } };
const SMALL: Kernel = { ...WG, entry: 'reduce_small' };
const WG_ACCUM: Kernel = { ...WG, constants: { ACCUM: 1 } };
const SMALL_ACCUM: Kernel = { ...SMALL, constants: { ACCUM: 1 } };

/** below this many summed elements per output, one thread per output is faster than a workgroup */
export const REDUCE_SMALL_MAX = 64;

/** out = the sum of x over `axes`; with `accumulate`, out += it */
export function reduceSum(gpu: Gpu, x: GBuf, shape: readonly number[], axes: readonly number[], out: GBuf, accumulate = false): void {
  const st = stridesOf(shape);
  const ks: number[] = [], kst: number[] = [], rs: number[] = [], rst: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    if (axes.includes(i)) {
      rs.push(d);
      rst.push(st[i]);
    } else {
      ks.push(d);
      kst.push(st[i]);
    }
  });
  if (ks.length > 8 || rs.length > 8) throw new Error('reduceSum: rank > 8');
  const outN = ks.reduce((a, d) => a * d, 1);
  const R = rs.reduce((a, d) => a * d, 1);
  const small = R <= REDUCE_SMALL_MAX;
  const [gx, gy] = grid(small ? Math.ceil(outN / 256) : outN);
  gpu.dispatch(small ? (accumulate ? SMALL_ACCUM : SMALL) : accumulate ? WG_ACCUM : WG, [x, out],
    (p) => p.u(outN, R, gx, ks.length, rs.length, 0, 0, 0).vec4u(ks.slice(0, 4)).vec4u(ks.slice(4)).vec4u(kst.slice(0, 4)).vec4u(kst.slice(4))
      .vec4u(rs.slice(0, 4)).vec4u(rs.slice(4)).vec4u(rst.slice(0, 4)).vec4u(rst.slice(4)),
    [gx, gy]);
}
