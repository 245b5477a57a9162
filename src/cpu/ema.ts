// cpu/ema.ts — float64 reference of the weight average (see wgsl/ema.wgsl): avg ← avg + (1 − decay)·(x − avg).

export function emaUpdateRef(avg: Float64Array, x: Float64Array, n: number, decay: number): void {
  const omd = 1 - decay;
  for (let i = 0; i < n; i++) avg[i] += omd * (x[i] - avg[i]);
}
