// app/policies.ts — how a training run ends when something goes wrong, for the CLI's train commands: a non-finite
// loss or weight stops the run (or, for a GAN with --on-nan=rollback, goes back to the last checkpoint with half
// the learning rate, at most 3 times); the GPU out of memory or lost stops it. Each stop is a TrainingStopped
// error saying what is kept and how to go on: one line for the user, exit 1.
import { existsSync } from 'node:fs';
import { GpuError } from '../kernels/gpu.js';
import { NonFiniteError } from '../train/guard.js';

/** a known way for training to end early: printed as one line, exit 1 */
export class TrainingStopped extends Error {}

/** a non-finite value: stopped, with the last good checkpoint (if any) and a lower learning rate to resume with */
export function nanStopped(e: NonFiniteError, ckpt: string, lr: number, also = ''): TrainingStopped {
  return new TrainingStopped(
    `${e.message}. Stopped; ${existsSync(ckpt) ? `the last good checkpoint is ${ckpt} (untouched); resume with --resume ${ckpt} --lr ${lr / 2}${also}` : 'no checkpoint was written yet; lower --lr'}`,
  );
}

/** the GPU out of memory or lost (a GpuError of kind 'oom' or 'lost'): stopped, saying how to resume */
export function gpuStopped(e: GpuError, ckpt: string, batch: number): TrainingStopped {
  const saved = existsSync(ckpt)
    ? `the last checkpoint ${ckpt} is intact; resume with --resume ${ckpt}`
    : 'no checkpoint was written yet';
  if (e.kind === 'oom')
    return new TrainingStopped(
      `the GPU ran out of memory at batch size ${batch}; ${saved} and a smaller batch, e.g. --batch ${Math.max(2, Math.floor(batch / 2))}`,
    );
  return new TrainingStopped(
    `${e.message.split('\n')[0]} (a driver reset, or the GPU was taken away); ${saved} once the GPU is back`,
  );
}

/** what one attempt of a GAN run starts from: a checkpoint to resume, a learning rate to use instead, a test hook */
export interface GanAttempt {
  resume?: string;
  lrOverride?: number;
  injectNanAtStep?: number;
}

export interface GanPolicy extends GanAttempt {
  /** the run's checkpoint, which a rollback resumes */
  ckpt: string;
  onNan: 'stop' | 'rollback';
  /** the run's learning rate and batch size (for the messages and the halving) */
  lr: number;
  batch: number;
  log: (s: string) => void;
  /** called before a stop or rollback is reported (e.g. to end a progress line) */
  interrupt?: () => void;
}

/** `attempt` run under the GAN policies above: rollbacks retried here, every other failure thrown */
export async function withGanPolicies<T>(attempt: (a: GanAttempt) => Promise<T>, p: GanPolicy): Promise<T> {
  let { resume, lrOverride, injectNanAtStep } = p;
  for (let tries = 0; ; tries++) {
    try {
      return await attempt({ resume, lrOverride, injectNanAtStep });
    } catch (e) {
      if (e instanceof GpuError && e.kind !== 'error') {
        p.interrupt?.();
        throw gpuStopped(e, p.ckpt, p.batch);
      }
      if (!(e instanceof NonFiniteError)) throw e;
      p.interrupt?.();
      injectNanAtStep = undefined; // the test hook fires once
      if (p.onNan === 'rollback' && tries < 3 && existsSync(p.ckpt)) {
        const lr = (lrOverride ?? p.lr) / 2;
        p.log(`${e.message}\nrolling back to ${p.ckpt} with learning rate ${lr} (try ${tries + 1} of 3)`);
        resume = p.ckpt;
        lrOverride = lr;
        continue;
      }
      throw nanStopped(e, p.ckpt, lrOverride ?? p.lr, ', or use --on-nan=rollback');
    }
  }
}
