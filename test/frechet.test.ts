// frechet.test.ts — the float64 Fréchet distance (src/eval/frechet.ts): the eigendecomposition reconstructs random
// symmetric matrices with orthonormal vectors; d² matches closed forms (diagonal covariances, equal covariances with
// shifted means, a scaled identity against a full covariance), is ≈ 0 for a set against itself (also with fewer
// samples than dimensions), and matches an eigen-free reference on random Gaussians: tr (Σ1 Σ2)^{1/2} by a coupled
// Newton–Schulz iteration in float64 (Σ1 Σ2 is similar to Σ1^{1/2} Σ2 Σ1^{1/2}, so the traces agree).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator } from '../src/autograd/random.js';
import {
  covariance,
  frechetDistance,
  frechetFeatures,
  gaussianOf,
  matmulSquare,
  mean,
  sqrtmSym,
  symmetricEigen,
  type SymMatrix,
} from '../src/eval/frechet.js';

function randomSymmetric(n: number, seed: number): SymMatrix {
  const g = new Generator(seed).normal(n * n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (g[i * n + j] + g[j * n + i]) / 2;
  return { n, data: a };
}
/** a random SPD matrix B Bᵀ / k + εI */
function randomSpd(n: number, seed: number, k = n + 3, eps = 1e-2): SymMatrix {
  const b = new Generator(seed).normal(n * k);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += b[i * k + t] * b[j * k + t];
      a[i * n + j] = s / k + (i === j ? eps : 0);
    }
  return { n, data: a };
}
const transpose = (a: Float64Array, n: number) => {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
  return t;
};
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const identity = (n: number) => {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  return a;
};

test('eigendecomposition of random symmetric 128×128: A = VΛVᵀ and VᵀV = I within 1e-10, in well under a second', () => {
  for (const seed of [1, 2]) {
    const a = randomSymmetric(128, seed);
    const t0 = performance.now();
    const { values, vectors } = symmetricEigen(a);
    const ms = performance.now() - t0;
    assert.ok(ms < 500, `${ms.toFixed(0)} ms`);
    const n = 128;
    const vl = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vl[i * n + k] = vectors[i * n + k] * values[k];
    const rec = matmulSquare(vl, transpose(vectors, n), n);
    assert.ok(maxAbsDiff(rec, a.data) < 1e-10, `reconstruction error ${maxAbsDiff(rec, a.data)}`);
    const vtv = matmulSquare(transpose(vectors, n), vectors, n);
    assert.ok(maxAbsDiff(vtv, identity(n)) < 1e-10, `orthogonality error ${maxAbsDiff(vtv, identity(n))}`);
    for (let k = 1; k < n; k++) assert.ok(values[k] >= values[k - 1], 'eigenvalues ascending');
  }
});

test('eigendecomposition: degenerate cases (identity, repeated eigenvalues, zero matrix, 1×1, rank-deficient)', () => {
  const n = 6;
  const id = symmetricEigen({ n, data: identity(n) });
  assert.ok(maxAbsDiff(id.values, new Float64Array(n).fill(1)) < 1e-15);
  const zero = symmetricEigen({ n, data: new Float64Array(n * n) });
  assert.ok(zero.values.every((v) => v === 0));
  assert.equal([...symmetricEigen({ n: 1, data: Float64Array.of(-3) }).values], [-3]);
  // rank 2 in 6-d: four zero eigenvalues (to round-off), two positive
  const r = randomSpd(n, 4, 2, 0);
  const e = symmetricEigen(r);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(e.values[k]) < 1e-13, `λ${k} = ${e.values[k]}`);
  assert.ok(e.values[4] > 1e-3);
  // diag(2, 2, 5, 5, 5, 1) rotated by a random orthogonal matrix
  const q = symmetricEigen(randomSymmetric(n, 9)).vectors;
  const lam = [2, 2, 5, 5, 5, 1];
  const ql = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) ql[i * n + k] = q[i * n + k] * lam[k];
  const a = matmulSquare(ql, transpose(q, n), n);
  assert.ok(maxAbsDiff(symmetricEigen({ n, data: a }).values, [1, 2, 2, 5, 5, 5]) < 1e-13);
});

test('symmetric square root: R·R = A for an SPD matrix, R symmetric', () => {
  const a = randomSpd(32, 5);
  const r = sqrtmSym(a);
  assert.ok(maxAbsDiff(matmulSquare(r.data, r.data, 32), a.data) < 1e-12);
  assert.ok(maxAbsDiff(r.data, transpose(r.data, 32)) === 0);
});

test('mean and covariance match a direct computation (unbiased, divisor n − 1)', () => {
  const x = Float64Array.of(1, 2, 3, 5, 6, 1, 2, 0);
  assert.ok(maxAbsDiff(mean(x, 2), [3, 2]) < 1e-15);
  // columns (1, 3, 6, 2) and (2, 5, 1, 0): var 14/3, 14/3, cov −1/3
  assert.ok(maxAbsDiff(covariance(x, 2).data, [14 / 3, -1 / 3, -1 / 3, 14 / 3]) < 1e-14);
  assert.throws(() => covariance(x, 3), /not a whole number/);
});

test('Fréchet distance, diagonal covariances: |Δμ|² + Σ(σ1 + σ2 − 2√(σ1σ2))', () => {
  const n = 40;
  const g = new Generator(11);
  const [m1, m2, v1, v2] = [g.normal(n), g.normal(n), g.uniform(n), g.uniform(n)];
  const diag = (v: Float64Array) => {
    const a = new Float64Array(n * n);
    v.forEach((x, i) => (a[i * n + i] = x + 0.01));
    return { n, data: a };
  };
  let want = 0;
  for (let i = 0; i < n; i++) {
    const s1 = v1[i] + 0.01,
      s2 = v2[i] + 0.01;
    want += (m1[i] - m2[i]) ** 2 + s1 + s2 - 2 * Math.sqrt(s1 * s2);
  }
  const got = frechetDistance({ mu: m1, cov: diag(v1) }, { mu: m2, cov: diag(v2) });
  assert.ok(Math.abs(got.d2 - want) < 1e-12 * Math.max(1, want), `${got.d2} vs ${want}`);
  assert.is(got.clip.clipped, 0);
});

test('Fréchet distance, Σ1 = Σ2 (full) and shifted means: |Δμ|²; scaled identity vs full Σ: Σ(a + λ − 2√(aλ))', () => {
  const n = 64;
  const cov = randomSpd(n, 12);
  const g = new Generator(13);
  const m1 = g.normal(n),
    m2 = g.normal(n);
  let dmu = 0;
  for (let i = 0; i < n; i++) dmu += (m1[i] - m2[i]) ** 2;
  const r = frechetDistance({ mu: m1, cov }, { mu: m2, cov });
  assert.ok(Math.abs(r.d2 - dmu) < 1e-9 * dmu, `${r.d2} vs ${dmu}`);
  const a = 0.7;
  const scaled = { n, data: identity(n).map((v) => v * a) };
  const lam = symmetricEigen(cov).values;
  const want = [...lam].reduce((s, l) => s + a + l - 2 * Math.sqrt(a * l), 0);
  const r2 = frechetDistance({ mu: m1, cov: scaled }, { mu: m1, cov });
  assert.ok(Math.abs(r2.d2 - want) < 1e-10 * Math.max(1, want), `${r2.d2} vs ${want}`);
});

test('Fréchet distance of a feature set against itself ≈ 0 (also with fewer samples than dimensions)', () => {
  for (const [rows, dim] of [
    [400, 128],
    [50, 128],
  ] as const) {
    const x = Float32Array.from(new Generator(rows).normal(rows * dim, 0.3, 2));
    const r = frechetFeatures(x, x, dim);
    const scale = gaussianOf(x, dim).cov.data.reduce((s, v, i) => (i % (dim + 1) === 0 ? s + v : s), 0);
    assert.ok(
      r.d2 < 1e-9 * scale,
      `d² = ${r.d2} (trace ${scale}); clipped ${r.clip.clipped}, most negative ${r.clip.mostNegative}`,
    );
    if (rows < dim) assert.ok(r.clip.mostNegative > -1e-9 * scale, 'only round-off is clipped');
  }
});

/** tr (A)^{1/2} for A with positive real spectrum, by the coupled Newton–Schulz iteration (no eigendecomposition) */
function traceSqrtNewtonSchulz(a: Float64Array, n: number): number {
  let norm = 0;
  for (const v of a) norm += v * v;
  norm = Math.sqrt(norm);
  let y: Float64Array = a.map((v) => v / norm);
  let z: Float64Array = identity(n);
  for (let it = 0; it < 200; it++) {
    const zy = matmulSquare(z, y, n);
    const t = identity(n).map((v, i) => 0.5 * (3 * v - zy[i]));
    const yNext = matmulSquare(y, t, n);
    z = matmulSquare(t, z, n);
    const change = maxAbsDiff(yNext, y);
    y = yNext;
    if (change < 1e-16) break;
  }
  let tr = 0;
  for (let i = 0; i < n; i++) tr += y[i * n + i];
  return tr * Math.sqrt(norm);
}

test('Fréchet distance of random Gaussians vs an independent reference (Newton–Schulz square root of Σ1Σ2)', () => {
  for (const [dim, n1, n2, seed] of [
    [8, 300, 200, 21],
    [24, 500, 400, 22],
  ] as const) {
    const g = new Generator(seed);
    // two differently correlated Gaussians: x = L z + μ
    const mix = (rows: number, shift: number) => {
      const l = g.normal(dim * dim, 0, 0.5);
      const z = g.normal(rows * dim);
      const out = new Float64Array(rows * dim);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < dim; i++) {
          let s = shift + 0.1 * i;
          for (let k = 0; k < dim; k++) s += l[i * dim + k] * z[r * dim + k];
          out[r * dim + i] = s + z[r * dim + i];
        }
      return out;
    };
    const x1 = mix(n1, 0),
      x2 = mix(n2, 0.3);
    const g1 = gaussianOf(x1, dim),
      g2 = gaussianOf(x2, dim);
    const got = frechetDistance(g1, g2);
    let dmu = 0,
      tr = 0;
    for (let i = 0; i < dim; i++) {
      dmu += (g1.mu[i] - g2.mu[i]) ** 2;
      tr += g1.cov.data[i * dim + i] + g2.cov.data[i * dim + i];
    }
    const want = dmu + tr - 2 * traceSqrtNewtonSchulz(matmulSquare(g1.cov.data, g2.cov.data, dim), dim);
    assert.ok(Math.abs(got.d2 - want) < 1e-9 * Math.max(1, want), `dim ${dim}: ${got.d2} vs reference ${want}`);
    assert.ok(got.d2 > 0.1, 'the sets differ');
    // symmetric in its arguments
    assert.ok(Math.abs(frechetDistance(g2, g1).d2 - got.d2) < 1e-9 * got.d2);
  }
});

test.run();
