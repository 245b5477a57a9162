// embedding.ts — dispatch of wgsl/embedding.wgsl (row gather and its deterministic per-row backward).
import src from '../../wgsl/embedding.wgsl';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';

const FWD: Kernel = { file: 'wgsl/embedding.wgsl', code: src, entry: 'embedding', bindings: ['read', 'read', 'rw'] };
const BWD: Kernel = {
  file: 'wgsl/embedding.wgsl',
  code: src,
  entry: 'embedding_grad',
  bindings: ['read', 'read', 'rw'],
  constants: { ACCUM: 0 },
};
const BWD_ACCUM: Kernel = { ...BWD, constants: { ACCUM: 1 } };

export function embedding(gpu: Gpu, weight: GBuf, indices: GBuf, out: GBuf, n: number, V: number, D: number): void {
  const [gx, gy] = grid(Math.ceil((n * D) / 256));
  gpu.dispatch(FWD, [weight, indices, out], (p) => p.u(n, V, D, gx), [gx, gy]);
}
/** gWeight = the rows of g summed by index; with `accumulate`, gWeight += that */
export function embeddingGrad(
  gpu: Gpu,
  indices: GBuf,
  g: GBuf,
  gWeight: GBuf,
  n: number,
  V: number,
  D: number,
  accumulate = false,
): void {
  const [gx, gy] = grid(Math.ceil((V * D) / 256));
  gpu.dispatch(accumulate ? BWD_ACCUM : BWD, [indices, g, gWeight], (p) => p.u(n, V, D, gx), [gx, gy]);
}
