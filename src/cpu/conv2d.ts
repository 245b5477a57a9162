// cpu/conv2d.ts — float64 reference of 2-D convolution (NCHW) and its two gradients, as direct loops.
import type { Activation, ConvDims } from '../autograd/backend.js';
import { activationRef } from './activation.js';

/** visit every (n, k, p, q, c, r, s) whose input pixel is inside the image */
function forEachTap(d: ConvDims, fn: (yi: number, xi: number, wi: number) => void): void {
  const { N, C, H, W, K, R, S, P, Q, sh, sw, ph, pw } = d;
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++)
      for (let p = 0; p < P; p++)
        for (let q = 0; q < Q; q++) {
          const yi = ((n * K + k) * P + p) * Q + q;
          for (let c = 0; c < C; c++)
            for (let r = 0; r < R; r++) {
              const ih = p * sh - ph + r;
              if (ih < 0 || ih >= H) continue;
              for (let s = 0; s < S; s++) {
                const iw = q * sw - pw + s;
                if (iw < 0 || iw >= W) continue;
                fn(yi, ((n * C + c) * H + ih) * W + iw, ((k * C + c) * R + r) * S + s);
              }
            }
        }
}

export function conv2dRef(
  x: Float64Array,
  w: Float64Array,
  bias: Float64Array | null,
  y: Float64Array,
  d: ConvDims,
  act: Activation,
  alpha: number,
): void {
  const { N, K, P, Q } = d;
  y.fill(0, 0, N * K * P * Q);
  forEachTap(d, (yi, xi, wi) => (y[yi] += x[xi] * w[wi]));
  for (let i = 0; i < N * K * P * Q; i++) {
    const k = Math.floor(i / (P * Q)) % K;
    y[i] = activationRef(act, y[i] + (bias ? bias[k] : 0), alpha);
  }
}

export function conv2dGradInputRef(
  gy: Float64Array,
  w: Float64Array,
  gx: Float64Array,
  d: ConvDims,
  bias: Float64Array | null,
  act: Activation,
  alpha: number,
): void {
  const { N, C, H, W } = d;
  gx.fill(0, 0, N * C * H * W);
  forEachTap(d, (yi, xi, wi) => (gx[xi] += gy[yi] * w[wi]));
  for (let i = 0; i < N * C * H * W; i++) {
    const c = Math.floor(i / (H * W)) % C;
    gx[i] = activationRef(act, gx[i] + (bias ? bias[c] : 0), alpha);
  }
}

export function conv2dGradWeightRef(x: Float64Array, gy: Float64Array, gw: Float64Array, d: ConvDims): void {
  gw.fill(0, 0, d.K * d.C * d.R * d.S);
  forEachTap(d, (yi, xi, wi) => (gw[wi] += gy[yi] * x[xi]));
}
