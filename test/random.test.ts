// random.test.ts — the counter-based RNG (bit-identical integers on GPU and CPU, determinism, moments) and dropout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Generator } from '../src/autograd/random.js';
import { Tensor } from '../src/autograd/tensor.js';
import { checkOp, cpu, gpuBackend } from './harness.js';

for (const n of [1, 17, 1000, 65537]) {
  test(`uniform n=${n}: GPU equals CPU exactly, same seed → same numbers`, async () => {
    const g = await gpuBackend();
    const a = await F.randomUniform(g, [n], new Generator(42)).toArray();
    const b = await F.randomUniform(g, [n], new Generator(42)).toArray();
    const c = await F.randomUniform(cpu, [n], new Generator(42)).toArray();
    assert.equal([...a], [...b]);
    for (let i = 0; i < n; i++) if (a[i] !== c[i]) assert.unreachable(`element ${i}: GPU ${a[i]} CPU ${c[i]}`);
  });
  test(`normal n=${n}: GPU vs CPU within f32 rounding`, async () => {
    const g = await gpuBackend();
    const a = await F.randomNormal(g, [n], new Generator(7)).toArray();
    const c = await F.randomNormal(cpu, [n], new Generator(7)).toArray();
    // Box–Muller in f32 (log, cos of 2πu) is accurate to a few 1e-6 absolute for unit normals
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(a[i] - c[i]) || (Number.isNaN(a[i]) ? Infinity : 0));
    assert.ok(worst <= 2e-5, `max |GPU − CPU| = ${worst}`);
  });
}

test('different seeds and successive calls give different streams', async () => {
  const gen = new Generator(1);
  const a = await F.randomUniform(cpu, [64], gen).toArray();
  const b = await F.randomUniform(cpu, [64], gen).toArray();
  const c = await F.randomUniform(cpu, [64], new Generator(2)).toArray();
  assert.ok(a.some((v, i) => v !== b[i]) && a.some((v, i) => v !== c[i]));
});

test('uniform and normal moments (200k draws)', async () => {
  const g = await gpuBackend();
  const u = await F.randomUniform(g, [200000], new Generator(3)).toArray();
  const z = await F.randomNormal(g, [200000], new Generator(4), 1, 2).toArray();
  const m = (a: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i];
    return s / a.length;
  };
  const mu = m(u),
    mz = m(z);
  const vz = m(Array.from(z, (v) => (v - mz) ** 2));
  assert.ok(Math.abs(mu - 0.5) < 0.005, `uniform mean ${mu}`);
  assert.ok(u.every((v) => v >= 0 && v < 1));
  assert.ok(Math.abs(mz - 1) < 0.02 && Math.abs(vz - 4) < 0.06, `normal mean ${mz} var ${vz}`);
});

test("truncatedNormal: inside the bounds, the same draws as normal() where those were inside, a truncated normal's variance", () => {
  const n = 200000;
  const plain = new Generator(11).normal(n);
  assert.equal([...new Generator(11).truncatedNormal(n, Infinity)], [...plain], 'no bound: normal()');
  // variance of N(0, 1) truncated to [−t, t]: 1 − 2tφ(t)/(2Φ(t) − 1)
  for (const [t, variance] of [
    [1, 0.291125],
    [0.5, 0.080589],
  ]) {
    const v = new Generator(11).truncatedNormal(n, t);
    assert.equal([...v], [...new Generator(11).truncatedNormal(n, t)], 'deterministic');
    let inside = 0,
      redrawn = 0,
      ss = 0,
      sum = 0;
    for (let i = 0; i < n; i++) {
      if (!(Math.abs(v[i]) <= t)) assert.unreachable(`element ${i} = ${v[i]} outside ±${t}`);
      if (Math.abs(plain[i]) <= t) {
        inside++;
        if (v[i] !== plain[i]) assert.unreachable(`element ${i} was inside ±${t} and changed`);
      } else redrawn++;
      ss += v[i] * v[i];
      sum += v[i];
    }
    assert.ok(inside > 0 && redrawn > 0);
    assert.ok(
      Math.abs(sum / n) < 0.005 && Math.abs(ss / n - variance) < 0.004 * variance + 0.001,
      `t ${t}: mean ${sum / n}, variance ${ss / n} (want ${variance})`,
    );
  }
  assert.throws(() => new Generator(1).truncatedNormal(4, 0), /threshold must be > 0/);
});

test('Generator permutation is a seeded permutation', () => {
  const p = new Generator(9).permutation(100);
  assert.equal(
    [...p].sort((a, b) => a - b),
    [...Array(100).keys()],
  );
  assert.equal([...p], [...new Generator(9).permutation(100)]);
});

for (const shape of [
  [3, 17],
  [65, 7],
])
  test(`dropout p=0.3 ${JSON.stringify(shape)} (same mask forward and backward)`, () =>
    checkOp({ name: 'dropout', inputs: [{ shape }], fn: ([x]) => F.dropout(x, 0.3, new Generator(5)) }));

test('dropout keeps about 1−p and scales by 1/(1−p); eval mode is identity', async () => {
  const g = await gpuBackend();
  const x = Tensor.full(g, [100000], 1);
  const y = await F.dropout(x, 0.25, new Generator(11)).toArray();
  const kept = y.filter((v) => v !== 0);
  assert.ok(Math.abs(kept.length / y.length - 0.75) < 0.01, `kept ${kept.length / y.length}`);
  assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6));
  const e = await F.dropout(x, 0.25, new Generator(11), false).toArray();
  assert.ok(e.every((v) => v === 1));
});

test('randomInt: GPU equals CPU exactly, values cover [0, high) evenly', async () => {
  const g = await gpuBackend();
  const a = await F.randomInt(g, [20000], 10, new Generator(8)).toArray();
  const c = await F.randomInt(cpu, [20000], 10, new Generator(8)).toArray();
  assert.equal([...a], [...c]);
  const counts = new Array(10).fill(0);
  for (const v of a) counts[v]++;
  assert.ok(
    counts.every((k) => Math.abs(k - 2000) < 200),
    `counts ${counts}`,
  );
  assert.throws(() => F.randomInt(cpu, [3], 300, new Generator(1)), /high must be/);
});

test('no index is special: element 0 of many streams looks like any other element', async () => {
  // a regression test: an earlier hash made element 0 of every stream exactly 0
  const g = new Generator(123);
  let zeros = 0;
  let big = 0;
  for (let s = 0; s < 200; s++) {
    const u = await F.randomUniform(cpu, [2], g).toArray();
    const z = await F.randomNormal(cpu, [2], g).toArray();
    if (u[0] === 0) zeros++;
    if (Math.abs(z[0]) > 4) big++;
  }
  assert.is(zeros, 0);
  assert.ok(big <= 1, `${big} of 200 first normals beyond 4σ`);
});

test.run();
