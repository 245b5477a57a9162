// softmax_xent.ts — dispatch of wgsl/softmax_xent.wgsl (row-wise loss and its gradient).
import src from '../../wgsl/softmax_xent.wgsl';
import { Gpu, GBuf, Kernel, grid } from './gpu.js';

const FWD: Kernel = { file: 'wgsl/softmax_xent.wgsl', code: src, entry: 'softmax_xent', bindings: ['read', 'read', 'rw'] };
const MATCH: Kernel = { file: 'wgsl/softmax_xent.wgsl', code: src, entry: 'argmax_match', bindings: ['read', 'read', 'rw'] };
const BWD: Kernel = { file: 'wgsl/softmax_xent.wgsl', code: src, entry: 'softmax_xent_grad', bindings: ['read', 'read', 'read', 'rw'] };

export function softmaxXent(gpu: Gpu, logits: GBuf, labels: GBuf, out: GBuf, N: number, C: number): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(FWD, [logits, labels, out], (p) => p.u(N, C, gx), [gx, gy]);
}
export function softmaxXentGrad(gpu: Gpu, logits: GBuf, labels: GBuf, gRow: GBuf, gLogits: GBuf, N: number, C: number): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(BWD, [logits, labels, gRow, gLogits], (p) => p.u(N, C, gx), [gx, gy]);
}
export function argmaxMatch(gpu: Gpu, logits: GBuf, labels: GBuf, hit: GBuf, N: number, C: number): void {
  const [gx, gy] = grid(Math.ceil(N / 256));
  gpu.dispatch(MATCH, [logits, labels, hit], (p) => p.u(N, C, gx), [gx, gy]);
}
