// trainer_replay.mjs — a helper process of test/train_view.test.ts: replays what the page's Train view did, on the
// Node engine (dist/index.js), on whichever adapter this process gets: the test starts it on the page's kind of
// adapter (SwiftShader's Vulkan driver when Chromium's WebGPU is SwiftShader), since two adapters' float rounding,
// amplified by Adam's first steps (each weight moves by ±lr whatever its gradient's size), differ by more than the
// comparison's tolerance. Usage: node test/trainer_replay.mjs PLAN.json OUT.json
// PLAN: { setup: {preset, batch, seed, trainSubset}, ops: [...] }, each op one of
//   { step: 'both' | 'D' | 'G' }   a step, the epoch closed where it ends, then a snapshot (the page's every=1)
//   { adam: { net, lr?, beta1? } } D's or G's Adam settings
//   { params: true }               every parameter (base64 of float32), appended to the output
//   { grid: 'average' | 'trained' } the fixed-noise grid (base64 of float32)
//   { resume: FILE }               a new trainer from a training checkpoint
// OUT: { adapter, snapshots: [...], params: [...], grids: [...] }
import { readFileSync, writeFileSync } from 'node:fs';
import { nodeGpu, releaseNodeGpu, GpuBackend, describeGpu, PageTrainer, loadFashionMnist } from '../dist/index.js';

const [planFile, outFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const gpu = await nodeGpu();
const be = new GpuBackend(gpu);
const data = await loadFashionMnist({ download: false });
const b64 = (a) => Buffer.from(Float32Array.from(a).buffer).toString('base64');
const out = { adapter: describeGpu(gpu), snapshots: [], params: [], grids: [] };
let t = PageTrainer.create(be, data.train, plan.setup);
for (const op of plan.ops) {
  if (op.step) {
    if (t.step(op.step)) await t.endEpoch();
    out.snapshots.push(await t.snapshot());
  } else if (op.adam) t.setAdam(op.adam.net, op.adam);
  else if (op.params) {
    const p = {};
    for (const [pre, m] of [
      ['G.', t.s.G],
      ['D.', t.s.D],
    ])
      for (const [n, x] of m.namedParameters()) p[pre + n] = b64(await x.toArray());
    out.params.push(p);
  } else if (op.grid) out.grids.push(b64(await t.grid(op.grid)));
  else if (op.resume) {
    t.dispose();
    t = PageTrainer.resume(be, data.train, new Uint8Array(readFileSync(op.resume)), op.resume);
    out.snapshots.push(await t.snapshot());
  } else throw new Error(`unknown op ${JSON.stringify(op)}`);
}
writeFileSync(outFile, JSON.stringify(out));
t.dispose();
releaseNodeGpu(gpu);
process.exit(0);
