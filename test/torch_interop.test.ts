// torch_interop.test.ts — checkpoints a PyTorch user loads as they are (issue 26). Each model kind saved by the
// engine (the CNN, and a cGAN with a projection discriminator, a cGAN with the label as an input channel and an
// AC-GAN, each with the generator's weight average), a CNN written in format 1 (before the change) and the shipped
// classifier are loaded by interop/pytorch (test/torch_interop.py) into its torch.nn definitions with
// load_state_dict(strict=True), and give the engine's outputs on the same inputs (logits, features, generated
// images, D's logits) within 1e-4. The way back: networks of the same configs initialised by PyTorch, saved from
// their state_dict with safetensors, load into the engine and give PyTorch's outputs. Skipped, saying so, where
// no python3 with torch is found ($PYTHON, /usr/bin/python3, python3; `bash scripts/setup.sh --torch` installs
// Debian's python3-torch). Small networks and 8–16 images: bounded by work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../src/autograd/backend.js';
import { Generator } from '../src/autograd/random.js';
import { Tensor, noGrad, tidy } from '../src/autograd/tensor.js';
import { stateToSafetensors } from '../src/nn/checkpoint.js';
import { FORMAT_V1 } from '../src/nn/checkpoint_v1.js';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../src/nn/safetensors.js';
import type { Cnn } from '../src/models/cnn.js';
import { SEED_CNN } from '../src/models/cnn.js';
import { makeClassifier } from '../src/train/classifier.js';
import { cnnStateTensors, loadClassifier, saveCnn, SHIPPED_CLASSIFIER } from '../src/app/cnn_run.js';
import { makeGan } from '../src/gan/train.js';
import { ganStateTensors } from '../src/app/gan_run.js';
import { loadGanModels } from '../src/gan/load.js';
import type { GanConfig, GanDiscriminator, GanGenerator } from '../src/gan/models.js';
import { findDataDir, loadFashionMnist } from '../src/node/fashion_mnist.js';
import { isStoredTransposed } from '../src/nn/torch_layout.js';
import { gpuBackend, withTempDir } from './harness.js';

const TOL = 1e-4;

/** the first interpreter that imports torch, or null */
function torchPython(): string | null {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}
const PY = torchPython();
const maybe = PY ? test : test.skip;
if (!PY)
  console.log(
    '  (torch_interop: skipped: no python3 with torch found ($PYTHON, /usr/bin/python3, python3); install it with `bash scripts/setup.sh --torch` (Debian: apt-get install python3-torch))',
  );

// the GAN cases: every discriminator form, small enough for lavapipe
const SMALL = {
  noiseDim: 16,
  embedDim: 6,
  classes: 10,
  gMaps: 6,
  gMid: 5,
  dChannels: [3, 4, 5, 6] as [number, number, number, number],
  dropout: 0.5,
  bnMomentum: 0.01,
};
const GANS: Record<string, GanConfig> = {
  'cgan-projection': { kind: 'cgan', ...SMALL, dCond: 'projection' },
  'cgan-channel': { kind: 'cgan', ...SMALL, dCond: 'channel' },
  acgan: { kind: 'acgan', ...SMALL, auxFake: false },
};
const N = 8;

/**
 * Seeded values that make every layer matter: weights ~ N(0, √(2/fan-in)) (He's scale, which keeps activations
 * near unit size from layer to layer), biases ~ N(0, 0.1), batchnorm scales and running variances in [0.5, 1.5),
 * running means ~ N(0, 0.2), Adam moments too (so a mix-up of any two shows). Such a network is as well
 * conditioned as a trained one (logits of a few units, no channel divided by a tiny variance), so float32 results
 * of two engines agree far within 1e-4; wider weights or variances measured on 8 images make outputs of hundreds,
 * or divide a channel by √eps, where float32 rounding alone exceeds 1e-4.
 */
function redraw(tensors: Record<string, Tensor>, seed: number): void {
  const g = new Generator(seed);
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'f32') continue;
    const fanIn = isStoredTransposed(t) ? t.shape[0] : t.size / t.shape[0]; // a Linear weight is [in, out] here
    const bnScale = /bn\d*\.weight$/.test(name) && t.shape.length === 1;
    const data =
      bnScale || name.endsWith('running_var') || name.startsWith('optim.v.')
        ? Array.from(g.uniform(t.size), (u) => 0.5 + u)
        : name.endsWith('running_mean')
          ? g.normal(t.size, 0, 0.2)
          : g.normal(t.size, 0, t.shape.length > 1 ? Math.SQRT2 / Math.sqrt(fanIn) : 0.1);
    t.assign(Float32Array.from(data));
  }
}

/** inputs of a case: uint8 pixels [N, 28, 28] (each engine scales them as its preprocessing says), labels, noise */
function inputs(seed: number, noiseDim: number, pixels?: Uint8Array) {
  const g = new Generator(seed);
  const px = pixels ?? Uint8Array.from(g.uniform(N * 784), (u) => Math.floor(u * 256));
  const n = px.length / 784;
  return {
    pixels: px,
    y: Int32Array.from({ length: n }, (_, i) => i % 10),
    z: Float32Array.from(g.normal(n * noiseDim)),
    n,
  };
}
const scaled = (px: Uint8Array, a: number, b: number) => Float32Array.from(px, (p) => p * a + b); // as data/dataset.ts

function inputFile(path: string, x: ReturnType<typeof inputs>, noiseDim: number): void {
  writeFileSync(
    path,
    encodeSafetensors({
      pixels: { dtype: 'U8', shape: [x.n, 28, 28], data: x.pixels },
      y: { dtype: 'I32', shape: [x.n], data: x.y },
      z: { dtype: 'F32', shape: [x.n, noiseDim], data: x.z },
    }),
  );
}

async function read(_be: Backend, f: () => Tensor): Promise<Float32Array> {
  const t = noGrad(() => tidy(f));
  try {
    return Float32Array.from(await t.toArray());
  } finally {
    t.dispose();
  }
}

async function cnnOutputs(be: Backend, m: Cnn, x: ReturnType<typeof inputs>): Promise<Record<string, Float32Array>> {
  m.eval();
  const xt = () => Tensor.from(be, scaled(x.pixels, 1 / 255, 0), [x.n, 1, 28, 28]);
  return { logits: await read(be, () => m.forward(xt())), features: await read(be, () => m.features(xt())) };
}

async function ganOutputs(
  be: Backend,
  nets: { G?: GanGenerator; G_ema?: GanGenerator; D: GanDiscriminator },
  x: ReturnType<typeof inputs>,
  noiseDim: number,
) {
  const out: Record<string, Float32Array> = {};
  const y = () => Tensor.from(be, x.y, [x.n], 'i32');
  for (const k of ['G', 'G_ema'] as const) {
    const G = nets[k];
    if (G) out[`${k}.images`] = await read(be, () => G.eval().forward(Tensor.from(be, x.z, [x.n, noiseDim]), y()));
  }
  const xs = () => Tensor.from(be, scaled(x.pixels, 2 / 255, -1), [x.n, 1, 28, 28]);
  nets.D.eval();
  out['D.adv'] = await read(be, () => nets.D.forward(xs(), y()).adv);
  if (nets.D.clsHead) out['D.cls'] = await read(be, () => nets.D.forward(xs(), y()).cls!);
  return out;
}

/** every output of `want` in `file` (PyTorch's), same shape, within TOL; returns the largest difference */
function compare(what: string, want: Record<string, Float32Array>, file: string): number {
  const got = decodeSafetensors(new Uint8Array(readFileSync(file)), file).tensors;
  assert.equal(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: the outputs PyTorch wrote`);
  let worst = 0;
  for (const [k, w] of Object.entries(want)) {
    const g = got[k].data;
    assert.is(g.length, w.length, `${what} ${k}: size`);
    let d = 0,
      spread = 0;
    for (let i = 0; i < w.length; i++)
      (d = Math.max(d, Math.abs(g[i] - w[i]))), (spread = Math.max(spread, Math.abs(w[i] - w[0])));
    assert.ok(d <= TOL, `${what} ${k}: PyTorch and the engine differ by ${d.toExponential(2)} (> ${TOL})`);
    assert.ok(spread > 0.05, `${what} ${k}: outputs vary (spread ${spread}), so the comparison means something`);
    worst = Math.max(worst, d);
  }
  return worst;
}

/** a format-1 file as the engine wrote it before format 2: tensors in the engine's layout, a GAN's moments under
 *  its network (`G.optim.m.x`); what the old stateToSafetensors gave */
async function v1Bytes(tensors: Record<string, Tensor>, meta: Record<string, unknown>): Promise<Uint8Array> {
  const out: Record<string, TensorToWrite> = {};
  for (const [k, t] of Object.entries(tensors)) {
    const m = /^optim\.([mv])\.([GD])\.(.+)$/.exec(k);
    out[m ? `${m[2]}.optim.${m[1]}.${m[3]}` : k] = {
      dtype: 'F32',
      shape: [...t.shape],
      data: Float32Array.from(await t.toArray()),
    };
  }
  const metadata: Record<string, string> = { format: FORMAT_V1 };
  for (const [k, v] of Object.entries(meta)) metadata[k] = JSON.stringify(v);
  return encodeSafetensors(out, metadata);
}

function runPython(dir: string, cases: object[]): string {
  const job = join(dir, 'job.json');
  writeFileSync(job, JSON.stringify({ cases }));
  const r = spawnSync(PY!, ['test/torch_interop.py', job], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.is(r.status, 0, `test/torch_interop.py failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

maybe(
  'the CNN, in format 2 and format 1, and the shipped classifier: PyTorch loads them strictly and gives our logits; the way back',
  async () => {
    const be = await gpuBackend();
    await withTempDir('torch-cnn-', async (dir) => {
      const st = makeClassifier(be, 5, SEED_CNN);
      const loaded: Cnn[] = [];
      try {
        const x = inputs(1, 1);
        redraw(cnnStateTensors(st), 26);
        const opts = {
          epochs: 0,
          batch: 1,
          lr: 1e-3,
          seed: 1,
          valFraction: 0.1,
          patience: 0,
          augment: false,
          logEvery: 1,
        };
        const v2 = join(dir, 'cnn.safetensors'),
          v1 = join(dir, 'cnn-v1.safetensors');
        await saveCnn(v2, st, opts, 1, 10);
        const meta = { model: 'cnn', config: st.model.config };
        writeFileSync(v1, await v1Bytes(cnnStateTensors(st), meta));
        inputFile(join(dir, 'in.safetensors'), x, 1);
        const want = await cnnOutputs(be, st.model, x);
        // the shipped classifier on real test images where installed (else seeded pixels)
        const data = findDataDir() ? await loadFashionMnist({ download: false }) : null;
        const sx = inputs(2, 1, data ? data.test.images.subarray(0, 16 * 784) : undefined);
        inputFile(join(dir, 'shipped-in.safetensors'), sx, 1);
        const shipped = loadClassifier(be, SHIPPED_CLASSIFIER);
        loaded.push(shipped.model);
        const wantShipped = await cnnOutputs(be, shipped.model, sx);
        const f = (n: string) => join(dir, n);
        const log = runPython(dir, [
          {
            name: 'cnn',
            checkpoint: v2,
            inputs: f('in.safetensors'),
            out: f('out.safetensors'),
            back: f('back.safetensors'),
            backOut: f('back-out.safetensors'),
          },
          { name: 'cnn-v1', checkpoint: v1, inputs: f('in.safetensors'), out: f('v1-out.safetensors') },
          {
            name: 'shipped',
            checkpoint: SHIPPED_CLASSIFIER,
            inputs: f('shipped-in.safetensors'),
            out: f('shipped-out.safetensors'),
          },
        ]);
        const d = [
          compare('cnn', want, f('out.safetensors')),
          compare('cnn format 1', want, f('v1-out.safetensors')),
          compare('shipped classifier', wantShipped, f('shipped-out.safetensors')),
        ];
        // the file holds PyTorch's layout: Linear weights [out, in]
        const file = decodeSafetensors(new Uint8Array(readFileSync(v2))).tensors;
        assert.equal(
          [file['dense.fc.weight'].shape, file['out.weight'].shape, file['optim.m.out.weight'].shape],
          [
            [128, 1152],
            [10, 128],
            [10, 128],
          ],
        );
        // the engine reads format 1 as it reads format 2: the same values
        for (const p of [v1, v2]) loaded.push(loadClassifier(be, p).model);
        const [a, b] = await Promise.all(loaded.slice(1).map((m) => cnnOutputs(be, m, x)));
        assert.equal(Array.from(a.logits), Array.from(b.logits), 'format 1 and format 2 load to the same logits');
        // the way back: PyTorch's own networks, saved as a state_dict (num_batches_tracked included)
        const back = loadClassifier(be, f('back.safetensors'));
        loaded.push(back.model);
        const wantBack = await cnnOutputs(be, back.model, x);
        d.push(compare('cnn back', wantBack, f('back-out.safetensors')));
        assert.match(
          log,
          /cnn: format fmnist-webgpu-engine\/2, cnn loaded strictly; back: \d+ tensors \(7 num_batches_tracked\)/,
        );
        console.log(
          `  PyTorch vs engine, largest differences: CNN ${d[0].toExponential(1)}, format 1 ${d[1].toExponential(1)}, shipped ${d[2].toExponential(1)}, back ${d[3].toExponential(1)}`,
        );
      } finally {
        for (const m of loaded) m.dispose();
        st.model.dispose();
        st.opt.dispose();
      }
    });
  },
);

maybe(
  'cGAN (projection, channel) and AC-GAN: PyTorch loads G, G_ema and D strictly and gives our images and logits; the way back',
  async () => {
    const be = await gpuBackend();
    await withTempDir('torch-gan-', async (dir) => {
      const f = (n: string) => join(dir, n);
      const cases: object[] = [];
      const want: Record<string, Record<string, Float32Array>> = {};
      for (const [name, config] of Object.entries(GANS)) {
        const s = makeGan(be, config, { lr: 2e-4, beta1: 0.5, emaDecay: 0.999 }, 3);
        try {
          redraw(ganStateTensors(s), name.length);
          const bytes = await stateToSafetensors({ tensors: ganStateTensors(s), meta: { model: config.kind, config } });
          writeFileSync(f(`${name}.safetensors`), bytes);
          const x = inputs(name.length, config.noiseDim);
          inputFile(f(`${name}-in.safetensors`), x, config.noiseDim);
          want[name] = await ganOutputs(be, { G: s.G, G_ema: s.ema!.G, D: s.D }, x, config.noiseDim);
          const file = decodeSafetensors(bytes).tensors;
          assert.equal(
            file['G.noise_fc.weight'].shape,
            [config.gMaps * 49, config.noiseDim],
            'Linear weights [out, in]',
          );
          assert.ok(
            'optim.v.D.adv.weight' in file && !Object.keys(file).some((k) => /^[GD]\.optim/.test(k)),
            'moments under optim.',
          );
          cases.push({
            name,
            checkpoint: f(`${name}.safetensors`),
            inputs: f(`${name}-in.safetensors`),
            out: f(`${name}-out.safetensors`),
            back: f(`${name}-back.safetensors`),
            backOut: f(`${name}-back-out.safetensors`),
          });
        } finally {
          for (const m of [s.G, s.D, s.ema?.G]) m?.dispose();
          for (const o of [s.optG, s.optD]) o.dispose();
          s.ema?.avg.dispose();
          for (const t of [s.ones, s.zeros, s.ones2, ...s.realFake.values()]) t.dispose();
        }
      }
      runPython(dir, cases);
      const worst: string[] = [];
      for (const [name, config] of Object.entries(GANS)) {
        const x = inputs(name.length, config.noiseDim);
        let d = compare(name, want[name], f(`${name}-out.safetensors`));
        // back: PyTorch's G_ema and D (no trained G: a weights-only file), loaded by what the playground and sample use
        const m = loadGanModels(be, new Uint8Array(readFileSync(f(`${name}-back.safetensors`))), `${name}-back`);
        try {
          assert.is(m.weights, 'average');
          d = Math.max(
            d,
            compare(
              `${name} back`,
              await ganOutputs(be, { G_ema: m.G, D: m.D }, x, config.noiseDim),
              f(`${name}-back-out.safetensors`),
            ),
          );
        } finally {
          m.G.dispose();
          m.D.dispose();
        }
        worst.push(`${name} ${d.toExponential(1)}`);
      }
      console.log(`  PyTorch vs engine, largest differences (both ways): ${worst.join(', ')}`);
    });
  },
);

test.run();
