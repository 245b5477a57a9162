// autograd.test.ts — the tape: scalar backward, accumulation across calls, noGrad, detach, zeroGrad-style reset,
// tidy scopes, an intermediate's second gradient added in place by the kernel that makes it, and errors for misuse.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, backwardAll, keep, noGrad, tidy } from '../src/autograd/tensor.js';
import { checkOp, cpu, gpuBackend } from './harness.js';

test('backward from a scalar: d/dx Σ x² = 2x', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const x = Tensor.from(be, [1, -2, 3], [3]).setRequiresGrad();
    F.sum(F.square(x)).backward();
    assert.equal([...(await x.grad!.toArray())], [2, -4, 6]);
  }
});

test('gradients accumulate over two backward calls and reset when cleared', async () => {
  const be = await gpuBackend();
  const x = Tensor.from(be, [1, 2], [2]).setRequiresGrad();
  F.sum(F.mul(x, 3)).backward();
  F.sum(F.mul(x, 3)).backward();
  assert.equal([...(await x.grad!.toArray())], [6, 6]);
  x.grad!.dispose();
  x.grad = null;
  F.sum(x).backward();
  assert.equal([...(await x.grad!.toArray())], [1, 1]);
});

test('noGrad records nothing; detach cuts the tape', async () => {
  const x = Tensor.from(cpu, [1, 2], [2]).setRequiresGrad();
  const y = noGrad(() => F.mul(x, 2));
  assert.is(y.requiresGrad, false);
  assert.throws(() => F.sum(y).backward(), /does not require grad/);
  const z = F.add(F.mul(x.detach(), x), 0); // d/dx (c·x) with c = x held constant = c
  F.sum(z).backward();
  assert.equal([...(await x.grad!.toArray())], [1, 2]);
});

test('backward without a gradient on a non-scalar is an error', () => {
  const x = Tensor.from(cpu, [1, 2], [2]).setRequiresGrad();
  assert.throws(() => F.mul(x, 2).backward(), /pass the output gradient/);
});

test('tidy frees temporaries, keeps results and leaf gradients', async () => {
  const be = await gpuBackend();
  const w = Tensor.from(be, [0.5, -1], [2]).setRequiresGrad();
  const before = be.gpu.pool.stats().liveBytes;
  const loss = tidy(() => {
    const a = F.mul(w, 2);
    const b = F.exp(a);
    const l = F.sum(b);
    l.backward();
    return l;
  });
  assert.ok(!loss.disposed && w.grad && !w.grad.disposed);
  const after = be.gpu.pool.stats().liveBytes;
  // live now: the loss (1 element) and w.grad (2 elements), each one smallest buffer
  assert.is(after - before, 2 * 256);
  loss.dispose();
  const inner = tidy(() => keep(F.mul(w, 1)));
  assert.ok(!inner.disposed);
  inner.dispose();
  assert.throws(() => inner.toArray(), /used after dispose/);
});

// two dense heads on one intermediate h (the AC-GAN discriminator's real/fake and class heads): the second head's
// matmul adds its input gradient to h's first one in place (GradOut on an intermediate), instead of an add
test('two linear heads on one intermediate: the second input gradient added in place (three ways)', () =>
  checkOp({
    name: 'linear',
    inputs: [{ shape: [17, 5] }, { shape: [5, 1] }, { shape: [5, 3] }, { shape: [3] }],
    fn: ([x, w1, w2, b2]) => {
      const h = F.tanh(x);
      return F.concat([F.linear(h, w1), F.linear(h, w2, b2), F.mul(h, 2)], 1);
    },
  }));

test('add(h, h): both halves of the gradient count (one gradient passed through to one input twice)', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const x = Tensor.from(be, [0.5, -1], [2]).setRequiresGrad();
    F.add(F.mul(x, 1), F.mul(x, 1)).backward(Tensor.from(be, [1, 1], [2]));
    const h = F.mul(x, 3);
    F.add(h, h).backward(Tensor.from(be, [1, 1], [2]));
    assert.equal([...(await x.grad!.toArray())], [8, 8], be.name); // 2 from the first pass, 6 from the second
  }
});

test('an intermediate gradient held twice is not added to in place', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const x = Tensor.from(be, [0.5, -1, 2, 0.25], [2, 2]).setRequiresGrad();
    const w = Tensor.from(be, [1, 2, 3, 4], [2, 2]);
    const h = F.mul(x, 1); // an intermediate
    // add(h, h): one gradient handed to h twice (two handles on one storage); then the linear's gradient of h
    const y = F.add(F.add(h, h), F.linear(h, w));
    y.backward(Tensor.from(be, [1, 1, 1, 1], [2, 2]));
    // dy/dh = 2 + (1·wᵀ) row sums: each row of g·wᵀ is [1 + 2, 3 + 4] = [3, 7]
    assert.equal([...(await x.grad!.toArray())], [5, 9, 5, 9], be.name);
  }
});

test('ops reject mismatched shapes and backends with clear messages', async () => {
  const a = Tensor.from(cpu, [1, 2, 3], [3]);
  const b = Tensor.from(cpu, [1, 2], [2]);
  assert.throws(() => F.add(a, b), /do not broadcast/);
  assert.throws(() => F.matmul(Tensor.from(cpu, [1, 2], [1, 2]), Tensor.from(cpu, [1, 2, 3], [3, 1])), /do not match/);
  const g = await gpuBackend();
  assert.throws(() => F.add(a, Tensor.from(g, [1, 2, 3], [3])), /mix backends/);
  assert.throws(() => Tensor.from(cpu, [1, 2, 3], [2, 2]), /3 values for shape \[2, 2\]/);
});

// backwardAll: several roots at once = backward from their sum (without computing it), on both backends; a root
// that is an input of another gets its seed and the other's gradient; misuse is refused before anything runs
test('backwardAll([a, b, c]) gives the gradients of (a + b + c).backward(), one add kernel fewer per extra root', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const run = async (all: boolean) => {
      const x = Tensor.from(be, [0.5, -1.5, 2, 3], [2, 2]).setRequiresGrad();
      const w = Tensor.from(be, [1, 2, -1, 0.25], [2, 2]).setRequiresGrad();
      const h = F.matmul(x, w);
      const a = F.sum(F.mul(h, h));
      const b = F.mean(F.relu(h));
      const c = F.sum(F.mul(a, b)); // depends on a and b: roots that are inputs of another root
      const d0 = be.kind === 'gpu' ? (be as Awaited<ReturnType<typeof gpuBackend>>).gpu.counters.dispatches : 0;
      if (all) backwardAll([a, b, c]);
      else F.add(F.add(a, b), c).backward();
      const dispatches =
        be.kind === 'gpu' ? (be as Awaited<ReturnType<typeof gpuBackend>>).gpu.counters.dispatches - d0 : 0;
      return { gx: Array.from(await x.grad!.toArray()), gw: Array.from(await w.grad!.toArray()), dispatches };
    };
    const one = await run(false),
      all = await run(true);
    for (const k of ['gx', 'gw'] as const)
      one[k].forEach((v, i) =>
        assert.ok(
          Math.abs(v - all[k][i]) <= 1e-5 * Math.max(1, Math.abs(v)),
          `${be.name} ${k}[${i}]: ${all[k][i]} vs ${v}`,
        ),
      );
    if (be.kind === 'gpu')
      assert.ok(all.dispatches < one.dispatches, `fewer dispatches: ${all.dispatches} vs ${one.dispatches}`);
  }
});

test('backwardAll: seeds, and misuse (no roots, a root twice, a root without grad, a non-scalar without a seed)', async () => {
  const x = Tensor.from(cpu, [1, 2, 3], [3]).setRequiresGrad();
  const y = F.mul(x, x);
  const s = F.sum(x);
  backwardAll([y, s], [Tensor.from(cpu, [1, 0, 2], [3]), undefined]); // d/dx: 2x·seed + 1
  assert.equal(Array.from(await x.grad!.toArray()), [3, 1, 13]);
  assert.throws(() => backwardAll([]), /no roots/);
  assert.throws(() => backwardAll([s, s]), /root 1 is listed twice/);
  assert.throws(() => backwardAll([s, Tensor.from(cpu, [1], [1])]), /root 1: this tensor does not require grad/);
  assert.throws(() => backwardAll([s, y]), /root 1: tensor has 3 elements; pass the output gradient/);
});

test.run();
