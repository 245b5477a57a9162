// bench/peers/tfjs-conv.js — TensorFlow.js's WebGPU backend beside our kernels on the same adapter, for the seed
// models' conv layers: forward, and forward + both gradients. Both are timed the same way (wall clock from
// recording to a completed readback of a one-element sum, median of runs after a warm-up), in one process on
// one Dawn adapter. Usage: cd bench/peers && npm install && node tfjs-conv.js [--batch 4] [--runs 3] [--only TEXT] [--json FILE]
import { create, globals } from 'webgpu';
import { writeFileSync } from 'node:fs';

Object.assign(globalThis, globals);
globalThis.navigator = { gpu: create([]) };
const tf = await import('@tensorflow/tfjs'); // the umbrella package registers the gradients
await import('@tensorflow/tfjs-backend-webgpu');
await tf.setBackend('webgpu');
await tf.ready();
const ours = await import('../../dist/index.js');

const args = process.argv.slice(2);
const flag = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const B = Number(flag('batch', 4));
const RUNS = Number(flag('runs', 3));

// [layer, op, Cin, H, W, Cout, k, stride] (padding 'same'): every seed layer of bench/conv.js; --only TEXT keeps
// the layers whose name contains TEXT
const LAYERS = [
  ['cnn conv1 28×28 1→32', 'conv', 1, 28, 28, 32, 3, 1],
  ['cnn conv2 28×28 32→32', 'conv', 32, 28, 28, 32, 3, 1],
  ['cnn conv3 14×14 32→64', 'conv', 32, 14, 14, 64, 3, 1],
  ['cnn conv4 14×14 64→64', 'conv', 64, 14, 14, 64, 3, 1],
  ['cnn conv5 7×7 64→128', 'conv', 64, 7, 7, 128, 3, 1],
  ['cnn conv6 7×7 128→128', 'conv', 128, 7, 7, 128, 3, 1],
  ['acgan D conv1 28×28 1→32 s2', 'conv', 1, 28, 28, 32, 3, 2],
  ['acgan D conv2 14×14 32→64', 'conv', 32, 14, 14, 64, 3, 1],
  ['acgan D conv3 14×14 64→128 s2', 'conv', 64, 14, 14, 128, 3, 2],
  ['acgan D conv4 7×7 128→256', 'conv', 128, 7, 7, 256, 3, 1],
  ['acgan G convT 7→14 385→192 k5 s2', 'convT', 385, 7, 7, 192, 5, 2],
  ['acgan G convT 14→28 192→1 k5 s2', 'convT', 192, 14, 14, 1, 5, 2],
].filter((l) => !flag('only') || l[0].includes(flag('only')));

async function median(fn) {
  await fn();
  const t = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

// ---------------------------------------------------------------- TF.js (NHWC; filters [k, k, in, out] / convT [k, k, out, in])
function tfjsCase(op, C, H, W, K, k, s) {
  const x = tf.randomUniform([B, H, W, C], -1, 1);
  const OH = op === 'conv' ? Math.ceil(H / s) : H * s, OW = op === 'conv' ? Math.ceil(W / s) : W * s;
  const w = op === 'conv' ? tf.randomUniform([k, k, C, K], -1, 1) : tf.randomUniform([k, k, K, C], -1, 1);
  const f = op === 'conv' ? (a, b) => tf.conv2d(a, b, s, 'same') : (a, b) => tf.conv2dTranspose(a, b, [B, OH, OW, K], s, 'same');
  const dy = tf.randomUniform([B, OH, OW, K], -1, 1);
  const g = tf.grads(f);
  return {
    forward: async () => {
      const y = f(x, w);
      const r = tf.sum(y);
      await r.data();
      tf.dispose([y, r]);
    },
    all: async () => {
      const y = f(x, w);
      const [gx, gw] = g([x, w], dy);
      const r = tf.add(tf.sum(gx), tf.add(tf.sum(gw), tf.sum(y)));
      await r.data();
      tf.dispose([y, gx, gw, r]);
    },
  };
}

// ---------------------------------------------------------------- ours (NCHW)
const gpu = await ours.nodeGpu();
const be = new ours.GpuBackend(gpu);
function oursCase(op, C, H, W, K, k, s) {
  const gen = new ours.Generator(1);
  const x = ours.F.randomUniform(be, [B, C, H, W], gen).setRequiresGrad();
  const w = ours.F.randomUniform(be, op === 'conv' ? [K, C, k, k] : [C, K, k, k], gen).setRequiresGrad();
  const f = () => (op === 'conv' ? ours.F.conv2d(x, w, null, { stride: s, padding: 'same' }) : ours.F.convTranspose2d(x, w, null, { stride: s, padding: 'same' }));
  return {
    forward: async () => {
      const r = ours.tidy(() => ours.F.sum(f()));
      await r.item();
      r.dispose();
    },
    all: async () => {
      const r = ours.tidy(() => {
        const y = f();
        const dy = ours.F.randomUniform(be, y.shape, gen);
        y.backward(dy);
        return ours.F.add(ours.F.add(ours.F.sum(x.grad), ours.F.sum(w.grad)), ours.F.sum(y));
      });
      await r.item();
      r.dispose();
      for (const t of [x, w]) {
        t.grad.dispose();
        t.grad = null;
      }
    },
  };
}

const rows = [];
for (const [name, op, C, H, W, K, k, s] of LAYERS) {
  const t = tfjsCase(op, C, H, W, K, k, s);
  const o = oursCase(op, C, H, W, K, k, s);
  const r = { layer: name, batch: B, tfjsForwardMs: await median(t.forward), oursForwardMs: await median(o.forward), tfjsAllMs: await median(t.all), oursAllMs: await median(o.all) };
  rows.push(r);
  console.error(`${name}: done`);
}
console.log(`TF.js 4.22 WebGPU vs ours on ${ours.describeGpu(gpu)} — ${new Date().toISOString().slice(0, 10)}, batch ${B}, median of ${RUNS}`);
console.log('| layer | TF.js fwd ms | ours fwd ms | TF.js fwd+grads ms | ours fwd+grads ms | speed-up (fwd+grads) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${r.layer} | ${r.tfjsForwardMs.toFixed(1)} | ${r.oursForwardMs.toFixed(1)} | ${r.tfjsAllMs.toFixed(1)} | ${r.oursAllMs.toFixed(1)} | ${(r.tfjsAllMs / r.oursAllMs).toFixed(1)}× |`);
const json = flag('json');
if (json) writeFileSync(json, JSON.stringify({ bench: 'tfjs-conv', device: ours.describeGpu(gpu), date: new Date().toISOString(), batch: B, runs: RUNS, rows }, null, 2));
ours.releaseNodeGpu(gpu);
process.exit(0);
