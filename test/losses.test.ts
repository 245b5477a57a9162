// losses.test.ts — softmax cross-entropy with integer labels and BCE-with-logits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import type { GBuf, Gpu } from '../src/kernels/gpu.js';
import {
  bceLogitsMeanComposed,
  bceLogitsMeanComposedGrad,
  bceLogitsMeanFused,
  bceLogitsMeanFusedGrad,
} from '../src/kernels/bce_logits.js';
import { assertClose, checkOp, cpu, gpuBackend } from './harness.js';

function labels(n: number, c: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + 3) % c);
}
for (const [N, C] of [
  [1, 10],
  [3, 10],
  [17, 3],
  [65, 11],
  [300, 10],
] as const) {
  test(`softmaxCrossEntropy N=${N} C=${C}`, () =>
    checkOp({
      name: 'softmaxCrossEntropy',
      inputs: [
        { shape: [N, C], lo: -4, hi: 4 },
        { shape: [N], dtype: 'i32', data: labels(N, C), grad: false },
      ],
      fn: ([x, y]) => F.softmaxCrossEntropy(x, y),
    }));
  test(`softmaxCrossEntropyRows N=${N} C=${C}`, () =>
    checkOp({
      name: 'softmaxCrossEntropyRows',
      inputs: [
        { shape: [N, C], lo: -4, hi: 4 },
        { shape: [N], dtype: 'i32', data: labels(N, C), grad: false },
      ],
      fn: ([x, y]) => F.softmaxCrossEntropyRows(x, y),
    }));
}

for (const shape of [[1], [3, 17], [65, 1]])
  test(`bceWithLogits ${JSON.stringify(shape)}`, () =>
    checkOp({
      name: 'bceWithLogits',
      inputs: [
        { shape, lo: -5, hi: 5 },
        { shape, lo: 0, hi: 1 },
      ],
      fn: ([x, t]) => F.bceWithLogits(x, t),
    }));

test('bceWithLogits with broadcast target [65,1] vs [1]', () =>
  checkOp({
    name: 'bceWithLogits',
    inputs: [
      { shape: [65, 1], lo: -5, hi: 5 },
      { shape: [1], lo: 0, hi: 1 },
    ],
    fn: ([x, t]) => F.bceWithLogits(x, t),
  }));

// a general broadcast (the logits broadcast too: the GPU backend composes the elementwise and reduce kernels), with
// and without the targets' gradient, the broadcast shape's size on both sides of 64 and 256
for (const [shape, tShape, tGrad] of [
  [[3, 1], [1, 2], true],
  [[1], [5, 13], false],
  [[17, 1], [1, 20], true],
  [[2, 1, 3], [70, 1], false],
] as const)
  test(`bceWithLogits, general broadcast ${JSON.stringify(shape)} vs ${JSON.stringify(tShape)}`, () =>
    checkOp({
      name: 'bceWithLogits',
      inputs: [
        { shape: [...shape], lo: -5, hi: 5 },
        { shape: [...tShape], lo: 0, hi: 1, grad: tGrad },
      ],
      fn: ([x, t]) => F.bceWithLogits(x, t),
    }));

// bceLogitsMean (the fused path: targets without gradient, one per logit or one for all), n on both sides of
// REDUCE_SMALL_MAX (64: one thread sums) and of 256 (strided partial sums, then the tree)
for (const [shape, tShape] of [
  [[1], [1]],
  [
    [3, 17],
    [3, 17],
  ],
  [
    [65, 1],
    [65, 1],
  ],
  [[65, 1], [1]],
  [[300], [300]],
  [
    [17, 1],
    [1, 1],
  ],
] as const)
  test(`bceLogitsMean ${JSON.stringify(shape)} vs target ${JSON.stringify(tShape)}`, () =>
    checkOp({
      name: 'bceLogitsMean',
      inputs: [
        { shape: [...shape], lo: -5, hi: 5 },
        { shape: [...tShape], lo: 0, hi: 1, grad: false },
      ],
      fn: ([x, t]) => F.bceWithLogits(x, t),
    }));

/** the bits of a tensor */
async function bits(t: Tensor): Promise<number[]> {
  return [...new Uint32Array(Float32Array.from(await t.toArray()).buffer)];
}

// the fused kernels add in reduce_sum's order, so they give the bits of the composed elementwise → sum → scale
// kernels the GPU backend runs for a general broadcast or a target gradient (a GAN step's losses stay the bits
// they were before the fusion); both match the CPU
for (const n of [16, 64, 65, 300]) {
  test(`bceLogitsMean n=${n}: the fused and the composed kernels give the same bits, and the CPU's values`, async () => {
    const g = await gpuBackend();
    const gpu = (g as unknown as { gpu: Gpu }).gpu;
    const xs = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 4);
    for (const [tv, ts] of [
      [[1], [1, 1]],
      [Array.from({ length: n }, (_, i) => (i % 3) / 2), [n, 1]],
    ] as const) {
      const x = Tensor.from(g, xs, [n, 1]);
      const t = Tensor.from(g, tv, [...ts]);
      const gLoss = Tensor.from(g, [0.75], []);
      const run = (fused: boolean) => {
        const [loss, prob, gx] = [[], [], [n, 1]].map((s) => Tensor.empty(g, s));
        const st = (u: Tensor) => u.store as GBuf;
        if (fused) {
          const stride = tv.length === 1 ? 0 : 1;
          bceLogitsMeanFused(gpu, st(x), st(t), st(loss), st(prob), n, stride);
          bceLogitsMeanFusedGrad(gpu, st(x), st(t), st(gLoss), st(gx), n, stride);
        } else {
          bceLogitsMeanComposed(gpu, st(x), x.shape, st(t), t.shape, st(loss), st(prob));
          bceLogitsMeanComposedGrad(gpu, st(x), x.shape, st(t), t.shape, st(gLoss), st(gx), null);
        }
        return [loss, prob, gx];
      };
      const fused = run(true),
        composed = run(false);
      for (const [k, what] of ['loss', 'prob', 'gradient'].entries())
        assert.equal(await bits(fused[k]), await bits(composed[k]), what);
      const want = F.bceWithLogitsAndProb(Tensor.from(cpu, xs, [n, 1]), Tensor.from(cpu, tv, [...ts]));
      assertClose(await fused[1].toArray(), await want.prob.toArray(), 1e-5, 'prob vs CPU');
      assertClose(await fused[0].toArray(), await want.loss.toArray(), 1e-5, 'loss vs CPU');
    }
  });
  test(`softmaxXentMean N=${n}: bit-identical to mean(softmaxCrossEntropyRows)`, async () => {
    const g = await gpuBackend();
    const C = 10;
    const x = Tensor.from(
      g,
      Array.from({ length: n * C }, (_, i) => Math.cos(i * 0.37) * 3),
      [n, C],
    );
    const y = Tensor.from(g, labels(n, C), [n], 'i32');
    assert.equal(await bits(F.softmaxCrossEntropy(x, y)), await bits(F.mean(F.softmaxCrossEntropyRows(x, y))));
  });
}

// bceWithLogitsAndProb in groups: the fused loss over equal groups of logits (a discriminator's real and generated
// halves): finite differences and GPU vs CPU on poisoned outputs, groups on both sides of REDUCE_SMALL_MAX and of 256
for (const [shape, tShape, G] of [
  [[6, 1], [6, 1], 2],
  [[130, 1], [130, 1], 2],
  [[600], [1], 2],
  [[9], [9], 3],
  [[17], [17], 1],
] as const)
  test(`bceWithLogitsAndProb ${JSON.stringify(shape)} in ${G} groups vs target ${JSON.stringify(tShape)}`, () =>
    checkOp({
      name: 'bceWithLogitsAndProb',
      inputs: [
        { shape: [...shape], lo: -5, hi: 5 },
        { shape: [...tShape], lo: 0, hi: 1, grad: false },
      ],
      fn: ([x, t]) => {
        const { loss, prob } = F.bceWithLogitsAndProb(x, t, G);
        prob.dispose();
        return loss;
      },
    }));

// each group's loss, probability and gradient are the bits bceWithLogitsAndProb gives on that group alone
for (const B of [3, 64, 65, 300])
  test(`bceWithLogitsAndProb, 2 groups of ${B}: bit for bit each group alone (loss, probability, gradient)`, async () => {
    const g = await gpuBackend();
    const xs = Array.from({ length: 2 * B }, (_, i) => Math.sin(i * 1.3) * 4);
    const ts = Array.from({ length: 2 * B }, (_, i) => (i < B ? 1 : 0));
    const seeds = [0.75, -1.5];
    const x = Tensor.from(g, xs, [2 * B, 1]).setRequiresGrad();
    const { loss, prob } = F.bceWithLogitsAndProb(x, Tensor.from(g, ts, [2 * B, 1]), 2);
    loss.backward(Tensor.from(g, seeds, [2]));
    const halves = [0, 1].map((k) => Tensor.from(g, xs.slice(k * B, (k + 1) * B), [B, 1]).setRequiresGrad());
    const alone = halves.map((h, k) => F.bceWithLogitsAndProb(h, Tensor.full(g, [1, 1], k === 0 ? 1 : 0)));
    alone.forEach((a, k) => a.loss.backward(Tensor.full(g, [], seeds[k])));
    const lossBits = await bits(loss),
      probBits = await bits(prob),
      gradBits = await bits(x.grad!);
    for (let k = 0; k < 2; k++) {
      assert.is(lossBits[k], (await bits(alone[k].loss))[0], `loss ${k}`);
      assert.is(probBits[k], (await bits(alone[k].prob))[0], `prob ${k}`);
      assert.equal(gradBits.slice(k * B, (k + 1) * B), await bits(halves[k].grad!), `gradient of group ${k}`);
    }
  });

test('bceWithLogitsAndProb refuses groups that do not divide the logits, and targets with a gradient or of another size', () => {
  const x = Tensor.from(cpu, [0.5, -1, 2, 0], [4, 1]);
  assert.throws(() => F.bceWithLogitsAndProb(x, Tensor.full(cpu, [1], 1), 3), /3 groups do not divide 4 logits/);
  assert.throws(() => F.bceWithLogitsAndProb(x, Tensor.full(cpu, [2], 1), 2), /one per logit \(4\) or one for all/);
  assert.throws(() => F.bceWithLogitsAndProb(x, Tensor.full(cpu, [4], 1).setRequiresGrad(), 2), /without gradient/);
});

test('bceWithLogits with a general broadcast: the loss over the broadcast pairs, the probability over the logits', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const x = Tensor.from(be, [0.5, -1, 2], [3, 1]);
    const t = Tensor.from(be, [0, 1], [1, 2]); // [3, 2] after broadcasting
    const { loss, prob } = F.bceWithLogitsAndProb(x, t);
    const want = [0.5, -1, 2].flatMap((a) =>
      [0, 1].map((b) => Math.max(a, 0) - a * b + Math.log1p(Math.exp(-Math.abs(a)))),
    );
    assertClose(await loss.toArray(), [want.reduce((s, v) => s + v) / 6], 1e-6, `${be.name}: loss`);
    assertClose(
      await prob.toArray(),
      [[0.5, -1, 2].reduce((s, a) => s + 1 / (1 + Math.exp(-a)), 0) / 3],
      1e-6,
      `${be.name}: prob`,
    );
  }
});

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
  const l = await F.softmaxCrossEntropyRows(
    Tensor.from(g, [1, 2, 3], [1, 3]),
    Tensor.from(g, [3], [1], 'i32'),
  ).toArray();
  assert.ok(Number.isNaN(l[0]));
});

test('argmaxMatch: GPU equals CPU, ties go to the first maximum', async () => {
  const g = await gpuBackend();
  const N = 65,
    C = 10;
  const logits = Array.from({ length: N * C }, (_, i) => ((i * 37) % 11) / 3); // plenty of ties
  const labels = Array.from({ length: N }, (_, i) => (i * 3) % C);
  const want = await F.argmaxMatch(Tensor.from(cpu, logits, [N, C]), Tensor.from(cpu, labels, [N], 'i32')).toArray();
  const got = await F.argmaxMatch(Tensor.from(g, logits, [N, C]), Tensor.from(g, labels, [N], 'i32')).toArray();
  assert.equal([...got], [...want]);
  assert.ok(want.some((v) => v === 1) && want.some((v) => v === 0));
  // row [1, 3, 3]: first maximum is index 1
  assert.equal(
    [
      ...(await F.argmaxMatch(
        Tensor.from(g, [1, 3, 3, 1, 3, 3], [2, 3]),
        Tensor.from(g, [1, 2], [2], 'i32'),
      ).toArray()),
    ],
    [1, 0],
  );
});

test.run();
