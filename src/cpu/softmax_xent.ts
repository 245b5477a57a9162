// cpu/softmax_xent.ts — float64 reference of wgsl/softmax_xent.wgsl: the softmax cross-entropy of logits [N][C]
// against integer labels, per row and as the mean, their gradients, and the argmax-matches-label count.

/** log Σ_c exp(a[o + c]) over C values, max-subtracted */
function logSumExp(a: Float64Array, o: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, a[o + c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(a[o + c] - m);
  return m + Math.log(s);
}

function checkLabel(y: number, C: number, row: number): number {
  if (!(y >= 0 && y < C)) throw new Error(`label ${y} at row ${row} is outside [0, ${C})`);
  return y;
}

export function softmaxXentRef(L: Float64Array, Y: Int32Array, O: Float64Array, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const y = checkLabel(Y[i], C, i);
    O[i] = logSumExp(L, i * C, C) - L[i * C + y];
  }
}

/** gLogits = gRow[i] · (softmax(row i) − onehot(y_i)) */
export function softmaxXentGradRef(
  L: Float64Array,
  Y: Int32Array,
  G: Float64Array,
  O: Float64Array,
  N: number,
  C: number,
): void {
  for (let i = 0; i < N; i++) {
    const y = checkLabel(Y[i], C, i);
    const lse = logSumExp(L, i * C, C);
    for (let c = 0; c < C; c++) O[i * C + c] = G[i] * (Math.exp(L[i * C + c] - lse) - (c === y ? 1 : 0));
  }
}

export function softmaxXentMeanRef(L: Float64Array, Y: Int32Array, loss: Float64Array, N: number, C: number): void {
  const rows = new Float64Array(N);
  softmaxXentRef(L, Y, rows, N, C);
  let s = 0;
  for (let i = 0; i < N; i++) s += rows[i];
  loss[0] = s * (1 / N);
}

export function softmaxXentMeanGradRef(
  L: Float64Array,
  Y: Int32Array,
  gLoss: Float64Array,
  O: Float64Array,
  N: number,
  C: number,
): void {
  softmaxXentGradRef(L, Y, new Float64Array(N).fill(gLoss[0] * (1 / N)), O, N, C);
}

/** hit[i] = 1 where row i's first largest logit is at its label, else 0 */
export function argmaxMatchRef(L: Float64Array, Y: Int32Array, O: Float64Array, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (L[i * C + c] > L[i * C + best]) best = c;
    O[i] = best === Y[i] ? 1 : 0;
  }
}
