// elementwise.test.ts — unary and broadcasting binary ops: CPU backward vs finite differences, GPU vs CPU.
import { test } from 'uvu';
import * as F from '../src/autograd/ops.js';
import { checkOp, type InputSpec } from './harness.js';
import type { Tensor } from '../src/autograd/tensor.js';

const unaries: [string, (x: Tensor) => Tensor, Partial<InputSpec>][] = [
  ['neg', F.neg, {}],
  ['exp', F.exp, { lo: -3, hi: 3 }],
  ['log', F.log, { lo: 0.2, hi: 3 }],
  ['tanh', F.tanh, { lo: -3, hi: 3 }],
  ['sigmoid', F.sigmoid, { lo: -6, hi: 6 }],
  ['relu', F.relu, { gap: 1e-3 }],
  ['leakyRelu', (x) => F.leakyRelu(x, 0.2), { gap: 1e-3 }],
  ['square', F.square, {}],
  ['sqrt', F.sqrt, { lo: 0.2, hi: 3 }],
  ['abs', F.abs, { gap: 1e-3 }],
  ['addScalar', (x) => F.add(x, 1.5), {}],
  ['mulScalar', (x) => F.mul(x, -0.7), {}],
  ['rsubScalar', (x) => F.rsubScalar(x, 2), {}],
  ['divScalar', (x) => F.div(x, 3), {}],
  ['subScalar', (x) => F.sub(x, 0.25), {}],
];

for (const [name, fn, spec] of unaries)
  for (const shape of [[1], [3, 17], [65, 5]])
    test(`${name} ${JSON.stringify(shape)}`, () => checkOp({ name, inputs: [{ shape, ...spec }], fn: ([x]) => fn(x) }));

const binaries: [string, (a: Tensor, b: Tensor) => Tensor, Partial<InputSpec>][] = [
  ['add', F.add, {}],
  ['sub', F.sub, {}],
  ['mul', F.mul, {}],
  ['div', F.div, { lo: 0.5, hi: 2 }],
];
const shapePairs: [number[], number[]][] = [
  [
    [3, 17],
    [3, 17],
  ],
  [
    [3, 1, 5],
    [4, 5],
  ],
  [[17], [1]],
  [
    [2, 3, 5, 7],
    [3, 1, 1],
  ],
  [
    [1, 65],
    [13, 1],
  ],
];
for (const [name, fn, bspec] of binaries)
  for (const [sa, sb] of shapePairs)
    test(`${name} ${JSON.stringify(sa)}·${JSON.stringify(sb)}`, () =>
      checkOp({ name, inputs: [{ shape: sa }, { shape: sb, ...bspec }], fn: ([a, b]) => fn(a, b) }));

test('the same tensor twice (x·x + x) accumulates both paths', () =>
  checkOp({ name: 'x*x+x', inputs: [{ shape: [3, 17] }], fn: ([x]) => F.add(F.mul(x, x), x) }));

test.run();
