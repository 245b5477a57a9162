// maxpool2d.ts — dispatch of wgsl/maxpool2d.wgsl (max pooling forward and its gather backward).
import src from '../../wgsl/maxpool2d.wgsl';
import type { Pool2dDims } from '../autograd/backend.js';
import { Gpu, GBuf, Kernel, grid } from './gpu.js';

const FWD: Kernel = { file: 'wgsl/maxpool2d.wgsl', code: src, entry: 'maxpool2d', bindings: ['read', 'rw'] };
const BWD: Kernel = { file: 'wgsl/maxpool2d.wgsl', code: src, entry: 'maxpool2d_grad', bindings: ['read', 'read', 'rw'] };

export function maxpool2d(gpu: Gpu, x: GBuf, out: GBuf, d: Pool2dDims): void {
  const n = d.N * d.C * d.OH * d.OW;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(FWD, [x, out], (p) => p.u(n, gx, d.H, d.W, d.k, d.stride, d.OH, d.OW), [gx, gy]);
}
export function maxpool2dGrad(gpu: Gpu, x: GBuf, g: GBuf, gxBuf: GBuf, d: Pool2dDims): void {
  const n = d.N * d.C * d.H * d.W;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(BWD, [x, g, gxBuf], (p) => p.u(n, gx, d.H, d.W, d.k, d.stride, d.OH, d.OW), [gx, gy]);
}
