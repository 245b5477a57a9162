// batchnorm.ts — dispatch of wgsl/batchnorm.wgsl: per-channel statistics (with or without the running update),
// normalisation (with a fused activation and dropout), backward; on hardware adapters, few long channels are
// sliced over several workgroups each (batchnormSlices). Groups (d.groups: statistics per group of samples) are the
// kernels' p.groups; mean and var then hold groups·C values.
import main from '../../wgsl/batchnorm.wgsl';
import activation from '../../wgsl/activation.wgsl';
import hash from '../../wgsl/hash.wgsl';
import {
  ACTIVATIONS,
  batchnormGroups,
  type BatchnormAccumulate,
  type BatchnormDims,
  type BatchnormEpilogue,
} from '../autograd/backend.js';
import { dropThreshold } from '../autograd/random.js';
import { type Gpu, type GBuf, type Kernel, type Params, grid } from './gpu.js';

const src = main + '\n' + activation + '\n' + hash;

const FILE = 'wgsl/batchnorm.wgsl';
/** per IN_RELU (x read through relu: d.inputRelu) */
const STATS = [0, 1].map(
  (r): Kernel => ({
    file: FILE,
    code: src,
    entry: 'batchnorm_stats',
    bindings: ['read', 'rw', 'rw'],
    constants: { IN_RELU: r },
  }),
);
const STATS_RUNNING = [0, 1].map(
  (r): Kernel => ({
    file: FILE,
    code: src,
    entry: 'batchnorm_stats_running',
    bindings: ['read', 'rw', 'rw', 'rw', 'rw'],
    constants: { IN_RELU: r },
  }),
);
const inRelu = (d: BatchnormDims) => (d.inputRelu ? 1 : 0);
/** batchnorm_grad per ACCUM (bit 1: add to gGamma, bit 2: add to gBeta) */
const GRAD = [0, 1].map((r) =>
  [0, 1, 2, 3].map(
    (accum): Kernel => ({
      file: FILE,
      code: src,
      entry: 'batchnorm_grad',
      bindings: ['read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
      constants: { ACCUM: accum, IN_RELU: r },
    }),
  ),
);

/** batchnorm_grad reading its gradient back through the epilogue (the GRAD_IN line swapped; binding 9: the
 * epilogue's output y), per IN_RELU, ACCUM, ACT, DROP; a module of its own, hence a file label of its own */
const GRAD_IN = 'fn gIn(i: u32) -> f32 { return gx_g[i]; } // GRAD_IN';
if (!main.includes(GRAD_IN)) throw new Error('wgsl/batchnorm.wgsl: the GRAD_IN line is missing');
// without the sliced kernels, whose binding 9 is their partial sums (they take the epilogue's gradient apart)
const SLICED = '// ---------------------------------------------------------------- sliced';
if (!main.includes(SLICED)) throw new Error("wgsl/batchnorm.wgsl: the sliced section's header is missing");
const srcThrough = (main.slice(0, main.indexOf(SLICED)) + '\n' + activation + '\n' + hash).replace(
  GRAD_IN,
  '@group(0) @binding(9) var<storage, read> gx_y: array<f32>;\nfn gIn(i: u32) -> f32 { return epiGrad(gx_g[i], gx_y[i], i); }',
);
const gradThrough = new Map<string, Kernel>();
function gradThroughKernel(inputRelu: number, accum: number, epi: BatchnormEpilogue): Kernel {
  const constants = { ACCUM: accum, IN_RELU: inputRelu, ACT: ACTIVATIONS.indexOf(epi.act), DROP: epi.p ? 1 : 0 };
  const key = `${accum}:${inputRelu}:${constants.ACT}:${constants.DROP}`;
  let k = gradThrough.get(key);
  if (!k)
    gradThrough.set(
      key,
      (k = {
        file: 'wgsl/batchnorm.wgsl (grad through the epilogue)',
        code: srcThrough,
        entry: 'batchnorm_grad',
        bindings: ['read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw', 'read'],
        constants,
      }),
    );
  return k;
}

/** batchnorm_apply's, activation_dropout's and batchnorm_epilogue_grad's pipelines per epilogue (ACT, DROP) */
const epilogueKernels = new Map<string, Kernel>();
function epilogueKernel(
  entry: 'batchnorm_apply' | 'batchnorm_epilogue_grad' | 'activation_dropout',
  epi: BatchnormEpilogue | null,
  inputRelu = 0,
): Kernel {
  const constants = { ACT: ACTIVATIONS.indexOf(epi?.act ?? 'none'), DROP: epi?.p ? 1 : 0, IN_RELU: inputRelu };
  const key = `${entry}:${constants.ACT}:${constants.DROP}:${inputRelu}`;
  let k = epilogueKernels.get(key);
  if (!k) {
    const bindings: Kernel['bindings'] =
      entry === 'batchnorm_apply'
        ? ['read', 'read', 'read', 'read', 'read', 'rw']
        : entry === 'activation_dropout'
          ? ['read', 'rw']
          : ['read', 'read', 'rw'];
    epilogueKernels.set(key, (k = { file: FILE, code: src, entry, bindings, constants }));
  }
  return k;
}

/** the uniform block P in field order */
function params(
  p: Params,
  d: BatchnormDims,
  nx: number,
  o: {
    training?: boolean;
    eps?: number;
    momentum?: number;
    unbias?: number;
    epi?: BatchnormEpilogue | null;
    sl?: Slicing;
  } = {},
): void {
  const e = o.epi;
  p.u(d.N, d.C, d.L, nx, d.N * d.C * d.L, o.training ? 1 : 0).f(
    o.eps ?? 0,
    o.momentum ?? 0,
    o.unbias ?? 0,
    e?.alpha ?? 0,
  );
  p.u(e?.key ?? 0, e?.p ? dropThreshold(e.p) : 0)
    .f(e?.p ? 1 / (1 - e.p) : 1)
    .u(o.sl?.slices ?? 1, o.sl?.chunk ?? 0, batchnormGroups(d));
}

/** elements per channel that one set of statistics covers: a group's (N/G)·L */
const groupM = (d: BatchnormDims) => (d.N / batchnormGroups(d)) * d.L;

// ---------------------------------------------------------------- sliced statistics and gradient
/** workgroups wanted in flight on a GPU (two per compute unit of a 132-unit device, as the sliced reductions) */
const SLICE_TARGET = 264;
/** a slice holds at least this many elements (16 per thread), a channel is sliced from 4 slices' worth */
const SLICE_MIN = 4096;
interface Slicing {
  slices: number;
  chunk: number;
  /** workgroups (and partial results): one per slice of each group's channel */
  parts: number;
}
/**
 * Slices per channel: on hardware adapters, when the channels alone make fewer than SLICE_TARGET workgroups and
 * each has ≥ 4·SLICE_MIN elements, enough slices to reach the target (≤ 64); 1 (a workgroup per channel) otherwise,
 * and always on software adapters (lavapipe has a few cores: more workgroups only add passes). Tests force it.
 */
export function batchnormSlices(gpu: Gpu, d: BatchnormDims): number {
  const M = groupM(d),
    C = d.C * batchnormGroups(d); // per group: each group's channel is sliced alike
  if (gpu.adapter.software || C >= SLICE_TARGET || M < 4 * SLICE_MIN) return 1;
  return Math.min(64, Math.ceil(SLICE_TARGET / C), Math.floor(M / SLICE_MIN));
}
/** `slices` as asked, made non-empty: chunk = ⌈M/slices⌉, slices = ⌈M/chunk⌉ (M: a group's elements per channel) */
function slicing(d: BatchnormDims, slices: number): Slicing {
  const M = groupM(d);
  const chunk = Math.ceil(M / Math.max(1, Math.min(slices, M)));
  const n = Math.ceil(M / chunk);
  return { slices: n, chunk, parts: d.C * batchnormGroups(d) * n };
}
const STATS_PART: Kernel[] = [0, 1].map((r) => ({
  file: FILE,
  code: src,
  entry: 'batchnorm_stats_part',
  bindings: ['read', 'rw'],
  constants: { IN_RELU: r },
}));
const STATS_MERGE: Kernel[] = [0, 1].map((running) => ({
  file: FILE,
  code: src,
  entry: 'batchnorm_stats_merge',
  bindings: ['read', 'rw', 'rw', 'rw', 'rw'],
  constants: { RUNNING: running },
}));
const GRAD_PART: Kernel[] = [0, 1].map((r) => ({
  file: FILE,
  code: src,
  entry: 'batchnorm_grad_part',
  bindings: ['read', 'read', 'read', 'read', 'rw'],
  constants: { IN_RELU: r },
}));
const GRAD_APPLY = [0, 1].map((r) =>
  [0, 1, 2, 3].map(
    (accum): Kernel => ({
      file: FILE,
      code: src,
      entry: 'batchnorm_grad_apply',
      bindings: ['read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw', 'read'],
      constants: { ACCUM: accum, IN_RELU: r },
    }),
  ),
);

/** mean, var (and the running statistics' update when `running`) in two dispatches: slices, then their merge */
function statsSliced(
  gpu: Gpu,
  x: GBuf,
  mean: GBuf,
  variance: GBuf,
  running: { mean: GBuf; var: GBuf; momentum: number } | null,
  d: BatchnormDims,
  sl: Slicing,
): void {
  const part = gpu.acquire(sl.parts * 2 * 4);
  const [px, py] = grid(sl.parts);
  gpu.dispatch(STATS_PART[inRelu(d)], [x, part], (p) => params(p, d, px, { sl }), [px, py]);
  const [mx, my] = grid(Math.ceil(d.C / 256));
  const M = groupM(d);
  gpu.dispatch(
    STATS_MERGE[running ? 1 : 0],
    [part, mean, variance, running?.mean ?? gpu.spare(0), running?.var ?? gpu.spare(1)],
    (p) => params(p, d, mx, { sl, momentum: running?.momentum ?? 0, unbias: M / (M - 1) }),
    [mx, my],
  );
  gpu.release(part);
}

export function batchnormStats(
  gpu: Gpu,
  x: GBuf,
  mean: GBuf,
  variance: GBuf,
  d: BatchnormDims,
  slices = batchnormSlices(gpu, d),
): void {
  if (slices > 1) {
    statsSliced(gpu, x, mean, variance, null, d, slicing(d, slices));
    return;
  }
  const [gx, gy] = grid(d.C);
  gpu.dispatch(STATS[inRelu(d)], [x, mean, variance], (p) => params(p, d, gx), [gx, gy]);
}

export function batchnormApply(
  gpu: Gpu,
  x: GBuf,
  mean: GBuf,
  variance: GBuf,
  gamma: GBuf,
  beta: GBuf,
  out: GBuf,
  d: BatchnormDims,
  eps: number,
  epi: BatchnormEpilogue | null = null,
): void {
  const [gx, gy] = grid(Math.ceil((d.N * d.C * d.L) / 256));
  gpu.dispatch(
    epilogueKernel('batchnorm_apply', epi, inRelu(d)),
    [x, mean, variance, gamma, beta, out],
    (p) => params(p, d, gx, { eps, epi }),
    [gx, gy],
  );
}

/** the epilogue alone: out = dropout(act(x)) over n elements */
export function activationDropout(gpu: Gpu, x: GBuf, out: GBuf, n: number, epi: BatchnormEpilogue): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(
    epilogueKernel('activation_dropout', epi),
    [x, out],
    (p) => params(p, { N: n, C: 1, L: 1 }, gx, { epi }),
    [gx, gy],
  );
}

export function batchnormEpilogueGrad(
  gpu: Gpu,
  g: GBuf,
  y: GBuf,
  gn: GBuf,
  d: BatchnormDims,
  epi: BatchnormEpilogue,
): void {
  const [gx, gy] = grid(Math.ceil((d.N * d.C * d.L) / 256));
  gpu.dispatch(epilogueKernel('batchnorm_epilogue_grad', epi), [g, y, gn], (p) => params(p, d, gx, { epi }), [gx, gy]);
}

export function batchnormStatsRunning(
  gpu: Gpu,
  x: GBuf,
  mean: GBuf,
  variance: GBuf,
  runMean: GBuf,
  runVar: GBuf,
  d: BatchnormDims,
  momentum: number,
  slices = batchnormSlices(gpu, d),
): void {
  if (slices > 1) {
    statsSliced(gpu, x, mean, variance, { mean: runMean, var: runVar, momentum }, d, slicing(d, slices));
    return;
  }
  const [gx, gy] = grid(d.C);
  const M = groupM(d);
  gpu.dispatch(
    STATS_RUNNING[inRelu(d)],
    [x, mean, variance, runMean, runVar],
    (p) => params(p, d, gx, { momentum, unbias: M / (M - 1) }),
    [gx, gy],
  );
}

/**
 * gxOut, gGamma, gBeta from the gradient g. With `through`, g is the gradient of batchnorm_apply's epilogue output
 * y (through.y): one kernel takes it back through the epilogue as it reads it, where the device allows 9 storage
 * buffers per stage (`fuse`, by default; WebGPU's default limit is 8), else batchnorm_epilogue_grad writes the
 * intermediate gradient first. Both give the same bits.
 */
export function batchnormGrad(
  gpu: Gpu,
  x: GBuf,
  g: GBuf,
  mean: GBuf,
  variance: GBuf,
  gamma: GBuf,
  gxOut: GBuf,
  gGamma: GBuf,
  gBeta: GBuf,
  d: BatchnormDims,
  eps: number,
  training: boolean,
  acc: BatchnormAccumulate = {},
  through: { y: GBuf; epi: BatchnormEpilogue } | null = null,
  fuse = gpu.limits.maxStorageBuffersPerShaderStage >= 9,
  slices = gpu.limits.maxStorageBuffersPerShaderStage >= 9 ? batchnormSlices(gpu, d) : 1,
): void {
  const [gx, gy] = grid(d.C);
  const accum = (acc.gamma ? 1 : 0) + (acc.beta ? 2 : 0);
  if (slices > 1) {
    // the sliced path: the epilogue's gradient first (if any), then the slices' sums and the gradient they give
    const sl = slicing(d, slices);
    const gn = through ? gpu.acquire(d.N * d.C * d.L * 4) : g;
    if (through) batchnormEpilogueGrad(gpu, g, through.y, gn, d, through.epi);
    const part = gpu.acquire(sl.parts * 2 * 4);
    const [px, py] = grid(sl.parts);
    gpu.dispatch(GRAD_PART[inRelu(d)], [x, gn, mean, variance, part], (p) => params(p, d, px, { eps, training, sl }), [
      px,
      py,
    ]);
    gpu.dispatch(
      GRAD_APPLY[inRelu(d)][accum],
      [x, gn, mean, variance, gamma, gxOut, gGamma, gBeta, part],
      (p) => params(p, d, px, { eps, training, sl }),
      [px, py],
    );
    gpu.release(part);
    if (gn !== g) gpu.release(gn);
    return;
  }
  if (through && fuse) {
    gpu.dispatch(
      gradThroughKernel(inRelu(d), accum, through.epi),
      [x, g, mean, variance, gamma, gxOut, gGamma, gBeta, through.y],
      (p) => params(p, d, gx, { eps, training, epi: through.epi }),
      [gx, gy],
    );
    return;
  }
  let gn = g;
  if (through) {
    gn = gpu.acquire(d.N * d.C * d.L * 4);
    batchnormEpilogueGrad(gpu, g, through.y, gn, d, through.epi);
  }
  gpu.dispatch(
    GRAD[inRelu(d)][accum],
    [x, gn, mean, variance, gamma, gxOut, gGamma, gBeta],
    (p) => params(p, d, gx, { eps, training }),
    [gx, gy],
  );
  if (gn !== g) gpu.release(gn);
}
