// gan/models.ts — the generator and the two discriminators.
// Generator (both GANs, seed 003): the label goes through an embedding (10 → 50) and a dense layer to one 7×7 map;
// the noise (100-d) through a dense layer + ReLU to `gMaps` 7×7 maps; the two are concatenated, then a 5×5
// stride-2 transposed convolution to `gMid` maps at 14×14 with batchnorm and ReLU, and a 5×5 stride-2 transposed
// convolution to one 28×28 map with tanh (images live in [−1, 1]).
// AC-GAN discriminator (seed 003): four 3×3 convolutions (32, 64, 128, 256 channels; strides 2, 1, 2, 1) with
// LeakyReLU 0.2, batchnorm on the last three, dropout after each; two heads on the flattened 7×7×256 features:
// real/fake (one logit) and class (ten logits).
// cGAN discriminator (seed 000's conditioning), in one of two forms (GanConfig.dCond):
//   'projection' (our default; Miyato & Koyama, "cGANs with Projection Discriminator", 2018): the image alone goes
//     through the same convolutions to features φ(x) (the flattened 7×7×256 maps); the logit is
//     w·φ(x) + b + ⟨V_y, φ(x)⟩, with V an embedding of one feature-sized row per class. The class enters as an
//     inner product with what D sees, so D must judge "is this a typical image of class y", not only "is this
//     real"; the channel form lets D learn to ignore the label.
//   'channel' (seed 000's form): the label is embedded (10 → 50) and mapped by a dense layer to a 28×28 map stacked
//     on the image as a second input channel; then the same convolutions and one real/fake head.
// All weights N(0, 0.02).
import type { Backend } from '../autograd/backend.js';
import type { Tensor } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';
import type { Generator } from '../autograd/random.js';
import { Module } from '../nn/module.js';
import { BatchNorm, Conv2d, ConvTranspose2d, Dropout, Embedding, Linear } from '../nn/layers.js';
import { BN_MOMENTUM_CONVENTION, SAME_PADDING } from '../nn/torch_layout.js';

/** the batchnorm epsilon of G and D (PyTorch's default) */
export const GAN_BN_EPS = 1e-5;

/** what the networks' inputs and outputs are (checkpoint metadata "preprocessing"; interop/pytorch reads it) */
export function ganPreprocessing(c: GanConfig) {
  return {
    input:
      `D: images [N, 1, 28, 28] float32 (NCHW) in [−1, 1]; ` +
      `G: noise z [N, ${c.noiseDim}] ~ N(0, 1) and labels y [N] (int, 0–${c.classes - 1})`,
    formula: 'x = pixel · 2/255 − 1',
    scale: 2 / 255,
    offset: -1,
    range: [-1, 1],
    output: 'G: images in [−1, 1] (tanh); pixel = (x + 1) · 255/2',
  };
}

/**
 * How G and D compute, for anyone rebuilding them in another framework (checkpoint metadata "conventions",
 * models/README.md; interop/pytorch/models.py follows it).
 */
export function ganConventions(c: GanConfig) {
  const cond = c.kind === 'acgan' ? 'acgan' : (c.dCond ?? 'channel');
  return {
    generator: [
      'label_map = label_fc(label_embed(y)) as [N, 1, 7, 7]; noise_maps = ReLU(noise_fc(z)) as [N, gMaps, 7, 7];',
      'concat([noise_maps, label_map], channels) → up1 (5×5 transposed, stride 2, same, no bias) → bn1 → ReLU',
      '→ up2 (5×5 transposed, stride 2, same) → tanh',
    ].join(' '),
    discriminator: [
      cond === 'channel' ? 'input: concat([x, label_fc(label_embed(y)) as [N, 1, 28, 28]], channels);' : 'input: x;',
      'conv1 (3×3, stride 2, same, bias) → LeakyReLU(0.2) → dropout;',
      'conv2, conv3, conv4 (strides 1, 2, 1, same, no bias) → bn → LeakyReLU(0.2) → dropout;',
      'features φ = flatten (C, H, W order);',
      cond === 'projection'
        ? 'logit = adv(φ) + Σ label_proj(y)·φ (projection)'
        : cond === 'acgan'
          ? 'logit = adv(φ), class logits = cls(φ)'
          : 'logit = adv(φ)',
    ].join(' '),
    padding: [
      `${SAME_PADDING}: 3×3 stride 2 pads 0 at the top/left and 1 at the bottom/right (not PyTorch's padding=1);`,
      "a transposed conv gives input·stride, i.e. PyTorch's ConvTranspose2d(padding=0) output cropped to",
      '[p, p + input·stride) with p = floor((kernel − stride)/2) (5×5 stride 2: p = 1)',
    ].join(' '),
    batchnorm: { eps: GAN_BN_EPS, momentum: c.bnMomentum, momentumConvention: BN_MOMENTUM_CONVENTION },
    linear: "weight [out, in], y = x·Wᵀ + b (PyTorch's layout); transposed conv weight [in, out, kh, kw]",
    dropout: { p: c.dropout, note: 'inverted; off in eval mode' },
    weights:
      'G.* the trained generator, G_ema.* its weight average (samples and evaluation use it), ' +
      "D.* the discriminator; optim.m.*/optim.v.* Adam's moments by parameter name",
  };
}

/** called with each named intermediate activation; returns it unchanged */
export type Observer = (name: string, t: Tensor) => Tensor;

export interface GanConfig {
  kind: 'cgan' | 'acgan';
  noiseDim: number;
  embedDim: number;
  classes: number;
  gMaps: number;
  gMid: number;
  dChannels: [number, number, number, number];
  dropout: number;
  /** batchnorm momentum, PyTorch convention */
  bnMomentum: number;
  /** how the cGAN's discriminator takes the label (absent: 'channel', what checkpoints before it was added used) */
  dCond?: 'channel' | 'projection';
  /**
   * AC-GAN: whether D's class loss also covers generated images (labelled with the class they were asked for), as
   * in the AC-GAN paper and seed 003 (absent: true); false trains D's class head on real images only
   */
  auxFake?: boolean;
}

export class GanGenerator extends Module {
  readonly labelEmbed: Embedding;
  readonly labelFc: Linear;
  readonly noiseFc: Linear;
  readonly up1: ConvTranspose2d;
  readonly bn1: BatchNorm;
  readonly up2: ConvTranspose2d;
  constructor(
    be: Backend,
    gen: Generator,
    readonly config: GanConfig,
  ) {
    super();
    const c = config;
    this.labelEmbed = this.child('label_embed', new Embedding(be, c.classes, c.embedDim, gen));
    this.labelFc = this.child('label_fc', new Linear(be, c.embedDim, 49, gen, { init: 'normal_0.02' }));
    this.noiseFc = this.child(
      'noise_fc',
      new Linear(be, c.noiseDim, c.gMaps * 49, gen, { init: 'normal_0.02', activation: 'relu' }),
    );
    this.up1 = this.child(
      'up1',
      new ConvTranspose2d(be, c.gMaps + 1, c.gMid, 5, gen, {
        stride: 2,
        padding: 'same',
        bias: false,
        init: 'normal_0.02',
      }),
    );
    this.bn1 = this.child('bn1', new BatchNorm(be, c.gMid, { momentum: c.bnMomentum, eps: GAN_BN_EPS }));
    this.up2 = this.child(
      'up2',
      new ConvTranspose2d(be, c.gMid, 1, 5, gen, {
        stride: 2,
        padding: 'same',
        activation: 'tanh',
        init: 'normal_0.02',
      }),
    );
  }
  /**
   * images [B, 1, 28, 28] in [−1, 1] for noise z [B, noiseDim] and labels y [B] (i32). `see` receives each
   * layer's output by name (--trace statistics, the playground's feature maps).
   */
  forward(z: Tensor, y: Tensor, see: Observer = (_, t) => t): Tensor {
    const B = z.shape[0];
    const label = see('label_map', F.reshape(this.labelFc.forward(this.labelEmbed.forward(y)), [B, 1, 7, 7]));
    const noise = see('noise_maps', F.reshape(this.noiseFc.forward(z), [B, this.config.gMaps, 7, 7]));
    const up1 = see('up1', this.up1.forward(F.concat([noise, label], 1)));
    const h = see('up1_bn_relu', this.bn1.forward(up1, { activation: 'relu' })); // one kernel
    return see('image', this.up2.forward(h));
  }
}

export interface DiscriminatorOutput {
  /** real/fake logit [B, 1] */
  adv: Tensor;
  /** class logits [B, classes] (AC-GAN only) */
  cls: Tensor | null;
}

export class GanDiscriminator extends Module {
  readonly convs: Conv2d[] = [];
  readonly bns: (BatchNorm | null)[] = [];
  readonly drop: Dropout;
  readonly advHead: Linear;
  readonly clsHead: Linear | null;
  readonly labelEmbed: Embedding | null;
  readonly labelFc: Linear | null;
  /** projection cGAN: V, one row of φ(x)'s width per class */
  readonly labelProj: Embedding | null;
  constructor(
    be: Backend,
    gen: Generator,
    readonly config: GanConfig,
  ) {
    super();
    const c = config;
    const cond = c.kind === 'cgan';
    const channel = cond && (c.dCond ?? 'channel') === 'channel';
    this.labelEmbed = channel ? this.child('label_embed', new Embedding(be, c.classes, c.embedDim, gen)) : null;
    this.labelFc = channel
      ? this.child('label_fc', new Linear(be, c.embedDim, 784, gen, { init: 'normal_0.02' }))
      : null;
    let inC = channel ? 2 : 1;
    c.dChannels.forEach((ch, i) => {
      const stride = i % 2 === 0 ? 2 : 1;
      const bn = i > 0;
      this.convs.push(
        this.child(
          `conv${i + 1}`,
          new Conv2d(be, inC, ch, 3, gen, {
            stride,
            padding: 'same',
            bias: !bn,
            init: 'normal_0.02',
            activation: bn ? 'none' : 'leaky_relu',
            alpha: 0.2,
          }),
        ),
      );
      this.bns.push(
        bn ? this.child(`bn${i + 1}`, new BatchNorm(be, ch, { momentum: c.bnMomentum, eps: GAN_BN_EPS })) : null,
      );
      inC = ch;
    });
    this.drop = this.child('drop', new Dropout(c.dropout, gen));
    const feat = inC * 49;
    this.advHead = this.child('adv', new Linear(be, feat, 1, gen, { init: 'normal_0.02' }));
    this.clsHead = cond ? null : this.child('cls', new Linear(be, feat, c.classes, gen, { init: 'normal_0.02' }));
    this.labelProj = cond && !channel ? this.child('label_proj', new Embedding(be, c.classes, feat, gen)) : null;
  }
  /**
   * x [B, 1, 28, 28] in [−1, 1]; y [B] i32 (used by the cGAN, ignored by the AC-GAN). Unobserved, each batchnorm
   * → LeakyReLU → dropout runs as one kernel (conv1's LeakyReLU → dropout too, after the convolution); with `see`,
   * separately, so that `see` gets each layer's activation before dropout. Both give the same bits.
   * `classHead: false` leaves the AC-GAN's class logits out (cls null): a batch whose classes no loss reads.
   * `groups`: the batch is that many batches of equal size (e.g. real images, then generated ones), each seen by
   * the batchnorms as if alone (statistics per group, running statistics updated group after group): one pass
   * gives what one pass per group would, with a GPU's worth of work in each kernel instead of a fraction.
   */
  forward(x: Tensor, y: Tensor, see?: Observer, { classHead = true, groups = 1 } = {}): DiscriminatorOutput {
    const B = x.shape[0];
    const look: Observer = see ?? ((_, t) => t);
    let h = x;
    if (this.labelEmbed && this.labelFc)
      h = F.concat(
        [x, look('label_map', F.reshape(this.labelFc.forward(this.labelEmbed.forward(y)), [B, 1, 28, 28]))],
        1,
      );
    this.convs.forEach((conv, i) => {
      const bn = this.bns[i];
      if (!bn && !see) {
        h = conv.forward(h, { dropout: this.drop.fusedMask() }); // LeakyReLU → dropout in one kernel after it
        return;
      }
      h = conv.forward(h);
      if (bn && !see)
        h = bn.forward(h, { activation: 'leaky_relu', alpha: 0.2, dropout: this.drop.fusedMask(), groups });
      else {
        if (bn) h = F.leakyRelu(bn.forward(h, { groups }), 0.2);
        h = this.drop.forward(look(`conv${i + 1}`, h));
      }
    });
    const flat = F.reshape(h, [B, -1]);
    let adv = this.advHead.forward(flat);
    // projection: + ⟨V_y, φ(x)⟩ per image
    if (this.labelProj) adv = F.add(adv, F.sum(F.mul(this.labelProj.forward(y), flat), 1, true));
    return { adv: look('adv', adv), cls: this.clsHead && classHead ? look('cls', this.clsHead.forward(flat)) : null };
  }
}
