// scripts/ckpt-weights.mjs — a GAN checkpoint's tensors for sampling and evaluation only (D.*, G_ema.*, and G.* of
// the generator's own weights where there is no average), Adam's state dropped, metadata kept: what a GPU session
// brings back under the device tool's size limit. Usage: node scripts/ckpt-weights.mjs IN OUT
import { readFileSync, writeFileSync } from 'node:fs';
const [inp, outp] = process.argv.slice(2);
if (!inp || !outp) { console.error('usage: node scripts/ckpt-weights.mjs IN OUT'); process.exit(2); }
const b = readFileSync(inp);
const n = Number(b.readBigUInt64LE(0));
const h = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
const hasEma = Object.keys(h).some((k) => k.startsWith('G_ema.'));
const keep = (k) => k === '__metadata__' || /^D\.(?!.*\badam\b)/.test(k) || k.startsWith('G_ema.') ||
  (!hasEma && /^G\./.test(k));
const out = {}; const parts = []; let off = 0;
for (const [k, v] of Object.entries(h)) {
  if (!keep(k)) continue;
  if (k === '__metadata__') { out[k] = v; continue; }
  const d = b.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]);
  out[k] = { ...v, data_offsets: [off, off + d.length] }; parts.push(d); off += d.length;
}
let hs = Buffer.from(JSON.stringify(out)); const pad = (8 - (hs.length % 8)) % 8;
hs = Buffer.concat([hs, Buffer.alloc(pad, 0x20)]);
const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(hs.length));
writeFileSync(outp, Buffer.concat([len, hs, ...parts]));
console.log(`${outp}: ${Object.keys(out).length - 1} tensors, ${(off / 2 ** 20).toFixed(1)} MiB`);
