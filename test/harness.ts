// harness.ts — shared test helpers: the GPU context (poisoned outputs), seeded random inputs, the comparison
// rules, temporary directories, and `checkOp`, which runs one op three ways: the CPU reference's backward against
// central finite differences (float64), and the GPU forward and backward against the CPU reference (float32
// tolerance).
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuBackend } from '../src/cpu/backend.js';
import { GpuBackend } from '../src/kernels/backend.js';
import { nodeGpu, releaseNodeGpu } from '../src/node/gpu.js';
import type { Gpu } from '../src/kernels/gpu.js';
import { Tensor, noGrad, tidy } from '../src/autograd/tensor.js';
import type { Backend, DType, Store } from '../src/autograd/backend.js';
import { Generator } from '../src/autograd/random.js';

export const cpu = new CpuBackend();

let gpuPromise: Promise<GpuBackend> | null = null;
/** the shared GPU backend; every buffer it hands out is filled with NaN first */
export function gpuBackend(): Promise<GpuBackend> {
  if (!gpuPromise)
    gpuPromise = nodeGpu().then((g: Gpu) => {
      g.poison = true;
      return new GpuBackend(g);
    });
  return gpuPromise;
}
(globalThis as { __engineTestHarness?: unknown }).__engineTestHarness = {
  async teardown() {
    if (gpuPromise) releaseNodeGpu((await gpuPromise).gpu);
  },
};

/** seeded inputs in [lo, hi), optionally kept away from 0 by `gap` (for kinks such as relu) */
export function randomData(n: number, seed: number, lo = -1, hi = 1, gap = 0): Float64Array {
  const g = new Generator(seed);
  const u = g.uniform(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = lo + (hi - lo) * u[i];
    if (gap > 0 && Math.abs(v) < gap) v = v < 0 ? -gap - Math.abs(v) : gap + v;
    out[i] = v;
  }
  return out;
}
/** round to float32 so the CPU reference and the GPU start from identical inputs */
export const toF32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a));

/**
 * `body` with a fresh directory under the OS temp dir, removed afterwards whatever happens (kept with KEEP_TMP=1, to
 * look at)
 */
export async function withTempDir<T>(prefix: string, body: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    if (!process.env.KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * max over elements of |got − want| / max(|want|, floor·max|want|, 1e-30): relative error with a floor that keeps
 * cancellation noise near zero from dominating. NaN anywhere (a poisoned, unwritten element) gives Infinity.
 */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-2): number {
  if (got.length !== want.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    const r = d / Math.max(Math.abs(want[i]), floor * scale, 1e-30);
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
  }
  return worst;
}

export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const e = relError(got, want);
  if (!(e <= tol)) {
    let at = 0;
    for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= Math.abs(got[at] - want[at]))) at = i;
    assert.unreachable(
      `${what}: relative error ${e.toExponential(2)} > ${tol} (e.g. [${at}] got ${got[at]} want ${want[at]})`,
    );
  }
}

export interface InputSpec {
  shape: number[];
  dtype?: DType;
  /** custom data (e.g. labels); default uniform in [-1, 1) */
  data?: ArrayLike<number>;
  lo?: number;
  hi?: number;
  gap?: number;
  /** differentiate with respect to this input (default: f32 inputs) */
  grad?: boolean;
}

export interface OpCheck {
  name: string;
  inputs: InputSpec[];
  fn: (xs: Tensor[], be: Backend) => Tensor;
  /** tolerance for GPU vs CPU (default 1e-4) */
  tol?: number;
  /** tolerance for CPU backward vs finite differences (default 1e-6) */
  fdTol?: number;
  seed?: number;
  /** at most this many elements per input are checked by finite differences */
  fdSamples?: number;
  skipFd?: boolean;
  skipGpu?: boolean;
}

function makeInputs(be: Backend, c: OpCheck, data: Float64Array[][]): Tensor[] {
  return c.inputs.map((s, i) => {
    const t = Tensor.from(be, data[i][0], s.shape, s.dtype ?? 'f32');
    if (s.grad ?? (s.dtype ?? 'f32') === 'f32') t.requiresGrad = true;
    return t;
  });
}

/** forward and backward on one backend: [output, grads per input (null where none)] */
async function runOn(be: Backend, c: OpCheck, data: Float64Array[][], gOut: (n: number) => Float64Array) {
  const xs = makeInputs(be, c, data);
  let gcount = 0;
  const res = tidy(() => {
    const y = c.fn(xs, be);
    const g = gOut(y.size);
    if (y.requiresGrad) {
      const gt = Tensor.from(be, Float32Array.from(g), y.shape);
      y.backward(gt);
      gcount++;
    }
    return y;
  });
  const out = await res.toArray();
  const grads = await Promise.all(xs.map((x) => (x.grad ? x.grad.toArray() : Promise.resolve(null))));
  res.dispose();
  for (const x of xs) {
    x.grad?.dispose();
    x.dispose();
  }
  return { out, grads, gcount, shape: res.shape };
}

/** Σ_i gOut_i · f(x)_i evaluated in float64 on the CPU */
function cpuObjective(c: OpCheck, data: Float64Array[][], g: Float64Array): number {
  const y = noGrad(() => {
    const xs = c.inputs.map((s, i) => Tensor.from(cpu, data[i][0], s.shape, s.dtype ?? 'f32'));
    return c.fn(xs, cpu);
  });
  const v = y.store as Float64Array;
  let s = 0;
  for (let i = 0; i < y.size; i++) s += g[i] * v[i];
  return s;
}

export async function checkOp(c: OpCheck): Promise<void> {
  const seed = c.seed ?? 1;
  const data: Float64Array[][] = c.inputs.map((s, i) => {
    const n = s.shape.reduce((a, d) => a * d, 1);
    return [
      s.data ? Float64Array.from(s.data) : toF32(randomData(n, seed * 1000 + i, s.lo ?? -1, s.hi ?? 1, s.gap ?? 0)),
    ];
  });
  const gOut = (n: number) => toF32(randomData(n, seed * 1000 + 999, -1, 1));
  const ref = await runOn(cpu, c, data, gOut);

  // 1. CPU reference backward vs central finite differences (float64)
  if (!c.skipFd && ref.gcount) {
    const g = gOut(ref.out.length);
    // fourth-order central differences, f' ≈ [8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))] / 12h: truncation ~h⁴,
    // rounding ~ε·|f|/h, so h = 1e-3·max(1, |x|) keeps both near 1e-12 (inputs stay 1e-2 away from kinks)
    c.inputs.forEach((_s, k) => {
      const gk = ref.grads[k];
      if (!gk) return;
      const n = data[k][0].length;
      const samples = Math.min(n, c.fdSamples ?? 64);
      const idx = samples === n ? [...Array(n).keys()] : [...new Generator(seed + k).permutation(n)].slice(0, samples);
      const num: number[] = [],
        ana: number[] = [];
      for (const i of idx) {
        const x0 = data[k][0][i];
        const h = 1e-3 * Math.max(1, Math.abs(x0));
        const at = (d: number) => {
          data[k][0][i] = x0 + d;
          return cpuObjective(c, data, g);
        };
        const f1 = at(h) - at(-h);
        const f2 = at(2 * h) - at(-2 * h);
        data[k][0][i] = x0;
        num.push((8 * f1 - f2) / (12 * h));
        ana.push(gk[i]);
      }
      assertClose(ana, num, c.fdTol ?? 1e-6, `${c.name}: CPU backward vs finite differences, input ${k}`);
    });
  }

  // 2. GPU forward and backward vs the CPU reference
  if (!c.skipGpu) {
    const gpu = await gpuBackend();
    const got = await runOn(gpu, c, data, gOut);
    assert.equal(got.shape, ref.shape, `${c.name}: output shape`);
    assertClose(got.out, ref.out, c.tol ?? 1e-4, `${c.name}: GPU forward vs CPU`);
    c.inputs.forEach((_, k) => {
      const want = ref.grads[k];
      if (!want) return;
      const have = got.grads[k];
      assert.ok(have, `${c.name}: GPU gradient of input ${k} missing`);
      assertClose(have!, want, c.tol ?? 1e-4, `${c.name}: GPU gradient of input ${k} vs CPU`);
    });
  }
}

/**
 * the first seed whose default checkOp inputs (uniform in [−1, 1), f32-rounded) keep every value of `pre` at least
 * `margin` away from 0: finite differences (step 1e-3) then never cross a relu/leaky_relu kink. Searched, so the
 * guarantee survives changes to the random number generator.
 */
export function seedClearingKinks(shapes: number[][], pre: (xs: Tensor[]) => Tensor, margin = 0.01): number {
  for (let seed = 1; seed < 1000; seed++) {
    const xs = shapes.map((shape, i) =>
      Tensor.from(
        cpu,
        toF32(
          randomData(
            shape.reduce((a, b) => a * b, 1),
            seed * 1000 + i,
          ),
        ),
        shape,
      ),
    );
    const y = noGrad(() => pre(xs));
    if ((y.store as Float64Array).every((v) => Math.abs(v) > margin)) return seed;
  }
  throw new Error('no seed keeps the pre-activations away from 0');
}

/**
 * A primitive's accumulate mode: `run(be, out, accumulate)` records it into `out` (n f32 values on `be`, holding
 * seeded values first). The CPU reference's accumulated result equals its plain result added to those values
 * exactly; the GPU's equals the CPU's within `tol`.
 */
export async function checkAccumulate(
  what: string,
  n: number,
  run: (be: Backend, out: Store, accumulate: boolean) => void,
  tol = 1e-4,
): Promise<void> {
  const init = toF32(randomData(n, 4242, -2, 2));
  const plain = cpu.alloc(n, 'f32') as Float64Array;
  run(cpu, plain, false);
  const want = cpu.upload(init, 'f32') as Float64Array;
  run(cpu, want, true);
  want.forEach((v, i) =>
    assert.ok(v === init[i] + plain[i], `${what}: CPU accumulate [${i}] ${v} ≠ ${init[i]} + ${plain[i]}`),
  );
  const g = await gpuBackend();
  const out = Tensor.from(g, init, [n]);
  run(g, out.store, true);
  assertClose(await out.toArray(), want, tol, `${what}: GPU accumulate vs CPU`);
  out.dispose();
}
