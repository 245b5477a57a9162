// scripts/gpu-features.mjs — what Dawn offers on this machine: for our own flags and again with Dawn's
// `allow_unsafe_apis` toggle, the adapter's info (every field, the subgroup-matrix configurations among them where
// Dawn reports any), its features, whether `shader-f16` is offered, and the limits that differ from the defaults.
// The GPU session runs it first (issue 22 (a)); it starts no device and takes a second.
// Usage: node scripts/gpu-features.mjs [--json FILE]
import { create, globals } from 'webgpu';
import { writeFileSync } from 'node:fs';
import { DAWN_FLAGS } from '../dist/index.js';

Object.assign(globalThis, globals);
if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
if (args.some((a) => a.startsWith('--') && a !== '--json') || (jsonAt >= 0 && !args[jsonAt + 1])) {
  console.error('usage: node scripts/gpu-features.mjs [--json FILE]');
  process.exit(2);
}

/** A WebGPU object's getters (they live on its prototype, so JSON.stringify sees none) as plain data. */
function plain(v, depth = 0) {
  if (v === null || typeof v !== 'object' || depth > 4) return typeof v === 'bigint' ? Number(v) : v;
  if (Array.isArray(v) || typeof v[Symbol.iterator] === 'function') return [...v].map((x) => plain(x, depth + 1));
  const o = {};
  for (let p = v; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor' || k in o) continue;
      let x;
      try {
        x = v[k];
      } catch {
        continue;
      }
      if (typeof x !== 'function') o[k] = plain(x, depth + 1);
    }
  }
  return o;
}

const seen = [];
for (const [name, flags] of [
  ['default', DAWN_FLAGS],
  ['allow_unsafe_apis', [...DAWN_FLAGS, 'enable-dawn-features=allow_unsafe_apis']],
]) {
  const row = { toggles: name, flags };
  try {
    const adapter = await create(flags).requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('no adapter');
    row.info = plain(adapter.info);
    row.features = [...adapter.features].sort();
    row.shaderF16 = adapter.features.has('shader-f16');
    row.subgroupMatrix = row.features.filter((f) => f.includes('subgroup-matrix'));
    row.limits = plain(adapter.limits);
  } catch (e) {
    row.error = String(e?.message ?? e);
  }
  seen.push(row);
  console.log(`== toggles: ${name} (${flags.join(' ')})`);
  if (row.error) {
    console.log(`error: ${row.error}`);
    continue;
  }
  console.log(`adapter: ${JSON.stringify(row.info)}`);
  console.log(`features (${row.features.length}): ${row.features.join(', ')}`);
  console.log(`shader-f16: ${row.shaderF16 ? 'offered' : 'not offered'}`);
  console.log(`subgroup-matrix features: ${row.subgroupMatrix.join(', ') || 'none'}`);
  const cfg = Object.entries(row.info).filter(([k]) => /matrix/i.test(k));
  console.log(
    `subgroup-matrix configurations: ${cfg.length ? JSON.stringify(Object.fromEntries(cfg)) : 'none reported'}`,
  );
}
const [a, b] = seen;
if (a.features && b.features) {
  const extra = b.features.filter((f) => !a.features.includes(f));
  console.log(`== only with allow_unsafe_apis: ${extra.join(', ') || 'nothing'}`);
}
if (jsonAt >= 0)
  writeFileSync(args[jsonAt + 1], JSON.stringify({ date: new Date().toISOString(), adapters: seen }, null, 2));
process.exit(0);
