// package.test.ts — the engine as a user's package: README.md's code example, imported as 'fmnist-webgpu-engine'
// from a project whose node_modules links to this repo (so package.json's `exports` and `types` are what resolve,
// and dist/types/ from the build is what it compiles against), type-checks with zero diagnostics under a common
// Node tsconfig and a strict one (NodeNext, library files checked too), and the emitted JavaScript runs on the GPU
// adapter. A second test feeds it a broken example, to show the check can fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ts from 'typescript';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { join, resolve } from 'node:path';
import { HANG_GUARD_MS, ended } from './hang_guard.js';

const ROOT = resolve('.');
const NAME = 'fmnist-webgpu-engine';

/** the README's ```ts block that imports the package */
function readmeExample(readme: string): string {
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const mine = blocks.filter((b) => b.includes(`from '${NAME}'`));
  assert.is(mine.length, 1, `README.md: one \`\`\`ts block importing '${NAME}' (found ${mine.length})`);
  return mine[0];
}

/** a user's project: package.json, the example, node_modules/NAME → this repo, @types from this repo */
function userProject(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'engine-user-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  writeFileSync(join(dir, 'example.ts'), code);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', NAME), 'dir');
  symlinkSync(join(ROOT, 'node_modules/@types'), join(dir, 'node_modules/@types'), 'dir');
  return dir;
}

// a strict user: every declaration file checked, with the DOM lib that @webgpu/types (GPUDevice…) builds on
const STRICT: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: ['node'],
  strict: true,
  skipLibCheck: false,
};
// a common Node setup: no DOM lib, library files not checked
const NODE: ts.CompilerOptions = { ...STRICT, lib: ['lib.es2022.d.ts'], skipLibCheck: true };

/** type-check example.ts (and, with emit, write example.js on success); the diagnostics, formatted */
function compile(dir: string, options: ts.CompilerOptions, emit = false): { diagnostics: string; program: ts.Program } {
  const program = ts.createProgram([join(dir, 'example.ts')], { ...options, outDir: dir, noEmit: !emit });
  const diags = [...ts.getPreEmitDiagnostics(program)];
  if (emit && diags.length === 0) diags.push(...program.emit().diagnostics);
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  };
  return { diagnostics: ts.formatDiagnostics(diags, host), program };
}

test("README example: compiles against the package's exports and types, and runs", () => {
  assert.ok(existsSync(join(ROOT, 'dist/types/index.d.ts')), 'dist/types/ missing: run `node scripts/build.mjs`');
  const dir = userProject(readmeExample(readFileSync('README.md', 'utf8')));
  try {
    assert.is(compile(dir, NODE).diagnostics, '', 'no diagnostics (ES2022 lib, skipLibCheck)');
    const { diagnostics, program } = compile(dir, STRICT, true);
    assert.is(diagnostics, '', 'no diagnostics (DOM lib, no skipLibCheck)');
    // the import went through package.json's exports to the emitted declarations, not to src/
    const r = ts.resolveModuleName(NAME, join(dir, 'example.ts'), program.getCompilerOptions(), ts.sys);
    assert.is(r.resolvedModule?.resolvedFileName, join(ROOT, 'dist/types/index.d.ts'));
    // bounded by the example's (tiny) work; the guard only stops a hang
    const run = spawnSync(process.execPath, ['example.js'], { cwd: dir, encoding: 'utf8', timeout: HANG_GUARD_MS });
    assert.is(run.status, 0, `node example.js: ${ended(run)}\n${run.stderr}`);
    // loss of 10 nearly equal logits ≈ ln 10; the weights' gradient has their shape
    const m = /^(\d+\.\d+) \[ 784, 10 \]$/m.exec(stripVTControlCharacters(run.stdout)); // colour if forced
    assert.ok(m, `output: ${run.stdout}`);
    assert.ok(Math.abs(Number(m![1]) - Math.log(10)) < 0.2, `loss ${m![1]}`);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('the check fails on a broken example (a misspelt export, a wrong argument type)', () => {
  const code = readmeExample(readFileSync('README.md', 'utf8'));
  const dir = userProject(code.replace('new Generator(0)', "new Generator('0')").replace('F.matmul(', 'F.matmull('));
  try {
    const { diagnostics } = compile(dir, NODE);
    assert.match(diagnostics, /example\.ts.*TS2345/, 'a string seed is rejected');
    assert.match(diagnostics, /example\.ts.*TS2551|example\.ts.*TS2339/, 'an unknown member of F is rejected');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
