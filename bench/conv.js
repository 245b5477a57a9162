// bench/conv.js — profiles every kernel a training step of the seed models runs (the CNN, the cGAN, the AC-GAN), at
// each requested batch, against what the device allows and against a peer on the same adapter, in one run.
// The kernels are found by running each model's real step on a recording backend (bench/kernels/trace.js): every
// convolution and transposed convolution (forward, input gradient, weight gradient), dense layer, batchnorm
// (statistics with the running update, apply, gradient; a workgroup per channel and sliced; plus the eval forward),
// activation + dropout, embedding (gather, deterministic gradient), max pooling (+ dropout) each way, the losses,
// Adam over each network's whole parameter arena, the weight average, and the glue between layers.
// Per row: ms (GPU timestamps; bench/kernels/measure.js), GFLOP/s and GB/s (bytes read + written), arithmetic
// intensity and which roof bounds it (the device's matmul rate or its copy bandwidth, both measured in this run),
// % of that roof, the float64 CPU reference's time (timed at the checked batch, scaled by the work), the max
// relative error against that reference (the same call at a small batch, GPU outputs poisoned with NaN first; a
// kernel that fails is marked ✗ and the run exits 1), and TF.js's WebGPU backend on the same shapes where it has the
// op (bench/kernels/tfjs.js; from the optional peer folder bench/peers, skipped with a note when absent).
// Output: a table per model grouped by layer; --json FILE; --html FILE (bar chart per model, roofline plot).
// `--tiles` runs a sweep instead: each conv kernel of each layer under every GEMM tile (bench/kernels/tiles.js).
// On hardware adapters the conv tiles are those training timed and cached on this device, where there are any.
import * as E from '../dist/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAMILIES, SPECS } from './kernels/catalog.js';
import { plan, signature } from './kernels/plan.js';
import { hostData, materialize, variantsOf } from './kernels/replay.js';
import { timer, matmulRate, copyBandwidth, relErr } from './kernels/measure.js';
import { tileSweep } from './kernels/tiles.js';
import { loadTfjs, tfjsTimer } from './kernels/tfjs.js';
import { printHeader, printRow, printModelSummary, TOLERANCE } from './kernels/table.js';
import { reportHtml } from './kernels/html.js';
import { benchArgs } from './args.js';

const A = benchArgs('bench/conv.js', {
  quick: {},
  op: { takes: FAMILIES.join(',') },
  model: { takes: 'cnn,cgan,acgan' },
  batch: { takes: '64,256' },
  peers: { takes: 'DIR|none' },
  json: { takes: 'FILE' },
  html: { takes: 'FILE' },
  tune: { takes: 'auto|on|off' },
  tiles: {},
  'debug-break': { takes: 'METHOD', hidden: true }, // test hook: that method's checked run is skipped (outputs poisoned)
});
const fail = A.fail;
const quick = A.has('quick');
const tilesMode = A.has('tiles');
const families = A.words('op', FAMILIES, FAMILIES);
const modelsAsked = A.words('model', ['cnn', 'sweep', ...Object.keys(E.PRESETS)]);
const tuneMode = (() => {
  try {
    return E.tuneModeOf(A.str('tune'), process.env.FMNIST_TUNE);
  } catch (e) {
    return fail(e.message);
  }
})();
// a step's batchnorm needs two samples per channel (the discriminator's two groups, one each: batch 1 is refused)
const asked = A.ints('batch', 2);
const jsonFile = A.str('json'),
  htmlFile = A.str('html'),
  peersFlag = A.str('peers');
const debugBreak = A.str('debug-break');

const gpu = await E.nodeGpu();
const be = new E.GpuBackend(gpu);
const cpu = new E.CpuBackend();
const software = gpu.adapter.software;
const batches = asked ?? (quick ? [software ? 4 : 64] : [64, 256]);
const models = modelsAsked ?? ['cnn', 'cgan', 'acgan', ...(quick || tilesMode ? [] : ['sweep'])];
const CHECK_BATCH = 2; // the checked run's batch (the GAN discriminator's two groups need it even)
const timeKernel = timer(gpu, quick || software ? 3 : 9);
// the tiles training timed on this device, where the mode has training time them (the --tiles sweep forces each)
const cachedTiles = E.tunesOn(gpu, tuneMode) && !tilesMode ? E.loadTileCache(gpu) : { loaded: 0 };
if (cachedTiles.problem) console.error(cachedTiles.problem);
const device = E.describeGpu(gpu);
const date = new Date().toISOString();
const command = A.command;
const t0 = performance.now();

if (tilesMode) {
  const seeds = models.filter((m) => m !== 'sweep');
  const tileRows = await tileSweep(E, gpu, be, { models: seeds, batches, timeKernel, families });
  const o = { bench: 'conv', mode: 'tiles', device, adapter: gpu.adapter, date, command, batches, tileRows };
  if (jsonFile) writeOut(jsonFile, JSON.stringify(o, null, 2));
  console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s`);
  E.releaseNodeGpu(gpu);
  process.exit(0);
}

// ------------------------------------------------------------------ the roofs and the peer
const mm = await matmulRate(E, be, gpu, timeKernel);
const bw = await copyBandwidth(E, gpu, timeKernel);
const roofs = { matmulGflops: mm.gflops, matmul: mm.what, copyGBps: bw.gbps, copy: bw.what };
roofs.balance = mm.gflops / bw.gbps; // FLOP per byte where the two roofs meet
const here = dirname(fileURLToPath(import.meta.url));
const peer =
  peersFlag === 'none'
    ? { tf: null, note: 'TF.js: not run (--peers none)' }
    : await loadTfjs(peersFlag ?? join(here, 'peers'), E.nodeNavigatorGpu(), device);
const tfjsTime = peer.tf ? tfjsTimer(peer.tf, quick || software ? 3 : 9, software) : null;

const { rows: planned, skipped } = plan(E, be, { models, batches, families, checkBatch: CHECK_BATCH });
const timing = gpu.canTime ? 'GPU timestamp queries' : 'wall clock (no timestamp queries)';
const tiles = !cachedTiles.loaded
  ? "conv tiles: pickTile's rule"
  : `conv tiles timed by training on this device where cached (${cachedTiles.loaded} problems in ` +
    `${E.tileCachePath()}), else pickTile's rule`;
printHeader({ device, date, timing, roofs, tiles, peerNote: peer.note, checkBatch: CHECK_BATCH });

const rows = [];
const out = () => ({
  bench: 'conv',
  device,
  adapter: gpu.adapter,
  date,
  command,
  timing,
  ...roofs,
  batches,
  models,
  families,
  checkBatch: CHECK_BATCH,
  tolerance: TOLERANCE,
  cachedTiles: cachedTiles.loaded,
  peer: { tfjs: peer.version ?? null, note: peer.note },
  rows,
  skipped,
});
function writeOut(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
const save = () => jsonFile && writeOut(jsonFile, JSON.stringify(out(), null, 2));
/** a model's rows are all in: its summary line, and the page so far (a run cut short keeps what it measured) */
const groupDone = (key) => {
  printModelSummary(
    rows.filter((r) => `${r.model}:${r.batch}` === key),
    skipped[key],
  );
  if (htmlFile) writeOut(htmlFile, reportHtml(out()));
};

// ------------------------------------------------------------------ measure row by row (printed, saved as they come)
const timed = new Map(),
  checked = new Map(),
  peerMs = new Map();
let current = null;
for (const p of planned) {
  const spec = SPECS[p.method];
  const variant = variantsOf(E, be, p.method, p.args).find((v) => v.variant === p.variant);
  if (current !== `${p.model}:${p.batch}`) {
    if (current) groupDone(current);
    current = `${p.model}:${p.batch}`;
    console.log(`\n## ${p.model}, step at batch ${p.batch}`);
    printRow(null);
  }
  // time at the step's batch (each distinct call once per run: the cGAN and AC-GAN share their generator)
  const kB = `${signature(p.method, p.args)}|${p.variant}`;
  if (!timed.has(kB)) {
    const m = materialize(be, p.method, p.args, hostData(E, spec.bufs(p.args), 3));
    timed.set(kB, await timeKernel(() => variant.run(m.args)));
    m.free();
  }
  // check at the small batch: GPU (outputs poisoned) against the float64 CPU reference, whose time counts too
  const kS = `${signature(p.method, p.checkArgs)}|${p.variant}`;
  if (!checked.has(kS)) {
    const host = hostData(E, spec.bufs(p.checkArgs), 1);
    const g = materialize(be, p.method, p.checkArgs, host, { poison: true });
    if (debugBreak !== p.method) variant.run(g.args);
    const got = await g.outputs();
    g.free();
    const c = materialize(cpu, p.method, p.checkArgs, host, { poison: true });
    const s = performance.now();
    cpu[p.method](...c.args);
    const cpuMs = performance.now() - s;
    const want = await c.outputs();
    checked.set(kS, { err: Math.max(0, ...want.map((w, k) => (w ? relErr(got[k], w) : 0))), cpuMs });
  }
  // the peer on the same shapes (one figure per distinct call)
  const kP = signature(p.method, p.args);
  if (tfjsTime && !peerMs.has(kP)) peerMs.set(kP, await tfjsTime(p.method, p.args, p.kind));
  const ms = timed.get(kB);
  const { err, cpuMs } = checked.get(kS);
  const flops = spec.flops(p.args),
    bytes = spec.bytes(p.args);
  const work = (a) => (flops > 0 ? spec.flops(a) : spec.bytes(a));
  const cpuRefMs = cpuMs * (spec.batchFree ? 1 : work(p.args) / work(p.checkArgs));
  const gflops = flops / ms / 1e6,
    gbps = bytes / ms / 1e6,
    intensity = flops / bytes;
  const bound = intensity >= roofs.balance ? 'compute' : 'memory';
  const tf = peerMs.get(kP) ?? { ms: null, note: '' };
  const r = {
    model: p.model,
    batch: p.batch,
    layer: p.layer,
    kind: p.kind,
    family: p.family,
    kernel: p.kernel,
    variant: p.variant,
    picked: p.picked,
    shape: spec.shape(p.args, p.kind),
    calls: p.calls,
    note: p.note,
    ms,
    flops,
    bytes,
    gflops,
    gbps,
    intensity,
    bound,
    pctRoof: bound === 'compute' ? (100 * gflops) / roofs.matmulGflops : (100 * gbps) / roofs.copyGBps,
    cpuRefMs,
    speedup: cpuRefMs / ms,
    maxRelErr: err,
    ok: err <= TOLERANCE,
    tfjsMs: tf.ms,
    tfjsNote: tf.note,
  };
  rows.push(r);
  printRow(r);
  save();
}
if (current) groupDone(current);

// ------------------------------------------------------------------ the end: failures, files, time
const failed = rows.filter((r) => !r.ok);
if (failed.length) {
  console.log(
    `\n✗ ${failed.length} kernel(s) failed the check against the CPU reference ` + `(max rel err > ${TOLERANCE}):`,
  );
  for (const r of failed)
    console.log(`  ${r.model} ${r.layer} ${r.kernel}${r.variant ? ` (${r.variant})` : ''} ${r.shape}: ${r.maxRelErr}`);
}
save();
if (htmlFile) {
  writeOut(htmlFile, reportHtml(out()));
  console.log(`\n${htmlFile}: bar chart per model, roofline, tables`);
}
console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s`);
peer.dispose?.();
E.releaseNodeGpu(gpu);
process.exit(failed.length ? 1 : 0);
