// scripts/ship-gan.mjs — the shipped file of a GAN run's checkpoint (the generator's weight average and D, weights
// only, large ones as F16; src/gan/load.ts shipGanBytes) and its .sha256, without evaluating it: what a GPU session
// brings back (a full checkpoint is ~66 MB, over what a device call returns). `npm run eval -- gan --checkpoint IN
// --ship OUT` does the same and then evaluates OUT. Usage: node scripts/ship-gan.mjs IN OUT
import { shipGan } from '../dist/index.js';

const [from, out] = process.argv.slice(2);
if (!from || !out || process.argv.length > 4) {
  console.error("usage: node scripts/ship-gan.mjs IN OUT   (IN: a GAN run's checkpoint.safetensors)");
  process.exit(2);
}
try {
  console.log(`${out}: SHA-256 ${shipGan(from, out)} (from ${from})`);
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
