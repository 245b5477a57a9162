// adapter_paths.test.ts — the kernel choices that depend on the adapter's kind (conv tiles: 8×8 blocks on software
// adapters, 4×4 on hardware; split-K counts: 4 workgroups' worth on software, 264 on hardware; sliced reductions
// and sliced batchnorm: hardware only) give the same training step. CI has no GPU, so the hardware paths run here
// on lavapipe with the adapter seen as hardware: one seed-CNN step at a batch whose conv bias gradients
// (96·28·28 = 75 264 terms) and first batchnorms (32 channels of 75 264) are sliced, against the same step with the
// adapter seen as it is. Each path's kernels are also checked one by one against the CPU reference (conv2d, reduce
// and batchnorm tests, tiles and slices forced); this checks that they compose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import { Generator } from '../src/autograd/random.js';
import { Cnn, SEED_CNN } from '../src/models/cnn.js';
import { Adam } from '../src/nn/optim.js';
import { gpuBackend } from './harness.js';

test('a seed-CNN step seen as a hardware adapter (4×4 tiles, 264-workgroup splits, sliced sums and batchnorms) equals the software-adapter step', async () => {
  const g = await gpuBackend();
  const adapter = g.gpu.adapter as { software: boolean };
  const kind = adapter.software;
  const B = 96;
  async function step(software: boolean) {
    adapter.software = software;
    const gen = new Generator(1);
    const x = Tensor.from(g, Float32Array.from(gen.uniform(B * 784)), [B, 1, 28, 28]);
    const y = Tensor.from(g, Array.from(gen.uniform(B), (v) => Math.floor(v * 10)), [B], 'i32');
    const net = new Cnn(g, new Generator(2), SEED_CNN);
    const opt = new Adam(net.parameters(), { lr: 1e-3 });
    const d0 = g.gpu.counters.dispatches;
    const loss = tidy(() => {
      const l = F.softmaxCrossEntropy(net.forward(x), y);
      l.backward();
      return l;
    });
    const dispatches = g.gpu.counters.dispatches - d0;
    const out = { loss: await loss.item(), names: net.namedParameters().map(([n]) => n), grads: await Promise.all(net.parameters().map((p) => p.grad!.toArray())), dispatches };
    loss.dispose();
    net.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
    return out;
  }
  try {
    const sw = await step(true);
    const hw = await step(false);
    assert.ok(hw.dispatches > sw.dispatches, `the hardware paths split and slice more (dispatches ${hw.dispatches} vs ${sw.dispatches})`);
    assert.ok(Math.abs(hw.loss - sw.loss) <= 1e-6 * Math.abs(sw.loss), `loss ${hw.loss} vs ${sw.loss}`);
    // Not element by element: the sliced batchnorm statistics add in another order, so the forward differs in the
    // last bits, and where two values of a 2×2 pooling window are that close the other one wins, which moves
    // that position's gradient by O(1). Measured (2026-11-30): every parameter's gradient at cosine ≥ 0.99997 to
    // the software path's, norms within 0.1%; a wrong slice sum gives cosines far below (see the batchnorm tests
    // for the kernels against the float64 reference, element by element).
    sw.grads.forEach((s, i) => {
      const h = hw.grads[i];
      let sh = 0, ss = 0, hh = 0;
      for (let j = 0; j < s.length; j++) {
        sh += s[j] * h[j];
        ss += s[j] * s[j];
        hh += h[j] * h[j];
      }
      const cos = sh / Math.sqrt(ss * hh), ratio = Math.sqrt(hh / ss);
      assert.ok(cos >= 0.9999 && Math.abs(ratio - 1) <= 5e-3, `${sw.names[i]}: cosine ${cos.toFixed(6)}, norm ratio ${ratio.toFixed(5)}`);
    });
  } finally {
    adapter.software = kind;
  }
});

test.run();
