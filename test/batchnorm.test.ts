// batchnorm.test.ts — batch normalisation: training and eval mode three ways (checkOp), the forward against a
// formula written out here, the fused statistics + running update primitive (batchnormStatsRunning) against the
// reference, the fused activation/dropout epilogue (GPU vs reference, and bit for bit equal to the unfused ops;
// batchnormGrad through it in one kernel or two, the same bits),
// the same epilogue alone (activationDropout), the previous layer's ReLU applied on input (inputRelu), the parameter
// gradients added to their outputs, the running statistics against a hand-run update, numerical stability, misuse.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor } from '../src/autograd/tensor.js';
import type { Backend, BatchnormAccumulate } from '../src/autograd/backend.js';
import type { Generator } from '../src/autograd/random.js';
import {
  type InputSpec,
  assertClose,
  checkAccumulate,
  checkOp,
  cpu,
  gpuBackend,
  randomData,
  toF32,
} from './harness.js';
import * as bnKernels from '../src/kernels/batchnorm.js';

/** x, gamma, beta, runningMean, runningVar for C channels (running stats: plain tensors, no grad) */
function inputs(shape: number[], lo = -1, hi = 1): InputSpec[] {
  const C = shape[1];
  return [
    { shape, lo, hi },
    { shape: [C], lo: 0.5, hi: 1.5 },
    { shape: [C] },
    { shape: [C], grad: false },
    { shape: [C], lo: 0.5, hi: 1.5, grad: false },
  ];
}

const shapes = [
  [3, 17, 5, 5],
  [1, 3, 13, 13],
  [3, 3, 13, 13],
  [5, 17],
  [3, 17, 5],
];
for (const shape of shapes) {
  test(`batchnorm training ${JSON.stringify(shape)}`, () =>
    checkOp({
      name: 'batchnorm',
      inputs: inputs(shape),
      fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training: true }),
    }));
  test(`batchnorm eval ${JSON.stringify(shape)}`, () =>
    checkOp({
      name: 'batchnorm',
      inputs: inputs(shape),
      fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training: false }),
    }));
}
// N = 2 with L = 1, the smallest batch training accepts: x̂ = ±d/√(d² + eps), and gx ∝ 1 − x̂² = eps/(d² + eps)
// is a cancellation that costs f32 a few 1e-4 relative; x̂(d) also bends sharply where d ~ √eps, so the finite
// differences' step (1e-3) leaves a truncation error near 1e-6: the reference is checked at 1e-5 here
test('batchnorm training [2,3] (two values per channel)', () =>
  checkOp({
    name: 'batchnorm',
    inputs: inputs([2, 3]),
    tol: 1e-3,
    fdTol: 1e-5,
    fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training: true }),
  }));
test('batchnorm training, eps 1e-3 (Keras), no running statistics', () =>
  checkOp({
    name: 'batchnorm',
    inputs: inputs([3, 17, 5, 5]).slice(0, 3),
    fn: ([x, g, b]) => F.batchnorm(x, g, b, null, null, { training: true, eps: 1e-3 }),
  }));
test('batchnorm eval, eps 1e-3', () =>
  checkOp({
    name: 'batchnorm',
    inputs: inputs([1, 17, 5, 5]),
    fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training: false, eps: 1e-3 }),
  }));

// x = 1000 + u, u in [0, 1): a one-pass E[x²] − E[x]² in f32 loses the whole variance (≈ 1/12) to rounding of
// terms near 1e6; the two-pass kernel keeps it to f32 accuracy. The batch variance is observed through the running
// variance with momentum 1 (running var = unbiased batch var).
test('batchnorm batch variance is accurate for a large mean (two-pass statistics)', async () => {
  const [N, C, L] = [3, 17, 25];
  const x = [...toF32(randomData(N * C * L, 77, 1000, 1001))];
  const want: number[] = [];
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) vals.push(x[(n * C + c) * L + l]);
    const mu = vals.reduce((a, v) => a + v, 0) / vals.length;
    want.push(vals.reduce((a, v) => a + (v - mu) ** 2, 0) / (vals.length - 1));
  }
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const rm = Tensor.zeros(be, [C]),
      rv = Tensor.zeros(be, [C]);
    F.batchnorm(Tensor.from(be, x, [N, C, L]), Tensor.full(be, [C], 1), Tensor.zeros(be, [C]), rm, rv, {
      training: true,
      momentum: 1,
    });
    assertClose(await rv.toArray(), want, be.kind === 'cpu' ? 1e-12 : 1e-4, `${be.name} batch variance`);
  }
});
// the output at x ≈ 100: (x − mean) inherits the f32 spacing of x there (7.6e-6), a few 1e-4 of the floor
test('batchnorm training output for a large mean', () =>
  checkOp({
    name: 'batchnorm',
    inputs: inputs([3, 17, 5, 5], 100, 101),
    skipFd: true,
    tol: 3e-3,
    fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training: true }),
  }));

/** the forward written out: per channel over N·L, biased variance */
function formula(
  x: ArrayLike<number>,
  [N, C, L]: number[],
  gamma: number[],
  beta: number[],
  stats?: [number[], number[]],
  eps = 1e-5,
): number[] {
  const y = new Array<number>(x.length);
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) vals.push(x[(n * C + c) * L + l]);
    const mu = stats ? stats[0][c] : vals.reduce((a, v) => a + v, 0) / vals.length;
    const v = stats ? stats[1][c] : vals.reduce((a, u) => a + (u - mu) ** 2, 0) / vals.length;
    for (let n = 0; n < N; n++)
      for (let l = 0; l < L; l++)
        y[(n * C + c) * L + l] = ((x[(n * C + c) * L + l] - mu) / Math.sqrt(v + eps)) * gamma[c] + beta[c];
  }
  return y;
}

test('batchnorm forward (training and eval) equals the formula on both backends', async () => {
  const shape = [3, 4, 2, 3];
  const x = [...toF32(randomData(72, 5, -2, 3))];
  const gamma = [0.5, 1, 1.5, -2],
    beta = [0.25, 0, -1, 2];
  const rm = [0.5, -0.25, 1, 0],
    rv = [1, 2, 0.5, 4];
  for (const be of [cpu, await gpuBackend()]) {
    const t = (a: number[], s = [4]) => Tensor.from(be, a, s);
    const yt = await F.batchnorm(t(x, shape), t(gamma), t(beta), t(rm), t(rv), { training: true }).toArray();
    assertClose(yt, formula(x, [3, 4, 6], gamma, beta), be.kind === 'cpu' ? 1e-12 : 1e-5, `${be.name} training`);
    const ye = await F.batchnorm(t(x, shape), t(gamma), t(beta), t(rm), t(rv), {
      training: false,
      eps: 1e-3,
    }).toArray();
    assertClose(
      ye,
      formula(x, [3, 4, 6], gamma, beta, [rm, rv], 1e-3),
      be.kind === 'cpu' ? 1e-12 : 1e-5,
      `${be.name} eval`,
    );
  }
});

// the fused statistics + running update primitive on its own, odd shapes: every output written (GPU buffers are
// poisoned), statistics equal batchnormStats' bit for bit, running statistics equal the float64 reference
for (const [N, C, L] of [
  [1, 3, 17],
  [3, 17, 65],
  [2, 1, 1],
  [65, 5, 3],
  [17, 65, 1],
  [3, 257, 2],
])
  test(`batchnormStatsRunning [${N}, ${C}, ${L}]: statistics and running statistics equal the reference`, async () => {
    const d = { N, C, L };
    const x = toF32(randomData(N * C * L, 7 + C, -2, 3));
    const rm0 = toF32(randomData(C, 8, -1, 1)),
      rv0 = toF32(randomData(C, 9, 0.5, 2));
    const momentum = 0.3;
    const run = async (be: Backend) => {
      const t = (a: ArrayLike<number>) => Tensor.from(be, a, [a.length]);
      const [xt, rm, rv] = [t(x), t(rm0), t(rv0)];
      const [mean, variance, mean2, var2] = [0, 1, 2, 3].map(() => Tensor.empty(be, [C]));
      be.batchnormStatsRunning(xt.store, mean.store, variance.store, rm.store, rv.store, d, momentum);
      be.batchnormStats(xt.store, mean2.store, var2.store, d);
      return Promise.all([mean, variance, rm, rv, mean2, var2].map((a) => a.toArray()));
    };
    const want = await run(cpu);
    const got = await run(await gpuBackend());
    ['mean', 'variance', 'running mean', 'running variance'].forEach((what, k) =>
      assertClose(got[k], want[k], 1e-5, `GPU ${what}`),
    );
    assert.equal([...got[0]], [...got[4]], 'mean as batchnormStats');
    assert.equal([...got[1]], [...got[5]], 'variance as batchnormStats');
    // the CPU reference's own running update, written out
    const M = N * L;
    for (let c = 0; c < C; c++) {
      assert.ok(Math.abs(want[2][c] - ((1 - momentum) * rm0[c] + momentum * want[0][c])) < 1e-12);
      assert.ok(Math.abs(want[3][c] - ((1 - momentum) * rv0[c] + (momentum * want[1][c] * M) / (M - 1))) < 1e-12);
    }
  });

test('running mean/var after three training calls equal a hand-run PyTorch-style update (CPU and GPU)', async () => {
  const [N, C, H, W] = [3, 17, 5, 5];
  const L = H * W,
    M = N * L,
    momentum = 0.3;
  const batches = [0, 1, 2].map((k) => [...toF32(randomData(N * C * L, 40 + k, -1 + k, 2 + 2 * k))]);
  // expected: running = (1 − m)·running + m·batch, with the unbiased variance for var; PyTorch's initial 0 and 1
  const em = new Array<number>(C).fill(0),
    ev = new Array<number>(C).fill(1);
  for (const xb of batches)
    for (let c = 0; c < C; c++) {
      const vals: number[] = [];
      for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) vals.push(xb[(n * C + c) * L + l]);
      const mu = vals.reduce((a, v) => a + v, 0) / M;
      const unbiased = vals.reduce((a, v) => a + (v - mu) ** 2, 0) / (M - 1);
      em[c] = (1 - momentum) * em[c] + momentum * mu;
      ev[c] = (1 - momentum) * ev[c] + momentum * unbiased;
    }
  for (const be of [cpu, await gpuBackend()] as Backend[]) {
    const rm = Tensor.zeros(be, [C]);
    const rv = Tensor.full(be, [C], 1);
    const gamma = Tensor.full(be, [C], 1).setRequiresGrad();
    const beta = Tensor.zeros(be, [C]).setRequiresGrad();
    for (const xb of batches)
      F.batchnorm(Tensor.from(be, xb, [N, C, H, W]), gamma, beta, rm, rv, { training: true, momentum }).dispose();
    const tol = be.kind === 'cpu' ? 1e-12 : 1e-5;
    assertClose(await rm.toArray(), em, tol, `${be.name} running mean`);
    assertClose(await rv.toArray(), ev, tol, `${be.name} running var`);
    // eval mode normalises by exactly these statistics
    const x = batches[0];
    const y = await F.batchnorm(Tensor.from(be, x, [N, C, H, W]), gamma, beta, rm, rv, { training: false }).toArray();
    assertClose(
      y,
      formula(x, [N, C, L], new Array(C).fill(1), new Array(C).fill(0), [em, ev]),
      be.kind === 'cpu' ? 1e-12 : 1e-5,
      `${be.name} eval output`,
    );
  }
});

// the fused epilogue: activation and dropout in batchnorm_apply, their gradient in batchnorm_epilogue_grad
type Fuse = Pick<F.BatchnormOptions, 'activation' | 'alpha' | 'dropout'>;
const EPILOGUES: [string, Fuse][] = [
  ['relu', { activation: 'relu' }],
  ['leaky_relu 0.2', { activation: 'leaky_relu', alpha: 0.2 }],
  ['leaky_relu 0.2 + dropout 0.5', { activation: 'leaky_relu', alpha: 0.2, dropout: { p: 0.5, key: 12345 } }],
  ['dropout 0.3', { dropout: { p: 0.3, key: 777 } }],
];
// the CPU reference's gradients are checked against finite differences through the unfused ops below
for (const [what, fuse] of EPILOGUES)
  for (const training of [true, false])
    for (const shape of [
      [3, 17, 5, 5],
      [5, 17],
      [1, 3, 13, 13],
    ])
      test(`batchnorm + ${what} (${training ? 'training' : 'eval'}) ${JSON.stringify(shape)}: GPU equals the reference`, () =>
        checkOp({
          name: 'batchnorm',
          inputs: inputs(shape),
          skipFd: true,
          fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training, ...fuse }),
        }));

/** forward and the gradients of x, gamma and beta (and the running statistics) of `fn` on one backend */
async function bnRun(
  be: Backend,
  shape: number[],
  fn: (x: Tensor, g: Tensor, b: Tensor, rm: Tensor, rv: Tensor) => Tensor,
) {
  const C = shape[1];
  const t = (n: number, seed: number, lo: number, hi: number, s: readonly number[] = [C]) =>
    Tensor.from(be, toF32(randomData(n, seed, lo, hi)), s);
  const x = t(
    shape.reduce((a, d) => a * d, 1),
    1,
    -1,
    1,
    shape,
  ).setRequiresGrad();
  const g = t(C, 2, 0.5, 1.5).setRequiresGrad(),
    b = t(C, 3, -1, 1).setRequiresGrad();
  const rm = t(C, 4, -1, 1),
    rv = t(C, 5, 0.5, 1.5);
  const y = fn(x, g, b, rm, rv);
  y.backward(t(y.size, 6, -1, 1, y.shape));
  return Promise.all([y, x.grad!, g.grad!, b.grad!, rm, rv].map((u) => u.toArray()));
}

for (const [what, fuse] of EPILOGUES)
  test(`batchnorm + ${what} fused equals the unfused ops bit for bit (CPU and GPU, training and eval)`, async () => {
    for (const be of [cpu, await gpuBackend()] as Backend[])
      for (const training of [true, false])
        for (const shape of [
          [3, 17, 5, 5],
          [65, 3],
        ]) {
          const opts = { training, momentum: 0.3 };
          const fused = await bnRun(be, shape, (x, g, b, rm, rv) => F.batchnorm(x, g, b, rm, rv, { ...opts, ...fuse }));
          const apart = await bnRun(be, shape, (x, g, b, rm, rv) => {
            let y = F.batchnorm(x, g, b, rm, rv, opts);
            if (fuse.activation === 'relu') y = F.relu(y);
            if (fuse.activation === 'leaky_relu') y = F.leakyRelu(y, fuse.alpha);
            // F.dropout with a generator whose next key is the fused op's key
            if (fuse.dropout) y = F.dropout(y, fuse.dropout.p, { nextKey: () => fuse.dropout!.key } as Generator, true);
            return y;
          });
          ['output', 'x gradient', 'gamma gradient', 'beta gradient', 'running mean', 'running var'].forEach(
            (name, k) =>
              assert.ok(
                fused[k].every((v, i) => Object.is(v, apart[k][i])),
                `${be.name} ${training ? 'training' : 'eval'} [${shape}]: ${name} differs`,
              ),
          );
        }
  });

// the parameter gradients added to their outputs' values (gamma, beta or both: a parameter's second gradient)
for (const acc of [{ gamma: true }, { beta: true }, { gamma: true, beta: true }] as BatchnormAccumulate[])
  test(`batchnormGrad adding to ${Object.keys(acc).join(' and ')} (training and eval) equals the reference`, async () => {
    const d = { N: 3, C: 17, L: 25 };
    const n = d.N * d.C * d.L;
    const data = [
      toF32(randomData(n, 71)),
      toF32(randomData(n, 72)),
      toF32(randomData(17, 73)),
      toF32(randomData(17, 74, 0.5, 2)),
      toF32(randomData(17, 75)),
    ];
    // `out` is the output checked; the other one starts from zeros
    for (const training of [true, false])
      for (const which of Object.keys(acc) as ('gamma' | 'beta')[])
        await checkAccumulate(`${which} (${training ? 'training' : 'eval'})`, 17, (be, out, on) => {
          const [x, g, mean, variance, gamma] = data.map((a) => be.upload(a, 'f32'));
          const [gx, other] = [be.alloc(n, 'f32'), be.alloc(17, 'f32')];
          be.fill(other, 17, 0);
          const [gg, gb] = which === 'gamma' ? [out, other] : [other, out];
          be.batchnormGrad(x, g, mean, variance, gamma, gx, gg, gb, d, 1e-5, training, on ? acc : {});
          for (const s of [x, g, mean, variance, gamma, gx, other]) be.free(s);
        });
  });

// batchnormGrad taking its gradient back through the epilogue (`through`): on the GPU one kernel (binding 9, the
// epilogue's output) where the device has 9 storage buffers per stage, else batchnorm_epilogue_grad first; both
// must give the same bits, and the CPU reference the same values
for (const [what, fuse] of EPILOGUES)
  test(`batchnormGrad through the ${what} epilogue: one kernel = two kernels bit for bit, and equals the reference`, async () => {
    const g = await gpuBackend();
    const gpu = g.gpu;
    assert.ok(gpu.limits.maxStorageBuffersPerShaderStage >= 9, 'this adapter runs the one-kernel form');
    const epi = {
      act: fuse.activation ?? 'none',
      alpha: fuse.alpha ?? 0,
      p: fuse.dropout?.p ?? 0,
      key: fuse.dropout?.key ?? 0,
    } as const;
    for (const [N, C, L] of [
      [3, 17, 25],
      [5, 3, 1],
      [2, 4, 169],
    ])
      for (const training of [true, false])
        for (const inputRelu of [false, true])
          for (const acc of [{}, { gamma: true, beta: true }] as BatchnormAccumulate[]) {
            const d = { N, C, L, inputRelu };
            const n = N * C * L;
            // y: the epilogue's output, with some exact zeros (dropped or clipped elements)
            const data = [
              randomData(n, 91),
              randomData(n, 92),
              randomData(C, 93),
              randomData(C, 94, 0.5, 2),
              randomData(C, 95),
              randomData(n, 96).map((v) => (v < -0.6 ? 0 : v)),
              randomData(C, 97),
              randomData(C, 98),
            ].map(toF32);
            const runGpu = async (one: boolean) => {
              const [x, gy, mean, variance, gamma, y, gg, gb] = data.map((a) => Tensor.from(g, a, [a.length]));
              const gx = Tensor.empty(g, [n]);
              const d0 = gpu.counters.dispatches;
              bnKernels.batchnormGrad(
                gpu,
                x.store as never,
                gy.store as never,
                mean.store as never,
                variance.store as never,
                gamma.store as never,
                gx.store as never,
                gg.store as never,
                gb.store as never,
                d,
                1e-5,
                training,
                acc,
                { y: y.store as never, epi },
                one,
              );
              const dispatches = gpu.counters.dispatches - d0;
              const out = await Promise.all([gx, gg, gb].map((t) => t.toArray()));
              for (const t of [x, gy, mean, variance, gamma, y, gg, gb, gx]) t.dispose();
              return { out, dispatches };
            };
            const one = await runGpu(true),
              two = await runGpu(false);
            const where = `[${N},${C},${L}] ${training ? 'training' : 'eval'} inputRelu=${inputRelu} acc=${JSON.stringify(acc)}`;
            assert.is(one.dispatches, 1, `one kernel ${where}`);
            ['gx', 'gGamma', 'gBeta'].forEach((name, k) =>
              assert.ok(
                one.out[k].every((v, i) => Object.is(v, two.out[k][i])),
                `${name} differs between one and two kernels ${where}`,
              ),
            );
            const [x, gy, mean, variance, gamma, y, gg, gb] = data.map((a) => cpu.upload(a, 'f32'));
            const gx = cpu.alloc(n, 'f32');
            cpu.batchnormGrad(x, gy, mean, variance, gamma, gx, gg, gb, d, 1e-5, training, acc, { y, epi });
            const want = await Promise.all([gx, gg, gb].map((s, k) => cpu.read(s, k ? C : n)));
            ['gx', 'gGamma', 'gBeta'].forEach((name, k) => assertClose(one.out[k], want[k], 1e-4, `${name} ${where}`));
          }
  });

// the epilogue alone (activation_dropout), on a tensor no batchnorm precedes; its gradient is batchnorm_epilogue_grad
for (const [what, fuse] of EPILOGUES)
  for (const shape of [[1], [3, 17, 5, 5], [65, 3]])
    test(`activationDropout ${what} ${JSON.stringify(shape)}: three ways`, () =>
      checkOp({
        name: 'activationDropout',
        inputs: [{ shape, gap: 0.02 }],
        fn: ([x]) => F.activationDropout(x, fuse),
      }));

for (const [what, fuse] of EPILOGUES)
  test(`activationDropout ${what} equals the unfused ops bit for bit (CPU and GPU)`, async () => {
    for (const be of [cpu, await gpuBackend()] as Backend[]) {
      const run = async (fn: (x: Tensor) => Tensor) => {
        const x = Tensor.from(be, toF32(randomData(3 * 17 * 25, 81)), [3, 17, 5, 5]).setRequiresGrad();
        const y = fn(x);
        y.backward(Tensor.from(be, toF32(randomData(y.size, 82)), y.shape));
        return Promise.all([y.toArray(), x.grad!.toArray()]);
      };
      const fused = await run((x) => F.activationDropout(x, fuse));
      const apart = await run((x) => {
        let y = x;
        if (fuse.activation === 'relu') y = F.relu(y);
        if (fuse.activation === 'leaky_relu') y = F.leakyRelu(y, fuse.alpha);
        if (fuse.dropout) y = F.dropout(y, fuse.dropout.p, { nextKey: () => fuse.dropout!.key } as Generator, true);
        return y;
      });
      ['output', 'x gradient'].forEach((name, k) =>
        assert.ok(
          fused[k].every((v, i) => Object.is(v, apart[k][i])),
          `${be.name}: ${name} differs`,
        ),
      );
    }
  });

// inputRelu: x read through relu (a convolution's ReLU moved into the batchnorm); its gradient is before the ReLU
for (const training of [true, false])
  for (const shape of [
    [3, 17, 5, 5],
    [5, 17],
    [1, 3, 13, 13],
  ])
    test(`batchnorm inputRelu (${training ? 'training' : 'eval'}) ${JSON.stringify(shape)}: three ways`, () =>
      checkOp({
        name: 'batchnorm',
        inputs: inputs(shape).map((s, k) => (k === 0 ? { ...s, gap: 0.02 } : s)),
        fdSamples: 16,
        fn: ([x, g, b, rm, rv]) => F.batchnorm(x, g, b, rm, rv, { training, inputRelu: true }),
      }));

test('batchnorm inputRelu equals batchnorm(relu(x)) bit for bit (CPU and GPU, training and eval, with an epilogue)', async () => {
  for (const be of [cpu, await gpuBackend()] as Backend[])
    for (const training of [true, false])
      for (const shape of [
        [3, 17, 5, 5],
        [65, 3],
      ]) {
        const opts = { training, momentum: 0.3, activation: 'leaky_relu' as const, dropout: { p: 0.5, key: 5 } };
        const fused = await bnRun(be, shape, (x, g, b, rm, rv) =>
          F.batchnorm(x, g, b, rm, rv, { ...opts, inputRelu: true }),
        );
        const apart = await bnRun(be, shape, (x, g, b, rm, rv) => F.batchnorm(F.relu(x), g, b, rm, rv, opts));
        ['output', 'x gradient', 'gamma gradient', 'beta gradient', 'running mean', 'running var'].forEach((name, k) =>
          assert.ok(
            fused[k].every((v, i) => Object.is(v, apart[k][i])),
            `${be.name} ${training ? 'training' : 'eval'} [${shape}]: ${name} differs`,
          ),
        );
      }
});

test('batchnorm epilogue misuse: a leaky_relu slope ≤ 0, dropout p outside [0, 1)', () => {
  const t = (s: number[]) => Tensor.zeros(cpu, s);
  const x = Tensor.from(cpu, toF32(randomData(12, 1)), [4, 3]);
  assert.throws(
    () => F.batchnorm(x, t([3]), t([3]), null, null, { training: true, activation: 'leaky_relu', alpha: 0 }),
    /slope > 0/,
  );
  assert.throws(
    () => F.batchnorm(x, t([3]), t([3]), null, null, { training: true, dropout: { p: 1, key: 1 } }),
    /dropout p/,
  );
});

test('batchnorm default momentum is 0.1; eval mode and noGrad leave the running statistics alone', async () => {
  const g = await gpuBackend();
  const x = Tensor.from(g, [1, 3, 5, 7], [4, 1]); // mean 4, unbiased var 20/3
  const one = Tensor.full(g, [1], 1),
    zero = Tensor.zeros(g, [1]);
  const rm = Tensor.zeros(g, [1]),
    rv = Tensor.full(g, [1], 1);
  F.batchnorm(x, one, zero, rm, rv, { training: true });
  assertClose(await rm.toArray(), [0.4], 1e-6, 'running mean');
  assertClose(await rv.toArray(), [0.9 + 0.1 * (20 / 3)], 1e-6, 'running var');
  F.batchnorm(x, one, zero, rm, rv, { training: false });
  assertClose(await rm.toArray(), [0.4], 1e-6, 'running mean after eval');
});

test('eval-mode backward uses the statistics of its forward even if a training call updates them in between', async () => {
  const shape = [3, 2, 2];
  const xd = [...toF32(randomData(12, 9))];
  const grads: number[][] = [];
  for (const interleave of [false, true]) {
    const rm = Tensor.from(cpu, [0.5, -0.5], [2]),
      rv = Tensor.from(cpu, [2, 0.5], [2]);
    const x = Tensor.from(cpu, xd, shape).setRequiresGrad();
    const gamma = Tensor.from(cpu, [1.5, 0.5], [2]),
      beta = Tensor.zeros(cpu, [2]);
    const y = F.batchnorm(x, gamma, beta, rm, rv, { training: false });
    if (interleave)
      F.batchnorm(
        Tensor.from(
          cpu,
          xd.map((v) => 10 * v + 3),
          shape,
        ),
        gamma,
        beta,
        rm,
        rv,
        { training: true, momentum: 0.9 },
      );
    F.sum(y).backward();
    grads.push([...(await x.grad!.toArray())]);
  }
  assert.equal(grads[1], grads[0]);
  // and that is g·gamma/√(runVar + eps) with g = 1
  const want: number[] = [];
  for (let n = 0; n < 3; n++)
    for (let c = 0; c < 2; c++)
      for (let l = 0; l < 2; l++) want.push(c === 0 ? 1.5 / Math.sqrt(2 + 1e-5) : 0.5 / Math.sqrt(0.5 + 1e-5));
  assertClose(grads[0], want, 1e-12, 'eval gx');
});

test('batchnorm misuse: one value per channel in training, eval without running stats, running stats with grad, bad shapes', () => {
  const g = Tensor.full(cpu, [3], 1),
    b = Tensor.zeros(cpu, [3]);
  const rm = Tensor.zeros(cpu, [3]),
    rv = Tensor.full(cpu, [3], 1);
  assert.throws(
    () => F.batchnorm(Tensor.zeros(cpu, [1, 3]), g, b, rm, rv, { training: true }),
    /more than one value per channel/,
  );
  assert.throws(
    () => F.batchnorm(Tensor.zeros(cpu, [2, 3]), g, b, null, null, { training: false }),
    /needs runningMean/,
  );
  assert.throws(
    () =>
      F.batchnorm(Tensor.zeros(cpu, [2, 3]), g, b, Tensor.zeros(cpu, [3]).setRequiresGrad(), rv, { training: true }),
    /must not require grad/,
  );
  assert.throws(
    () => F.batchnorm(Tensor.zeros(cpu, [2, 4]), g, b, rm, rv, { training: true }),
    /gamma must be f32 with 4 values/,
  );
  assert.throws(() => F.batchnorm(Tensor.zeros(cpu, [6]), g, b, rm, rv, { training: true }), /x must be f32/);
});

// the sliced path (hardware adapters, few long channels: batchnormSlices), forced here: statistics (plain and with
// the running update) and the gradient (plain, accumulating, after the previous layer's ReLU, through an epilogue
// with dropout; training and eval) against the float64 reference, with slices that do not divide M (2, 3, 7, 64,
// and more than M asks: chunk = ⌈M/slices⌉) and outputs poisoned. With groups (statistics per group of samples,
// G·C of them; the last rows), the same on both paths: a workgroup per channel (1 slice) and sliced.
const slicedCases: [number, number, number, number, number[]][] = [
  [3, 5, 169, 1, [2, 3, 7, 64]],
  [2, 1, 1000, 1, [2, 3, 7, 64]],
  [5, 3, 1, 1, [2, 3, 7, 64]],
  [1, 2, 7, 1, [2, 3, 7, 64]],
  [4, 5, 169, 2, [1, 3, 7]],
  [6, 3, 7, 3, [1, 2, 64]],
  [2, 1, 1000, 2, [1, 7]],
];
for (const [N, C, L, G, sliceCounts] of slicedCases)
  for (const slices of sliceCounts)
    test(`batchnorm sliced [${N}, ${C}, ${L}]${G > 1 ? ` in ${G} groups` : ''} in ${slices} slices per channel: statistics and gradient equal the reference`, async () => {
      const g = await gpuBackend();
      const gpu = g.gpu;
      const n = N * C * L,
        M = (N / G) * L,
        S = G * C; // S: statistics, one per group and channel
      const data = [randomData(n, 101, -2, 3), randomData(C, 102, -1, 1), randomData(C, 103, 0.5, 2)].map(toF32);
      // statistics: plain and with the running update (momentum 0.3)
      for (const inputRelu of [false, true]) {
        const d = { N, C, L, inputRelu, groups: G };
        const run = async (be: Backend, sliced: boolean) => {
          const t = (a: ArrayLike<number>) => Tensor.from(be, a, [a.length]);
          const [xt, rm, rv] = [t(data[0]), t(data[1]), t(data[2])];
          const [mean, variance, mean2, var2] = [0, 1, 2, 3].map(() => Tensor.empty(be, [S]));
          if (sliced) {
            bnKernels.batchnormStatsRunning(
              gpu,
              xt.store as never,
              mean.store as never,
              variance.store as never,
              rm.store as never,
              rv.store as never,
              d,
              0.3,
              slices,
            );
            bnKernels.batchnormStats(gpu, xt.store as never, mean2.store as never, var2.store as never, d, slices);
          } else {
            be.batchnormStatsRunning(xt.store, mean.store, variance.store, rm.store, rv.store, d, 0.3);
            be.batchnormStats(xt.store, mean2.store, var2.store, d);
          }
          return Promise.all([mean, variance, rm, rv, mean2, var2].map((a) => a.toArray()));
        };
        const want = await run(cpu, false),
          got = await run(g, true);
        ['mean', 'variance', 'running mean', 'running variance', 'mean (no running)', 'variance (no running)'].forEach(
          (what, k) => assertClose(got[k], want[k], 1e-5, `sliced ${what} inputRelu=${inputRelu}`),
        );
      }
      // gradient
      const epi = { act: 'leaky_relu', alpha: 0.2, p: 0.5, key: 4242 } as const;
      const gdata = [
        randomData(n, 111),
        randomData(n, 112),
        randomData(S, 113),
        randomData(S, 114, 0.5, 2),
        randomData(C, 115),
        randomData(n, 116).map((v) => (v < -0.6 ? 0 : v)),
        randomData(C, 117),
        randomData(C, 118),
      ].map(toF32);
      for (const training of [true, false])
        for (const inputRelu of [false, true])
          for (const acc of [{}, { gamma: true, beta: true }] as BatchnormAccumulate[])
            for (const through of [false, true]) {
              const d = { N, C, L, inputRelu, groups: G };
              const where = `${training ? 'training' : 'eval'} inputRelu=${inputRelu} acc=${JSON.stringify(acc)} through=${through}`;
              const [x, gy, mean, variance, gamma, y, gg, gb] = gdata.map((a) => Tensor.from(g, a, [a.length]));
              const gx = Tensor.empty(g, [n]);
              const d0 = gpu.counters.dispatches;
              bnKernels.batchnormGrad(
                gpu,
                x.store as never,
                gy.store as never,
                mean.store as never,
                variance.store as never,
                gamma.store as never,
                gx.store as never,
                gg.store as never,
                gb.store as never,
                d,
                1e-5,
                training,
                acc,
                through ? { y: y.store as never, epi } : null,
                true,
                slices,
              );
              const dispatches = gpu.counters.dispatches - d0;
              const got = await Promise.all([gx, gg, gb].map((t) => t.toArray()));
              for (const t of [x, gy, mean, variance, gamma, y, gg, gb, gx]) t.dispose();
              if (Math.min(slices, M) > 1)
                assert.ok(dispatches >= (through ? 3 : 2), `sliced (${dispatches} dispatches) ${where}`);
              const [cx, cgy, cmean, cvar, cgamma, cy, cgg, cgb] = gdata.map((a) => cpu.upload(a, 'f32'));
              const cgx = cpu.alloc(n, 'f32');
              cpu.batchnormGrad(
                cx,
                cgy,
                cmean,
                cvar,
                cgamma,
                cgx,
                cgg,
                cgb,
                d,
                1e-5,
                training,
                acc,
                through ? { y: cy, epi } : null,
              );
              const want = await Promise.all([cgx, cgg, cgb].map((st, k) => cpu.read(st, k ? C : n)));
              ['gx', 'gGamma', 'gBeta'].forEach((name, k) =>
                assertClose(got[k], want[k], 1e-4, `sliced ${name} ${where}`),
              );
            }
    });

// groups: checkOp (finite differences of the reference, GPU forward and backward vs the reference on poisoned outputs)
// (5 values per channel in a group where L = 1: with fewer the finite differences lose accuracy, see [2, 3] above)
for (const [shape, G] of [
  [[4, 3, 5, 5], 2],
  [[15, 17], 3],
  [[4, 5, 3], 4],
] as [number[], number][])
  test(`batchnorm training in ${G} groups ${JSON.stringify(shape)}`, () =>
    checkOp({
      name: 'batchnorm',
      inputs: inputs(shape),
      fn: ([x, g, b, rm, rv]) =>
        F.batchnorm(x, g, b, rm, rv, { training: true, groups: G, activation: 'leaky_relu', alpha: 0.2 }),
    }));

// the oracle for groups: a batch of G groups equals each group through the batchnorm alone, one after the other —
// outputs, running statistics (G updates in order), gradients of x, gamma and beta (the groups' sums) — in float64
test('batchnorm in groups equals each group alone, in turn (float64)', async () => {
  const [G, Ng, C, L] = [3, 2, 4, 5];
  const n = Ng * C * L;
  const x = randomData(G * n, 201, -2, 3),
    gy = randomData(G * n, 202);
  const gamma = randomData(C, 203, 0.5, 1.5),
    beta = randomData(C, 204);
  const rm0 = randomData(C, 205),
    rv0 = randomData(C, 206, 0.5, 2);
  const run = async (groups: boolean) => {
    const t = (a: ArrayLike<number>, shape: number[], grad = false) => {
      const r = Tensor.from(cpu, a, shape);
      return grad ? r.setRequiresGrad() : r;
    };
    const [g, b, rm, rv] = [t(gamma, [C], true), t(beta, [C], true), t(rm0, [C]), t(rv0, [C])];
    const xs = groups
      ? [t(x, [G * Ng, C, L], true)]
      : Array.from({ length: G }, (_, k) => t(x.slice(k * n, (k + 1) * n), [Ng, C, L], true));
    const gys = groups ? [gy] : Array.from({ length: G }, (_, k) => gy.slice(k * n, (k + 1) * n));
    const ys = xs.map((xi) => F.batchnorm(xi, g, b, rm, rv, { training: true, momentum: 0.3, groups: groups ? G : 1 }));
    // backward from Σ y·gy
    const loss = ys.map((y, k) => F.sum(F.mul(y, Tensor.from(cpu, gys[k], y.shape)))).reduce((a, v) => F.add(a, v));
    loss.backward();
    const cat = async (ts: Tensor[]) => (await Promise.all(ts.map((t) => t.toArray()))).flatMap((a) => [...a]);
    return {
      y: await cat(ys),
      gx: await cat(xs.map((xi) => xi.grad!)),
      gg: await cat([g.grad!]),
      gb: await cat([b.grad!]),
      rm: await cat([rm]),
      rv: await cat([rv]),
    };
  };
  const want = await run(false),
    got = await run(true);
  for (const k of ['y', 'gx', 'gg', 'gb', 'rm', 'rv'] as const)
    assertClose(got[k], want[k], 1e-12, `groups vs alone: ${k}`);
  // eval mode ignores groups (the running statistics for every sample)
  const t = (a: ArrayLike<number>, shape: number[]) => Tensor.from(cpu, a, shape);
  const ev = (groups: number) =>
    F.batchnorm(t(x, [G * Ng, C, L]), t(gamma, [C]), t(beta, [C]), t(rm0, [C]), t(rv0, [C]), {
      training: false,
      groups,
    }).toArray();
  assert.equal(await ev(G), await ev(1));
  assert.throws(
    () => F.batchnorm(t(x, [G * Ng, C, L]), t(gamma, [C]), t(beta, [C]), null, null, { training: true, groups: 4 }),
    /groups must be a whole number ≥ 1 that divides the batch/,
  );
  assert.throws(
    () =>
      F.batchnorm(t(x.slice(0, 6 * C), [6, C, 1]), t(gamma, [C]), t(beta, [C]), null, null, {
        training: true,
        groups: 6,
      }),
    /more than one value per channel in each group/,
  );
});

test('batchnorm slices per channel: hardware adapters only, few long channels, enough slices to fill a GPU', async () => {
  const g = await gpuBackend();
  const as = (software: boolean) => ({ adapter: { ...g.gpu.adapter, software } }) as unknown as typeof g.gpu;
  const hw = as(false),
    sw = as(true);
  assert.is(bnKernels.batchnormSlices(sw, { N: 64, C: 32, L: 784 }), 1, 'software: a workgroup per channel');
  assert.is(
    bnKernels.batchnormSlices(hw, { N: 64, C: 32, L: 784 }),
    9,
    "the CNN's first layers at batch 64: 32 × 9 = 288 workgroups",
  );
  assert.is(bnKernels.batchnormSlices(hw, { N: 256, C: 32, L: 784 }), 9);
  assert.is(
    bnKernels.batchnormSlices(hw, { N: 64, C: 64, L: 196 }),
    1,
    'M = 12 544 < 16 384: one workgroup per channel',
  );
  assert.is(bnKernels.batchnormSlices(hw, { N: 256, C: 192, L: 196 }), 2, "the generator's batchnorm at batch 256");
  assert.is(bnKernels.batchnormSlices(hw, { N: 64, C: 384, L: 49 }), 1, 'enough channels');
});

test.run();
