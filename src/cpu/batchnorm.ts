// cpu/batchnorm.ts — float64 reference of the batchnorm primitives (statistics with or without the running update,
// normalisation, backward).
import type { BatchnormDims } from '../autograd/backend.js';

/** two-pass per-channel mean and biased variance of x [N][C][L] */
export function batchnormStatsRef(X: Float64Array, mean: Float64Array, variance: Float64Array, { N, C, L }: BatchnormDims): void {
  const M = N * L;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let l = 0, o = (n * C + c) * L; l < L; l++) s += X[o + l];
    const mu = s / M;
    let q = 0;
    for (let n = 0; n < N; n++)
      for (let l = 0, o = (n * C + c) * L; l < L; l++) {
        const dx = X[o + l] - mu;
        q += dx * dx;
      }
    mean[c] = mu;
    variance[c] = q / M;
  }
}

export function batchnormApplyRef(X: Float64Array, mean: Float64Array, variance: Float64Array, gamma: Float64Array, beta: Float64Array, out: Float64Array, { N, C, L }: BatchnormDims, eps: number): void {
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const k = gamma[c] / Math.sqrt(variance[c] + eps);
      for (let l = 0, o = (n * C + c) * L; l < L; l++) out[o + l] = (X[o + l] - mean[c]) * k + beta[c];
    }
}

/** the statistics, then the running ones updated in place (momentum, PyTorch's unbiased variance M/(M − 1)) */
export function batchnormStatsRunningRef(X: Float64Array, mean: Float64Array, variance: Float64Array, runMean: Float64Array, runVar: Float64Array, d: BatchnormDims, momentum: number): void {
  batchnormStatsRef(X, mean, variance, d);
  const M = d.N * d.L;
  for (let c = 0; c < d.C; c++) {
    runMean[c] = (1 - momentum) * runMean[c] + momentum * mean[c];
    runVar[c] = (1 - momentum) * runVar[c] + momentum * variance[c] * (M / (M - 1));
  }
}

export function batchnormGradRef(
  X: Float64Array, G: Float64Array, mean: Float64Array, variance: Float64Array, gamma: Float64Array,
  gx: Float64Array, gGamma: Float64Array, gBeta: Float64Array, { N, C, L }: BatchnormDims, eps: number, training: boolean,
): void {
  const M = N * L;
  for (let c = 0; c < C; c++) {
    const invstd = 1 / Math.sqrt(variance[c] + eps);
    let sg = 0, sgx = 0;
    for (let n = 0; n < N; n++)
      for (let l = 0, o = (n * C + c) * L; l < L; l++) {
        sg += G[o + l];
        sgx += G[o + l] * (X[o + l] - mean[c]) * invstd;
      }
    gGamma[c] = sgx;
    gBeta[c] = sg;
    const k = gamma[c] * invstd;
    for (let n = 0; n < N; n++)
      for (let l = 0, o = (n * C + c) * L; l < L; l++) {
        const xhat = (X[o + l] - mean[c]) * invstd;
        gx[o + l] = training ? (k / M) * (M * G[o + l] - sg - xhat * sgx) : k * G[o + l];
      }
  }
}
