// playground.test.ts — the browser playground (issue 9). Node side: GAN networks from full and slim checkpoints,
// the explore computations (grid noise as `npm run sample` draws it, principal noise directions, interpolation,
// one sample's path and D's verdict), the localhost server. Browser side: headless Chromium (Debian's `chromium`,
// --enable-unsafe-webgpu: a SwiftShader WebGPU adapter) through playwright-core loads the built page
// (dist/web, from `node scripts/build.mjs --web`, which `npm test` runs first) with a small checkpoint, and the
// generated pixels for a fixed seed match the Node engine's (lavapipe) for the same checkpoint; the controls work;
// no console errors; a browser without WebGPU gets the explanation. The browser part is skipped with a note when
// /usr/bin/chromium or playwright-core is missing (scripts/setup.sh --browser installs chromium).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { Generator } from '../src/autograd/random.js';
import { Tensor } from '../src/autograd/tensor.js';
import type { Backend } from '../src/autograd/backend.js';
import { stateToSafetensors, CheckpointError } from '../src/nn/checkpoint.js';
import { decodeSafetensors } from '../src/nn/safetensors.js';
import { makeGan, sampleInputs } from '../src/gan/train.js';
import { ganStateTensors } from '../src/app/gan_run.js';
import type { GanConfig } from '../src/gan/models.js';
import { loadGanModels, slimGanCheckpoint, type GanModels } from '../src/gan/load.js';
import {
  gridNoise,
  generateImages,
  principalDirections,
  moveAlong,
  interpolate,
  samplePath,
} from '../src/web/explore.js';
import { startPlayground, PlaygroundError } from '../src/app/serve.js';
import { gpuBackend, cpu } from './harness.js';
import { HANG_GUARD_MS } from './hang_guard.js';

const CHROMIUM = '/usr/bin/chromium';
const SITE = 'dist/web';
/** small enough for SwiftShader, wide enough that every layer is exercised (noise 100-d as the real presets) */
const SMALL: GanConfig = {
  kind: 'cgan',
  noiseDim: 100,
  embedDim: 6,
  classes: 10,
  gMaps: 6,
  gMid: 5,
  dChannels: [3, 4, 5, 6],
  dropout: 0.5,
  bnMomentum: 0.1,
};

/**
 * A full training checkpoint (G, D and Adam moments) of a GAN whose weights are redrawn with a spread that makes
 * images span [−1, 1] (freshly initialised N(0, 0.02) weights give flat grey, which would make the pixel
 * comparison nearly vacuous), and batchnorm running statistics set away from 0 and 1.
 */
async function checkpointBytes(be: Backend, config: GanConfig, seed: number): Promise<Uint8Array> {
  const s = makeGan(be, config, { lr: 2e-4, beta1: 0.5 }, seed);
  const g = new Generator(seed + 100);
  for (const [name, t] of [
    ...s.G.namedParameters(),
    ...s.G.namedBuffers(),
    ...s.D.namedParameters(),
    ...s.D.namedBuffers(),
  ]) {
    if (t.dtype !== 'f32') continue;
    const fanIn = t.size / t.shape[0];
    const data = name.endsWith('running_var')
      ? Array.from(g.uniform(t.size), (u) => 0.5 + u)
      : name.endsWith('running_mean')
        ? g.normal(t.size, 0, 0.2)
        : name.endsWith('bn1.weight') || /bn\d\.weight$/.test(name)
          ? Array.from(g.uniform(t.size), (u) => 0.5 + u)
          : g.normal(t.size, 0, 1.5 / Math.sqrt(Math.max(1, t.shape.length === 1 ? 4 : fanIn / 2)));
    t.assign(Float32Array.from(data));
  }
  const bytes = await stateToSafetensors({
    tensors: ganStateTensors(s),
    meta: {
      model: config.kind,
      config,
      hyper: { lr: 2e-4, beta1: 0.5, batch: 8, epochs: 1 },
      preset: 'test-small',
      seed,
      epoch: 1,
      step: 3,
      rng: { model: s.gen.state(), data: s.dataGen.state() },
      optimizer: { G: 3, D: 3 },
      history: [],
    },
  });
  for (const m of [s.G, s.D]) m.dispose();
  for (const o of [s.optG, s.optD]) o.dispose();
  s.ones.dispose();
  s.zeros.dispose();
  return bytes;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.is(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const std = (a: ArrayLike<number>) => {
  let s = 0,
    s2 = 0;
  for (let i = 0; i < a.length; i++) (s += a[i]), (s2 += a[i] * a[i]);
  return Math.sqrt(Math.max(0, s2 / a.length - (s / a.length) ** 2));
};
const dispose = (m: GanModels) => {
  m.G.dispose();
  m.D.dispose();
};

let fullBytes: Uint8Array;
test.before(async () => {
  fullBytes = await checkpointBytes(await gpuBackend(), SMALL, 7);
});

test('slim checkpoint: no optimizer tensors, the same networks; full and slim load to identical images', async () => {
  const be = await gpuBackend();
  const slim = slimGanCheckpoint(fullBytes, 'full');
  const names = Object.keys(decodeSafetensors(slim).tensors);
  assert.ok(names.length > 10);
  assert.not.ok(
    names.some((n) => n.includes('optim')),
    'no optimizer moments',
  );
  assert.ok(
    Object.keys(decodeSafetensors(fullBytes).tensors).some((n) => n.includes('optim')),
    'the full one has them',
  );
  assert.ok(slim.length < fullBytes.length / 2, `slim ${slim.length} B vs full ${fullBytes.length} B`);
  const a = loadGanModels(be, fullBytes, 'full');
  const b = loadGanModels(be, slim, 'slim');
  assert.is(a.meta.preset, 'test-small');
  assert.is(b.meta.epoch, 1);
  assert.not.ok(a.G.training, 'loaded in eval mode');
  const { z, y } = gridNoise(SMALL.noiseDim, SMALL.classes, 2, 5);
  const ia = await generateImages(be, a.G, z, y);
  const ib = await generateImages(be, b.G, z, y);
  assert.equal(Array.from(ia), Array.from(ib));
  assert.ok(
    std(ia) > 0.3,
    `images spread over [−1, 1] (std ${std(ia).toFixed(3)}), so comparisons below mean something`,
  );
  dispose(a);
  dispose(b);
});

test('loadGanModels refuses a non-GAN checkpoint, a damaged file and a shape mismatch, naming the file', async () => {
  const be = await gpuBackend();
  const cnnLike = await stateToSafetensors({ tensors: {}, meta: { model: 'cnn' } });
  assert.throws(
    () => loadGanModels(be, cnnLike, 'c.safetensors'),
    (e: Error) => e instanceof CheckpointError && /c\.safetensors.*"cnn".*not a GAN/.test(e.message),
  );
  assert.throws(
    () => loadGanModels(be, fullBytes.subarray(0, 100), 'cut.safetensors'),
    (e: Error) => /cut\.safetensors/.test(e.message),
  );
  // the same tensors under a config with more generator maps
  const other = slimGanCheckpoint(fullBytes);
  const f = decodeSafetensors(other);
  const meta = JSON.parse(f.metadata.config);
  f.metadata.config = JSON.stringify({ ...meta, gMaps: meta.gMaps + 1 });
  const { encodeSafetensors } = await import('../src/nn/safetensors.js');
  const bad = encodeSafetensors(
    Object.fromEntries(
      Object.entries(f.tensors).map(([k, t]) => [
        k,
        { dtype: t.dtype as 'F32', shape: t.shape, data: t.data as Float32Array },
      ]),
    ),
    f.metadata,
  );
  assert.throws(
    () => loadGanModels(be, bad, 'm.safetensors'),
    (e: Error) => e instanceof CheckpointError && /m\.safetensors: does not match the model.*shape/.test(e.message),
  );
});

test("gridNoise is the sample command's noise: Generator(seed).normal, a row per class", async () => {
  const { z, y } = gridNoise(4, 3, 2, 9);
  assert.equal(Array.from(z), Array.from(Float32Array.from(new Generator(9).normal(24))));
  assert.equal(Array.from(y), [0, 0, 1, 1, 2, 2]);
  // and sampleInputs (the training grids) draws the same
  const [zt, yt] = sampleInputs(cpu, { ...SMALL, noiseDim: 4, classes: 3 }, 2, 9);
  assert.equal(Array.from(Float32Array.from(await zt.toArray())), Array.from(z));
  assert.equal(Array.from(await yt.toArray()), Array.from(y));
});

test('interpolate: endpoints exact, lerp midpoint, slerp keeps the norm between equal-norm endpoints', () => {
  const g = new Generator(3);
  const a = Float32Array.from(g.normal(16)),
    b0 = Float32Array.from(g.normal(16));
  const na = Math.hypot(...a),
    nb0 = Math.hypot(...b0);
  const b = b0.map((v) => (v * na) / nb0);
  for (const mode of ['lerp', 'slerp'] as const) {
    const p = interpolate(a, b, 5, mode);
    assert.ok(maxAbsDiff(p.subarray(0, 16), a) < 1e-6, `${mode} starts at a`);
    assert.ok(maxAbsDiff(p.subarray(64, 80), b) < 1e-5, `${mode} ends at b`);
  }
  const l = interpolate(a, b, 3, 'lerp');
  assert.ok(
    maxAbsDiff(
      l.subarray(16, 32),
      a.map((v, i) => (v + b[i]) / 2),
    ) < 1e-6,
  );
  const s = interpolate(a, b, 7, 'slerp');
  for (let k = 0; k < 7; k++)
    assert.ok(Math.abs(Math.hypot(...s.subarray(k * 16, k * 16 + 16)) - na) < 1e-4 * na, `slerp step ${k} norm`);
});

test('principalDirections: orthonormal, gains descending, and each gain is how far the image moves per unit step', async () => {
  const be = await gpuBackend();
  const m = loadGanModels(be, fullBytes);
  const { z } = gridNoise(SMALL.noiseDim, 1, 1, 4);
  const d = await principalDirections(be, m.G, z, 3, 4);
  assert.is(d.vectors.length, 4);
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      const dot = d.vectors[i].reduce((acc, v, k) => acc + v * d.vectors[j][k], 0);
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-9, `v${i}·v${j} = ${dot}`);
    }
  for (let i = 1; i < 4; i++) assert.ok(d.gains[i] <= d.gains[i - 1] + 1e-12, 'descending');
  assert.ok(d.gains[0] > 0.05, `the image responds to its noise (gain ${d.gains[0]})`);
  // a small step along v gives ‖Δimage‖ ≈ gain·step (the Jacobian's singular value), and the first direction
  // moves the image more than a random one
  const h = 0.02;
  const base = await generateImages(be, m.G, Float32Array.from(z), [3]);
  const moved = await generateImages(be, m.G, moveAlong(z, [d.vectors[0]], [h]), [3]);
  const dist = Math.hypot(...moved.map((v, i) => v - base[i]));
  assert.ok(
    Math.abs(dist / h - d.gains[0]) < 0.15 * d.gains[0],
    `‖Δimage‖/step ${(dist / h).toFixed(3)} vs gain ${d.gains[0].toFixed(3)}`,
  );
  const r = Float64Array.from(new Generator(1).normal(SMALL.noiseDim));
  const rn = Math.hypot(...r);
  const rand = await generateImages(be, m.G, moveAlong(z, [r.map((v) => v / rn)], [h]), [3]);
  assert.ok(Math.hypot(...rand.map((v, i) => v - base[i])) < dist, 'a random direction moves it less');
  dispose(m);
});

test('samplePath: every generator layer and D convolution in order, the image as generate() makes it, a verdict', async () => {
  const be = await gpuBackend();
  for (const kind of ['cgan', 'acgan'] as const) {
    const bytes = kind === 'cgan' ? fullBytes : await checkpointBytes(be, { ...SMALL, kind }, 8);
    const m = loadGanModels(be, bytes);
    const { z } = gridNoise(SMALL.noiseDim, 1, 1, 2);
    const p = await samplePath(be, m.G, m.D, z, 6);
    const want = [
      'G.label_map',
      'G.noise_maps',
      'G.up1',
      'G.up1_bn_relu',
      'G.image',
      ...(kind === 'cgan' ? ['D.label_map'] : []),
      'D.conv1',
      'D.conv2',
      'D.conv3',
      'D.conv4',
    ];
    assert.equal(
      p.layers.map((l) => l.name),
      want,
      kind,
    );
    assert.equal(p.layers.find((l) => l.name === 'G.up1')!.shape, [SMALL.gMid, 14, 14]);
    assert.equal(p.layers.find((l) => l.name === 'D.conv4')!.shape, [SMALL.dChannels[3], 7, 7]);
    for (const l of p.layers) assert.ok(l.data.every(Number.isFinite), `${l.name} finite (no poisoned element read)`);
    const img = await generateImages(be, m.G, Float32Array.from(z), [6]);
    assert.ok(maxAbsDiff(p.image, img) < 1e-6, "the path's image is the generated one");
    assert.ok(
      p.verdict.real >= 0 &&
        p.verdict.real <= 1 &&
        Math.abs(p.verdict.real - 1 / (1 + Math.exp(-p.verdict.logit))) < 1e-12,
      `verdict ${JSON.stringify(p.verdict)}`,
    );
    if (kind === 'acgan') {
      assert.is(p.verdict.classProbs!.length, 10);
      assert.ok(Math.abs(p.verdict.classProbs!.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    } else assert.is(p.verdict.classProbs, null);
    // D's verdict equals a plain forward pass on that image
    const x = Tensor.from(be, img, [1, 1, 28, 28]);
    const y = Tensor.from(be, [6], [1], 'i32');
    const out = m.D.forward(x, y);
    assert.ok(Math.abs((await out.adv.toArray())[0] - p.verdict.logit) < 1e-5);
    for (const t of [x, y, out.adv, out.cls]) t?.dispose();
    dispose(m);
  }
});

test('server: the site, the checkpoint slimmed, 404 and no way out of the site; clear errors', async () => {
  assert.ok(
    existsSync(join(SITE, 'playground.js')),
    `${SITE} is built (node scripts/build.mjs --web; npm test does it)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  try {
    const ck = join(dir, 'checkpoint.safetensors');
    writeFileSync(ck, fullBytes);
    const pg = await startPlayground({ root: SITE, checkpoint: ck, port: 0 });
    try {
      const get = (p: string) => fetch(new URL(p, pg.url));
      const index = await get('/');
      assert.is(index.status, 200);
      assert.match(index.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await index.text(), /playground\.js/);
      assert.match((await get('/playground.js')).headers.get('content-type') ?? '', /javascript/);
      const c = new Uint8Array(await (await get('/checkpoint.safetensors')).arrayBuffer());
      assert.equal(c, slimGanCheckpoint(fullBytes, ck), 'the served checkpoint is the slim copy');
      assert.is((await get('/nothing.js')).status, 404);
      // fetch() normalises "..": send raw paths; an encoded slash survives URL parsing and must still be refused
      for (const raw of ['/..%2fpackage.json', '/%2e%2e%2f%2e%2e%2fpackage.json']) {
        const status = await new Promise<number>((ok, bad) => {
          const u = new URL(pg.url);
          request({ host: u.hostname, port: u.port, path: raw }, (res) => {
            res.resume();
            ok(res.statusCode ?? 0);
          })
            .on('error', bad)
            .end();
        });
        assert.is(status, 403, raw);
      }
    } finally {
      await pg.close();
    }
    try {
      await startPlayground({ root: dir, port: 0 });
      assert.unreachable('a folder without the site');
    } catch (e) {
      assert.ok(
        e instanceof PlaygroundError && /no built playground.*build\.mjs --web/.test((e as Error).message),
        (e as Error).message,
      );
    }
    try {
      await startPlayground({ root: SITE, checkpoint: join(dir, 'missing.safetensors'), port: 0 });
      assert.unreachable('a missing checkpoint');
    } catch (e) {
      assert.ok(
        e instanceof PlaygroundError && /missing\.safetensors: no such file/.test((e as Error).message),
        (e as Error).message,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server: more GAN files (the shipped ones) as /models/NAME, listed in /models.json after the checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  try {
    const [ck, a, b] = ['checkpoint.safetensors', 'cgan.safetensors', 'acgan.safetensors'].map((f) => join(dir, f));
    writeFileSync(ck, fullBytes);
    writeFileSync(a, fullBytes);
    const other = await checkpointBytes(await gpuBackend(), { ...SMALL, kind: 'acgan' }, 8);
    writeFileSync(b, other);
    const pg = await startPlayground({ root: SITE, checkpoint: ck, models: [a, b], port: 0 });
    try {
      const get = (p: string) => fetch(new URL(p, pg.url));
      assert.equal(await (await get('/models.json')).json(), [
        { name: ck, url: 'checkpoint.safetensors' },
        { name: a, url: 'models/cgan.safetensors' },
        { name: b, url: 'models/acgan.safetensors' },
      ]);
      assert.equal(
        pg.models.map((m) => m.url),
        ['checkpoint.safetensors', 'models/cgan.safetensors', 'models/acgan.safetensors'],
      );
      assert.equal(
        new Uint8Array(await (await get('/models/acgan.safetensors')).arrayBuffer()),
        slimGanCheckpoint(other, b),
        'served slim',
      );
      assert.is((await get('/models/other.safetensors')).status, 404);
    } finally {
      await pg.close();
    }
    // without a run, the list is the models alone
    const pg2 = await startPlayground({ root: SITE, models: [b], port: 0 });
    try {
      assert.equal(await (await fetch(new URL('/models.json', pg2.url))).json(), [
        { name: b, url: 'models/acgan.safetensors' },
      ]);
      assert.is(pg2.checkpoint, null);
    } finally {
      await pg2.close();
    }
    try {
      await startPlayground({ root: SITE, models: [a, join(dir, 'nope.safetensors')], port: 0 });
      assert.unreachable('a missing model file');
    } catch (e) {
      assert.ok(
        e instanceof PlaygroundError && /nope\.safetensors: no such file/.test((e as Error).message),
        (e as Error).message,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- in the browser ----------------------------------------------------------------------------------------------
type Pw = typeof import('playwright-core');
/** headless Chromium with WebGPU (SwiftShader's adapter); its waits are bounded by the work only (hang_guard.ts) */
const launchWebGpu = (pw: Pw) =>
  pw.chromium.launch({
    executablePath: CHROMIUM,
    timeout: HANG_GUARD_MS,
    args: [
      '--headless=new',
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });

/** a page whose console errors, page errors and failed requests are collected in `errors` */
async function watchedPage(browser: Awaited<ReturnType<typeof launchWebGpu>>) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
  page.setDefaultTimeout(HANG_GUARD_MS); // every wait below: bounded by the work only
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  return { page, errors };
}

async function playwright(): Promise<Pw | null> {
  if (!existsSync(CHROMIUM)) {
    console.log(`  (browser check skipped: ${CHROMIUM} missing; bash scripts/setup.sh --browser)`);
    return null;
  }
  try {
    return await import('playwright-core');
  } catch {
    console.log('  (browser check skipped: playwright-core not installed; npm ci)');
    return null;
  }
}

test('in Chromium on WebGPU: the grid matches the Node engine, the controls work, no console errors', async () => {
  const pw = await playwright();
  if (!pw) return;
  const be = await gpuBackend();
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const ck = join(dir, 'checkpoint.safetensors');
  writeFileSync(ck, fullBytes);
  const seed = 11;
  // what the Node engine (Dawn on lavapipe) makes for that checkpoint and seed
  const m = loadGanModels(be, fullBytes);
  const { z, y } = gridNoise(SMALL.noiseDim, SMALL.classes, 10, seed);
  const want = await generateImages(be, m.G, z, y);
  const pg = await startPlayground({ root: SITE, checkpoint: ck, port: 0 });
  const browser = await launchWebGpu(pw);
  try {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${pg.url}?seed=${seed}`);
    // loaded: grid drawn, then the first sample's directions and path
    await page.waitForFunction(() => {
      const s = document.body.dataset.state;
      return (
        s === 'error' ||
        s === 'no-webgpu' ||
        s === 'waiting' ||
        (s === 'ready' && document.querySelectorAll('#layers .layer').length > 0)
      );
    });
    const state = await page.evaluate(() => ({
      state: document.body.dataset.state,
      status: document.getElementById('status')!.textContent,
      adapter: (window as any).__playground.adapter,
    }));
    assert.is(state.state, 'ready', `page state (${state.status})`);
    console.log(`  (browser adapter: ${state.adapter})`);
    const got = await page.evaluate(() => Array.from((window as any).__playground.grid as Float32Array));
    const diff = maxAbsDiff(got, want);
    assert.ok(diff <= 1e-4, `browser grid vs Node engine: max |Δ| ${diff} (tolerance 1e-4 on [−1, 1])`);
    console.log(`  (grid, seed ${seed}: 100 images, max |browser − Node| = ${diff.toExponential(2)})`);
    // the canvas shows those pixels: bytes as the sample command writes them, at most 1 level apart
    const px = await page.evaluate(() => {
      const c = document.getElementById('grid') as HTMLCanvasElement;
      return {
        w: c.width,
        h: c.height,
        data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data),
      };
    });
    assert.equal([px.w, px.h], [280, 280]);
    let worst = 0;
    for (let k = 0; k < 100; k++)
      for (let i = 0; i < 784; i++) {
        const r = Math.floor(k / 10) * 28 + Math.floor(i / 28),
          c = (k % 10) * 28 + (i % 28);
        const b = Math.round(Math.min(1, Math.max(0, (want[k * 784 + i] + 1) / 2)) * 255);
        worst = Math.max(worst, Math.abs(px.data[(r * 280 + c) * 4] - b));
      }
    assert.ok(worst <= 1, `canvas bytes within 1 level of the Node engine's (worst ${worst})`);
    // the first sample explored is grid cell (0, 0): its image is that cell
    const sample0 = await page.evaluate(() => Array.from((window as any).__playground.sample as Float32Array));
    assert.ok(maxAbsDiff(sample0, want.subarray(0, 784)) <= 1e-4, 'explored sample = grid cell (0, 0)');
    // layers and verdict shown
    const layers = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#layers .layer')).map((d) => [
        (d as HTMLElement).dataset.layer,
        d.querySelectorAll('canvas').length,
      ]),
    );
    assert.equal(
      layers.map((l) => l[0]),
      [
        'G.label_map',
        'G.noise_maps',
        'G.up1',
        'G.up1_bn_relu',
        'G.image',
        'D.label_map',
        'D.conv1',
        'D.conv2',
        'D.conv3',
        'D.conv4',
      ],
    );
    assert.equal(
      layers.map((l) => l[1]),
      [1, SMALL.gMaps, SMALL.gMid, SMALL.gMid, 1, 1, ...SMALL.dChannels],
    );
    assert.match((await page.textContent('#verdict')) ?? '', /P\(real\) = 0\.\d{3}/);
    // click grid cell (row 3, column 2): that image becomes the explored sample
    const box = (await page.locator('#grid').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.35);
    await page.waitForFunction(() => (document.getElementById('class') as HTMLSelectElement).value === '3');
    await page.waitForFunction(
      (ref) => {
        const s = (window as any).__playground.sample as Float32Array;
        return Math.abs(s[0] - ref[0]) < 1e-3 && Math.abs(s[400] - ref[1]) < 1e-3;
      },
      [want[32 * 784], want[32 * 784 + 400]],
    );
    const picked = await page.evaluate(() => Array.from((window as any).__playground.sample as Float32Array));
    assert.ok(maxAbsDiff(picked, want.subarray(32 * 784, 33 * 784)) <= 1e-4, 'clicked cell (3, 2) is explored');
    // a slider moves the image
    await page.locator('#dir-0').fill('2');
    await page.waitForFunction((p0) => (window as any).__playground.sample[300] !== p0, picked[300]);
    const movedImg = await page.evaluate(() => Array.from((window as any).__playground.sample as Float32Array));
    assert.ok(maxAbsDiff(movedImg, picked) > 0.05, 'direction 1 at +2 changes the image');
    // interpolation plays
    await page.click('#play');
    await page.waitForFunction(() => (window as any).__playground.frames === 16);
    await page.waitForTimeout(300);
    assert.is(await page.evaluate(() => document.body.dataset.state), 'ready');
    assert.equal(errors, [], 'no console errors');
  } finally {
    await browser.close();
    await pg.close();
    dispose(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in Chromium: without a run the page opens the first served model (the shipped GANs) and switches to another', async () => {
  const pw = await playwright();
  if (!pw) return;
  const be = await gpuBackend();
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const [a, b] = ['cgan.safetensors', 'acgan.safetensors'].map((f) => join(dir, f));
  writeFileSync(a, fullBytes);
  const other = await checkpointBytes(be, { ...SMALL, kind: 'acgan' }, 8);
  writeFileSync(b, other);
  // what the Node engine makes of the second model for the page's default seed (0)
  const m = loadGanModels(be, other);
  const { z, y } = gridNoise(SMALL.noiseDim, SMALL.classes, 10, 0);
  const want = await generateImages(be, m.G, z, y);
  const pg = await startPlayground({ root: SITE, models: [a, b], port: 0 });
  const browser = await launchWebGpu(pw);
  try {
    const { page, errors } = await watchedPage(browser);
    await page.goto(pg.url);
    const ready = (file: string) =>
      page.waitForFunction((f) => {
        const s = document.body.dataset.state;
        return (
          s === 'error' ||
          s === 'no-webgpu' ||
          (s === 'ready' && (document.getElementById('model-info')!.textContent ?? '').startsWith(f))
        );
      }, file);
    await ready('cgan.safetensors');
    assert.is(
      await page.evaluate(() => document.body.dataset.state),
      'ready',
      (await page.textContent('#status')) ?? '',
    );
    assert.ok(await page.isVisible('#model-pick'), 'the picker shows with two models');
    assert.equal(
      await page.evaluate(() =>
        Array.from((document.getElementById('model-pick') as HTMLSelectElement).options).map((o) => o.value),
      ),
      ['models/cgan.safetensors', 'models/acgan.safetensors'],
    );
    await page.selectOption('#model-pick', 'models/acgan.safetensors');
    await ready('acgan.safetensors');
    assert.match((await page.textContent('#model-info')) ?? '', /^acgan\.safetensors: AC-GAN/);
    const got = await page.evaluate(() => Array.from((window as any).__playground.grid as Float32Array));
    assert.ok(maxAbsDiff(got, want) <= 1e-4, "the grid is the second model's");
    assert.equal(errors, [], 'no console errors');
  } finally {
    await browser.close();
    await pg.close();
    dispose(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in Chromium without WebGPU: the page says so and what to enable', async () => {
  const pw = await playwright();
  if (!pw) return;
  const pg = await startPlayground({ root: SITE, port: 0 });
  const browser = await pw.chromium.launch({
    executablePath: CHROMIUM,
    timeout: HANG_GUARD_MS,
    args: ['--headless=new', '--no-sandbox', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(HANG_GUARD_MS);
    // a browser without WebGPU: navigator.gpu absent
    await page.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }),
    );
    await page.goto(pg.url);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading');
    assert.is(await page.evaluate(() => document.body.dataset.state), 'no-webgpu');
    assert.ok(await page.isVisible('#no-webgpu'));
    const text = (await page.textContent('#no-webgpu')) ?? '';
    assert.match(text, /enable-unsafe-webgpu/);
    assert.match(text, /Chrome or Edge 113/);
  } finally {
    await browser.close();
    await pg.close();
  }
});

test.run();
