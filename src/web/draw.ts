// web/draw.ts — the playground's drawing on canvases and in the DOM, shared by the explorer (playground.ts) and the
// Train view (train_view.ts): image mosaics as `npm run sample` writes their bytes, feature maps, and one sample's
// path through G and D with D's verdict.
import { CLASS_NAMES } from '../data/dataset.js';
import type { GanConfig } from '../gan/models.js';
import type { SamplePath } from './explore.js';

/** the byte a pixel value in [−1, 1] becomes (as `npm run sample` writes PNG and IDX files) */
export const toByte = (v: number) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);

/** draw `n` 28×28 images in [−1, 1] as a rows×cols mosaic onto a canvas of exactly that size */
export function drawImages(canvas: HTMLCanvasElement, imgs: Float32Array, rows: number, cols: number): void {
  canvas.width = cols * 28;
  canvas.height = rows * 28;
  const ctx = canvas.getContext('2d')!;
  const im = ctx.createImageData(cols * 28, rows * 28);
  const n = imgs.length / 784;
  for (let k = 0; k < n; k++) {
    const r = Math.floor(k / cols),
      c = k % cols;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const b = toByte(imgs[k * 784 + y * 28 + x]);
        const o = ((r * 28 + y) * cols * 28 + c * 28 + x) * 4;
        im.data[o] = im.data[o + 1] = im.data[o + 2] = b;
        im.data[o + 3] = 255;
      }
  }
  ctx.putImageData(im, 0, 0);
}

/** one feature map, min–max scaled to grey levels (a constant map draws mid-grey) */
export function drawMap(
  data: Float32Array,
  offset: number,
  h: number,
  w: number,
  lo: number,
  hi: number,
): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  const im = ctx.createImageData(w, h);
  const span = hi - lo;
  for (let i = 0; i < h * w; i++) {
    const v = span > 0 ? (data[offset + i] - lo) / span : 0.5;
    const b = Math.round(v * 255);
    im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = b;
    im.data[4 * i + 3] = 255;
  }
  ctx.putImageData(im, 0, 0);
  return c;
}

const LAYER_ABOUT: Record<string, string> = {
  'G.label_map': 'the label, embedded and mapped to one 7×7 map',
  'G.noise_maps': 'the noise through a dense layer + ReLU',
  'G.up1': '5×5 stride-2 transposed convolution of noise and label maps',
  'G.up1_bn_relu': 'after batchnorm (running statistics) and ReLU',
  'G.image': '5×5 stride-2 transposed convolution + tanh: the image',
  'D.label_map': "the label as the discriminator's second input channel",
  'D.conv1': 'D: 3×3 stride-2 convolution + LeakyReLU',
  'D.conv2': 'D: 3×3 convolution, batchnorm, LeakyReLU',
  'D.conv3': 'D: 3×3 stride-2 convolution, batchnorm, LeakyReLU',
  'D.conv4': 'D: 3×3 convolution, batchnorm, LeakyReLU',
};
const MAX_MAPS = 48;

/** where drawPath draws: the verdict line, the AC-GAN's class bars, the layers */
export interface PathTargets {
  verdict: HTMLElement;
  probs: HTMLElement;
  layers: HTMLElement;
}

/** one sample's path (explore.ts: samplePath): D's verdict, its class probabilities (AC-GAN), every layer's maps */
export function drawPath(p: SamplePath, cfg: GanConfig, label: number, to: PathTargets): void {
  const v = p.verdict;
  to.verdict.innerHTML =
    `For this <b>${CLASS_NAMES[label]}</b>, the discriminator says <b>${v.real >= 0.5 ? 'real' : 'fake'}</b>: ` +
    `P(real) = ${v.real.toFixed(3)} (logit ${v.logit.toFixed(2)}).`;
  const probs = to.probs;
  probs.innerHTML = '';
  if (v.classProbs) {
    const box = document.createElement('div');
    box.className = 'bars';
    v.classProbs.forEach((q, k) => {
      const name = document.createElement('span');
      name.textContent = `${k} ${CLASS_NAMES[k]}${k === label ? ' ←' : ''}`;
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = `${(q * 100).toFixed(1)}%`;
      const val = document.createElement('span');
      val.textContent = q.toFixed(3);
      box.append(name, bar, val);
    });
    probs.append(
      Object.assign(document.createElement('p'), {
        textContent: `AC-GAN class head: what D thinks the class is (${cfg.classes} classes)`,
      }),
      box,
    );
  }
  const layers = to.layers;
  layers.innerHTML = '';
  for (const l of p.layers) {
    const [C, H, W] = l.shape;
    let lo = Infinity,
      hi = -Infinity;
    for (const x of l.data) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const div = document.createElement('div');
    div.className = 'layer';
    div.dataset.layer = l.name;
    const h3 = document.createElement('h3');
    h3.innerHTML = `${l.name} <span>[${C}, ${H}, ${W}] · ${LAYER_ABOUT[l.name] ?? ''} · range ${lo.toFixed(2)} … ${hi.toFixed(2)}${C > MAX_MAPS ? ` · first ${MAX_MAPS} of ${C} maps` : ''}</span>`;
    const maps = document.createElement('div');
    maps.className = 'maps';
    for (let c = 0; c < Math.min(C, MAX_MAPS); c++) maps.append(drawMap(l.data, c * H * W, H, W, lo, hi));
    div.append(h3, maps);
    layers.append(div);
  }
}
