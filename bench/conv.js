// bench/conv.js — profiles the convolution kernels (wgsl/conv2d.wgsl) on every conv layer shape of the seed
// models, at batch 64 and 256 (and a channel sweep): forward, input gradient, weight gradient and all three
// together. Per row: median ms (GPU timestamp queries where the adapter has them, else wall clock around a submit
// and wait; on GPUs in batches of back-to-back runs after a warm-up, see timeKernel), GFLOP/s (useful FLOPs:
// 2·N·K·P·Q·C·R·S per kernel), % of this device's measured matmul rate, speed-up over the float64 CPU reference
// (timed on one image, scaled by the batch: convolution is linear in N), and the max relative error against the
// CPU reference (the same kernels run at batch 2).
// `--tiles` runs a sweep instead of that table: each kernel of each layer timed under every GEMM tile the conv
// kernel has (forced through convKernels' variant), beside the tile the op picks by shape — the data for choosing
// tiles on a new device (the tiles' correctness is the conv2d tests' job).
// On hardware adapters the table uses the tiles that training timed and cached on this device (node/tile_cache.ts;
// e.g. by bench/train-step.js run first), where there are any, as training does (`--tune off`: pickTile's rule).
// Usage: node bench/conv.js [--quick] [--tiles] [--op conv2d|convTranspose2d] [--batch 64,256] [--tune auto|on|off] [--json FILE]
import { nodeGpu, releaseNodeGpu, GpuBackend, CpuBackend, Tensor, F, Generator, describeGpu, convKernels, loadTileCache, tileCachePath, tileName, tuneModeOf, tunesOn } from '../dist/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// ------------------------------------------------------------------ the shapes (seed models, NCHW)
// [model, layer, op, C_in, H, W, C_out, k, stride, padding]
const SEED_LAYERS = [
  ['cnn', 'conv1 28×28 1→32', 'conv2d', 1, 28, 28, 32, 3, 1, 'same'],
  ['cnn', 'conv2 28×28 32→32', 'conv2d', 32, 28, 28, 32, 3, 1, 'same'],
  ['cnn', 'conv3 14×14 32→64', 'conv2d', 32, 14, 14, 64, 3, 1, 'same'],
  ['cnn', 'conv4 14×14 64→64', 'conv2d', 64, 14, 14, 64, 3, 1, 'same'],
  ['cnn', 'conv5 7×7 64→128', 'conv2d', 64, 7, 7, 128, 3, 1, 'same'],
  ['cnn', 'conv6 7×7 128→128', 'conv2d', 128, 7, 7, 128, 3, 1, 'same'],
  ['acgan D', 'conv1 28×28 1→32 s2', 'conv2d', 1, 28, 28, 32, 3, 2, 'same'],
  ['acgan D', 'conv2 14×14 32→64', 'conv2d', 32, 14, 14, 64, 3, 1, 'same'],
  ['acgan D', 'conv3 14×14 64→128 s2', 'conv2d', 64, 14, 14, 128, 3, 2, 'same'],
  ['acgan D', 'conv4 7×7 128→256', 'conv2d', 128, 7, 7, 256, 3, 1, 'same'],
  ['acgan G', 'convT 7×7→14×14 385→192 k5 s2', 'convTranspose2d', 385, 7, 7, 192, 5, 2, 'same'],
  ['acgan G', 'convT 14×14→28×28 192→1 k5 s2', 'convTranspose2d', 192, 14, 14, 1, 5, 2, 'same'],
];
const SWEEP = [16, 32, 64, 128, 256].map((c) => ['sweep', `conv 14×14 ${c}→${c}`, 'conv2d', c, 14, 14, c, 3, 1, 'same']);
// TF.js WebGPU on the same H100 and Dawn, batch 64, forward + both gradients (ms), from ../shared/webgpu-facts.md
const TFJS_MS = { 'conv2 28×28 32→32': 21.5, 'conv6 7×7 128→128': 7.4, 'conv3 14×14 64→128 s2': 6.8, 'convT 7×7→14×14 385→192 k5 s2': 43.9 };

// ------------------------------------------------------------------ flags
const args = process.argv.slice(2);
const KNOWN = ['--quick', '--tiles', '--op', '--batch', '--tune', '--json', '--help'];
for (let i = 0; i < args.length; i++) {
  if (!args[i].startsWith('--')) continue;
  if (!KNOWN.includes(args[i])) {
    console.error(`error: unknown flag ${args[i]} (flags: ${KNOWN.join(', ')})`);
    process.exit(2);
  }
}
if (args.includes('--help')) {
  console.log('usage: node bench/conv.js [--quick] [--tiles] [--op conv2d|convTranspose2d] [--batch 64,256] [--tune auto|on|off] [--json FILE]');
  process.exit(0);
}
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`error: --${name} needs a value`);
    process.exit(2);
  }
  return v;
};
const quick = args.includes('--quick');
const opFilter = flag('op');
if (opFilter && !['conv2d', 'convTranspose2d'].includes(opFilter)) {
  console.error(`error: --op must be conv2d or convTranspose2d, got '${opFilter}'`);
  process.exit(2);
}

// --tune, else $FMNIST_TUNE, else auto (a bad word: its error, exit 2)
const tuneMode = (() => {
  try { return tuneModeOf(flag('tune'), process.env.FMNIST_TUNE); } catch (e) { console.error(`error: ${e.message}`); process.exit(2); }
})();
const gpu = await nodeGpu();
const be = new GpuBackend(gpu);
const cpu = new CpuBackend();
const software = gpu.adapter.software;
// the tiles training timed on this device, where the mode would have training time them (this benchmark times none
// itself; the --tiles sweep forces each tile)
const cachedTiles = tunesOn(gpu, tuneMode) && !args.includes('--tiles') ? loadTileCache(gpu) : { loaded: 0 };
if (cachedTiles.problem) console.error(cachedTiles.problem);
const batchFlag = flag('batch');
const batches = batchFlag ? batchFlag.split(',').map(Number) : quick ? [software ? 4 : 64] : [64, 256];
if (batches.some((b) => !(Number.isInteger(b) && b > 0))) {
  console.error(`error: --batch takes positive integers, got '${batchFlag}'`);
  process.exit(2);
}
const layers = [...SEED_LAYERS, ...(quick ? [] : SWEEP)].filter((l) => !opFilter || l[2] === opFilter);
const timedRuns = quick || software ? 3 : 9;

// ------------------------------------------------------------------ helpers
function dimsOf(l, N) {
  const [, , op, C, H, W, K, k, s, pad] = l;
  return op === 'conv2d'
    ? { op, xs: [N, C, H, W], ws: [K, C, k, k], d: F.convDims([N, C, H, W], [K, C, k, k], { stride: s, padding: pad }), opts: { stride: s, padding: pad } }
    : { op, xs: [N, C, H, W], ws: [C, K, k, k], d: F.convTransposeDims([N, C, H, W], [C, K, k, k], { stride: s, padding: pad }), opts: { stride: s, padding: pad } };
}
/** the three kernels of a layer as closures over backend stores: forward, input gradient, weight gradient */
function kernelsOf(b, op, d, x, w, y, gy, gx, gw) {
  return op === 'conv2d'
    ? {
        forward: () => b.conv2d(x, w, null, y, d, 'none', 0),
        gradInput: () => b.conv2dGradInput(gy, w, gx, d, null, 'none', 0),
        gradWeight: () => b.conv2dGradWeight(x, gy, gw, d),
      }
    : {
        // transposed conv: x is the conv's "gy" side, y its "x" side
        forward: () => b.conv2dGradInput(x, w, y, d, null, 'none', 0),
        gradInput: () => b.conv2d(gy, w, null, gx, d, 'none', 0),
        gradWeight: () => b.conv2dGradWeight(gy, x, gw, d),
      };
}
function buffersOf(b, op, d, gen) {
  const xN = op === 'conv2d' ? d.N * d.C * d.H * d.W : d.N * d.K * d.P * d.Q;
  const yN = op === 'conv2d' ? d.N * d.K * d.P * d.Q : d.N * d.C * d.H * d.W;
  const wN = d.K * d.C * d.R * d.S;
  const up = (n) => b.upload(Float32Array.from(gen.uniform(n), (v) => v * 2 - 1), 'f32');
  return { x: up(xN), w: up(wN), y: b.alloc(yN, 'f32'), gy: up(yN), gx: b.alloc(xN, 'f32'), gw: b.alloc(wN, 'f32'), xN, yN, wN };
}
// ms per run of fn as a busy GPU runs it. A GPU lowers its clocks when idle: timed run by run with a wait between,
// the first GPU session (H200, 2026-12-01) read a 2.1-ms kernel as 11.5 ms. So on hardware adapters: fn once
// (pipelines compile), about WARM_MS of fn back to back, then `timedRuns` batches of R back-to-back runs (about
// BATCH_MS each), each batch's GPU time (the sum of its dispatches' timestamps) divided by R; the median batch
// counts. Software adapters (no clocks to raise, seconds per run) time run by run.
const WARM_MS = software ? 0 : 50, BATCH_MS = software ? 0 : 5;
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
async function timeKernel(fn) {
  fn();
  await gpu.sync(); // warm-up (pipeline compile)
  let R = 1;
  if (!software) {
    const one = Math.max(await runsMs(fn, 1), 1e-3);
    await runsMs(fn, Math.min(256, Math.ceil(WARM_MS / one)));
    R = Math.min(64, Math.max(1, Math.ceil(BATCH_MS / one)));
  }
  const ms = [];
  for (let i = 0; i < timedRuns; i++) ms.push((await runsMs(fn, R)) / R);
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}
function relErr(got, want) {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-2 * scale, 1e-30));
  return e;
}

// device matmul rate, the yardstick for "% of matmul"
async function matmulRate() {
  const n = software ? 512 : 4096;
  const gen = new Generator(5);
  const A = F.randomUniform(be, [n, n], gen), B = F.randomUniform(be, [n, n], gen);
  const ms = await timeKernel(() => F.matmul(A, B).dispose());
  A.dispose();
  B.dispose();
  return (2 * n ** 3) / ms / 1e6;
}
const tilesMode = args.includes('--tiles');
const mmRate = tilesMode ? 0 : await matmulRate();

// ------------------------------------------------------------------ run
// the table's rows print (and the JSON is rewritten) as they are measured, so a run cut short keeps them
const device = describeGpu(gpu);
const timing = gpu.canTime ? 'GPU timestamp queries' : 'wall clock (no timestamp queries)';
console.log(`conv kernels on ${device} — ${new Date().toISOString().slice(0, 10)}; timing: ${timing}; ${tilesMode ? 'tile sweep' : `matmul rate ${mmRate.toFixed(1)} GFLOP/s`}`);
if (!tilesMode) {
  console.log(cachedTiles.loaded ? `tiles: timed by training on this device where cached (${cachedTiles.loaded} problems in ${tileCachePath()}), else pickTile's rule` : "tiles: pickTile's rule");
  console.log('| model | layer | batch | kernel | ms | GFLOP/s | % matmul | CPU ref ms | speed-up | max rel err | TF.js ms |');
  console.log('|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
}
const rows = [];
const tileRows = [];
const json = flag('json');
const writeJson = () => {
  if (!json) return;
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ bench: 'conv', device, adapter: gpu.adapter, date: new Date().toISOString(), timing, matmulGflops: mmRate, batches, cachedTiles: cachedTiles.loaded, rows, tileRows }, null, 2));
};
const t0 = performance.now();
for (const l of tilesMode ? [] : layers) {
  const [model, name, op] = l;
  // accuracy: the same kernels at batch 2 on GPU and CPU
  const small = dimsOf(l, 2);
  const err = {};
  {
    const gb = buffersOf(be, op, small.d, new Generator(1));
    const cb = buffersOf(cpu, op, small.d, new Generator(1));
    const gk = kernelsOf(be, op, small.d, gb.x, gb.w, gb.y, gb.gy, gb.gx, gb.gw);
    const ck = kernelsOf(cpu, op, small.d, cb.x, cb.w, cb.y, cb.gy, cb.gx, cb.gw);
    for (const [kname, out, n] of [['forward', 'y', gb.yN], ['gradInput', 'gx', gb.xN], ['gradWeight', 'gw', gb.wN]]) {
      gk[kname]();
      ck[kname]();
      err[kname] = relErr(await be.read(gb[out], n, 'f32'), await cpu.read(cb[out], n, 'f32'));
    }
    for (const k of ['x', 'w', 'y', 'gy', 'gx', 'gw']) be.free(gb[k]);
  }
  // CPU reference time for one image (scaled by N below)
  const one = dimsOf(l, 1);
  const cb1 = buffersOf(cpu, op, one.d, new Generator(2));
  const ck1 = kernelsOf(cpu, op, one.d, cb1.x, cb1.w, cb1.y, cb1.gy, cb1.gx, cb1.gw);
  const cpuMs = {};
  for (const k of ['forward', 'gradInput', 'gradWeight']) {
    const s = performance.now();
    ck1[k]();
    cpuMs[k] = performance.now() - s;
  }
  for (const N of batches) {
    const { d } = dimsOf(l, N);
    const b = buffersOf(be, op, d, new Generator(3));
    const ks = kernelsOf(be, op, d, b.x, b.w, b.y, b.gy, b.gx, b.gw);
    const flops = 2 * d.N * d.K * d.P * d.Q * d.C * d.R * d.S;
    const res = {};
    for (const k of ['forward', 'gradInput', 'gradWeight']) res[k] = await timeKernel(ks[k]);
    res.all = await timeKernel(() => {
      ks.forward();
      ks.gradInput();
      ks.gradWeight();
    });
    for (const k of ['forward', 'gradInput', 'gradWeight', 'all']) {
      const f = k === 'all' ? 3 * flops : flops;
      const c = k === 'all' ? (cpuMs.forward + cpuMs.gradInput + cpuMs.gradWeight) * N : cpuMs[k] * N;
      const gf = f / res[k] / 1e6;
      const r = {
        model, layer: name, op, batch: N, kernel: k, ms: res[k], gflops: gf, pctMatmul: (100 * gf) / mmRate,
        cpuRefMs: c, speedup: c / res[k], maxRelErr: k === 'all' ? Math.max(err.forward, err.gradInput, err.gradWeight) : err[k],
        tfjsMs: k === 'all' && N === 64 ? TFJS_MS[name] ?? null : null,
      };
      rows.push(r);
      console.log(`| ${r.model} | ${r.layer} | ${r.batch} | ${r.kernel} | ${r.ms.toFixed(3)} | ${r.gflops.toFixed(1)} | ${r.pctMatmul.toFixed(0)}% | ${r.cpuRefMs.toFixed(0)} | ${r.speedup.toFixed(0)}× | ${r.maxRelErr.toExponential(1)} | ${r.tfjsMs ?? ''} |`);
    }
    writeJson();
    for (const k of ['x', 'w', 'y', 'gy', 'gx', 'gw']) be.free(b[k]);
  }
}

// ------------------------------------------------------------------ --tiles: every tile, forced
// every tile the kernel has ([BM, BN] or [BM, BN, TB]: 4×4 per thread, then 8×8) that fits this device
if (tilesMode) {
  const ck = convKernels;
  const TILES = ck.CONV_TILES.filter((t) => ck.tileFits(gpu, t));
  // rows print as they are measured (a run cut short by a timeout keeps what it measured)
  const names = TILES.map(tileName);
  console.log(`tile sweep (ms; picked = the op's choice by shape, * = fastest; 4×4 per thread unless /8: 8×8)`);
  console.log(`| model | layer | batch | kernel | picked | ${names.join(' | ')} | best vs picked |`);
  console.log(`|---|---|---:|---|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const l of layers) {
    const [model, name, op] = l;
    for (const N of batches) {
      const { d } = dimsOf(l, N);
      const b = buffersOf(be, op, d, new Generator(3));
      // [kernel, GEMM mode, gm, gn, run(variant)] in the conv's own terms (a transposed conv's forward is mode 1)
      const conv = op === 'conv2d';
      const gmOf = (mode) => (mode === 'forward' ? d.N * d.P * d.Q : mode === 'gradInput' ? d.N * d.H * d.W : d.K);
      const gnOf = (mode) => (mode === 'forward' ? d.K : mode === 'gradInput' ? d.C : d.C * d.R * d.S);
      const ks = [
        ['forward', conv ? 'forward' : 'gradInput', (v) => (conv ? ck.conv2d(gpu, b.x, b.w, null, b.y, d, 'none', 0, v) : ck.conv2dGradInput(gpu, b.x, b.w, b.y, d, null, 'none', 0, v))],
        ['gradInput', conv ? 'gradInput' : 'forward', (v) => (conv ? ck.conv2dGradInput(gpu, b.gy, b.w, b.gx, d, null, 'none', 0, v) : ck.conv2d(gpu, b.gy, b.w, null, b.gx, d, 'none', 0, v))],
        ['gradWeight', 'gradWeight', (v) => (conv ? ck.conv2dGradWeight(gpu, b.x, b.gy, b.gw, d, undefined, false, v) : ck.conv2dGradWeight(gpu, b.gy, b.x, b.gw, d, undefined, false, v))],
      ];
      for (const [kname, mode, fn] of ks) {
        if (gnOf(mode) <= 4) continue; // conv2d_skinny, no tile
        const phased = mode === 'gradInput' && (d.sh > 1 || d.sw > 1);
        const gm = phased ? d.N * Math.ceil(d.H / d.sh) * Math.ceil(d.W / d.sw) : gmOf(mode);
        const picked = ck.pickTile(gpu, mode, gm, gnOf(mode));
        const ms = {};
        for (const t of TILES) ms[tileName(t)] = await timeKernel(() => fn({ tile: t, skinny: false }));
        const best = Object.entries(ms).sort((x, y) => x[1] - y[1])[0];
        const r = { model, layer: name, op, batch: N, kernel: kname, picked: tileName(picked), pickedMs: ms[tileName(picked)], best: best[0], bestMs: best[1], ms };
        tileRows.push(r);
        writeJson();
        console.log(`| ${r.model} | ${r.layer} | ${r.batch} | ${r.kernel} | ${r.picked} | ${names.map((n) => (n in r.ms ? `${r.ms[n].toFixed(3)}${n === r.best ? '*' : ''}` : '')).join(' | ')} | ${(r.pickedMs / r.bestMs).toFixed(2)}× |`);
      }
      for (const k of ['x', 'w', 'y', 'gy', 'gx', 'gw']) be.free(b[k]);
    }
  }
}
const elapsed = (performance.now() - t0) / 1000;

console.log(`${elapsed.toFixed(0)} s`);
writeJson();
releaseNodeGpu(gpu);
