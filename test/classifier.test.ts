// classifier.test.ts — a tiny CNN (the seed architecture, fewer channels) learns a small Fashion-MNIST subset on
// the GPU backend: the training loss falls and accuracy beats chance; evaluation's confusion matrix adds up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { trainClassifier, makeClassifier, type EpochMetrics } from '../src/train/classifier.js';
import { loadFashionMnist, findDataDir } from '../src/node/fashion_mnist.js';
import { gpuBackend, randomData, withTempDir } from './harness.js';
import {
  runCnn,
  evalCnn,
  saveCnn,
  cnnStateTensors,
  shipClassifier,
  loadClassifier,
  type Classifier,
} from '../src/app/cnn_run.js';
import { CheckpointError } from '../src/nn/checkpoint.js';
import { decodeSafetensors } from '../src/nn/safetensors.js';
import { NonFiniteError } from '../src/train/guard.js';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const TINY = { channels: [4, 4, 8, 8, 8, 8], dense: 16, dropout: 0.1, bnMomentum: 0.1, bnEps: 1e-3, classes: 10 };

test('a tiny CNN learns 512 Fashion-MNIST images: loss falls, accuracy beats chance', async () => {
  if (!findDataDir()) {
    console.log('  (skipped: Fashion-MNIST not installed; run scripts/setup.sh)');
    return;
  }
  const be = await await gpuBackend();
  be.gpu.poison = false; // a training run, not a kernel check
  const data = await loadFashionMnist({ download: false });
  const epochs: EpochMetrics[] = [];
  const { test: resOrNull } = await trainClassifier(be, data, {
    epochs: 4,
    batch: 32,
    lr: 3e-3,
    seed: 1,
    valFraction: 0.1,
    patience: 0,
    augment: false,
    trainSubset: 512,
    testSubset: 500,
    logEvery: 1000,
    config: TINY,
    onEpoch: (m) => void epochs.push(m),
  });
  be.gpu.poison = true;
  const res = resOrNull!;
  assert.is(epochs.length, 4);
  assert.ok(
    epochs[3].trainLoss < epochs[0].trainLoss * 0.8,
    `loss ${epochs.map((e) => e.trainLoss.toFixed(3)).join(' → ')}`,
  );
  assert.ok(res.acc > 0.4, `test accuracy ${res.acc}`);
  assert.is(
    res.confusion.flat().reduce((a, b) => a + b, 0),
    500,
  );
  assert.is(res.count, 500);
});

test('resume from a checkpoint reproduces the uninterrupted run (same adapter): losses, accuracy, weights', async () => {
  if (!findDataDir()) return;
  const be = await gpuBackend();
  be.gpu.poison = false;
  const data = await loadFashionMnist({ download: false });
  await withTempDir('cnn-resume-', async (dir) => {
    const opts = {
      epochs: 2,
      batch: 32,
      lr: 3e-3,
      seed: 2,
      valFraction: 0.1,
      patience: 0,
      augment: true,
      trainSubset: 128,
      testSubset: 100,
      logEvery: 1000,
      config: TINY,
    };
    const quiet = () => {};
    try {
      const full = await runCnn(be, data, opts, join(dir, 'full'), undefined, quiet);
      await runCnn(be, data, { ...opts, epochs: 1 }, join(dir, 'part'), undefined, quiet);
      // and an interruption mid-epoch (after the 2nd of 4 batches of epoch 2), resumed from its exact position
      let n = 0;
      const cut = await runCnn(
        be,
        data,
        { ...opts, shouldStop: () => ++n === 2 },
        join(dir, 'cut'),
        join(dir, 'part', 'last.safetensors'),
        quiet,
      );
      assert.ok(cut.interrupted && cut.test === null);
      const rest = await runCnn(be, data, opts, join(dir, 'cut'), join(dir, 'cut', 'last.safetensors'), quiet);
      assert.equal(
        rest.history.map((m) => [m.trainLoss, m.trainAcc, m.valLoss, m.step]),
        full.history.map((m) => [m.trainLoss, m.trainAcc, m.valLoss, m.step]),
      );
      assert.is(rest.test!.acc, full.test!.acc);
      const resumed = await runCnn(be, data, opts, join(dir, 'part'), join(dir, 'part', 'last.safetensors'), quiet);
      assert.is(resumed.history.length, 2);
      assert.equal(
        resumed.history.map((m) => [m.trainLoss, m.trainAcc, m.valLoss, m.step]),
        full.history.map((m) => [m.trainLoss, m.trainAcc, m.valLoss, m.step]),
      );
      assert.is(resumed.test!.acc, full.test!.acc);
      // every tensor of the final checkpoints (weights, batchnorm statistics, Adam moments) is bit-identical;
      // only the wall-clock fields of the metadata differ
      const a = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'full', 'last.safetensors'))));
      const b = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'part', 'last.safetensors'))));
      assert.equal(Object.keys(a.tensors), Object.keys(b.tensors));
      for (const k of Object.keys(a.tensors))
        assert.ok(
          a.tensors[k].data.every((v, i) => Object.is(v, b.tensors[k].data[i])),
          `tensor ${k} differs`,
        );
      for (const f of [
        'metrics.jsonl',
        'loss.svg',
        'accuracy.svg',
        'confusion.svg',
        'best.safetensors',
        'summary.json',
      ])
        assert.ok(existsSync(join(dir, 'full', f)), f);
    } finally {
      be.gpu.poison = true;
    }
  });
});

test('a diverging CNN run stops with NonFiniteError naming the step range and the tensor', async () => {
  if (!findDataDir()) return;
  const be = await gpuBackend();
  be.gpu.poison = false;
  const data = await loadFashionMnist({ download: false });
  try {
    await trainClassifier(be, data, {
      epochs: 1,
      batch: 16,
      lr: 1e30,
      seed: 1,
      valFraction: 0.1,
      patience: 0,
      augment: false,
      trainSubset: 64,
      testSubset: 20,
      logEvery: 1,
      config: TINY,
    }).then(
      () => assert.unreachable('lr 1e30 should diverge'),
      (e) => {
        assert.ok(e instanceof NonFiniteError, String(e));
        assert.match(e.message, /non-finite (weights|loss) between steps \d+ and \d+ \(epoch 1\)/);
      },
    );
  } finally {
    be.gpu.poison = true;
  }
});

test('the evaluation classifier: loaded from a full or a slim (shipped) checkpoint alike; its SHA-256 is checked', async () => {
  const be = await gpuBackend();
  await withTempDir('cnn-ship-', async (dir) => {
    const cls = makeClassifier(be, 4, TINY);
    const loaded: Classifier[] = [];
    try {
      // non-zero Adam moments and batchnorm statistics, so dropping or mixing them up would show
      for (const t of Object.values(cnnStateTensors(cls)))
        t.assign(Float32Array.from(randomData(t.size, t.size % 97, 0.5, 1.5)));
      const full = join(dir, 'best.safetensors');
      await saveCnn(
        full,
        cls,
        { epochs: 0, batch: 1, lr: 1e-3, seed: 1, valFraction: 0.1, patience: 0, augment: false, logEvery: 1 },
        3,
        30,
      );
      const shipped = join(dir, 'models', 'eval-classifier.safetensors');
      const hash = shipClassifier(full, shipped, { testAccuracy: 0.5, testImages: 7 });
      assert.match(
        readFileSync(`${shipped}.sha256`, 'utf8'),
        new RegExp(`^${hash}  eval-classifier\\.safetensors\\n$`),
      );
      const slim = decodeSafetensors(new Uint8Array(readFileSync(shipped)));
      assert.ok(
        Object.keys(slim.tensors).length > 0 && Object.keys(slim.tensors).every((k) => !k.startsWith('optim.')),
        'no optimizer moments',
      );
      assert.is(Object.keys(slim.tensors).length, Object.keys(cls.model.stateDict()).length);
      assert.is(JSON.parse(slim.metadata!.testAccuracy), 0.5);
      assert.ok(readFileSync(shipped).length < readFileSync(full).length / 2, 'slim is less than half the size');
      loaded.push(loadClassifier(be, full), loadClassifier(be, shipped));
      assert.is(loaded[1].sha256, hash);
      const want = await Promise.all(Object.values(cls.model.stateDict()).map((t) => t.toArray()));
      for (const c of loaded) {
        assert.not.ok(c.model.training, 'eval mode');
        const got = await Promise.all(Object.values(c.model.stateDict()).map((t) => t.toArray()));
        got.forEach((g, i) =>
          assert.ok(
            g.every((v, j) => Object.is(v, want[i][j])),
            `tensor ${i} of ${c.path}`,
          ),
        );
      }
      // `eval cnn` scores the shipped file as it scores the training checkpoint
      if (findDataDir()) {
        const data = await loadFashionMnist({ download: false });
        const [a, b] = [await evalCnn(be, data, full, 50), await evalCnn(be, data, shipped, 50)];
        assert.is(b.count, 50);
        assert.equal([b.loss, b.confusion], [a.loss, a.confusion]);
      }
      // a changed file is refused: its scores would be on another ruler
      const bytes = readFileSync(shipped);
      bytes[bytes.length - 1] ^= 1;
      writeFileSync(shipped, bytes);
      try {
        loadClassifier(be, shipped);
        assert.unreachable('a file that differs from its recorded SHA-256 must be refused');
      } catch (e) {
        assert.instance(e, CheckpointError);
        assert.match(
          (e as Error).message,
          /SHA-256 [0-9a-f]{64} differs from the one recorded in .*eval-classifier\.safetensors\.sha256/,
        );
      }
    } finally {
      for (const c of loaded) c.model.dispose();
      cls.model.dispose();
      cls.opt.dispose();
    }
  });
});

test.run();
