// maxpool2d.test.ts — 2-D max pooling: three-way checks on inputs whose windows have well-separated values (so
// finite differences never flip an argmax), floor mode on odd sizes, tie-breaking, overlapping windows, the fused
// dropout (three ways, and bit for bit F.dropout of the pooled tensor), misuse.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import type { Backend } from '../src/autograd/backend.js';
import { Generator } from '../src/autograd/random.js';
import { checkOp, cpu, gpuBackend, toF32 } from './harness.js';

/**
 * x [N, C, H, W] in which the elements of each k×k window (stride k) are a shuffled 0, 0.1, …, 0.1·(k²−1) plus
 * up to 0.02 of noise, so any two differ by ≥ 0.08 (≫ the 2·1e-3 finite-difference reach); uncovered rows and
 * columns get noise only.
 */
function windowDistinct(shape: number[], k: number, seed: number): Float64Array {
  const [N, C, H, W] = shape;
  const g = new Generator(seed);
  const noise = g.uniform(N * C * H * W);
  const x = new Float64Array(N * C * H * W);
  for (let i = 0; i < x.length; i++) x[i] = 0.02 * noise[i] - 0.4;
  for (let p = 0; p < N * C; p++)
    for (let oh = 0; oh + k <= H; oh += k)
      for (let ow = 0; ow + k <= W; ow += k) {
        const rank = g.permutation(k * k);
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) x[p * H * W + (oh + i) * W + ow + j] += 0.1 * rank[i * k + j];
      }
  return toF32(x);
}
/** a shuffled arange scaled into [-1, 1): all values distinct, ≥ 2/n apart (for overlapping windows, small n) */
function shuffledArange(n: number, seed: number): Float64Array {
  const perm = new Generator(seed).permutation(n);
  return toF32(Array.from(perm, (v) => -1 + (2 * v) / n));
}

const cases: [number[], number][] = [
  [[3, 3, 13, 13], 2], // floor: 13 → 6
  [[1, 17, 5, 5], 2], // 5 → 2
  [[3, 3, 13, 13], 3], // 13 → 4
  [[2, 3, 4, 4], 2], // exact fit
  [[1, 1, 5, 5], 5], // one window covers the plane
];
for (const [shape, k] of cases)
  test(`maxpool2d ${JSON.stringify(shape)} k=${k}`, () =>
    checkOp({
      name: 'maxpool2d',
      inputs: [{ shape, data: windowDistinct(shape, k, shape[3] + k) }],
      fn: ([x]) => F.maxpool2d(x, k),
    }));

test('maxpool2d overlapping windows [1,2,7,7] k=3 stride 2', () =>
  // 98 values 2/98 ≈ 0.02 apart; an element can be the argmax of up to four windows (gradients add)
  checkOp({
    name: 'maxpool2d',
    inputs: [{ shape: [1, 2, 7, 7], data: shuffledArange(98, 5) }],
    fn: ([x]) => F.maxpool2d(x, 3, 2),
  }));
test('maxpool2d k=2 stride 1 on [2,1,5,6]', () =>
  checkOp({
    name: 'maxpool2d',
    inputs: [{ shape: [2, 1, 5, 6], data: shuffledArange(60, 6) }],
    fn: ([x]) => F.maxpool2d(x, 2, 1),
  }));

// dropout fused after the pooling (the CNN's pool → dropout): one kernel each way
for (const [shape, k, stride] of [
  [[3, 3, 13, 13], 2, 2],
  [[1, 17, 5, 5], 2, 2],
  [[1, 2, 7, 7], 3, 2],
] as [number[], number, number][])
  test(`maxpool2d ${JSON.stringify(shape)} k=${k} stride ${stride} + dropout 0.3`, () =>
    checkOp({
      name: 'maxpool2d',
      inputs: [
        {
          shape,
          data:
            stride === k
              ? windowDistinct(shape, k, 7)
              : shuffledArange(
                  shape.reduce((a, d) => a * d),
                  7,
                ),
        },
      ],
      fn: ([x]) => F.maxpool2d(x, k, stride, { p: 0.3, key: 4242 }),
    }));

test('maxpool2d + dropout equals F.dropout(F.maxpool2d(x)) bit for bit, forward and backward (CPU and GPU)', async () => {
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const shape = [3, 5, 13, 13];
    const run = async (fn: (x: Tensor) => Tensor) => {
      const x = Tensor.from(be, windowDistinct(shape, 2, 9), shape).setRequiresGrad();
      const y = fn(x);
      y.backward(Tensor.from(be, toF32(Array.from({ length: y.size }, (_, i) => Math.sin(i))), y.shape));
      return Promise.all([y.toArray(), x.grad!.toArray()]);
    };
    const fused = await run((x) => F.maxpool2d(x, 2, 2, { p: 0.2, key: 99 }));
    const apart = await run((x) => F.dropout(F.maxpool2d(x, 2), 0.2, { nextKey: () => 99 } as Generator, true));
    ['output', 'x gradient'].forEach((name, k) =>
      assert.ok(
        fused[k].every((v, i) => Object.is(v, apart[k][i])),
        `${be.name}: ${name} differs`,
      ),
    );
  }
});

test('maxpool2d output shapes (floor mode, as PyTorch)', () => {
  const shapeOf = (s: number[], k: number, st?: number) => F.maxpool2d(Tensor.zeros(cpu, s), k, st).shape;
  assert.equal(shapeOf([3, 3, 13, 13], 2), [3, 3, 6, 6]);
  assert.equal(shapeOf([1, 17, 5, 5], 2), [1, 17, 2, 2]);
  assert.equal(shapeOf([1, 1, 13, 11], 3), [1, 1, 4, 3]);
  assert.equal(shapeOf([1, 1, 7, 7], 3, 2), [1, 1, 3, 3]);
});

test('maxpool2d forward and backward by hand (5×5, k=2: last row and column dropped)', async () => {
  // prettier-ignore
  const x = [1, 5, 2, 0, 9, 3, 4, 8, 7, 9, 6, 0, 1, 1, 9, 2, 7, 3, 2, 9, 9, 9, 9, 9, 9];
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const t = Tensor.from(be, x, [1, 1, 5, 5]).setRequiresGrad();
    const y = F.maxpool2d(t);
    assert.equal([...(await y.toArray())], [5, 8, 7, 3], `${be.name} forward`);
    y.backward(Tensor.from(be, [10, 20, 30, 40], [1, 1, 2, 2]));
    // prettier-ignore
    assert.equal(
      [...(await t.grad!.toArray())],
      [0, 10, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 30, 40, 0, 0, 0, 0, 0, 0, 0],
      `${be.name} backward`,
    );
  }
});

test('maxpool2d ties: the first maximum in row-major window order gets the gradient, on CPU and GPU alike', async () => {
  // window 0 all equal → its top-left; window 1 maxima at (0,3) and (1,2) → (0,3) comes first; window 2 maxima at
  // (2,1) and (3,1) → (2,1); window 3 maxima at (3,2) and (3,3) → (3,2); plus a 3×3 window of equal values
  // prettier-ignore
  const x = [2, 2, 0, 6, 2, 2, 6, 1, 0, 4, 1, 0, 1, 4, 3, 3];
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const t = Tensor.from(be, x, [1, 1, 4, 4]).setRequiresGrad();
    F.sum(F.maxpool2d(t)).backward();
    // prettier-ignore
    assert.equal([...(await t.grad!.toArray())], [1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], be.name);
    const c = Tensor.full(be, [2, 1, 3, 3], 0.5).setRequiresGrad();
    F.sum(F.maxpool2d(c, 3)).backward();
    assert.equal(
      [...(await c.grad!.toArray())],
      [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
      `${be.name} constant`,
    );
  }
});

test('maxpool2d misuse: window larger than the image, non-integer window, wrong rank', () => {
  assert.throws(() => F.maxpool2d(Tensor.zeros(cpu, [1, 1, 3, 3]), 4), /does not fit in 3×3/);
  assert.throws(() => F.maxpool2d(Tensor.zeros(cpu, [1, 1, 3, 3]), 1.5), /positive integers/);
  assert.throws(() => F.maxpool2d(Tensor.zeros(cpu, [1, 3, 3]), 2), /\[N, C, H, W\]/);
});

test.run();
