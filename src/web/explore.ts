// web/explore.ts — what the playground computes, kept apart from the page so Node tests can run it on the Node
// engine: the sample grid, the noise directions that change one image most, interpolations, and one sample's path
// through the generator and the discriminator's verdict on it. Browser-clean (no Node built-ins, no DOM).
//
// The noise grid is exactly `npm run sample`'s (Generator(seed).normal(n·noiseDim), a row per class), so the
// page's pixels for a seed can be compared with the CLI's.
import type { Backend } from '../autograd/backend.js';
import { Tensor, keep, noGrad, tidy } from '../autograd/tensor.js';
import { Generator } from '../autograd/random.js';
import { symmetricEigen } from '../eval/frechet.js';
import { lerp, slerp } from '../eval/latent.js';
import type { GanDiscriminator, GanGenerator } from '../gan/models.js';
import { generate } from '../gan/train.js';

/** the grid's noise: `perClass` vectors per class, class-major ([classes·perClass, noiseDim]), and the labels */
export function gridNoise(
  noiseDim: number,
  classes: number,
  perClass: number,
  seed: number,
): { z: Float32Array; y: Int32Array } {
  const n = classes * perClass;
  const z = Float32Array.from(new Generator(seed).normal(n * noiseDim));
  const y = Int32Array.from({ length: n }, (_, i) => Math.floor(i / perClass));
  return { z, y };
}

/** images [n, 784] in [−1, 1] for host-side noise rows and labels (eval mode; one readback) */
export async function generateImages(
  be: Backend,
  G: GanGenerator,
  z: Float32Array,
  y: ArrayLike<number>,
): Promise<Float32Array> {
  const n = y.length;
  const zt = Tensor.from(be, z, [n, G.config.noiseDim]);
  const yt = Tensor.from(be, Int32Array.from(y), [n], 'i32');
  try {
    return await generate(G, zt, yt);
  } finally {
    zt.dispose();
    yt.dispose();
  }
}

export interface Directions {
  /** k unit vectors in noise space, [k, noiseDim] */
  vectors: Float64Array[];
  /** how much the image moves per unit step along each (the Jacobian's singular values, pixel units in [−1, 1]) */
  gains: number[];
}

/**
 * The k directions in noise space along which the image G(z, y) changes most: the top right-singular vectors of
 * the Jacobian ∂image/∂z, estimated by central differences (one batch of 2·noiseDim images, step h) and an
 * eigendecomposition of JᵀJ in float64. In eval mode each image depends on its own noise only, so the batch is
 * exactly the 2·noiseDim perturbed copies.
 */
export async function principalDirections(
  be: Backend,
  G: GanGenerator,
  z: ArrayLike<number>,
  label: number,
  k = 5,
  h = 0.05,
): Promise<Directions> {
  const d = G.config.noiseDim;
  const zs = new Float32Array(2 * d * d);
  for (let i = 0; i < d; i++) {
    zs.set(z as ArrayLike<number>, 2 * i * d);
    zs.set(z as ArrayLike<number>, (2 * i + 1) * d);
    zs[2 * i * d + i] += h;
    zs[(2 * i + 1) * d + i] -= h;
  }
  const imgs = await generateImages(be, G, zs, new Int32Array(2 * d).fill(label));
  const P = 784;
  // J[p][i] = (img(z + h·e_i) − img(z − h·e_i))[p] / 2h, then JᵀJ
  const J = new Float64Array(P * d);
  for (let i = 0; i < d; i++)
    for (let p = 0; p < P; p++) J[p * d + i] = (imgs[2 * i * P + p] - imgs[(2 * i + 1) * P + p]) / (2 * h);
  const JtJ = new Float64Array(d * d);
  for (let p = 0; p < P; p++)
    for (let i = 0; i < d; i++) {
      const a = J[p * d + i];
      if (a === 0) continue;
      for (let j = i; j < d; j++) JtJ[i * d + j] += a * J[p * d + j];
    }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) JtJ[i * d + j] = JtJ[j * d + i];
  const eig = symmetricEigen({ n: d, data: JtJ });
  const vectors: Float64Array[] = [];
  const gains: number[] = [];
  for (let r = 0; r < Math.min(k, d); r++) {
    const col = d - 1 - r; // eigenvalues ascending: the largest last
    const v = new Float64Array(d);
    for (let i = 0; i < d; i++) v[i] = eig.vectors[i * d + col];
    // a sign convention so the same direction keeps its sign from one computation to the next
    let big = 0;
    for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) for (let i = 0; i < d; i++) v[i] = -v[i];
    vectors.push(v);
    gains.push(Math.sqrt(Math.max(0, eig.values[col])));
  }
  return { vectors, gains };
}

/** z + Σ αᵢ·vᵢ */
export function moveAlong(z: ArrayLike<number>, dirs: Float64Array[], alphas: number[]): Float32Array {
  const out = Float32Array.from(z);
  dirs.forEach((v, r) => {
    const a = alphas[r] ?? 0;
    if (a) for (let i = 0; i < out.length; i++) out[i] += a * v[i];
  });
  return out;
}

/** `steps` noise vectors from a to b (inclusive), lerp or slerp, as rows of one array */
export function interpolate(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  steps: number,
  mode: 'lerp' | 'slerp',
): Float32Array {
  const d = a.length;
  const out = new Float32Array(steps * d);
  for (let s = 0; s < steps; s++)
    out.set(
      mode === 'slerp' ? slerp(a, b, steps === 1 ? 0 : s / (steps - 1)) : lerp(a, b, steps === 1 ? 0 : s / (steps - 1)),
      s * d,
    );
  return out;
}

export interface LayerMaps {
  /** which network and layer: "G.noise_maps", "D.conv1", … */
  name: string;
  /** [channels, height, width] */
  shape: [number, number, number];
  data: Float32Array;
}

export interface Verdict {
  /** D's probability that the image is real, σ(adv logit) */
  real: number;
  logit: number;
  /** AC-GAN: D's class probabilities (softmax of the class head); null for the cGAN */
  classProbs: number[] | null;
}

export interface SamplePath {
  image: Float32Array;
  /** the generator's layers, input to output, then the discriminator's convolutions */
  layers: LayerMaps[];
  verdict: Verdict;
}

/**
 * One sample's way through both networks (eval mode): every named activation the models expose through their
 * observers (the generator's label map, noise maps, first upsampling before and after batchnorm+ReLU, image; the
 * discriminator's four convolution outputs), and D's verdict on the image. One readback per tensor, after the
 * whole forward pass is recorded.
 */
export async function samplePath(
  be: Backend,
  G: GanGenerator,
  D: GanDiscriminator,
  z: ArrayLike<number>,
  label: number,
): Promise<SamplePath> {
  const held: [string, Tensor][] = [];
  const hold =
    (prefix: string) =>
    (name: string, t: Tensor): Tensor => {
      if (t.shape.length === 4) held.push([`${prefix}.${name}`, keep(t)]);
      return t;
    };
  const wasG = G.training,
    wasD = D.training;
  G.eval();
  D.eval();
  let adv: Tensor, cls: Tensor | null;
  try {
    [adv, cls] = noGrad(() =>
      tidy(() => {
        const zt = Tensor.from(be, Float32Array.from(z), [1, G.config.noiseDim]);
        const yt = Tensor.from(be, [label], [1], 'i32');
        const img = G.forward(zt, yt, hold('G'));
        const out = D.forward(img, yt, hold('D'));
        return [keep(out.adv), out.cls ? keep(out.cls) : null] as [Tensor, Tensor | null];
      }),
    );
  } finally {
    G.train(wasG);
    D.train(wasD);
  }
  try {
    const layers: LayerMaps[] = [];
    for (const [name, t] of held)
      layers.push({ name, shape: [t.shape[1], t.shape[2], t.shape[3]], data: Float32Array.from(await t.toArray()) });
    const logit = (await adv.toArray())[0];
    const classProbs = cls ? softmax(Array.from(await cls.toArray())) : null;
    const image = layers.find((l) => l.name === 'G.image')!.data;
    return { image, layers, verdict: { real: 1 / (1 + Math.exp(-logit)), logit, classProbs } };
  } finally {
    for (const [, t] of held) t.dispose();
    adv.dispose();
    cls?.dispose();
  }
}

function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
