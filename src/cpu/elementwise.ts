// cpu/elementwise.ts — float64 reference of wgsl/elementwise.wgsl: the unary ops (also what the fused activations of
// activation.ts apply), their derivatives and the binary ops, one value at a time (unaryScalar, unaryDerivScalar,
// binaryScalar, WGSL's f, df and g), and the maps over arrays that the kernels run (unary, unaryGrad, broadcasting
// binary).
import { broadcastStrides, type BinaryOp, type UnaryOp } from '../autograd/backend.js';
import { forEachIndex } from './copy_strided.js';

export function unaryScalar(op: UnaryOp, x: number, a: number): number {
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

/** d op(x) / dx, given x and y = op(x) */
export function unaryDerivScalar(op: UnaryOp, x: number, y: number, a: number): number {
  switch (op) {
    case 'neg':
      return -1;
    case 'exp':
      return y;
    case 'log':
      return 1 / x;
    case 'tanh':
      return 1 - y * y;
    case 'sigmoid':
      return y * (1 - y);
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'leaky_relu':
      return x > 0 ? 1 : a;
    case 'add_s':
      return 1;
    case 'mul_s':
      return a;
    case 'rsub_s':
      return -1;
    case 'square':
      return 2 * x;
    case 'sqrt':
      return 0.5 / y;
    case 'recip':
      return -y * y;
    case 'abs':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
  }
}

export function binaryScalar(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'sigmoid_sub':
      return 1 / (1 + Math.exp(-a)) - b;
    case 'bce_logits':
      return Math.max(a, 0) - a * b + Math.log1p(Math.exp(-Math.abs(a)));
  }
}

export function unaryRef(op: UnaryOp, X: Float64Array, O: Float64Array, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) O[i] = unaryScalar(op, X[i], alpha);
}

/** gx = gy · op'(x), given y = op(x) */
export function unaryGradRef(
  op: UnaryOp,
  X: Float64Array,
  Y: Float64Array,
  G: Float64Array,
  O: Float64Array,
  n: number,
  alpha: number,
): void {
  for (let i = 0; i < n; i++) O[i] = G[i] * unaryDerivScalar(op, X[i], Y[i], alpha);
}

/** out = op(a, b), a and b broadcast to outShape */
export function binaryRef(
  op: BinaryOp,
  A: Float64Array,
  aShape: readonly number[],
  B: Float64Array,
  bShape: readonly number[],
  O: Float64Array,
  outShape: readonly number[],
): void {
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  let o = 0;
  forEachIndex(outShape, sa, sb, 0, 0, (ia, ib) => (O[o++] = binaryScalar(op, A[ia], B[ib])));
}
