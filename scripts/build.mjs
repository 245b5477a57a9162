// build.mjs — bundles src/ (WGSL files inlined as text) into dist/ with esbuild; `--tests` also bundles test/*.test.ts
// into dist/test/. Runs on `npm ci` (the `prepare` script) so plain `node bench/*.js` works right after.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true, format: 'esm', platform: 'node', target: 'node20', sourcemap: 'linked',
  loader: { '.wgsl': 'text' }, packages: 'external', logLevel: 'warning', absWorkingDir: root,
};
await build({ ...common, entryPoints: { index: 'src/index.ts', cli: 'src/cli/main.ts' }, outdir: 'dist',
  // one shared chunk so dist/index.js and dist/cli.js share one module instance of the engine
  splitting: true, chunkNames: 'chunks/[name]-[hash]' });
if (process.argv.includes('--tests')) {
  rmSync(join(root, 'dist/test'), { recursive: true, force: true });
  const tests = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
  await build({ ...common, entryPoints: tests, outdir: 'dist/test', splitting: true,
    chunkNames: 'chunks/[name]-[hash]' });
}
