// bench/peers/slim.mjs — a copy of the installed peer (bench/peers/node_modules, 71 MB: every bundle of TF.js) with
// only what Node loads: TF.js's Node bundles (tfjs-core, its CPU backend, the WebGPU backend) and their small
// dependencies, about 3 MB. For machines the tree is carried to under a size limit (the GPU machine: carry
// bench/peers/slim, then `node bench/conv.js --peers bench/peers/slim`). Checks that TF.js loads from the copy.
// Usage: node bench/peers/slim.mjs [FROM (bench/peers)] [TO (bench/peers/slim)]
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const from = resolve(process.argv[2] ?? here), to = resolve(process.argv[3] ?? join(here, 'slim'));
const nm = join(from, 'node_modules');
if (!existsSync(join(nm, '@tensorflow/tfjs-backend-webgpu'))) {
  console.error(`error: no TF.js in ${nm}; first: cd bench/peers && npm install`);
  process.exit(1);
}
// the big packages: package.json and the Node bundle its "main" names; the small ones whole
const BUNDLED = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgpu'];
const WHOLE = ['seedrandom', 'long', 'node-fetch', 'whatwg-url', 'tr46', 'webidl-conversions'];
rmSync(to, { recursive: true, force: true });
for (const p of BUNDLED) {
  const pkg = JSON.parse(readFileSync(join(nm, p, 'package.json'), 'utf8'));
  mkdirSync(dirname(join(to, 'node_modules', p, pkg.main)), { recursive: true });
  cpSync(join(nm, p, 'package.json'), join(to, 'node_modules', p, 'package.json'));
  cpSync(join(nm, p, pkg.main), join(to, 'node_modules', p, pkg.main));
}
for (const p of WHOLE) {
  if (existsSync(join(nm, p))) cpSync(join(nm, p), join(to, 'node_modules', p), { recursive: true });
}
const about = { name: 'peers-slim', private: true, description: `made by bench/peers/slim.mjs from ${from}` };
writeFileSync(join(to, 'package.json'), JSON.stringify(about, null, 2));
// the bundles' requires resolve from the copy (no GPU needed: nothing is run)
const req = createRequire(join(to, 'package.json'));
for (const p of BUNDLED) req.resolve(p);
const tf = req('@tensorflow/tfjs-core');
console.log(`${to}: TF.js ${tf.version_core} (Node bundles of ${BUNDLED.join(', ')}; ${WHOLE.join(', ')})`);
