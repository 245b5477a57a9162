// eval/isc.ts — the classifier score: the Inception Score's formula (Salimans et al. 2016) on our CNN classifier's
// class probabilities instead of Inception's (torch-fidelity's `isc`, as FID here is the FID formula on our
// features):
//   ISC = exp(E_x KL(p(y|x) ‖ p(y))),   p(y) the mean of p(y|x) over the samples,
// computed on each of `splits` equal parts of the samples (shuffled first with a seeded permutation, so that
// samples ordered by class do not make one-class parts) and reported as the mean and the population standard
// deviation over the parts, as torch-fidelity does (default 10 splits). It is 1 when every sample gets the same
// distribution, and at most the number of classes, reached when each sample is one class with certainty and the
// classes are equally frequent: high means confident and varied. Float64 throughout, from the logits
// (log-softmax, so confident predictions do not round to log 0).
import { Generator } from '../autograd/random.js';

export interface IscOptions {
  /** parts the samples are scored in (default 10) */
  splits?: number;
  /** shuffle the samples before splitting (default true) */
  shuffle?: boolean;
  /** the shuffle's seed (default 0) */
  seed?: number;
}

export const ISC_DEFAULTS = { splits: 10, seed: 0 };

export interface IscResult {
  mean: number;
  /** population standard deviation over the splits */
  std: number;
  splits: number;
  /** samples scored */
  n: number;
  classes: number;
  /** the score of each split */
  values: number[];
}

/** the classifier score of logits [n, classes] (see the header) */
export function isc(logits: ArrayLike<number>, classes: number, opts: IscOptions = {}): IscResult {
  if (!(Number.isInteger(classes) && classes >= 2) || logits.length % classes !== 0)
    throw new Error(
      `classifier score: ${logits.length} logits are not a whole number of rows of ${classes} classes (≥ 2)`,
    );
  const n = logits.length / classes;
  const splits = opts.splits ?? ISC_DEFAULTS.splits;
  if (!(Number.isInteger(splits) && splits >= 1))
    throw new Error(`classifier score: splits must be an integer ≥ 1, got ${splits}`);
  if (n < splits)
    throw new Error(
      `classifier score: ${n} samples cannot be scored in ${splits} splits (give at least one sample per split)`,
    );
  const order =
    opts.shuffle === false
      ? Int32Array.from({ length: n }, (_, i) => i)
      : new Generator(opts.seed ?? ISC_DEFAULTS.seed).permutation(n);
  // log p(y|x) of every sample, in float64
  const logp = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = logits[i * classes + c];
      if (!Number.isFinite(v)) throw new Error(`classifier score: non-finite logit ${v} (sample ${i}, class ${c})`);
      m = Math.max(m, v);
    }
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[i * classes + c] - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < classes; c++) logp[i * classes + c] = logits[i * classes + c] - lse;
  }
  const values: number[] = [];
  const q = new Float64Array(classes);
  for (let s = 0; s < splits; s++) {
    const a = Math.floor((s * n) / splits),
      b = Math.floor(((s + 1) * n) / splits);
    q.fill(0);
    for (let t = a; t < b; t++) for (let c = 0; c < classes; c++) q[c] += Math.exp(logp[order[t] * classes + c]);
    for (let c = 0; c < classes; c++) q[c] /= b - a;
    let kl = 0;
    for (let t = a; t < b; t++)
      for (let c = 0; c < classes; c++) {
        const lp = logp[order[t] * classes + c];
        const p = Math.exp(lp);
        // p = 0 contributes 0 (and its q may be 0 too: no log 0 × 0)
        if (p > 0) kl += p * (lp - Math.log(q[c]));
      }
    values.push(Math.exp(kl / (b - a)));
  }
  const mean = values.reduce((x, v) => x + v, 0) / splits;
  const std = Math.sqrt(values.reduce((x, v) => x + (v - mean) ** 2, 0) / splits);
  return { mean, std, splits, n, classes, values };
}
