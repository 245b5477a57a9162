// cpu/embedding.ts — float64 reference of the embedding gather and its scatter-add backward.

function checkIndex(v: number, V: number, i: number): number {
  if (!(v >= 0 && v < V)) throw new Error(`embedding: index ${v} at position ${i} is outside [0, ${V})`);
  return v;
}

export function embeddingRef(
  weight: Float64Array,
  indices: Int32Array,
  out: Float64Array,
  n: number,
  V: number,
  D: number,
): void {
  for (let i = 0; i < n; i++) {
    const v = checkIndex(indices[i], V, i);
    for (let d = 0; d < D; d++) out[i * D + d] = weight[v * D + d];
  }
}

/** plain scatter-add in index order (the GPU gathers per weight row instead; both are deterministic) */
export function embeddingGradRef(
  indices: Int32Array,
  g: Float64Array,
  gWeight: Float64Array,
  n: number,
  V: number,
  D: number,
): void {
  gWeight.fill(0, 0, V * D);
  for (let i = 0; i < n; i++) {
    const v = checkIndex(indices[i], V, i);
    for (let d = 0; d < D; d++) gWeight[v * D + d] += g[i * D + d];
  }
}
