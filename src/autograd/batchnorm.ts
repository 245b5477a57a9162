// autograd/batchnorm.ts — differentiable batch normalisation over channels of [N,C], [N,C,L] or [N,C,H,W] tensors.
import type { Backend, BatchnormDims, BatchnormEpilogue } from './backend.js';
import { Tensor, isGradEnabled, record } from './tensor.js';

export interface BatchnormOptions {
  /** true: normalise by the batch's statistics and update the running ones; false: use the running ones */
  training: boolean;
  /** running = (1 − momentum)·running + momentum·batch, PyTorch's convention (default 0.1) */
  momentum?: number;
  /** added to the variance before the square root (default 1e-5 as PyTorch; Keras uses 1e-3) */
  eps?: number;
  /** fused into the same kernel after the normalisation: relu, or leaky_relu with slope alpha > 0 (default 0.2) */
  activation?: 'none' | 'relu' | 'leaky_relu';
  alpha?: number;
  /** then inverted dropout with probability p and the mask F.dropout draws for stream `key` (Dropout.fusedMask) */
  dropout?: { p: number; key: number } | null;
  /**
   * x is a pre-activation whose ReLU the batchnorm applies as it reads it: batchnorm(relu(x)) bit for bit, with the
   * ReLU's gradient made by the batchnorm's gradient kernel (no pass of its own)
   */
  inputRelu?: boolean;
  /**
   * training mode: the batch is this many groups of consecutive samples (default 1), each normalised by its own
   * statistics and updating the running ones in turn — what the groups would give one after the other through this
   * batchnorm (e.g. a discriminator's real and generated halves in one pass); eval mode ignores it
   */
  groups?: number;
}

const fmt = (t: Tensor) => `[${t.shape.join(', ')}]`;

/**
 * y = (x − mean)/√(var + eps)·gamma + beta per channel (axis 1). x is [N, C] (1-D batchnorm), [N, C, L] or
 * [N, C, H, W]; gamma, beta, runningMean and runningVar hold C values each. In training mode mean and var are the
 * batch's (biased) statistics over N and the spatial axes, and runningMean/runningVar (plain tensors without
 * grad, may be null to skip tracking) are updated in place by the statistics kernel, with the unbiased batch
 * variance as in PyTorch. In eval mode the running statistics normalise. Gradients flow to x, gamma and beta.
 * With `activation` and/or `dropout` the result is dropout(act(y)), made by the same kernel: equal bit for bit to
 * F.dropout(F.leakyRelu(y)) etc., one dispatch instead of three.
 */
export function batchnorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: BatchnormOptions,
): Tensor {
  const {
    training,
    momentum = 0.1,
    eps = 1e-5,
    activation: act = 'none',
    alpha = 0.2,
    dropout: drop = null,
    inputRelu = false,
  } = opts;
  const groups = training ? (opts.groups ?? 1) : 1; // eval: the running statistics for every sample
  const be: Backend = x.backend;
  if (x.dtype !== 'f32' || x.shape.length < 2 || x.shape.length > 4)
    throw new Error(`batchnorm: x must be f32 [N, C], [N, C, L] or [N, C, H, W], got ${x.dtype} ${fmt(x)}`);
  const [N, C] = x.shape;
  const L = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const params: [string, Tensor | null][] = [
    ['gamma', gamma],
    ['beta', beta],
    ['runningMean', runningMean],
    ['runningVar', runningVar],
  ];
  for (const [name, t] of params) {
    if (!t) continue;
    if (t.backend !== be) throw new Error(`batchnorm: ${name} is on ${t.backend.name}, x on ${be.name}`);
    if (t.dtype !== 'f32' || t.size !== C)
      throw new Error(`batchnorm: ${name} must be f32 with ${C} values (one per channel), got ${t.dtype} ${fmt(t)}`);
  }
  if ((runningMean === null) !== (runningVar === null))
    throw new Error('batchnorm: pass both runningMean and runningVar, or neither');
  if (runningMean?.requiresGrad || runningVar?.requiresGrad)
    throw new Error('batchnorm: running statistics are updated in place and must not require grad');
  if (!(eps > 0)) throw new Error(`batchnorm: eps must be > 0, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`batchnorm: momentum must be in [0, 1], got ${momentum}`);
  // the backward reads the activation's slope off the output's sign, which needs sign(output) = sign(input)
  if (act === 'leaky_relu' && !(alpha > 0))
    throw new Error(`batchnorm: a fused leaky_relu needs a slope > 0, got ${alpha}`);
  if (drop && !(drop.p >= 0 && drop.p < 1)) throw new Error(`batchnorm: dropout p must be in [0, 1), got ${drop.p}`);
  const epi: BatchnormEpilogue | null =
    act !== 'none' || drop?.p ? { act, alpha, p: drop?.p ?? 0, key: drop?.key ?? 0 } : null;
  if (!(Number.isInteger(groups) && groups >= 1 && N % groups === 0))
    throw new Error(
      `batchnorm: groups must be a whole number ≥ 1 that divides the batch, got ${opts.groups} for x ${fmt(x)}`,
    );
  const d: BatchnormDims = { N, C, L, inputRelu, groups };
  const M = (N / groups) * L;

  let mean: Tensor, variance: Tensor;
  if (training) {
    if (M < 2)
      throw new Error(
        `batchnorm: training needs more than one value per channel${groups > 1 ? ' in each group' : ''}, x is ${fmt(x)}`,
      );
    mean = Tensor.empty(be, [groups * C]);
    variance = Tensor.empty(be, [groups * C]);
    if (runningMean && runningVar)
      be.batchnormStatsRunning(x.store, mean.store, variance.store, runningMean.store, runningVar.store, d, momentum);
    else be.batchnormStats(x.store, mean.store, variance.store, d);
  } else {
    if (!runningMean || !runningVar)
      throw new Error('batchnorm: eval mode (training: false) needs runningMean and runningVar');
    mean = runningMean;
    variance = runningVar;
  }
  const out = Tensor.empty(be, x.shape);
  be.batchnormApply(x.store, mean.store, variance.store, gamma.store, beta.store, out.store, d, eps, epi);

  const inputs = [x, gamma, beta];
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) {
    if (training) {
      mean.dispose();
      variance.dispose();
    }
    return out;
  }
  if (!training) {
    // the backward must see the statistics this forward used, even if a later training call updates them in place
    mean = copyOf(be, mean);
    variance = copyOf(be, variance);
  }
  return record(out, 'batchnorm', inputs, (g, needs, into) => {
    // back through the epilogue as batchnormGrad reads g (`through`; on the GPU one kernel where the device allows
    // it): the dropout mask (same key), then the activation's slope from sign(out), which is the sign of its input
    // wherever the mask kept the element (and 0 where it did not)
    const gx = Tensor.empty(be, x.shape);
    const none = (s: readonly number[]) => ({ t: Tensor.empty(be, s), add: false });
    const gg = needs[1] ? into(1, gamma.shape) : none(gamma.shape);
    const gb = needs[2] ? into(2, beta.shape) : none(beta.shape);
    be.batchnormGrad(
      x.store,
      g.store,
      mean.store,
      variance.store,
      gamma.store,
      gx.store,
      gg.t.store,
      gb.t.store,
      d,
      eps,
      training,
      { gamma: gg.add, beta: gb.add },
      epi && { y: out.store, epi },
    );
    return [gx, gg.t, gb.t].map((t, k) => {
      if (needs[k]) return t;
      t.dispose();
      return null;
    });
  });
}

function copyOf(be: Backend, t: Tensor): Tensor {
  const c = Tensor.empty(be, t.shape);
  be.copyStrided(t.store, 0, [1], c.store, 0, [1], [t.size]);
  return c;
}

/**
 * dropout(act(x)) for a tensor no batchnorm precedes (e.g. a convolution's output made without its activation):
 * batchnorm's epilogue alone, one kernel forward (activationDropout) and one backward (batchnormEpilogueGrad,
 * instead of the dropout's and the activation's gradients). Equal bit for bit to F.dropout(F.leakyRelu(x)) etc.
 */
export function activationDropout(x: Tensor, opts: Pick<BatchnormOptions, 'activation' | 'alpha' | 'dropout'>): Tensor {
  const { activation: act = 'none', alpha = 0.2, dropout: drop = null } = opts;
  const be: Backend = x.backend;
  if (x.dtype !== 'f32') throw new Error(`activationDropout: x must be f32, got ${x.dtype}`);
  if (act === 'leaky_relu' && !(alpha > 0))
    throw new Error(`activationDropout: leaky_relu needs a slope > 0, got ${alpha}`);
  if (drop && !(drop.p >= 0 && drop.p < 1))
    throw new Error(`activationDropout: dropout p must be in [0, 1), got ${drop.p}`);
  const epi: BatchnormEpilogue = { act, alpha, p: drop?.p ?? 0, key: drop?.key ?? 0 };
  const out = Tensor.empty(be, x.shape);
  be.activationDropout(x.store, out.store, x.size, epi);
  return record(out, 'activationDropout', [x], (g) => {
    const gx = Tensor.empty(be, x.shape);
    be.batchnormEpilogueGrad(g.store, out.store, gx.store, { N: x.size, C: 1, L: 1 }, epi);
    return [gx];
  });
}
