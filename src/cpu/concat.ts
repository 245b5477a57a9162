// cpu/concat.ts — float64 reference of wgsl/concat.wgsl: concatenation along one axis ([outer][W][inner], part k
// at offsets[k] with widths[k]) and its inverse, split.
type Arr = Float64Array | Int32Array;

export function concatRef(
  parts: readonly Arr[],
  offsets: readonly number[],
  widths: readonly number[],
  W: number,
  outer: number,
  inner: number,
  O: Arr,
): void {
  parts.forEach((S, k) => {
    const w = widths[k];
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < w; j++)
        for (let l = 0; l < inner; l++) O[(o * W + offsets[k] + j) * inner + l] = S[(o * w + j) * inner + l];
  });
}

export function splitRef(
  G: Arr,
  W: number,
  outer: number,
  inner: number,
  parts: readonly Arr[],
  offsets: readonly number[],
  widths: readonly number[],
): void {
  parts.forEach((S, k) => {
    const w = widths[k];
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < w; j++)
        for (let l = 0; l < inner; l++) S[(o * w + j) * inner + l] = G[(o * W + offsets[k] + j) * inner + l];
  });
}
