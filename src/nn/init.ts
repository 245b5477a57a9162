// init.ts — weight initialisers, all drawn on the host in float64 from the seeded Generator and uploaded, so the
// GPU and the CPU reference start from identical values. Shapes/fans: Linear [in, out] → fanIn = in, fanOut = out;
// conv [out, in, kh, kw] → fanIn = in·kh·kw, fanOut = out·kh·kw (see fans()).
import type { Backend } from '../autograd/backend.js';
import { Tensor, sizeOf } from '../autograd/tensor.js';
import type { Generator } from '../autograd/random.js';

/** U(−limit, limit) */
export function uniform(be: Backend, shape: readonly number[], limit: number, gen: Generator): Tensor {
  const u = gen.uniform(sizeOf(shape));
  for (let i = 0; i < u.length; i++) u[i] = (2 * u[i] - 1) * limit;
  return Tensor.from(be, u, shape);
}
/** He (Kaiming) uniform: U(±√(6 / fanIn)) — for ReLU layers */
export function heUniform(be: Backend, shape: readonly number[], fanIn: number, gen: Generator): Tensor {
  return uniform(be, shape, Math.sqrt(6 / fanIn), gen);
}
/** Glorot (Xavier) uniform: U(±√(6 / (fanIn + fanOut))) — Keras' default */
export function glorotUniform(
  be: Backend,
  shape: readonly number[],
  fanIn: number,
  fanOut: number,
  gen: Generator,
): Tensor {
  return uniform(be, shape, Math.sqrt(6 / (fanIn + fanOut)), gen);
}
/** N(mean, std²) — the DCGAN-style N(0, 0.02) by default */
export function normal(be: Backend, shape: readonly number[], gen: Generator, mean = 0, std = 0.02): Tensor {
  return Tensor.from(be, gen.normal(sizeOf(shape), mean, std), shape);
}

/** fan-in and fan-out of a weight: [in, out] for 2-D (Linear), [out, in, kh, kw] for 4-D (conv) */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  if (shape.length === 4) {
    const k = shape[2] * shape[3];
    return { fanIn: shape[1] * k, fanOut: shape[0] * k };
  }
  throw new Error(`fans: no convention for a weight of rank ${shape.length}`);
}
