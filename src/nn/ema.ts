// ema.ts — an exponential moving average of a network's weights (Polyak averaging; for GANs see Yazıcı et al.,
// "The Unusual Effectiveness of Averaging in GAN Training", ICLR 2019). A second copy of the network (`target`)
// follows the trained one: after each optimizer step, avg ← d·avg + (1 − d)·θ with
// d = min(decay, (1 + t)/(10 + t)) at update t, so the early average forgets the random initial weights quickly.
// Adversarial training oscillates around a good generator; the average sits nearer its centre, so samples and
// evaluation come from it. Training never reads it.
// When the optimizer keeps its parameters in an arena (multi-tensor Adam, the default), the average's parameters
// live in an arena of the same layout and one emaUpdate kernel averages every tensor; otherwise one per tensor.
// Batchnorm running statistics are not averaged (they belong to the weights that produced them):
// `recalibrateBatchnorm` recomputes them for the averaged weights.
import type { Backend, Store } from '../autograd/backend.js';
import { noGrad, tidy, type Tensor } from '../autograd/tensor.js';
import type { Adam } from './optim.js';
import type { Module } from './module.js';
import { BatchNorm } from './layers.js';

export class Ema {
  /** updates so far (what the warm-up of the decay counts; checkpoints save it) */
  updates = 0;
  private readonly be: Backend;
  private readonly avgParams: Tensor[];
  /** the two arenas when both exist: [source whole, average whole, elements] */
  private readonly arenas: { src: Store; avg: Store; total: number } | null;

  /** `target` is a network of the same architecture as the optimizer's (its parameters in the same order); its
   *  parameters are overwritten with the optimizer's current ones */
  constructor(
    readonly source: Adam,
    target: Module,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`Ema: decay ${decay} is not in (0, 1)`);
    const params = source.params;
    this.avgParams = target.parameters();
    if (this.avgParams.length !== params.length)
      throw new Error(`Ema: the average has ${this.avgParams.length} parameters, the optimizer ${params.length}`);
    params.forEach((p, i) => {
      const a = this.avgParams[i];
      if (a.shape.join() !== p.shape.join())
        throw new Error(`Ema: parameter ${p.name || i} is [${p.shape}] in the network, [${a.shape}] in the average`);
    });
    this.be = params[0]?.backend ?? this.avgParams[0]?.backend;
    const src = source.paramArena();
    if (src) {
      const a = this.be.arena(src.layout);
      this.avgParams.forEach((t, i) => t.relocate(a.slots[i]));
      this.arenas = { src: src.whole, avg: a.whole, total: src.layout.total };
    } else this.arenas = null;
    this.copyFromSource();
  }

  /** the decay the next update uses */
  nextDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** avg ← d·avg + (1 − d)·θ for every parameter (no readback; one kernel with arenas) */
  update(): void {
    const d = this.nextDecay();
    this.updates++;
    if (this.arenas) this.be.emaUpdate(this.arenas.avg, this.arenas.src, this.arenas.total, d);
    else this.source.params.forEach((p, i) => this.be.emaUpdate(this.avgParams[i].store, p.store, p.size, d));
  }

  /** frees the arena handle (the average's parameters belong to the target network and go with it) */
  dispose(): void {
    if (this.arenas) this.be.free(this.arenas.avg);
  }

  /** the average := the optimizer's current parameters (and the warm-up restarts) */
  copyFromSource(): void {
    this.updates = 0;
    this.source.params.forEach((p, i) =>
      this.be.copyStrided(p.store, 0, [1], this.avgParams[i].store, 0, [1], [p.size]),
    );
  }
}

/**
 * Recompute every batchnorm's running statistics in `m` for its current weights: `run(k)` makes a forward pass
 * on batch k (k = 0 … batches − 1) in training mode without gradients, and each batchnorm's running mean and
 * variance become the plain average of the `batches` batch statistics (momentum 1/(k + 1) on batch k). The
 * modules' momenta and training flags are restored afterwards.
 */
export function recalibrateBatchnorm(m: Module, batches: number, run: (k: number) => void): void {
  const bns = m
    .namedModules()
    .map(([, x]) => x)
    .filter((x): x is BatchNorm => x instanceof BatchNorm);
  if (!bns.length || batches < 1) return;
  const momenta = bns.map((b) => b.opts.momentum);
  const wasTraining = m.training;
  m.train();
  try {
    for (let k = 0; k < batches; k++) {
      for (const b of bns) b.opts.momentum = 1 / (k + 1);
      noGrad(() => tidy(() => run(k)));
    }
  } finally {
    bns.forEach((b, i) => (b.opts.momentum = momenta[i]));
    m.train(wasTraining);
  }
}
