// gan/train.ts — training a conditional GAN (cgan) or an AC-GAN, one step at a time. `ganStep` is the whole
// algorithm and reads top to bottom: first the discriminator learns to tell real images from generated ones (and,
// for the AC-GAN, to name their class), then the generator learns to fool it. Everything a step does is recorded
// into the shared GPU command encoder; its scalar results are summed on the GPU and read back only at logging
// points (no host sync inside a step).
import type { Backend } from '../autograd/backend.js';
import { Tensor, backwardAll, keep, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import { Generator } from '../autograd/random.js';
import { Adam } from '../nn/optim.js';
import { Ema, recalibrateBatchnorm } from '../nn/ema.js';
import { type GanConfig, GanDiscriminator, GanGenerator } from './models.js';
import type { Module } from '../nn/module.js';

export interface GanHyper {
  lr: number;
  beta1: number;
  batch: number;
  epochs: number;
  /**
   * decay of the generator's weight average (src/nn/ema.ts), which the sample grids, FID and evaluation use;
   * 0 or absent: none (samples come from the trained weights)
   */
  emaDecay?: number;
}

export interface GanPreset {
  config: GanConfig;
  hyper: GanHyper;
  about: string;
}

const SEED_NETS = {
  noiseDim: 100,
  embedDim: 50,
  classes: 10,
  gMaps: 384,
  gMid: 192,
  dChannels: [32, 64, 128, 256] as [number, number, number, number],
  dropout: 0.5,
  bnMomentum: 0.01,
};
const LITE_NETS = {
  ...SEED_NETS,
  gMaps: 64,
  gMid: 32,
  dChannels: [16, 32, 64, 128] as [number, number, number, number],
};

export const PRESETS: Record<string, GanPreset> = {
  cgan: {
    config: { kind: 'cgan', ...SEED_NETS, dCond: 'projection' },
    hyper: { lr: 2e-4, beta1: 0.5, batch: 64, epochs: 50, emaDecay: 0.999 },
    about: 'our default: the seed-003 networks and hyper-parameters with a projection discriminator',
  },
  'cgan-channel': {
    config: { kind: 'cgan', ...SEED_NETS, dCond: 'channel' },
    hyper: { lr: 2e-4, beta1: 0.5, batch: 64, epochs: 50, emaDecay: 0.999 },
    about: "as cgan, but the label enters D as a second input channel (seed 000's form)",
  },
  'cgan-seed000': {
    config: { kind: 'cgan', ...SEED_NETS, dCond: 'channel' },
    hyper: { lr: 1e-4, beta1: 0.5, batch: 64, epochs: 200, emaDecay: 0.999 },
    about: 'seed 000: as cgan-channel with lr 1e-4 and 200 epochs',
  },
  acgan: {
    config: { kind: 'acgan', ...SEED_NETS, auxFake: false },
    hyper: { lr: 2e-4, beta1: 0.5, batch: 64, epochs: 50, emaDecay: 0.999 },
    about: "our AC-GAN: the seed-003 networks, D's class head trained on real images only",
  },
  'acgan-seed003': {
    config: { kind: 'acgan', ...SEED_NETS, auxFake: true },
    hyper: { lr: 2e-4, beta1: 0.5, batch: 64, epochs: 50, emaDecay: 0.999 },
    about: "seed 003's AC-GAN: as acgan, but D's class loss also on the generated images",
  },
  'cgan-lite': {
    config: { kind: 'cgan', ...LITE_NETS, dCond: 'projection' },
    hyper: { lr: 2e-4, beta1: 0.5, batch: 64, epochs: 1, emaDecay: 0.999 },
    about: 'cgan with narrow networks for software adapters: 64/32 G maps, 16–128 D channels, 1 epoch',
  },
  'acgan-lite': {
    config: { kind: 'acgan', ...LITE_NETS, auxFake: false },
    hyper: { lr: 2e-4, beta1: 0.5, batch: 64, epochs: 1, emaDecay: 0.999 },
    about: 'acgan with the narrow networks of cgan-lite, for software adapters',
  },
};

export interface GanState {
  G: GanGenerator;
  D: GanDiscriminator;
  optG: Adam;
  optD: Adam;
  /** noise, fake labels and dropout */
  gen: Generator;
  /** data order */
  dataGen: Generator;
  config: GanConfig;
  /** the generator's weight average (G_ema: a GanGenerator whose parameters follow G's), or null */
  ema: { G: GanGenerator; avg: Ema } | null;
  /** targets for the real/fake loss (`ones` also seeds the backward passes) */
  ones: Tensor;
  zeros: Tensor;
  /** [1, 1]: seeds the backward from D's two losses (on real, on generated images) */
  ones2: Tensor;
  /** per batch size B: the targets of D's real and generated halves [2B] (B ones, then B zeros) */
  realFake: Map<number, Tensor>;
}

export function makeGan(
  be: Backend,
  config: GanConfig,
  hyper: Pick<GanHyper, 'lr' | 'beta1' | 'emaDecay'>,
  seed: number,
): GanState {
  const gen = new Generator(seed);
  const G = new GanGenerator(be, gen, config);
  const D = new GanDiscriminator(be, gen, config);
  const betas: [number, number] = [hyper.beta1, 0.999];
  const optG = new Adam(G.parameters(), { lr: hyper.lr, betas });
  let ema: GanState['ema'] = null;
  if (hyper.emaDecay) {
    // its own generator for the (overwritten) initial weights: the training streams stay as without an average
    const Gema = new GanGenerator(be, new Generator(0), config).eval();
    ema = { G: Gema, avg: new Ema(optG, Gema, hyper.emaDecay) };
  }
  return {
    G,
    D,
    gen,
    dataGen: new Generator(seed ^ 0x5eed),
    config,
    optG,
    ema,
    optD: new Adam(D.parameters(), { lr: hyper.lr, betas }),
    ones: keep(Tensor.full(be, [1, 1], 1)),
    zeros: keep(Tensor.full(be, [1, 1], 0)),
    ones2: keep(Tensor.full(be, [2], 1)),
    realFake: new Map(),
  };
}

/** the scalars of one step (GPU tensors) */
export interface StepScalars {
  /** D's losses [2]: on the real images (dReal), on the generated ones (dFake) */
  d: Tensor;
  /** [1] AC-GAN: class cross-entropy of D (on real images; auxFake: real + generated); cGAN: 0 */
  aux: Tensor;
  /** G's loss (one element) */
  g: Tensor;
  /** [2] the mean probabilities D assigns: D(x) on the real images, D(G(z)) on the generated ones */
  dOut: Tensor;
}
/** the names of stepVector's elements */
export const SCALARS = ['dReal', 'dFake', 'aux', 'g', 'dx', 'dgz'] as const;
/** a step's scalars as one vector [6] in SCALARS' order (one kernel) */
export function stepVector(r: StepScalars): Tensor {
  return noGrad(() => F.concat([r.d, r.aux, F.reshape(r.g, [1]), r.dOut], 0));
}

/** the targets of D's real and generated halves for batch size B: [2B], B ones then B zeros (made once, kept) */
function realFakeTargets(be: Backend, s: GanState, B: number): Tensor {
  let t = s.realFake.get(B);
  if (!t)
    s.realFake.set(
      B,
      (t = keep(
        Tensor.from(
          be,
          Array.from({ length: 2 * B }, (_, i) => (i < B ? 1 : 0)),
          [2 * B, 1],
        ),
      )),
    );
  return t;
}

/** noise and uniformly drawn class labels for a batch of generated images, both made on the backend */
function noiseAndLabels(be: Backend, s: GanState, B: number): [Tensor, Tensor] {
  const z = F.randomNormal(be, [B, s.config.noiseDim], s.gen);
  const y = F.randomInt(be, [B], s.config.classes, s.gen); // on the GPU: an upload would cost a submit
  return [z, y];
}

/** freeze or unfreeze a network: its optimizer's parameter list (D's parameters, without walking D's modules) */
function setTrainable(params: readonly Tensor[], on: boolean): void {
  for (const p of params) p.requiresGrad = on;
}

/** which half of a step runs: both (training), or the discriminator's or the generator's alone (the playground's
 *  manual mode, as GAN Lab's: the other network's parameters and optimizer are untouched) */
export type StepPart = 'both' | 'D' | 'G';

/**
 * One training step on real images x [B,1,28,28] in [−1, 1] with labels y [B] (i32). Call inside tidy; the
 * returned scalars are the step's losses. `part` 'D' runs the discriminator's half alone (G makes the batch without
 * a tape), 'G' the generator's half alone (x and y unused: give the batch size B in x's place as a number); the
 * half not run gives zeros in the scalars.
 */
export function ganStep(
  be: Backend,
  s: GanState,
  x: Tensor | number,
  y: Tensor | null,
  part: StepPart = 'both',
): StepScalars {
  const { G, D, optG, optD, ones, zeros } = s;
  const B = typeof x === 'number' ? x : x.shape[0];
  const acgan = s.config.kind === 'acgan';
  // the AC-GAN's class head learns the real images' classes, and (auxFake, the paper's form) the generated images'
  // intended ones; without it the head stays a classifier of real images, which G must then satisfy
  const auxOnFake = acgan && s.config.auxFake !== false;
  const zero1 = () => F.reshape(zeros, [1]); // a view of the kept zero (no kernel)

  // One generator pass per step: G makes a batch (its tape kept), D learns to reject it, then G learns from the
  // same images through the updated D (as PyTorch's DCGAN example does; a second pass on fresh noise would add
  // about a sixth to the step's arithmetic: 12 of 70 GFLOP for the seed networks at batch 64).
  const [z, yFake] = noiseAndLabels(be, s, B);
  const fake = part === 'D' ? noGrad(() => G.forward(z, yFake)) : G.forward(z, yFake);

  // 1. Discriminator step: real images should score 1, generated ones 0 (and, AC-GAN, both be classified).
  //    Real and generated images go through D as one batch of two groups: its batchnorms normalise each group by
  //    the group's own statistics (and update the running ones real first, then generated), so this is what two
  //    passes, one per batch, would compute — in half the dispatches, each kernel with twice the work (a GPU at
  //    batch 64 has more cores than D's small layers have tiles). The generated half is detached: D's backward
  //    stops at the images, G is untouched.
  let dLoss: Tensor, dOut: Tensor, aux: Tensor;
  if (part !== 'G') {
    if (typeof x === 'number' || !y) throw new Error("ganStep: the discriminator's step needs a real batch (x, y)");
    optD.zeroGrad();
    const yBoth = F.concat([y, yFake], 0);
    const both = D.forward(F.concat([x, fake.detach()], 0), yBoth, undefined, { classHead: acgan, groups: 2 });
    // real images should score 1, generated ones 0: one loss kernel gives both halves' mean losses [dReal, dFake]
    // and the mean probabilities D assigns [D(x), D(G(z))] (for the log); one kernel their gradient
    ({ loss: dLoss, prob: dOut } = F.bceWithLogitsAndProb(both.adv, realFakeTargets(be, s, B), 2));
    // the cGAN has no class loss: its aux is a view of the kept zero (no kernel) and is not one of D's loss terms.
    // The AC-GAN's class loss on real and generated images (auxFake), each a mean over B, is twice the mean over both.
    aux = !acgan
      ? zero1()
      : auxOnFake
        ? F.mul(F.softmaxCrossEntropy(both.cls!, yBoth), 2)
        : F.softmaxCrossEntropy(F.narrow(both.cls!, 0, 0, B), y);
    // D's loss is dReal + dFake (+ aux): backward from its terms at once, as from their sum, which is never computed;
    // each seeded with kept ones (backward() would fill new ones)
    backwardAll(acgan ? [dLoss, aux] : [dLoss], acgan ? [s.ones2, ones] : [s.ones2]);
    optD.step();
  } else [dLoss, dOut, aux] = noGrad(() => [F.concat([zero1(), zero1()], 0), F.concat([zero1(), zero1()], 0), zero1()]);

  // 2. Generator step: the same images should now score 1 with the updated D (and carry the class they were asked
  //    for). D is frozen, so this backward computes only the gradient that flows through D into G's kept tape.
  let lossG: Tensor;
  if (part !== 'D') {
    optG.zeroGrad();
    setTrainable(optD.params, false);
    const out = D.forward(fake, yFake);
    lossG = acgan
      ? F.add(F.bceWithLogits(out.adv, ones), F.softmaxCrossEntropy(out.cls!, yFake))
      : F.bceWithLogits(out.adv, ones);
    lossG.backward(ones);
    setTrainable(optD.params, true);
    optG.step();

    // 3. The generator's weight average follows the new weights (one kernel); samples and evaluation use it.
    s.ema?.avg.update();
  } else lossG = zero1();

  return noGrad(() => ({ d: dLoss, aux: F.reshape(aux, [1]), g: lossG, dOut }));
}

/** the generator that samples and evaluation use: the weight average when there is one, else G */
export const samplingGenerator = (s: GanState): GanGenerator => s.ema?.G ?? s.G;

/**
 * Recompute G_ema's batchnorm running statistics for its averaged weights (`batches` forward passes of `batch`
 * uniformly labelled samples from a fixed noise stream: the same weights always get the same statistics). Call
 * before sampling from G_ema or saving it. Training state and random streams are untouched.
 */
export function recalibrateEma(be: Backend, s: GanState, batches = 8, batch = 256): void {
  if (!s.ema) return;
  const G = s.ema.G;
  const g = new Generator(0xe3a);
  recalibrateBatchnorm(G, batches, () => {
    const [z, y] = [F.randomNormal(be, [batch, s.config.noiseDim], g), F.randomInt(be, [batch], s.config.classes, g)];
    G.forward(z, y);
  });
}

/** fixed noise and labels for sample grids: `perClass` samples of each class, class-major */
export function sampleInputs(be: Backend, config: GanConfig, perClass: number, seed: number): [Tensor, Tensor] {
  const g = new Generator(seed);
  const n = perClass * config.classes;
  const z = Tensor.from(be, g.normal(n * config.noiseDim), [n, config.noiseDim]);
  const y = Tensor.from(
    be,
    Array.from({ length: n }, (_, i) => Math.floor(i / perClass)),
    [n],
    'i32',
  );
  return [z, y];
}

/** images G makes for (z, y) in eval mode (batchnorm running statistics), [n, 784] in [−1, 1] */
export async function generate(G: GanGenerator, z: Tensor, y: Tensor, batch = 500): Promise<Float32Array> {
  const wasTraining = G.training;
  G.eval();
  const n = z.shape[0];
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const img = noGrad(() => tidy(() => G.forward(F.narrow(z, 0, i, m), F.narrow(y, 0, i, m))));
    out.set(await img.toArray(), i * 784);
    img.dispose();
  }
  G.train(wasTraining);
  return out;
}

/** the L2 norm of each parameter's gradient (one readback) */
export async function gradNorms(m: Module): Promise<Record<string, number>> {
  const named = m.namedParameters().filter(([, p]) => p.grad);
  if (!named.length) return {};
  const sq = noGrad(() =>
    tidy(() =>
      F.concat(
        named.map(([, p]) => F.reshape(F.sum(F.square(p.grad!)), [1])),
        0,
      ),
    ),
  );
  const v = await sq.toArray();
  sq.dispose();
  return Object.fromEntries(named.map(([n], i) => [n, Math.sqrt(v[i])]));
}
