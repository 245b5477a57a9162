// bench/train-step.js — whole training steps: the AC-GAN and cGAN step (D on real + fake, then G) and the CNN
// step (forward, cross-entropy, backward, Adam), at batch 64 and 256. Per row: ms per step (wall clock over N
// steps recorded back to back, one wait at the end: what training sees), images/s, dispatches and submits per
// step, GPU memory (peak bytes handed out by the pool, bytes allocated), and the host's share of a step (the same
// step recorded and dropped unsubmitted: JavaScript, autograd and Dawn's recording calls, with the GPU idle).
// `--profile` adds a per-kernel breakdown of one step from timestamp queries (each dispatch in its own pass, so
// its total overstates a run), and one per conv/matmul problem with the rate each reached (useful FLOPs / time).
// Conv tiles are timed after the first warm-up step and the fastest kept, as `npm run train` does
// (`--tune auto`: on hardware adapters; `on`, `off`); the rows say how long that took. Tiles
// cached by an earlier process on this device (node/tile_cache.ts) are not timed again, unless --fresh-tiles.
// Inputs are synthetic (seeded random images and labels): no dataset needed.
// `--tune-budget S` (default 15) stops starting new problems after S seconds of timing per row.
// `--split-k off` turns off conv2d's split-K of the forward and input gradient (gemmSplits; it applies on hardware
// adapters only, where output tiles are fewer than the GPU's cores can take): the rows say "split-K off", so that one
// GPU session times what the split buys (scripts/gpu-session.sh runs the AC-GAN both ways).
// Usage: node bench/train-step.js [--quick] [--model acgan,cgan,cnn] [--batch 64,256] [--steps N] [--profile] [--tune
// auto|on|off] [--tune-budget S] [--fresh-tiles] [--split-k on|off] [--json FILE]
import {
  nodeGpu,
  releaseNodeGpu,
  GpuBackend,
  Tensor,
  F,
  Generator,
  describeGpu,
  tidy,
  makeGan,
  ganStep,
  PRESETS,
  Cnn,
  SEED_CNN,
  Adam,
  convKernels,
  tuneConvTiles,
  tuneModeOf,
  tunesOn,
  loadTileCache,
  saveTileCache,
} from '../dist/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchArgs } from './args.js';

const A = benchArgs('bench/train-step.js', {
  quick: {},
  model: { takes: 'acgan,cgan,cnn' },
  batch: { takes: '64,256' },
  steps: { takes: 'N' },
  profile: {},
  tune: { takes: 'auto|on|off' },
  'tune-budget': { takes: 'S' },
  'fresh-tiles': {},
  'split-k': { takes: 'on|off' },
  json: { takes: 'FILE' },
});
// --tune, else $FMNIST_TUNE, else auto (a bad word: its error, exit 2)
const tuneMode = (() => {
  try {
    return tuneModeOf(A.str('tune'), process.env.FMNIST_TUNE);
  } catch (e) {
    return A.fail(e.message);
  }
})();
const splitK = A.oneOf('split-k', ['on', 'off'], 'on');
const models = A.words('model', ['acgan', 'cgan', 'cnn'], ['acgan', 'cgan', 'cnn']);
const batchesAsked = A.ints('batch', 1);
const stepsAsked = A.int('steps', 1);
const tuneBudget = A.num('tune-budget', (x) => x > 0, 'seconds > 0', 15);
const gpu = await nodeGpu();
gpu.splitK = splitK === 'on';
const be = new GpuBackend(gpu);
const software = gpu.adapter.software;
const quick = A.has('quick');
const batches = batchesAsked ?? (software ? [16] : quick ? [64] : [64, 256]);
const steps = stepsAsked ?? (software ? 3 : 50);
const tune = tunesOn(gpu, tuneMode);
// tiles an earlier run cached for this device are used as they are (--tune on --fresh-tiles times everything)
let cached = { loaded: 0 };
if (tune && A.has('fresh-tiles')) convKernels.enableConvTuning(gpu);
else if (tune) cached = loadTileCache(gpu);
if (cached.problem) console.error(cached.problem);
// software adapters run the narrow "-lite" GAN presets (the full ones take minutes per step there); on hardware the
// AC-GAN is seed 003's exact step (D's class loss on real and generated images), the one PyTorch's figure times
const presetName = (kind) => (software ? `${kind}-lite` : kind === 'acgan' ? 'acgan-seed003' : kind);
const ganPreset = (kind) => PRESETS[presetName(kind)];
// PyTorch 2.11 eager, cuDNN, fp32 (TF32 off), same H100 (../shared/webgpu-facts.md and the speed issue)
const PYTORCH_MS = { 'acgan:64': 10.6, 'acgan:256': 11.9, 'cnn:64': 4.8, 'cnn:256': 5.8 };

function setup(model, B) {
  const gen = new Generator(1);
  const x = Tensor.from(
    be,
    Float32Array.from(gen.uniform(B * 784), (v) => v * 2 - 1),
    [B, 1, 28, 28],
  );
  const labels = Array.from(gen.uniform(B), (v) => Math.floor(v * 10));
  const y = Tensor.from(be, labels, [B], 'i32');
  if (model === 'cnn') {
    const net = new Cnn(be, gen, SEED_CNN);
    const opt = new Adam(net.parameters(), { lr: 1e-3 });
    const hostX = Float32Array.from(gen.uniform(B * 784));
    return {
      step() {
        const xs = Tensor.from(be, hostX, [B, 1, 28, 28]); // the batch upload a real step does
        tidy(() => {
          const loss = F.softmaxCrossEntropy(net.forward(xs), y);
          opt.zeroGrad();
          loss.backward();
          opt.step();
        });
        xs.dispose();
      },
      dispose() {
        net.dispose();
        opt.dispose();
        x.dispose();
        y.dispose();
      },
    };
  }
  const p = ganPreset(model);
  const s = makeGan(be, p.config, p.hyper, 1);
  const hostX = Float32Array.from(gen.uniform(B * 784), (v) => v * 2 - 1);
  return {
    step() {
      const xs = Tensor.from(be, hostX, [B, 1, 28, 28]);
      tidy(() => void ganStep(be, s, xs, y));
      xs.dispose();
    },
    dispose() {
      s.G.dispose();
      s.D.dispose();
      s.optG.dispose();
      s.optD.dispose();
      s.ema?.G.dispose();
      s.ema?.avg.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

const rows = [];
const profiles = {};
// rows print (and the JSON is rewritten) as each is measured, so a run cut short by a timeout keeps them
const device = describeGpu(gpu);
const json = A.str('json');
const writeJson = () => {
  if (!json) return;
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(
    json,
    JSON.stringify(
      {
        bench: 'train-step',
        device,
        adapter: gpu.adapter,
        date: new Date().toISOString(),
        steps,
        splitK: gpu.splitK,
        rows,
        profiles,
      },
      null,
      2,
    ),
  );
};
console.log(
  `training steps on ${device} — ${new Date().toISOString().slice(0, 10)}; ${steps} timed steps after 2 warm-up steps`,
);
console.log(
  '| model | batch | ms/step | host ms/step | img/s | dispatches/step | submits/step | peak MB | allocated MB (growth) | PyTorch ms |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const model of models)
  for (const B of batches) {
    const t = setup(model, B);
    t.step();
    await gpu.sync();
    const tt0 = performance.now();
    // the step's conv problems, each under every tile
    const tuned = tune ? await tuneConvTiles(gpu, { budgetMs: 1000 * tuneBudget }) : [];
    const tuneMs = performance.now() - tt0;
    try {
      if (tuned.length) saveTileCache(gpu);
    } catch (e) {
      console.error(`conv tiles not cached: ${e.message}`);
    }
    if (tune) gpu.trim(); // the tuner's scratch buffers out of the pool, so 'allocated MB' is the step's own
    t.step();
    await gpu.sync(); // warm-up: pipelines, pool, bind groups
    gpu.pool.resetPeak();
    const c0 = { ...gpu.counters };
    const alloc0 = gpu.pool.stats().allocatedBytes;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) t.step();
    await gpu.sync();
    const ms = (performance.now() - t0) / steps;
    const c1 = gpu.counters;
    const st = gpu.pool.stats();
    const name =
      (model === 'cnn' ? 'cnn (seed 003)' : `${model} (${presetName(model)} preset)`) +
      (gpu.splitK ? '' : ', split-K off');
    rows.push({
      model,
      name,
      batch: B,
      msPerStep: ms,
      imgPerSec: (B * 1000) / ms,
      dispatchesPerStep: (c1.dispatches - c0.dispatches) / steps,
      submitsPerStep: (c1.submits - c0.submits) / steps,
      peakLiveMB: st.peakLiveBytes / 2 ** 20,
      allocatedMB: st.allocatedBytes / 2 ** 20,
      allocatedGrowthMB: (st.allocatedBytes - alloc0) / 2 ** 20,
      pytorchMs: software ? null : (PYTORCH_MS[`${model}:${B}`] ?? null),
      tune: tune
        ? { ms: tuneMs, problems: tuned.length, changed: tuned.filter((x) => x.best !== x.rule).length, tiles: tuned }
        : null,
    });
    // the host's share: the same step recorded and dropped unsubmitted (GPU idle), so the time is JavaScript,
    // autograd and Dawn's recording calls alone; a step can go no faster than this, however fast the GPU
    const hostSteps = 200;
    let h0 = 0;
    for (let i = -20; i < hostSteps; i++) {
      if (i === 0) h0 = performance.now(); // after 20 untimed ones (the JIT's warm-up)
      t.step();
      gpu.discardRecorded();
    }
    const r = rows[rows.length - 1];
    r.hostMsPerStep = (performance.now() - h0) / hostSteps;
    console.log(
      `| ${r.name} | ${r.batch} | ${r.msPerStep.toFixed(2)} | ${r.hostMsPerStep.toFixed(2)} | ${r.imgPerSec.toFixed(0)} | ${r.dispatchesPerStep.toFixed(0)} | ${r.submitsPerStep.toFixed(1)} | ${r.peakLiveMB.toFixed(1)} | ${r.allocatedMB.toFixed(1)} (${r.allocatedGrowthMB.toFixed(1)}) | ${r.pytorchMs ?? ''} |`,
    );
    writeJson();
    if (A.has('profile') && gpu.canTime) {
      gpu.startProfile();
      t.step();
      const prof = await gpu.stopProfile();
      // by pipeline (kernels), and by problem (the convolutions and matmuls name theirs: shape, tile, FLOPs)
      const by = new Map(),
        byProblem = new Map();
      for (const { label, ms: k, what, flops } of prof) {
        const e = by.get(label) ?? { label, ms: 0, count: 0 };
        e.ms += k;
        e.count++;
        by.set(label, e);
        if (!what) continue;
        const q = byProblem.get(what) ?? { what, label, ms: 0, count: 0, gflop: 0 };
        q.ms += k;
        q.count++;
        q.gflop += flops / 1e9;
        byProblem.set(what, q);
      }
      const problems = [...byProblem.values()]
        .map((q) => ({ ...q, gflops: q.ms > 0 ? (1000 * q.gflop) / q.ms : null }))
        .sort((a, b) => b.ms - a.ms);
      profiles[`${model}:${B}`] = {
        totalMs: prof.reduce((a, p) => a + p.ms, 0),
        kernels: [...by.values()].sort((a, b) => b.ms - a.ms),
        problems,
      };
    }
    writeJson();
    t.dispose();
  }

console.log(
  tune
    ? `conv tiles: timed on this device after the first warm-up step (as \`npm run train\` does; ${cached.loaded} problems from the cache); the tiles do not change the numbers`
    : `conv tiles: the built-in rule (tuning ${tuneMode === 'off' ? 'off' : gpu.canTime ? 'off on software adapters; --tune on' : 'needs timestamp queries'})`,
);
for (const r of rows) {
  if (!r.tune?.problems) continue;
  const saved = r.tune.tiles.reduce((a, x) => a + x.ruleMs - x.bestMs, 0);
  console.log(
    `  ${r.model}:${r.batch}: ${r.tune.problems} new conv problems timed in ${(r.tune.ms / 1000).toFixed(1)} s, ${r.tune.changed} changed from the rule (${saved.toFixed(3)} ms less per pass over them)`,
  );
  for (const x of r.tune.tiles.filter((x) => x.best !== x.rule))
    console.log(
      `    ${x.mode} ${x.problem}: ${x.rule} ${x.ruleMs.toFixed(3)} ms → ${x.best} ${x.bestMs.toFixed(3)} ms`,
    );
}
for (const [k, p] of Object.entries(profiles)) {
  console.log(
    `\nprofile ${k}: ${p.totalMs.toFixed(2)} ms in ${p.kernels.reduce((a, e) => a + e.count, 0)} dispatches (one pass each); slowest kernels:`,
  );
  console.log('| kernel | calls | ms | share |\n|---|---:|---:|---:|');
  for (const e of p.kernels.slice(0, 12))
    console.log(`| ${e.label} | ${e.count} | ${e.ms.toFixed(3)} | ${((100 * e.ms) / p.totalMs).toFixed(1)}% |`);
  console.log(
    `\nprofile ${k}, slowest conv and matmul problems (useful FLOPs: a phased transposed conv's skipped zeros do not count):`,
  );
  console.log('| problem | calls | ms | share | GFLOP | GFLOP/s |\n|---|---:|---:|---:|---:|---:|');
  for (const q of p.problems.slice(0, 16))
    console.log(
      `| ${q.what} | ${q.count} | ${q.ms.toFixed(3)} | ${((100 * q.ms) / p.totalMs).toFixed(1)}% | ${q.gflop.toFixed(3)} | ${q.gflops === null ? '–' : q.gflops.toFixed(1)} |`,
    );
}
releaseNodeGpu(gpu);
