// train_view.test.ts — the playground's Train view in headless Chromium (SwiftShader's WebGPU, about as fast as the
// Node engine on SwiftShader and ~7× slower than lavapipe: a lite preset, batch 8, few steps). Everything the page
// does is then replayed by the Node engine running the same trainer (src/web/trainer.ts) in a helper process on the
// page's kind of adapter (test/trainer_replay.mjs; SwiftShader through Chromium's own Vulkan driver): after each
// whole step, D step, G step, a step with a learning rate changed in the page, each step of a stretch of play, and
// a step after resuming a CLI checkpoint, the page's losses are the Node engine's within 1e-4 and every parameter's
// cosine with the Node engine's is ≥ 0.99999, and the fixed-noise grid agrees within 1e-4. In the page, a D step
// leaves G's parameters bit for bit as they were and a G step D's; pause stops the step count; the checkpoint the
// page saves is read by `npm run sample` and continued by `npm run train -- --resume`; no console errors. Without
// data files the page says what to do.
// Skipped with a note without /usr/bin/chromium, playwright-core or Fashion-MNIST.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { findDataDir } from '../src/node/fashion_mnist.js';
import { startPlayground } from '../src/app/serve.js';
import { SCALARS } from '../src/gan/train.js';
import { withTempDir } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
/** Chromium's own SwiftShader Vulkan driver: the Node engine on the page's kind of software adapter */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SITE = 'dist/web';
const SETUP = { preset: 'cgan-lite', batch: 8, seed: 11, trainSubset: 64 };
const LAUNCH = [
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
/** a step on SwiftShader takes ~5 s, its first use of each kernel more (compiling): generous bounds, in ms */
const WAIT = { timeout: 400_000 };

type Pw = typeof import('playwright-core');
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

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) (ab += a[i] * b[i]), (aa += a[i] * a[i]), (bb += b[i] * b[i]);
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
};
const fromB64 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/cli.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, FMNIST_TUNE: 'off' },
  });

test('in Chromium: the Train view trains as the Node engine does; manual steps, pause, learning rates, checkpoints both ways', async () => {
  const pw = await playwright();
  if (!pw) return;
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed)');
    return;
  }
  const pg = await startPlayground({ root: SITE, port: 0 });
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: LAUNCH });
  await withTempDir('train-view-', async (dir) => {
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1600 }, acceptDownloads: true });
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      const hooks = () =>
        page.evaluate(() => {
          const h = (window as any).__train;
          return {
            state: document.body.dataset.train,
            status: document.getElementById('t-status')!.textContent,
            step: h.step as number,
            snapshots: h.snapshots.length as number,
            error: h.error as string | null,
          };
        });
      const settled = async (snapshots: number) => {
        await page.waitForFunction(
          (n) => {
            const h = (window as any).__train;
            return h.state === 'error' || (h.state === 'paused' && h.snapshots.length >= n);
          },
          snapshots,
          WAIT,
        );
        const h = await hooks();
        assert.is(h.state, 'paused', `page state (${h.status}; ${h.error})`);
      };
      const pageParams = async () =>
        Object.fromEntries(
          Object.entries(
            await page.evaluate(() => (window as any).__train.params() as Promise<Record<string, string>>),
          ).map(([k, v]) => [k, fromB64(v)]),
        );
      const lastSnapshot = () => page.evaluate(() => (window as any).__train.snapshots.at(-1));
      // what the page did, replayed on the Node engine at the end (ops), and what the page showed at each point
      const ops: object[] = [];
      const shown: { what: string; snapshot: any }[] = [];
      const params: { what: string; p: Record<string, Float32Array> }[] = [];
      const step = async (id: string, part: string, what: string) => {
        const n = (await hooks()).snapshots;
        await page.click(id);
        await settled(n + 1);
        ops.push({ step: part });
        shown.push({ what, snapshot: await lastSnapshot() });
      };
      const mark = async (what: string) => {
        ops.push({ params: true });
        const p = await pageParams();
        params.push({ what, p });
        return p;
      };

      await page.goto(
        `${pg.url}?view=train&preset=${SETUP.preset}&batch=${SETUP.batch}&seed=${SETUP.seed}&subset=${SETUP.trainSubset}&every=1&images=0`,
      );
      await page.waitForFunction(
        () => ['ready', 'no-data', 'error'].includes(document.body.dataset.train ?? ''),
        null,
        WAIT,
      );
      assert.is((await hooks()).state, 'ready', (await hooks()).status ?? '');
      const adapter = (await hooks()).status!.split(' · ')[0];
      await page.click('#t-new');
      await settled(1);

      // K = 2 whole steps
      await step('#t-step', 'both', 'step 1');
      await step('#t-step', 'both', 'step 2');
      let before = await mark('after 2 steps');
      // a D step alone changes only D's parameters; a G step alone only G's
      await step('#t-step-d', 'D', 'D step');
      let after = await mark('after the D step');
      for (const k of Object.keys(before))
        assert.is(
          k.startsWith('G.')
            ? after[k].every((v, i) => Object.is(v, before[k][i]))
            : after[k].some((v, i) => v !== before[k][i]),
          true,
          `D step: ${k}`,
        );
      before = after;
      await step('#t-step-g', 'G', 'G step');
      after = await mark('after the G step');
      for (const k of Object.keys(before))
        assert.is(
          k.startsWith('D.')
            ? after[k].every((v, i) => Object.is(v, before[k][i]))
            : after[k].some((v, i) => v !== before[k][i]),
          true,
          `G step: ${k}`,
        );
      // D's learning rate changed in the page is the next step's (ten times the preset's, which would leave D's
      // parameters at a cosine well below 0.99999 if the step used the old one)
      await page.fill('#t-lr-d', '0.002');
      await page.dispatchEvent('#t-lr-d', 'change');
      ops.push({ adam: { net: 'D', lr: 2e-3 } });
      await step('#t-step', 'both', "step after D's lr changed");
      await mark("after the step with D's new lr");
      // play, then pause: the step count stops (the page reads back after every step: every=1)
      const n0 = (await hooks()).snapshots,
        s0 = (await hooks()).step;
      await page.click('#t-play');
      await page.waitForFunction((n) => (window as any).__train.step >= n, s0 + 2, WAIT);
      await page.click('#t-pause');
      await page.waitForFunction(() => document.body.dataset.train === 'paused', null, WAIT);
      const paused = (await hooks()).step;
      await page.waitForTimeout(12_000); // two steps' time on SwiftShader
      assert.is((await hooks()).step, paused, 'no step after pause');
      const played = await page.evaluate((n) => (window as any).__train.snapshots.slice(n), n0);
      assert.is(played.length, paused - s0, 'a snapshot per step played');
      played.forEach((snapshot: any, i: number) => {
        ops.push({ step: 'both' });
        shown.push({ what: `played step ${s0 + i + 1}`, snapshot });
      });
      await mark(`after play to step ${paused}`);

      // the images: the fixed-noise grid, a sample's path, the balance judged
      await page.click('#t-draw');
      await page.waitForFunction(
        () => (window as any).__train.balance !== null || (window as any).__train.error,
        null,
        WAIT,
      );
      const grid = await page.evaluate(() => Array.from((window as any).__train.grid as Float32Array));
      ops.push({ grid: 'average' });
      assert.is(await page.evaluate(() => (window as any).__train.balance.count), 100);
      assert.ok((await page.locator('#t-layers .layer').count()) >= 9, "the sample's path drawn");

      // save: the CLI samples from it and continues it
      const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.click('#t-save')]);
      const saved = join(dir, 'page.safetensors');
      await download.saveAs(saved);
      const sample = cli('sample', '--checkpoint', saved, '--out', join(dir, 'sample.png'));
      assert.is(sample.status, 0, sample.stderr);
      assert.ok(existsSync(join(dir, 'sample.png')));
      const resumed = cli(
        'train',
        'cgan',
        '--preset',
        'cgan-lite',
        '--batch',
        '8',
        '--train-subset',
        '64',
        '--epochs',
        '2',
        '--resume',
        saved,
        '--out',
        join(dir, 'cont'),
      );
      assert.is(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`resuming from .* \\(step ${paused}\\)`));
      assert.ok(readdirSync(join(dir, 'cont')).includes('checkpoint.safetensors'));

      // a CLI checkpoint resumes in the page
      const cliRun = cli(
        'train',
        'cgan',
        '--preset',
        'cgan-lite',
        '--batch',
        '8',
        '--train-subset',
        '16',
        '--epochs',
        '1',
        '--seed',
        '5',
        '--out',
        join(dir, 'cli'),
      );
      assert.is(cliRun.status, 0, cliRun.stderr);
      const ckpt = join(dir, 'cli', 'checkpoint.safetensors');
      await page.setInputFiles('#t-open', ckpt);
      await page.waitForFunction(
        () =>
          ((window as any).__train.run?.resumedFrom && document.body.dataset.train === 'paused') ||
          (window as any).__train.error,
        null,
        WAIT,
      );
      await settled(1);
      assert.equal(
        await page.evaluate(() => [(window as any).__train.step, (window as any).__train.run.trainSubset]),
        [2, 16],
      );
      ops.push({ resume: ckpt });
      await step('#t-step', 'both', "step after resuming the CLI's checkpoint");
      await mark("after resuming the CLI's checkpoint and a step");
      assert.equal(errors, [], 'no console errors');

      // the Node engine replays it all, on the page's kind of adapter
      writeFileSync(join(dir, 'plan.json'), JSON.stringify({ setup: SETUP, ops }));
      const swift = /swiftshader/i.test(adapter);
      if (swift && !existsSync(SWIFTSHADER_ICD)) {
        console.log(
          `  (the comparison with the Node engine skipped: the page runs on SwiftShader and ${SWIFTSHADER_ICD} is missing)`,
        );
        return;
      }
      const replay = spawnSync(
        process.execPath,
        ['test/trainer_replay.mjs', join(dir, 'plan.json'), join(dir, 'node.json')],
        {
          encoding: 'utf8',
          timeout: 900_000,
          env: { ...process.env, ...(swift ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD } : {}) },
        },
      );
      assert.is(replay.status, 0, replay.stderr);
      const node = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8'));
      console.log(`  (page: ${adapter}; Node engine: ${node.adapter})`);
      // the resume's own
      const nodeSnaps = node.snapshots.filter((_: unknown, i: number) => i !== node.snapshots.length - 2);
      assert.is(nodeSnaps.length, shown.length);
      shown.forEach(({ what, snapshot }, i) => {
        const want = nodeSnaps[i];
        assert.equal([snapshot.step, snapshot.windowSteps], [want.step, want.windowSteps], `${what}: steps`);
        for (const n of SCALARS)
          assert.ok(
            Math.abs(snapshot.window[n] - want.window[n]) <= 1e-4,
            `${what}: ${n} page ${snapshot.window[n]} vs Node ${want.window[n]}`,
          );
      });
      params.forEach(({ what, p }, i) => {
        const want = Object.fromEntries(
          Object.entries(node.params[i] as Record<string, string>).map(([k, v]) => [k, fromB64(v)]),
        );
        assert.equal(Object.keys(p), Object.keys(want));
        let worst = 1;
        for (const k of Object.keys(want)) worst = Math.min(worst, cosine(p[k], want[k]));
        assert.ok(worst >= 0.99999, `${what}: worst parameter cosine ${worst}`);
        console.log(`  (${what}: worst parameter cosine page vs Node ${worst.toFixed(7)})`);
      });
      const wantGrid = fromB64(node.grids[0]);
      let gd = 0;
      for (let i = 0; i < wantGrid.length; i++) gd = Math.max(gd, Math.abs(grid[i] - wantGrid[i]));
      assert.ok(gd <= 1e-4, `grid page vs Node: max |Δ| ${gd}`);
    } finally {
      await browser.close();
      await pg.close();
    }
  });
});

test('in Chromium without data files: the Train view says what to do, without console errors', async () => {
  const pw = await playwright();
  if (!pw) return;
  const pg = await startPlayground({ root: SITE, port: 0, dataDir: null });
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: LAUNCH });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(`${pg.url}?view=train`);
    await page.waitForFunction(() => ['no-data', 'ready', 'error'].includes(document.body.dataset.train ?? ''), null, {
      timeout: 120_000,
    });
    assert.is(await page.evaluate(() => document.body.dataset.train), 'no-data');
    const text = (await page.textContent('#t-data')) ?? '';
    assert.match(text, /bash scripts\/setup\.sh/);
    assert.match(text, /Pick data files/);
    assert.ok(await page.isDisabled('#t-new'), 'no run without data');
    assert.equal(errors, []);
  } finally {
    await browser.close();
    await pg.close();
  }
});

test.run();
