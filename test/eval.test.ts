// eval.test.ts — the evaluation suite's parts: the IDX sample reader on good and corrupt files; accuracy and class
// balance bookkeeping; lerp/slerp, PCA, exact t-SNE and silhouettes on data with a known answer; the classifier
// pass (features, logits and predictions) of an untrained tiny CNN on real images, checked against `evaluate` (the
// same predictions through `forward`) and FID(set, set) ≈ 0; a tiny augmentation study (plumbing of extraTrain).
// The end-to-end evaluateGan run and the report are in report.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeIdx } from '../src/data/idx.js';
import { subset } from '../src/data/dataset.js';
import { Generator } from '../src/autograd/random.js';
import { readSamplePair, SampleFileError } from '../src/eval/idx_samples.js';
import {
  accuracyOf,
  classBalance,
  classify,
  featureGaussian,
  fidFromFeatures,
  fromSymmetric,
  pickImages,
  toBytes,
} from '../src/eval/metrics.js';
import { lerp, slerp, pcaFit, pcaProject, tsne, silhouette, stratifiedIndices } from '../src/eval/latent.js';
import { augmentationStudy } from '../src/eval/augment.js';
import { makeClassifier, evaluate } from '../src/train/classifier.js';
import { loadFashionMnist, findDataDir } from '../src/node/fashion_mnist.js';
import { gpuBackend } from './harness.js';

const TINY = { channels: [4, 4, 8, 8, 8, 8], dense: 16, dropout: 0.1, bnMomentum: 0.1, bnEps: 1e-3, classes: 10 };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'eval-'));
}

test('IDX samples: a good pair reads back (plain and gzipped, whatever the file names say)', () => {
  const dir = tmp();
  try {
    const n = 5;
    const px = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256);
    const lb = Uint8Array.of(0, 9, 3, 3, 1);
    writeFileSync(join(dir, 's.idx'), writeIdx([n, 28, 28], px));
    writeFileSync(join(dir, 'l.idx'), writeIdx([n], lb));
    writeFileSync(join(dir, 's.gz'), gzipSync(writeIdx([n, 28, 28], px)));
    writeFileSync(join(dir, 'l-no-gz-suffix'), gzipSync(writeIdx([n], lb)));
    for (const [s, l] of [
      ['s.idx', 'l.idx'],
      ['s.gz', 'l-no-gz-suffix'],
    ]) {
      const set = readSamplePair(join(dir, s), join(dir, l));
      assert.is(set.count, n);
      assert.equal([...set.labels], [...lb]);
      assert.equal([...set.images], [...px]);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('IDX samples: corrupt files give errors naming the file and the problem', () => {
  const dir = tmp();
  try {
    const n = 4;
    const good = writeIdx([n, 28, 28], new Uint8Array(n * 784));
    const labels = writeIdx([n], [1, 2, 3, 4]);
    const cases: [string, Uint8Array, Uint8Array, RegExp][] = [
      ['labels given as samples', labels, labels, /rank 1, expected 3/],
      [
        'bad magic',
        Uint8Array.from([0x12, 0x34, 0x08, 0x03, ...good.subarray(4)]),
        labels,
        /bad magic number 0x12340803/,
      ],
      ['float IDX type', Uint8Array.from([0, 0, 0x0d, 3, ...good.subarray(4)]), labels, /bad magic number/],
      ['32×32 images', writeIdx([n, 32, 32], new Uint8Array(n * 1024)), labels, /32×32, expected 28×28/],
      ['truncated images', good.subarray(0, good.length - 10), labels, /truncated/],
      ['trailing bytes', Uint8Array.from([...good, 1, 2, 3]), labels, /trailing bytes/],
      ['count mismatch', good, writeIdx([n + 1], [1, 2, 3, 4, 5]), /5 labels for 4 images/],
      ['label out of range', good, writeIdx([n], [1, 2, 10, 4]), /label 10 at index 2 is outside 0\.\.9/],
      ['empty set', writeIdx([0, 28, 28], []), writeIdx([0], []), /holds no images/],
      ['gzip garbage', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), labels, /does not decompress/],
      ['too short', Uint8Array.of(0, 0), labels, /too short/],
    ];
    for (const [what, s, l, re] of cases) {
      writeFileSync(join(dir, 's'), s);
      writeFileSync(join(dir, 'l'), l);
      try {
        readSamplePair(join(dir, 's'), join(dir, 'l'));
        assert.unreachable(`${what}: no error`);
      } catch (e) {
        assert.ok(e instanceof SampleFileError, `${what}: ${(e as Error).constructor.name} ${(e as Error).message}`);
        assert.match((e as Error).message, re, what);
        if (!/decompress|no images/.test((e as Error).message))
          assert.match((e as Error).message, /--samples|--labels/, `${what}: says which flag`);
      }
    }
    assert.throws(
      () => readSamplePair(join(dir, 'missing'), join(dir, 'l')),
      (e: Error) => e instanceof SampleFileError && /--samples file .*missing does not exist/.test(e.message),
    );
    assert.throws(
      () => readSamplePair(join(dir, 's'), dir),
      (e: Error) => e instanceof SampleFileError && /not a regular file/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('accuracy and class balance bookkeeping adds up', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => i % 10);
  // classes 0–4 always right; 5–9 predicted as class 0
  const pred = Int32Array.from(labels, (y) => (y < 5 ? y : 0));
  const a = accuracyOf(pred, labels);
  assert.is(a.correct, 50);
  assert.is(a.acc, 0.5);
  assert.is(
    a.confusion.flat().reduce((s, v) => s + v, 0),
    100,
  );
  assert.equal(
    a.perClass.map((p) => p.count),
    new Array(10).fill(10),
  );
  assert.equal(
    a.perClass.map((p) => p.acc),
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  );
  assert.is(a.confusion[7][0], 10);
  const b = classBalance(pred, 10, labels);
  assert.equal(b.counts, [60, 10, 10, 10, 10, 0, 0, 0, 0, 0]);
  assert.ok(Math.abs(b.shares.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  assert.is(b.worstClass, 0);
  assert.ok(Math.abs(b.maxDeviation - 0.5) < 1e-12);
  assert.ok(Math.abs(b.totalVariation - 0.5) < 1e-12);
  assert.equal(b.intendedShares, new Array(10).fill(0.1));
  const even = classBalance(labels);
  assert.is(even.maxDeviation, 0);
  // range conversions
  assert.equal([...fromSymmetric([-1, 0, 1, 3])], [0, 0.5, 1, 1]);
  assert.equal([...toBytes([-1, 0, 1, NaN], 'symmetric')], [0, 128, 255, 0]);
});

test('lerp and slerp: endpoints, midpoints, slerp keeps the norm between equal-norm vectors', () => {
  const a = Float64Array.of(3, 0, 0),
    b = Float64Array.of(0, 3, 0);
  assert.equal([...lerp(a, b, 0)], [...a]);
  assert.equal([...lerp(a, b, 0.5)], [1.5, 1.5, 0]);
  for (const t of [0, 0.25, 0.5, 1]) {
    const s = slerp(a, b, t);
    assert.ok(Math.abs(Math.hypot(...s) - 3) < 1e-12, `|slerp(${t})| = ${Math.hypot(...s)}`);
    assert.ok(Math.abs(Math.atan2(s[1], s[0]) - (t * Math.PI) / 2) < 1e-12);
  }
  assert.ok(
    slerp(a, a, 0.3).every((v, i) => Math.abs(v - a[i]) < 1e-12),
    'parallel vectors fall back to lerp',
  );
});

test('PCA finds the axis of largest variance; t-SNE separates clusters; silhouettes match a hand computation', () => {
  // points along (1, 1, 0)/√2 with small noise: the first component is that axis, explaining almost everything
  const g = new Generator(5);
  const t = g.normal(200),
    e = g.normal(600, 0, 0.01);
  const x = new Float64Array(600);
  for (let i = 0; i < 200; i++) {
    x[3 * i] = 5 * t[i] + e[3 * i] + 1;
    x[3 * i + 1] = 5 * t[i] + e[3 * i + 1] - 2;
    x[3 * i + 2] = e[3 * i + 2];
  }
  const p = pcaFit(x, 3, 2);
  assert.ok(
    Math.abs(Math.abs(p.components[0][0]) - Math.SQRT1_2) < 1e-3 && Math.abs(p.components[0][2]) < 1e-3,
    `${[...p.components[0]]}`,
  );
  assert.ok(p.explained[0] > 0.999);
  const proj = pcaProject(p, x, 3);
  const m = proj.reduce((s, v, i) => (i % 2 === 0 ? s + v : s), 0) / 200;
  assert.ok(Math.abs(m) < 1e-9, 'projections are centred');

  // silhouette by hand: 1-D classes {0, 1} and {4, 5}
  const s = silhouette(Float64Array.of(0, 1, 4, 5), 1, [0, 0, 1, 1], 2);
  const want = [(4.5 - 1) / 4.5, (3.5 - 1) / 3.5, (3.5 - 1) / 3.5, (4.5 - 1) / 4.5];
  assert.ok(Math.abs(s.overall - want.reduce((a, b) => a + b) / 4) < 1e-12);
  assert.ok(Math.abs(s.perClass[0] - (want[0] + want[1]) / 2) < 1e-12);

  // three Gaussian clusters in 10-d, 40 points each: t-SNE keeps them apart
  const n = 120,
    dim = 10;
  const z = g.normal(n * dim);
  const pts = new Float64Array(n * dim);
  const lab = Int32Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) pts[i * dim + k] = z[i * dim + k] + (k === lab[i] ? 8 : 0);
  const t0 = performance.now();
  const r = tsne(pts, dim, { perplexity: 30, iterations: 400, seed: 1 });
  const ms = performance.now() - t0;
  const s2 = silhouette(r.y, 2, lab, 3);
  assert.ok(s2.overall > 0.6, `2-D silhouette ${s2.overall}`);
  assert.ok(r.kl < r.klAfterExaggeration, `KL ${r.klAfterExaggeration} → ${r.kl}`);
  assert.ok(ms < 3000, `${ms} ms`);
  assert.equal([...stratifiedIndices([0, 1, 0, 0, 1, 2], 2, 3)], [0, 1, 2, 4, 5]);
});

test('classify: features and predictions of a tiny CNN on real images; predictions equal evaluate()’s; FID(set, set) ≈ 0', async () => {
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed; run scripts/setup.sh)');
    return;
  }
  const be = await gpuBackend();
  be.gpu.poison = false;
  try {
    const data = await loadFashionMnist({ download: false });
    const { model } = makeClassifier(be, 3, TINY);
    const n = 150;
    const { images, labels } = pickImages(data.test, n);
    const c = await classify(be, model, images, 100); // two batches, the second partial
    assert.is(c.count, n);
    assert.is(c.dim, 16);
    assert.is(c.features.length, n * 16);
    assert.ok(c.features.every(Number.isFinite));
    assert.ok(c.predictions.every((p) => p >= 0 && p < 10));
    // the logits (the classifier score's input): their argmax is the prediction
    assert.is(c.logits.length, n * 10);
    for (let i = 0; i < n; i++) {
      const row = Array.from(c.logits.subarray(i * 10, i * 10 + 10));
      assert.is(row.indexOf(Math.max(...row)), c.predictions[i], `sample ${i}`);
    }
    assert.ok(model.training, 'classify restores training mode');
    const acc = accuracyOf(c.predictions, labels);
    assert.is(
      acc.perClass.reduce((s, p) => s + p.count, 0),
      n,
    );
    assert.is(
      acc.perClass.reduce((s, p) => s + p.correct, 0),
      acc.correct,
    );
    // evaluate() goes through model.forward (dropout included, identity in eval mode): the same predictions
    const ev = await evaluate(
      be,
      model,
      subset(
        data.test,
        Int32Array.from({ length: n }, (_, i) => i),
      ),
      100,
    );
    assert.equal(ev.confusion, acc.confusion);
    const gs = featureGaussian(c);
    const fid = fidFromFeatures(gs, gs, gs, 'untrained');
    assert.ok(fid.fid < 1e-9 && fid.realFloor! < 1e-9, `FID of a set against itself ${fid.fid}`);
    assert.is(fid.nGenerated, n);
    // two halves of the same distribution are closer than real vs blank images
    const half = (a: number, b: number) => ({
      count: b - a,
      dim: c.dim,
      features: c.features.subarray(a * c.dim, b * c.dim),
      predictions: c.predictions.subarray(a, b),
      logits: c.logits.subarray(a * 10, b * 10),
    });
    const blank = await classify(be, model, new Float32Array(20 * 784).fill(0.02));
    const noisy = await classify(be, model, Float32Array.from(new Generator(1).uniform(40 * 784)));
    const realVsReal = fidFromFeatures(featureGaussian(half(0, 75)), featureGaussian(half(75, 150)), null, 'x').fid;
    const realVsNoise = fidFromFeatures(featureGaussian(noisy), featureGaussian(half(0, 75)), null, 'x').fid;
    assert.ok(realVsNoise > realVsReal, `real/real ${realVsReal} vs noise/real ${realVsNoise}`);
    assert.is(classBalance(blank.predictions).maxDeviation, 0.9, 'identical images all get one class');
  } finally {
    be.gpu.poison = true;
  }
});

test('augmentation study (tiny): real, real + 1× synthetic and TSTR rows with the right counts', async () => {
  if (!findDataDir()) return;
  const be = await gpuBackend();
  be.gpu.poison = false;
  try {
    const data = await loadFashionMnist({ download: false });
    // "synthetic" images: real test images from the end of the set (plumbing only), labels as they are
    const asked: number[] = [];
    const synth = async (m: number) => {
      asked.push(m);
      return subset(
        data.test,
        Int32Array.from({ length: Math.min(m, 20) }, (_, i) => 9999 - i),
      );
    };
    const logs: string[] = [];
    const r = await augmentationStudy(be, data, synth, {
      epochs: 1,
      batch: 16,
      lr: 3e-3,
      seed: 4,
      ratios: [0, 1],
      trainSubset: 32,
      testSubset: 40,
      config: TINY,
      log: (s) => logs.push(s),
    });
    assert.equal(asked, [32], 'synthetic images drawn once, for the largest setting');
    assert.equal(
      r.rows.map((x) => [x.setting, x.real, x.synthetic]),
      [
        ['real', 32, 0],
        ['real + 1× synthetic', 32, 20],
        ['synthetic only (TSTR)', 0, 20],
      ],
    );
    assert.match(r.notes.join(' '), /only 20 synthetic images available of the 32 wanted/);
    assert.is(r.testCount, 40);
    for (const x of r.rows) {
      assert.ok(x.testAcc >= 0 && x.testAcc <= 1 && Number.isFinite(x.testLoss), `${x.setting}: ${x.testAcc}`);
      assert.is(x.perClass.length, 10);
    }
    assert.ok(logs.length >= 6);
  } finally {
    be.gpu.poison = true;
  }
});

test.run();
