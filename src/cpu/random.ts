// cpu/random.ts — float64 reference of wgsl/random.wgsl: counter-based uniform, normal and integer numbers and
// dropout, element i drawn at counter offset + i (the generators are autograd/random.ts's).
import { dropThreshold, dropoutAt, intAt, normalAt, uniformAt } from '../autograd/random.js';

export function randomRef(O: Float64Array, n: number, dist: 'uniform' | 'normal', seed: number, offset: number): void {
  for (let i = 0; i < n; i++) O[i] = dist === 'uniform' ? uniformAt(seed, offset + i) : normalAt(seed, offset + i);
}

export function randomIntRef(O: Int32Array, n: number, high: number, seed: number, offset: number): void {
  for (let i = 0; i < n; i++) O[i] = intAt(seed, offset + i, high);
}

export function dropoutRef(X: Float64Array, O: Float64Array, n: number, p: number, seed: number, offset: number): void {
  const t = dropThreshold(p);
  for (let i = 0; i < n; i++) O[i] = dropoutAt(X[i], seed, offset + i, p, t);
}
