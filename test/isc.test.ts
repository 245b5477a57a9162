// isc.test.ts — the classifier score (src/eval/isc.ts, the Inception Score formula on our classifier's logits)
// against known answers and the definition: 1 for identical predictions, the number of classes for certain
// predictions spread evenly (and the number of classes used when fewer), 1 for one-class splits when samples
// ordered by class are not shuffled; the definition computed directly from softmax probabilities, split by split;
// population std; seeded shuffles; refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator } from '../src/autograd/random.js';
import { isc } from '../src/eval/isc.js';

/** logits of certain predictions: 0 for the class, −1000 elsewhere (softmax exactly one-hot in float64) */
const oneHot = (labels: number[], classes: number) =>
  labels.flatMap((y) => Array.from({ length: classes }, (_, c) => (c === y ? 0 : -1000)));
const labelsOf = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

test('identical predictions score 1; certain, evenly spread ones the number of classes', () => {
  const same = Array.from({ length: 50 }, () => [0.3, -1.2, 2.5, 0.1]).flat();
  const a = isc(same, 4, { splits: 5 });
  for (const v of a.values) assert.ok(Math.abs(v - 1) < 1e-14, `identical: ${v}`);
  assert.ok(a.std < 1e-14);
  // 100 samples cycling through 10 classes, unshuffled: each split of 10 holds every class once
  const even = isc(
    oneHot(
      Array.from({ length: 100 }, (_, i) => i % 10),
      10,
    ),
    10,
    { shuffle: false },
  );
  for (const v of even.values) assert.ok(Math.abs(v - 10) < 1e-12, `even: ${v}`);
  assert.equal([even.splits, even.n, even.classes], [10, 100, 10]);
  // one split: any order; five classes used of ten: 5
  assert.ok(
    Math.abs(
      isc(
        oneHot(
          labelsOf(60, (i) => (i * 7) % 10),
          10,
        ),
        10,
        { splits: 1 },
      ).mean - 10,
    ) < 1e-12,
  );
  assert.ok(
    Math.abs(
      isc(
        oneHot(
          labelsOf(60, (i) => 2 * (i % 5)),
          10,
        ),
        10,
        { splits: 1 },
      ).mean - 5,
    ) < 1e-12,
  );
});

test('samples ordered by class: one-class splits score 1 unshuffled; the seeded shuffle mixes them', () => {
  const sorted = oneHot(
    Array.from({ length: 1000 }, (_, i) => Math.floor(i / 100)),
    10,
  );
  const plain = isc(sorted, 10, { shuffle: false });
  for (const v of plain.values) assert.ok(Math.abs(v - 1) < 1e-14);
  // each shuffled split of 100 holds about 10 of each class: exp(entropy of its class shares), a little below 10
  const mixed = isc(sorted, 10);
  assert.ok(mixed.mean > 9 && mixed.mean < 10 && mixed.std > 0, JSON.stringify(mixed));
  assert.equal(isc(sorted, 10, { seed: 4 }).values, isc(sorted, 10, { seed: 4 }).values);
  assert.not.equal(isc(sorted, 10, { seed: 4 }).values, isc(sorted, 10, { seed: 5 }).values);
});

test('random logits: each split equals exp(mean KL(p(y|x) ‖ p(y))) from softmax probabilities; population std', () => {
  const n = 93,
    classes = 7,
    splits = 4;
  const logits = new Generator(3).normal(n * classes, 0, 2);
  const r = isc(logits, classes, { splits, shuffle: false });
  const p = Array.from({ length: n }, (_, i) => {
    const e = Array.from({ length: classes }, (_, c) => Math.exp(logits[i * classes + c]));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  });
  const want = Array.from({ length: splits }, (_, s) => {
    const part = p.slice(Math.floor((s * n) / splits), Math.floor(((s + 1) * n) / splits));
    const q = Array.from({ length: classes }, (_, c) => part.reduce((a, row) => a + row[c], 0) / part.length);
    const kl = part.reduce((a, row) => a + row.reduce((b, v, c) => b + v * Math.log(v / q[c]), 0), 0) / part.length;
    return Math.exp(kl);
  });
  for (let s = 0; s < splits; s++)
    assert.ok(Math.abs(r.values[s] - want[s]) < 1e-12, `split ${s}: ${r.values[s]} vs ${want[s]}`);
  assert.ok(
    want.every((v) => v > 1.2 && v < classes),
    'a case between the bounds',
  );
  const mean = want.reduce((a, v) => a + v, 0) / splits;
  assert.ok(Math.abs(r.mean - mean) < 1e-12);
  assert.ok(Math.abs(r.std - Math.sqrt(want.reduce((a, v) => a + (v - mean) ** 2, 0) / splits)) < 1e-12);
});

test('bad input is refused with what to change', () => {
  assert.throws(() => isc([1, 2, 3], 2), /3 logits are not a whole number of rows of 2 classes/);
  assert.throws(() => isc([1, 2], 1), /classes \(≥ 2\)/);
  assert.throws(() => isc([1, 2, 3, 4], 2, { splits: 3 }), /2 samples cannot be scored in 3 splits/);
  assert.throws(() => isc([1, 2, 3, 4], 2, { splits: 0 }), /splits must be an integer ≥ 1/);
  assert.throws(() => isc([1, Infinity, 3, 4], 2, { splits: 1 }), /non-finite logit Infinity \(sample 0, class 1\)/);
});

test.run();
