// cpu/copy_strided.ts — float64 reference of the strided copy (transpose, expand, narrow), and the strided index
// walk it shares with the broadcasting binary map (elementwise.ts) and the axis sum (reduce.ts).
type Arr = Float64Array | Int32Array;

/** visit every multi-index of `shape`, calling fn with the two strided offsets */
export function forEachIndex(
  shape: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
  oa: number,
  ob: number,
  fn: (ia: number, ib: number) => void,
): void {
  const r = shape.length;
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(r).fill(0);
  let ia = oa;
  let ib = ob;
  for (;;) {
    fn(ia, ib);
    let k = r - 1;
    while (k >= 0) {
      idx[k]++;
      ia += sa[k];
      ib += sb[k];
      if (idx[k] < shape[k]) break;
      ia -= sa[k] * shape[k];
      ib -= sb[k] * shape[k];
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

export function copyStridedRef(
  S: Arr,
  srcOffset: number,
  srcStrides: readonly number[],
  D: Arr,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  forEachIndex(shape, srcStrides, dstStrides, srcOffset, dstOffset, (is, id) => (D[id] = S[is]));
}
