// adam.ts — dispatch of wgsl/adam.wgsl: the fused in-place Adam/AdamW step of one tensor (adam) or of every
// tensor of an optimizer's arenas at once (adamMulti, with a table of per-workgroup runs uploaded once per set of
// slots).
import src from '../../wgsl/adam.wgsl';
import type { AdamHyper, ArenaSlot } from '../autograd/backend.js';
import { type Gpu, type GBuf, type Kernel, type Params, grid } from './gpu.js';

const FILE = 'wgsl/adam.wgsl';
const K: Kernel = { file: FILE, code: src, entry: 'adam', bindings: ['read', 'rw', 'rw', 'rw'] };
const MULTI: Kernel = { file: FILE, code: src, entry: 'adam_multi', bindings: ['read', 'rw', 'rw', 'rw', 'read'] };

/** the uniform block P in field order (n: adam's elements; groups: adam_multi's workgroups = table rows) */
function params(p: Params, h: AdamHyper, n: number, nx: number, groups: number): void {
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  p.u(n, nx, h.decoupled ? 1 : 0, groups).f(
    h.beta1,
    h.beta2,
    1 - h.beta1,
    1 - h.beta2,
    h.eps,
    h.weightDecay,
    h.lr * h.weightDecay,
    h.lr / bc1,
    1 / Math.sqrt(bc2),
  );
}

export function adam(gpu: Gpu, param: GBuf, grad: GBuf, m: GBuf, v: GBuf, n: number, h: AdamHyper): void {
  const [gx, gy] = grid(Math.ceil(n / 256));
  gpu.dispatch(K, [grad, param, m, v], (p) => params(p, h, n, gx, 0), [gx, gy]);
}

interface Table {
  buf: GBuf;
  groups: number;
}
/** per GPU context: tables by slot list, least recently used first (a training loop needs one or two) */
const tables = new WeakMap<Gpu, Map<string, Table>>();
const MAX_TABLES = 32;

function tableFor(gpu: Gpu, slots: readonly ArenaSlot[]): Table {
  let cache = tables.get(gpu);
  if (!cache) tables.set(gpu, (cache = new Map()));
  const key = slots.map((s) => `${s.offset}:${s.n}`).join(',');
  let t = cache.get(key);
  if (t) {
    cache.delete(key);
    cache.set(key, t);
    return t;
  }
  const groups = slots.reduce((a, s) => a + Math.ceil(s.n / 256), 0);
  const rows = new Uint32Array(2 * groups);
  let w = 0;
  slots.forEach((s, k) => {
    if (s.offset % 64)
      throw new Error(`adamMulti: slot ${k} starts at element ${s.offset}, not a multiple of 64 (256 bytes)`);
    for (let t = 0; t < s.n; t += 256, w++) rows.set([s.offset + t, Math.min(256, s.n - t)], 2 * w);
  });
  const buf = gpu.acquire(rows.byteLength);
  gpu.upload(buf, rows);
  t = { buf, groups };
  cache.set(key, t);
  if (cache.size > MAX_TABLES) {
    const [oldKey, old] = cache.entries().next().value!;
    cache.delete(oldKey);
    gpu.release(old.buf); // reuse is ordered after the dispatches recorded with it (buffer_pool.ts)
  }
  return t;
}

/** one Adam/AdamW step of every slot in `slots` (element offsets and lengths, the same in all four arenas) */
export function adamMulti(
  gpu: Gpu,
  param: GBuf,
  grad: GBuf,
  m: GBuf,
  v: GBuf,
  slots: readonly ArenaSlot[],
  h: AdamHyper,
): void {
  const live = slots.filter((s) => s.n > 0);
  if (!live.length) return;
  const t = tableFor(gpu, live);
  const [gx, gy] = grid(t.groups);
  gpu.dispatch(MULTI, [grad, param, m, v, t.buf], (p) => params(p, h, 0, gx, t.groups), [gx, gy]);
}
