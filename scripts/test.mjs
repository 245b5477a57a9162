// test.mjs — runs the uvu suites bundled into dist/test (by `node scripts/build.mjs --tests`), then releases the
// GPU so the process exits. Usage: node scripts/test.mjs [pattern]   (pattern: a regex on test file names)
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';

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
