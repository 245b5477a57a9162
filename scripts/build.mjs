// build.mjs — bundles src/ (WGSL files inlined as text) into dist/ with esbuild; `--tests` also bundles test/*.test.ts
// into dist/test/. Runs on `npm ci` (the `prepare` script) so plain `node bench/*.js` works right after.
// `--web` writes the browser playground as a static site to dist/web/ (index.html, playground.css, playground.js:
// the engine bundled for the browser, which fails the build if any of it needs a Node built-in); with
// `--checkpoint FILE` (a GAN checkpoint) it also puts a slim copy of it there as checkpoint.safetensors, which the
// page loads by default; the shipped GANs (models/cgan.safetensors, models/acgan.safetensors) go to dist/web/models/,
// listed in dist/web/models.json for the page's picker, and the shipped classifier beside them (the Train view judges
// class balance with it). `npm run build:web` runs this.
// Every build also emits the public API's declarations (tsc -p tsconfig.build.json → dist/types/, ~5 s), which
// package.json's `types` and `exports` name, so the engine imports as a typed package.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text' },
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: root,
};
// chunk names carry a content hash: clear the old ones, or dist/chunks grows with every build (and with it the
// tree carried to the GPU machine, which has a size limit)
rmSync(join(root, 'dist/chunks'), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
  outdir: 'dist',
  // one shared chunk so dist/index.js and dist/cli.js share one module instance of the engine
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
// declarations of src/index.ts's API; cleared first so a removed module leaves no stale .d.ts in the package
rmSync(join(root, 'dist/types'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const decl = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (decl.status !== 0) {
  console.error('error: declaration emit (tsc -p tsconfig.build.json) failed');
  process.exit(1);
}
if (process.argv.includes('--tests')) {
  rmSync(join(root, 'dist/test'), { recursive: true, force: true });
  const tests = readdirSync(join(root, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${f}`);
  await build({
    ...common,
    entryPoints: tests,
    outdir: 'dist/test',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  });
}
if (process.argv.includes('--web')) {
  const web = join(root, 'dist/web');
  const ci = process.argv.indexOf('--checkpoint');
  const ckpt = ci > 0 ? process.argv[ci + 1] : undefined;
  if (ci > 0 && (!ckpt || ckpt.startsWith('--'))) {
    console.error("error: --checkpoint needs a file (a GAN run's checkpoint.safetensors)");
    process.exit(2);
  }
  mkdirSync(web, { recursive: true });
  rmSync(join(web, 'checkpoint.safetensors'), { force: true });
  await build({
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'linked',
    minify: false,
    loader: { '.wgsl': 'text' },
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: { playground: 'src/web/playground.ts' },
    outdir: 'dist/web',
  });
  for (const f of ['index.html', 'playground.css']) copyFileSync(join(root, 'web', f), join(web, f));
  // the shipped GANs (models/, weights only) go with the static site, listed in models.json for the page's picker;
  // the shipped classifier too, which the Train view's class balance uses (and its SHA-256, which the page checks)
  rmSync(join(web, 'models'), { recursive: true, force: true });
  rmSync(join(web, 'models.json'), { force: true });
  mkdirSync(join(web, 'models'), { recursive: true });
  for (const f of ['eval-classifier.safetensors', 'eval-classifier.safetensors.sha256'])
    copyFileSync(join(root, 'models', f), join(web, 'models', f));
  const shipped = ['cgan', 'acgan'].map((m) => `models/${m}.safetensors`).filter((f) => existsSync(join(root, f)));
  if (shipped.length) {
    for (const f of shipped) copyFileSync(join(root, f), join(web, f));
    const list = [
      ...(ckpt ? [{ name: ckpt, url: 'checkpoint.safetensors' }] : []),
      ...shipped.map((f) => ({ name: f, url: f })),
    ];
    writeFileSync(join(web, 'models.json'), JSON.stringify(list));
  }
  if (ckpt) {
    const { slimGanCheckpoint } = await import(join(root, 'dist/index.js'));
    let bytes;
    try {
      bytes = slimGanCheckpoint(new Uint8Array(readFileSync(ckpt)), ckpt);
    } catch (e) {
      console.error(`error: ${e.code === 'ENOENT' ? `${ckpt}: no such file` : e.message}`);
      process.exit(1);
    }
    writeFileSync(join(web, 'checkpoint.safetensors'), bytes);
    console.log(
      `dist/web/checkpoint.safetensors: ${ckpt} without optimizer state (${(bytes.length / 1e6).toFixed(1)} MB)`,
    );
  }
  console.log('dist/web/: static site written (serve it over http(s); `npm run playground` does)');
}
