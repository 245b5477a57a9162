// cpu/batchnorm.ts — float64 reference of the batchnorm primitives (statistics with or without the running update,
// normalisation, backward). Groups (d.groups, samples split into G consecutive groups with statistics of their own)
// are each group's slice of the arrays through the ungrouped reference: what running each group alone would give.
import { batchnormGroups, type BatchnormDims, type BatchnormEpilogue } from '../autograd/backend.js';
import { dropThreshold, dropoutAt } from '../autograd/random.js';
import { activationRef } from './activation.js';

/** per group g: its dims alone (dg), and where its x [N/G][C][L] lies (from xs, n values); its statistics' C values
 * lie at g·C */
function groupsOf(d: BatchnormDims): { dg: BatchnormDims; xs: number; n: number }[] {
  const Ng = d.N / batchnormGroups(d);
  return Array.from({ length: batchnormGroups(d) }, (_, g) => ({
    dg: { ...d, N: Ng, groups: 1 },
    xs: g * Ng * d.C * d.L,
    n: Ng * d.C * d.L,
  }));
}
const part = (a: Float64Array, at: number, n: number) => a.subarray(at, at + n);

/** two-pass per-channel mean and biased variance of x [N][C][L] (per group: mean, variance [G][C]) */
export function batchnormStatsRef(X: Float64Array, mean: Float64Array, variance: Float64Array, d: BatchnormDims): void {
  const gs = groupsOf(d);
  if (gs.length > 1) {
    gs.forEach(({ dg, xs, n }, g) =>
      batchnormStatsRef(part(X, xs, n), part(mean, g * d.C, d.C), part(variance, g * d.C, d.C), dg),
    );
    return;
  }
  const { N, C, L } = d;
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

/** normalise, scale, shift; then the epilogue's activation and dropout (the mask of `dropout`, element index i) */
export function batchnormApplyRef(
  X: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  out: Float64Array,
  d: BatchnormDims,
  eps: number,
  epi: BatchnormEpilogue | null = null,
): void {
  const { N, C, L } = d;
  const t = epi?.p ? dropThreshold(epi.p) : 0;
  const Ng = N / batchnormGroups(d); // sample n's statistics: group ⌊n/Ng⌋'s (the dropout mask indexes the whole x)
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const s = Math.floor(n / Ng) * C + c;
      const k = gamma[c] / Math.sqrt(variance[s] + eps);
      for (let l = 0, o = (n * C + c) * L; l < L; l++) {
        const y = (X[o + l] - mean[s]) * k + beta[c];
        out[o + l] = epi ? epilogueRef(y, o + l, epi, t) : y;
      }
    }
}

/** the epilogue on element i's value y: the activation, then dropout (threshold t = dropThreshold(p)) */
function epilogueRef(y: number, i: number, epi: BatchnormEpilogue, t: number): number {
  y = activationRef(epi.act, y, epi.alpha);
  if (epi.p) y = dropoutAt(y, epi.key, i, epi.p, t);
  return y;
}

/** out = the epilogue alone (activation, then dropout) on x [n] */
export function activationDropoutRef(X: Float64Array, out: Float64Array, n: number, epi: BatchnormEpilogue): void {
  const t = epi.p ? dropThreshold(epi.p) : 0;
  for (let i = 0; i < n; i++) out[i] = epilogueRef(X[i], i, epi, t);
}

/** the statistics, then the running ones updated in place (momentum, PyTorch's unbiased variance M/(M − 1)); per
 * group in group order */
export function batchnormStatsRunningRef(
  X: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  runMean: Float64Array,
  runVar: Float64Array,
  d: BatchnormDims,
  momentum: number,
): void {
  const gs = groupsOf(d);
  if (gs.length > 1) {
    gs.forEach(({ dg, xs, n }, g) =>
      batchnormStatsRunningRef(
        part(X, xs, n),
        part(mean, g * d.C, d.C),
        part(variance, g * d.C, d.C),
        runMean,
        runVar,
        dg,
        momentum,
      ),
    );
    return;
  }
  batchnormStatsRef(X, mean, variance, d);
  const M = d.N * d.L;
  for (let c = 0; c < d.C; c++) {
    runMean[c] = (1 - momentum) * runMean[c] + momentum * mean[c];
    runVar[c] = (1 - momentum) * runVar[c] + momentum * variance[c] * (M / (M - 1));
  }
}

/** gn = g back through the epilogue: dropout mask and scale, then the activation's slope from sign(y) */
export function batchnormEpilogueGradRef(
  G: Float64Array,
  Y: Float64Array,
  GN: Float64Array,
  { N, C, L }: BatchnormDims,
  epi: BatchnormEpilogue,
): void {
  const t = epi.p ? dropThreshold(epi.p) : 0;
  for (let i = 0; i < N * C * L; i++) {
    let g = G[i];
    if (epi.p) g = dropoutAt(g, epi.key, i, epi.p, t);
    if (epi.act === 'relu') g *= Y[i] > 0 ? 1 : 0;
    else if (epi.act === 'leaky_relu') g *= Y[i] > 0 ? 1 : epi.alpha;
    GN[i] = g;
  }
}

export function batchnormGradRef(
  X: Float64Array,
  G: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  gamma: Float64Array,
  gx: Float64Array,
  gGamma: Float64Array,
  gBeta: Float64Array,
  d: BatchnormDims,
  eps: number,
  training: boolean,
): void {
  const gs = groupsOf(d);
  if (gs.length > 1) {
    // each group alone; gamma's and beta's gradients are the groups' sums, added in group order
    const { C } = d;
    const gg = new Float64Array(C),
      gb = new Float64Array(C);
    gGamma.fill(0);
    gBeta.fill(0);
    gs.forEach(({ dg, xs, n }, g) => {
      const ms = training ? g * C : 0; // eval mode: the running statistics, C values for every group
      batchnormGradRef(
        part(X, xs, n),
        part(G, xs, n),
        part(mean, ms, C),
        part(variance, ms, C),
        gamma,
        part(gx, xs, n),
        gg,
        gb,
        dg,
        eps,
        training,
      );
      for (let c = 0; c < C; c++) {
        gGamma[c] += gg[c];
        gBeta[c] += gb[c];
      }
    });
    return;
  }
  const { N, C, L } = d;
  const M = N * L;
  for (let c = 0; c < C; c++) {
    const invstd = 1 / Math.sqrt(variance[c] + eps);
    let sg = 0,
      sgx = 0;
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
