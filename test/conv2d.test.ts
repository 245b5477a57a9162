// conv2d.test.ts — convolution and transposed convolution: CPU backward vs finite differences, GPU forward and
// both gradients vs the CPU reference, on odd shapes (batch 1 and 3, 5×5 and 13×13, 3 and 17 channels), strides,
// 'same' padding and the fused bias + activation epilogues.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import type { Activation } from '../src/autograd/backend.js';
import { checkOp, assertClose, cpu, gpuBackend, randomData, toF32 } from './harness.js';
import { Tensor } from '../src/autograd/tensor.js';
import { conv2dGradWeight } from '../src/kernels/conv2d.js';

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
    checkOp({ name: 'conv2d', inputs: [{ shape: xs }, { shape: ws }], fn: ([x, w]) => F.conv2d(x, w, null, opts), fdSamples: 16 }));

const acts: [Activation, { gap?: number }][] = [['none', {}], ['relu', {}], ['leaky_relu', {}], ['tanh', {}], ['sigmoid', {}]];
for (const [act] of acts)
  test(`conv2d + bias + ${act} (fused epilogue)`, () =>
    checkOp({
      name: `conv2d+${act}`,
      inputs: [{ shape: [3, 3, 5, 5] }, { shape: [17, 3, 3, 3] }, { shape: [17] }],
      fn: ([x, w, b]) => F.conv2d(x, w, b, { padding: 'same', activation: act, alpha: 0.2 }),
      fdSamples: 16,
      // relu kinks: finite differences need pre-activations away from 0; the fixed seed gives that here
      seed: 7,
    }));

type TCase = [string, number[], number[], F.ConvTranspose2dOptions];
const tCases: TCase[] = [
  ['k5 s2 p2 op1 (AC-GAN generator style) 3×3→6×6', [1, 3, 3, 3], [3, 17, 5, 5], { stride: 2, padding: 2, outputPadding: 1 }],
  ['k5 s2 same 5×5→10×10', [3, 3, 5, 5], [3, 2, 5, 5], { stride: 2, padding: 'same' }],
  ['k3 s1 p1', [1, 17, 5, 5], [17, 3, 3, 3], { padding: 1 }],
  ['k4 s2 p1', [3, 2, 5, 5], [2, 3, 4, 4], { stride: 2, padding: 1 }],
];
for (const [name, xs, ws, opts] of tCases)
  test(`convTranspose2d ${name}`, () =>
    checkOp({ name: 'convTranspose2d', inputs: [{ shape: xs }, { shape: ws }], fn: ([x, w]) => F.convTranspose2d(x, w, null, opts), fdSamples: 16 }));

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
    const xs = [3, 3, 13, 13], ws = [17, 3, 3, 3];
    const d = F.convDims(xs, ws, { padding: 'same' });
    const x = toF32(randomData(3 * 3 * 13 * 13, 21));
    const gy = toF32(randomData(3 * 17 * 13 * 13, 22));
    const want = cpu.alloc(17 * 27, 'f32');
    cpu.conv2dGradWeight(cpu.upload(x, 'f32'), cpu.upload(gy, 'f32'), want, d);
    const X = Tensor.from(g, x, xs), GY = Tensor.from(g, gy, [3, 17, 13, 13]), GW = Tensor.empty(g, ws);
    conv2dGradWeight(g.gpu, X.store as never, GY.store as never, GW.store as never, d, splits);
    assertClose(await GW.toArray(), want as Float64Array, 1e-4, `split ${splits}`);
    for (const t of [X, GY, GW]) t.dispose();
  });

test.run();
