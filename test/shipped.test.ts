// shipped.test.ts — the GANs the repo ships (models/cgan.safetensors, models/acgan.safetensors; issue 22): F16
// storage in safetensors (known bit patterns, rounding, refusals), the shipped file of a run's checkpoint (weight
// average and D only, large weights as F16, loads to the same images within F16's precision), the .sha256 check on
// every read, and the CLI paths a user takes: `sample` without --checkpoint, `--model acgan`, `eval gan --ship`,
// and `npm run train`'s shipped grid beside a demo run's. Weights are made in the test, in a temporary cwd.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Generator } from '../src/autograd/random.js';
import type { Backend } from '../src/autograd/backend.js';
import { stateToSafetensors, CheckpointError } from '../src/nn/checkpoint.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  fromHalfBits,
  toHalfBits,
  SafetensorsError,
} from '../src/nn/safetensors.js';
import { makeGan, sampleInputs, generate } from '../src/gan/train.js';
import { ganStateTensors } from '../src/app/gan_run.js';
import type { GanConfig } from '../src/gan/models.js';
import { loadGanModels, shipGanBytes, SHIP_HALF_MIN } from '../src/gan/load.js';
import { readCheckpoint, writeWithHash } from '../src/node/checkpoint.js';
import { findDataDir } from '../src/node/fashion_mnist.js';
import { gpuBackend, withTempDir } from './harness.js';
import { HANG_GUARD_MS, ended } from './hang_guard.js';

const CLI = resolve('dist', 'cli.js');
const CLASSIFIER = resolve('models', 'eval-classifier.safetensors');
const ENV = { ...process.env, XDG_RUNTIME_DIR: '/tmp' };
const cli = (cwd: string, args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: ENV, encoding: 'utf8', timeout: HANG_GUARD_MS });
  const lines = (r.stderr ?? '').split('\n').filter((l) => l.trim() && !l.startsWith('Warning:'));
  const err = [...lines, ...(r.status === null ? [ended(r)] : [])].join('\n');
  return { code: r.status, out: r.stdout ?? '', err };
};
/** large enough that the noise layer (32 → 16·7·7) is stored as F16, small enough for lavapipe */
const CONFIG = (kind: 'cgan' | 'acgan'): GanConfig => ({
  kind,
  noiseDim: 32,
  embedDim: 5,
  classes: 10,
  gMaps: 16,
  gMid: 8,
  dChannels: [4, 6, 8, 10],
  dropout: 0.5,
  bnMomentum: 0.1,
});

/** a full training checkpoint with a weight average that differs from G (both redrawn), Adam moments included */
async function runCheckpoint(be: Backend, kind: 'cgan' | 'acgan', seed: number): Promise<Uint8Array> {
  const s = makeGan(be, CONFIG(kind), { lr: 2e-4, beta1: 0.5, emaDecay: 0.9 }, seed);
  const g = new Generator(seed + 7);
  for (const [name, t] of Object.entries(ganStateTensors(s))) {
    if (t.dtype !== 'f32' || name.includes('.optim.')) continue;
    const data = /running_var$/.test(name)
      ? Array.from(g.uniform(t.size), (u) => 0.5 + u)
      : /bn\d\.weight$/.test(name)
        ? Array.from(g.uniform(t.size), (u) => 0.5 + u)
        : g.normal(t.size, 0, 0.3);
    t.assign(Float32Array.from(data));
  }
  const bytes = await stateToSafetensors({
    tensors: ganStateTensors(s),
    meta: {
      model: kind,
      config: CONFIG(kind),
      hyper: { lr: 2e-4, beta1: 0.5, batch: 8, epochs: 3, emaDecay: 0.9 },
      preset: 'test',
      seed,
      epoch: 3,
      step: 30,
      position: { epoch: 3, inEpoch: 0 },
      rng: { model: s.gen.state(), data: s.dataGen.state() },
      optimizer: { G: 30, D: 30 },
      ema: { decay: 0.9, updates: 30 },
      history: [],
    },
  });
  for (const m of [s.G, s.D, s.ema!.G]) m.dispose();
  for (const o of [s.optG, s.optD]) o.dispose();
  s.ones.dispose();
  s.zeros.dispose();
  return bytes;
}

async function images(
  be: Backend,
  bytes: Uint8Array,
  weights: 'average' | 'trained' = 'average',
): Promise<Float32Array> {
  const m = loadGanModels(be, bytes, 'test', weights);
  const [z, y] = sampleInputs(be, m.config, 2, 12345);
  try {
    return await generate(m.G, z, y);
  } finally {
    for (const t of [z, y]) t.dispose();
    m.G.dispose();
    m.D.dispose();
  }
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

test('F16: known bit patterns both ways, rounding to nearest even, subnormals, refusals', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [-65504, 0xfbff],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -15, 0x0200],
    [1 / 3, 0x3555],
    [0.1, 0x2e66],
    // ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: to the even one (1); 1 + 3·2^-11 goes up to 1 + 2^-9
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    // below half the smallest subnormal: 0; just above it: the smallest subnormal
    [2 ** -26, 0x0000],
    [1.5 * 2 ** -25, 0x0001],
    // the largest half's mantissa carries into the exponent when rounding 2047.5 → 2048
    [2047.5, 0x6800],
    [65519, 0x7bff],
  ];
  const bits = toHalfBits(Float32Array.from(cases.map(([v]) => v)));
  cases.forEach(([v, b], i) =>
    assert.is(bits[i], b, `toHalfBits(${v}) = 0x${bits[i].toString(16)}, want 0x${b.toString(16)}`),
  );
  const back = fromHalfBits(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00]));
  assert.equal(Array.from(back), [1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity]);
  // every finite half survives the round trip bit for bit
  const all = Uint16Array.from({ length: 0x10000 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
  assert.equal(Array.from(toHalfBits(fromHalfBits(all))), Array.from(all));
  for (const bad of [65520, 1e6, Infinity, NaN])
    assert.throws(
      () => toHalfBits(Float32Array.from([1, bad]), 'w'),
      (e: Error) => e instanceof SafetensorsError && /index 1/.test(e.message),
      `${bad} refused`,
    );
});

test("F16 in safetensors: written as halves after F32/I32 (Python's order), read back as Float32Array", () => {
  const w = Float32Array.from([1, -0.5, 0.1, 3]);
  const bytes = encodeSafetensors({
    h: { dtype: 'F16', shape: [2, 2], data: w },
    f: { dtype: 'F32', shape: [1], data: Float32Array.from([7]) },
    i: { dtype: 'I32', shape: [1], data: Int32Array.from([3]) },
  });
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + new DataView(bytes.buffer).getUint32(0, true)));
  assert.match(
    header,
    /^\{"f":\{"dtype":"F32","shape":\[1\],"data_offsets":\[0,4\]\},"i":\{"dtype":"I32","shape":\[1\],"data_offsets":\[4,8\]\},"h":\{"dtype":"F16","shape":\[2,2\],"data_offsets":\[8,16\]\}\}/,
  );
  const t = decodeSafetensors(bytes).tensors.h;
  assert.is(t.dtype, 'F16');
  assert.ok(t.data instanceof Float32Array);
  assert.equal(Array.from(t.data), [1, -0.5, 0.0999755859375, 3]);
  assert.throws(
    () => encodeSafetensors({ h: { dtype: 'F16', shape: [1], data: Int32Array.from([1]) as unknown as Float32Array } }),
    /F16 needs a Float32Array/,
  );
});

test('the shipped file of a GAN checkpoint: weight average and D only, large weights F16, the same images within F16', async () => {
  const be = await gpuBackend();
  for (const kind of ['cgan', 'acgan'] as const) {
    const full = await runCheckpoint(be, kind, kind === 'cgan' ? 1 : 2);
    const shipped = shipGanBytes(full, 'run', { from: 'test' });
    const file = decodeSafetensors(shipped);
    const names = Object.keys(file.tensors);
    assert.ok(
      names.every((k) => k.startsWith('G_ema.') || k.startsWith('D.')),
      `only G_ema.* and D.*: ${names.filter((k) => !/^(G_ema|D)\./.test(k))}`,
    );
    assert.not.ok(
      names.some((k) => k.includes('.optim.')),
      'no optimizer moments',
    );
    for (const [k, t] of Object.entries(file.tensors)) {
      const big = k.endsWith('.weight') && t.shape.reduce((a, b) => a * b, 1) >= SHIP_HALF_MIN;
      assert.is(t.dtype, big ? 'F16' : t.dtype === 'I32' ? 'I32' : 'F32', k);
    }
    assert.ok(
      names.some((k) => file.tensors[k].dtype === 'F16'),
      'some weights are F16',
    );
    const meta = JSON.parse(file.metadata.shipped);
    assert.is(meta.weights, 'average');
    assert.is(meta.from, 'test');
    assert.not.ok('position' in file.metadata, 'no resume position');
    assert.ok(shipped.length < full.length / 3, `${shipped.length} bytes of ${full.length}`);
    // the same images as the run's weight average, within what F16 weights change
    const [want, got, trained] = [await images(be, full), await images(be, shipped), await images(be, full, 'trained')];
    const d = maxAbsDiff(got, want);
    assert.ok(d < 0.02, `shipped vs full checkpoint's average: max |Δ| ${d}`);
    assert.ok(
      maxAbsDiff(trained, want) > 20 * d,
      'the average differs from the trained weights far more than F16 storage does',
    );
    // a shipped file has no trained weights: asked for them, it says so
    assert.throws(
      () => loadGanModels(be, shipped, 'models/x.safetensors', 'trained'),
      (e: Error) => e instanceof CheckpointError && /weight average only.*leave out --weights trained/.test(e.message),
    );
    // shipping a shipped file changes nothing (F16 stays F16)
    assert.equal(decodeSafetensors(shipGanBytes(shipped, 'again', { from: 'test' })).tensors, file.tensors);
  }
});

test('a file with a .sha256 beside it is checked on every read; a changed one is refused with the way back', () =>
  withTempDir('shipped-hash-', (dir) => {
    const f = join(dir, 'x.safetensors');
    const bytes = encodeSafetensors(
      { a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } },
      { format: 'x' },
    );
    const hash = writeWithHash(f, bytes);
    assert.match(readFileSync(`${f}.sha256`, 'utf8'), new RegExp(`^${hash}  x\\.safetensors\\n$`));
    assert.equal(Array.from(readCheckpoint(f).tensors.a.data), [1, 2]);
    const changed = readFileSync(f);
    changed[changed.length - 1] ^= 1;
    writeFileSync(f, changed);
    assert.throws(
      () => readCheckpoint(f, '`ship it`'),
      (e: Error) =>
        e instanceof CheckpointError &&
        /SHA-256 [0-9a-f]{64} differs from the one recorded .*git checkout -- .*`ship it`/.test(e.message),
    );
  }));

test('CLI: `sample` draws from the shipped cGAN without --checkpoint, --model acgan from the other; refusals', async () => {
  const be = await gpuBackend();
  const [cg, ac] = [await runCheckpoint(be, 'cgan', 3), await runCheckpoint(be, 'acgan', 4)];
  await withTempDir('shipped-cli-', (dir) => {
    mkdirSync(join(dir, 'models'));
    writeWithHash(join(dir, 'models', 'cgan.safetensors'), shipGanBytes(cg, 'cgan-run'));
    let r = cli(dir, ['sample', '--out', 'c.png', '--n', '2']);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /wrote 20 samples .*weight average.* to c\.png/);
    assert.ok(existsSync(join(dir, 'c.png')));
    // no shipped AC-GAN in this checkout: say so
    r = cli(dir, ['sample', '--model', 'acgan']);
    assert.is(r.code, 2);
    assert.match(r.err, /models\/acgan\.safetensors is not in this checkout: give --checkpoint FILE/);
    writeWithHash(join(dir, 'models', 'acgan.safetensors'), shipGanBytes(ac, 'acgan-run'));
    r = cli(dir, ['sample', '--model', 'acgan', '--out', 'a.png', '--class', '3', '--n', '4']);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /class 3/);
    // the two images differ (two models, not one)
    assert.not.equal(readFileSync(join(dir, 'a.png')), readFileSync(join(dir, 'c.png')));
    r = cli(dir, ['sample', '--model', 'acgan', '--checkpoint', 'models/cgan.safetensors']);
    assert.is(r.code, 2);
    assert.match(r.err, /give --checkpoint FILE or --model/);
    r = cli(dir, ['sample', '--weights', 'trained']);
    assert.is(r.code, 1);
    assert.match(r.err, /weight average only/);
    // a changed shipped file is refused, and the message says how to restore or re-ship it
    const f = join(dir, 'models', 'cgan.safetensors');
    const b = readFileSync(f);
    b[b.length - 2] ^= 1;
    writeFileSync(f, b);
    r = cli(dir, ['sample']);
    assert.is(r.code, 1);
    assert.match(
      r.err,
      /differs from the one recorded in models\/cgan\.safetensors\.sha256.*--ship models\/cgan\.safetensors/,
    );
  });
});

test('CLI: `eval gan --ship` writes the shipped file and its .sha256, then evaluates that file', async () => {
  if (!findDataDir() || !existsSync(CLASSIFIER)) {
    console.log('  (skipped: Fashion-MNIST or models/eval-classifier.safetensors missing)');
    return;
  }
  const be = await gpuBackend();
  const full = await runCheckpoint(be, 'cgan', 5);
  await withTempDir('shipped-eval-', (dir) => {
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'run', 'checkpoint.safetensors'), full);
    let r = cli(dir, [
      'eval',
      'gan',
      '--checkpoint',
      'run/checkpoint.safetensors',
      '--ship',
      'models/cgan.safetensors',
      '--classifier',
      CLASSIFIER,
      '--what',
      'accuracy,balance',
      '--n',
      '40',
    ]);
    assert.is(r.code, 0, r.err);
    const hash = readFileSync(join(dir, 'models', 'cgan.safetensors.sha256'), 'utf8').split(' ')[0];
    assert.match(r.out, new RegExp(`wrote models/cgan\\.safetensors \\(SHA-256 ${hash}\\)`));
    assert.match(r.out, /generating 40 samples from models\/cgan\.safetensors/);
    // a shipped file's evaluation goes to eval-<name>/ in the working directory, not into models/
    const res = JSON.parse(readFileSync(join(dir, 'eval-cgan', 'results.json'), 'utf8'));
    assert.is(res.accuracy.count, 40);
    assert.not.ok(existsSync(join(dir, 'models', 'eval')));
    r = cli(dir, ['eval', 'gan', '--ship', 'x.safetensors', '--classifier', CLASSIFIER]);
    assert.is(r.code, 2);
    assert.match(r.err, /--ship writes the shipped file of a --checkpoint/);
  });
});

test("CLI: a demonstration `train` on a software adapter ends with the shipped GAN's grid beside its own, named", async () => {
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed)');
    return;
  }
  const be = await gpuBackend();
  if (!be.gpu.adapter.software) {
    console.log('  (skipped: a hardware adapter trains the real run, not the demonstration)');
    return;
  }
  const full = await runCheckpoint(be, 'cgan', 6);
  await withTempDir('shipped-train-', (dir) => {
    const run = (out: string) => cli(dir, ['train', 'cgan', '--train-subset', '64', '--out', out]);
    // without a shipped cGAN in the checkout: the demo alone
    let r = run('a');
    assert.is(r.code, 0, r.err);
    assert.not.ok(existsSync(join(dir, 'a', 'grid-shipped.png')));
    mkdirSync(join(dir, 'models'));
    writeWithHash(join(dir, 'models', 'cgan.safetensors'), shipGanBytes(full, 'run'));
    r = run('b');
    assert.is(r.code, 0, r.err);
    assert.match(
      r.out,
      /b\/grid\.png: this demonstration run \(preset cgan-lite, 1 epoch on 64 images, software adapter\)\n/,
    );
    assert.match(
      r.out,
      /b\/grid-shipped\.png: the shipped cGAN \(models\/cgan\.safetensors, preset test, 3 epochs on a GPU; models\/README\.md\) for the same noise/,
    );
    const [own, shipped] = ['grid.png', 'grid-shipped.png'].map((f) => readFileSync(join(dir, 'b', f)));
    assert.ok(shipped.length > 1000 && !own.equals(shipped), 'two different grids');
  });
});

test.run();
