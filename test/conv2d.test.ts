// conv2d.test.ts — convolution and transposed convolution: CPU backward vs finite differences, GPU forward and
// both gradients vs the CPU reference, on odd shapes (batch 1 and 3, 5×5 and 13×13, 3 and 17 channels), strides,
// 'same' padding and the fused bias + activation epilogues; the weight gradient accumulating into its output, split
// and with each GEMM tile forced; the forward and input gradient split-K.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import type { Activation } from '../src/autograd/backend.js';
import {
  checkAccumulate,
  checkOp,
  assertClose,
  cpu,
  gpuBackend,
  randomData,
  seedClearingKinks,
  toF32,
} from './harness.js';
import type { GpuBackend } from '../src/kernels/backend.js';
import type { GBuf } from '../src/kernels/gpu.js';
import { Tensor } from '../src/autograd/tensor.js';
import * as assert from 'uvu/assert';
import {
  conv2d as conv2dKernel,
  conv2dGradInput,
  conv2dGradWeight,
  gemmSplits,
  gradWeightSplits,
  gradWeightTile,
  pickTile,
  type ConvVariant,
  type Tile,
} from '../src/kernels/conv2d.js';

/** a copy of the device's limits as a plain object (GPUSupportedLimits' fields are getters, which spreading skips) */
function limitsOf(gpu: GpuBackend['gpu']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'])
    out[k] = (gpu.limits as unknown as Record<string, number>)[k];
  return out;
}

type Case = [string, number[], number[], F.Conv2dOptions];
const convCases: Case[] = [
  ['1×1 kernel', [1, 3, 5, 5], [17, 3, 1, 1], {}],
  ['3×3 same', [3, 3, 5, 5], [17, 3, 3, 3], { padding: 'same' }],
  ['3×3 same, 17→3, 13×13', [1, 17, 13, 13], [3, 17, 3, 3], { padding: 'same' }],
  ['3×3 valid stride 2', [3, 3, 13, 13], [5, 3, 3, 3], { stride: 2 }],
  ['3×3 same stride 2 (asymmetric pad)', [1, 3, 13, 13], [4, 3, 3, 3], { stride: 2, padding: 'same' }],
  ['5×5 pad 2 stride [2,1]', [1, 3, 5, 13], [3, 3, 5, 5], { stride: [2, 1], padding: 2 }],
  ['3×3 pad 1, 65 outputs channels', [1, 2, 5, 5], [65, 2, 3, 3], { padding: 1 }],
];
for (const [name, xs, ws, opts] of convCases)
  test(`conv2d ${name} x${JSON.stringify(xs)} w${JSON.stringify(ws)}`, () =>
    checkOp({
      name: 'conv2d',
      inputs: [{ shape: xs }, { shape: ws }],
      fn: ([x, w]) => F.conv2d(x, w, null, opts),
      fdSamples: 16,
    }));

const acts: Activation[] = ['none', 'relu', 'leaky_relu', 'tanh', 'sigmoid'];
for (const act of acts)
  test(`conv2d + bias + ${act} (fused epilogue)`, () => {
    const kinked = act === 'relu' || act === 'leaky_relu';
    // kinked activations on fewer outputs, so that a seed clearing every kink exists (harness: seedClearingKinks)
    const [xs, ws] = kinked
      ? [
          [2, 3, 5, 5],
          [4, 3, 3, 3],
        ]
      : [
          [3, 3, 5, 5],
          [17, 3, 3, 3],
        ];
    const opts: F.Conv2dOptions = { padding: 'same' };
    return checkOp({
      name: `conv2d+${act}`,
      inputs: [{ shape: xs }, { shape: ws }, { shape: [ws[0]] }],
      fn: ([x, w, b]) => F.conv2d(x, w, b, { ...opts, activation: act, alpha: 0.2 }),
      fdSamples: 16,
      seed: kinked ? seedClearingKinks([xs, ws, [ws[0]]], ([x, w, b]) => F.conv2d(x, w, b, opts)) : 7,
    });
  });

type TCase = [string, number[], number[], F.ConvTranspose2dOptions];
const tCases: TCase[] = [
  [
    'k5 s2 p2 op1 (AC-GAN generator style) 3×3→6×6',
    [1, 3, 3, 3],
    [3, 17, 5, 5],
    { stride: 2, padding: 2, outputPadding: 1 },
  ],
  ['k5 s2 same 5×5→10×10', [3, 3, 5, 5], [3, 2, 5, 5], { stride: 2, padding: 'same' }],
  ['k3 s1 p1', [1, 17, 5, 5], [17, 3, 3, 3], { padding: 1 }],
  ['k4 s2 p1', [3, 2, 5, 5], [2, 3, 4, 4], { stride: 2, padding: 1 }],
];
for (const [name, xs, ws, opts] of tCases)
  test(`convTranspose2d ${name}`, () =>
    checkOp({
      name: 'convTranspose2d',
      inputs: [{ shape: xs }, { shape: ws }],
      fn: ([x, w]) => F.convTranspose2d(x, w, null, opts),
      fdSamples: 16,
    }));

test('convTranspose2d + bias + tanh (generator output layer)', () =>
  checkOp({
    name: 'convTranspose2d+tanh',
    inputs: [{ shape: [3, 5, 3, 3] }, { shape: [5, 1, 5, 5] }, { shape: [1] }],
    fn: ([x, w, b]) => F.convTranspose2d(x, w, b, { stride: 2, padding: 'same', activation: 'tanh' }),
    fdSamples: 16,
  }));

// the weight gradient's split-K path (the op picks the split count by shape; force several here)
for (const splits of [1, 2, 3, 7])
  test(`conv2d weight gradient split into ${splits}`, async () => {
    const g = await gpuBackend();
    const xs = [3, 3, 13, 13],
      ws = [17, 3, 3, 3];
    const d = F.convDims(xs, ws, { padding: 'same' });
    const x = toF32(randomData(3 * 3 * 13 * 13, 21));
    const gy = toF32(randomData(3 * 17 * 13 * 13, 22));
    const want = cpu.alloc(17 * 27, 'f32');
    cpu.conv2dGradWeight(cpu.upload(x, 'f32'), cpu.upload(gy, 'f32'), want, d);
    const X = Tensor.from(g, x, xs),
      GY = Tensor.from(g, gy, [3, 17, 13, 13]),
      GW = Tensor.empty(g, ws);
    conv2dGradWeight(g.gpu, X.store as never, GY.store as never, GW.store as never, d, splits);
    assertClose(await GW.toArray(), want as Float64Array, 1e-4, `split ${splits}`);
    for (const t of [X, GY, GW]) t.dispose();
  });

// accumulating into gw (a weight's second gradient added in place): in the GEMM's store (one slice) or in the
// split-K reduction (several)
for (const splits of [1, 2, 7])
  test(`conv2d weight gradient split into ${splits}, accumulating into gw`, () => {
    const xs = [3, 3, 13, 13],
      ws = [17, 3, 3, 3];
    const d = F.convDims(xs, ws, { stride: 2, padding: 'same' });
    const x = toF32(randomData(3 * 3 * 13 * 13, 23)),
      gy = toF32(randomData(d.N * d.K * d.P * d.Q, 24));
    return checkAccumulate(`split ${splits}`, 17 * 27, (be, out, acc) => {
      const [X, GY] = [be.upload(x, 'f32'), be.upload(gy, 'f32')];
      if (be.kind === 'cpu') be.conv2dGradWeight(X, GY, out, d, acc);
      else conv2dGradWeight((be as GpuBackend).gpu, X as GBuf, GY as GBuf, out as GBuf, d, splits, acc);
      be.free(X);
      be.free(GY);
    });
  });

// the weight gradient with each tile forced (32×128 is the default for K ≤ 32 and C·R·S > 64), in one slice,
// several, and accumulating into gw (the store's ACCUM = 1 with one slice, the reduction's with two); gm = K,
// gn = C·R·S (153, 425) and gk = N·P·Q (147) not multiples of any tile side
const gwCases: [string, number[], number[], F.Conv2dOptions][] = [
  ['k3 stride 2 same 17→5', [3, 17, 13, 13], [5, 17, 3, 3], { stride: 2, padding: 'same' }],
  ['k3 stride 2 same 17→32', [3, 17, 13, 13], [32, 17, 3, 3], { stride: 2, padding: 'same' }],
  ['k5 stride 2 same 17→32', [3, 17, 13, 13], [32, 17, 5, 5], { stride: 2, padding: 'same' }],
  ['k3 stride 2 same 17→33', [3, 17, 13, 13], [33, 17, 3, 3], { stride: 2, padding: 'same' }],
];
const gwVariants: Pick<ConvVariant, 'tile'>[] = [{}];
for (const tile of [
  [64, 64],
  [32, 128],
  [128, 32],
  [32, 32],
  [64, 32],
  [32, 64],
  [128, 128, 8],
  [64, 64, 8],
  [128, 64, 8],
  [64, 128, 8],
  [128, 32, 8],
  [32, 128, 8],
  [64, 32, 8],
  [32, 64, 8],
] as Tile[])
  gwVariants.push({ tile });
for (const [name, xs, ws, opts] of gwCases)
  for (const v of gwVariants)
    test(`conv2d weight gradient ${name} tile=${v.tile ?? 'default'}`, async () => {
      const g = await gpuBackend();
      const d = F.convDims(xs, ws, opts);
      const nx = d.N * d.C * d.H * d.W,
        ny = d.N * d.K * d.P * d.Q,
        nw = d.K * d.C * d.R * d.S;
      const x = toF32(randomData(nx, 41)),
        gy = toF32(randomData(ny, 42));
      const want = cpu.alloc(nw, 'f32');
      cpu.conv2dGradWeight(cpu.upload(x, 'f32'), cpu.upload(gy, 'f32'), want, d);
      const X = Tensor.from(g, x, [nx]),
        GY = Tensor.from(g, gy, [ny]);
      for (const splits of [undefined, 1, 3]) {
        const GW = Tensor.empty(g, [nw]);
        conv2dGradWeight(g.gpu, X.store as never, GY.store as never, GW.store as never, d, splits, false, v);
        assertClose(
          await GW.toArray(),
          want as Float64Array,
          1e-4,
          `splits ${splits ?? 'default'} ${JSON.stringify(v)}`,
        );
        GW.dispose();
      }
      for (const splits of [1, 2])
        await checkAccumulate(`accumulate, splits ${splits} ${JSON.stringify(v)}`, nw, (be, out, acc) => {
          const [Xs, GYs] = [be.upload(x, 'f32'), be.upload(gy, 'f32')];
          if (be.kind === 'cpu') be.conv2dGradWeight(Xs, GYs, out, d, acc);
          else conv2dGradWeight((be as GpuBackend).gpu, Xs as GBuf, GYs as GBuf, out as GBuf, d, splits, acc, v);
          be.free(Xs);
          be.free(GYs);
        });
      for (const t of [X, GY]) t.dispose();
    });

test('conv2d refuses a tile with fewer threads than reduction rows (32×32 with 8×8 blocks)', async () => {
  const g = await gpuBackend();
  const d = F.convDims([1, 3, 5, 5], [17, 3, 1, 1], {});
  const X = Tensor.empty(g, [75]),
    GY = Tensor.empty(g, [425]),
    GW = Tensor.empty(g, [51]);
  assert.throws(
    () =>
      conv2dGradWeight(g.gpu, X.store as never, GY.store as never, GW.store as never, d, 1, false, {
        tile: [32, 32, 8],
      }),
    /16 threads, fewer than its 32/,
  );
  // prefetching keeps at most 8 slots of A and of B per thread in registers (64×32 with 8×8 blocks: 16 of A)
  assert.throws(
    () =>
      conv2dGradWeight(g.gpu, X.store as never, GY.store as never, GW.store as never, d, 1, false, {
        tile: [64, 32, 8, 'prefetch'],
      }),
    /64×32\/8p: prefetching needs at most 8 slots .*\(16,8\)/,
  );
  for (const t of [X, GY, GW]) t.dispose();
});

test('conv2d tile choice by shape and adapter, and split counts from the chosen tile', async () => {
  const g = await gpuBackend();
  const dims = (xs: number[], ws: number[]) => F.convDims(xs, ws, { padding: 'same' });
  // pickTile reads only the adapter kind and the limits: the same device seen as hardware and as software
  const as = (software: boolean, storage = g.gpu.limits.maxComputeWorkgroupStorageSize) =>
    ({
      adapter: { ...g.gpu.adapter, software },
      limits: { ...limitsOf(g.gpu), maxComputeWorkgroupStorageSize: storage },
    }) as unknown as GpuBackend['gpu'];
  const hw = as(false, 32768),
    sw = as(true, 32768),
    sw16 = as(true, 16384),
    hw16 = as(false, 16384);
  // hardware: 4×4 tiles; K = 32, C·R·S = 288: the wide tile (3 column tiles instead of 5); C·R·S = 9 ≤ 64 or K > 32: 64
  // × 64
  const d = dims([4, 32, 28, 28], [32, 32, 3, 3]);
  assert.equal(gradWeightTile(hw, d), [32, 128]);
  assert.equal(gradWeightTile(hw16, d), [64, 64], 'the wide tile needs 20 KiB');
  assert.equal(gradWeightTile(hw, dims([4, 1, 28, 28], [32, 1, 3, 3])), [64, 64]);
  assert.equal(gradWeightTile(hw, dims([4, 32, 14, 14], [33, 32, 3, 3])), [64, 64]);
  assert.equal(pickTile(hw, 'forward', 3136, 32), [128, 32]);
  assert.equal(pickTile(hw, 'gradInput', 3136, 192), [64, 64]);
  // software: 8×8 per thread, sides of 32, 64 or 128 by size
  assert.equal(gradWeightTile(sw, d), [32, 64, 8]);
  assert.equal(gradWeightTile(sw, dims([4, 64, 14, 14], [64, 64, 3, 3])), [64, 64, 8]);
  assert.equal(gradWeightTile(sw, dims([4, 1, 28, 28], [32, 1, 3, 3])), [32, 32]);
  assert.equal(gradWeightTile(sw, dims([4, 1, 28, 28], [192, 1, 5, 5])), [64, 32, 8]);
  assert.equal(gradWeightTile(sw, dims([4, 64, 14, 14], [128, 64, 3, 3])), [128, 128, 8]);
  assert.equal(
    gradWeightTile(sw, dims([4, 32, 14, 14], [128, 32, 3, 3])),
    [128, 64, 8],
    'C·R·S = 288 < 512: 64 columns',
  );
  assert.equal(pickTile(sw, 'forward', 3136, 32), [128, 32, 8]);
  assert.equal(pickTile(sw, 'gradInput', 3136, 64), [128, 64, 8]);
  assert.equal(pickTile(sw, 'forward', 3136, 128), [128, 128, 8]);
  assert.equal(pickTile(sw, 'gradInput', 60, 192), [64, 128, 8]);
  assert.equal(pickTile(sw16, 'forward', 3136, 128), [64, 64, 8], '128×128 needs 32 KiB: the 16 KiB 8×8 tile');
  assert.equal(pickTile(sw16, 'forward', 3136, 32), [64, 32, 8], '128×32 needs 20 KiB');
  // the split count follows the chosen tile's count of output tiles
  for (const gpu of [hw, sw, g.gpu])
    assert.equal(gradWeightSplits(gpu, d), gradWeightSplits(gpu, d, gradWeightTile(gpu, d)));
  assert.equal(
    gradWeightTile(g.gpu, d),
    gradWeightTile(g.gpu.adapter.software ? sw : hw, d),
    'this device follows its kind',
  );
});

// every kernel variant directly against the reference: phased/unphased input gradient, skinny/tiled, the GEMM
// tile shapes (128×32 is the default for gn ≤ 32 columns), with a fused bias + activation (the transposed
// convolution's forward path)
const variantCases: [string, number[], number[], F.Conv2dOptions][] = [
  ['stride 2 same', [3, 3, 13, 13], [5, 3, 3, 3], { stride: 2, padding: 'same' }],
  ['stride [2,1] pad 2 k5', [1, 2, 5, 13], [3, 2, 5, 5], { stride: [2, 1], padding: 2 }],
  ['stride 3 k4', [3, 1, 13, 13], [4, 1, 4, 4], { stride: 3 }],
  // phases no tap reaches (phased: an empty reduction; its pixels get the bias and activation of 0): k2 stride 3,
  // k1 stride 2 (a strided 1×1 conv)
  ['stride 3 k2', [3, 3, 11, 11], [4, 3, 2, 2], { stride: 3 }],
  ['stride 2 k1', [2, 5, 9, 9], [6, 5, 1, 1], { stride: 2 }],
  ['stride 2 k5 same 17 channels', [1, 17, 13, 13], [3, 17, 5, 5], { stride: 2, padding: 'same' }],
  // gn ≤ 32 (the narrow tile by default) with gm, gk not multiples of the tile: forward gn = 32, input gradient 17
  ['stride 2 k5 same 17→32', [3, 17, 13, 13], [32, 17, 5, 5], { stride: 2, padding: 'same' }],
  ['k3 pad 1 17→32', [3, 17, 13, 13], [32, 17, 3, 3], { padding: 1 }],
  // forward gn = 33 (64×64 by default), input gradient gn = 32
  ['k3 same 32→33', [3, 32, 13, 13], [33, 32, 3, 3], { padding: 'same' }],
  // the generator's last layer in small: a transposed conv from 37 channels to 1 (the skinny input gradient sums
  // 37 channels in 8 slices, not a multiple)
  ['stride 2 k5 same 37→1', [3, 1, 13, 13], [37, 1, 5, 5], { stride: 2, padding: 'same' }],
];
const variants: ConvVariant[] = [
  { phased: false, skinny: false },
  { phased: true, skinny: false },
  { phased: false, skinny: true },
  { phased: true, skinny: true },
];
for (const tile of [
  [128, 32],
  [64, 64],
  [32, 32],
  [64, 32],
  [32, 128],
  [128, 128, 8],
  [64, 64, 8],
  [128, 64, 8],
  [64, 128, 8],
  [128, 32, 8],
  [32, 128, 8],
  [64, 32, 8],
  [32, 64, 8],
  [64, 64, 4, 'prefetch'],
  [128, 128, 8, 'prefetch'],
  [128, 64, 8, 'prefetch'],
  [64, 128, 8, 'prefetch'],
  [32, 32, 4, 'prefetch'],
] as Tile[])
  variants.push({ phased: true, skinny: false, tile }, { phased: false, skinny: false, tile });
for (const [name, xs, ws, opts] of variantCases)
  for (const v of variants) {
    if (v.skinny && xs[1] > 4 && ws[0] > 4) continue;
    test(`conv2d kernels ${name} phased=${v.phased} skinny=${v.skinny} tile=${v.tile ?? 'default'}`, async () => {
      const g = await gpuBackend();
      const d = F.convDims(xs, ws, opts);
      const nx = d.N * d.C * d.H * d.W,
        ny = d.N * d.K * d.P * d.Q,
        nw = d.K * d.C * d.R * d.S;
      const x = toF32(randomData(nx, 31)),
        w = toF32(randomData(nw, 32)),
        gy = toF32(randomData(ny, 33)),
        b = toF32(randomData(d.C, 34));
      const bK = toF32(randomData(d.K, 35));
      const X = Tensor.from(g, x, [nx]),
        Wt = Tensor.from(g, w, [nw]),
        GY = Tensor.from(g, gy, [ny]),
        B = Tensor.from(g, b, [d.C]),
        BK = Tensor.from(g, bK, [d.K]);
      if (!v.skinny || d.C <= 4) {
        const want = cpu.alloc(nx, 'f32');
        cpu.conv2dGradInput(
          cpu.upload(gy, 'f32'),
          cpu.upload(w, 'f32'),
          want,
          d,
          cpu.upload(b, 'f32'),
          'leaky_relu',
          0.2,
        );
        const GX = Tensor.empty(g, [nx]);
        conv2dGradInput(
          g.gpu,
          GY.store as never,
          Wt.store as never,
          GX.store as never,
          d,
          B.store as never,
          'leaky_relu',
          0.2,
          v,
        );
        assertClose(await GX.toArray(), want as Float64Array, 1e-4, `gradInput ${JSON.stringify(v)}`);
        GX.dispose();
      }
      if (!v.skinny || d.K <= 4) {
        const want = cpu.alloc(ny, 'f32');
        cpu.conv2d(cpu.upload(x, 'f32'), cpu.upload(w, 'f32'), cpu.upload(bK, 'f32'), want, d, 'tanh', 0);
        const Y = Tensor.empty(g, [ny]);
        conv2dKernel(g.gpu, X.store as never, Wt.store as never, BK.store as never, Y.store as never, d, 'tanh', 0, v);
        // tanh bounds the outputs' scale while a long reduction's (C·R·S > 128) float32 rounding is not (1.3e-4 at 153,
        // 1.6e-4 at 425)
        const tol = d.C * d.R * d.S > 128 ? 5e-4 : 1e-4;
        assertClose(await Y.toArray(), want as Float64Array, tol, `forward ${JSON.stringify(v)}`);
        Y.dispose();
      }
      for (const t of [X, Wt, GY, B, BK]) t.dispose();
    });
  }

// split-K of the forward and the unphased input gradient (gemmSplits picks 1 on a software adapter: forced here),
// against the reference on outputs poisoned before the run, under the default tile and others; two kernels each
// (the GEMM's slices, their sum), plus the poisoning of the slices' buffer in tests
const splitCases: [string, number[], number[], F.Conv2dOptions][] = [
  variantCases[7], // k3 pad 1 17→32: forward gk = 153, input gradient gk = 288 (the narrow tile)
  variantCases[8], // k3 same 32→33: gk = 288 and 297
  ['k3 same stride 2 17→65 (unphased input gradient)', [3, 17, 13, 13], [65, 17, 3, 3], { stride: 2, padding: 'same' }],
];
for (const [name, xs, ws, opts] of splitCases)
  for (const tile of [undefined, [64, 64, 8], [32, 32]] as (Tile | undefined)[])
    test(`conv2d forward and input gradient split-K (2, 3, 7 slices) ${name} tile=${tile ?? 'default'}`, async () => {
      const g = await gpuBackend();
      const d = F.convDims(xs, ws, opts);
      const nx = d.N * d.C * d.H * d.W,
        ny = d.N * d.K * d.P * d.Q,
        nw = d.K * d.C * d.R * d.S;
      const x = toF32(randomData(nx, 41)),
        w = toF32(randomData(nw, 42)),
        gy = toF32(randomData(ny, 43));
      const X = Tensor.from(g, x, [nx]),
        Wt = Tensor.from(g, w, [nw]),
        GY = Tensor.from(g, gy, [ny]);
      const wantY = cpu.alloc(ny, 'f32'),
        wantX = cpu.alloc(nx, 'f32');
      cpu.conv2d(cpu.upload(x, 'f32'), cpu.upload(w, 'f32'), null, wantY, d, 'none', 0);
      cpu.conv2dGradInput(cpu.upload(gy, 'f32'), cpu.upload(w, 'f32'), wantX, d, null, 'none', 0);
      const perSplit = g.gpu.poison ? 3 : 2;
      for (const splits of [2, 3, 7]) {
        const Y = Tensor.empty(g, [ny]),
          GX = Tensor.empty(g, [nx]);
        let d0 = g.gpu.counters.dispatches;
        conv2dKernel(g.gpu, X.store as never, Wt.store as never, null, Y.store as never, d, 'none', 0, {
          splits,
          tile,
        });
        assert.is(
          g.gpu.counters.dispatches - d0,
          perSplit,
          `forward, ${splits} slices: the GEMM and the sum of its slices`,
        );
        d0 = g.gpu.counters.dispatches;
        conv2dGradInput(g.gpu, GY.store as never, Wt.store as never, GX.store as never, d, null, 'none', 0, {
          phased: false,
          splits,
          tile,
        });
        assert.is(g.gpu.counters.dispatches - d0, perSplit, `input gradient, ${splits} slices`);
        const tol = d.C * d.R * d.S > 128 ? 5e-4 : 1e-4;
        assertClose(await Y.toArray(), wantY as Float64Array, tol, `forward, ${splits} slices`);
        assertClose(await GX.toArray(), wantX as Float64Array, 1e-4, `input gradient, ${splits} slices`);
        Y.dispose();
        GX.dispose();
      }
      for (const t of [X, Wt, GY]) t.dispose();
    });

test('conv2d split-K: refused with a bias, an activation, a phased input gradient or the skinny kernel; the rule by shape', async () => {
  const g = await gpuBackend();
  const d = F.convDims([1, 3, 5, 5], [4, 3, 3, 3], { stride: 2, padding: 'same' });
  const X = Tensor.empty(g, [75]),
    Wt = Tensor.empty(g, [108]),
    B = Tensor.empty(g, [4]),
    Y = Tensor.empty(g, [36]);
  const [x, w, b, y] = [X, Wt, B, Y].map((t) => t.store as never);
  assert.throws(() => conv2dKernel(g.gpu, x, w, b, y, d, 'none', 0, { splits: 2 }), /split-K needs/);
  assert.throws(() => conv2dKernel(g.gpu, x, w, null, y, d, 'relu', 0, { splits: 2 }), /split-K needs/);
  assert.throws(
    () => conv2dGradInput(g.gpu, y, w, x, d, null, 'none', 0, { splits: 2 }),
    /split-K needs/,
    'stride 2: phased by default',
  );
  assert.throws(
    () => conv2dGradInput(g.gpu, y, w, x, d, null, 'none', 0, { phased: false, skinny: true, splits: 2 }),
    /split-K needs/,
  );
  assert.throws(() => conv2dKernel(g.gpu, x, w, null, y, d, 'none', 0, { splits: 1.5 }), /whole number/);
  for (const t of [X, Wt, B, Y]) t.dispose();
  const as = (software: boolean, splitK = true) =>
    ({ adapter: { ...g.gpu.adapter, software }, limits: limitsOf(g.gpu), splitK }) as unknown as GpuBackend['gpu'];
  const hw = as(false);
  // batch 64's 7×7 layers (64×64 tiles): D's last input gradient 98 tiles → 3 slices; D's third forward 98 tiles,
  // gk = 576 → 2 (slices of ≥ 256); D's last forward 196 tiles (≥ one per core of 132) → 1
  assert.is(gemmSplits(hw, 'gradInput', 64 * 49, 128, 256 * 9, [64, 64]), 3);
  assert.is(gemmSplits(hw, 'forward', 64 * 49, 128, 64 * 9, [64, 64]), 2);
  assert.is(gemmSplits(hw, 'forward', 64 * 49, 256, 128 * 9, [64, 64]), 1);
  assert.is(gemmSplits(hw, 'forward', 64, 64, 100000, [64, 64]), 16, 'at most 16 slices');
  assert.is(gemmSplits(hw, 'gradInput', 64 * 49, 4, 100000, [64, 64]), 1, '≤ 4 columns: the skinny kernel');
  assert.is(gemmSplits(as(true), 'gradInput', 64 * 49, 128, 256 * 9, [64, 64]), 1, 'software adapter');
  assert.is(
    gemmSplits(as(false, false), 'gradInput', 64 * 49, 128, 256 * 9, [64, 64]),
    1,
    'gpu.splitK off (bench/train-step.js --split-k off)',
  );
  // batch 256: every seed layer has enough tiles
  assert.is(gemmSplits(hw, 'gradInput', 256 * 49, 128, 256 * 9, [64, 64]), 1);
});

// The tile partitions the GEMM's outputs, never an output's sum: every tile gives the same float32 bits (the weight
// gradient at a fixed split count, which sets its partial sums). This is what lets conv2d_tune.ts pick tiles by
// timing without changing a run's numbers.
const ALL_TILES: Tile[] = [
  [64, 64],
  [128, 32],
  [32, 128],
  [32, 32],
  [64, 32],
  [32, 64],
  [128, 128, 8],
  [64, 64, 8],
  [128, 64, 8],
  [64, 128, 8],
  [128, 32, 8],
  [32, 128, 8],
  [64, 32, 8],
  [32, 64, 8],
  [64, 64, 4, 'prefetch'],
  [128, 128, 8, 'prefetch'],
  [128, 64, 8, 'prefetch'],
  [64, 128, 8, 'prefetch'],
  [32, 32, 4, 'prefetch'],
];
for (const [name, xs, ws, opts] of [variantCases[4], variantCases[6], gwCases[3]])
  test(`conv2d: every tile gives the same bits (forward and unphased input gradient in 1 and 3 slices, phased input gradient, weight gradient in 1 and 3 slices): ${name}`, async () => {
    const g = await gpuBackend();
    const d = F.convDims(xs, ws, opts);
    const nx = d.N * d.C * d.H * d.W,
      ny = d.N * d.K * d.P * d.Q,
      nw = d.K * d.C * d.R * d.S;
    const X = Tensor.from(g, toF32(randomData(nx, 81)), [nx]),
      Wt = Tensor.from(g, toF32(randomData(nw, 82)), [nw]);
    const GY = Tensor.from(g, toF32(randomData(ny, 83)), [ny]),
      BK = Tensor.from(g, toF32(randomData(d.K, 84)), [d.K]);
    const bits = async (t: Tensor) => [...new Uint32Array(Float32Array.from(await t.toArray()).buffer)];
    const runs: [string, number, (out: Tensor, tile: Tile) => void][] = [
      [
        'forward',
        ny,
        (o, tile) =>
          conv2dKernel(
            g.gpu,
            X.store as never,
            Wt.store as never,
            BK.store as never,
            o.store as never,
            d,
            'leaky_relu',
            0.2,
            { skinny: false, tile },
          ),
      ],
      [
        'input gradient',
        nx,
        (o, tile) =>
          conv2dGradInput(g.gpu, GY.store as never, Wt.store as never, o.store as never, d, null, 'none', 0, {
            skinny: false,
            tile,
          }),
      ],
      [
        'input gradient unphased',
        nx,
        (o, tile) =>
          conv2dGradInput(g.gpu, GY.store as never, Wt.store as never, o.store as never, d, null, 'none', 0, {
            skinny: false,
            phased: false,
            tile,
          }),
      ],
      [
        'forward, 3 slices',
        ny,
        (o, tile) =>
          conv2dKernel(g.gpu, X.store as never, Wt.store as never, null, o.store as never, d, 'none', 0, {
            skinny: false,
            tile,
            splits: 3,
          }),
      ],
      [
        'input gradient unphased, 3 slices',
        nx,
        (o, tile) =>
          conv2dGradInput(g.gpu, GY.store as never, Wt.store as never, o.store as never, d, null, 'none', 0, {
            skinny: false,
            phased: false,
            tile,
            splits: 3,
          }),
      ],
      [
        'weight gradient, 1 slice',
        nw,
        (o, tile) =>
          conv2dGradWeight(g.gpu, X.store as never, GY.store as never, o.store as never, d, 1, false, { tile }),
      ],
      [
        'weight gradient, 3 slices',
        nw,
        (o, tile) =>
          conv2dGradWeight(g.gpu, X.store as never, GY.store as never, o.store as never, d, 3, false, { tile }),
      ],
    ];
    for (const [what, n, run] of runs) {
      let first: number[] | null = null;
      for (const tile of ALL_TILES) {
        if (tile[2] === 8 && tile[0] === 32 && tile[1] === 32) continue;
        const out = Tensor.empty(g, [n]);
        run(out, tile);
        const b = await bits(out);
        out.dispose();
        if (!first) first = b;
        else assert.equal(b, first, `${what}: tile ${tile} differs from ${ALL_TILES[0]}`);
      }
    }
    for (const t of [X, Wt, GY, BK]) t.dispose();
  });

test.run();
