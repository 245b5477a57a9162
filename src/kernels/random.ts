// random.ts — dispatch of wgsl/random.wgsl (counter-based uniform/normal numbers, dropout masks).
import main from '../../wgsl/random.wgsl';
import hash from '../../wgsl/hash.wgsl';
import { dropThreshold } from '../autograd/random.js';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';

const src = main + '\n' + hash;

const UNIFORM: Kernel = {
  file: 'wgsl/random.wgsl',
  code: src,
  entry: 'random',
  bindings: ['rw'],
  constants: { DIST: 0 },
};
const NORMAL: Kernel = { ...UNIFORM, constants: { DIST: 1 } };
const RANDOM_INT: Kernel = { file: 'wgsl/random.wgsl', code: src, entry: 'random_int', bindings: ['rw'] };
const DROPOUT: Kernel = { file: 'wgsl/random.wgsl', code: src, entry: 'dropout', bindings: ['read', 'rw'] };

export function random(gpu: Gpu, out: GBuf, n: number, dist: 'uniform' | 'normal', key: number, offset: number): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(dist === 'uniform' ? UNIFORM : NORMAL, [out], (p) => p.u(n, gx, key, offset, 0).f(0), [gx, gy]);
}
export function dropout(gpu: Gpu, x: GBuf, out: GBuf, n: number, prob: number, key: number, offset: number): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(DROPOUT, [x, out], (p) => p.u(n, gx, key, offset, dropThreshold(prob)).f(1 / (1 - prob)), [gx, gy]);
}
export function randomInt(gpu: Gpu, out: GBuf, n: number, high: number, key: number, offset: number): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(RANDOM_INT, [out], (p) => p.u(n, gx, key, offset, high).f(0), [gx, gy]);
}
