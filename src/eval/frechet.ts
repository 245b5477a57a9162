// eval/frechet.ts — the Fréchet distance between two feature sets, each summarised as a Gaussian (mean μ, covariance
// Σ), in plain float64 TypeScript (no GPU, no Node):
//
//   d² = |μ1 − μ2|² + tr(Σ1 + Σ2 − 2 (Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2})
//
// This is the FID formula; our features are the CNN classifier's 128-d penultimate activations (not Inception's),
// so our numbers compare with each other, not with published FIDs.
//
// Square roots are symmetric throughout: Σ1^{1/2} = V diag(√λ) Vᵀ from the eigendecomposition of Σ1, and the trace
// of the second root is Σ √λ_i(M) for the symmetric PSD matrix M = Σ1^{1/2} Σ2 Σ1^{1/2} (symmetrised as (M + Mᵀ)/2
// against round-off). Mathematically every λ ≥ 0; round-off leaves tiny negative eigenvalues where a covariance is
// (near) singular (fewer samples than dimensions, dead features), and those are clipped to 0 before the square
// root — `frechetDistance` reports how many were clipped and the most negative one, so a real problem (a large
// negative eigenvalue) is visible rather than hidden. A d² that round-off pushes below 0 is reported as 0.
//
// Eigendecomposition: Householder reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-type
// shifts (EISPACK tred2/tql2, as in JAMA). O(n³) with a small constant: a 128×128 matrix takes a few milliseconds,
// and the eigenvectors come out orthonormal to ~1e-15. We chose it over cyclic Jacobi (simpler, equally accurate,
// but ~10× more flops) because FID at 128-d and the PCA of src/eval/latent.ts call it repeatedly.

/** a square matrix, row-major, n×n */
export interface SymMatrix {
  n: number;
  data: Float64Array;
}

/** column means of `x` viewed as [rows, dim] (float64 accumulation) */
export function mean(x: ArrayLike<number>, dim: number): Float64Array {
  const rows = rowCount(x, dim);
  const mu = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) mu[j] += x[r * dim + j];
  for (let j = 0; j < dim; j++) mu[j] /= Math.max(rows, 1);
  return mu;
}

function rowCount(x: ArrayLike<number>, dim: number): number {
  if (!(dim > 0) || x.length % dim !== 0)
    throw new Error(`feature array of length ${x.length} is not a whole number of ${dim}-d rows`);
  return x.length / dim;
}

/** unbiased covariance (divisor rows − 1, as numpy.cov) of `x` [rows, dim], two-pass (centred first) in float64 */
export function covariance(x: ArrayLike<number>, dim: number, mu: Float64Array = mean(x, dim)): SymMatrix {
  const rows = rowCount(x, dim);
  if (rows < 2) throw new Error(`a covariance needs at least 2 samples, got ${rows}`);
  const c = new Float64Array(dim * dim);
  const d = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) d[j] = x[r * dim + j] - mu[j];
    for (let i = 0; i < dim; i++) {
      const di = d[i];
      if (di === 0) continue;
      const row = i * dim;
      for (let j = i; j < dim; j++) c[row + j] += di * d[j];
    }
  }
  const s = 1 / (rows - 1);
  for (let i = 0; i < dim; i++)
    for (let j = i; j < dim; j++) {
      const v = c[i * dim + j] * s;
      c[i * dim + j] = v;
      c[j * dim + i] = v;
    }
  return { n: dim, data: c };
}

export interface Eigen {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** eigenvectors as columns, row-major n×n: V[i][k] = vectors[i·n + k] is component i of eigenvector k */
  vectors: Float64Array;
}

/**
 * Eigendecomposition A = V diag(λ) Vᵀ of a symmetric matrix (only symmetry is assumed, not definiteness):
 * Householder tridiagonalisation (tred2) then implicit QL (tql2). Eigenvalues ascending.
 */
export function symmetricEigen(a: SymMatrix): Eigen {
  const n = a.n;
  if (a.data.length !== n * n) throw new Error(`symmetricEigen: ${a.data.length} values for a ${n}×${n} matrix`);
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  for (let i = 0; i < n * n; i++)
    if (!Number.isFinite(a.data[i]))
      throw new Error(`symmetricEigen: non-finite entry ${a.data[i]} at (${Math.floor(i / n)}, ${i % n})`);
  // V as an array of rows: the inner loops of both stages walk rows or columns of it
  const V: Float64Array[] = Array.from({ length: n }, (_, i) => Float64Array.from(a.data.subarray(i * n, (i + 1) * n)));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(n, V, d, e);
  tql2(n, V, d, e);
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vectors.set(V[i], i * n);
  return { values: d, vectors };
}

/** Householder reduction of V (holding A) to tridiagonal form: d the diagonal, e the subdiagonal, V the transform */
function tred2(n: number, V: Float64Array[], d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[n - 1][j];
  for (let i = n - 1; i > 0; i--) {
    // scale to avoid under/overflow
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1][j];
        V[i][j] = 0;
        V[j][i] = 0;
      }
    } else {
      // the Householder vector
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // apply the similarity transformation to the remaining columns
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j][i] = f;
        g = e[j] + V[j][j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k][j] * d[k];
          e[k] += V[k][j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k][j] -= f * e[k] + g * d[k];
        d[j] = V[i - 1][j];
        V[i][j] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    V[n - 1][i] = V[i][i];
    V[i][i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k][i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k][i + 1] * V[k][j];
        for (let k = 0; k <= i; k++) V[k][j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k][i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1][j];
    V[n - 1][j] = 0;
  }
  V[n - 1][n - 1] = 1;
  e[0] = 0;
}

/** implicit QL on the tridiagonal (d, e), accumulating rotations into V; sorts eigenvalues ascending */
function tql2(n: number, V: Float64Array[], d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // find a small subdiagonal element
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    // m === l: d[l] is an eigenvalue; otherwise iterate
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error(`symmetricEigen: QL did not converge for eigenvalue ${l} of ${n}`);
        // implicit shift
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // implicit QL transformation
        p = d[m];
        let c = 1,
          c2 = c,
          c3 = c;
        const el1 = e[l + 1];
        let s = 0,
          s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // accumulate the rotation
          for (let k = 0; k < n; k++) {
            const row = V[k];
            h = row[i + 1];
            row[i + 1] = s * row[i] + c * h;
            row[i] = c * row[i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // sort eigenvalues (and vectors) ascending
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++)
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = V[j][i];
        V[j][i] = V[j][k];
        V[j][k] = t;
      }
    }
  }
}

/** C = A·B for n×n row-major matrices */
export function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      const bRow = k * n,
        cRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j] += aik * b[bRow + j];
    }
  return c;
}

export interface ClipInfo {
  /** eigenvalues below 0 that were set to 0 */
  clipped: number;
  /** the most negative eigenvalue seen (0 when none) */
  mostNegative: number;
}

/**
 * The symmetric PSD square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix; negative eigenvalues (round-off on a
 * PSD matrix) are clipped to 0 and counted in `clip`.
 */
export function sqrtmSym(a: SymMatrix, clip?: ClipInfo): SymMatrix {
  const n = a.n;
  const { values, vectors } = symmetricEigen(a);
  const s = new Float64Array(n);
  for (let k = 0; k < n; k++) s[k] = Math.sqrt(clipNegative(values[k], clip));
  // R = V diag(s) Vᵀ, accumulated as Σ_k s_k v_k v_kᵀ over the upper triangle, then mirrored
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += vectors[i * n + k] * s[k] * vectors[j * n + k];
      out[i * n + j] = t;
      out[j * n + i] = t;
    }
  return { n, data: out };
}

function clipNegative(v: number, clip?: ClipInfo): number {
  if (v >= 0) return v;
  if (clip) {
    clip.clipped++;
    clip.mostNegative = Math.min(clip.mostNegative, v);
  }
  return 0;
}

export interface Gaussian {
  mu: Float64Array;
  cov: SymMatrix;
  /** samples it was estimated from */
  count: number;
}

/** the mean and covariance of features [count, dim] */
export function gaussianOf(features: ArrayLike<number>, dim: number): Gaussian {
  const mu = mean(features, dim);
  return { mu, cov: covariance(features, dim, mu), count: features.length / dim };
}

export interface FrechetResult {
  /** d², clipped at 0 */
  d2: number;
  /** |μ1 − μ2|² */
  meanTerm: number;
  /** tr(Σ1 + Σ2 − 2 (Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}) */
  covTerm: number;
  /** negative eigenvalues clipped to 0 in both square roots, and the most negative one */
  clip: ClipInfo;
}

/** the Fréchet distance d² between N(μ1, Σ1) and N(μ2, Σ2) (see the header for the method) */
export function frechetDistance(g1: Pick<Gaussian, 'mu' | 'cov'>, g2: Pick<Gaussian, 'mu' | 'cov'>): FrechetResult {
  const n = g1.cov.n;
  if (g2.cov.n !== n || g1.mu.length !== n || g2.mu.length !== n)
    throw new Error(`frechetDistance: dimensions differ (${g1.mu.length}/${g1.cov.n} vs ${g2.mu.length}/${g2.cov.n})`);
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (g1.mu[i] - g2.mu[i]) ** 2;
  const clip: ClipInfo = { clipped: 0, mostNegative: 0 };
  const s1 = sqrtmSym(g1.cov, clip);
  const m = matmulSquare(matmulSquare(s1.data, g2.cov.data, n), s1.data, n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (m[i * n + j] + m[j * n + i]);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  const { values } = symmetricEigen({ n, data: m });
  let trRoot = 0;
  for (const v of values) trRoot += Math.sqrt(clipNegative(v, clip));
  let tr = 0;
  for (let i = 0; i < n; i++) tr += g1.cov.data[i * n + i] + g2.cov.data[i * n + i];
  const covTerm = tr - 2 * trRoot;
  return { d2: Math.max(0, meanTerm + covTerm), meanTerm, covTerm, clip };
}

/** the Fréchet distance between two feature sets [n1, dim] and [n2, dim] */
export function frechetFeatures(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): FrechetResult {
  return frechetDistance(gaussianOf(a, dim), gaussianOf(b, dim));
}
