// ema.test.ts — the weight average: the emaUpdate kernel equals its float64 CPU reference on odd sizes and leaves
// the elements past n alone; Ema follows a network's optimizer (one kernel over the arena, or one per tensor) with
// the warmed-up decay, on the GPU as on the CPU; recalibrateBatchnorm makes running statistics the plain average of
// the batches' statistics and restores what it changed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../src/autograd/tensor.js';
import type { Backend } from '../src/autograd/backend.js';
import { Adam } from '../src/nn/optim.js';
import { Ema, recalibrateBatchnorm } from '../src/nn/ema.js';
import { Module } from '../src/nn/module.js';
import { BatchNorm } from '../src/nn/layers.js';
import { emaUpdateRef } from '../src/cpu/ema.js';
import { cpu, gpuBackend, randomData, toF32 } from './harness.js';

test('emaUpdate: GPU equals the float64 reference on sizes 1, 3, 17, 65, 300, 70000 and leaves the rest alone', async () => {
  const g = await gpuBackend();
  for (const n of [1, 3, 17, 65, 300, 70000]) {
    for (const decay of [0.5, 0.999]) {
      const avg0 = toF32(randomData(n + 5, n));
      const x = toF32(randomData(n + 5, n + 1));
      const avg = g.upload(avg0, 'f32');
      const xs = g.upload(x, 'f32');
      g.emaUpdate(avg, xs, n, decay);
      const got = await g.read(avg, n + 5, 'f32');
      const want = Float64Array.from(avg0);
      emaUpdateRef(want, x, n, decay);
      for (let i = 0; i < n; i++)
        assert.ok(
          Math.abs(got[i] - want[i]) <= 2e-7 * Math.max(1, Math.abs(want[i])),
          `n ${n} decay ${decay}: element ${i} ${got[i]} vs ${want[i]}`,
        );
      for (let i = n; i < n + 5; i++) assert.is(got[i], avg0[i], `element ${i} past n was written`);
      g.free(avg);
      g.free(xs);
    }
  }
});

test('emaUpdate reference: decay d gives d·avg + (1 − d)·x, and x = avg stays exactly', () => {
  const avg = Float64Array.from([1, -2, 4]);
  emaUpdateRef(avg, Float64Array.from([3, -2, 0]), 3, 0.75);
  assert.equal(Array.from(avg), [1.5, -2, 3]);
});

class Two extends Module {
  readonly a: Tensor;
  readonly b: Tensor;
  constructor(be: Backend, seed: number) {
    super();
    this.a = this.param('a', Tensor.from(be, toF32(randomData(17 * 3, seed)), [17, 3]));
    this.b = this.param('b', Tensor.from(be, toF32(randomData(65, seed + 1)), [65]));
  }
}

/** 5 Adam steps of net with fixed gradients, the average updated after each; the average's values and net's history */
async function follow(be: Backend, multiTensor: boolean): Promise<{ avg: number[][]; history: number[][][] }> {
  const net = new Two(be, 1);
  const opt = new Adam(net.parameters(), { lr: 0.1, multiTensor });
  const copy = new Two(be, 9);
  const ema = new Ema(opt, copy, 0.8);
  const history = [await Promise.all(net.parameters().map(async (p) => Array.from(await p.toArray())))];
  for (let s = 0; s < 5; s++) {
    net.parameters().forEach((p, i) => (p.grad = Tensor.from(be, toF32(randomData(p.size, 100 * s + i)), p.shape)));
    opt.step();
    opt.zeroGrad();
    ema.update();
    history.push(await Promise.all(net.parameters().map(async (p) => Array.from(await p.toArray()))));
  }
  assert.is(ema.updates, 5);
  return { avg: await Promise.all(copy.parameters().map(async (p) => Array.from(await p.toArray()))), history };
}

test('Ema follows the optimizer with decay min(d, (1 + t)/(10 + t)): arena and per-tensor paths, GPU and CPU', async () => {
  const g = await gpuBackend();
  for (const be of [cpu, g] as Backend[]) {
    for (const multi of [true, false]) {
      const { avg, history } = await follow(be, multi);
      // the average starts as the net's initial weights (not copy's own) and follows each step's weights
      const want = history[0].map((t) => [...t]);
      for (let t = 0; t < 5; t++) {
        const d = Math.min(0.8, (1 + t) / (10 + t));
        want.forEach((w, i) => w.forEach((v, k) => (w[k] = d * v + (1 - d) * history[t + 1][i][k])));
      }
      want.forEach((w, i) =>
        w.forEach((v, k) =>
          assert.ok(
            Math.abs(avg[i][k] - v) <= 1e-6,
            `${be.name} multi ${multi}: tensor ${i}[${k}] ${avg[i][k]} vs ${v}`,
          ),
        ),
      );
    }
  }
});

test('Ema refuses a target that does not match the network', () => {
  const net = new Two(cpu, 1);
  const opt = new Adam(net.parameters());
  class Other extends Module {
    constructor() {
      super();
      this.param('a', Tensor.zeros(cpu, [3, 17]));
      this.param('b', Tensor.zeros(cpu, [65]));
    }
  }
  assert.throws(() => new Ema(opt, new Other(), 0.99), /\[3,17\] in the average/);
  assert.throws(() => new Ema(opt, new Two(cpu, 2), 1), /decay 1 is not in \(0, 1\)/);
});

test("recalibrateBatchnorm: running statistics = the mean of the batches' statistics; momentum and mode restored", async () => {
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    class Net extends Module {
      readonly bn = this.child('bn', new BatchNorm(be, 3, { momentum: 0.1 }));
    }
    const net = new Net().eval();
    const batches = [0, 1, 2].map((k) => toF32(randomData(5 * 3 * 2 * 2, 40 + k, -2, 3)));
    recalibrateBatchnorm(net, 3, (k) => void net.bn.forward(Tensor.from(be, batches[k], [5, 3, 2, 2])));
    assert.is(net.bn.opts.momentum, 0.1, 'momentum restored');
    assert.is(net.training, false, 'eval mode restored');
    const mean = await net.bn.runningMean.toArray();
    const variance = await net.bn.runningVar.toArray();
    for (let c = 0; c < 3; c++) {
      let m = 0,
        v = 0;
      for (const b of batches) {
        const xs: number[] = [];
        for (let n = 0; n < 5; n++) for (let l = 0; l < 4; l++) xs.push(b[(n * 3 + c) * 4 + l]);
        const mu = xs.reduce((a, x) => a + x, 0) / xs.length;
        m += mu / 3;
        v += xs.reduce((a, x) => a + (x - mu) ** 2, 0) / (xs.length - 1) / 3; // unbiased, as the running variance
      }
      assert.ok(
        Math.abs(mean[c] - m) <= 1e-5 && Math.abs(variance[c] - v) <= 1e-5,
        `${be.name} channel ${c}: mean ${mean[c]} vs ${m}, var ${variance[c]} vs ${v}`,
      );
    }
  }
});

test('recalibrateBatchnorm restores momentum and mode when the forward pass throws', () => {
  class Net extends Module {
    readonly bn = this.child('bn', new BatchNorm(cpu, 2, { momentum: 0.3 }));
  }
  const net = new Net();
  assert.throws(
    () =>
      recalibrateBatchnorm(net, 2, () => {
        throw new Error('no data');
      }),
    /no data/,
  );
  assert.is(net.bn.opts.momentum, 0.3);
  assert.is(net.training, true);
});

test.run();
