// matmul.test.ts — tiled matmul, all transpose combinations, batched and shared-B, shapes off the 64-tile grid.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import { checkOp } from './harness.js';

const dims: [number, number, number][] = [[1, 1, 1], [3, 17, 5], [65, 3, 70], [17, 65, 129]];
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
    seed: 3,
  }));

test.run();
