// bench_args.test.ts — every benchmark reads its flags through bench/args.js: --help prints the usage and exits 0;
// an unknown flag, a flag without its value, a stray word, a switch given a value and a value out of range each
// exit 2 with what is wrong, before any GPU work starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { HANG_GUARD_MS, ended } from './hang_guard.js';

const SCRIPTS = ['conv.js', 'kid_prc.js', 'matmul.js', 'page-train.js', 'train-step.js'];
// per script: a switch (or null), and a value a flag refuses with the message it gives; every script takes --json FILE
const CASES: Record<string, { bad: [string, RegExp]; sw: string | null }> = {
  'conv.js': { sw: '--quick', bad: ['--batch=1', /--batch takes integers ≥ 2, got '1'/] },
  'kid_prc.js': { sw: null, bad: ['--n=2.5', /--n takes an integer ≥ 4, got '2.5'/] },
  'matmul.js': { sw: '--quick', bad: ['--shapes=5x3', /--shapes takes MxKxN.*got '5x3'/] },
  'page-train.js': { sw: null, bad: ['--only=both', /--only takes node or page; got 'both'/] },
  'train-step.js': { sw: '--profile', bad: ['--steps=0', /--steps takes an integer ≥ 1, got '0'/] },
};

const run = (script: string, args: string[]) => {
  const r = spawnSync(process.execPath, [`bench/${script}`, ...args], { encoding: 'utf8', timeout: HANG_GUARD_MS });
  return { status: r.status, out: r.stdout, err: r.stderr, why: ended(r) };
};

for (const script of SCRIPTS)
  test(`bench/${script}: --help, and bad command lines exit 2 with what is wrong`, () => {
    const help = run(script, ['--help']);
    assert.is(help.status, 0, help.why);
    assert.match(help.out, new RegExp(`^usage: node bench/${script.replace('.', '\\.')} \\[--`));
    assert.not.match(help.out, /debug-break/, 'test hooks stay out of the usage');
    const c = CASES[script];
    const refusals: [string[], RegExp][] = [
      [['--bogus'], /^error: unknown flag --bogus \(flags: --/],
      [['--json'], /^error: --json needs a value/],
      [['--json', '--help'], /^error: --json needs a value, and '--help' after it is a flag/],
      [['stray'], /^error: unexpected word 'stray'/],
      [[c.bad[0]], c.bad[1]],
      ...(c.sw ? [[[`${c.sw}=1`], new RegExp(`^error: ${c.sw} takes no value`)] as [string[], RegExp]] : []),
    ];
    for (const [args, msg] of refusals) {
      const r = run(script, args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.why}\n${r.err}`);
      assert.match(r.err, msg, args.join(' '));
      assert.not.match(r.err, /Warning: max|adapter/i, `${args.join(' ')}: refused before the GPU starts`);
    }
  });

test.run();
