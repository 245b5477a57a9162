// cpu/adam.ts — float64 reference of the Adam/AdamW step, of one tensor and of an arena's slots (PyTorch semantics;
// see wgsl/adam.wgsl).
import type { AdamHyper, ArenaSlot } from '../autograd/backend.js';

export function adamRef(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  n: number,
  h: AdamHyper,
): void {
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  for (let i = 0; i < n; i++) {
    let w = p[i];
    let gi = g[i];
    if (h.decoupled) w *= 1 - h.lr * h.weightDecay;
    else gi += h.weightDecay * w;
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
    p[i] = w - ((h.lr / bc1) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(bc2) + h.eps);
  }
}

/** adamRef on each listed slot of four arenas of one layout (element offset, length) */
export function adamMultiRef(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  slots: readonly ArenaSlot[],
  h: AdamHyper,
): void {
  for (const { offset: o, n } of slots)
    adamRef(p.subarray(o, o + n), g.subarray(o, o + n), m.subarray(o, o + n), v.subarray(o, o + n), n, h);
}
