// embedding.test.ts — row gather by i32 indices: three-way checks, accumulation of repeated indices in the
// backward, untouched rows, the backward accumulating into its output, and out-of-range indices (CPU throws, GPU
// writes NaN rows).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import type { Backend } from '../src/autograd/backend.js';
import { checkAccumulate, checkOp, cpu, gpuBackend, randomData, toF32 } from './harness.js';

/** n seeded indices in [0, V) */
function indices(n: number, V: number, seed = 1): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + seed * 3 + ((i * i) % 5)) % V);
}

const cases: [string, number, number, number[], number[]][] = [
  // name, V, D, indices shape, indices
  ['V=10 D=17, 65 indices', 10, 17, [65], indices(65, 10)],
  ['V=10 D=17, indices [5,13]', 10, 17, [5, 13], indices(65, 10, 2)],
  ['V=10 D=3, one index', 10, 3, [1], [7]],
  ['V=10 D=17, only rows 0..4 named (rows 5..9 get zero gradient)', 10, 17, [3, 3], indices(9, 5)],
  ['V=300 D=5, 17 indices', 300, 5, [17], indices(17, 300).map((v) => (v * 37) % 300)],
];
for (const [name, V, D, ishape, idx] of cases)
  test(`embedding ${name}`, () =>
    checkOp({
      name: 'embedding',
      inputs: [{ shape: [V, D] }, { shape: ishape, dtype: 'i32', data: idx, grad: false }],
      fn: ([w, i]) => F.embedding(w, i),
    }));

test('embedding forward copies rows exactly; output shape is indices shape + [D]', async () => {
  const w = Array.from({ length: 12 }, (_, i) => i * 0.5 - 3); // [4, 3]
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const y = F.embedding(Tensor.from(be, w, [4, 3]), Tensor.from(be, [3, 0, 3, 1], [2, 2], 'i32'));
    assert.equal(y.shape, [2, 2, 3]);
    assert.equal([...(await y.toArray())], [...w.slice(9, 12), ...w.slice(0, 3), ...w.slice(9, 12), ...w.slice(3, 6)]);
  }
});

test('embedding backward sums the gradients of repeated indices; unnamed rows are 0', async () => {
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const w = Tensor.zeros(be, [5, 2]).setRequiresGrad();
    const y = F.embedding(w, Tensor.from(be, [3, 1, 3, 3, 0], [5], 'i32'));
    y.backward(Tensor.from(be, [1, 10, 2, 20, 3, 30, 4, 40, 5, 50], [5, 2]));
    // row 3 ← rows 0, 2, 3 of g; row 1 ← row 1; row 0 ← row 4; rows 2 and 4 untouched
    assert.equal([...(await w.grad!.toArray())], [5, 50, 2, 20, 0, 0, 1 + 3 + 4, 10 + 30 + 40, 0, 0], be.name);
  }
});

test('embedding gradients accumulate over two backward calls', async () => {
  const be = await gpuBackend();
  const w = Tensor.zeros(be, [3, 1]).setRequiresGrad();
  const idx = Tensor.from(be, [2, 2], [2], 'i32');
  F.sum(F.embedding(w, idx)).backward();
  F.sum(F.embedding(w, idx)).backward();
  assert.equal([...(await w.grad!.toArray())], [0, 0, 4]);
});

for (const [V, D, n] of [
  [10, 17, 65],
  [300, 5, 17],
  [10, 3, 1],
])
  test(`embeddingGrad V=${V} D=${D}, ${n} indices, accumulating into gWeight`, () => {
    const idx = indices(n, V),
      g = toF32(randomData(n * D, 61));
    return checkAccumulate('embeddingGrad', V * D, (be, out, acc) => {
      const [I, G] = [be.upload(idx, 'i32'), be.upload(g, 'f32')];
      be.embeddingGrad(I, G, out, n, V, D, acc);
      be.free(I);
      be.free(G);
    });
  });

test('embedding index outside [0, V): CPU throws, GPU writes NaN into that row only', async () => {
  // weight [4, 16] fills its 256-byte pool buffer exactly, so an unchecked read of row 4 would not meet the
  // test's NaN poison past the end (robust access returns in-bounds values or 0)
  const w = Array.from({ length: 64 }, (_, i) => i + 1);
  const g = await gpuBackend();
  for (const bad of [4, -1, 1 << 20]) {
    assert.throws(
      () => F.embedding(Tensor.from(cpu, w, [4, 16]), Tensor.from(cpu, [0, bad], [2], 'i32')),
      new RegExp(`index ${bad} at position 1 is outside \\[0, 4\\)`),
    );
    const y = await F.embedding(Tensor.from(g, w, [4, 16]), Tensor.from(g, [2, bad, 1], [3], 'i32')).toArray();
    assert.equal([...y.slice(0, 16), ...y.slice(32)], [...w.slice(32, 48), ...w.slice(16, 32)]);
    assert.ok(y.slice(16, 32).every(Number.isNaN), `row 1 should be NaN, got ${y.slice(16, 32)}`);
  }
});

test('embedding misuse: f32 indices, 1-D weight', () => {
  assert.throws(() => F.embedding(Tensor.zeros(cpu, [3, 2]), Tensor.zeros(cpu, [2])), /indices i32/);
  assert.throws(() => F.embedding(Tensor.zeros(cpu, [3]), Tensor.from(cpu, [0], [1], 'i32')), /weight f32 \[V, D\]/);
});

test.run();
