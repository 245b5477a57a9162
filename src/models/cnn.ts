// models/cnn.ts — the seed-003 CNN classifier for 28×28 grey images: three blocks of two 3×3 'same' convolutions
// (32, 32 | 64, 64 | 128, 128 channels), each conv followed by ReLU (fused into the conv) and batchnorm; 2×2
// max-pool and dropout after each pair; then dense 128 + ReLU + batchnorm + dropout and dense 10 (logits; the
// softmax lives in the loss). He-uniform initialisation. Its 128-d penultimate activations are the feature space
// of our FID (src/gan evaluation).
import type { Backend } from '../autograd/backend.js';
import type { Tensor } from '../autograd/tensor.js';
import type { Generator } from '../autograd/random.js';
import { Module, Sequential, type Layer } from '../nn/module.js';
import { BatchNorm, Conv2d, Dropout, Flatten, Linear, MaxPool2d } from '../nn/layers.js';
import { BN_MOMENTUM_CONVENTION, SAME_PADDING } from '../nn/torch_layout.js';

export interface CnnConfig {
  channels: number[];
  dense: number;
  dropout: number;
  /** batchnorm momentum in PyTorch's convention (Keras' 0.99 = 0.01 here) */
  bnMomentum: number;
  bnEps: number;
  classes: number;
}

export const SEED_CNN: CnnConfig = {
  channels: [32, 32, 64, 64, 128, 128],
  dense: 128,
  dropout: 0.2,
  bnMomentum: 0.01,
  bnEps: 1e-3,
  classes: 10,
};

/** what the classifier's inputs are (checkpoint metadata "preprocessing"; interop/pytorch reads it) */
export function cnnPreprocessing() {
  return {
    input: 'images [N, 1, 28, 28] float32 (NCHW), 0 black … 1 white',
    formula: 'x = pixel / 255',
    scale: 1 / 255,
    offset: 0,
    range: [0, 1],
    normalisation: 'none (no mean/std)',
  };
}

/**
 * How the classifier computes, for anyone rebuilding it in another framework (checkpoint metadata "conventions",
 * models/README.md; interop/pytorch/models.py follows it): each of these changes the outputs if done otherwise.
 */
export function cnnConventions(c: CnnConfig) {
  return {
    layerOrder: [
      'body: each conv{i} (3×3, stride 1, same) → ReLU → bn{i} (ReLU BEFORE batchnorm);',
      'after every second conv: pool{k} (max 2×2) → drop{k};',
      'dense: flatten (C, H, W order) → fc → ReLU → bn; dropout → out (logits; the softmax is in the loss)',
    ].join(' '),
    padding: `${SAME_PADDING} (3×3, stride 1: one on each side, PyTorch's padding=1)`,
    batchnorm: { eps: c.bnEps, momentum: c.bnMomentum, momentumConvention: BN_MOMENTUM_CONVENTION },
    linear: "weight [out, in], y = x·Wᵀ + b (PyTorch's layout); conv weight [out, in, kh, kw]",
    dropout: { p: c.dropout, note: 'inverted (kept values scaled by 1/(1 − p)); off in eval mode' },
    features: "the 128-d FID features are dense.bn's output (before the last dropout), in eval mode",
  };
}

export class Cnn extends Module {
  readonly body: Sequential;
  readonly dense: Sequential;
  readonly out: Linear;
  constructor(
    be: Backend,
    gen: Generator,
    readonly config: CnnConfig = SEED_CNN,
  ) {
    super();
    const c = config;
    const layers: Record<string, Layer> = {};
    let inC = 1;
    let size = 28;
    c.channels.forEach((ch, i) => {
      layers[`conv${i + 1}`] = new Conv2d(be, inC, ch, 3, gen, {
        padding: 'same',
        activation: 'relu',
        init: 'he_uniform',
      });
      layers[`bn${i + 1}`] = new BatchNorm(be, ch, { momentum: c.bnMomentum, eps: c.bnEps });
      inC = ch;
      if (i % 2 === 1) {
        layers[`pool${(i + 1) / 2}`] = new MaxPool2d(2);
        layers[`drop${(i + 1) / 2}`] = new Dropout(c.dropout, gen);
        size = Math.floor(size / 2);
      }
    });
    this.body = this.child('body', new Sequential(layers));
    this.dense = this.child(
      'dense',
      new Sequential({
        flatten: new Flatten(),
        fc: new Linear(be, inC * size * size, c.dense, gen, { activation: 'relu', init: 'he_uniform' }),
        bn: new BatchNorm(be, c.dense, { momentum: c.bnMomentum, eps: c.bnEps }),
      }),
    );
    this.out = this.child('out', new Linear(be, c.dense, c.classes, gen, { init: 'glorot_uniform' }));
    this.drop = this.child('drop', new Dropout(c.dropout, gen));
  }
  private readonly drop: Dropout;

  /**
   * the convolutional body with each pooling → dropout pair as one kernel each way, and each convolution's ReLU
   * applied by the batchnorm after it (whose gradient kernel then makes the ReLU's gradient too); the same bits as
   * the layers one by one
   */
  private bodyForward(x: Tensor): Tensor {
    const ls = this.body.layers;
    let h = x;
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i],
        next = ls[i + 1];
      if (l instanceof Conv2d && l.opts.activation === 'relu' && next instanceof BatchNorm) {
        h = next.forward(l.forward(h, { noActivation: true }), { inputRelu: true });
        i++;
      } else if (l instanceof MaxPool2d && next instanceof Dropout) {
        h = l.forward(h, { dropout: next.fusedMask() });
        i++;
      } else h = l.forward(h);
    }
    return h;
  }
  /** the dense layer (its ReLU applied by its batchnorm, as in the body), with `fuse` for that batchnorm */
  private denseForward(x: Tensor, fuse: { dropout?: { p: number; key: number } | null } = {}): Tensor {
    const [flatten, fc, bn] = this.dense.layers as [Flatten, Linear, BatchNorm];
    const relu = fc.opts.activation === 'relu';
    return bn.forward(fc.forward(flatten.forward(x), { noActivation: relu }), { inputRelu: relu, ...fuse });
  }
  /** the 128-d penultimate features (after the dense layer's batchnorm, before dropout) */
  features(x: Tensor): Tensor {
    return this.denseForward(this.bodyForward(x));
  }
  /** logits [N, classes] for images [N, 1, 28, 28]; the last dropout runs in the dense batchnorm's kernel */
  forward(x: Tensor): Tensor {
    const h = this.bodyForward(x);
    return this.out.forward(this.denseForward(h, { dropout: this.drop.fusedMask() }));
  }
}
