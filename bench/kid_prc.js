// bench/kid_prc.js — times KID and precision/recall (src/eval/kid_prc.ts: one pass of float64 dot products over
// every pair of rows, host-side) and the classifier score (src/eval/isc.ts) at the evaluation's sizes: n generated
// against n real feature vectors of `dim` components (random Gaussians, the generated ones shifted; the time does
// not depend on the values). Times KID + precision/recall together (what `eval gan` runs), then each alone.
// Usage: node bench/kid_prc.js [--n 10000] [--dim 128] [--json FILE]   (plain node, after a build)
import { kidPrc, isc, Generator } from '../dist/index.js';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchArgs } from './args.js';

const A = benchArgs('bench/kid_prc.js', { n: { takes: '10000' }, dim: { takes: '128' }, json: { takes: 'FILE' } });
const n = A.int('n', 4, 10000),
  dim = A.int('dim', 4, 128);
const g = new Generator(1);
const real = g.normal(n * dim);
const generated = g.normal(n * dim).map((v, i) => v + (i % dim === 0 ? 0.5 : 0));
const logits = g.normal(n * 10, 0, 3);

const rows = [];
const time = (name, f) => {
  const t = performance.now();
  const r = f();
  const s = (performance.now() - t) / 1000;
  rows.push({ name, seconds: s });
  console.log(`${name.padEnd(28)} ${s.toFixed(2).padStart(8)} s   ${r}`);
};
const cpu = cpus()[0]?.model ?? '?';
console.log(`${n} generated vs ${n} real, ${dim}-d features, float64 on the host (${cpu}, one thread)`);
time('KID + precision/recall', () => {
  const r = kidPrc(generated, real, dim, { kid: {}, prc: {} });
  const k = `KID ${r.kid.mean.toExponential(3)} ± ${r.kid.std.toExponential(2)}`;
  return `${k}, P ${r.prc.precision.toFixed(4)}, R ${r.prc.recall.toFixed(4)}`;
});
time('KID alone', () => {
  const r = kidPrc(generated, real, dim, { kid: {}, prc: null });
  return `KID ${r.kid.mean.toExponential(3)}`;
});
time('precision/recall alone', () => {
  const r = kidPrc(generated, real, dim, { kid: null, prc: {} });
  return `P ${r.prc.precision.toFixed(4)}, R ${r.prc.recall.toFixed(4)}`;
});
time('classifier score (10 classes)', () => {
  const r = isc(logits, 10);
  return `${r.mean.toFixed(3)} ± ${r.std.toFixed(3)}`;
});
const file = A.str('json');
if (file) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpu, n, dim, rows }, null, 2));
}
