// matmul.test.ts — tiled matmul, all transpose combinations, batched and shared-B, shapes off the 64-tile grid, the
// fused epilogue, accumulating into C, and the column sums of op(B) made alongside (biasGrad).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import { chooseMatmul, matmul as matmulKernel, type MatmulVariant } from '../src/kernels/matmul.js';
import {
  assertClose,
  checkAccumulate,
  checkOp,
  cpu,
  gpuBackend,
  randomData,
  seedClearingKinks,
  toF32,
} from './harness.js';

const dims: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 5],
  [65, 3, 70],
  [17, 65, 129],
];
for (const [M, K, N] of dims)
  for (const tA of [false, true])
    for (const tB of [false, true])
      test(`matmul ${M}×${K}·${K}×${N} tA=${tA} tB=${tB}`, () =>
        checkOp({
          name: 'matmul',
          inputs: [{ shape: tA ? [K, M] : [M, K] }, { shape: tB ? [N, K] : [K, N] }],
          fn: ([a, b]) => F.matmul(a, b, { transA: tA, transB: tB }),
          fdSamples: 24,
        }));

for (const tA of [false, true])
  for (const tB of [false, true]) {
    test(`batched matmul [3,5,17]·[3,17,7] tA=${tA} tB=${tB}`, () =>
      checkOp({
        name: 'matmul',
        inputs: [{ shape: tA ? [3, 17, 5] : [3, 5, 17] }, { shape: tB ? [3, 7, 17] : [3, 17, 7] }],
        fn: ([a, b]) => F.matmul(a, b, { transA: tA, transB: tB }),
        fdSamples: 24,
      }));
    test(`shared-B matmul [3,5,17]·[17,7] tA=${tA} tB=${tB}`, () =>
      checkOp({
        name: 'matmul',
        inputs: [{ shape: tA ? [3, 17, 5] : [3, 5, 17] }, { shape: tB ? [7, 17] : [17, 7] }],
        fn: ([a, b]) => F.matmul(a, b, { transA: tA, transB: tB }),
        fdSamples: 24,
      }));
  }

test('linear layer x·W + b then relu (composition)', () =>
  checkOp({
    name: 'linear',
    inputs: [{ shape: [5, 17] }, { shape: [17, 3] }, { shape: [3] }],
    fn: ([x, w, b]) => F.relu(F.add(F.matmul(x, w), b)),
    seed: seedClearingKinks([[5, 17], [17, 3], [3]], ([x, w, b]) => F.add(F.matmul(x, w), b)),
  }));

// Each tiling variant directly (the op picks one by shape; here both see odd shapes, batches and transposes).
for (const variant of ['matmul', 'matmul_big'] as MatmulVariant[])
  for (const [batch, M, K, N] of [
    [1, 1, 1, 1],
    [2, 65, 17, 130],
    [1, 129, 33, 3],
    [3, 7, 129, 257],
  ])
    for (const tA of [false, true])
      for (const tB of [false, true])
        test(`${variant} kernel batch ${batch} ${M}×${K}×${N} tA=${tA} tB=${tB}`, async () => {
          const g = await gpuBackend();
          const a = toF32(randomData(batch * M * K, 11));
          const b = toF32(randomData(batch * N * K, 12));
          const d = { batch, M, N, K, transA: tA, transB: tB, strideA: M * K, strideB: K * N };
          const want = cpu.alloc(batch * M * N, 'f32');
          cpu.matmul(cpu.upload(a, 'f32'), cpu.upload(b, 'f32'), want, d);
          const A = Tensor.from(g, a, [a.length]);
          const B = Tensor.from(g, b, [b.length]);
          const C = Tensor.empty(g, [batch * M * N]);
          matmulKernel(g.gpu, A.store as never, B.store as never, C.store as never, d, variant);
          assertClose(await C.toArray(), want as Float64Array, 1e-4, `${variant}`);
          for (const t of [A, B, C]) t.dispose();
        });

// matmul_skinny (a workgroup per output row, K over its threads): columns 1..16, K below, at and past the 256 threads,
// batches, transposes, the epilogue and accumulating into C
for (const [batch, M, K, N] of [
  [1, 1, 1, 1],
  [1, 3, 300, 11],
  [2, 17, 1000, 3],
  [1, 65, 257, 16],
  [3, 5, 17, 2],
])
  for (const tA of [false, true])
    for (const tB of [false, true])
      test(`matmul_skinny kernel batch ${batch} ${M}×${K}×${N} tA=${tA} tB=${tB}, bias + leaky_relu, written then accumulated`, async () => {
        const g = await gpuBackend();
        const a = toF32(randomData(batch * M * K, 71)),
          b = toF32(randomData(batch * N * K, 72)),
          bias = toF32(randomData(N, 73));
        const d = { batch, M, N, K, transA: tA, transB: tB, strideA: M * K, strideB: K * N };
        const want = cpu.alloc(batch * M * N, 'f32');
        cpu.matmul(cpu.upload(a, 'f32'), cpu.upload(b, 'f32'), want, d, cpu.upload(bias, 'f32'), 'leaky_relu', 0.2);
        const A = Tensor.from(g, a, [a.length]),
          B = Tensor.from(g, b, [b.length]),
          BI = Tensor.from(g, bias, [N]);
        const C = Tensor.empty(g, [batch * M * N]);
        matmulKernel(
          g.gpu,
          A.store as never,
          B.store as never,
          C.store as never,
          d,
          'matmul_skinny',
          BI.store as never,
          'leaky_relu',
          0.2,
        );
        assertClose(await C.toArray(), want as Float64Array, 1e-4, 'matmul_skinny');
        matmulKernel(
          g.gpu,
          A.store as never,
          B.store as never,
          C.store as never,
          d,
          'matmul_skinny',
          BI.store as never,
          'leaky_relu',
          0.2,
          true,
        );
        assertClose(
          await C.toArray(),
          Float64Array.from(want as Float64Array, (v) => 2 * v),
          1e-4,
          'matmul_skinny accumulated',
        );
        for (const t of [A, B, BI, C]) t.dispose();
      });

test('matmul picks matmul_skinny for heads (few columns, few rows, long K) and only for them', () => {
  const d = (M: number, K: number, N: number, batch = 1) => ({
    batch,
    M,
    N,
    K,
    transA: false,
    transB: false,
    strideA: 0,
    strideB: 0,
  });
  assert.is(chooseMatmul(d(64, 12544, 1)), 'matmul_skinny'); // the AC-GAN discriminator's heads, batch 64
  assert.is(chooseMatmul(d(256, 12544, 10)), 'matmul_skinny');
  assert.is(chooseMatmul(d(64, 128, 10)), 'matmul'); // short K: the tile walks it quickly
  assert.is(chooseMatmul(d(64, 12544, 17)), 'matmul'); // too many columns
  assert.is(chooseMatmul(d(4096, 12544, 1)), 'matmul'); // many rows: enough tiles, and B would be read per row
});

test('a head through the op (F.linear [5, 300]·[300, 11] + bias, sigmoid): forward and gradients', () =>
  checkOp({
    name: 'linear head',
    inputs: [{ shape: [5, 300] }, { shape: [300, 11] }, { shape: [11] }],
    fn: ([x, w, b]) => F.linear(x, w, b, { activation: 'sigmoid' }),
    fdSamples: 16,
  }));

for (const act of ['none', 'relu', 'leaky_relu', 'tanh', 'sigmoid'] as const)
  for (const [M, K, N] of [
    [1, 3, 1],
    [65, 17, 3],
    [5, 129, 70],
  ])
    test(`linear ${M}×${K}·${K}×${N} + bias + ${act} (fused epilogue)`, () =>
      checkOp({
        name: `linear+${act}`,
        inputs: [{ shape: [M, K] }, { shape: [K, N] }, { shape: [N] }],
        fn: ([x, w, b]) => F.linear(x, w, b, { activation: act, alpha: 0.2 }),
        fdSamples: 16,
        seed:
          act === 'relu' || act === 'leaky_relu'
            ? seedClearingKinks([[M, K], [K, N], [N]], ([x, w, b]) => F.linear(x, w, b))
            : 5,
      }));

test('linear without bias', () =>
  checkOp({
    name: 'linear',
    inputs: [{ shape: [3, 17] }, { shape: [17, 5] }],
    fn: ([x, w]) => F.linear(x, w, null, { activation: 'relu' }),
    seed: seedClearingKinks(
      [
        [3, 17],
        [17, 5],
      ],
      ([x, w]) => F.linear(x, w),
    ),
  }));

test('matmul_big epilogue (bias + leaky_relu) against the reference', async () => {
  const g = await gpuBackend();
  const [M, K, N] = [257, 33, 130];
  const a = toF32(randomData(M * K, 41)),
    b = toF32(randomData(K * N, 42)),
    bias = toF32(randomData(N, 43));
  const d = { batch: 1, M, N, K, transA: false, transB: false, strideA: 0, strideB: 0 };
  const want = cpu.alloc(M * N, 'f32');
  cpu.matmul(cpu.upload(a, 'f32'), cpu.upload(b, 'f32'), want, d, cpu.upload(bias, 'f32'), 'leaky_relu', 0.2);
  const A = Tensor.from(g, a, [M * K]),
    B = Tensor.from(g, b, [K * N]),
    BI = Tensor.from(g, bias, [N]),
    C = Tensor.empty(g, [M * N]);
  matmulKernel(
    g.gpu,
    A.store as never,
    B.store as never,
    C.store as never,
    d,
    'matmul_big',
    BI.store as never,
    'leaky_relu',
    0.2,
  );
  assertClose(await C.toArray(), want as Float64Array, 1e-4, 'matmul_big epilogue');
  for (const t of [A, B, BI, C]) t.dispose();
});

// accumulate (C += op(A)·op(B), a weight's second gradient added in place), both tilings ([520, 33, 520] picks
// matmul_big), every transpose combination
for (const [M, K, N] of [
  [1, 1, 1],
  [65, 17, 3],
  [17, 65, 129],
  [520, 33, 520],
])
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])
    test(`matmul ${M}×${K}·${K}×${N} tA=${tA} tB=${tB} accumulating into C`, () => {
      const a = toF32(randomData(M * K, 51)),
        b = toF32(randomData(K * N, 52));
      const d = { batch: 1, M, N, K, transA: tA, transB: tB, strideA: 0, strideB: 0 };
      return checkAccumulate('matmul', M * N, (be, out, acc) => {
        const [A, B] = [be.upload(a, 'f32'), be.upload(b, 'f32')];
        be.matmul(A, B, out, d, null, 'none', 0, acc);
        be.free(A);
        be.free(B);
      });
    });

// biasGrad: the column sums of op(B) from the same kernel (a dense layer's bias gradient beside its weight
// gradient), written or added; several row tiles (only row tile 0 writes them), column tiles and K tiles
for (const [M, K, N] of [
  [1, 1, 1],
  [65, 17, 3],
  [130, 300, 70],
])
  for (const tB of [false, true])
    test(`matmul ${M}×${K}·${K}×${N} tA=true tB=${tB} with biasGrad (written, then added)`, () => {
      const a = toF32(randomData(M * K, 61)),
        b = toF32(randomData(K * N, 62));
      const d = { batch: 1, M, N, K, transA: true, transB: tB, strideA: 0, strideB: 0 };
      return checkAccumulate('matmul biasGrad', N, (be, out, acc) => {
        const [A, B, C] = [be.upload(a, 'f32'), be.upload(b, 'f32'), be.alloc(M * N, 'f32')];
        be.matmul(A, B, C, d, null, 'none', 0, false, { out, add: acc });
        for (const s of [A, B, C]) be.free(s);
      });
    });

test('matmul biasGrad leaves C as without it, and equals reduce_sum bit for bit (K ≤ 64: one thread sums in order)', async () => {
  const g = await gpuBackend();
  for (const [M, K, N] of [
    [65, 16, 3],
    [17, 64, 70],
  ]) {
    const a = toF32(randomData(M * K, 63)),
      b = toF32(randomData(K * N, 64));
    const d = { batch: 1, M, N, K, transA: true, transB: false, strideA: 0, strideB: 0 };
    const A = Tensor.from(g, a, [K, M]),
      B = Tensor.from(g, b, [K, N]);
    const C1 = Tensor.empty(g, [M, N]),
      C2 = Tensor.empty(g, [M, N]),
      GB = Tensor.empty(g, [N]);
    g.matmul(A.store, B.store, C1.store, d);
    g.matmul(A.store, B.store, C2.store, d, null, 'none', 0, false, { out: GB.store, add: false });
    const bits = async (t: Tensor) => [...new Uint32Array(Float32Array.from(await t.toArray()).buffer)];
    assert.equal(await bits(C2), await bits(C1), `[${M}, ${K}, ${N}]: C`);
    assert.equal(await bits(GB), await bits(F.sum(B, 0)), `[${M}, ${K}, ${N}]: column sums`);
    for (const t of [A, B, C1, C2, GB]) t.dispose();
  }
});

test.run();
