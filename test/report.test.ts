// report.test.ts — report.html and the whole evaluation: base64 without Buffer; a report from a bare input (every
// section replaced by its note) and from a full hand-made one; evaluateGan end to end on a tiny GAN run and an
// untrained tiny classifier (every `what`, at tiny sizes), then the IDX path; and report.html opened in headless
// Chromium (Debian's `chromium` through playwright-core): no console errors, every figure and table renders.
// The browser part is skipped with a note when /usr/bin/chromium or playwright-core is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { base64, reportHtml, type ReportInput } from '../src/report/html.js';
import { barChart, lineChart, scatterPlot } from '../src/report/svg.js';
import { gridPng } from '../src/node/png.js';
import { Generator } from '../src/autograd/random.js';
import { subset, CLASS_NAMES, type FashionMnist } from '../src/data/dataset.js';
import { writeIdx } from '../src/data/idx.js';
import { loadFashionMnist, findDataDir } from '../src/node/fashion_mnist.js';
import { makeClassifier } from '../src/train/classifier.js';
import { saveCnn } from '../src/app/cnn_run.js';
import { runGan } from '../src/app/gan_run.js';
import type { GanConfig } from '../src/gan/models.js';
import { evaluateGan, type EvalResults, EvalUsageError } from '../src/app/eval_run.js';
import { gpuBackend } from './harness.js';
import { HANG_GUARD_MS } from './hang_guard.js';

const TINY_CNN = { channels: [4, 4, 8, 8, 8, 8], dense: 16, dropout: 0.1, bnMomentum: 0.1, bnEps: 1e-3, classes: 10 };
const TINY_GAN: GanConfig = {
  kind: 'cgan',
  noiseDim: 8,
  embedDim: 5,
  classes: 10,
  gMaps: 4,
  gMid: 3,
  dChannels: [2, 3, 4, 5],
  dropout: 0.5,
  bnMomentum: 0.1,
};
const CHROMIUM = '/usr/bin/chromium';

test('base64 matches Node’s for every tail length', () => {
  const g = new Generator(3).uniform(300);
  for (const n of [0, 1, 2, 3, 4, 5, 299, 300]) {
    const b = Uint8Array.from(g.subarray(0, n), (u) => Math.floor(u * 256));
    assert.is(base64(b), Buffer.from(b).toString('base64'), `length ${n}`);
  }
});

test('report from a bare input: every section says it was not computed; text is escaped', () => {
  const html = reportHtml({ title: 'tiny <run> & co' });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<title>tiny &lt;run&gt; &amp; co<\/title>/);
  for (const s of [
    'FID not computed',
    'KID, precision/recall and the classifier score not computed',
    'Accuracy not computed',
    'Class balance not computed',
    'Truncation study not run',
    'Augmentation study not run',
    'Latent-space figures not made',
    'No loss curves',
    'No metrics were computed',
  ])
    assert.ok(html.includes(s), s);
  assert.not.match(html, /<figure/);
  assert.not.match(html, /<script|https?:\/\//, 'self-contained: no scripts, nothing fetched');
});

/** a report with every section, from made-up numbers (no GPU) */
function fullInput(): ReportInput {
  const png = new Uint8Array(gridPng(new Float32Array(4 * 784).fill(0.3), { rows: 2, cols: 2 }));
  const conf = Array.from({ length: 10 }, (_, i) =>
    Array.from({ length: 10 }, (_, j) => (i === j ? 8 : i === (j + 1) % 10 ? 2 : 0)),
  );
  const pts = new Generator(1).normal(200);
  const cls = Array.from({ length: 100 }, (_, i) => i % 10);
  return {
    title: 'Evaluation of a made-up run',
    subtitle: 'test',
    setup: [
      ['model', 'cgan'],
      ['epochs', 3],
    ],
    lossCurves: [
      { caption: 'Losses.', svg: lineChart('losses', 'epoch', [{ name: 'G', x: [1, 2, 3], y: [1, 0.8, 0.7] }]) },
    ],
    sampleGrids: [
      { epoch: 1, png },
      { epoch: 3, png },
    ],
    samples: { caption: 'Samples.', png },
    fid: {
      fid: 12.5,
      realFloor: 0.8,
      nGenerated: 100,
      nReal: 100,
      nRealTrain: 100,
      dim: 128,
      classifier: 'best.safetensors',
      clipped: 2,
      mostNegative: -3e-14,
    },
    kid: { mean: 2.5e-4, std: 1.25e-5, subsets: 100, subsetSize: 100, nGenerated: 100, nReal: 100, dim: 128 },
    prc: { precision: 0.75, recall: 0.5, fScore: 0.6, k: 3, nGenerated: 100, nReal: 100, dim: 128 },
    isc: {
      mean: 8.5,
      std: 0.25,
      splits: 10,
      n: 100,
      classes: 10,
      real: { mean: 9.25, std: 0.125, splits: 10, n: 100 },
    },
    accuracy: {
      acc: 0.8,
      count: 100,
      perClass: CLASS_NAMES.map((name) => ({ name, count: 10, correct: 8, acc: 0.8 })),
      confusion: conf,
      realAcc: 0.91,
      realCount: 100,
    },
    balance: {
      count: 100,
      counts: new Array(10).fill(10),
      shares: new Array(10).fill(0.1),
      expected: 0.1,
      maxDeviation: 0,
      worstClass: 0,
      totalVariation: 0,
    },
    truncation: {
      rows: [
        { threshold: null, fid: 12.5, acc: 0.8, maxDeviation: 0.02, worstClass: 6 },
        { threshold: 1, fid: 15.25, acc: 0.875, maxDeviation: 0.015, worstClass: 4 },
      ],
      figures: [
        {
          caption: 'Truncation.',
          svg: lineChart('accuracy', 'threshold', [{ name: 'accuracy %', x: [1], y: [87.5] }]),
        },
        { caption: 'One noise vector.', png },
      ],
    },
    augment: {
      rows: [
        { setting: 'real', real: 32, synthetic: 0, testAcc: 0.5, valAcc: 0.4 },
        { setting: 'real + 1× synthetic', real: 32, synthetic: 32, testAcc: 0.55 },
      ],
      epochs: 1,
      seed: 0,
      testCount: 40,
    },
    latent: {
      figures: [
        { caption: 'PCA.', svg: scatterPlot('pca', pts, cls, CLASS_NAMES) },
        { caption: 'Interpolation.', png },
      ],
      silhouette: [{ name: 'real', s: { overall: 0.2, perClass: new Array(10).fill(0.2), count: 100 } }],
    },
    notes: ['a note'],
  };
}

test('report from a full input: numbered figures and tables, PNGs as data: URIs, SVG inline', () => {
  const html = reportHtml(fullInput());
  const figs = html.match(/<figure data-figure=/g)?.length ?? 0;
  // loss curve, 2 epoch grids, samples, confusion, balance, 2 truncation, 2 latent
  assert.is(figs, 10);
  assert.is(html.match(/<table data-table=/g)?.length, 7);
  assert.is(html.match(/src="data:image\/png;base64,/g)?.length, 5);
  assert.match(
    html,
    /<td>KID \(MMD², polynomial kernel; lower is better\)<\/td><td>100 vs 100<\/td><td>2\.500e-4 ± 1\.250e-5<\/td><td>100 subset pairs of 100/,
  );
  assert.match(html, /<td>precision \(generated inside the real manifold\)<\/td><td>100 vs 100<\/td><td>0\.7500<\/td>/);
  assert.match(html, /<td>recall \(real inside the generated manifold\)<\/td><td>100 vs 100<\/td><td>0\.5000<\/td>/);
  assert.match(
    html,
    /<td>8\.500 ± 0\.250<\/td><td>10 splits; at most 10; real test images 9\.250 ± 0\.125 \(100\)<\/td>/,
  );
  assert.match(
    html,
    /KID 2\.500e-4 ± 1\.250e-5; precision 0\.750 and recall 0\.500 \(k = 3\); classifier score 8\.50 of at most 10 \(real test images 9\.25\)/,
  );
  assert.match(html, /<td>truncated at ±1<\/td><td>15\.250<\/td><td>87\.50%<\/td><td>1\.50% \(Coat\)<\/td>/);
  assert.match(html, /FID 12\.50/);
  assert.match(html, /real-vs-real floor 0\.80/);
  assert.match(html, /2 negative eigenvalue\(s\) \(the most negative -3\.00e-14\) were clipped/);
  assert.match(html, /best setting is “real \+ 1× synthetic” at 55\.00%/);
  assert.not.match(html, /not computed|not run|not made/);
  const bars = barChart('b', ['a', 'b'], [0.2, 0.5], {
    reference: 0.1,
    percent: true,
    second: { name: 'x', values: [0.1, 0.1] },
  });
  assert.match(bars, /^<svg[^>]*>/);
  assert.match(bars, /50\.0%/);
});

/** open a report in headless Chromium: console errors and each figure's rendered size */
async function renderInChromium(file: string): Promise<{
  errors: string[];
  figures: { n: string; kind: string; w: number; h: number; ok: boolean }[];
  tables: number;
} | null> {
  if (!existsSync(CHROMIUM)) {
    console.log(`  (browser check skipped: ${CHROMIUM} not installed; bash scripts/setup.sh --browser)`);
    return null;
  }
  let pw: typeof import('playwright-core');
  try {
    pw = await import('playwright-core');
  } catch {
    console.log('  (browser check skipped: playwright-core not installed; npm ci)');
    return null;
  }
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const ctx = await pw.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    timeout: HANG_GUARD_MS,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  ctx.setDefaultTimeout(HANG_GUARD_MS); // waits bounded by the work only (hang_guard.ts)
  try {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url().slice(0, 80)}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const res = await page.evaluate(() => {
      const figures = Array.from(document.querySelectorAll('figure')).map((f) => {
        const img = f.querySelector('img');
        const svg = f.querySelector('svg');
        const el = (img ?? svg) as Element | null;
        const box = el?.getBoundingClientRect();
        // an <img> must have decoded; an inline <svg> must have drawn content
        const ok = img
          ? img.complete && img.naturalWidth > 0
          : svg
            ? svg.getBBox().width > 0 && svg.querySelectorAll('rect,circle,polyline,text').length > 2
            : false;
        return {
          n: f.getAttribute('data-figure') ?? '?',
          kind: img ? 'img' : svg ? 'svg' : 'none',
          w: box?.width ?? 0,
          h: box?.height ?? 0,
          ok,
        };
      });
      return { figures, tables: document.querySelectorAll('table').length };
    });
    return { errors, ...res };
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

test("the GPU sessions' committed reports (bench/results/gpu-*/…/report.html) open in Chromium without console errors", async () => {
  const reports = readdirSync('bench/results')
    .filter((d) => d.startsWith('gpu-'))
    .flatMap((d) => ['cgan', 'acgan'].map((m) => join('bench/results', d, 'gpu-results', m, 'eval', 'report.html')))
    .filter((f) => existsSync(f));
  assert.ok(reports.length >= 2, `the 2026-12-04 session's two reports are committed: ${reports.join(', ')}`);
  for (const f of reports) {
    const seen = await renderInChromium(resolve(f));
    if (!seen) return;
    assert.equal(seen.errors, [], `${f}: no console errors`);
    assert.ok(
      seen.figures.length >= 10 && seen.figures.every((x) => x.ok),
      `${f}: every figure renders (${seen.figures.filter((x) => !x.ok).map((x) => x.n)})`,
    );
  }
});

test('evaluateGan end to end on a tiny GAN run (every evaluation), the IDX path, and report.html in headless Chromium', async () => {
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed; run scripts/setup.sh)');
    return;
  }
  const be = await gpuBackend();
  be.gpu.poison = false;
  const dir = mkdtempSync(join(tmpdir(), 'eval-run-'));
  try {
    const full = await loadFashionMnist({ download: false });
    const first = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
    const data: FashionMnist = {
      train: subset(full.train, first(400)),
      test: subset(full.test, first(200)),
      source: `${full.source} (first 400/200)`,
    };
    // a GAN checkpoint with a run directory (2 epochs of 16 images: grids, history), and an untrained classifier
    const cls = makeClassifier(be, 5, TINY_CNN);
    const cnnPath = join(dir, 'cnn.safetensors');
    await saveCnn(
      cnnPath,
      cls,
      {
        epochs: 0,
        batch: 32,
        lr: 1e-3,
        seed: 5,
        valFraction: 0.1,
        patience: 0,
        augment: false,
        logEvery: 1,
        config: TINY_CNN,
      },
      0,
      0,
    );
    await runGan(
      be,
      data,
      {
        preset: 'test',
        config: TINY_GAN,
        hyper: { lr: 2e-3, beta1: 0.5, batch: 8, epochs: 2, emaDecay: 0.99 },
        seed: 1,
        trainSubset: 16,
        logEvery: 100,
        log: () => {},
        fid: { every: 1, classifier: cnnPath, n: 20 },
        trace: true,
      },
      join(dir, 'gan'),
    );

    for (const bad of [{}, { samples: 'a' }, { ganCheckpoint: 'x', samples: 'a', labels: 'b' }])
      try {
        await evaluateGan(be, { classifierCheckpoint: cnnPath, data, outDir: join(dir, 'bad'), what: ['fid'], ...bad });
        assert.unreachable('no error');
      } catch (e) {
        assert.ok(e instanceof EvalUsageError, (e as Error).message);
      }

    const logs: string[] = [];
    const out = join(dir, 'eval');
    const r = await evaluateGan(be, {
      ganCheckpoint: join(dir, 'gan', 'checkpoint.safetensors'),
      classifierCheckpoint: cnnPath,
      data,
      n: 100,
      realN: 100,
      seed: 3,
      outDir: out,
      what: ['fid', 'kid', 'prc', 'isc', 'accuracy', 'balance', 'truncation', 'latent', 'augment', 'report'],
      truncation: [1, 0.5],
      kid: { subsets: 10, subsetSize: 50 },
      isc: { splits: 5 },
      latent: { perClass: 5, steps: 5, sweepRows: 2, tsneIterations: 250 },
      augment: { epochs: 1, batch: 16, trainSubset: 32, testSubset: 40 },
      log: (s) => logs.push(s),
    });
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as EvalResults;
    assert.is(saved.n, 100);
    assert.equal(saved.source, {
      kind: 'gan',
      checkpoint: join(dir, 'gan', 'checkpoint.safetensors'),
      model: 'cgan',
      preset: 'test',
      epoch: 2,
      weights: 'average',
    });
    assert.is(saved.classifier.name, 'cnn.safetensors');
    // FID: counts and a floor; accuracy and balance add up
    assert.equal([r.fid!.nGenerated, r.fid!.nReal, r.fid!.nRealTrain, r.fid!.dim], [100, 100, 100, 16]);
    assert.ok(
      r.fid!.fid >= 0 && Number.isFinite(r.fid!.fid) && r.fid!.realFloor! >= 0 && r.fid!.realFloor! < r.fid!.fid,
      `FID ${r.fid!.fid}, floor ${r.fid!.realFloor}`,
    );
    // KID, precision/recall and the classifier score on the same features and the same classifier pass
    assert.equal(
      [r.kid!.subsets, r.kid!.subsetSize, r.kid!.nGenerated, r.kid!.nReal, r.kid!.dim, r.kid!.seed],
      [10, 50, 100, 100, 16, 3],
    );
    assert.ok(Number.isFinite(r.kid!.mean) && r.kid!.std >= 0, JSON.stringify(r.kid));
    assert.is((saved.kid as Record<string, unknown>).values, undefined, 'results.json leaves out each subset value');
    assert.equal([r.prc!.k, r.prc!.nGenerated, r.prc!.nReal], [3, 100, 100]);
    for (const v of [r.prc!.precision, r.prc!.recall])
      assert.ok(v >= 0 && v <= 1 && Number.isInteger(v * 100), `precision/recall ${v}`);
    assert.equal([r.isc!.splits, r.isc!.n, r.isc!.classes, r.isc!.real?.n], [5, 100, 10, 100]);
    for (const v of [r.isc!.mean, r.isc!.real!.mean]) assert.ok(v >= 1 && v <= 10, `classifier score ${v}`);
    assert.is(r.accuracy!.count, 100);
    assert.equal(
      r.accuracy!.perClass.map((p) => p.count),
      new Array(10).fill(10),
      'labels cycle through the classes',
    );
    assert.is(
      r.accuracy!.confusion.flat().reduce((a, b) => a + b, 0),
      100,
    );
    assert.is(r.accuracy!.real!.count, 100);
    assert.is(
      r.balance!.counts.reduce((a, b) => a + b, 0),
      100,
    );
    assert.equal(
      r.balance!.counts,
      r.accuracy!.confusion.reduce((s, row) => s.map((v, j) => v + row[j]), new Array(10).fill(0)),
      'balance counts are the confusion matrix column sums',
    );
    // truncation: the untruncated row is the samples above; each threshold's samples differ (noise redrawn)
    assert.equal(
      r.truncation!.map((x) => x.threshold),
      [null, 1, 0.5],
    );
    assert.equal(
      [r.truncation![0].fid, r.truncation![0].acc, r.truncation![0].maxDeviation],
      [r.fid!.fid, r.accuracy!.acc, r.balance!.maxDeviation],
    );
    for (const x of r.truncation!.slice(1))
      assert.ok(
        Number.isFinite(x.fid) && x.fid >= 0 && x.fid !== r.fid!.fid && x.perClassAcc.length === 10,
        JSON.stringify(x),
      );
    assert.is(r.latent!.silhouette.generated.count, 50);
    assert.is(r.latent!.pcaExplained.length, 2);
    assert.equal(
      r.augment!.rows.map((x) => [x.setting, x.real, x.synthetic]),
      [
        ['real', 32, 0],
        ['real + 0.5× synthetic', 32, 16],
        ['real + 1× synthetic', 32, 32],
        ['synthetic only (TSTR)', 0, 32],
      ],
    );
    for (const f of [
      'results.json',
      'report.html',
      'samples.png',
      'confusion.svg',
      'balance.svg',
      'interp_lerp.png',
      'interp_slerp.png',
      'class_sweep.png',
      'truncation.png',
      'truncation_accuracy.svg',
      'truncation_fid.svg',
      'pca_real.svg',
      'pca_generated.svg',
      'tsne_real.svg',
      'tsne_generated.svg',
    ])
      assert.ok(existsSync(join(out, f)) && r.files.includes(f), f);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.not.match(html, /not computed|not run|not made|No loss curves|No per-epoch/);
    assert.match(html, /Samples after epoch 2/);
    assert.match(html, /the weight average \(EMA, decay 0.99, batchnorm statistics recomputed for it\)/);
    assert.match(html, /FID during training \(--fid-every\)[\s\S]*Two lines: the generator's weight average/);
    assert.match(html, /accuracy on those generated images/);
    // --trace's statistics as charts: G's activations and the gradients at them, D's activations, weights
    const trace = html.slice(html.indexOf('2.1 Inside the networks (--trace)'), html.indexOf('<h2>3.'));
    assert.is(trace.match(/<figure/g)?.length, 5, 'five trace charts');
    assert.match(trace, /G: log10 mean \|gradient\| at each layer[\s\S]*noise_maps[\s\S]*up1_bn_relu/);
    assert.match(trace, /D: activation spread[\s\S]*conv4/);

    // the IDX path: the same kind of samples written as an IDX pair (gz not needed here), accuracy and balance only
    const imgs = new Uint8Array(30 * 784).map((_, i) => (i * 13) % 256);
    writeFileSync(join(dir, 's.idx'), writeIdx([30, 28, 28], imgs));
    writeFileSync(
      join(dir, 'l.idx'),
      writeIdx(
        [30],
        Array.from({ length: 30 }, (_, i) => i % 3),
      ),
    );
    const r2 = await evaluateGan(be, {
      samples: join(dir, 's.idx'),
      labels: join(dir, 'l.idx'),
      classifierCheckpoint: cnnPath,
      data,
      n: 20,
      outDir: join(dir, 'idx'),
      what: ['accuracy', 'balance', 'truncation', 'report'],
    });
    assert.equal(r2.source, { kind: 'idx', samples: join(dir, 's.idx'), labels: join(dir, 'l.idx'), fileCount: 30 });
    assert.is(r2.n, 20);
    assert.is(r2.accuracy!.count, 20);
    assert.ok(
      r2.notes.some((n) => /first 20 of the 30/.test(n)) &&
        r2.notes.some((n) => /not uniform/.test(n)) &&
        r2.notes.some((n) => /truncation study needs a generator/.test(n)),
      r2.notes.join('; '),
    );
    assert.is(r2.truncation, undefined);
    assert.match(
      readFileSync(join(dir, 'idx', 'report.html'), 'utf8'),
      /FID not computed[\s\S]*KID, precision\/recall and the classifier score not computed/,
    );

    const seen = await renderInChromium(join(out, 'report.html'));
    if (seen) {
      assert.equal(seen.errors, [], 'no console errors');
      // training curves 4 (losses, D outputs, FID and accuracy per epoch), epoch grids 2, trace 5, samples, confusion,
      // balance, truncation 3 (two charts, a grid), lerp, slerp, sweep, 2 PCA, 2 t-SNE
      assert.is(seen.figures.length, 24, JSON.stringify(seen.figures));
      for (const f of seen.figures)
        assert.ok(f.ok && f.w > 20 && f.h > 20, `figure ${f.n} (${f.kind}) did not render: ${JSON.stringify(f)}`);
      assert.is(seen.tables, 7);
    }
  } finally {
    be.gpu.poison = true;
    if (!process.env.KEEP_TMP) rmSync(dir, { recursive: true });
  }
});

test.run();
