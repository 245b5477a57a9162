// losses.test.ts — softmax cross-entropy with integer labels and BCE-with-logits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import { checkOp, cpu, gpuBackend } from './harness.js';

function labels(n: number, c: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + 3) % c);
}
for (const [N, C] of [[1, 10], [3, 10], [17, 3], [65, 11], [300, 10]] as const) {
  test(`softmaxCrossEntropy N=${N} C=${C}`, () =>
    checkOp({
      name: 'softmaxCrossEntropy',
      inputs: [{ shape: [N, C], lo: -4, hi: 4 }, { shape: [N], dtype: 'i32', data: labels(N, C), grad: false }],
      fn: ([x, y]) => F.softmaxCrossEntropy(x, y),
    }));
  test(`softmaxCrossEntropyRows N=${N} C=${C}`, () =>
    checkOp({
      name: 'softmaxCrossEntropyRows',
      inputs: [{ shape: [N, C], lo: -4, hi: 4 }, { shape: [N], dtype: 'i32', data: labels(N, C), grad: false }],
      fn: ([x, y]) => F.softmaxCrossEntropyRows(x, y),
    }));
}

for (const shape of [[1], [3, 17], [65, 1]])
  test(`bceWithLogits ${JSON.stringify(shape)}`, () =>
    checkOp({
      name: 'bceWithLogits',
      inputs: [{ shape, lo: -5, hi: 5 }, { shape, lo: 0, hi: 1 }],
      fn: ([x, t]) => F.bceWithLogits(x, t),
    }));

test('bceWithLogits with broadcast target [65,1] vs [1]', () =>
  checkOp({ name: 'bceWithLogits', inputs: [{ shape: [65, 1], lo: -5, hi: 5 }, { shape: [1], lo: 0, hi: 1 }], fn: ([x, t]) => F.bceWithLogits(x, t) }));

test('softmaxCrossEntropy is stable for large logits', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const x = Tensor.from(be, [1000, 0, -1000, 0], [2, 2]);
    const y = Tensor.from(be, [0, 0], [2], 'i32');
    const l = await F.softmaxCrossEntropyRows(x, y).toArray();
    assert.ok(Math.abs(l[0]) < 1e-6 && Math.abs(l[1] - 1000) < 1e-3, `${be.name}: got ${l[0]}, ${l[1]}`);
  }
});

test('a label outside [0, C): CPU throws, GPU writes NaN', async () => {
  const x = Tensor.from(cpu, [1, 2, 3], [1, 3]);
  const bad = Tensor.from(cpu, [3], [1], 'i32');
  assert.throws(() => F.softmaxCrossEntropyRows(x, bad), /outside \[0, 3\)/);
  const g = await gpuBackend();
  const l = await F.softmaxCrossEntropyRows(Tensor.from(g, [1, 2, 3], [1, 3]), Tensor.from(g, [3], [1], 'i32')).toArray();
  assert.ok(Number.isNaN(l[0]));
});

test('argmaxMatch: GPU equals CPU, ties go to the first maximum', async () => {
  const g = await gpuBackend();
  const N = 65, C = 10;
  const logits = Array.from({ length: N * C }, (_, i) => ((i * 37) % 11) / 3); // plenty of ties
  const labels = Array.from({ length: N }, (_, i) => (i * 3) % C);
  const want = await F.argmaxMatch(Tensor.from(cpu, logits, [N, C]), Tensor.from(cpu, labels, [N], 'i32')).toArray();
  const got = await F.argmaxMatch(Tensor.from(g, logits, [N, C]), Tensor.from(g, labels, [N], 'i32')).toArray();
  assert.equal([...got], [...want]);
  assert.ok(want.some((v) => v === 1) && want.some((v) => v === 0));
  // row [1, 3, 3]: first maximum is index 1
  assert.equal([...(await F.argmaxMatch(Tensor.from(g, [1, 3, 3, 1, 3, 3], [2, 3]), Tensor.from(g, [1, 2], [2], 'i32')).toArray())], [1, 0]);
});

test.run();
