// adapter_paths.test.ts — the kernel choices that depend on the adapter's kind (conv tiles: 8×8 blocks on software
// adapters, 4×4 on hardware; split-K counts: 4 workgroups' worth on software, 264 on hardware; sliced reductions
// and sliced batchnorm: hardware only) give the same training step. CI has no GPU, so the hardware paths run here
// on lavapipe with the adapter seen as hardware: one seed-CNN step at a batch whose conv bias gradients
// (96·28·28 = 75 264 terms) and first batchnorms (32 channels of 75 264) are sliced, against the same step with the
// adapter seen as it is; and a GAN step of each kind (grouped batchnorms sliced, split-K convolutions). Each
// path's kernels are also checked one by one against the CPU reference (conv2d, reduce and batchnorm tests, tiles
// and slices forced); this checks that they compose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import { Generator } from '../src/autograd/random.js';
import { Cnn, SEED_CNN } from '../src/models/cnn.js';
import { Adam } from '../src/nn/optim.js';
import { ganStep, makeGan, PRESETS, stepVector } from '../src/gan/train.js';
import type { Backend } from '../src/autograd/backend.js';
import { gpuBackend } from './harness.js';

/** every pair of gradients at cosine ≥ minCos and norm ratio within maxRatio of 1 */
function assertSameDirection(
  sw: ArrayLike<number>[],
  hw: ArrayLike<number>[],
  names: string[],
  minCos: number,
  maxRatio: number,
): void {
  sw.forEach((s, i) => {
    const h = hw[i];
    let sh = 0,
      ss = 0,
      hh = 0;
    for (let j = 0; j < s.length; j++) {
      sh += s[j] * h[j];
      ss += s[j] * s[j];
      hh += h[j] * h[j];
    }
    if (ss === 0 && hh === 0) return;
    const cos = sh / Math.sqrt(ss * hh),
      ratio = Math.sqrt(hh / ss);
    assert.ok(
      cos >= minCos && Math.abs(ratio - 1) <= maxRatio,
      `${names[i]}: cosine ${cos.toFixed(6)}, norm ratio ${ratio.toFixed(5)}`,
    );
  });
}

/**
 * `step` with the adapter seen as software, then as hardware (restored afterwards): both results, the hardware
 * one having dispatched more (its paths split and slice)
 */
async function bothWays<T extends { dispatches: number }>(step: () => Promise<T>): Promise<{ sw: T; hw: T }> {
  const g = await gpuBackend();
  const adapter = g.gpu.adapter as { software: boolean };
  const kind = adapter.software;
  try {
    adapter.software = true;
    const sw = await step();
    adapter.software = false;
    const hw = await step();
    assert.ok(
      hw.dispatches > sw.dispatches,
      `the hardware paths split and slice more (dispatches ${hw.dispatches} vs ${sw.dispatches})`,
    );
    return { sw, hw };
  } finally {
    adapter.software = kind;
  }
}

/** B seeded images in [lo, hi] and labels on the backend */
function batch(g: Backend, B: number, seed: number, lo: number): [Tensor, Tensor] {
  const gen = new Generator(seed);
  return [
    Tensor.from(
      g,
      Float32Array.from(gen.uniform(B * 784), (v) => lo + (1 - lo) * v),
      [B, 1, 28, 28],
    ),
    Tensor.from(
      g,
      Array.from(gen.uniform(B), (v) => Math.floor(v * 10)),
      [B],
      'i32',
    ),
  ];
}

test('a seed-CNN step seen as a hardware adapter (4×4 tiles, 264-workgroup splits, sliced sums and batchnorms) equals the software-adapter step', async () => {
  const g = await gpuBackend();
  const { sw, hw } = await bothWays(async () => {
    const [x, y] = batch(g, 96, 1, 0);
    const net = new Cnn(g, new Generator(2), SEED_CNN);
    const opt = new Adam(net.parameters(), { lr: 1e-3 });
    const d0 = g.gpu.counters.dispatches;
    const loss = tidy(() => {
      const l = F.softmaxCrossEntropy(net.forward(x), y);
      l.backward();
      return l;
    });
    const dispatches = g.gpu.counters.dispatches - d0;
    const out = {
      loss: await loss.item(),
      names: net.namedParameters().map(([n]) => n),
      grads: await Promise.all(net.parameters().map((p) => p.grad!.toArray())),
      dispatches,
    };
    for (const t of [loss, net, opt, x, y]) t.dispose();
    return out;
  });
  assert.ok(Math.abs(hw.loss - sw.loss) <= 1e-6 * Math.abs(sw.loss), `loss ${hw.loss} vs ${sw.loss}`);
  // Not element by element: the sliced batchnorm statistics add in another order, so the forward differs in the
  // last bits, and where two values of a 2×2 pooling window are that close the other one wins, which moves
  // that position's gradient by O(1). Measured (2026-11-30): every parameter's gradient at cosine ≥ 0.99997 to
  // the software path's, norms within 0.1%; a wrong slice sum gives cosines far below (see the batchnorm tests
  // for the kernels against the float64 reference, element by element).
  assertSameDirection(sw.grads, hw.grads, sw.names, 0.9999, 5e-3);
});

// A whole GAN step (both D forms; D's real and generated batches as one batch of two groups) seen as a hardware
// adapter: at batch 96 the grouped batchnorms of D (32 channels × 2 groups of 96·196 values, lite networks) and the
// generator's are sliced, the G step's 7×7 convolutions split-K, the weight gradients split for 264 workgroups.
for (const preset of ['acgan-lite', 'cgan-lite'] as const)
  test(`a ${preset} GAN step seen as a hardware adapter equals the software-adapter step`, async () => {
    const g = await gpuBackend();
    const p = PRESETS[preset];
    const { sw, hw } = await bothWays(async () => {
      const [x, y] = batch(g, 96, 3, -1);
      // the seed's AC-GAN form (class loss on real and generated images): every head and loss of the step runs
      const s = makeGan(g, { ...p.config, auxFake: true }, p.hyper, 4);
      const d0 = g.gpu.counters.dispatches;
      const losses = tidy(() => stepVector(ganStep(g, s, x, y))); // dReal, dFake, aux, g, D(x), D(G(z))
      const dispatches = g.gpu.counters.dispatches - d0;
      const params = [...s.D.namedParameters(), ...s.G.namedParameters()];
      const out = {
        losses: [...(await losses.toArray())],
        names: params.map(([n]) => n),
        grads: await Promise.all(params.map(([, t]) => t.grad!.toArray())),
        dispatches,
      };
      for (const t of [losses, s.G, s.D, s.optG, s.optD, x, y]) t.dispose();
      s.ema?.G.dispose();
      s.ema?.avg.dispose();
      return out;
    });
    // D's losses come before any update; G's after D's update (Adam's first step moves each weight by ±lr, so a
    // gradient near 0 that rounds the other way moves its weight the other way): a looser bound there. Measured
    // (2026-12-02): losses equal to 1e-7, every gradient at cosine 1.0000000 (7 digits), norms within 2e-5
    sw.losses.forEach((v, i) =>
      assert.ok(
        Math.abs(hw.losses[i] - v) <= (i === 3 ? 1e-4 : 1e-5) * Math.max(1, Math.abs(v)),
        `loss ${i}: ${hw.losses[i]} vs ${v}`,
      ),
    );
    // D's gradients (its step's, before its update) and G's (through the updated D)
    assertSameDirection(sw.grads, hw.grads, sw.names, 0.99999, 1e-3);
  });

test.run();
