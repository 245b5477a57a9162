// reduce.test.ts — sum and mean over axes (small and large reductions), plus expand (their backward); reduceSum
// accumulating into its output.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import * as assert from 'uvu/assert';
import { checkAccumulate, checkOp, randomData, toF32, gpuBackend, cpu, assertClose } from './harness.js';
import { Tensor } from '../src/autograd/tensor.js';
import { reduceSum, reduceSlices } from '../src/kernels/reduce.js';

const cases: [number[], number[] | undefined, boolean][] = [
  [[3, 17], undefined, false],
  [[3, 17], [1], false],
  [[3, 17], [0], true],
  [[5, 3, 13, 13], [0, 2, 3], true], // batchnorm-style: per-channel over N, H, W
  [[2, 65, 3], [1], false],
  [[1], [0], false],
  [[300, 7], [0], false], // 300 ≥ the workgroup reduction threshold
  [[4, 1, 9], [2], true],
];
for (const [shape, axes, keep] of cases) {
  test(`sum ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keep=${keep}`, () =>
    checkOp({ name: 'sum', inputs: [{ shape }], fn: ([x]) => F.sum(x, axes, keep) }));
  test(`mean ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keep=${keep}`, () =>
    checkOp({ name: 'mean', inputs: [{ shape }], fn: ([x]) => F.mean(x, axes, keep) }));
}

test('expand [3,1] → [2,3,5]', () =>
  checkOp({ name: 'expand', inputs: [{ shape: [3, 1] }], fn: ([x]) => F.expand(x, [2, 3, 5]) }));
test('expand [17] → [3,17]', () =>
  checkOp({ name: 'expand', inputs: [{ shape: [17] }], fn: ([x]) => F.expand(x, [3, 17]) }));

for (const [shape, axes] of [
  [
    [5, 3, 13, 13],
    [0, 2, 3],
  ],
  [[3, 17], [0]],
  [[300, 7], [0]],
  [[2, 65, 3], [1]],
] as [number[], number[]][])
  test(`reduceSum ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} accumulating into out`, () => {
    const x = toF32(
      randomData(
        shape.reduce((a, d) => a * d, 1),
        31,
      ),
    );
    const n = shape.reduce((a, d, i) => (axes.includes(i) ? a : a * d), 1);
    return checkAccumulate('reduceSum', n, (be, out, acc) => {
      const X = be.upload(x, 'f32');
      be.reduceSum(X, shape, axes, out, acc);
      be.free(X);
    });
  });

// long reductions into few outputs run in slices (two dispatches); forced slice counts on odd lengths, with the
// partials poisoned, against the float64 reference; and accumulating
const sliced: [number[], number[]][] = [
  [[3, 40001], [1]],
  [[70001], [0]],
  [
    [5, 2, 9001],
    [0, 2],
  ],
  [
    [2, 3, 5, 7, 11, 13],
    [1, 2, 4],
  ],
];
for (const [shape, axes] of sliced)
  for (const slices of [undefined, 1, 2, 7])
    test(`reduceSum ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} in ${slices ?? 'default'} slices`, async () => {
      const g = await gpuBackend();
      const n = shape.reduce((a, d) => a * d, 1);
      const x = toF32(randomData(n, 37));
      const outN = shape.reduce((a, d, i) => (axes.includes(i) ? a : a * d), 1);
      const want = cpu.alloc(outN, 'f32');
      cpu.reduceSum(cpu.upload(x, 'f32'), shape, axes, want);
      const X = Tensor.from(g, x, [n]);
      for (const acc of [false, true]) {
        const out = Tensor.from(g, new Float32Array(outN).fill(acc ? 0.5 : 0), [outN]);
        const d0 = g.gpu.counters.dispatches;
        reduceSum(g.gpu, X.store as never, shape, axes, out.store as never, acc, { slices });
        const expectSlices = slices ?? reduceSlices(g.gpu, outN, n / outN);
        // (with poisoning on, the partials' buffer is filled with NaN first: one dispatch more)
        assert.is(
          g.gpu.counters.dispatches - d0,
          expectSlices > 1 ? 2 + (g.gpu.poison ? 1 : 0) : 1,
          'one dispatch, or slices then their sum',
        );
        assertClose(
          await out.toArray(),
          Float64Array.from(want as Float64Array, (v) => v + (acc ? 0.5 : 0)),
          1e-5,
          `acc ${acc}`,
        );
        out.dispose();
      }
      X.dispose();
    });

test('slice counts: hardware adapters slice long reductions into few outputs, software ones never', async () => {
  const g = await gpuBackend();
  const as = (software: boolean) => ({ adapter: { ...g.gpu.adapter, software } }) as unknown as typeof g.gpu;
  const hw = as(false);
  assert.is(reduceSlices(hw, 1, 100352), 12, 'a whole-tensor sum: ⌊100352 / 8192⌋ slices');
  assert.is(reduceSlices(hw, 32, 200704), 9, '32 channels of a batch-256 bias gradient: ⌈264 / 32⌉ slices');
  assert.is(reduceSlices(hw, 32, 50176), 6, '32 channels of a batch-64 bias gradient: ⌊50176 / 8192⌋ slices');
  assert.is(reduceSlices(hw, 1, 16000), 1, 'under 16384 elements: one stage');
  assert.is(reduceSlices(hw, 4096, 100352), 1, 'enough outputs to fill the device: one stage');
  assert.is(reduceSlices(as(true), 1, 100352), 1, 'software: one stage');
});

test.run();
