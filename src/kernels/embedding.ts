// embedding.ts — dispatch of wgsl/embedding.wgsl (row gather and its deterministic per-row backward).
import src from '../../wgsl/embedding.wgsl';
import { Gpu, GBuf, Kernel, grid } from './gpu.js';

const FWD: Kernel = { file: 'wgsl/embedding.wgsl', code: src, entry: 'embedding', bindings: ['read', 'read', 'rw'] };
const BWD: Kernel = { file: 'wgsl/embedding.wgsl', code: src, entry: 'embedding_grad', bindings: ['read', 'read', 'rw'] };

export function embedding(gpu: Gpu, weight: GBuf, indices: GBuf, out: GBuf, n: number, V: number, D: number): void {
  const [gx, gy] = grid(Math.ceil((n * D) / 256));
  gpu.dispatch(FWD, [weight, indices, out], (p) => p.u(n, V, D, gx), [gx, gy]);
}
export function embeddingGrad(gpu: Gpu, indices: GBuf, g: GBuf, gWeight: GBuf, n: number, V: number, D: number): void {
  const [gx, gy] = grid(Math.ceil((V * D) / 256));
  gpu.dispatch(BWD, [indices, g, gWeight], (p) => p.u(n, V, D, gx), [gx, gy]);
}
