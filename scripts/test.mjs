// test.mjs — runs the uvu suites bundled into dist/test (by `node scripts/build.mjs --tests`), then releases the
// GPU so the process exits. Usage: node scripts/test.mjs [pattern]   (pattern: a regex on test file names)
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// the suite (and the CLI processes it starts) leaves conv tiles to the built-in rule unless a test asks for timing
// (--tune on), and never touches the user's tile cache: tests stay fast and free of side effects on a GPU too
process.env.FMNIST_TUNE ??= 'off';
process.env.FMNIST_TILE_CACHE ??= join(mkdtempSync(join(tmpdir(), 'engine-tests-')), 'conv-tiles.json');

const pattern = process.argv[2] ? new RegExp(process.argv[2]) : null;
const { suites } = await parse('dist/test', /\.test\.js$/);
const chosen = pattern ? suites.filter((s) => pattern.test(s.name)) : suites;
if (chosen.length === 0) {
  console.error(`no test files match ${pattern}`);
  process.exit(1);
}
await run(chosen);
const harness = globalThis.__engineTestHarness;
if (harness) await harness.teardown();
process.exit(process.exitCode ?? 0);
