// train/guard.ts — detecting a run that has gone non-finite: the error type and the scan that names the first
// parameter holding a NaN or ±Inf (one readback for all of them). Shared by the GAN and CNN training loops.
import { type Tensor, noGrad, tidy } from '../autograd/tensor.js';
import * as F from '../autograd/ops.js';

/** a loss or parameter stopped being a finite number */
export class NonFiniteError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

/** the name of the first tensor (in the given order) holding a NaN or ±Inf, or null */
export async function firstNonFinite(named: readonly (readonly [string, Tensor])[]): Promise<string | null> {
  if (!named.length) return null;
  const sums = noGrad(() =>
    tidy(() =>
      F.concat(
        named.map(([, p]) => F.reshape(F.sum(F.abs(p)), [1])),
        0,
      ),
    ),
  );
  const v = await sums.toArray();
  sums.dispose();
  const i = v.findIndex((x) => !Number.isFinite(x));
  return i < 0 ? null : named[i][0];
}

export const SPREAD_NOTE = 'in model order; Adam spreads a NaN to every weight within a step or two';
