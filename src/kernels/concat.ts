// concat.ts — dispatch of wgsl/concat.wgsl: concatenation along one axis, and its inverse (split), up to
// CONCAT_MAX_PARTS parts per dispatch.
import src from '../../wgsl/concat.wgsl';
import { CONCAT_MAX_PARTS } from '../autograd/backend.js';
import { type Gpu, type GBuf, type Kernel, grid } from './gpu.js';
const FILE = 'wgsl/concat.wgsl';
const CONCAT: Kernel = { file: FILE, code: src, entry: 'concat', bindings: ['read', 'read', 'read', 'read', 'rw'] };
const SPLIT: Kernel = { file: FILE, code: src, entry: 'split', bindings: ['read', 'rw', 'rw', 'rw', 'rw'] };

function check(parts: readonly unknown[], offsets: readonly number[], widths: readonly number[]): void {
  if (
    parts.length < 1 ||
    parts.length > CONCAT_MAX_PARTS ||
    offsets.length !== parts.length ||
    widths.length !== parts.length
  )
    throw new Error(
      `concat/split: 1 to ${CONCAT_MAX_PARTS} parts with an offset and a width each, got ${parts.length}`,
    );
}

/** out [outer][W][inner]: parts[k] [outer][widths[k]][inner] written at columns [offsets[k], offsets[k] + widths[k]) */
export function concat(
  gpu: Gpu,
  parts: readonly GBuf[],
  offsets: readonly number[],
  widths: readonly number[],
  W: number,
  outer: number,
  inner: number,
  out: GBuf,
): void {
  check(parts, offsets, widths);
  const n = outer * W * inner;
  if (n === 0) return;
  const [gx, gy] = grid(Math.ceil(n / 256));
  const bound = [0, 1, 2, 3].map((k) => parts[k] ?? parts[0]);
  gpu.dispatch(
    CONCAT,
    [...bound, out],
    (p) => p.u(n, gx, W, inner, parts.length, 0, 0, 0).vec4u(offsets).vec4u(widths),
    [gx, gy],
  );
}

/** parts[k] [outer][widths[k]][inner] = g [outer][W][inner]'s columns [offsets[k], offsets[k] + widths[k]) */
export function split(
  gpu: Gpu,
  g: GBuf,
  W: number,
  outer: number,
  inner: number,
  parts: readonly GBuf[],
  offsets: readonly number[],
  widths: readonly number[],
): void {
  check(parts, offsets, widths);
  const n = outer * W * inner;
  if (n === 0) return;
  const [gx, gy] = grid(Math.ceil(n / 256));
  // a spare for each unused binding (never written: no listed part; one each, as writable bindings do not share)
  const spares = [0, 1, 2, 3].slice(parts.length).map((_, k) => gpu.spare(k));
  gpu.dispatch(
    SPLIT,
    [g, ...parts, ...spares],
    (p) => p.u(n, gx, W, inner, parts.length, 0, 0, 0).vec4u(offsets).vec4u(widths),
    [gx, gy],
  );
}
