// node/runlock.ts — one training process per run directory. `<dir>/run.lock` holds the owner's pid; it is created
// exclusively (O_EXCL), so of two `train … --out DIR` started together one gets the directory and the other a
// RunLockError before it writes anything. The lock goes when the process exits (normally, by an error, or by
// SIGINT/SIGTERM through process.exit); a lock left by a killed process (its pid no longer runs) is taken over.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class RunLockError extends Error {}

export const LOCK_FILE = 'run.lock';

/** true when a process with this pid runs (EPERM: it runs, as another user) */
function running(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** take `<dir>/run.lock` (creating `dir`); returns the release function, also called at process exit */
export function lockRunDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid} ${new Date().toISOString()}\n`;
  const inUse = (pid: number, held: string) =>
    new RunLockError(
      `${dir} is in use by another training process (pid ${pid}, since ${held.split(' ')[1]?.trim() ?? '?'}); wait for it to end or stop it, or pick another --out (if no such process runs, delete ${path})`,
    );
  // a stale lock is taken over at most twice: a third EEXIST means other processes keep racing for the directory
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let held: string | null;
      try {
        held = readFileSync(path, 'utf8');
      } catch (r) {
        if ((r as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new RunLockError(
            `cannot read the lock ${path}: ${(r as Error).message}; if no training process uses ${dir}, delete it`,
          );
        held = null; // released meanwhile
      }
      const pid = parseInt(held ?? '', 10);
      if (held !== null && running(pid)) throw inUse(pid, held);
      if (attempt >= 2)
        throw new RunLockError(
          `${dir}: other processes keep taking its lock (${path}); start one training process per --out directory`,
        );
      try {
        // left by a process that no longer runs
        if (held !== null && readFileSync(path, 'utf8') === held) unlinkSync(path);
      } catch {
        // gone meanwhile: try again
      }
    }
  }
  const release = () => {
    try {
      if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return () => {
    process.off('exit', release);
    release();
  };
}
