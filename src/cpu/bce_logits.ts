// cpu/bce_logits.ts — float64 reference of wgsl/bce_logits.wgsl: the mean binary cross-entropy with logits (and the
// mean probability) over each of `groups` groups of n logits, targets read with stride tStride (0: one target for
// all), and its gradient.
import { binaryScalar, unaryScalar } from './elementwise.js';

export function bceLogitsMeanRef(
  L: Float64Array,
  T: Float64Array,
  loss: Float64Array,
  prob: Float64Array,
  n: number,
  tStride: 0 | 1,
  groups: number,
): void {
  for (let k = 0; k < groups; k++) {
    let s = 0,
      q = 0;
    for (let i = k * n; i < (k + 1) * n; i++) {
      s += binaryScalar('bce_logits', L[i], T[i * tStride]);
      q += unaryScalar('sigmoid', L[i], 0);
    }
    loss[k] = s * (1 / n);
    prob[k] = q * (1 / n);
  }
}

export function bceLogitsMeanGradRef(
  L: Float64Array,
  T: Float64Array,
  G: Float64Array,
  O: Float64Array,
  n: number,
  tStride: 0 | 1,
  groups: number,
): void {
  for (let i = 0; i < n * groups; i++)
    O[i] = binaryScalar('sigmoid_sub', L[i], T[i * tStride]) * (G[Math.floor(i / n)] * (1 / n));
}
