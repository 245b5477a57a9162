// autograd/embedding.ts — differentiable table lookup: rows of weight [V, D] gathered by integer indices.
import { Tensor, record } from './tensor.js';

/**
 * embedding(weight [V, D], indices i32 [...]) → [..., D]: out[i] = weight[indices[i]]. The gradient goes to weight
 * only (rows named several times accumulate). An index outside [0, V): the CPU backend throws, the GPU writes NaN
 * into that output row.
 */
export function embedding(weight: Tensor, indices: Tensor): Tensor {
  const be = weight.backend;
  if (indices.backend !== be)
    throw new Error(`embedding: indices are on ${indices.backend.name}, weight on ${be.name}`);
  if (weight.dtype !== 'f32' || weight.shape.length !== 2 || indices.dtype !== 'i32')
    throw new Error(
      `embedding: want weight f32 [V, D] and indices i32, got weight ${weight.dtype} [${weight.shape.join(', ')}], indices ${indices.dtype}`,
    );
  const [V, D] = weight.shape;
  const n = indices.size;
  const out = Tensor.empty(be, [...indices.shape, D]);
  be.embedding(weight.store, indices.store, out.store, n, V, D);
  return record(out, 'embedding', [weight], (g, _needs, into) => {
    const { t: gw, add } = into(0, weight.shape);
    be.embeddingGrad(indices.store, g.store, gw.store, n, V, D, add);
    return [gw];
  });
}
