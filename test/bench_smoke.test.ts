// bench_smoke.test.ts — the benchmarks run with plain `node` and keep their promises on tiny settings: exit 0, a
// table on stdout, a JSON with one row per measurement (written as rows are measured); train-step with the conv
// tiles timed (--tune on), cached, and taken from the cache by the next run. Speed itself is not asserted here
// (benchmarks measure it); the GPU session runs these same scripts at full size. Each run is bounded by its work
// (tiny shapes, one step), never by the clock: a busy machine only makes it slower (hang_guard.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANG_GUARD_MS, ended } from './hang_guard.js';

function bench(args: string[], env: Record<string, string> = {}): { out: string; json: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  try {
    const json = join(dir, 'out.json');
    const r = spawnSync(process.execPath, [...args, '--json', json], {
      encoding: 'utf8',
      timeout: HANG_GUARD_MS,
      env: { ...process.env, ...env },
    });
    assert.is(r.status, 0, `${args.join(' ')}: ${ended(r)}\n${r.stderr}`);
    return { out: r.stdout, json: JSON.parse(readFileSync(json, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test('bench/matmul.js: a row per shape, the skinny head among them', () => {
  const { out, json } = bench(['bench/matmul.js', '--shapes', '5x300x11,33x17x65']);
  assert.match(out, /\| 5×300×11 \| 5×300×11 \| [\d.]+ \| [\d.]+ \| [\d.]+e-\d+ \|/);
  assert.is((json.rows as unknown[]).length, 2);
});

test('bench/conv.js --quick --model cnn --op conv2d --batch 2: a row per conv kernel, each checked against float64', () => {
  const { out, json } = bench([
    'bench/conv.js',
    '--quick',
    '--model',
    'cnn',
    '--op',
    'conv2d',
    '--batch',
    '2',
    '--peers',
    'none',
  ]);
  const rows = json.rows as { layer: string; kernel: string; maxRelErr: number; ok: boolean }[];
  assert.is(rows.length, 2 + 5 * 3, 'six conv layers × forward, input grad, weight grad (conv1: no input gradient)');
  for (const r of rows) assert.ok(r.ok && r.maxRelErr < 1e-3, `${r.layer} ${r.kernel}: error ${r.maxRelErr}`);
  assert.match(out, /\| body\.conv1 \| forward \| 2×1×28×28 → 2×32×28×28 k3 \| 1 \| [\d.]+ \|/);
  assert.match(out, /^\d+ s$/m, 'the elapsed time, last');
});

test('bench/train-step.js --tune on: tiles timed and cached, then taken from the cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiles-'));
  try {
    const env = { FMNIST_TILE_CACHE: join(dir, 'conv-tiles.json') };
    // a budget no run reaches, so every problem is timed however busy the machine (the default is 15 s per row)
    const args = [
      'bench/train-step.js',
      '--model',
      'cnn',
      '--batch',
      '2',
      '--steps',
      '1',
      '--tune',
      'on',
      '--tune-budget',
      String(HANG_GUARD_MS / 1000),
    ];
    const first = bench(args, env);
    const row = (first.json.rows as { dispatchesPerStep: number; tune: { problems: number } }[])[0];
    assert.is(row.dispatchesPerStep, 60);
    assert.ok(row.tune.problems > 10, `${row.tune.problems} conv problems timed`);
    assert.ok(existsSync(env.FMNIST_TILE_CACHE), 'cached');
    assert.match(first.out, /\| cnn \(seed 003\) \| 2 \|/);
    // (and --split-k off: the rows say so, the JSON too; on a software adapter conv2d splits nothing anyway)
    const second = bench([...args, '--split-k', 'off'], env);
    assert.is((second.json.rows as { tune: { problems: number } }[])[0].tune.problems, 0, 'nothing left to time');
    assert.match(second.out, new RegExp(`${row.tune.problems} problems from the cache`));
    assert.match(second.out, /\| cnn \(seed 003\), split-K off \| 2 \|/);
    assert.is(second.json.splitK, false);
    const bad = spawnSync(process.execPath, ['bench/train-step.js', '--split-k', 'maybe'], {
      encoding: 'utf8',
      timeout: HANG_GUARD_MS,
    });
    assert.is(bad.status, 2, ended(bad));
    assert.match(bad.stderr, /--split-k takes on or off; got 'maybe'/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
