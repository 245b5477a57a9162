// eval/pairwise.ts — dot products between every row of one feature set and every row of another, a tile at a time,
// in float64 (no GPU, no Node). KID's kernel k(x, y) = (x·y/d + 1)³ and precision/recall's squared distances
// |x|² + |y|² − 2 x·y (src/eval/kid_prc.ts) are both functions of the dot product, so one pass over the pairs
// serves both. Over 10 000 × 10 000 rows no matrix is kept (800 MB): a caller visits TILE × TILE blocks of dots in
// one reused buffer. Inside a tile, 2 rows × 4 columns at a time: eight independent sums per step over the
// features, so that the adds do not wait on each other (1.25 G multiply-adds/s on this machine's CPU core,
// bench/RESULTS.md).
// Every dot sums its products in feature order, one product at a time, exactly as `squaredNorms` does, so
// |x|² + |x|² − 2 x·x is exactly 0 for a row against an identical row, whichever set and tile it is in.

/** rows (and columns) per tile */
export const TILE = 64;

/** the rows of `x` [n, dim] as float64 (a copy), with a clear error for a ragged array */
export function rowsOf(x: ArrayLike<number>, dim: number, what: string): Float64Array {
  if (!(Number.isInteger(dim) && dim > 0) || x.length % dim !== 0)
    throw new Error(`${what}: ${x.length} values are not a whole number of ${dim}-d rows`);
  const out = Float64Array.from(x);
  for (let i = 0; i < out.length; i++)
    if (!Number.isFinite(out[i]))
      throw new Error(`${what}: non-finite feature ${out[i]} in row ${Math.floor(i / dim)}`);
  return out;
}

/** |x_i|² of each row of x [n, dim], summed in feature order (as the dots of `dotTile`) */
export function squaredNorms(x: Float64Array, dim: number): Float64Array {
  const n = x.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0, o = i * dim; k < dim; k++) s += x[o + k] * x[o + k];
    out[i] = s;
  }
  return out;
}

/**
 * out[(i − i0)·TILE + (j − j0)] = x_i · y_j for rows i0 ≤ i < i1 of x and j0 ≤ j < j1 of y (both [·, dim],
 * row-major; i1 − i0 and j1 − j0 at most TILE). Other entries of `out` are left as they were.
 */
export function dotTile(
  x: Float64Array,
  i0: number,
  i1: number,
  y: Float64Array,
  j0: number,
  j1: number,
  dim: number,
  out: Float64Array,
): void {
  let i = i0;
  for (; i + 1 < i1; i += 2) {
    const a0 = i * dim,
      a1 = a0 + dim,
      r0 = (i - i0) * TILE,
      r1 = r0 + TILE;
    let j = j0;
    for (; j + 3 < j1; j += 4) {
      const b0 = j * dim,
        b1 = b0 + dim,
        b2 = b1 + dim,
        b3 = b2 + dim;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      for (let k = 0; k < dim; k++) {
        const x0 = x[a0 + k],
          x1 = x[a1 + k],
          y0 = y[b0 + k],
          y1 = y[b1 + k],
          y2 = y[b2 + k],
          y3 = y[b3 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const c = j - j0;
      out[r0 + c] = s00;
      out[r0 + c + 1] = s01;
      out[r0 + c + 2] = s02;
      out[r0 + c + 3] = s03;
      out[r1 + c] = s10;
      out[r1 + c + 1] = s11;
      out[r1 + c + 2] = s12;
      out[r1 + c + 3] = s13;
    }
    for (; j < j1; j++) {
      out[r0 + j - j0] = dot(x, a0, y, j * dim, dim);
      out[r1 + j - j0] = dot(x, a1, y, j * dim, dim);
    }
  }
  for (; i < i1; i++) for (let j = j0; j < j1; j++) out[(i - i0) * TILE + j - j0] = dot(x, i * dim, y, j * dim, dim);
}

function dot(x: Float64Array, a: number, y: Float64Array, b: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += x[a + k] * y[b + k];
  return s;
}

/**
 * Calls visit(i0, i1, j0, j1, dots) for every tile of x [nx, dim] × y [ny, dim] (dots as in `dotTile`). With
 * `upper` (x and y the same set), only tiles with j0 ≥ i0: the caller takes the pairs j > i from them.
 */
export function forEachDotTile(
  x: Float64Array,
  y: Float64Array,
  dim: number,
  upper: boolean,
  visit: (i0: number, i1: number, j0: number, j1: number, dots: Float64Array) => void,
): void {
  const nx = x.length / dim,
    ny = y.length / dim;
  const dots = new Float64Array(TILE * TILE);
  for (let i0 = 0; i0 < nx; i0 += TILE) {
    const i1 = Math.min(nx, i0 + TILE);
    for (let j0 = upper ? i0 : 0; j0 < ny; j0 += TILE) {
      const j1 = Math.min(ny, j0 + TILE);
      dotTile(x, i0, i1, y, j0, j1, dim, dots);
      visit(i0, i1, j0, j1, dots);
    }
  }
}
