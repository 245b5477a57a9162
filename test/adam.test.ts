// adam.test.ts — 100 fused GPU Adam/AdamW steps equal the float64 CPU reference, multi-tensor (adamMulti over arenas)
// and per parameter; the two GPU paths agree bit for bit; odd sizes across 256-byte slot boundaries; gradients land
// in their arena slots (in place, accumulated, added in place by the kernels, set by hand, a second backward); the
// first step's size; init.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import { Generator } from '../src/autograd/random.js';
import { arenaLayout, type Backend } from '../src/autograd/backend.js';
import { Adam, AdamW, type AdamOptions } from '../src/nn/optim.js';
import * as init from '../src/nn/init.js';
import { BatchNorm, Conv2d, ConvTranspose2d, Embedding, Linear } from '../src/nn/layers.js';
import type { GpuBackend } from '../src/kernels/backend.js';
import { cpu, gpuBackend, randomData, relError, toF32 } from './harness.js';

/** 100 steps with the same seeded gradients (f32-rounded) on one backend; returns the final parameters */
async function runFixed(
  be: Backend,
  Opt: typeof Adam,
  opts: AdamOptions,
  shapes = [[17, 3], [65, 3], [1]],
): Promise<Float64Array[]> {
  const params = shapes.map((s, i) =>
    Tensor.from(
      be,
      toF32(
        randomData(
          s.reduce((a, b) => a * b, 1),
          50 + i,
        ),
      ),
      s,
    ).setRequiresGrad(),
  );
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
  const params = shapes.map((s, i) =>
    Tensor.from(
      be,
      toF32(
        randomData(
          s.reduce((a, b) => a * b, 1),
          50 + i,
        ),
      ),
      s,
    ).setRequiresGrad(),
  );
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

/** each parameter's error relative to its scale (max(1, max|w|)); NaN (an element never written) is Infinity */
function assertWithin(got: Float64Array[], want: Float64Array[], tol: number): void {
  // parameters start in [−1, 1]: an f32 parameter near 1 is rounded (ulp 1.2e-7) at each of the 100 updates, so
  // a value that ends near 0 carries that absolute error
  want.forEach((w, i) => {
    let scale = 1,
      worst = 0;
    w.forEach((v, k) => {
      scale = Math.max(scale, Math.abs(v));
      worst = Math.max(worst, Math.abs(got[i][k] - v) || (Number.isNaN(got[i][k]) ? Infinity : 0));
    });
    const e = worst / scale;
    assert.ok(e <= tol, `parameter ${i} (${w.length} values): relative error ${e.toExponential(2)}`);
  });
}

for (const [name, Opt, opts] of [
  ['Adam', Adam, { lr: 1e-2 }],
  ['Adam with L2 weight decay', Adam, { lr: 1e-2, weightDecay: 0.1 }],
  ['AdamW', AdamW, { lr: 1e-2, weightDecay: 0.1 }],
  ['Adam β1 0.5 (GAN setting)', Adam, { lr: 2e-4, betas: [0.5, 0.999] }],
] as [string, typeof Adam, AdamOptions][]) {
  for (const multiTensor of [true, false])
    test(`${name}, ${multiTensor ? 'multi-tensor (adamMulti)' : 'per parameter (adam)'}: 100 fused GPU steps equal the float64 reference within 1e-5 (same gradients)`, async () => {
      const o = { ...opts, multiTensor };
      assertWithin(await runFixed(await gpuBackend(), Opt, o), await runFixed(cpu, Opt, o), 1e-5);
    });
  // odd sizes on both sides of the 64-element (256-byte) slot boundaries, and one spanning several workgroups
  test(`${name}: adamMulti over 12 tensors of odd sizes (1 … 1000, around 64 and 256) equals the reference and the per-parameter path`, async () => {
    const shapes = [[1], [3], [17], [63], [64], [65], [5, 13], [255], [256], [257], [3, 171], [1000]];
    const gpu = await gpuBackend();
    const multi = await runFixed(gpu, Opt, { ...opts, multiTensor: true }, shapes);
    assertWithin(multi, await runFixed(cpu, Opt, { ...opts, multiTensor: true }, shapes), 1e-5);
    // the same arithmetic per element: the GPU's two paths agree bit for bit
    const single = await runFixed(gpu, Opt, { ...opts, multiTensor: false }, shapes);
    multi.forEach((w, i) =>
      assert.ok(
        w.every((v, k) => Object.is(v, single[i][k])),
        `parameter ${i} (${w.length} values): multi-tensor and per-parameter results differ`,
      ),
    );
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

test('arena layout: slots at multiples of 64 elements (256 bytes), at least one block each, in order', () => {
  const { slots, total } = arenaLayout([1, 64, 65, 0, 256, 3]);
  assert.equal(
    slots.map((s) => s.offset),
    [0, 64, 128, 256, 320, 576],
  );
  assert.equal(
    slots.map((s) => s.n),
    [1, 64, 65, 0, 256, 3],
  );
  assert.is(total, 640);
});

test('multi-tensor: parameters without a gradient (first, middle, last) are left alone, the others equal the per-parameter path', async () => {
  const be = await gpuBackend();
  const shapes = [[3], [65], [1], [257], [17]];
  const final = async (multiTensor: boolean) => {
    const ps = shapes.map((s, i) => Tensor.from(be, toF32(randomData(s[0], 70 + i)), s).setRequiresGrad());
    const opt = new AdamW(ps, { lr: 0.05, weightDecay: 0.1, multiTensor });
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      // parameters 0, 2 and 4 never get a gradient; 1 and 3 on every step
      for (const i of [1, 3])
        ps[i].grad = Tensor.from(be, toF32(randomData(ps[i].size, 90 + 10 * step + i)), ps[i].shape);
      opt.step();
    }
    const out = await Promise.all(ps.map((p) => p.toArray()));
    opt.dispose();
    for (const p of ps) p.dispose();
    return out;
  };
  const multi = await final(true);
  const single = await final(false);
  shapes.forEach((s, i) => {
    if (i % 2 === 0) assert.equal([...multi[i]], [...toF32(randomData(s[0], 70 + i))], `parameter ${i} changed`);
    assert.ok(
      multi[i].every((v, k) => Object.is(v, single[i][k])),
      `parameter ${i} differs between the paths`,
    );
  });
});

test('multi-tensor: gradients are written into their arena slots (once, accumulated, or a second backward) and match the per-parameter path', async () => {
  const be = await gpuBackend();
  const run = async (multiTensor: boolean) => {
    const w = Tensor.from(be, toF32(randomData(17 * 3, 1)), [17, 3]).setRequiresGrad();
    const b = Tensor.from(be, toF32(randomData(3, 2)), [3]).setRequiresGrad();
    const u = Tensor.from(be, toF32(randomData(3 * 5, 3)), [3, 5]).setRequiresGrad();
    const x = Tensor.from(be, toF32(randomData(65 * 17, 4)), [65, 17]);
    const opt = new Adam([w, b, u], { lr: 1e-2, multiTensor });
    const inSlot: boolean[] = [];
    tidy(() => {
      opt.zeroGrad();
      // w and b once each (linear); u twice in one pass (the sum is written into the slot)
      const h = F.linear(x, w, b);
      F.mean(F.add(F.matmul(h, u), F.matmul(F.tanh(h), u))).backward();
      for (const p of [w, b, u]) inSlot.push(!!p.gradSlot && p.grad!.store === p.gradSlot.store);
      // a second backward adds to .grad (here not in place: a slot is never both read and written by one kernel)
      F.mean(F.matmul(F.linear(x, w, b), u)).backward();
      opt.step();
    });
    const out = await Promise.all([w, b, u].map((p) => p.toArray()));
    opt.dispose();
    for (const t of [w, b, u, x]) t.dispose();
    return { out, inSlot };
  };
  const multi = await run(true);
  const single = await run(false);
  assert.equal(multi.inSlot, [true, true, true], 'gradients of the first backward in place');
  assert.equal(single.inSlot, [false, false, false]);
  multi.out.forEach((v, i) =>
    assert.ok(
      v.every((x, k) => Object.is(x, single.out[i][k])),
      `parameter ${i} differs between the paths`,
    ),
  );
});

test('multi-tensor: a parameter used twice gets its second gradient added in its slot (linear, conv, transposed conv, batchnorm, embedding): no add dispatch, same bits as the per-parameter path', async () => {
  const be = await gpuBackend();
  const run = async (multiTensor: boolean) => {
    const gen = new Generator(5);
    const layers = {
      emb: new Embedding(be, 10, 49, gen),
      up: new ConvTranspose2d(be, 1, 2, 3, gen, { stride: 2, padding: 'same' }),
      conv: new Conv2d(be, 2, 3, 3, gen, { padding: 'same' }),
      bn: new BatchNorm(be, 3),
      fc: new Linear(be, 3 * 14 * 14, 4, gen),
    };
    const params = Object.values(layers).flatMap((l) => l.parameters());
    const opt = new Adam(params, { lr: 1e-2, multiTensor });
    const forward = (labels: number[]) => {
      const e = F.reshape(layers.emb.forward(Tensor.from(be, labels, [3], 'i32')), [3, 1, 7, 7]);
      const h = layers.bn.forward(layers.conv.forward(layers.up.forward(e)), { activation: 'leaky_relu' });
      return F.mean(F.square(layers.fc.forward(F.reshape(h, [3, -1]))));
    };
    const gpu = (be as GpuBackend).gpu;
    let dispatches = 0;
    tidy(() => {
      opt.zeroGrad();
      const loss = F.add(forward([1, 7, 4]), forward([2, 2, 9]));
      // count the backward's kernels without the harness's poisoning fills (one per new buffer)
      gpu.poison = false;
      const before = gpu.counters.dispatches;
      loss.backward();
      dispatches = gpu.counters.dispatches - before;
      gpu.poison = true;
      opt.step();
    });
    const inSlot = params.map((p) => !!p.gradSlot && p.grad!.store === p.gradSlot.store);
    const out = await Promise.all(params.flatMap((p) => [p.toArray(), p.grad!.toArray()]));
    opt.dispose();
    for (const l of Object.values(layers)) l.dispose();
    return { out, inSlot, dispatches, count: params.length };
  };
  const multi = await run(true);
  const single = await run(false);
  assert.ok(multi.inSlot.every(Boolean), `gradients in their slots: ${multi.inSlot}`);
  assert.is(single.dispatches - multi.dispatches, multi.count, 'one add dispatch saved per parameter');
  multi.out.forEach((v, i) =>
    assert.ok(
      v.every((x, k) => Object.is(x, single.out[i][k])),
      `parameter or gradient ${i >> 1} differs between the paths`,
    ),
  );
});

test('multi-tensor: moments and parameters read and assign through their slots (checkpoint names unchanged)', async () => {
  const be = await gpuBackend();
  const ps = [
    Tensor.from(be, [1, 2, 3], [3]).setRequiresGrad(),
    Tensor.from(be, toF32(randomData(70, 5)), [7, 10]).setRequiresGrad(),
  ];
  const opt = new Adam(ps, { lr: 0.1 });
  ps.forEach((p) => (p.grad = Tensor.full(be, p.shape, 0.5)));
  opt.step();
  const st = opt.stateTensors(['a', 'b']);
  assert.equal(Object.keys(st), ['optim.m.a', 'optim.v.a', 'optim.m.b', 'optim.v.b']);
  assert.equal(st['optim.v.b'].shape, [7, 10]);
  const m = await st['optim.m.b'].toArray();
  assert.ok(
    m.every((x) => Math.abs(x - 0.05) < 1e-7),
    `m = (1 − β1)·g: ${m[0]}`,
  );
  st['optim.m.a'].assign([7, 8, 9]);
  ps[0].assign([4, 5, 6]);
  assert.equal([...(await st['optim.m.a'].toArray())], [7, 8, 9]);
  assert.equal([...(await ps[0].toArray())], [4, 5, 6]);
  assert.equal((await st['optim.m.b'].toArray()).length, 70, 'the neighbouring slot is untouched');
  assert.ok((await st['optim.m.b'].toArray()).every((x) => Math.abs(x - 0.05) < 1e-7));
  opt.dispose();
  for (const p of ps) {
    p.grad?.dispose();
    p.dispose();
  }
});

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
