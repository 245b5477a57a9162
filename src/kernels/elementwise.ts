// elementwise.ts — dispatch of wgsl/elementwise.wgsl: unary maps, their gradients, broadcasting binary maps.
import src from '../../wgsl/elementwise.wgsl';
import type { BinaryOp, UnaryOp } from '../autograd/backend.js';
import { UNARY_OPS, BINARY_OPS, broadcastStrides } from '../autograd/backend.js';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';

const FILE = 'wgsl/elementwise.wgsl';
const kernels = new Map<string, Kernel>();
function kernel(entry: string, bindings: Kernel['bindings'], constants: Record<string, number>): Kernel {
  const key = `${entry}:${JSON.stringify(constants)}`;
  let k = kernels.get(key);
  if (!k) kernels.set(key, (k = { file: FILE, code: src, entry, bindings, constants }));
  return k;
}

export function unary(gpu: Gpu, op: UnaryOp, x: GBuf, out: GBuf, n: number, alpha: number): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(kernel('unary', ['read', 'rw'], { OP: UNARY_OPS.indexOf(op) }), [x, out], (p) => p.u(n, gx).f(alpha), [
    gx,
    gy,
  ]);
}

export function unaryGrad(
  gpu: Gpu,
  op: UnaryOp,
  x: GBuf,
  y: GBuf,
  gyBuf: GBuf,
  gxBuf: GBuf,
  n: number,
  alpha: number,
): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(
    kernel('unary_grad', ['read', 'read', 'read', 'rw'], { OP: UNARY_OPS.indexOf(op) }),
    [x, y, gyBuf, gxBuf],
    (p) => p.u(n, gx).f(alpha),
    [gx, gy],
  );
}

/** merge adjacent output dims where both inputs are contiguous together (fewer index steps in the kernel) */
function collapse(shape: readonly number[], sa: number[], sb: number[]): [number[], number[], number[]] {
  const s: number[] = [],
    a: number[] = [],
    b: number[] = [];
  for (let k = 0; k < shape.length; k++) {
    if (shape[k] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && a[last] === sa[k] * shape[k] && b[last] === sb[k] * shape[k]) {
      s[last] *= shape[k];
      a[last] = sa[k];
      b[last] = sb[k];
    } else {
      s.push(shape[k]);
      a.push(sa[k]);
      b.push(sb[k]);
    }
  }
  return [s, a, b];
}

export function binary(
  gpu: Gpu,
  op: BinaryOp,
  a: GBuf,
  aShape: readonly number[],
  b: GBuf,
  bShape: readonly number[],
  out: GBuf,
  outShape: readonly number[],
): void {
  const n = outShape.reduce((x, d) => x * d, 1);
  const [shape, sa, sb] = collapse(outShape, broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape));
  if (shape.length > 8) throw new Error(`binary ${op}: rank ${shape.length} > 8 after merging dims`);
  const contig = shape.length <= 1 && sa.every((v) => v === 1) && sb.every((v) => v === 1) ? 1 : 0;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(
    kernel('binary', ['read', 'read', 'rw'], { OP: BINARY_OPS.indexOf(op), CONTIG: contig }),
    [a, b, out],
    (p) =>
      p
        .u(n, gx, shape.length, 0)
        .vec4u(shape.slice(0, 4))
        .vec4u(shape.slice(4))
        .vec4u(sa.slice(0, 4))
        .vec4u(sa.slice(4))
        .vec4u(sb.slice(0, 4))
        .vec4u(sb.slice(4)),
    [gx, gy],
  );
}
