// maxpool2d.ts — dispatch of wgsl/maxpool2d.wgsl (max pooling forward and its gather backward).
// With a dropout mask, the dropout after the pooling runs in the same kernels (DROP = 1).
import main from '../../wgsl/maxpool2d.wgsl';
import hash from '../../wgsl/hash.wgsl';
import type { Pool2dDims } from '../autograd/backend.js';
import { dropThreshold } from '../autograd/random.js';
import { type Gpu, type GBuf, type Kernel, type Params, grid } from './gpu.js';

const src = main + '\n' + hash;
const FILE = 'wgsl/maxpool2d.wgsl';
const FWD = [0, 1].map(
  (drop): Kernel => ({
    file: FILE,
    code: src,
    entry: 'maxpool2d',
    bindings: ['read', 'rw'],
    constants: { DROP: drop },
  }),
);
const BWD = [0, 1].map(
  (drop): Kernel => ({
    file: FILE,
    code: src,
    entry: 'maxpool2d_grad',
    bindings: ['read', 'read', 'rw'],
    constants: { DROP: drop },
  }),
);

type Drop = { p: number; key: number } | null;
function params(p: Params, n: number, nx: number, d: Pool2dDims, drop: Drop): void {
  p.u(n, nx, d.H, d.W, d.k, d.stride, d.OH, d.OW, drop?.key ?? 0, drop ? dropThreshold(drop.p) : 0).f(
    drop ? 1 / (1 - drop.p) : 1,
  );
}

export function maxpool2d(gpu: Gpu, x: GBuf, out: GBuf, d: Pool2dDims, drop: Drop = null): void {
  const n = d.N * d.C * d.OH * d.OW;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(FWD[drop ? 1 : 0], [x, out], (p) => params(p, n, gx, d, drop), [gx, gy]);
}
export function maxpool2dGrad(gpu: Gpu, x: GBuf, g: GBuf, gxBuf: GBuf, d: Pool2dDims, drop: Drop = null): void {
  const n = d.N * d.C * d.H * d.W;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(BWD[drop ? 1 : 0], [x, g, gxBuf], (p) => params(p, n, gx, d, drop), [gx, gy]);
}
