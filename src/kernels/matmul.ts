// matmul.ts — dispatch of wgsl/matmul.wgsl. Two tilings, `matmul` (64×64 tile, 4×4 per thread) and `matmul_big`
// (128×128 tile, 8×8 per thread), and `matmul_skinny` (a workgroup per output row, K split over its threads) for
// heads: few columns, few rows, long K. Picked by shape; transposes are read in place (override constants).
import main from '../../wgsl/matmul.wgsl';
import activation from '../../wgsl/activation.wgsl';

const src = main + '\n' + activation;
import { ACTIVATIONS, type Activation, type MatmulDims } from '../autograd/backend.js';
import type { Gpu, GBuf, Kernel, Work } from './gpu.js';

export type MatmulVariant = 'matmul' | 'matmul_big' | 'matmul_skinny';
const TILE = { matmul: 64, matmul_big: 128 };
/** matmul_skinny takes at most this many columns */
export const SKINNY_MAX_N = 16;

const kernels = new Map<string, Kernel>();
function kernel(
  entry: MatmulVariant,
  tA: boolean,
  tB: boolean,
  hasBias: boolean,
  act: Activation,
  accumulate: boolean,
  biasGrad: 0 | 1 | 2,
  skN = 0,
): Kernel {
  const key = `${entry}:${tA}:${tB}:${hasBias}:${act}:${accumulate}:${biasGrad}:${skN}`;
  let k = kernels.get(key);
  if (!k)
    kernels.set(
      key,
      (k = {
        file: 'wgsl/matmul.wgsl',
        code: src,
        entry,
        bindings: ['read', 'read', 'read', 'rw', 'rw'],
        constants: {
          TRANS_A: tA ? 1 : 0,
          TRANS_B: tB ? 1 : 0,
          HAS_BIAS: hasBias ? 1 : 0,
          ACT: ACTIVATIONS.indexOf(act),
          ACCUM: accumulate ? 1 : 0,
          BIAS_GRAD: biasGrad,
          ...(skN ? { SK_N: skN } : {}),
        },
      }),
    );
  return k;
}

/**
 * The big tile only pays when there are enough 128×128 tiles to fill the device. A head (N ≤ 16) over a long K
 * whose rows make few 64-row tiles goes to matmul_skinny, which spreads K over a workgroup per row instead of
 * leaving K to one workgroup per 64 rows (each workgroup there reads all of op(B), so not for many rows).
 */
export function chooseMatmul(d: MatmulDims): MatmulVariant {
  if (d.N <= SKINNY_MAX_N && d.K >= 256 && Math.ceil(d.M / 64) * d.batch < 32) return 'matmul_skinny';
  const bigTiles = Math.ceil(d.M / 128) * Math.ceil(d.N / 128) * d.batch;
  return d.M >= 128 && d.N >= 128 && bigTiles >= 16 ? 'matmul_big' : 'matmul';
}

/** a dispatch's problem for profiles */
const matmulWork = (d: MatmulDims, variant: MatmulVariant): Work => ({
  what: `${variant} [${d.M}×${d.K}]·[${d.K}×${d.N}]${d.transA ? ' Aᵀ' : ''}${d.transB ? ' Bᵀ' : ''}${d.batch > 1 ? ` ×${d.batch}` : ''}`,
  flops: 2 * d.M * d.N * d.K * d.batch,
});

/**
 * C = act(op(A)·op(B) + bias) (bias over columns); with `accumulate`, C += that. `biasGrad` (batch 1, the `matmul`
 * tiling): also the column sums of op(B) into biasGrad.out, added to its values with biasGrad.add.
 */
export function matmul(
  gpu: Gpu,
  a: GBuf,
  b: GBuf,
  c: GBuf,
  d: MatmulDims,
  variant: MatmulVariant = chooseMatmul(d),
  bias: GBuf | null = null,
  act: Activation = 'none',
  alpha = 0,
  accumulate = false,
  biasGrad: { out: GBuf; add: boolean } | null = null,
): void {
  if (d.M === 0 || d.N === 0 || d.batch === 0) return;
  if (biasGrad && (d.batch !== 1 || variant !== 'matmul'))
    throw new Error('matmul: biasGrad needs batch 1 and the matmul tiling');
  const bg = biasGrad ? (biasGrad.add ? 2 : 1) : 0;
  if (variant === 'matmul_skinny') {
    if (d.N > SKINNY_MAX_N) throw new Error(`matmul_skinny: N = ${d.N} columns, at most ${SKINNY_MAX_N}`);
    if (d.M > 65535 || d.batch > 65535)
      throw new Error(`matmul_skinny: M = ${d.M}, batch ${d.batch}: at most 65535 workgroups a dimension`);
    gpu.dispatch(
      kernel(variant, d.transA, d.transB, bias !== null, act, accumulate, 0, d.N),
      [a, b, bias ?? gpu.spare(0), c, gpu.spare(1)],
      (p) => p.u(d.M, d.N, d.K, d.strideA, d.strideB).f(alpha),
      [d.M, d.batch, 1],
      () => matmulWork(d, variant),
    );
    return;
  }
  const T = TILE[variant];
  gpu.dispatch(
    kernel(variant, d.transA, d.transB, bias !== null, act, accumulate, bg),
    [a, b, bias ?? gpu.spare(0), c, biasGrad?.out ?? gpu.spare(1)],
    (p) => p.u(d.M, d.N, d.K, d.strideA, d.strideB).f(alpha),
    [Math.ceil(d.N / T), Math.ceil(d.M / T), d.batch],
    () => matmulWork(d, variant),
  );
}
