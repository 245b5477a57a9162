// adam.test.ts — 100 fused GPU Adam/AdamW steps equal the float64 CPU reference; the first step's size; init.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import { Generator } from '../src/autograd/random.js';
import type { Backend } from '../src/autograd/backend.js';
import { Adam, AdamW, AdamOptions } from '../src/nn/optim.js';
import * as init from '../src/nn/init.js';
import { cpu, gpuBackend, randomData, relError, toF32 } from './harness.js';

/** 100 steps with the same seeded gradients (f32-rounded) on one backend; returns the final parameters */
async function runFixed(be: Backend, Opt: typeof Adam, opts: AdamOptions): Promise<Float64Array[]> {
  const shapes = [[17, 3], [65, 3], [1]];
  const params = shapes.map((s, i) => Tensor.from(be, toF32(randomData(s.reduce((a, b) => a * b, 1), 50 + i)), s).setRequiresGrad());
  const opt = new Opt(params, opts);
  for (let step = 0; step < 100; step++) {
    opt.zeroGrad();
    params.forEach((p, i) => (p.grad = Tensor.from(be, toF32(randomData(p.size, 1000 * step + i, -1, 1)), p.shape)));
    opt.step();
  }
  opt.zeroGrad();
  return Promise.all(params.map(async (p) => Float64Array.from(await p.toArray())));
}

/** 100 steps of a tiny regression on one backend (gradients computed there); returns the final parameters */
async function run(be: Backend, Opt: typeof Adam, opts: AdamOptions): Promise<Float64Array[]> {
  const shapes = [[17, 3], [3], [1]];
  const params = shapes.map((s, i) => Tensor.from(be, toF32(randomData(s.reduce((a, b) => a * b, 1), 50 + i)), s).setRequiresGrad());
  const x = Tensor.from(be, toF32(randomData(65 * 17, 60)), [65, 17]);
  const y = Tensor.from(be, toF32(randomData(65 * 3, 61)), [65, 3]);
  const opt = new Opt(params, opts);
  for (let step = 0; step < 100; step++) {
    tidy(() => {
      const pred = F.add(F.mul(F.linear(x, params[0], params[1]), params[2]), 0.1);
      const loss = F.mean(F.square(F.sub(pred, y)));
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  }
  return Promise.all(params.map(async (p) => Float64Array.from(await p.toArray())));
}

for (const [name, Opt, opts] of [
  ['Adam', Adam, { lr: 1e-2 }],
  ['Adam with L2 weight decay', Adam, { lr: 1e-2, weightDecay: 0.1 }],
  ['AdamW', AdamW, { lr: 1e-2, weightDecay: 0.1 }],
  ['Adam β1 0.5 (GAN setting)', Adam, { lr: 2e-4, betas: [0.5, 0.999] }],
] as [string, typeof Adam, AdamOptions][])
{
  test(`${name}: 100 fused GPU steps equal the float64 reference within 1e-5 (same gradients)`, async () => {
    const want = await runFixed(cpu, Opt, opts);
    const got = await runFixed(await gpuBackend(), Opt, opts);
    // relative to the parameters' scale (max(1, max|w|); they start in [−1, 1]): an f32 parameter near 1 is
    // rounded (ulp 1.2e-7) at each of the 100 updates, so a value that ends near 0 carries that absolute error
    want.forEach((w, i) => {
      let scale = 1, worst = 0;
      w.forEach((v, k) => {
        scale = Math.max(scale, Math.abs(v));
        worst = Math.max(worst, Math.abs(got[i][k] - v) || (Number.isNaN(got[i][k]) ? Infinity : 0));
      });
      const e = worst / scale;
      assert.ok(e <= 1e-5, `parameter ${i}: relative error ${e.toExponential(2)}`);
    });
  });
  // end to end, gradients differ by f32 rounding and Adam's 1/√v amplifies that for tiny gradients
  test(`${name}: 100 training steps of a regression agree with the reference within 1e-3`, async () => {
    const want = await run(cpu, Opt, opts);
    const got = await run(await gpuBackend(), Opt, opts);
    want.forEach((w, i) => {
      const e = relError(got[i], w, 1e-2);
      assert.ok(e <= 1e-3, `parameter ${i}: relative error ${e.toExponential(2)}`);
    });
  });
}

test('the first Adam step moves each parameter by lr·sign(g) (bias correction)', async () => {
  for (const be of [cpu, await gpuBackend()]) {
    const p = Tensor.from(be, [1, -2, 3], [3]).setRequiresGrad();
    p.grad = Tensor.from(be, [0.5, -4, 1e-3], [3]);
    new Adam([p], { lr: 0.1, eps: 1e-12 }).step();
    const v = await p.toArray();
    [0.9, -1.9, 2.9].forEach((w, i) => assert.ok(Math.abs(v[i] - w) < 1e-5, `${be.name}: ${v[i]} vs ${w}`));
  }
});

test('parameters without a gradient are left alone; AdamW decays them only when stepped', async () => {
  const be = await gpuBackend();
  const a = Tensor.from(be, [1, 1], [2]).setRequiresGrad();
  const b = Tensor.from(be, [1, 1], [2]).setRequiresGrad();
  a.grad = Tensor.from(be, [0, 0], [2]);
  new AdamW([a, b], { lr: 0.1, weightDecay: 0.5 }).step();
  assert.equal([...(await b.toArray())], [1, 1]);
  const av = await a.toArray();
  assert.ok(Math.abs(av[0] - 0.95) < 1e-6, `decoupled decay: ${av[0]}`);
});

test('initialisers: seeded, bounded, GPU identical to CPU', async () => {
  const g = await gpuBackend();
  const a = await init.heUniform(g, [64, 1, 3, 3], 9, new Generator(3)).toArray();
  const b = await init.heUniform(cpu, [64, 1, 3, 3], 9, new Generator(3)).toArray();
  assert.ok(a.every((v, i) => v === Math.fround(b[i])));
  const lim = Math.sqrt(6 / 9);
  assert.ok(a.every((v) => Math.abs(v) <= Math.fround(lim))); // f32 rounding is monotonic
  const n = await init.normal(cpu, [20000], new Generator(4), 0, 0.02).toArray();
  const vals = [...n];
  const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
  const std = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length);
  assert.ok(Math.abs(mean) < 1e-3 && Math.abs(std - 0.02) < 1e-3, `mean ${mean} std ${std}`);
  const gl = await init.glorotUniform(cpu, [100, 50], 100, 50, new Generator(5)).toArray();
  assert.ok(gl.every((v) => Math.abs(v) <= Math.sqrt(6 / 150)));
  assert.equal(init.fans([32, 16, 3, 3]), { fanIn: 144, fanOut: 288 });
});

test.run();
