// bench/kernels/measure.js — timing on the device and the two roofs a kernel is held against: the device's
// matmul rate (GFLOP/s of our tiled matmul on a large square product) and its copy bandwidth (GB/s of a plain
// vec4 copy kernel, bytes read + written), both measured in the same run as the kernels.

// ms per run of fn as a busy GPU runs it. A GPU lowers its clocks when idle: timed run by run with a wait between,
// the first GPU session (H200, 2026-12-01) read a 2.1-ms kernel as 11.5 ms. So on hardware adapters: fn once
// (pipelines compile), about WARM_MS of fn back to back, then `runs` batches of R back-to-back runs (about
// BATCH_MS each), each batch's GPU time (the sum of its dispatches' timestamps, else wall clock to the end of the
// submit) divided by R; the median batch counts. Software adapters (no clocks to raise, seconds per run) time run
// by run.
export function timer(gpu, runs) {
  const software = gpu.adapter.software;
  const WARM_MS = software ? 0 : 50,
    BATCH_MS = software ? 0 : 5;
  async function runsMs(fn, n) {
    if (gpu.canTime) {
      gpu.startProfile();
      for (let i = 0; i < n; i++) fn();
      return (await gpu.stopProfile()).reduce((t, p) => t + p.ms, 0);
    }
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    await gpu.sync();
    return performance.now() - t0;
  }
  return async function timeKernel(fn) {
    fn();
    await gpu.sync(); // warm-up (pipeline compile)
    let R = 1;
    if (!software) {
      const one = Math.max(await runsMs(fn, 1), 1e-3);
      await runsMs(fn, Math.min(256, Math.ceil(WARM_MS / one)));
      R = Math.min(64, Math.max(1, Math.ceil(BATCH_MS / one)));
    }
    const ms = [];
    for (let i = 0; i < runs; i++) ms.push((await runsMs(fn, R)) / R);
    ms.sort((a, b) => a - b);
    return ms[Math.floor(ms.length / 2)];
  };
}

/**
 * GFLOP/s of our matmul on square products: the best of n = 512 and 1024 on software adapters, 4096 and 8192 on
 * hardware ones (one size can sit badly with the tiles; the roof is the rate the device reaches)
 */
export async function matmulRate(E, be, gpu, timeKernel) {
  let best = { gflops: 0, what: '' };
  for (const n of gpu.adapter.software ? [512, 1024] : [4096, 8192]) {
    const gen = new E.Generator(5);
    const A = E.F.randomUniform(be, [n, n], gen),
      B = E.F.randomUniform(be, [n, n], gen);
    const ms = await timeKernel(() => E.F.matmul(A, B).dispose());
    A.dispose();
    B.dispose();
    const gflops = (2 * n ** 3) / ms / 1e6;
    if (gflops > best.gflops) best = { gflops, what: `matmul ${n}×${n}·${n}×${n}` };
  }
  return best;
}

const COPY_WGSL = `
struct P { n4: u32, nx: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn copy4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i < p.n4) { dst[i] = src[i]; }
}`;
const COPY = {
  file: 'bench/kernels/measure.js (copy bandwidth)',
  code: COPY_WGSL,
  entry: 'copy4',
  bindings: ['read', 'rw'],
};

/**
 * GB/s of a vec4 copy of MiB mebibytes (256 on hardware adapters, 32 on software ones): 2·bytes per run (read +
 * write). The copy is checked (every element) before it counts.
 */
export async function copyBandwidth(E, gpu, timeKernel) {
  const mib = gpu.adapter.software ? 32 : 256;
  const bytes = Math.min(mib * 2 ** 20, gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  const n4 = Math.floor(bytes / 16);
  const src = gpu.acquire(n4 * 16),
    dst = gpu.acquire(n4 * 16);
  const host = new Float32Array(n4 * 4);
  for (let i = 0; i < host.length; i++) host[i] = (i % 9973) - 4986.5;
  gpu.upload(src, host);
  const [gx, gy] = E.grid(Math.ceil(n4 / 256));
  const run = () => gpu.dispatch(COPY, [src, dst], (p) => p.u(n4, gx), [gx, gy]);
  run();
  const got = new Float32Array(await gpu.read(dst, n4 * 16));
  for (let i = 0; i < host.length; i++)
    if (got[i] !== host[i]) throw new Error(`copy-bandwidth kernel: element ${i} is ${got[i]}, not ${host[i]}`);
  const ms = await timeKernel(run);
  gpu.release(src);
  gpu.release(dst);
  return { gbps: (2 * n4 * 16) / ms / 1e6, what: `vec4 copy of ${((n4 * 16) / 2 ** 20).toFixed(0)} MiB` };
}

/**
 * Max relative error of got against want (|got − want| / max(|want|, 1e-2·max|want|)); a non-finite value where
 * the reference is finite (a poisoned element the kernel never wrote) is Infinity. Both non-finite and equal counts
 * as agreement (a reference that itself overflows).
 */
export function relErr(got, want) {
  let scale = 0;
  for (const v of want) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) return Infinity;
      continue;
    }
    e = Math.max(e, Math.abs(g - w) / Math.max(Math.abs(w), 1e-2 * scale, 1e-30));
  }
  return e;
}
