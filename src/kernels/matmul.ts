// matmul.ts — dispatch of wgsl/matmul.wgsl (64×64 tiles, 4×4 register blocks, transposes read in place).
import src from '../../wgsl/matmul.wgsl';
import type { MatmulDims } from '../autograd/backend.js';
import { Gpu, GBuf, Kernel } from './gpu.js';

const kernels = new Map<number, Kernel>();
function kernel(tA: boolean, tB: boolean): Kernel {
  const key = (tA ? 1 : 0) + (tB ? 2 : 0);
  let k = kernels.get(key);
  if (!k) kernels.set(key, (k = { file: 'wgsl/matmul.wgsl', code: src, entry: 'matmul', bindings: ['read', 'read', 'rw'], constants: { TRANS_A: tA ? 1 : 0, TRANS_B: tB ? 1 : 0 } }));
  return k;
}

export const MATMUL_TILE = 64;

export function matmul(gpu: Gpu, a: GBuf, b: GBuf, c: GBuf, d: MatmulDims): void {
  if (d.M === 0 || d.N === 0 || d.batch === 0) return;
  gpu.dispatch(kernel(d.transA, d.transB), [a, b, c], (p) => p.u(d.M, d.N, d.K, d.strideA, d.strideB),
    [Math.ceil(d.N / MATMUL_TILE), Math.ceil(d.M / MATMUL_TILE), d.batch]);
}
