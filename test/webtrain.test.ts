// webtrain.test.ts — the playground's Train view, Node side (issue 24): the page's trainer (src/web/trainer.ts) runs
// the CLI's loop, so its steps, epoch means and checkpoints are the CLI's bit for bit on the same engine; a D-only
// step changes only D's parameters, a G-only step only G's; a learning rate or β1 set between steps is the next
// step's; the live snapshot's windows and gradient norms are what the steps computed; a checkpoint saved by the
// page resumes in runGan (the CLI's runner) exactly where an uninterrupted run would be, and a CLI checkpoint
// resumes in the page; the class balance and its alarm; the page's data loading (gzip, SHA-256, IDX) and the
// server's data/ routes. The page itself in Chromium is test/train_view.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Generator } from '../src/autograd/random.js';
import { writeIdx, type LabelledImages } from '../src/data/idx.js';
import type { FashionMnist } from '../src/data/dataset.js';
import { decodeSafetensors } from '../src/nn/safetensors.js';
import { PRESETS, SCALARS, gradNorms } from '../src/gan/train.js';
import { runGan, type GanEpoch } from '../src/app/gan_run.js';
import { PageTrainer, VANISHED_BELOW } from '../src/web/trainer.js';
import {
  PageDataError,
  fetchTrainSet,
  gunzipIfNeeded,
  trainFileKind,
  trainSetFrom,
  trainSetFromPicked,
} from '../src/web/data.js';
import { loadClassifier, SHIPPED_CLASSIFIER } from '../src/app/cnn_run.js';
import { loadGanModels, slimGanCheckpoint } from '../src/gan/load.js';
import { startPlayground } from '../src/app/serve.js';
import { FILES } from '../src/data/fashion_files.js';
import type { GpuBackend } from '../src/kernels/backend.js';
import { gpuBackend, withTempDir } from './harness.js';

const PRESET = 'cgan-lite';
const B = 8;

/** seeded synthetic images (structured enough that D and G both learn something) and labels */
function synthetic(n: number, seed: number): LabelledImages {
  const g = new Generator(seed);
  const u = g.uniform(n * 784 + n);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(u[n * 784 + i] * 10);
    for (let p = 0; p < 784; p++)
      images[i * 784 + p] = Math.floor(((p % 28) / 28 > labels[i] / 10 ? 200 : 30) + 50 * u[i * 784 + p]);
  }
  return { images, labels, count: n, rows: 28, cols: 28 };
}
const TRAIN = synthetic(40, 5);

/** every parameter of G and D by checkpoint name, read back */
async function params(t: { s: PageTrainer['s'] }): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [pre, m] of [
    ['G.', t.s.G],
    ['D.', t.s.D],
  ] as const)
    for (const [n, p] of m.namedParameters()) out[pre + n] = Float32Array.from(await p.toArray());
  return out;
}
const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

async function withBe<T>(body: (be: GpuBackend) => Promise<T>): Promise<T> {
  const be = await gpuBackend();
  be.gpu.poison = false; // trainers read back whole buffers
  try {
    return await body(be);
  } finally {
    be.gpu.poison = true;
  }
}
const create = (be: GpuBackend, seed = 3, trainSubset: number | null = 32) =>
  PageTrainer.create(be, TRAIN, { preset: PRESET, batch: B, seed, trainSubset });

test('a D step changes every D parameter and no G parameter; a G step the reverse; optimizer counts follow', () =>
  withBe(async (be) => {
    const t = create(be);
    t.step();
    const p0 = await params(t);
    t.step('D');
    const p1 = await params(t);
    for (const k of Object.keys(p0)) {
      if (k.startsWith('G.')) assert.ok(same(p0[k], p1[k]), `${k} unchanged by a D step`);
      else assert.ok(!same(p0[k], p1[k]), `${k} changed by a D step`);
    }
    assert.equal([t.s.optD.stepCount, t.s.optG.stepCount, t.loop.inEpoch], [2, 1, 2]);
    t.step('G');
    const p2 = await params(t);
    for (const k of Object.keys(p0)) {
      if (k.startsWith('D.')) assert.ok(same(p1[k], p2[k]), `${k} unchanged by a G step`);
      else assert.ok(!same(p1[k], p2[k]), `${k} changed by a G step`);
    }
    assert.equal(
      [t.s.optD.stepCount, t.s.optG.stepCount, t.loop.inEpoch, t.loop.step],
      [2, 2, 2, 3],
      'a G step takes no batch',
    );
    const snap = await t.snapshot();
    assert.equal(snap.windowSteps, { d: 2, g: 2 });
    t.dispose();
  }));

test("the page's steps are the CLI's: an epoch's means and checkpoint equal runGan's bit for bit", () =>
  withBe(async (be) =>
    withTempDir('webtrain-', async (dir) => {
      const data: FashionMnist = { train: TRAIN, test: TRAIN, source: 'synthetic' };
      const preset = PRESETS[PRESET];
      const opts = {
        preset: PRESET,
        config: preset.config,
        hyper: { ...preset.hyper, batch: B, epochs: 1 },
        seed: 3,
        trainSubset: 32,
        logEvery: 100,
        log: () => {},
      };
      const cli = await runGan(be, data, opts, join(dir, 'cli'));
      const t = create(be);
      let ended = false;
      for (let k = 0; k < 4; k++) ended = t.step();
      assert.ok(ended, '32 images at batch 8: the fourth step ends the epoch');
      const e = await t.endEpoch();
      for (const n of SCALARS)
        assert.ok(Object.is(e[n], cli.history[0][n]), `${n}: page ${e[n]} vs CLI ${cli.history[0][n]}`);
      const page = decodeSafetensors(await t.checkpoint()).tensors;
      const file = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'cli', 'checkpoint.safetensors')))).tensors;
      assert.equal(Object.keys(page).sort(), Object.keys(file).sort());
      for (const k of Object.keys(file)) {
        // G_ema's batchnorm statistics are recomputed on other sample counts (the CLI's 8×256, the page's 4×128)
        if (/^G_ema\..*running/.test(k)) continue;
        assert.ok(same(page[k].data, file[k].data), `${k}`);
      }
      t.dispose();
    }),
  ));

test("a learning rate or β1 set between steps is the next step's", () =>
  withBe(async (be) => {
    // a trainer whose D lr is changed before step 2 equals one whose optimizer had that lr from step 2 on
    const a = create(be),
      b = create(be),
      c = create(be);
    for (const t of [a, b, c]) t.step();
    a.setAdam('D', { lr: 2e-3, beta1: 0.3 });
    b.s.optD.lr = 2e-3;
    b.s.optD.beta1 = 0.3;
    for (const t of [a, b, c]) t.step();
    const [pa, pb, pc] = [await params(a), await params(b), await params(c)];
    for (const k of Object.keys(pa)) assert.ok(same(pa[k], pb[k]), `${k}: setAdam is the optimizer's lr and β1`);
    assert.ok(
      Object.keys(pa).some((k) => k.startsWith('D.') && !same(pa[k], pc[k])),
      "and it changed D's step",
    );
    assert.ok(
      Object.keys(pa)
        .filter((k) => k.startsWith('G.'))
        .some((k) => !same(pa[k], pc[k])),
      'G learns from the changed D',
    );
    assert.throws(() => a.setAdam('G', { lr: -1 }), /learning rate -1/);
    assert.throws(() => a.setAdam('G', { beta1: 1 }), /β1 1/);
    for (const t of [a, b, c]) t.dispose();
  }));

test("snapshots: each window's means are its steps' (across an epoch's end), gradient norms as gradNorms gives them", () =>
  withBe(async (be) => {
    // one snapshot per step gives each step's scalars; one over steps 2–5 (crossing the end of the 2-step epochs
    // of 16 images) their mean
    const a = PageTrainer.create(be, TRAIN, { preset: PRESET, batch: B, seed: 4, trainSubset: 16 });
    const b = PageTrainer.create(be, TRAIN, { preset: PRESET, batch: B, seed: 4, trainSubset: 16 });
    const per: Record<string, number>[] = [];
    for (let k = 0; k < 5; k++) {
      if (a.step()) await a.endEpoch();
      const s = await a.snapshot();
      assert.equal(s.windowSteps, { d: 1, g: 1 });
      per.push(s.window!);
    }
    if (b.step()) await b.endEpoch();
    await b.snapshot();
    for (let k = 1; k < 5; k++) if (b.step()) await b.endEpoch();
    const w = await b.snapshot();
    assert.equal(w.windowSteps, { d: 4, g: 4 });
    assert.equal([w.epoch, w.inEpoch, w.step], [3, 1, 5]);
    for (const n of SCALARS) {
      const mean = per.slice(1).reduce((s, p) => s + p[n], 0) / 4;
      assert.ok(
        Math.abs(w.window![n] - mean) <= 1e-6 * Math.max(1, Math.abs(mean)),
        `${n}: window ${w.window![n]} vs mean of steps ${mean}`,
      );
    }
    assert.equal(
      b.history.map((e) => [e.epoch, e.step]),
      [
        [1, 2],
        [2, 4],
      ],
    );
    const want = { G: await gradNorms(b.s.G), D: await gradNorms(b.s.D) };
    for (const net of ['G', 'D'] as const) {
      assert.equal(Object.keys(w.gradNorms[net]), Object.keys(want[net]));
      for (const [n, v] of Object.entries(want[net]))
        assert.ok(Math.abs(w.gradNorms[net][n] - v) <= 1e-5 * v, `${net}.${n}`);
    }
    a.dispose();
    b.dispose();
  }));

test('a page checkpoint taken mid-epoch resumes in runGan as the uninterrupted run; a CLI checkpoint resumes in the page', () =>
  withBe(async (be) =>
    withTempDir('webtrain-', async (dir) => {
      const data: FashionMnist = { train: TRAIN, test: TRAIN, source: 'synthetic' };
      const preset = PRESETS[PRESET];
      const opts = (epochs: number) => ({
        preset: PRESET,
        config: preset.config,
        hyper: { ...preset.hyper, batch: B, epochs },
        seed: 3,
        trainSubset: 32,
        logEvery: 100,
        log: () => {},
      });
      const full = await runGan(be, data, opts(1), join(dir, 'full'));
      // the page: 2 of the epoch's 4 steps, then saved
      const t = create(be);
      t.step();
      t.step();
      const bytes = await t.checkpoint();
      mkdirSync(join(dir, 'page'));
      writeFileSync(join(dir, 'page', 'checkpoint.safetensors'), bytes);
      const resumed = await runGan(be, data, opts(1), join(dir, 'page'), join(dir, 'page', 'checkpoint.safetensors'));
      const key = (h: GanEpoch[]) => h.map((e) => [e.dReal, e.dFake, e.aux, e.g, e.dx, e.dgz, e.step]);
      assert.equal(key(resumed.history), key(full.history));
      const a = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'full', 'checkpoint.safetensors')))).tensors;
      const b = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'page', 'checkpoint.safetensors')))).tensors;
      for (const k of Object.keys(a))
        assert.ok(same(a[k].data, b[k].data), `${k} after the CLI finished the page's epoch`);
      // sampling and evaluation load it too
      const m = loadGanModels(be, bytes, 'page.safetensors');
      assert.is(m.weights, 'average');
      m.G.dispose();
      m.D.dispose();
      // and the CLI's epoch-end checkpoint resumes in the page: its next epoch is the CLI's next epoch
      const cliBytes = new Uint8Array(readFileSync(join(dir, 'full', 'checkpoint.safetensors')));
      const cont = await runGan(be, data, opts(2), join(dir, 'full'), join(dir, 'full', 'checkpoint.safetensors'));
      const p = PageTrainer.resume(be, TRAIN, cliBytes, 'cli.safetensors');
      assert.equal([p.loop.step, p.loop.epoch, p.run.hyper.batch, p.run.trainSubset], [4, 2, B, 32]);
      for (let k = 0; k < 4; k++) p.step();
      const e = await p.endEpoch();
      for (const n of SCALARS)
        assert.ok(Object.is(e[n], cont.history[1][n]), `${n}: page ${e[n]} vs CLI ${cont.history[1][n]}`);
      assert.is(p.history.length, 2, "the CLI's history goes on");
      t.dispose();
      p.dispose();
    }),
  ));

test('a mid-epoch page checkpoint with manual steps resumes in the page exactly', () =>
  withBe(async (be) => {
    const a = create(be);
    a.step();
    a.step('D');
    a.step('G');
    a.setAdam('G', { lr: 1e-3 });
    const bytes = await a.checkpoint();
    const meta = JSON.parse(decodeSafetensors(bytes).metadata.adam);
    assert.equal(meta.G, { lr: 1e-3, beta1: 0.5 }, "D's and G's Adam settings, where they differ");
    const b = PageTrainer.resume(be, TRAIN, bytes, 'page.safetensors');
    assert.equal(
      [b.s.optG.lr, b.s.optD.lr, b.loop.step, b.s.optD.stepCount, b.s.optG.stepCount],
      [1e-3, 2e-4, 3, 2, 2],
    );
    for (const t of [a, b]) t.step();
    const [pa, pb] = [await params(a), await params(b)];
    for (const k of Object.keys(pa)) assert.ok(same(pa[k], pb[k]), k);
    // the epoch's sums and its D and G step counts come back with the position: the same window since it began
    const [sa, sb] = [await a.snapshot(), await b.snapshot()];
    assert.equal(
      [sa.windowSteps, sb.windowSteps],
      [
        { d: 3, g: 3 },
        { d: 3, g: 3 },
      ],
    );
    for (const n of SCALARS) assert.ok(Object.is(sa.window![n], sb.window![n]), n);
    assert.throws(
      () => PageTrainer.resume(be, TRAIN, slimGanCheckpoint(bytes), 'slim.safetensors'),
      /slim\.safetensors: a slim checkpoint \(weights only\) cannot resume/,
    );
    a.dispose();
    b.dispose();
  }));

test("class balance: the shipped classifier's shares of a generated batch, an alarm for a vanished class", () =>
  withBe(async (be) => {
    const judge = loadClassifier(be, SHIPPED_CLASSIFIER).model;
    const t = create(be);
    const b = await t.balance(judge, 3, 'trained');
    assert.is(b.count, 30);
    assert.ok(Math.abs(b.shares.reduce((s, x) => s + x, 0) - 1) < 1e-12);
    assert.equal(
      b.vanished,
      b.shares.flatMap((s, k) => (s < VANISHED_BELOW / 10 ? [k] : [])),
    );
    assert.ok(b.accuracy >= 0 && b.accuracy <= 1);
    // total collapse: G's last layer without weights makes one image (tanh of its bias) whatever it is asked
    t.s.G.up2.weight.assign(new Float32Array(t.s.G.up2.weight.size));
    t.s.G.up2.bias!.assign(Float32Array.from(new Generator(1).normal(1)));
    const c = await t.balance(judge, 3, 'trained');
    assert.is(c.shares.filter((s) => s === 1).length, 1, `one class takes all: ${c.shares}`);
    assert.is(c.vanished.length, 9, 'the other nine vanished');
    judge.dispose();
    t.dispose();
  }));

test('page data: gzip undone, official SHA-256 required, files named; fetched from a server that lists them', async () => {
  const img = writeIdx(
    [3, 28, 28],
    new Uint8Array(3 * 784).map((_, i) => i % 251),
  );
  const lab = writeIdx([3], [1, 2, 9]);
  assert.equal(await gunzipIfNeeded(new Uint8Array(gzipSync(img)), 'x'), img);
  assert.equal(await gunzipIfNeeded(img, 'x'), img, 'not gzip: as is');
  await gunzipIfNeeded(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 'bad.gz').then(
    () => assert.unreachable('bad gzip'),
    (e) => assert.match(e.message, /bad\.gz: not a valid gzip file/),
  );
  const set = await trainSetFrom(
    { name: 'i.gz', bytes: new Uint8Array(gzipSync(img)) },
    { name: 'l', bytes: lab },
    false,
  );
  assert.equal([set.count, Array.from(set.labels)], [3, [1, 2, 9]]);
  try {
    await trainSetFrom(
      { name: 'train-images-idx3-ubyte.gz', bytes: new Uint8Array(gzipSync(img)) },
      { name: 'l', bytes: lab },
    );
    assert.unreachable('a file that is not the official one');
  } catch (e) {
    assert.ok(
      e instanceof PageDataError &&
        /train-images-idx3-ubyte\.gz: contents differ from the official/.test((e as Error).message),
      (e as Error).message,
    );
  }
  assert.equal(
    [
      trainFileKind('train-images-idx3-ubyte.gz'),
      trainFileKind('train-labels-idx1-ubyte'),
      trainFileKind('t10k-images-idx3-ubyte.gz'),
    ],
    ['images', 'labels', null],
  );
  try {
    await trainSetFromPicked([{ name: 't10k-images-idx3-ubyte.gz', bytes: img }]);
    assert.unreachable('no training files');
  } catch (e) {
    assert.match(
      (e as Error).message,
      /needs train-images-idx3-ubyte\.gz and train-labels-idx1-ubyte\.gz among the picked files \(picked: t10k-images-idx3-ubyte\.gz\)/,
    );
  }
  await withTempDir('webtrain-data-', async (dir) => {
    writeFileSync(join(dir, `${FILES.trainImages.name}.gz`), gzipSync(img));
    writeFileSync(join(dir, FILES.trainLabels.name), lab);
    writeFileSync(join(dir, 'secret.txt'), 'no');
    for (const dataDir of [dir, null]) {
      const pg = await startPlayground({ root: 'dist/web', port: 0, dataDir });
      try {
        const get = (p: string) => fetch(new URL(p, pg.url));
        const index = await (await get('/data/index.json')).json();
        assert.equal(index.files, dataDir ? [`${FILES.trainImages.name}.gz`, FILES.trainLabels.name] : []);
        assert.is((await get('/data/secret.txt')).status, 404, "only the dataset's names");
        assert.is((await get('/checkpoint.safetensors')).status, 204, 'no model: 204, not a 404 the browser logs');
        if (dataDir) {
          assert.equal(
            new Uint8Array(await (await get(`/data/${FILES.trainImages.name}.gz`)).arrayBuffer()),
            new Uint8Array(gzipSync(img)),
          );
          // the page's loader against it: the fixture is not the official file, so it is refused by name
          await fetchTrainSet(new URL('data/', pg.url).href).then(
            () => assert.unreachable('verified'),
            (e) => assert.match(e.message, /contents differ/),
          );
        } else
          assert.is(
            await fetchTrainSet(new URL('data/', pg.url).href),
            null,
            'no data: null, the page says what to do',
          );
      } finally {
        await pg.close();
      }
    }
  });
});

test.run();
