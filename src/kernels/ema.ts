// ema.ts — dispatch of wgsl/ema.wgsl: avg ← avg + (1 − decay)·(x − avg) over n elements in place (the weight
// average of src/nn/ema.ts, one dispatch per network per step).
import src from '../../wgsl/ema.wgsl';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';

const K: Kernel = { file: 'wgsl/ema.wgsl', code: src, entry: 'ema_update', bindings: ['read', 'rw'] };

export function emaUpdate(gpu: Gpu, avg: GBuf, x: GBuf, n: number, decay: number): void {
  if (n <= 0) return;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(K, [x, avg], (p) => p.u(n, gx).f(1 - decay), [gx, gy]);
}
