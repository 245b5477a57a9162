// cpu/reduce.ts — float64 reference of wgsl/reduce.wgsl: the sum of x over any set of axes (kept as size 1).
import { broadcastStrides } from '../autograd/backend.js';
import { forEachIndex } from './copy_strided.js';

export function reduceSumRef(
  X: Float64Array,
  shape: readonly number[],
  axes: readonly number[],
  O: Float64Array,
): void {
  const oshape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = oshape.reduce((a, d) => a * d, 1);
  O.fill(0, 0, n);
  const os = broadcastStrides(oshape, shape);
  const xs = broadcastStrides(shape, shape);
  forEachIndex(shape, xs, os, 0, 0, (ix, io) => (O[io] += X[ix]));
}
