// batchnorm.ts — dispatch of wgsl/batchnorm.wgsl: per-channel statistics (with or without the running update),
// normalisation, backward.
import src from '../../wgsl/batchnorm.wgsl';
import type { BatchnormDims } from '../autograd/backend.js';
import { Gpu, GBuf, Kernel, Params, grid } from './gpu.js';

const FILE = 'wgsl/batchnorm.wgsl';
const STATS: Kernel = { file: FILE, code: src, entry: 'batchnorm_stats', bindings: ['read', 'rw', 'rw'] };
const APPLY: Kernel = { file: FILE, code: src, entry: 'batchnorm_apply', bindings: ['read', 'read', 'read', 'read', 'read', 'rw'] };
const STATS_RUNNING: Kernel = { file: FILE, code: src, entry: 'batchnorm_stats_running', bindings: ['read', 'rw', 'rw', 'rw', 'rw'] };
const GRAD: Kernel = { file: FILE, code: src, entry: 'batchnorm_grad', bindings: ['read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] };

/** the uniform block P in field order */
function params(p: Params, d: BatchnormDims, nx: number, o: { training?: boolean; eps?: number; momentum?: number; unbias?: number } = {}): void {
  p.u(d.N, d.C, d.L, nx, d.N * d.C * d.L, o.training ? 1 : 0).f(o.eps ?? 0, o.momentum ?? 0, o.unbias ?? 0);
}

export function batchnormStats(gpu: Gpu, x: GBuf, mean: GBuf, variance: GBuf, d: BatchnormDims): void {
  const [gx, gy] = grid(d.C);
  gpu.dispatch(STATS, [x, mean, variance], (p) => params(p, d, gx), [gx, gy]);
}

export function batchnormApply(gpu: Gpu, x: GBuf, mean: GBuf, variance: GBuf, gamma: GBuf, beta: GBuf, out: GBuf, d: BatchnormDims, eps: number): void {
  const [gx, gy] = grid(Math.ceil((d.N * d.C * d.L) / 256));
  gpu.dispatch(APPLY, [x, mean, variance, gamma, beta, out], (p) => params(p, d, gx, { eps }), [gx, gy]);
}

export function batchnormStatsRunning(gpu: Gpu, x: GBuf, mean: GBuf, variance: GBuf, runMean: GBuf, runVar: GBuf, d: BatchnormDims, momentum: number): void {
  const [gx, gy] = grid(d.C);
  const M = d.N * d.L;
  gpu.dispatch(STATS_RUNNING, [x, mean, variance, runMean, runVar], (p) => params(p, d, gx, { momentum, unbias: M / (M - 1) }), [gx, gy]);
}

export function batchnormGrad(gpu: Gpu, x: GBuf, g: GBuf, mean: GBuf, variance: GBuf, gamma: GBuf, gxOut: GBuf, gGamma: GBuf, gBeta: GBuf, d: BatchnormDims, eps: number, training: boolean): void {
  const [gx, gy] = grid(d.C);
  gpu.dispatch(GRAD, [x, g, mean, variance, gamma, gxOut, gGamma, gBeta], (p) => params(p, d, gx, { eps, training }), [gx, gy]);
}
