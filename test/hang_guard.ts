// hang_guard.ts — the one wall-clock limit a test puts on a process it starts (a CLI, a bench, Chromium): a guard
// against a hang, not a speed assertion. Tests bound a process by its work (tiny settings); a 2-core machine that
// another heavy job shares runs it many times slower, and that must not fail a test.
import type { SpawnSyncReturns } from 'node:child_process';

export const HANG_GUARD_MS = 30 * 60_000;

/** how a spawnSync'd process ended, for an assertion's message: "exit 1", "killed by SIGKILL", or the hang guard */
export function ended(r: SpawnSyncReturns<string>, guardMs = HANG_GUARD_MS): string {
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT')
    return `still running after the ${guardMs / 60_000} min hang guard (a hang, not a speed limit): killed`;
  return r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
}
