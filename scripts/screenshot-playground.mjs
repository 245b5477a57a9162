// screenshot-playground.mjs — regenerates docs/playground.png, the README's picture of the browser playground.
//
//   node scripts/build.mjs && node scripts/build.mjs --web
//   node scripts/screenshot-playground.mjs --checkpoint runs/NAME/checkpoint.safetensors [--out docs/playground.png]
//        [--seed 0] [--cell ROW,COL]
//
// Serves dist/web with the given checkpoint (the same server as `npm run playground`), opens it in Debian's
// headless Chromium with WebGPU (SwiftShader; `bash scripts/setup.sh --browser` installs chromium), waits for the
// grid, the principal directions and the layer maps, picks a grid cell, plays the interpolation, and saves a
// full-page PNG. Exits non-zero with the reason when the page reports an error or a console error appears.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const CHROMIUM = '/usr/bin/chromium';
const { values: a } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    out: { type: 'string', default: 'docs/playground.png' },
    seed: { type: 'string', default: '0' },
    cell: { type: 'string', default: '7,3' },
  },
});
const fail = (msg) => {
  console.error(`screenshot-playground: ${msg}`);
  process.exit(1);
};
if (!a.checkpoint || !existsSync(a.checkpoint))
  fail(`--checkpoint FILE is required and must exist (got ${a.checkpoint ?? 'nothing'})`);
if (!existsSync('dist/web/playground.js')) fail('dist/web is not built: run `node scripts/build.mjs --web` first');
if (!existsSync('dist/cli.js')) fail('dist is not built: run `node scripts/build.mjs` first');
if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} not found: run \`bash scripts/setup.sh --browser\``);
const [row, col] = a.cell.split(',').map(Number);
if (!(row >= 0 && row < 10 && col >= 0 && col < 10)) fail(`--cell wants ROW,COL in 0..9 (got ${a.cell})`);

const pw = await import('playwright-core');
// the server exactly as `npm run playground -- --checkpoint FILE` starts it, on a free port
const server = spawn(process.execPath, ['dist/cli.js', 'playground', '--checkpoint', a.checkpoint, '--port', '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((ok, no) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /playground: (http\S+)/.exec(out);
    if (m) ok(m[1]);
  });
  server.once('exit', (code) => no(new Error(`the playground server exited (${code}): ${out.trim()}`)));
});
const browser = await pw.chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless=new',
    '--enable-unsafe-webgpu',
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}?seed=${Number(a.seed)}`);
  const ready = () =>
    page.waitForFunction(
      () => {
        const s = document.body.dataset.state;
        return (
          s === 'error' ||
          s === 'no-webgpu' ||
          s === 'waiting' ||
          (s === 'ready' && document.querySelectorAll('#layers .layer').length > 0)
        );
      },
      null,
      { timeout: 600_000 },
    );
  await ready();
  const state = await page.evaluate(() => [document.body.dataset.state, document.getElementById('status').textContent]);
  if (state[0] !== 'ready') fail(`page state ${state[0]}: ${state[1]}`);
  // explore one grid cell, then play the interpolation to its end
  const box = await page.locator('#grid').boundingBox();
  await page.mouse.click(box.x + (box.width * (col + 0.5)) / 10, box.y + (box.height * (row + 0.5)) / 10);
  await page.waitForFunction((r) => document.getElementById('class').value === String(r), row, { timeout: 600_000 });
  await page.waitForFunction(
    () => document.body.dataset.state === 'ready' && document.querySelectorAll('#layers .layer').length > 0,
    null,
    { timeout: 600_000 },
  );
  await page.click('#play');
  await page.waitForFunction(() => window.__playground.frames === 16, null, { timeout: 600_000 });
  await page.waitForTimeout(500);
  if (errors.length) fail(`console errors: ${errors.join(' | ')}`);
  mkdirSync(dirname(a.out), { recursive: true });
  await page.screenshot({ path: a.out, fullPage: true });
  console.log(`wrote ${a.out} (checkpoint ${a.checkpoint}, seed ${a.seed}, cell ${row},${col})`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
