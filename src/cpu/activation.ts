// cpu/activation.ts — float64 reference of the elementwise functions (the unary ops) and of the activations that
// matmul, conv2d and batchnorm fuse into their epilogues; shared by the reference kernels below backend.ts.
import type { Activation, UnaryOp } from '../autograd/backend.js';

export function unaryRef(op: UnaryOp, x: number, a: number): number {
  switch (op) {
    case 'neg':
      return -x;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'relu':
      return x > 0 ? x : 0;
    case 'leaky_relu':
      return x > 0 ? x : a * x;
    case 'add_s':
      return x + a;
    case 'mul_s':
      return x * a;
    case 'rsub_s':
      return a - x;
    case 'square':
      return x * x;
    case 'sqrt':
      return Math.sqrt(x);
    case 'recip':
      return 1 / x;
    case 'abs':
      return Math.abs(x);
  }
}

/** a fused epilogue's activation ('none': identity) */
export function activationRef(act: Activation, v: number, alpha: number): number {
  return act === 'none' ? v : unaryRef(act, v, alpha);
}
