// classifier.test.ts — a tiny CNN (the seed architecture, fewer channels) learns a small Fashion-MNIST subset on
// the GPU backend: the training loss falls and accuracy beats chance; evaluation's confusion matrix adds up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { trainClassifier, EpochMetrics } from '../src/train/classifier.js';
import { loadFashionMnist, findDataDir } from '../src/node/fashion_mnist.js';
import { gpuBackend } from './harness.js';

const TINY = { channels: [4, 4, 8, 8, 8, 8], dense: 16, dropout: 0.1, bnMomentum: 0.1, bnEps: 1e-3, classes: 10 };

test('a tiny CNN learns 512 Fashion-MNIST images: loss falls, accuracy beats chance', async () => {
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed; run scripts/setup.sh)');
    return;
  }
  const be = await (await gpuBackend());
  be.gpu.poison = false; // a training run, not a kernel check
  const data = await loadFashionMnist({ download: false });
  const epochs: EpochMetrics[] = [];
  const { test: res } = await trainClassifier(be, data, {
    epochs: 4, batch: 32, lr: 3e-3, seed: 1, valFraction: 0.1, patience: 0, augment: false,
    trainSubset: 512, testSubset: 500, logEvery: 1000, config: TINY, onEpoch: (m) => void epochs.push(m),
  });
  be.gpu.poison = true;
  assert.is(epochs.length, 4);
  assert.ok(epochs[3].trainLoss < epochs[0].trainLoss * 0.8, `loss ${epochs.map((e) => e.trainLoss.toFixed(3)).join(' → ')}`);
  assert.ok(res.acc > 0.4, `test accuracy ${res.acc}`);
  assert.is(res.confusion.flat().reduce((a, b) => a + b, 0), 500);
  assert.is(res.count, 500);
});

test.run();
