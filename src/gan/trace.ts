// gan/trace.ts — `--trace`: statistics of every layer's activations and of the gradients flowing back into them,
// and of every parameter and its gradient, for people who study GAN training. Measured once per epoch on a fixed
// batch (fixed noise and labels, real images from the training set) in training mode: the generator's loss is
// backpropagated through the (frozen) discriminator into the generator, as in a G step, and the discriminator's
// own activations are observed on the real batch. Nothing here changes the weights or optimiser state.
import type { Backend } from '../autograd/backend.js';
import { Tensor, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import type { GanState } from './train.js';
import type { Module } from '../nn/module.js';

export interface Stat {
  mean: number;
  std: number;
  /** mean of |x| */
  absMean: number;
}
export interface LayerTrace {
  act: Stat;
  grad: Stat | null;
}
export interface GanTrace {
  G: Record<string, LayerTrace>;
  /** D's activations on real images */
  D: Record<string, LayerTrace>;
  params: Record<string, { weight: Stat; grad: Stat | null }>;
}

/** [mean, std, mean |x|] of a tensor as a [3] GPU tensor */
function stat3(x: Tensor): Tensor {
  const m = F.mean(x);
  const std = F.sqrt(F.abs(F.sub(F.mean(F.square(x)), F.square(m)))); // |·| guards round-off below 0
  return F.concat([F.reshape(m, [1]), F.reshape(std, [1]), F.reshape(F.mean(F.abs(x)), [1])], 0);
}

/** take the parameters' gradients aside, and their optimizer's gradient slots (which .grad may view) with them */
function snapshotGrads(m: Module): Map<Tensor, [Tensor | null, Tensor | null]> {
  const saved = new Map<Tensor, [Tensor | null, Tensor | null]>();
  for (const p of m.parameters()) {
    saved.set(p, [p.grad, p.gradSlot]);
    p.grad = null;
    p.gradSlot = null;
  }
  return saved;
}
function restoreGrads(saved: Map<Tensor, [Tensor | null, Tensor | null]>): void {
  for (const [p, [g, slot]] of saved) {
    p.grad?.dispose();
    p.grad = g;
    p.gradSlot = slot;
  }
}

export async function traceGan(
  be: Backend,
  s: GanState,
  z: Tensor,
  y: Tensor,
  xReal: Tensor,
  yReal: Tensor,
): Promise<GanTrace> {
  // leave no trace: gradients, batchnorm running statistics and the random streams are restored afterwards
  const gSaved = snapshotGrads(s.G);
  const dSaved = snapshotGrads(s.D);
  const buffers = [...s.G.namedBuffers(), ...s.D.namedBuffers()].map(([, t]) => t);
  const bufferData = await Promise.all(buffers.map((t) => t.toArray()));
  const genState = s.gen.state();
  const keys: [string, string, 'act' | 'grad'][] = [];
  const gActs: [string, Tensor][] = [];
  const dActs: [string, Tensor][] = [];
  // a G step's forward and backward, with the intermediates' gradients kept; then D on real images
  const flat = tidy(() => {
    for (const p of s.D.parameters()) p.requiresGrad = false;
    const img = s.G.forward(z, y, (name, t) => {
      t.retainGrad = true;
      gActs.push([name, t]);
      return t;
    });
    F.bceWithLogits(s.D.forward(img, y).adv, s.ones).backward();
    for (const p of s.D.parameters()) p.requiresGrad = true;
    return noGrad(() => {
      s.D.forward(xReal, yReal, (name, t) => (dActs.push([name, t]), t));
      const parts: Tensor[] = [];
      const none = () => Tensor.full(be, [3], NaN);
      for (const [n, t] of gActs) {
        keys.push(['G', n, 'act'], ['G', n, 'grad']);
        parts.push(stat3(t), t.grad ? stat3(t.grad) : none());
      }
      for (const [n, t] of dActs) {
        keys.push(['D', n, 'act']);
        parts.push(stat3(t));
      }
      for (const [n, p] of s.G.namedParameters()) {
        keys.push(['P', `G.${n}`, 'act'], ['P', `G.${n}`, 'grad']);
        parts.push(stat3(p), p.grad ? stat3(p.grad) : none());
      }
      for (const [n, p] of s.D.namedParameters()) {
        keys.push(['P', `D.${n}`, 'act']);
        parts.push(stat3(p));
      }
      for (const [, t] of gActs) {
        t.grad?.dispose();
        t.grad = null;
        t.retainGrad = false;
      }
      return F.concat(parts, 0);
    });
  });
  const v = await flat.toArray();
  flat.dispose();
  restoreGrads(gSaved);
  restoreGrads(dSaved);
  buffers.forEach((t, i) => t.assign(bufferData[i]));
  s.gen.setState(genState);
  const st = (i: number): Stat | null =>
    Number.isNaN(v[3 * i]) ? null : { mean: v[3 * i], std: v[3 * i + 1], absMean: v[3 * i + 2] };
  const res: GanTrace = { G: {}, D: {}, params: {} };
  keys.forEach(([who, name, kind], i) => {
    const s0 = st(i);
    if (who === 'P') {
      const e = (res.params[name] ??= { weight: s0!, grad: null });
      if (kind === 'grad') e.grad = s0;
      else e.weight = s0!;
    } else {
      const e = ((who === 'G' ? res.G : res.D)[name] ??= { act: s0!, grad: null });
      if (kind === 'grad') e.grad = s0;
      else e.act = s0!;
    }
  });
  return res;
}

/** one line of trace.jsonl: an epoch's trace */
export type TraceLine = GanTrace & { epoch: number; step: number };
