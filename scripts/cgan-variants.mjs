// cgan-variants.mjs — train the cGAN with each discriminator conditioning form on the same data and seed, with
// FID and accuracy on generated images every epoch for the weight average and the trained weights (metrics.jsonl
// in runs/variants-FORM/). A side-by-side check of `dCond` (src/gan/models.ts) and of the weight average.
//   node scripts/cgan-variants.mjs [projection] [channel]    (after `node scripts/build.mjs`)
// PRESET (default cgan-lite), EPOCHS (3), SUBSET (4096 training images), FID_N (500), CLASSIFIER (the shipped one).
import { nodeGpu, releaseNodeGpu, GpuBackend, loadFashionMnist, runGan, PRESETS } from '../dist/index.js';

const forms = process.argv.slice(2).length ? process.argv.slice(2) : ['projection', 'channel'];
for (const f of forms)
  if (f !== 'projection' && f !== 'channel') throw new Error(`unknown form '${f}' (projection, channel)`);
const preset = process.env.PRESET ?? 'cgan-lite';
const p = PRESETS[preset];
if (p?.config.kind !== 'cgan')
  throw new Error(`PRESET ${preset} is not a cGAN preset (${Object.keys(PRESETS).join(', ')})`);
const gpu = await nodeGpu();
const be = new GpuBackend(gpu);
const data = await loadFashionMnist({});
for (const dCond of forms) {
  const t0 = performance.now();
  await runGan(
    be,
    data,
    {
      preset: `${preset} (${dCond})`,
      config: { ...p.config, dCond },
      hyper: { ...p.hyper, epochs: +(process.env.EPOCHS ?? 3) },
      seed: 0,
      trainSubset: +(process.env.SUBSET ?? 4096),
      logEvery: 50,
      fid: {
        every: 1,
        classifier: process.env.CLASSIFIER ?? 'models/eval-classifier.safetensors',
        n: +(process.env.FID_N ?? 500),
      },
      log: (s) => console.log(`[${dCond}] ${s}`),
    },
    `runs/variants-${dCond}`,
  );
  console.log(`[${dCond}] ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
releaseNodeGpu(gpu);
