// layers.ts — the layers the seed models use, each a thin Module over one differentiable op:
// Linear, Conv2d, ConvTranspose2d, BatchNorm (1-D and 2-D), Embedding, Dropout, MaxPool2d, activations, Flatten.
// Weights follow PyTorch's layouts except Linear, which stores W as [in, out] (y = x·W + b; checkpoints hold it
// [out, in] as PyTorch does, src/nn/torch_layout.ts): conv [out, in, kh, kw], transposed conv [in, out, kh, kw].
// Initialisation comes from the seeded Generator.
import { Tensor } from '../autograd/tensor.js';
import type { Activation, Backend } from '../autograd/backend.js';
import * as F from '../autograd/ops.js';
import type { Generator } from '../autograd/random.js';
import { Layer, Module } from './module.js';
import * as init from './init.js';
import { storeTransposed } from './torch_layout.js';

export type Init = 'he_uniform' | 'glorot_uniform' | 'normal_0.02' | 'zeros';

function initWeight(be: Backend, shape: number[], how: Init, fanIn: number, fanOut: number, gen: Generator): Tensor {
  switch (how) {
    case 'he_uniform':
      return init.heUniform(be, shape, fanIn, gen);
    case 'glorot_uniform':
      return init.glorotUniform(be, shape, fanIn, fanOut, gen);
    case 'normal_0.02':
      return init.normal(be, shape, gen, 0, 0.02);
    case 'zeros':
      return Tensor.zeros(be, shape);
  }
}

export interface DenseOptions {
  bias?: boolean;
  activation?: Activation;
  alpha?: number;
  init?: Init;
}

export class Linear extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    be: Backend,
    readonly inFeatures: number,
    readonly outFeatures: number,
    gen: Generator,
    readonly opts: DenseOptions = {},
  ) {
    super();
    this.weight = storeTransposed(
      this.param(
        'weight',
        initWeight(be, [inFeatures, outFeatures], opts.init ?? 'glorot_uniform', inFeatures, outFeatures, gen),
      ),
    );
    this.bias = opts.bias === false ? null : this.param('bias', Tensor.zeros(be, [outFeatures]));
  }
  /** `fuse.noActivation`: leave the activation to the next layer (a batchnorm's inputRelu) */
  forward(x: Tensor, fuse: { noActivation?: boolean } = {}): Tensor {
    return F.linear(x, this.weight, this.bias, {
      activation: fuse.noActivation ? 'none' : this.opts.activation,
      alpha: this.opts.alpha,
    });
  }
  override describe(): string {
    return `Linear(${this.inFeatures}→${this.outFeatures}${this.opts.activation && this.opts.activation !== 'none' ? `, ${this.opts.activation}` : ''})`;
  }
}

export interface ConvOptions extends DenseOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
}

export class Conv2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    be: Backend,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    gen: Generator,
    readonly opts: ConvOptions = {},
  ) {
    super();
    const k2 = kernel * kernel;
    this.weight = this.param(
      'weight',
      initWeight(
        be,
        [outChannels, inChannels, kernel, kernel],
        opts.init ?? 'glorot_uniform',
        inChannels * k2,
        outChannels * k2,
        gen,
      ),
    );
    this.bias = opts.bias === false ? null : this.param('bias', Tensor.zeros(be, [outChannels]));
  }
  /**
   * `fuse.dropout` (Dropout.fusedMask): dropout(act(conv)), the activation (relu or leaky_relu; others stay in the
   * convolution) and the dropout made by F.activationDropout, whose backward is one kernel.
   * `fuse.noActivation`: leave the activation to the next layer (a batchnorm's inputRelu)
   */
  forward(x: Tensor, fuse: Pick<F.BatchnormOptions, 'dropout'> & { noActivation?: boolean } = {}): Tensor {
    const o = this.opts;
    const act = fuse.noActivation ? 'none' : (o.activation ?? 'none');
    const moved = fuse.dropout && (act === 'relu' || act === 'leaky_relu') ? act : 'none';
    const y = F.conv2d(x, this.weight, this.bias, {
      stride: o.stride,
      padding: o.padding,
      activation: moved === 'none' ? act : 'none',
      alpha: o.alpha,
    });
    return fuse.dropout ? F.activationDropout(y, { activation: moved, alpha: o.alpha, dropout: fuse.dropout }) : y;
  }
  override describe(): string {
    const o = this.opts;
    return `Conv2d(${this.inChannels}→${this.outChannels}, k${this.kernel}${o.stride && o.stride > 1 ? ` s${o.stride}` : ''}${o.padding !== undefined ? ` ${o.padding}` : ''}${o.activation && o.activation !== 'none' ? `, ${o.activation}` : ''})`;
  }
}

export interface ConvTransposeOptions extends DenseOptions {
  stride?: number;
  padding?: number | 'same';
  outputPadding?: number;
}

export class ConvTranspose2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    be: Backend,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    gen: Generator,
    readonly opts: ConvTransposeOptions = {},
  ) {
    super();
    const k2 = kernel * kernel;
    // fan-in of a transposed conv is what feeds each output: in·k² / stride², but Keras and PyTorch use in·k²/out·k²
    this.weight = this.param(
      'weight',
      initWeight(
        be,
        [inChannels, outChannels, kernel, kernel],
        opts.init ?? 'glorot_uniform',
        outChannels * k2,
        inChannels * k2,
        gen,
      ),
    );
    this.bias = opts.bias === false ? null : this.param('bias', Tensor.zeros(be, [outChannels]));
  }
  forward(x: Tensor): Tensor {
    const o = this.opts;
    return F.convTranspose2d(x, this.weight, this.bias, {
      stride: o.stride,
      padding: o.padding,
      outputPadding: o.outputPadding,
      activation: o.activation,
      alpha: o.alpha,
    });
  }
  override describe(): string {
    return `ConvTranspose2d(${this.inChannels}→${this.outChannels}, k${this.kernel} s${this.opts.stride ?? 1}${this.opts.activation && this.opts.activation !== 'none' ? `, ${this.opts.activation}` : ''})`;
  }
}

export interface BatchNormOptions {
  momentum?: number;
  eps?: number;
}

/** batch normalisation over axis 1 of [N, C] (1-D) or [N, C, H, W] (2-D) */
export class BatchNorm extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(
    be: Backend,
    readonly channels: number,
    readonly opts: BatchNormOptions = {},
  ) {
    super();
    this.weight = this.param('weight', Tensor.full(be, [channels], 1));
    this.bias = this.param('bias', Tensor.zeros(be, [channels]));
    this.runningMean = this.buffer('running_mean', Tensor.zeros(be, [channels]));
    this.runningVar = this.buffer('running_var', Tensor.full(be, [channels], 1));
  }
  /** `fuse`: an activation and/or dropout made by the same kernel, or the previous layer's ReLU; `groups`: statistics
   * per group of samples (see F.batchnorm) */
  forward(
    x: Tensor,
    fuse: Pick<F.BatchnormOptions, 'activation' | 'alpha' | 'dropout' | 'inputRelu' | 'groups'> = {},
  ): Tensor {
    return F.batchnorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.opts.momentum,
      eps: this.opts.eps,
      ...fuse,
    });
  }
  override describe(): string {
    return `BatchNorm(${this.channels})`;
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(
    be: Backend,
    readonly count: number,
    readonly dim: number,
    gen: Generator,
    how: Init = 'normal_0.02',
  ) {
    super();
    this.weight = this.param('weight', initWeight(be, [count, dim], how, count, dim, gen));
  }
  forward(indices: Tensor): Tensor {
    return F.embedding(this.weight, indices);
  }
  override describe(): string {
    return `Embedding(${this.count}×${this.dim})`;
  }
}

export class Dropout extends Layer {
  constructor(
    readonly p: number,
    readonly gen: Generator,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.gen, this.training);
  }
  /** for a kernel that fuses this dropout (F.batchnorm's `dropout`): the mask forward would draw, or null when off */
  fusedMask(): { p: number; key: number } | null {
    return this.training && this.p > 0 ? { p: this.p, key: this.gen.nextKey() } : null;
  }
  override describe(): string {
    return `Dropout(${this.p})`;
  }
}

export class MaxPool2d extends Layer {
  constructor(readonly k = 2) {
    super();
  }
  /** `fuse.dropout` (Dropout.fusedMask): the dropout after the pooling, in the same kernel each way */
  forward(x: Tensor, fuse: Pick<F.BatchnormOptions, 'dropout'> = {}): Tensor {
    return F.maxpool2d(x, this.k, this.k, fuse.dropout ?? null);
  }
  override describe(): string {
    return `MaxPool2d(${this.k})`;
  }
}

export class Act extends Layer {
  constructor(
    readonly kind: 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid',
    readonly alpha = 0.2,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    switch (this.kind) {
      case 'relu':
        return F.relu(x);
      case 'leaky_relu':
        return F.leakyRelu(x, this.alpha);
      case 'tanh':
        return F.tanh(x);
      case 'sigmoid':
        return F.sigmoid(x);
    }
  }
  override describe(): string {
    return this.kind;
  }
}

/** [N, ...] → [N, prod(...)] */
export class Flatten extends Layer {
  forward(x: Tensor): Tensor {
    return F.reshape(x, [x.shape[0], -1]);
  }
}
