// data.test.ts — the IDX parser on good and corrupt files, the loader's search order and errors, batching.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, writeIdx, parseImagesAndLabels, IdxError } from '../src/data/idx.js';
import { batches, splitValidation, CLASS_NAMES } from '../src/data/dataset.js';
import { loadFashionMnist, findDataDir, DataError, FILES } from '../src/node/fashion_mnist.js';
import { Generator } from '../src/autograd/random.js';

const images = (n: number) =>
  writeIdx(
    [n, 28, 28],
    Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256),
  );
const labels = (n: number, bad = -1) =>
  writeIdx(
    [n],
    Array.from({ length: n }, (_, i) => (i === bad ? 10 : i % 10)),
  );

test('IDX round trip', () => {
  const f = parseIdx(images(3), 'x', 3);
  assert.equal(f.dims, [3, 28, 28]);
  assert.is(f.data[784 + 1], (785 * 7) % 256);
});

test('IDX errors: truncated, wrong magic, wrong rank, trailing bytes, label out of range, count mismatch', () => {
  const good = images(2);
  assert.throws(
    () => parseIdx(good.subarray(0, good.length - 5), 'imgs', 3),
    (e: Error) => e instanceof IdxError && /truncated/.test(e.message) && /imgs/.test(e.message),
  );
  const bad = good.slice();
  bad[2] = 0x0d;
  assert.throws(() => parseIdx(bad, 'imgs', 3), /bad magic number 0x00000d03/);
  assert.throws(() => parseIdx(gzipSync(good), 'imgs.gz', 3), /bad magic number.*gzip/);
  assert.throws(() => parseIdx(labels(2), 'lbl', 3), /rank 1, expected 3/);
  assert.throws(() => parseIdx(new Uint8Array([...good, 1, 2]), 'imgs', 3), /trailing bytes/);
  assert.throws(() => parseIdx(new Uint8Array(2), 'tiny', 3), /too short/);
  assert.throws(() => parseImagesAndLabels(images(3), labels(3, 1), ['i', 'l']), /label 10 at index 1 is outside 0..9/);
  assert.throws(() => parseImagesAndLabels(images(3), labels(2), ['i', 'l']), /2 labels for 3 images/);
});

function fixtureDir(mutate?: (files: Record<string, Uint8Array>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'fmnist-'));
  const files: Record<string, Uint8Array> = {
    [FILES.trainImages.name]: images(20),
    [FILES.trainLabels.name]: labels(20),
    [FILES.testImages.name]: images(10),
    [FILES.testLabels.name]: labels(10),
  };
  mutate?.(files);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
  return dir;
}

test('loader: --data dir first, fixtures load without verification, verification rejects non-official files', async () => {
  const dir = fixtureDir();
  try {
    assert.is(findDataDir({ dir }), dir);
    const ds = await loadFashionMnist({ dir, verify: false, download: false });
    assert.is(ds.train.count, 20);
    assert.is(ds.test.count, 10);
    await loadFashionMnist({ dir, download: false }).then(
      () => assert.unreachable('verification should fail'),
      (e) => assert.match(String(e), /differ from the official Fashion-MNIST.*corrupt/),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('loader: corrupt gzip and bad labels give errors naming the file', async () => {
  const dir = fixtureDir((f) => (f[FILES.testLabels.name] = labels(10, 4)));
  writeFileSync(join(dir, `${FILES.trainLabels.name}.gz`), new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
  try {
    await loadFashionMnist({ dir, verify: false, download: false }).then(
      () => assert.unreachable(),
      (e) =>
        assert.ok(e instanceof DataError && /train-labels-idx1-ubyte\.gz: not a valid gzip/.test(e.message), String(e)),
    );
    writeFileSync(join(dir, `${FILES.trainLabels.name}.gz`), gzipSync(labels(20)));
    await loadFashionMnist({ dir, verify: false, download: false }).then(
      () => assert.unreachable(),
      (e) => assert.match(String(e), /t10k-labels-idx1-ubyte\.gz: label 10 at index 4/),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('loader: nothing found and no download → says where it looked and how to get the data', async () => {
  const saved = process.env.FASHION_MNIST_DIR;
  const cwd = process.cwd();
  const empty = mkdtempSync(join(tmpdir(), 'empty-'));
  process.env.FASHION_MNIST_DIR = empty;
  process.chdir(empty);
  try {
    assert.is(findDataDir({ systemDir: null }), null);
    await loadFashionMnist({ download: false, systemDir: null }).then(
      () => assert.unreachable(),
      (e) =>
        assert.ok(
          e instanceof DataError &&
            /not found\. Looked in: .*empty-.*apt-get install dataset-fashion-mnist/s.test(e.message),
          String(e),
        ),
    );
    // a directory named with --data must hold the files (no silent fallback to another copy)
    await loadFashionMnist({ dir: empty, download: false }).then(
      () => assert.unreachable(),
      (e) => assert.match(String(e), /--data .*empty-.*: missing train-images-idx3-ubyte\[\.gz\]/),
    );
    await loadFashionMnist({ dir: join(empty, 'nope'), download: false }).then(
      () => assert.unreachable(),
      (e) => assert.match(String(e), /no such directory/),
    );
  } finally {
    process.chdir(cwd);
    if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
    else process.env.FASHION_MNIST_DIR = saved;
    rmSync(empty, { recursive: true });
  }
});

test('the real dataset (where installed) passes every check', async () => {
  if (!findDataDir()) return;
  const ds = await loadFashionMnist({ download: false });
  assert.is(ds.train.count, 60000);
  assert.is(ds.test.count, 10000);
  const counts = new Array(10).fill(0);
  for (const l of ds.test.labels) counts[l]++;
  assert.equal(counts, new Array(10).fill(1000));
  assert.is(CLASS_NAMES[9], 'Ankle boot');
});

test('batches: scaling, seeded shuffle, augmentation stays in range, validation split', () => {
  const set = parseImagesAndLabels(images(10), labels(10), ['i', 'l']);
  const unit = [...batches(set, { batchSize: 4, scale: 'unit', shuffle: false }, new Generator(1))];
  assert.equal(
    unit.map((b) => b.size),
    [4, 4, 2],
  );
  assert.ok(Math.abs(unit[0].x[1] - ((1 * 7) % 256) / 255) < 1e-7);
  const sym = [...batches(set, { batchSize: 4, scale: 'symmetric', shuffle: false, dropLast: true }, new Generator(1))];
  assert.is(sym.length, 2);
  assert.ok(Math.abs(sym[0].x[1] - (((1 * 7) % 256) * 2) / 255 + 1) < 1e-6);
  const a = [...batches(set, { batchSize: 10, scale: 'unit', shuffle: true }, new Generator(5))][0];
  const b = [...batches(set, { batchSize: 10, scale: 'unit', shuffle: true }, new Generator(5))][0];
  assert.equal([...a.y], [...b.y]);
  assert.equal([...a.y].sort(), [...set.labels].map(Number).sort());
  const aug = [
    ...batches(
      set,
      { batchSize: 10, scale: 'unit', shuffle: true, augment: { shift: 2, flip: true } },
      new Generator(5),
    ),
  ][0];
  assert.ok(aug.x.every((v) => v >= 0 && v <= 1));
  const { train, val } = splitValidation(set, 0.3, 1);
  assert.is(train.count + val.count, 10);
  assert.is(val.count, 3);
});

test.run();
