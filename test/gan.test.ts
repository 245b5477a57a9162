// gan.test.ts — the GANs: one training step on the GPU matches the same step on the float64 CPU reference
// (same initial weights, noise, labels and dropout masks) and changes every parameter; D's fused and observed
// forms agree bit for bit; a tiny run writes its grid, curves and checkpoint; resuming equals the uninterrupted run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, keep, tidy } from '../src/autograd/tensor.js';
import * as F from '../src/autograd/ops.js';
import type { Backend } from '../src/autograd/backend.js';
import { ganStep, makeGan, PRESETS, stepVector } from '../src/gan/train.js';
import type { GanConfig } from '../src/gan/models.js';
import { runGan, type GanEpoch } from '../src/app/gan_run.js';
import { traceGan } from '../src/gan/trace.js';
import { makeClassifier } from '../src/train/classifier.js';
import { saveCnn } from '../src/app/cnn_run.js';
import { loadFashionMnist, findDataDir } from '../src/node/fashion_mnist.js';
import type { FashionMnist } from '../src/data/dataset.js';
import type { GpuBackend } from '../src/kernels/backend.js';
import { decodeSafetensors } from '../src/nn/safetensors.js';
import { loadGanModels } from '../src/gan/load.js';
import { cpu, gpuBackend, randomData, relError, toF32, withTempDir } from './harness.js';

type Kind = 'cgan' | 'acgan' | 'cgan-projection' | 'acgan-real-aux';
const tiny = (kind: Kind): GanConfig => ({
  kind: kind.startsWith('acgan') ? 'acgan' : 'cgan',
  noiseDim: 8,
  embedDim: 5,
  classes: 10,
  gMaps: 4,
  gMid: 3,
  dChannels: [2, 3, 4, 5],
  dropout: 0.5,
  bnMomentum: 0.1,
  ...(kind === 'cgan-projection' ? { dCond: 'projection' as const } : {}),
  ...(kind === 'acgan-real-aux' ? { auxFake: false } : {}),
});

async function oneStep(be: Backend, kind: Kind) {
  const s = makeGan(be, tiny(kind), { lr: 1e-3, beta1: 0.5, emaDecay: 0.999 }, 7);
  const before = await Promise.all(Object.values({ ...s.G.stateDict(), ...s.D.stateDict() }).map((t) => t.toArray()));
  const gBefore = await Promise.all(s.G.parameters().map((t) => t.toArray()));
  // the batch sizes D's class head runs on (AC-GAN)
  const clsCalls: number[] = [];
  const head = s.D.clsHead;
  if (head) {
    const f = head.forward.bind(head);
    head.forward = (...a: Parameters<typeof f>) => (clsCalls.push(a[0].shape[0]), f(...a));
  }
  const B = 3;
  const x = Tensor.from(be, toF32(randomData(B * 784, 3, -1, 1)), [B, 1, 28, 28]);
  const y = Tensor.from(be, [1, 7, 4], [B], 'i32');
  const losses = tidy(() => stepVector(ganStep(be, s, x, y)));
  const v = await losses.toArray();
  losses.dispose();
  const lossVals = [v[0], v[1], v[3], v[2]]; // dReal, dFake, g, aux
  const named = [
    ...s.G.namedParameters().map(([n, p]) => [`G.${n}`, p] as const),
    ...s.D.namedParameters().map(([n, p]) => [`D.${n}`, p] as const),
  ];
  const grads = await Promise.all(named.map(([, p]) => (p.grad ? p.grad.toArray() : Promise.resolve(null))));
  const after = await Promise.all(Object.values({ ...s.G.stateDict(), ...s.D.stateDict() }).map((t) => t.toArray()));
  // G's weight average after its first update (decay min(0.999, 1/10) = 0.1): 0.1·initial + 0.9·new
  const gAfter = await Promise.all(s.G.parameters().map((t) => t.toArray()));
  const emaAfter = await Promise.all(s.ema!.G.parameters().map((t) => t.toArray()));
  emaAfter.forEach((e, i) =>
    e.forEach((v, k) =>
      assert.ok(
        Math.abs(v - (0.1 * gBefore[i][k] + 0.9 * gAfter[i][k])) <= 1e-6,
        `${be.name} G_ema parameter ${i}[${k}]`,
      ),
    ),
  );
  return {
    names: named.map(([n]) => n),
    lossVals,
    grads,
    clsCalls,
    before,
    after,
    paramNames: Object.keys({ ...s.G.stateDict(), ...s.D.stateDict() }),
  };
}

for (const kind of ['cgan', 'cgan-projection', 'acgan', 'acgan-real-aux'] as const)
  test(`${kind}: one GPU training step matches the CPU reference and changes every parameter`, async () => {
    const g = await gpuBackend();
    const want = await oneStep(cpu, kind);
    const got = await oneStep(g, kind);
    want.lossVals.forEach((v, i) =>
      assert.ok(
        Math.abs(got.lossVals[i] - v) <= 1e-4 * Math.max(1, Math.abs(v)),
        `loss ${i}: GPU ${got.lossVals[i]} CPU ${v}`,
      ),
    );
    want.grads.forEach((w, i) => {
      assert.ok(w && got.grads[i], `${want.names[i]} has a gradient`);
      const e = relError(got.grads[i]!, w!);
      assert.ok(e <= 2e-3, `${want.names[i]}: gradient relative error ${e.toExponential(2)}`);
    });
    got.paramNames.forEach((n, i) => {
      if (n.includes('running')) return;
      assert.ok(
        got.after[i].some((v, k) => v !== got.before[i][k]),
        `${n} did not change`,
      );
    });
  });

test('D observed (separate batchnorm, LeakyReLU, dropout) and unobserved (one fused kernel each) give the same bits', async () => {
  const be = await gpuBackend();
  for (const kind of ['cgan', 'cgan-projection', 'acgan'] as const) {
    const run = async (observe: boolean) => {
      const s = makeGan(be, tiny(kind), { lr: 1e-3, beta1: 0.5 }, 7);
      const x = Tensor.from(be, toF32(randomData(3 * 784, 3, -1, 1)), [3, 1, 28, 28]);
      const y = Tensor.from(be, [1, 7, 4], [3], 'i32');
      const seen: string[] = [];
      const out = tidy(() => {
        const o = s.D.forward(x, y, observe ? (n, t) => (seen.push(n), t) : undefined);
        const loss = o.cls ? F.add(F.mean(o.adv), F.mean(o.cls)) : F.mean(o.adv);
        loss.backward();
        return o.adv;
      });
      const vals = [
        await out.toArray(),
        ...(await Promise.all(s.D.parameters().map((p) => p.grad!.toArray()))),
        ...(await Promise.all(s.D.namedBuffers().map(([, t]) => t.toArray()))),
      ];
      return { vals, seen, key: s.gen.nextKey() };
    };
    const a = await run(false);
    const b = await run(true);
    assert.ok(b.seen.includes('conv4'), 'the observer saw the layers');
    assert.is(a.key, b.key, 'the same random keys drawn');
    a.vals.forEach((v, i) =>
      assert.ok(
        v.every((u, k) => Object.is(u, b.vals[i][k])),
        `${kind}: output, gradient or running statistic ${i} differs`,
      ),
    );
  }
});

test("AC-GAN auxFake false: D's class loss on real images only (the same step otherwise)", async () => {
  const both = await oneStep(cpu, 'acgan');
  const real = await oneStep(cpu, 'acgan-real-aux');
  assert.equal(
    real.lossVals.slice(0, 2),
    both.lossVals.slice(0, 2),
    'the same real/fake losses: same weights, noise and masks',
  );
  // a fresh class head gives roughly uniform logits: each cross-entropy term is near ln 10 (≈ 2.3; 3 images
  // make it noisy), so the paper's form is about twice the real-only one
  const [r, b] = [real.lossVals[3], both.lossVals[3]];
  assert.ok(r > 1 && r < 4, `real only: ${r}`);
  assert.ok(b - r > 1 && b - r < 4, `real + generated ${b}: the generated images' term ${b - r}`);
  // the class head runs once in D's step, on the real and generated images as one batch (3 + 3), and once in G's
  assert.equal(both.clsCalls, [6, 3]);
  assert.equal(real.clsCalls, [6, 3], 'the same passes: only the loss differs');
});

// the discriminator's step runs real and generated images as one batch of two groups: with dropout off, that is
// what two passes give (logits of both heads, running statistics, parameter gradients), in float64, for every form
for (const kind of ['cgan', 'cgan-projection', 'acgan'] as const)
  test(`D on real and generated images as one batch of two groups = two passes (${kind}, float64 CPU)`, async () => {
    const B = 3;
    const xs = [0, 1].map((k) => Tensor.from(cpu, toF32(randomData(B * 784, 40 + k, -1, 1)), [B, 1, 28, 28]));
    const ys = [Tensor.from(cpu, [1, 7, 4], [B], 'i32'), Tensor.from(cpu, [0, 9, 4], [B], 'i32')];
    const run = async (merged: boolean) => {
      const s = makeGan(cpu, { ...tiny(kind), dropout: 0 }, { lr: 1e-3, beta1: 0.5 }, 11);
      const outs = merged
        ? [s.D.forward(F.concat(xs, 0), F.concat(ys, 0), undefined, { groups: 2 })]
        : xs.map((x, k) => s.D.forward(x, ys[k]));
      const heads = outs.flatMap((o) => (o.cls ? [o.adv, o.cls] : [o.adv]));
      // a loss that weighs every logit differently, so that every gradient is exercised
      const w = (t: Tensor, k: number) => Tensor.from(cpu, randomData(t.size, 60 + k, -1, 1), t.shape);
      const cat = merged
        ? heads
        : [
            F.concat([heads[0], heads[heads.length / 2]], 0),
            ...(heads.length > 2 ? [F.concat([heads[1], heads[3]], 0)] : []),
          ];
      cat
        .map((t, k) => F.sum(F.mul(t, w(t, k))))
        .reduce((a, v) => F.add(a, v))
        .backward();
      const vals = async (ts: Tensor[]) => (await Promise.all(ts.map((t) => t.toArray()))).map((a) => [...a]);
      return {
        heads: await vals(cat),
        state: await vals(Object.values(s.D.stateDict())),
        grads: await vals(s.D.parameters().map((p) => p.grad!)),
      };
    };
    const two = await run(false),
      one = await run(true);
    for (const k of ['heads', 'state', 'grads'] as const)
      two[k].forEach((want, i) =>
        assert.ok(relError(one[k][i], want) < 1e-12, `${k}[${i}]: ${relError(one[k][i], want)}`),
      );
  });

test('projection discriminator: logit = w·φ(x) + b + ⟨V_y, φ(x)⟩ (float64 CPU, eval mode), and no label channel', async () => {
  const s = makeGan(cpu, tiny('cgan-projection'), { lr: 1e-3, beta1: 0.5 }, 7);
  assert.is(s.D.labelEmbed, null);
  assert.is(s.D.convs[0].weight.shape[1], 1, 'the image alone enters the convolutions');
  s.D.eval();
  const B = 3;
  const x = Tensor.from(cpu, toF32(randomData(B * 784, 5, -1, 1)), [B, 1, 28, 28]);
  const y = Tensor.from(cpu, [1, 7, 4], [B], 'i32');
  let phiT: Tensor | null = null;
  const out = tidy(() => s.D.forward(x, y, (n, t) => (n === 'conv4' ? (phiT = keep(t)) : t)));
  const adv = await out.adv.toArray();
  const phi = await phiT!.toArray();
  const w = await s.D.advHead.weight.toArray(),
    b = (await s.D.advHead.bias!.toArray())[0],
    V = await s.D.labelProj!.weight.toArray();
  const feat = phi!.length / B;
  assert.is(w.length, feat);
  [1, 7, 4].forEach((cls, i) => {
    let want = b;
    for (let k = 0; k < feat; k++) want += (w[k] + V[cls * feat + k]) * phi![i * feat + k];
    assert.ok(Math.abs(adv[i] - want) <= 1e-9 * Math.max(1, Math.abs(want)), `image ${i}: ${adv[i]} vs ${want}`);
  });
});

test('traceGan leaves every gradient as it was (the optimizers keep gradients in their slots)', async () => {
  const be = await gpuBackend();
  const s = makeGan(be, tiny('cgan'), { lr: 1e-3, beta1: 0.5 }, 7);
  const x = Tensor.from(be, toF32(randomData(3 * 784, 3, -1, 1)), [3, 1, 28, 28]);
  const y = Tensor.from(be, [1, 7, 4], [3], 'i32');
  tidy(() => void ganStep(be, s, x, y));
  const params = [...s.G.parameters(), ...s.D.parameters()];
  const grads = () => Promise.all(params.map((p) => (p.grad ? p.grad.toArray() : Promise.resolve(null))));
  const before = await grads();
  const z = Tensor.from(be, toF32(randomData(3 * 8, 9)), [3, 8]);
  await traceGan(be, s, z, y, x, y);
  const after = await grads();
  before.forEach((g, i) =>
    assert.ok(g === null ? after[i] === null : g.every((v, k) => Object.is(v, after[i]![k])), `gradient ${i} changed`),
  );
  assert.ok(
    params.every((p) => p.gradSlot),
    'slots restored',
  );
});

function quietRun(epochs: number, _dir: string, kind: 'cgan' | 'acgan') {
  return {
    preset: 'test',
    config: tiny(kind),
    hyper: { lr: 2e-3, beta1: 0.5, batch: 8, epochs, emaDecay: 0.9 },
    seed: 1,
    trainSubset: 32,
    logEvery: 100,
    log: () => {},
  };
}

/**
 * `body` with the GPU backend (unpoisoned: runs read back whole buffers), the dataset and a fresh temporary
 * directory, removed afterwards; skipped (said so) where Fashion-MNIST is not installed
 */
async function withRun(
  prefix: string,
  body: (be: GpuBackend, data: FashionMnist, dir: string) => Promise<void>,
): Promise<void> {
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed)');
    return;
  }
  const be = await gpuBackend();
  be.gpu.poison = false;
  const data = await loadFashionMnist({ download: false });
  await withTempDir(prefix, async (dir) => {
    try {
      await body(be, data, dir);
    } finally {
      be.gpu.poison = true;
    }
  });
}

test('a tiny AC-GAN run writes its grid, curves, metrics and checkpoint; resume equals the uninterrupted run', () =>
  withRun('gan-', async (be, data, dir) => {
    const full = await runGan(be, data, quietRun(2, dir, 'acgan'), join(dir, 'full'));
    for (const f of [
      'grid.png',
      'samples/epoch_001.png',
      'samples/epoch_002.png',
      'losses.svg',
      'd_outputs.svg',
      'metrics.jsonl',
      'checkpoint.safetensors',
    ])
      assert.ok(existsSync(join(dir, 'full', f)), `${f} written`);
    const lines = readFileSync(join(dir, 'full', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as GanEpoch);
    assert.is(lines.length, 2);
    assert.ok(
      Object.keys(lines[0].gradNorms.G).length > 0 &&
        Object.values(lines[0].gradNorms.D).every((v) => Number.isFinite(v)),
    );
    assert.ok(lines[0].aux > 0, 'AC-GAN logs its class loss');
    await runGan(be, data, quietRun(1, dir, 'acgan'), join(dir, 'part'));
    const resumed = await runGan(
      be,
      data,
      quietRun(2, dir, 'acgan'),
      join(dir, 'part'),
      join(dir, 'part', 'checkpoint.safetensors'),
    );
    const key = (h: GanEpoch[]) => h.map((e) => [e.dReal, e.dFake, e.aux, e.g, e.dx, e.dgz, e.step]);
    assert.equal(key(resumed.history), key(full.history));
    const a = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'full', 'checkpoint.safetensors'))));
    const b = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'part', 'checkpoint.safetensors'))));
    assert.ok(
      Object.keys(a.tensors).includes('G_ema.up1.weight') && Object.keys(a.tensors).includes('G_ema.bn1.running_var'),
      'the weight average is in the checkpoint',
    );
    for (const k of Object.keys(a.tensors))
      assert.ok(
        a.tensors[k].data.every((v, i) => Object.is(v, b.tensors[k].data[i])),
        `${k} differs after resume`,
      );
    // loading for sampling: G is the weight average unless the trained weights are asked for
    const bytes = new Uint8Array(readFileSync(join(dir, 'full', 'checkpoint.safetensors')));
    for (const w of ['average', 'trained'] as const) {
      const m = loadGanModels(be, bytes, 'full', w);
      assert.is(m.weights, w);
      for (const name of ['up1.weight', 'bn1.running_var']) {
        const got = await m.G.stateDict()[name].toArray();
        const want = a.tensors[`${w === 'average' ? 'G_ema' : 'G'}.${name}`].data;
        assert.ok(
          got.every((v, i) => Object.is(v, want[i])),
          `${w}: G.${name}`,
        );
      }
      m.G.dispose();
      m.D.dispose();
    }
    assert.ok(
      a.tensors['G_ema.up1.weight'].data.some((v, i) => v !== a.tensors['G.up1.weight'].data[i]),
      'the average is not the trained weights',
    );
  }));

test('a checkpoint without a weight average resumes without one, twice, whatever the options ask', () =>
  withRun('gan-noema-', async (be, data, dir) => {
    const run = (epochs: number, emaDecay: number | undefined, resume?: string) => {
      const o = quietRun(epochs, dir, 'cgan');
      return runGan(be, data, { ...o, hyper: { ...o.hyper, emaDecay } }, join(dir, 'r'), resume);
    };
    await run(1, undefined);
    const ckpt = join(dir, 'r', 'checkpoint.safetensors');
    await run(2, 0.9, ckpt);
    const r = await run(3, 0.9, ckpt);
    assert.is(r.state.ema, null);
    const names = Object.keys(decodeSafetensors(new Uint8Array(readFileSync(ckpt))).tensors);
    assert.ok(!names.some((n) => n.startsWith('G_ema.')), 'no average appeared');
  }));

test('--trace writes per-layer statistics and leaves the run unchanged', () =>
  withRun('gan-trace-', async (be, data, dir) => {
    const plain = await runGan(be, data, quietRun(2, dir, 'cgan'), join(dir, 'plain'));
    const traced = await runGan(be, data, { ...quietRun(2, dir, 'cgan'), trace: true }, join(dir, 'traced'));
    const key = (h: GanEpoch[]) => h.map((e) => [e.dReal, e.dFake, e.g, e.dx, e.dgz]);
    assert.equal(key(traced.history), key(plain.history));
    const lines = readFileSync(join(dir, 'traced', 'trace.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.is(lines.length, 2);
    const t = lines[0];
    assert.equal(Object.keys(t.G), ['label_map', 'noise_maps', 'up1', 'up1_bn_relu', 'image']);
    assert.ok(Object.keys(t.D).includes('conv4') && Object.keys(t.D).includes('label_map'));
    for (const [n, l] of Object.entries(t.G) as [
      string,
      { act: { std: number }; grad: { absMean: number } | null },
    ][]) {
      assert.ok(Number.isFinite(l.act.std), `${n} activation std`);
      assert.ok(l.grad && l.grad.absMean > 0, `${n} has a gradient`);
    }
    assert.ok(t.params['G.up1.weight'].grad.absMean > 0 && t.params['D.conv1.weight'].weight.std > 0);
  }));

test("--fid-every: FID on a classifier's features each epoch, in metrics and fid.svg", () =>
  withRun('gan-fid-', async (be, data, dir) => {
    const cls = makeClassifier(be, 1, {
      channels: [2, 2, 2, 2, 2, 2],
      dense: 8,
      dropout: 0.1,
      bnMomentum: 0.1,
      bnEps: 1e-3,
      classes: 10,
    });
    await saveCnn(
      join(dir, 'cls.safetensors'),
      cls,
      { epochs: 0, batch: 1, lr: 1e-3, seed: 1, valFraction: 0.1, patience: 0, augment: false, logEvery: 1 },
      0,
      0,
    );
    const r = await runGan(
      be,
      data,
      { ...quietRun(2, dir, 'cgan'), fid: { every: 1, classifier: join(dir, 'cls.safetensors'), n: 30 } },
      join(dir, 'run'),
    );
    assert.ok(
      r.history.every((e) => Number.isFinite(e.fid) && e.fid! > 0),
      `fid ${r.history.map((e) => e.fid)}`,
    );
    assert.ok(
      r.history.every((e) => Number.isFinite(e.fidTrained) && e.fidTrained !== e.fid),
      "FID of the trained weights beside the average's",
    );
    assert.ok(
      r.history.every((e) => e.genAcc! >= 0 && e.genAcc! <= 1 && e.genAccTrained! >= 0),
      'accuracy on the generated images',
    );
    assert.ok(existsSync(join(dir, 'run', 'fid.svg')) && existsSync(join(dir, 'run', 'gen_accuracy.svg')));
    assert.match(
      readFileSync(join(dir, 'run', 'fid.svg'), 'utf8'),
      /FID \(weight average\)[\s\S]*FID \(trained weights\)[\s\S]*real-vs-real floor/,
    );
    const floors = r.history.map((e) => e.fidFloor!);
    assert.ok(
      floors.every((f) => Number.isFinite(f) && f >= 0 && f === floors[0]),
      `the floor, computed once: ${floors}`,
    );
  }));

test('presets: the seed-003 AC-GAN networks as the report describes them', () => {
  for (const name of ['acgan', 'acgan-seed003']) {
    const c = PRESETS[name].config;
    assert.equal([c.gMaps, c.gMid, c.dChannels, c.noiseDim, c.dropout], [384, 192, [32, 64, 128, 256], 100, 0.5]);
    assert.equal([PRESETS[name].hyper.lr, PRESETS[name].hyper.beta1, PRESETS[name].hyper.batch], [2e-4, 0.5, 64]);
  }
  assert.is(PRESETS['acgan-seed003'].config.auxFake, true, 'the seed: class loss on real and generated images');
  assert.is(PRESETS.acgan.config.auxFake, false, 'ours: on real images only');
});

test.run();
