// reduce.ts — dispatch of wgsl/reduce.wgsl: sum over any axes. Chooses a workgroup per output (large reductions),
// a thread per output (small ones), or, for very long reductions into few outputs (a whole tensor's sum), slices of
// the reduction in workgroups of their own and then the sum of the slices.
import src from '../../wgsl/reduce.wgsl';
import { type Gpu, type GBuf, type Kernel, type Params, grid } from './gpu.js';
import { stridesOf } from '../autograd/tensor.js';

const WG: Kernel = {
  file: 'wgsl/reduce.wgsl',
  code: src,
  entry: 'reduce_wg',
  bindings: ['read', 'rw'],
  constants: { ACCUM: 0 },
};
const SMALL: Kernel = { ...WG, entry: 'reduce_small' };
const WG_ACCUM: Kernel = { ...WG, constants: { ACCUM: 1 } };
const SMALL_ACCUM: Kernel = { ...SMALL, constants: { ACCUM: 1 } };

/** below this many summed elements per output, one thread per output is faster than a workgroup */
export const REDUCE_SMALL_MAX = 64;
/** from this many summed elements per output, on a hardware adapter, a reduction with fewer outputs than the
 * workgroups the device wants in flight is cut into slices (two dispatches: slices, then their sum). 16 384, as
 * batchnorm's slicing: a bias gradient at batch 64 (32 channels of 50 176) would otherwise walk each channel in
 * one workgroup of 256 threads, 196 strided steps each, on 32 of a GPU's ~132 cores */
export const REDUCE_SLICE_MIN = 16384;
/** elements per slice, at least */
const SLICE_MIN = 8192;

/** how many slices a reduction of R elements into outN outputs is cut into (1: one stage). Software adapters: 1
 * (lavapipe, 2026-11-30: a whole-tensor sum of 100 352 floats took 1.5 ms in one workgroup, 1.8 ms in 8 slices
 * plus their sum). Hardware: enough slices of ≥ 8192 elements for ~264 workgroups, where one workgroup per output
 * would leave all but a few of a GPU's cores idle (not yet measured on one: the GPU session's profile will say) */
export function reduceSlices(gpu: Gpu, outN: number, R: number): number {
  if (R < REDUCE_SLICE_MIN || gpu.adapter.software) return 1;
  const target = 264; // workgroups wanted in flight (as conv2d's split-K)
  return Math.max(1, Math.min(Math.ceil(target / outN), Math.floor(R / SLICE_MIN), 256));
}

/** out = the sum of x over `axes`; with `accumulate`, out += it. `opts.slices` forces the number of slices
 * (tests; 1 = one stage), by default reduceSlices' choice */
export function reduceSum(
  gpu: Gpu,
  x: GBuf,
  shape: readonly number[],
  axes: readonly number[],
  out: GBuf,
  accumulate = false,
  opts: { slices?: number } = {},
): void {
  const st = stridesOf(shape);
  const ks: number[] = [],
    kst: number[] = [],
    rs: number[] = [],
    rst: number[] = [];
  // kept and reduced axes in order; an axis that continues the previous one of its kind in memory (same kind, the
  // previous one's stride = this size × this stride) merges into it: a whole-tensor sum is one axis, and the
  // kernel decodes fewer indices per element (the order of the summed elements is unchanged)
  let lastKind: 'k' | 'r' | null = null;
  shape.forEach((d, i) => {
    if (d === 1) return;
    const kind = axes.includes(i) ? 'r' : 'k';
    const [sz, stv] = kind === 'r' ? [rs, rst] : [ks, kst];
    const n = sz.length;
    if (lastKind === kind && n > 0 && stv[n - 1] === d * st[i]) {
      sz[n - 1] *= d;
      stv[n - 1] = st[i];
    } else {
      sz.push(d);
      stv.push(st[i]);
    }
    lastKind = kind;
  });
  if (ks.length > 8 || rs.length > 8) throw new Error('reduceSum: rank > 8');
  const outN = ks.reduce((a, d) => a * d, 1);
  const R = rs.reduce((a, d) => a * d, 1);
  const small = R <= REDUCE_SMALL_MAX;
  const asked = small ? 1 : (opts.slices ?? reduceSlices(gpu, outN, R));
  const chunk = asked > 1 ? Math.ceil(R / asked) : 0;
  const slices = asked > 1 ? Math.ceil(R / chunk) : 1; // every slice non-empty
  const params = (p: Params) =>
    p
      .u(outN, R, gx, ks.length, rs.length, chunk, slices, 0)
      .vec4u(ks.slice(0, 4))
      .vec4u(ks.slice(4))
      .vec4u(kst.slice(0, 4))
      .vec4u(kst.slice(4))
      .vec4u(rs.slice(0, 4))
      .vec4u(rs.slice(4))
      .vec4u(rst.slice(0, 4))
      .vec4u(rst.slice(4));
  const [gx, gy] = grid(small ? Math.ceil(outN / 256) : outN);
  if (slices > 1) {
    // stage 1: [outN][slices] partial sums, each over a contiguous run of r; stage 2: their sums, in slice order
    const part = gpu.acquire(outN * slices * 4);
    gpu.dispatch(WG, [x, part], params, [gx, gy, slices]);
    reduceSum(gpu, part, [outN, slices], [1], out, accumulate, { slices: 1 });
    gpu.release(part);
    return;
  }
  gpu.dispatch(small ? (accumulate ? SMALL_ACCUM : SMALL) : accumulate ? WG_ACCUM : WG, [x, out], params, [gx, gy]);
}
