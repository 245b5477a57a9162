// copy_strided.test.ts — the layout ops: transpose, narrow and reshape (the strided-copy kernel), concat and its
// backward (wgsl/concat.wgsl: concat and split, up to 4 parts per dispatch).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import { checkOp, cpu, gpuBackend } from './harness.js';

test('transpose [3,17]', () =>
  checkOp({ name: 'transpose', inputs: [{ shape: [3, 17] }], fn: ([x]) => F.transpose(x) }));
test('transpose [2,3,5,7] perm [0,2,3,1]', () =>
  checkOp({ name: 'transpose', inputs: [{ shape: [2, 3, 5, 7] }], fn: ([x]) => F.transpose(x, [0, 2, 3, 1]) }));
test('transpose [65,1,3] perm [2,0,1]', () =>
  checkOp({ name: 'transpose', inputs: [{ shape: [65, 1, 3] }], fn: ([x]) => F.transpose(x, [2, 0, 1]) }));
test('narrow [5,17] axis 1 [3,12)', () =>
  checkOp({ name: 'narrow', inputs: [{ shape: [5, 17] }], fn: ([x]) => F.narrow(x, 1, 3, 9) }));
test('narrow [7,3,5] axis 0 [6,7)', () =>
  checkOp({ name: 'narrow', inputs: [{ shape: [7, 3, 5] }], fn: ([x]) => F.narrow(x, 0, 6, 1) }));
test('concat axis 1 of [3,5],[3,1],[3,17]', () =>
  checkOp({
    name: 'concat',
    inputs: [{ shape: [3, 5] }, { shape: [3, 1] }, { shape: [3, 17] }],
    fn: (xs) => F.concat(xs, 1),
  }));
test('concat axis 0 of [2,3,5],[1,3,5]', () =>
  checkOp({ name: 'concat', inputs: [{ shape: [2, 3, 5] }, { shape: [1, 3, 5] }], fn: (xs) => F.concat(xs, 0) }));
test('concat axis 1 (channels) of [3,2,5,5],[3,7,5,5]', () =>
  checkOp({ name: 'concat', inputs: [{ shape: [3, 2, 5, 5] }, { shape: [3, 7, 5, 5] }], fn: (xs) => F.concat(xs, 1) }));
// more than 4 parts (two kernels each way), parts without a gradient (split writes only those wanted), last axis
test('concat axis 0 of six [1] (the GAN log scalars)', () =>
  checkOp({ name: 'concat', inputs: Array.from({ length: 6 }, () => ({ shape: [1] })), fn: (xs) => F.concat(xs, 0) }));
test('concat axis 1 of [65,3,1] ×5 with gradients into parts 0, 2 and 4 only', () =>
  checkOp({
    name: 'concat',
    inputs: [0, 1, 2, 3, 4].map((k) => ({ shape: [65, 3, 1], grad: k % 2 === 0 })),
    fn: (xs) => F.concat(xs, 1),
  }));
test('concat last axis of [3,1,17],[3,1,5],[3,1,1]', () =>
  checkOp({
    name: 'concat',
    inputs: [{ shape: [3, 1, 17] }, { shape: [3, 1, 5] }, { shape: [3, 1, 1] }],
    fn: (xs) => F.concat(xs, -1),
  }));
test('concat of i32 tensors copies their bits (GPU equals CPU)', async () => {
  const g = await gpuBackend();
  const parts = [
    [1, -2, 2147483647],
    [-2147483648, 7],
  ];
  const want = await F.concat(
    parts.map((p) => Tensor.from(cpu, p, [p.length], 'i32')),
    0,
  ).toArray();
  const got = await F.concat(
    parts.map((p) => Tensor.from(g, p, [p.length], 'i32')),
    0,
  ).toArray();
  assert.equal([...got], [...want]);
  assert.equal([...want], [1, -2, 2147483647, -2147483648, 7]);
});
test('reshape [3,17] → [17,3] then scale', () =>
  checkOp({ name: 'reshape', inputs: [{ shape: [3, 17] }], fn: ([x]) => F.mul(F.reshape(x, [17, 3]), 2) }));

test.run();
