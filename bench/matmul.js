// bench/matmul.js — times the tiled WGSL matmul (wgsl/matmul.wgsl) on square and seed-model shapes.
// For each shape: median ms over timed batches (R dispatches recorded into one submit, then a wait, divided by
// R), GFLOP/s (2·M·N·K per product), and the max relative error of the GPU result against the float64 CPU
// reference on sampled output elements. Runs with plain `node bench/matmul.js` right after `npm ci`.
// Flags: --quick (small set, for lavapipe), --json FILE, --shapes 512x512x512,64x1152x128 (M x K x N).
import { nodeGpu, releaseNodeGpu, GpuBackend, Tensor, F, Generator, describeGpu } from '../dist/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchArgs } from './args.js';

const A = benchArgs('bench/matmul.js', { quick: {}, json: { takes: 'FILE' }, shapes: { takes: 'MxKxN,...' } });
// [name, M, K, N] from --shapes, before the GPU starts (else the default set below)
let shapes = A.str('shapes')
  ?.split(',')
  .map((s) => {
    const [m, k, n, ...rest] = s.split('x').map(Number);
    if (rest.length || ![m, k, n].every((d) => Number.isInteger(d) && d >= 1))
      A.fail(`--shapes takes MxKxN,... (positive integers), got '${s}'`);
    return [`${m}×${k}×${n}`, m, k, n];
  });

const gpu = await nodeGpu();
const be = new GpuBackend(gpu);
const software = gpu.adapter.software;
const quick = A.has('quick');

// [name, M, K, N]
const SEED_SHAPES = [
  ['cnn dense 1152→128 (b64)', 64, 1152, 128],
  ['cnn dense 128→10 (b64)', 64, 128, 10],
  ['acgan G noise dense 100→18816 (b64)', 64, 100, 18816],
  ['acgan D head 12544→11 (b64)', 64, 12544, 11],
  ['acgan D head grad dW 12544×64·64×11', 12544, 64, 11],
];
if (!shapes) {
  const squares = quick || software ? [128, 256, 512, 1024] : [256, 512, 1024, 2048, 4096];
  shapes = [...squares.map((s) => [`square ${s}³`, s, s, s]), ...(quick ? SEED_SHAPES.slice(0, 2) : SEED_SHAPES)];
}

function cpuSample(a, b, _M, K, N, idx) {
  return idx.map(([i, j]) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
    return s;
  });
}

const rows = [];
for (const [name, M, K, N] of shapes) {
  const gen = new Generator(M * 7 + N);
  const ah = Float32Array.from(gen.uniform(M * K), (v) => v * 2 - 1);
  const bh = Float32Array.from(gen.uniform(K * N), (v) => v * 2 - 1);
  const A = Tensor.from(be, ah, [M, K]);
  const B = Tensor.from(be, bh, [K, N]);
  const flops = 2 * M * N * K;
  // repetitions per timed batch: aim for ~50 ms of GPU work at a guessed rate, at least 1
  const guess = software ? 3e9 : 1e13;
  const R = Math.max(1, Math.min(200, Math.round((0.05 * guess) / flops)));
  const run = () => {
    for (let r = 0; r < R; r++) F.matmul(A, B).dispose();
  };
  run();
  await gpu.sync(); // warm-up: pipeline compile
  const times = [];
  const batches = software ? 3 : 7;
  for (let t = 0; t < batches; t++) {
    const t0 = performance.now();
    run();
    await gpu.sync();
    times.push((performance.now() - t0) / R);
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)];
  // error vs the float64 reference on up to 256 sampled outputs
  const C = F.matmul(A, B);
  const got = await C.toArray();
  C.dispose();
  const idx = [];
  const pick = new Generator(1).uniform(512);
  for (let s = 0; s < Math.min(256, M * N); s++)
    idx.push([Math.floor(pick[2 * s] * M), Math.floor(pick[2 * s + 1] * N)]);
  const want = cpuSample(ah, bh, M, K, N, idx);
  const scale = Math.max(...want.map(Math.abs), 1e-30);
  let err = 0;
  idx.forEach(
    ([i, j], s) =>
      (err = Math.max(err, Math.abs(got[i * N + j] - want[s]) / Math.max(Math.abs(want[s]), 1e-2 * scale))),
  );
  rows.push({ name, M, K, N, ms, gflops: flops / ms / 1e6, maxRelErr: err, reps: R });
  A.dispose();
  B.dispose();
}

const device = describeGpu(gpu);
console.log(`matmul on ${device} — ${new Date().toISOString().slice(0, 10)}`);
console.log('| shape | M×K×N | ms | GFLOP/s | max rel err vs f64 |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.M}×${r.K}×${r.N} | ${r.ms.toFixed(3)} | ${r.gflops.toFixed(1)} | ${r.maxRelErr.toExponential(1)} |`,
  );
const json = A.str('json');
if (json) mkdirSync(dirname(json), { recursive: true });
if (json)
  writeFileSync(
    json,
    JSON.stringify(
      {
        bench: 'matmul',
        device,
        adapter: gpu.adapter,
        date: new Date().toISOString(),
        method: 'median of batches; R dispatches per submit, wall clock / R',
        rows,
      },
      null,
      2,
    ),
  );
releaseNodeGpu(gpu);
