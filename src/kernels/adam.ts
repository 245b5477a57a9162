// adam.ts — dispatch of wgsl/adam.wgsl (fused in-place Adam/AdamW step).
import src from '../../wgsl/adam.wgsl';
import type { AdamHyper } from '../autograd/backend.js';
import { Gpu, GBuf, Kernel, grid } from './gpu.js';

const K: Kernel = { file: 'wgsl/adam.wgsl', code: src, entry: 'adam', bindings: ['read', 'rw', 'rw', 'rw'] };

export function adam(gpu: Gpu, param: GBuf, grad: GBuf, m: GBuf, v: GBuf, n: number, h: AdamHyper): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  gpu.dispatch(K, [grad, param, m, v],
    (p) => p.u(n, gx, h.decoupled ? 1 : 0, 0).f(h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, h.eps, h.weightDecay, h.lr * h.weightDecay, h.lr / bc1, 1 / Math.sqrt(bc2)),
    [gx, gy]);
}
