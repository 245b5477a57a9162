// cpu/matmul.ts — float64 reference of wgsl/matmul.wgsl: batched C = act(op(A)·op(B) + bias) (op: transposed or
// not, read in place), and the bias gradient the kernel can fuse (column sums of B).
import type { Activation, MatmulDims } from '../autograd/backend.js';
import { activationRef } from './activation.js';

export function matmulRef(
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  d: MatmulDims,
  bb: Float64Array | null,
  act: Activation,
  alpha: number,
): void {
  const { M, N, K } = d;
  for (let z = 0; z < d.batch; z++) {
    const oa = z * d.strideA,
      ob = z * d.strideB,
      oc = z * M * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = d.transA ? A[oa + k * M + i] : A[oa + i * K + k];
          const bv = d.transB ? B[ob + j * K + k] : B[ob + k * N + j];
          s += av * bv;
        }
        C[oc + i * N + j] = activationRef(act, s + (bb ? bb[j] : 0), alpha);
      }
  }
}

/** G[n] = Σ_k op(B)[k][n]: the gradient of a bias over B's columns, where B is the output gradient (batch 1) */
export function matmulBiasGradRef(B: Float64Array, G: Float64Array, d: MatmulDims): void {
  if (d.batch !== 1) throw new Error('matmul: biasGrad needs batch 1');
  for (let n = 0; n < d.N; n++) {
    let s = 0;
    for (let k = 0; k < d.K; k++) s += d.transB ? B[n * d.K + k] : B[k * d.N + n];
    G[n] = s;
  }
}
