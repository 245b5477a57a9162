// house.test.ts — the written map matches the tree: every src/ file that README.md and docs/*.md name exists, and
// every folder of src/ has its place in the layers (.dependency-cruiser.cjs, which `npm run lint` enforces) and in
// docs/architecture.md's diagram; the layer rules catch an upward import and a cycle (depcruise on a scratch tree).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { withTempDir } from './harness.js';

const docs = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];
const srcDirs = readdirSync('src', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
// the folders the layer rules name (one rule per folder: layer-<folder>)
const config = createRequire(import.meta.url)(join(process.cwd(), '.dependency-cruiser.cjs'));
const layered: string[] = config.forbidden
  .map((r: { name: string }) => /^layer-(\w+)$/.exec(r.name)?.[1])
  .filter(Boolean);

test('every src/ file the README and docs name exists', () => {
  const missing: string[] = [];
  for (const d of docs)
    for (const m of readFileSync(d, 'utf8').matchAll(/src\/[a-z_]+\/[a-z_0-9]+\.ts/g))
      if (!readdirSync(m[0].split('/').slice(0, 2).join('/')).includes(m[0].split('/')[2]))
        missing.push(`${d}: ${m[0]}`);
  assert.equal(missing, []);
});

test('every src/ folder has a layer and a place in docs/architecture.md', () => {
  assert.equal(
    srcDirs.filter((d) => !layered.includes(d)),
    [],
    'folders without a layer',
  );
  assert.equal(
    layered.filter((d) => !srcDirs.includes(d)),
    [],
    'layers without a folder',
  );
  const arch = readFileSync('docs/architecture.md', 'utf8');
  const diagram = arch.slice(arch.indexOf('```'), arch.indexOf('```', arch.indexOf('```') + 3));
  assert.equal(
    srcDirs.filter((d) => !diagram.includes(` ${d}/`)),
    [],
    'folders missing from the diagram',
  );
});

// a shader's header says what, layout, tiling and bindings in at most 15 comment lines; the detail lives in docs/
test('every WGSL header is at most 15 lines', () => {
  const long = readdirSync('wgsl')
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => {
      const lines = readFileSync(join('wgsl', f), 'utf8').split('\n');
      const n = lines.findIndex((l) => !l.startsWith('//'));
      return [f, n < 0 ? lines.length : n] as const;
    })
    .filter(([, n]) => n > 15 || n === 0);
  assert.equal(long, [], 'shaders whose header is over 15 lines (or missing)');
});

// docs/watching-a-gan-learn.md points at lines of src/gan/train.ts: "`code` (line N)" or "(lines N–M)"; the quoted
// code up to its first "…" must be on that line (or in that range)
test('the lines docs/watching-a-gan-learn.md quotes from src/gan/train.ts are where it says', () => {
  const doc = readFileSync('docs/watching-a-gan-learn.md', 'utf8');
  const src = readFileSync('src/gan/train.ts', 'utf8').split('\n');
  const wrong: string[] = [];
  let checked = 0;
  for (const m of doc.matchAll(/`([^`]+)`(?: = [^(]*)? \(lines? (\d+)(?:–(\d+))?\)/g)) {
    const code = m[1].split('…')[0];
    const [a, b] = [Number(m[2]), Number(m[3] ?? m[2])];
    checked++;
    if (!src.slice(a - 1, b).some((l) => l.includes(code))) wrong.push(`${m[0]}: not on src/gan/train.ts:${a}–${b}`);
  }
  assert.ok(checked >= 8, `only ${checked} quotes found`);
  assert.equal(wrong, []);
});

test('the layer rules refuse an upward import, a sibling import and a cycle', () =>
  withTempDir('house-', (dir) => {
    const file = (p: string, text: string) => {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), text);
    };
    file('src/autograd/a.ts', "import '../nn/b.js';\nexport const a = 1;\n"); // upward
    file('src/nn/b.ts', "import '../kernels/c.js';\nexport const b = 1;\n"); // sibling in the same layer
    file('src/kernels/c.ts', "import './d.js';\nexport const c = 1;\n");
    file('src/kernels/d.ts', "import './c.js';\nexport const d = 1;\n"); // cycle c ↔ d
    file('src/data/ok.ts', "import '../autograd/e.js';\nexport const ok = 1;\n"); // downward: allowed
    file('src/autograd/e.ts', 'export const e = 1;\n');
    file('tsconfig.json', '{"compilerOptions": {"module": "ESNext", "moduleResolution": "Bundler"}}\n');
    const cli = join(process.cwd(), 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
    const config = join(process.cwd(), '.dependency-cruiser.cjs');
    const r = spawnSync(process.execPath, [cli, 'src', '--config', config, '--output-type', 'err'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, // CI may force colour; the patterns read plain text
    });
    assert.is.not(r.status, 0, r.stdout + r.stderr);
    const out = stripVTControlCharacters(r.stdout + r.stderr);
    assert.match(out, /layer-autograd: src\/autograd\/a\.ts → src\/nn\/b\.ts/);
    assert.match(out, /layer-nn: src\/nn\/b\.ts → src\/kernels\/c\.ts/);
    assert.match(out, /no-circular/);
    assert.not.match(out, /src\/data\/ok\.ts →/);
  }));

test.run();
