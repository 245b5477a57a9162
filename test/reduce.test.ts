// reduce.test.ts — sum and mean over axes (small and large reductions), plus expand (their backward); reduceSum
// accumulating into its output.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import { checkAccumulate, checkOp, randomData, toF32 } from './harness.js';

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

test('expand [3,1] → [2,3,5]', () => checkOp({ name: 'expand', inputs: [{ shape: [3, 1] }], fn: ([x]) => F.expand(x, [2, 3, 5]) }));
test('expand [17] → [3,17]', () => checkOp({ name: 'expand', inputs: [{ shape: [17] }], fn: ([x]) => F.expand(x, [3, 17]) }));

for (const [shape, axes] of [[[5, 3, 13, 13], [0, 2, 3]], [[3, 17], [0]], [[300, 7], [0]], [[2, 65, 3], [1]]] as [number[], number[]][])
  test(`reduceSum ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} accumulating into out`, () => {
    const x = toF32(randomData(shape.reduce((a, d) => a * d, 1), 31));
    const n = shape.reduce((a, d, i) => (axes.includes(i) ? a : a * d), 1);
    return checkAccumulate('reduceSum', n, (be, out, acc) => {
      const X = be.upload(x, 'f32');
      be.reduceSum(X, shape, axes, out, acc);
      be.free(X);
    });
  });

test.run();
