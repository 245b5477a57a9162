// bench/kernels/replay.js — a traced call made again on a real backend: fresh storage for each of its buffers
// (seeded host data, the same on the GPU and the CPU reference; outputs poisoned with NaN before a checked run, so
// an element the kernel never writes fails the comparison), the call's other arguments as the step passed them,
// and, for batchnorm, the two ways its statistics and gradient can run (a workgroup per channel, or sliced).
import { SPECS } from './catalog.js';

/** host data for each buffer of a call (deterministic in seed; loops, as typed-array .from with a map is slow) */
export function hostData(E, bufs, seed) {
  const gen = new E.Generator(seed);
  return bufs.map((b) => {
    const u = gen.uniform(b.n);
    const out = b.dtype === 'i32' ? new Int32Array(b.n) : new Float32Array(b.n);
    const V = b.init.startsWith('index:') ? Number(b.init.slice(6)) : 256;
    for (let i = 0; i < b.n; i++) {
      const v = u[i];
      out[i] =
        b.dtype === 'i32'
          ? Math.min(V - 1, Math.floor(v * V))
          : b.init === 'positive'
            ? 0.5 + v
            : b.init === 'binary'
              ? v < 0.5
                ? 0
                : 1
              : 2 * v - 1;
    }
    return out;
  });
}

/** args with the stores put in at their paths (objects and arrays holding a store are copied, not changed) */
function withStores(args, bufs, stores) {
  const out = [...args];
  bufs.forEach((b, k) => {
    if (typeof b.path === 'number') out[b.path] = stores[k];
    else {
      // out[i] is already a copy when an earlier buffer had a key in it (concat's parts), so keys add up
      const [i, key] = b.path;
      out[i] = Array.isArray(out[i])
        ? out[i].map((v, j) => (j === key ? stores[k] : v))
        : { ...out[i], [key]: stores[k] };
    }
  });
  return out;
}

/**
 * A call's buffers on backend `be`: uploaded from host data; with `poison`, outputs filled with NaN instead.
 * Returns { args, read(k), free() }.
 */
export function materialize(be, method, args, host, { poison = false } = {}) {
  const bufs = SPECS[method].bufs(args);
  const stores = bufs.map((b, k) => (poison && b.io === 'out' ? be.alloc(b.n, b.dtype) : be.upload(host[k], b.dtype)));
  if (poison) bufs.forEach((b, k) => b.io === 'out' && be.fill(stores[k], b.n, NaN));
  return {
    bufs,
    args: withStores(args, bufs, stores),
    /** every output (io out or inout), in buffer order */
    outputs: async () => Promise.all(bufs.map((b, k) => (b.io === 'in' ? null : be.read(stores[k], b.n, b.dtype)))),
    free: () => stores.forEach((s) => be.free(s)),
  };
}

// ------------------------------------------------------------------ batchnorm's variants (GPU only)
/** positional arguments of each sliceable method before the kernel function's own extra ones */
const ARITY = { batchnormStats: 4, batchnormStatsRunning: 7, batchnormGrad: 13 };
const bnDims = (method, a) => a[{ batchnormStats: 3, batchnormStatsRunning: 5, batchnormGrad: 8 }[method]];

/** slices the sliced variant uses: what the backend picks here, else the hardware rule's count (at least 2) */
function slicedCount(bn, gpu, d) {
  const rule = bn.batchnormSlices(gpu, d);
  if (rule > 1) return rule;
  const G = d.groups ?? 1,
    M = (d.N / G) * d.L;
  return Math.max(2, Math.min(64, Math.ceil(264 / (d.C * G)), Math.floor(M / 4096), M));
}

/**
 * The ways a call can run on the GPU: [{ variant, picked, run(args) }]. Batchnorm's statistics and gradient have
 * 'plain' (a workgroup per channel) and 'sliced ×S'; picked: the one the backend itself takes on this device.
 * Everything else has one way, the backend's.
 */
export function variantsOf(E, be, method, traceArgs) {
  const gpu = be.gpu;
  if (!(method in ARITY)) return [{ variant: '', picked: true, run: (a) => be[method](...a) }];
  const bn = E.batchnormKernels;
  const d = bnDims(method, traceArgs);
  const gradOk = method !== 'batchnormGrad' || gpu.limits.maxStorageBuffersPerShaderStage >= 9;
  const pickedSlices = gradOk ? bn.batchnormSlices(gpu, d) : 1;
  const S = slicedCount(bn, gpu, d);
  const call = (slices) => (a) => {
    const pos = Array.from({ length: ARITY[method] }, (_, i) => a[i]);
    // batchnormGrad's acc and through may be absent from the call; then its `fuse` (default) and slices
    if (method === 'batchnormGrad')
      return bn.batchnormGrad(gpu, ...pos.slice(0, 11), pos[11] ?? {}, pos[12] ?? null, undefined, slices);
    return bn[method](gpu, ...pos, slices);
  };
  const out = [{ variant: 'plain', picked: pickedSlices <= 1, run: call(1) }];
  if (gradOk) out.push({ variant: `sliced ×${S}`, picked: pickedSlices > 1, run: call(S) });
  return out;
}
