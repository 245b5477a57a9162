// cpu/bce_logits.ts — float64 reference of the BCE-with-logits family (wgsl/bce_logits.wgsl, and the elementwise
// kernels the GPU backend composes for a general broadcast): per group, the mean binary cross-entropy of
// sigmoid(logits) against targets broadcast with them, the mean probability, and the gradients of both inputs.
import { broadcastShape, broadcastStrides } from '../autograd/backend.js';
import { forEachIndex } from './copy_strided.js';
import { binaryScalar, unaryScalar } from './elementwise.js';

/** the logit and target index of every element of the broadcast shape, in row-major order */
function pairs(lShape: readonly number[], tShape: readonly number[]): [number, number][] {
  const out = broadcastShape(lShape, tShape);
  const at: [number, number][] = [];
  forEachIndex(out, broadcastStrides(lShape, out), broadcastStrides(tShape, out), 0, 0, (il, it) => at.push([il, it]));
  return at;
}

export function bceLogitsMeanRef(
  L: Float64Array,
  lShape: readonly number[],
  T: Float64Array,
  tShape: readonly number[],
  loss: Float64Array,
  prob: Float64Array,
  groups: number,
): void {
  const at = pairs(lShape, tShape);
  const n = at.length / groups,
    nl = lShape.reduce((a, d) => a * d, 1) / groups;
  for (let k = 0; k < groups; k++) {
    let s = 0,
      q = 0;
    for (let i = k * n; i < (k + 1) * n; i++) s += binaryScalar('bce_logits', L[at[i][0]], T[at[i][1]]);
    for (let i = k * nl; i < (k + 1) * nl; i++) q += unaryScalar('sigmoid', L[i], 0);
    loss[k] = s * (1 / n);
    prob[k] = q * (1 / nl);
  }
}

export function bceLogitsMeanGradRef(
  L: Float64Array,
  lShape: readonly number[],
  T: Float64Array,
  tShape: readonly number[],
  G: Float64Array,
  GL: Float64Array | null,
  GT: Float64Array | null,
  groups: number,
): void {
  const at = pairs(lShape, tShape);
  const n = at.length / groups;
  GL?.fill(0);
  GT?.fill(0);
  at.forEach(([il, it], i) => {
    const g = G[Math.floor(i / n)] * (1 / n);
    if (GL) GL[il] += binaryScalar('sigmoid_sub', L[il], T[it]) * g;
    if (GT) GT[it] += -L[il] * g;
  });
}
