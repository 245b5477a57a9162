// copy_strided.test.ts — the layout ops that share the strided-copy kernel: transpose, narrow, concat, reshape.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import { checkOp } from './harness.js';

test('transpose [3,17]', () => checkOp({ name: 'transpose', inputs: [{ shape: [3, 17] }], fn: ([x]) => F.transpose(x) }));
test('transpose [2,3,5,7] perm [0,2,3,1]', () =>
  checkOp({ name: 'transpose', inputs: [{ shape: [2, 3, 5, 7] }], fn: ([x]) => F.transpose(x, [0, 2, 3, 1]) }));
test('transpose [65,1,3] perm [2,0,1]', () =>
  checkOp({ name: 'transpose', inputs: [{ shape: [65, 1, 3] }], fn: ([x]) => F.transpose(x, [2, 0, 1]) }));
test('narrow [5,17] axis 1 [3,12)', () => checkOp({ name: 'narrow', inputs: [{ shape: [5, 17] }], fn: ([x]) => F.narrow(x, 1, 3, 9) }));
test('narrow [7,3,5] axis 0 [6,7)', () => checkOp({ name: 'narrow', inputs: [{ shape: [7, 3, 5] }], fn: ([x]) => F.narrow(x, 0, 6, 1) }));
test('concat axis 1 of [3,5],[3,1],[3,17]', () =>
  checkOp({ name: 'concat', inputs: [{ shape: [3, 5] }, { shape: [3, 1] }, { shape: [3, 17] }], fn: (xs) => F.concat(xs, 1) }));
test('concat axis 0 of [2,3,5],[1,3,5]', () =>
  checkOp({ name: 'concat', inputs: [{ shape: [2, 3, 5] }, { shape: [1, 3, 5] }], fn: (xs) => F.concat(xs, 0) }));
test('concat axis 1 (channels) of [3,2,5,5],[3,7,5,5]', () =>
  checkOp({ name: 'concat', inputs: [{ shape: [3, 2, 5, 5] }, { shape: [3, 7, 5, 5] }], fn: (xs) => F.concat(xs, 1) }));
test('reshape [3,17] → [17,3] then scale', () =>
  checkOp({ name: 'reshape', inputs: [{ shape: [3, 17] }], fn: ([x]) => F.mul(F.reshape(x, [17, 3]), 2) }));

test.run();
