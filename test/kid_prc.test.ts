// kid_prc.test.ts — KID and improved precision/recall (src/eval/kid_prc.ts) and the dot-product tiles under them
// (src/eval/pairwise.ts), against known answers and brute force: KID on tiny sets worked by hand (the 1/d in the
// kernel, the unbiased within-set sums), KID's every subset value against a direct sum over the same subsets (tile
// edges, several 32-bit mask words), ≈ 0 for a set against itself and huge for far-apart sets; precision = recall
// = 1 for a set against (a shuffled copy of) itself, 0 for far-apart sets, the paper's ≤ at a zero radius, and
// both against a brute-force k-NN (sorted direct distances) for several k; refusals of bad sizes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator } from '../src/autograd/random.js';
import { forEachDotTile, rowsOf, TILE } from '../src/eval/pairwise.js';
import { kid, kidPrc, kidSubsets, precisionRecall } from '../src/eval/kid_prc.js';

const gauss = (n: number, dim: number, seed: number, shift = 0) =>
  new Generator(seed).normal(n * dim).map((v) => v + shift);
const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
type Rows = ArrayLike<number>;

/** unbiased MMD² with k(x, y) = (x·y/d + 1)³ over the given rows, by the definition */
function mmd2(x: Rows, xi: ArrayLike<number>, y: Rows, yi: ArrayLike<number>, d: number): number {
  const k = (a: Rows, i: number, b: Rows, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += a[i * d + t] * b[j * d + t];
    return (s / d + 1) ** 3;
  };
  const m = xi.length;
  let xx = 0,
    yy = 0,
    xy = 0;
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) {
      if (a !== b) {
        xx += k(x, xi[a], x, xi[b]);
        yy += k(y, yi[a], y, yi[b]);
      }
      xy += k(x, xi[a], y, yi[b]);
    }
  return xx / (m * (m - 1)) + yy / (m * (m - 1)) - (2 * xy) / (m * m);
}

/** precision and recall by sorting every row's direct distances */
function bruteForcePrc(g: Rows, r: Rows, d: number, k: number): { precision: number; recall: number } {
  const rows = (x: Rows) =>
    Array.from({ length: x.length / d }, (_, i) => Array.from({ length: d }, (_, t) => x[i * d + t]));
  const G = rows(g),
    R = rows(r);
  const dist = (a: number[], b: number[]) => a.reduce((s, v, t) => s + (v - b[t]) ** 2, 0);
  // each row's k-th smallest distance to the other rows
  const radius = (S: number[][]) =>
    S.map(
      (a, i) =>
        S.filter((_, j) => j !== i)
          .map((b) => dist(a, b))
          .sort((p, q) => p - q)[k - 1],
    );
  const rg = radius(G),
    rr = radius(R);
  const precision = G.filter((a) => R.some((b, j) => dist(a, b) <= rr[j])).length / G.length;
  const recall = R.filter((b) => G.some((a, i) => dist(a, b) <= rg[i])).length / R.length;
  return { precision, recall };
}

test('dot tiles: every pair once (upper: j > i from tiles with j0 ≥ i0), each the plain dot product', () => {
  for (const [nx, ny, dim] of [
    [TILE * 2 + 3, TILE + 5, 7],
    [5, 3, 1],
    [TILE, TILE, 4],
  ]) {
    const x = rowsOf(gauss(nx, dim, 1), dim, 'x'),
      y = rowsOf(gauss(ny, dim, 2), dim, 'y');
    const seen = new Float64Array(nx * ny).fill(NaN);
    forEachDotTile(x, y, dim, false, (i0, i1, j0, j1, dots) => {
      for (let i = i0; i < i1; i++)
        for (let j = j0; j < j1; j++) {
          assert.ok(Number.isNaN(seen[i * ny + j]), `pair ${i},${j} twice`);
          seen[i * ny + j] = dots[(i - i0) * TILE + j - j0];
        }
    });
    for (let i = 0; i < nx; i++)
      for (let j = 0; j < ny; j++) {
        let s = 0;
        for (let t = 0; t < dim; t++) s += x[i * dim + t] * y[j * dim + t];
        assert.is(seen[i * ny + j], s, `dot ${i},${j} (${nx}×${ny}×${dim})`);
      }
    let pairs = 0;
    forEachDotTile(x, x, dim, true, (i0, i1, j0, j1) => {
      assert.ok(j0 >= i0);
      for (let i = i0; i < i1; i++) pairs += Math.max(0, j1 - Math.max(j0, i + 1));
    });
    assert.is(pairs, (nx * (nx - 1)) / 2, 'upper pairs');
  }
  assert.throws(() => rowsOf([1, 2, 3], 2, 'features'), /3 values are not a whole number of 2-d rows/);
  assert.throws(() => rowsOf([1, NaN], 1, 'features'), /non-finite feature NaN in row 1/);
});

test('KID on tiny sets worked by hand', () => {
  // d = 1: X = {0, 1}, Y = {2, 3}: k(0,1) = 1, k(2,3) = 7³ = 343, cross 1 + 1 + 27 + 64 = 93
  //   MMD² = 2·1/2 + 2·343/2 − 2·93/4 = 297.5
  const a = kid([0, 1], [2, 3], 1, { subsets: 3, subsetSize: 2 });
  assert.equal(a.values, [297.5, 297.5, 297.5]);
  assert.equal([a.mean, a.std, a.subsetSize], [297.5, 0, 2]);
  // d = 2: X = {(1,0), (0,1)}, Y = {(2,0), (0,2)}: within-set kernels (0/2 + 1)³ = 1, cross (2/2 + 1)³ = 8 twice
  //   and 1 twice: MMD² = 1 + 1 − 2·18/4 = −7 (negative: the estimate is unbiased, not a squared norm)
  const b = kid([1, 0, 0, 1], [2, 0, 0, 2], 2, { subsets: 1 });
  assert.is(b.mean, -7);
  assert.equal([b.subsetSize, b.requestedSize], [2, 1000], 'the size capped at the sets');
});

test('KID: each subset value equals the definition summed over the same subsets (tile edges, two mask words)', () => {
  for (const [nG, nR, dim, subsets, size] of [
    [150, 131, 5, 7, 40],
    [70, 90, 3, 45, 12],
    [9, 9, 2, 4, 9],
  ]) {
    const g = gauss(nG, dim, 3, 0.3),
      r = gauss(nR, dim, 4);
    const res = kid(g, r, dim, { subsets, subsetSize: size, seed: 11 });
    const draw = kidSubsets(nG, nR, subsets, size, 11);
    assert.is(res.values.length, subsets);
    for (let s = 0; s < subsets; s++) {
      for (const [rows, n] of [
        [draw.generated[s], nG],
        [draw.real[s], nR],
      ] as const) {
        assert.is(new Set(rows).size, size, 'rows drawn without replacement');
        assert.ok(rows.every((i) => i >= 0 && i < n));
      }
      close(res.values[s], mmd2(g, draw.generated[s], r, draw.real[s], dim), 1e-11, `subset ${s} of ${nG}/${nR}`);
    }
    const mean = res.values.reduce((a, v) => a + v, 0) / subsets;
    close(res.mean, mean, 1e-12, 'mean');
    close(res.std, Math.sqrt(res.values.reduce((a, v) => a + (v - mean) ** 2, 0) / subsets), 1e-9, 'population std');
  }
  // seeded: the same seed the same subsets, another seed others
  const g = gauss(60, 4, 5),
    r = gauss(60, 4, 6);
  const values = (seed: number) => kid(g, r, 4, { subsets: 5, subsetSize: 20, seed }).values;
  assert.equal(values(2), values(2));
  assert.not.equal(values(2), values(3));
});

test('KID ≈ 0 for a set against itself, and far from 0 for shifted and far-apart sets', () => {
  const dim = 8;
  const x = gauss(1000, dim, 7);
  // two samples of one distribution: 0 in expectation. The same set twice: subsets drawn from it independently
  // pair a row with itself in the cross sum only, a bias of −2(mean k(x, x) − mean k(x, x'))/n ≈ −0.02 here.
  // A biased estimate (the diagonal k(x, x) in the within-set sums) would sit near +0.2 in both.
  const twin = kid(gauss(1000, dim, 17), x, dim, { subsets: 50, subsetSize: 100 });
  const self = kid(x, x, dim, { subsets: 50, subsetSize: 100 });
  const shifted = kid(gauss(1000, dim, 8, 1), x, dim, { subsets: 50, subsetSize: 100 });
  assert.ok(Math.abs(twin.mean) < 0.02 && Math.abs(twin.mean) < twin.std, `two samples: ${twin.mean} ± ${twin.std}`);
  assert.ok(Math.abs(self.mean) < 0.05 && Math.abs(self.mean) < 2 * self.std, `self: ${self.mean} ± ${self.std}`);
  assert.ok(shifted.mean > 1 && shifted.mean > 5 * shifted.std, `shifted: ${shifted.mean} ± ${shifted.std}`);
  const far = kid(gauss(200, dim, 9, 1000), x, dim, { subsets: 10, subsetSize: 100 });
  assert.ok(far.mean > 1e15, `far apart: ${far.mean}`);
});

test('precision and recall: 1 against itself, 0 for far-apart sets, ≤ at a zero radius', () => {
  const dim = 6;
  const x = gauss(150, dim, 12);
  const perm = new Generator(1).permutation(150);
  const shuffled = new Float64Array(x.length);
  perm.forEach((p, i) => shuffled.set(x.subarray(p * dim, (p + 1) * dim), i * dim));
  for (const y of [x, shuffled]) {
    const r = precisionRecall(y, x, dim);
    assert.equal([r.precision, r.recall, r.fScore, r.k], [1, 1, 1, 3]);
  }
  const far = precisionRecall(gauss(80, dim, 13, 100), x, dim);
  assert.equal([far.precision, far.recall, far.fScore], [0, 0, 0]);
  // four real copies of one point: its 3rd-nearest radius is 0, and a generated row exactly there is inside (≤)
  const real = [5, 5, 5, 5, 0, 1, 2, 3, 4, 6].flatMap((v) => [v, 0]);
  const gen = [
    [5, 0],
    [50, 0],
    [60, 0],
    [70, 0],
    [80, 0],
  ].flat();
  const r = precisionRecall(gen, real, 2);
  assert.is(r.precision, 1 / 5);
});

test('precision and recall equal a brute-force k-NN on overlapping sets (k = 1, 3, 5), with KID alongside', () => {
  const dim = 4;
  const g = gauss(140, dim, 21, 0.6),
    r = gauss(97, dim, 22);
  for (const k of [1, 3, 5]) {
    const { kid: kd, prc } = kidPrc(g, r, dim, { kid: { subsets: 4, subsetSize: 30 }, prc: { k } });
    const want = bruteForcePrc(g, r, dim, k);
    assert.equal([prc!.precision, prc!.recall], [want.precision, want.recall], `k = ${k}`);
    const inside = (v: number) => v > 0.05 && v < 0.95;
    assert.ok(
      inside(prc!.precision) && inside(prc!.recall),
      `k = ${k}: a case that fails both ways: ${JSON.stringify(prc)}`,
    );
    close(prc!.fScore, (2 * want.precision * want.recall) / (want.precision + want.recall), 1e-15, 'F-score');
    const alone = kid(g, r, dim, { subsets: 4, subsetSize: 30 }).values;
    assert.equal(kd!.values, alone, 'KID the same with precision/recall in the pass');
  }
});

test('bad sizes and options are refused with what to change', () => {
  const x = gauss(10, 2, 1);
  assert.throws(() => kid(x, [1, 2, 3], 2), /real features: 3 values are not a whole number of 2-d rows/);
  assert.throws(() => kid(x, x, 2, { subsets: 0 }), /subsets must be an integer ≥ 1/);
  assert.throws(() => kid(x, x, 2, { subsetSize: 1 }), /subset size must be an integer ≥ 2/);
  assert.throws(() => kid(x, [1, 2], 2), /KID needs at least 2 generated and 2 real rows, got 10 and 1/);
  assert.throws(() => precisionRecall(x, x, 2, { k: 0 }), /k must be an integer ≥ 1/);
  const few = gauss(3, 2, 2);
  assert.throws(() => precisionRecall(x, few, 2), /needs more than 3 rows in each set, got 10 generated and 3 real/);
});

test.run();
