// cpu/activation.ts — float64 reference of wgsl/activation.wgsl: the activations that matmul, conv2d and batchnorm
// fuse into their epilogues (the unary ops of elementwise.ts).
import type { Activation } from '../autograd/backend.js';
import { unaryScalar } from './elementwise.js';

/** a fused epilogue's activation ('none': identity) */
export function activationRef(act: Activation, v: number, alpha: number): number {
  return act === 'none' ? v : unaryScalar(act, v, alpha);
}
