// bench_kernels.test.ts — bench/conv.js, the profile of every kernel of the seed models' training steps (issue 25).
// The trace (bench/kernels/trace.js, a dry backend under each model's real step) finds every call and names its
// layer, also for layers with equal dims (the CNN's bn5 and bn6), and every call has a spec the benchmark can
// replay; a run on small settings gives a checked row per kernel for each family asked (batchnorm plain and sliced,
// its eval forward, Adam per network), the roofs measured, the TF.js peer skipped with a note when its folder is
// absent; a kernel whose checked run is skipped (test hook --debug-break) is marked failed and the run exits 1; bad
// flags exit 2; the --html page renders in headless Chromium (Debian's `chromium` through playwright-core) without
// console errors, with a bar chart per model and the roofline (skipped with a note without Chromium).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HANG_GUARD_MS, ended } from './hang_guard.js';
import { pathToFileURL } from 'node:url';
import * as E from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
// plain-JS modules of the benchmark, loaded as node loads them (a path esbuild leaves alone)
const benchModule = (f: string) => import(pathToFileURL(resolve('bench/kernels', f)).href);

interface Row {
  model: string;
  layer: string;
  family: string;
  kernel: string;
  variant: string;
  picked: boolean;
  calls: number;
  ms: number;
  maxRelErr: number | null;
  ok: boolean;
  bound: string;
  intensity: number;
  pctRoof: number;
  tfjsMs: number | null;
  note: string;
}
interface Out {
  rows: Row[];
  matmulGflops: number;
  copyGBps: number;
  balance: number;
  peer: { note: string };
  skipped: Record<string, Record<string, number>>;
}

function run(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['bench/conv.js', ...args], { encoding: 'utf8', timeout: HANG_GUARD_MS });
  return { status: r.status, out: r.stdout, err: r.status === null ? `${ended(r)}\n${r.stderr}` : r.stderr };
}

test('trace: every call of each seed step has a spec and a layer; equal dims keep their own layers', async () => {
  const { traceStep } = await benchModule('trace.js');
  const { SPECS, classify } = await benchModule('catalog.js');
  const families = (m: string) => {
    const calls = traceStep(E, m, 2).calls as { method: string; args: unknown[]; layer: string; kind: string }[];
    for (const c of calls) assert.ok(c.method in SPECS, `${m}: ${c.method} has no spec`);
    const fam = new Map<string, string[]>();
    for (const c of calls) {
      const { family, role } = classify(c.method, c.args, c.kind);
      if (family !== 'glue') assert.is.not(c.layer, '(step)', `${m}: ${c.method} (${family}) without a layer`);
      fam.set(family, [...(fam.get(family) ?? []), `${c.layer} ${role}`]);
    }
    return fam;
  };
  const cnn = families('cnn');
  for (const f of ['conv2d', 'dense', 'batchnorm', 'maxpool', 'loss', 'adam']) assert.ok(cnn.has(f), `cnn: ${f}`);
  // each of the six conv batchnorms and the dense one has exactly one gradient, under its own name
  const grads = cnn
    .get('batchnorm')!
    .filter((s) => s.endsWith(' grad'))
    .sort();
  const bns = ['body.bn1', 'body.bn2', 'body.bn3', 'body.bn4', 'body.bn5', 'body.bn6', 'dense.bn'];
  assert.equal(
    grads,
    bns.map((l) => `${l} grad`),
  );
  // conv1 takes no input gradient (the images need none); the others take forward and both gradients
  const conv1 = cnn
    .get('conv2d')!
    .filter((s) => s.startsWith('body.conv1 '))
    .sort();
  assert.equal(conv1, ['body.conv1 forward', 'body.conv1 gradWeight']);
  assert.is(cnn.get('conv2d')!.length, 2 + 5 * 3);
  assert.equal(cnn.get('adam'), ['Adam step']);
  for (const m of ['cgan', 'acgan']) {
    const g = families(m);
    for (const f of ['convTranspose2d', 'conv2d', 'dense', 'batchnorm', 'dropout', 'embedding', 'loss', 'adam', 'ema'])
      assert.ok(g.has(f), `${m}: ${f}`);
    assert.equal(g.get('adam')!.sort(), ['Adam D step', 'Adam G step']);
    const convT = g.get('convTranspose2d')!;
    assert.ok(convT.includes('G.up1 forward') && convT.includes('G.up2 gradWeight'));
  }
  assert.ok(families('cgan').get('embedding')!.includes('D.label_proj grad'), 'the projection discriminator');
});

let html = '';
let dir = '';
test('a small run: a checked row per kernel, roofs measured, batchnorm plain and sliced, the peer noted', () => {
  dir = mkdtempSync(join(tmpdir(), 'convbench-'));
  html = join(dir, 'kernels.html');
  const json = join(dir, 'kernels.json');
  const asked = ['batchnorm', 'dropout', 'embedding', 'maxpool', 'loss', 'adam', 'ema'];
  const r = run([
    '--quick',
    '--model',
    'cnn,cgan',
    '--batch',
    '2',
    '--op',
    asked.join(','),
    '--peers',
    join(dir, 'no-peers'),
    '--json',
    json,
    '--html',
    html,
  ]);
  assert.is(r.status, 0, `exit ${r.status}\n${r.err}\n${r.out.slice(-2000)}`);
  const o = JSON.parse(readFileSync(json, 'utf8')) as Out;
  assert.ok(o.matmulGflops > 0 && o.copyGBps > 0, 'both roofs measured');
  assert.ok(Math.abs(o.balance - o.matmulGflops / o.copyGBps) < 1e-9, 'where they meet');
  for (const f of asked)
    assert.ok(
      o.rows.some((x) => x.family === f),
      `rows for ${f}`,
    );
  assert.not.ok(
    o.rows.some((x) => x.family === 'conv2d' || x.family === 'glue'),
    'only the families asked',
  );
  for (const x of o.rows) {
    const what = `${x.model} ${x.layer} ${x.kernel} ${x.variant}`;
    assert.ok(x.ok && x.maxRelErr !== null && x.maxRelErr < 1e-3, `${what}: error ${x.maxRelErr}`);
    assert.ok(x.ms > 0 && x.intensity >= 0 && x.pctRoof > 0, `${what}: measured`);
    assert.ok(['compute', 'memory'].includes(x.bound), `${what}: ${x.bound}`);
  }
  const bn = o.rows.filter((x) => x.model === 'cnn' && x.layer === 'body.bn3');
  const kinds = new Set(bn.map((x) => `${x.kernel}${x.variant ? ` · ${x.variant.replace(/\d+$/, 'S')}` : ''}`));
  assert.equal([...kinds].sort(), [
    'apply',
    'apply (eval)',
    'grad · plain',
    'grad · sliced ×S',
    'stats + running · plain',
    'stats + running · sliced ×S',
  ]);
  assert.is(bn.find((x) => x.kernel === 'apply (eval)')!.calls, 0, 'the eval forward is not part of a step');
  const adam = o.rows.filter((x) => x.family === 'adam').map((x) => `${x.model} ${x.layer}`);
  assert.equal(adam.sort(), ['cgan Adam D', 'cgan Adam G', 'cnn Adam']);
  const pools = o.rows.filter((x) => x.family === 'maxpool');
  assert.ok(pools.length === 6 && pools.every((x) => /dropout/.test(x.kernel)), '3 poolings each way, with dropout');
  assert.match(o.peer.note, /TF\.js: skipped \(no @tensorflow\/tfjs-backend-webgpu/);
  assert.ok(o.rows.every((x) => x.tfjsMs === null));
  assert.ok(o.skipped['cnn:2'].conv2d > 0, 'the calls of families not asked are counted apart');
  assert.match(r.out, /^## cnn, step at batch 2$/m);
  assert.match(r.out, /^\| body\.bn1 \| stats \+ running · plain \| 32 ch × 2·784 relu-in \| 1 \| [\d.]+ \|/m);
  assert.match(r.out, /^\d+ s$/m, 'the elapsed time, last');
});

test('a kernel that fails its check is marked, kept, and the run exits 1', () => {
  const d = mkdtempSync(join(tmpdir(), 'convbench-'));
  try {
    const json = join(d, 'k.json');
    const r = run([
      '--quick',
      '--model',
      'cgan',
      '--batch',
      '2',
      '--op',
      'embedding',
      '--peers',
      'none',
      '--debug-break',
      'embeddingGrad',
      '--json',
      json,
    ]);
    assert.is(r.status, 1, r.err);
    const rows = (JSON.parse(readFileSync(json, 'utf8')) as Out).rows;
    const bad = rows.filter((x) => x.kernel === 'grad');
    assert.ok(bad.length >= 2 && bad.every((x) => !x.ok), 'both embedding gradients marked');
    assert.ok(
      rows.filter((x) => x.kernel === 'gather').every((x) => x.ok),
      'the gathers pass',
    );
    assert.match(r.out, /✗ unwritten\/NaN/);
    assert.match(r.out, /✗ 2 kernel\(s\) failed the check/);
  } finally {
    rmSync(d, { recursive: true });
  }
});

test('bad flags exit 2 with what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [['--op', 'convolution'], /--op takes conv2d, .*; got 'convolution'/],
    [['--model', 'vgg'], /--model takes cnn, .*; got 'vgg'/],
    [['--batch', '1'], /--batch takes integers ≥ 2, got '1'/],
    [['--bogus'], /unknown flag --bogus/],
  ];
  for (const [args, msg] of cases) {
    const r = run(args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.err, msg);
  }
});

test('--html: renders in headless Chromium, no console errors: the roofline, a bar chart per model', async () => {
  try {
    assert.ok(existsSync(html), 'written by the run above');
    const page = readFileSync(html, 'utf8');
    assert.not.match(page, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'self-contained: no script, no fetch');
    if (!existsSync(CHROMIUM))
      return console.log(`  (browser check skipped: ${CHROMIUM} not installed; bash scripts/setup.sh --browser)`);
    let pw: typeof import('playwright-core');
    try {
      pw = await import('playwright-core');
    } catch {
      return console.log('  (browser check skipped: playwright-core not installed; npm ci)');
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
    ctx.setDefaultTimeout(HANG_GUARD_MS);
    try {
      const p = await ctx.newPage();
      const errors: string[] = [];
      p.on('console', (m) => void (['error', 'warning'].includes(m.type()) && errors.push(`${m.type()}: ${m.text()}`)));
      p.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      p.on('requestfailed', (r) => errors.push(`request failed: ${r.url().slice(0, 80)}`));
      await p.goto(pathToFileURL(html).href, { waitUntil: 'load' });
      const figs = await p.evaluate(() =>
        Array.from(document.querySelectorAll('figure')).map((f) => {
          const svg = f.querySelector('svg')!;
          const count = (sel: string) => svg.querySelectorAll(sel).length;
          const n = f.getAttribute('data-figure');
          return { n, w: svg.getBBox().width, bars: count('rect'), points: count('circle'), roof: count('polyline') };
        }),
      );
      assert.equal(errors, [], 'no console errors');
      assert.is(figs.length, 3, 'the roofline, then a bar chart for cnn and one for cgan');
      assert.ok(figs[0].points > 5 && figs[0].roof === 1, `roofline: ${JSON.stringify(figs[0])}`);
      for (const f of figs.slice(1)) assert.ok(f.w > 100 && f.bars > 5, `bar chart ${f.n}: ${JSON.stringify(f)}`);
      assert.is(await p.locator('table').count(), 2);
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
