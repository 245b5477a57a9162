// copy_strided.ts — dispatch of wgsl/copy_strided.wgsl (transpose, expand, narrow, concat).
import src from '../../wgsl/copy_strided.wgsl';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';

const K: Kernel = { file: 'wgsl/copy_strided.wgsl', code: src, entry: 'copy_strided', bindings: ['read', 'rw'] };

export function copyStrided(
  gpu: Gpu,
  src_: GBuf,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: GBuf,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  // drop size-1 dims, merge dims contiguous in both
  const s: number[] = [],
    a: number[] = [],
    b: number[] = [];
  shape.forEach((d, k) => {
    if (d === 1) return;
    const last = s.length - 1;
    if (last >= 0 && a[last] === srcStrides[k] * d && b[last] === dstStrides[k] * d) {
      s[last] *= d;
      a[last] = srcStrides[k];
      b[last] = dstStrides[k];
    } else {
      s.push(d);
      a.push(srcStrides[k]);
      b.push(dstStrides[k]);
    }
  });
  if (s.length > 8) throw new Error(`copyStrided: rank ${s.length} > 8`);
  const n = shape.reduce((x, d) => x * d, 1);
  if (n === 0) return;
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(
    K,
    [src_, dst],
    (p) =>
      p
        .u(n, gx, s.length, srcOffset, dstOffset, 0, 0, 0)
        .vec4u(s.slice(0, 4))
        .vec4u(s.slice(4))
        .vec4u(a.slice(0, 4))
        .vec4u(a.slice(4))
        .vec4u(b.slice(0, 4))
        .vec4u(b.slice(4)),
    [gx, gy],
  );
}
