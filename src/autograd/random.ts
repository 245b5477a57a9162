// random.ts — the counter-based random number generator shared by the GPU kernels (wgsl/random.wgsl implements
// the same arithmetic) and the CPU reference, so both draw bit-identical integers for the same (key, index).
// Element i of a stream with key k: h = hash32(hash32(i + hash32(k)) ^ k), with hash32 = "lowbias32"
// (Chris Wellons' integer hash). uniform = (h >> 8)·2⁻²⁴ ∈ [0, 1); normal = Box–Muller on u1 from stream k and
// u2 from stream k ^ 0x68bc21eb. A Generator hands every random call a fresh key derived from (seed, call count),
// so its whole state is two integers, saved in checkpoints.

export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

export const NORMAL_KEY_XOR = 0x68bc21eb;

/**
 * the u32 random word for element i of stream `key`. For a fixed key, i ↦ word is a bijection of the 32-bit
 * integers (each step is one), so no index is special. (An earlier form, hash32(hash32(i + k) ^ hash32(k)),
 * made element 0 of every stream exactly 0: a uniform 0, a 5.8σ normal, a dropped element.)
 */
export function randomBits(key: number, i: number): number {
  return hash32((hash32((i + hash32(key >>> 0)) >>> 0) ^ key) >>> 0);
}
export function uniformAt(key: number, i: number): number {
  return (randomBits(key, i) >>> 8) * 2 ** -24;
}
export function normalAt(key: number, i: number): number {
  const u1 = ((randomBits(key, i) >>> 8) + 1) * 2 ** -24; // (0, 1]
  const u2 = (randomBits((key ^ NORMAL_KEY_XOR) >>> 0, i) >>> 8) * 2 ** -24;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
/** an integer in [0, high) for element i of stream `key` (high ≤ 256: exact in 32-bit arithmetic) */
export function intAt(key: number, i: number, high: number): number {
  return Math.floor(((randomBits(key, i) >>> 8) * high) / 2 ** 24);
}
/** integer threshold for dropout: element kept iff (bits >> 8) >= dropThreshold(p) */
export function dropThreshold(p: number): number {
  return Math.min(2 ** 24, Math.max(0, Math.round(p * 2 ** 24)));
}

/**
 * inverted dropout of element i's value v in stream `key`: v·1/(1 − p) where the mask keeps it (the top 24 bits of
 * randomBits(key, i) ≥ threshold, dropThreshold(p) by default), else 0 — the mask the WGSL kernels draw
 */
export function dropoutAt(v: number, key: number, i: number, p: number, threshold = dropThreshold(p)): number {
  return randomBits(key, i) >>> 8 >= threshold ? v * (1 / (1 - p)) : 0;
}

export interface GeneratorState {
  seed: number;
  calls: number;
}

/** Seeded source of stream keys (and of host-side random numbers for initialisation and shuffling). */
export class Generator {
  seed: number;
  calls = 0;
  constructor(seed = 0) {
    this.seed = seed >>> 0;
  }
  /** a fresh stream key */
  nextKey(): number {
    return hash32((hash32(this.seed) ^ hash32((this.calls++ * 0x9e3779b9) >>> 0)) >>> 0);
  }
  /** n host-side uniforms in [0,1) as float64 (one stream) */
  uniform(n: number): Float64Array {
    const k = this.nextKey();
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = uniformAt(k, i);
    return out;
  }
  normal(n: number, mean = 0, std = 1): Float64Array {
    const k = this.nextKey();
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * normalAt(k, i);
    return out;
  }
  /**
   * n normals truncated to [−threshold, threshold] (BigGAN's truncation trick: a generator fed noise nearer its
   * mode trades variety for typical images). Element i is the first of normalAt(k_j, i), j = 0, 1, …, inside the
   * bounds, where k_0 is the stream's key (so an element already inside is the one normal(n) would draw: the same
   * noise, only its outliers redrawn) and k_j a key derived from k_0 and j; after 256 misses (probability below
   * 1e−9 per element for thresholds ≥ 0.5) a uniform draw in the bounds. threshold = Infinity is normal(n).
   */
  truncatedNormal(n: number, threshold: number): Float64Array {
    if (!(threshold > 0)) throw new Error(`truncation threshold must be > 0, got ${threshold}`);
    const k = this.nextKey();
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = normalAt(k, i);
      for (let j = 1; Math.abs(v) > threshold; j++)
        v =
          j <= 256 ? normalAt(hash32((k ^ Math.imul(j, 0x9e3779b9)) >>> 0), i) : (2 * uniformAt(k, i) - 1) * threshold;
      out[i] = v;
    }
    return out;
  }
  /** a seeded permutation of 0..n-1 (Fisher–Yates) */
  permutation(n: number): Int32Array {
    const u = this.uniform(n);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(u[i] * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
  state(): GeneratorState {
    return { seed: this.seed, calls: this.calls };
  }
  setState(s: GeneratorState): void {
    this.seed = s.seed >>> 0;
    this.calls = s.calls;
  }
}
