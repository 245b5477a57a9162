// bench/page-train.js — the playground's Train view against the Node engine: images per second of the same preset,
// batch and seed, trained by the same code (src/web/trainer.ts on gan/loop.ts), once in headless Chromium on its
// WebGPU (the page, driven as a user would: New run, Play) and once in Node on Dawn, each reading back every
// `--every` steps and drawing no images (the page's "images every 0"). Both rates are measured between two
// read-backs after `--warmup` steps (the first steps compile every kernel), on each side's own clock.
// Compare like with like: without a GPU, Chromium's WebGPU is SwiftShader; run Node on SwiftShader too with
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (Chromium's own Vulkan driver).
// Needs dist/ and dist/web (node scripts/build.mjs --web), Fashion-MNIST, /usr/bin/chromium and playwright-core.
// Usage: node bench/page-train.js [--preset cgan-lite] [--batch 8] [--warmup 2] [--steps 6] [--every 2]
//        [--chromium PATH] [--chromium-args "A B"] [--only node|page] [--json FILE]
import {
  nodeGpu,
  releaseNodeGpu,
  GpuBackend,
  describeGpu,
  PageTrainer,
  loadFashionMnist,
  startPlayground,
} from '../dist/index.js';
import { writeFileSync } from 'node:fs';
import { benchArgs } from './args.js';

const A = benchArgs('bench/page-train.js', {
  preset: { takes: 'cgan-lite' },
  batch: { takes: '8' },
  warmup: { takes: '2' },
  steps: { takes: '6' },
  every: { takes: '2' },
  chromium: { takes: 'PATH' },
  'chromium-args': { takes: '"A B"' },
  only: { takes: 'node|page' },
  json: { takes: 'FILE' },
});
const preset = A.str('preset', 'cgan-lite');
const batch = A.int('batch', 1, 8),
  warmup = A.int('warmup', 1, 2),
  steps = A.int('steps', 1, 6),
  every = A.int('every', 1, 2);
if (warmup % every || steps % every)
  A.fail(`--warmup and --steps must be multiples of --every (${every}): rates are taken between read-backs`);
const only = A.oneOf('only', ['node', 'page']);
const chromium = A.str('chromium', '/usr/bin/chromium');
const rows = [];

if (only !== 'page') {
  // the Node engine, the page's loop: step, throttle(2), a snapshot every `every` steps
  const gpu = await nodeGpu();
  const be = new GpuBackend(gpu);
  const data = await loadFashionMnist({ download: false });
  const t = PageTrainer.create(be, data.train, { preset, batch, seed: 0, trainSubset: null });
  let at = 0;
  const marks = [];
  for (let k = 1; k <= warmup + steps; k++) {
    if (t.step()) await t.endEpoch();
    await be.throttle(2);
    if (k % every === 0) {
      await t.snapshot();
      if (k === warmup || k === warmup + steps) marks.push(performance.now());
    }
    at = k;
  }
  const ips = (steps * batch) / ((marks[1] - marks[0]) / 1000);
  rows.push({
    side: 'node',
    adapter: describeGpu(gpu),
    preset,
    batch,
    steps,
    every,
    imgPerSec: ips,
    msPerStep: (marks[1] - marks[0]) / steps,
  });
  console.log(
    `Node engine  ${describeGpu(gpu)}: ${ips.toFixed(2)} img/s (${((marks[1] - marks[0]) / steps).toFixed(0)} ms/step over steps ${warmup + 1}–${at})`,
  );
  t.dispose();
  releaseNodeGpu(gpu);
}

if (only !== 'node') {
  const { chromium: pw } = await import('playwright-core');
  const pg = await startPlayground({ root: 'dist/web', port: 0 });
  const extra = A.str('chromium-args', '').split(/\s+/).filter(Boolean);
  const browser = await pw.launch({
    executablePath: chromium,
    args: ['--headless=new', '--enable-unsafe-webgpu', '--no-sandbox', '--no-first-run', ...extra],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${pg.url}?view=train&preset=${preset}&batch=${batch}&seed=0&every=${every}&images=0`);
    const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 3_600_000 });
    await wait(() => ['ready', 'no-data', 'error'].includes(document.body.dataset.train));
    const state = await page.evaluate(() => [
      document.body.dataset.train,
      document.getElementById('t-status').textContent,
    ]);
    if (state[0] !== 'ready') throw new Error(`the page is ${state[0]}: ${state[1]}`);
    await page.click('#t-new');
    await wait(() => document.body.dataset.train === 'paused');
    await page.click('#t-play');
    await wait((n) => window.__train.step >= n, warmup + steps);
    await page.click('#t-pause');
    const { adapter, snaps } = await page.evaluate(() => ({
      adapter: document.getElementById('t-status').textContent.split(' · ')[0],
      snaps: window.__train.snapshots.map((s) => [s.step, s.t]),
    }));
    const a = snaps.find(([s]) => s === warmup),
      b = snaps.find(([s]) => s === warmup + steps);
    const ips = (steps * batch) / ((b[1] - a[1]) / 1000);
    rows.push({ side: 'page', adapter, preset, batch, steps, every, imgPerSec: ips, msPerStep: (b[1] - a[1]) / steps });
    console.log(
      `page (Chromium) ${adapter}: ${ips.toFixed(2)} img/s (${((b[1] - a[1]) / steps).toFixed(0)} ms/step over steps ${warmup + 1}–${warmup + steps})`,
    );
  } finally {
    await browser.close();
    await pg.close();
  }
}
if (rows.length === 2) console.log(`page / Node: ${(rows[1].imgPerSec / rows[0].imgPerSec).toFixed(3)}`);
const json = A.str('json');
if (json)
  writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), command: A.command, rows }, null, 2) + '\n');
process.exit(0);
