// runlock.test.ts — one training process per run directory (src/node/runlock.ts): the lock file is exclusive,
// released on exit, taken over from a process that no longer runs; the CLI refuses a locked --out before the GPU
// starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANG_GUARD_MS, ended } from './hang_guard.js';
import { lockRunDir, LOCK_FILE, RunLockError } from '../src/node/runlock.js';

test('run.lock: exclusive while held, gone when released, taken over from a dead process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runlock-'));
  try {
    const run = join(dir, 'run');
    const release = lockRunDir(run);
    const lock = join(run, LOCK_FILE);
    assert.match(readFileSync(lock, 'utf8'), new RegExp(`^${process.pid} \\d{4}-`));
    assert.throws(
      () => lockRunDir(run),
      (e: Error) =>
        e instanceof RunLockError &&
        new RegExp(`in use by another training process \\(pid ${process.pid}, since `).test(e.message),
    );
    release();
    assert.not.ok(existsSync(lock), 'released');
    // a lock whose process has ended is stale
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock, `${dead} 2026-01-01T00:00:00.000Z\n`);
    const again = lockRunDir(run);
    assert.ok(readFileSync(lock, 'utf8').startsWith(`${process.pid} `), 'taken over');
    again();
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('run.lock: an empty lock (a process killed while writing it) is stale; an unreadable one is a clear error, not a hang', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runlock-'));
  try {
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, LOCK_FILE), '');
    lockRunDir(run)();
    mkdirSync(join(run, LOCK_FILE)); // EEXIST on create, EISDIR on read
    assert.throws(
      () => lockRunDir(run),
      (e: Error) => e instanceof RunLockError && /cannot read the lock .*run\.lock: .*delete it/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('train refuses an --out another process is training into (exit 1, before the GPU starts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runlock-cli-'));
  try {
    const release = lockRunDir(dir);
    for (const model of ['cgan', 'cnn']) {
      const r = spawnSync(process.execPath, ['dist/cli.js', 'train', model, '--out', dir], {
        encoding: 'utf8',
        timeout: HANG_GUARD_MS,
      });
      assert.is(r.status, 1, `${ended(r)}\n${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `error: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another training process \\(pid ${process.pid}`,
        ),
      );
      assert.not.match(r.stdout + r.stderr, /device:|Warning: max/, 'no GPU started');
    }
    release();
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
