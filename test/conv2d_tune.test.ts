// conv2d_tune.test.ts — conv tiles chosen by timing (src/kernels/conv2d_tune.ts): problems are noted as they run,
// timed under the given tiles, the choice is what later dispatches use, the results keep their bits, a spent
// budget leaves problems to the next call, and GpuBackend.tuneConvs tunes at the next throttle point.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import {
  CONV_TILES,
  convTuning,
  disableConvTuning,
  enableConvTuning,
  tileFits,
  type Tile,
} from '../src/kernels/conv2d.js';
import { Generator } from '../src/autograd/random.js';
import { ganStep, stepVector, makeGan, PRESETS } from '../src/gan/train.js';
import { tileName, tuneConvTiles, tuneModeOf, tunesOn, type TuneOptions } from '../src/kernels/conv2d_tune.js';
import type { Gpu } from '../src/kernels/gpu.js';
import { gpuBackend, randomData, toF32 } from './harness.js';
import type { GpuBackend } from '../src/kernels/backend.js';

// a stride-2 'same' convolution: forward, phased input gradient, weight gradient (gm, gn, gk off every tile side)
async function convStep(g: GpuBackend): Promise<number[][]> {
  const x = Tensor.from(g, toF32(randomData(3 * 5 * 13 * 13, 91)), [3, 5, 13, 13]);
  const w = Tensor.from(g, toF32(randomData(17 * 5 * 9, 92)), [17, 5, 3, 3]);
  x.requiresGrad = w.requiresGrad = true;
  const y = F.conv2d(x, w, null, { stride: 2, padding: 'same' });
  F.sum(F.mul(y, y)).backward();
  const bits = async (t: Tensor) => [...new Uint32Array(Float32Array.from(await t.toArray()).buffer)];
  const out = [await bits(y), await bits(x.grad!), await bits(w.grad!)];
  for (const t of [x, w, y]) t.dispose();
  return out;
}

const TILES: Tile[] = [
  [64, 64],
  [32, 64, 8],
];

type Profiled = { label: string; ms: number }[];
/** convStep's three GEMMs noted and tuned, every profile the tuner reads passed through `see` (which may rewrite
 * its times); tuning and the hook are undone before returning */
async function tuneSeen(g: GpuBackend, see: (p: Profiled) => Profiled, o: TuneOptions) {
  const stop = g.gpu.stopProfile;
  try {
    enableConvTuning(g.gpu);
    await convStep(g);
    g.gpu.stopProfile = async () => see(await stop.call(g.gpu));
    return await tuneConvTiles(g.gpu, o);
  } finally {
    g.gpu.stopProfile = stop;
    disableConvTuning(g.gpu);
  }
}

test('--tune: the flag, else $FMNIST_TUNE, else auto; a bad word names its source; auto times on GPUs with timestamps only', () => {
  assert.is(tuneModeOf(undefined, undefined), 'auto');
  assert.is(tuneModeOf(undefined, 'off'), 'off');
  assert.is(tuneModeOf('on', 'off'), 'on', 'the flag beats the environment');
  assert.throws(() => tuneModeOf('always', 'off'), /--tune takes auto, on or off; got 'always'/);
  assert.throws(() => tuneModeOf(undefined, 'yes'), /FMNIST_TUNE takes auto, on or off; got 'yes'/);
  const dev = (software: boolean, canTime: boolean) => ({ canTime, adapter: { software } }) as unknown as Gpu;
  assert.equal(
    [dev(false, true), dev(true, true), dev(false, false)].map((g) => tunesOn(g, 'auto')),
    [true, false, false],
  );
  assert.equal(
    [dev(false, true), dev(true, true), dev(false, false)].map((g) => tunesOn(g, 'on')),
    [true, true, false],
  );
  assert.equal(
    [dev(false, true), dev(true, true)].map((g) => tunesOn(g, 'off')),
    [false, false],
  );
});

test('conv tuning: every problem noted, timed under the tiles, the choice used from then on, the same bits', async () => {
  const g = await gpuBackend();
  try {
    const before = await convStep(g); // tuning off: pickTile's rule
    const tu = enableConvTuning(g.gpu);
    assert.equal(await convStep(g), before, 'noting problems changes nothing');
    const modes = [...tu.pending.values()].map((s) => s.mode).sort();
    assert.equal(modes, ['forward', 'gradInput', 'gradWeight'], 'the three GEMMs of the layer');
    const r = await tuneConvTiles(g.gpu, { tiles: TILES, reps: 1 });
    assert.is(r.length, 3);
    assert.is(tu.pending.size, 0);
    assert.is(tu.tiles.size, 3);
    for (const x of r) {
      assert.ok(x.ruleMs > 0 && x.bestMs > 0 && x.bestMs <= x.ruleMs, `${x.mode}: timed (${x.ruleMs}, ${x.bestMs})`);
      assert.ok([x.rule, ...TILES.map(tileName)].includes(x.best), `${x.mode}: ${x.best} is a candidate`);
    }
    assert.equal(await convStep(g), before, 'the tuned tiles give the same bits');
    assert.is(tu.pending.size, 0, 'tuned problems are not noted again');
    // the choice is what runs: force every problem to 32×64/8 and look at the dispatched pipelines
    for (const k of tu.tiles.keys()) tu.tiles.set(k, [32, 64, 8]);
    g.gpu.startProfile();
    const again = await convStep(g);
    const labels = (await g.gpu.stopProfile()).map((p) => p.label).filter((l) => l.startsWith('conv2d.wgsl:conv2d('));
    assert.is(labels.length, 3);
    for (const l of labels) assert.match(l, /BM=32,BN=64,TB=8/);
    assert.equal(again, before, '32×64/8: the same bits');
  } finally {
    disableConvTuning(g.gpu);
  }
});

test('conv tuning: a spent budget leaves the problems untimed, to be noted and timed on a later call', async () => {
  const g = await gpuBackend();
  try {
    const tu = enableConvTuning(g.gpu);
    await convStep(g);
    assert.is(tu.pending.size, 3);
    assert.equal(await tuneConvTiles(g.gpu, { tiles: TILES, reps: 1, budgetMs: -1 }), []);
    assert.is(tu.tiles.size, 0);
    await convStep(g);
    assert.is(tu.pending.size, 3, 'noted again');
    assert.is((await tuneConvTiles(g.gpu, { tiles: TILES, reps: 1 })).length, 3);
  } finally {
    disableConvTuning(g.gpu);
  }
});

test("GpuBackend.tuneConvs: the next throttle point (the end of a step) times the step's conv problems", async () => {
  const g = await gpuBackend();
  try {
    const reports: number[] = [];
    assert.ok(
      g.tuneConvs((r) => reports.push(r.length), { tiles: TILES, reps: 1 }),
      'lavapipe has timestamp queries',
    );
    await convStep(g);
    const ms0 = g.tuneMs;
    await g.throttle(2);
    assert.equal(reports, [3]);
    assert.ok(g.tuneMs > ms0, 'the time spent timing is counted (training loops leave it out of epoch times)');
    await convStep(g);
    await g.throttle(2);
    assert.equal(reports, [3], 'nothing new: no second tuning');
    assert.is(convTuning(g.gpu)!.tiles.size, 3);
  } finally {
    disableConvTuning(g.gpu);
  }
});

test("conv tuning: timestamps that are not positive (a broken driver) leave the rule's tiles", async () => {
  const r = await tuneSeen(await gpuBackend(), (p) => p.map((x, i) => ({ ...x, ms: i % 2 ? 0 : -1 })), {
    tiles: TILES,
    reps: 1,
  });
  assert.is(r.length, 3);
  for (const x of r) assert.is(x.best, x.rule, `${x.mode}: kept ${x.rule}`);
});

test("conv tuning: the rule's tile first keeps the GPU busy for warmMs, then the tiles are timed in interleaved rounds", async () => {
  const profiles: string[][] = [];
  const r = await tuneSeen(await gpuBackend(), (p) => (profiles.push(p.map((x) => x.label)), p), {
    tiles: TILES,
    reps: 2,
    warmMs: 1e6,
  });
  assert.is(r.length, 3);
  assert.is(profiles.length, 6, 'two profiles per problem: the untimed round, then warm-up and timed rounds');
  for (let i = 0; i < 3; i++) {
    const [first, timed] = [profiles[2 * i], profiles[2 * i + 1]];
    const n = first.length; // the candidates, in order
    assert.ok(n >= 2, 'every candidate in the untimed round');
    const warm = timed.length - 2 * n;
    assert.is(warm, 256, 'a warmMs no kernel reaches: the cap on warm-up runs');
    const ruleLabel = first[Object.keys(r[i].all).indexOf(r[i].rule)];
    assert.ok(
      timed.slice(0, warm).every((l) => l === ruleLabel),
      "the warm-up runs the rule's tile",
    );
    assert.equal(timed.slice(warm, warm + n), first, 'round 1: every candidate, in order');
    assert.equal(timed.slice(warm + n), first, 'round 2: the same order');
  }
});

test("conv tuning on a hardware adapter by default: a warm-up of the rule's tile, then 5 rounds", async () => {
  const g = await gpuBackend();
  const adapter = g.gpu.adapter as { software: boolean };
  const kind = adapter.software;
  const lengths: number[] = [];
  adapter.software = false; // seen as hardware: the defaults a GPU gets (tiles for it are not the point here)
  try {
    const r = await tuneSeen(g, (p) => (lengths.push(p.length), p), { tiles: TILES });
    assert.is(r.length, 3);
    for (let i = 0; i < 3; i++) {
      const n = lengths[2 * i];
      const warm = lengths[2 * i + 1] - 5 * n;
      assert.ok(warm >= 1 && warm <= 256, `${r[i].mode}: ${warm} warm-up runs before 5 rounds of ${n}`);
    }
  } finally {
    adapter.software = kind;
  }
});

test("conv tuning: where the rule's tile has no valid time, it stays, however fast the others read", async () => {
  // only 32×64/8 reads a time; every other tile (the rule among them, unless it is 32×64/8) reads 0
  const r = await tuneSeen(
    await gpuBackend(),
    (p) => p.map((x) => ({ ...x, ms: /BM=32,BN=64,TB=8/.test(x.label) ? 0.5 : 0 })),
    { tiles: TILES, reps: 1 },
  );
  assert.is(r.length, 3);
  for (const x of r) {
    if (x.rule === '32×64/8') continue;
    assert.is(x.ruleMs, Infinity);
    assert.is(x.best, x.rule, `${x.mode}: kept ${x.rule}`);
  }
});

// the whole AC-GAN step (convolutions, transposed convolutions, their gradients, split weight gradients), each of
// its conv problems forced onto a tile drawn at random: the same losses and updated weights, bit for bit
test('conv tuning: an AC-GAN step with every conv problem on a random tile gives the same bits', async () => {
  const g = await gpuBackend();
  const B = 4;
  const run = async () => {
    const s = makeGan(g, PRESETS['acgan-lite'].config, PRESETS['acgan-lite'].hyper, 5);
    const gen = new Generator(6);
    const x = Tensor.from(
      g,
      Float32Array.from(gen.uniform(B * 784), (v) => v * 2 - 1),
      [B, 1, 28, 28],
    );
    const y = Tensor.from(
      g,
      Array.from(gen.uniform(B), (v) => Math.floor(v * 10)),
      [B],
      'i32',
    );
    const lt = tidy(() => stepVector(ganStep(g, s, x, y)));
    const losses = await lt.toArray();
    lt.dispose();
    const weights = await Promise.all([...s.G.parameters(), ...s.D.parameters()].map((p) => p.toArray()));
    for (const t of [x, y]) t.dispose();
    for (const m of [s.G, s.D, s.optG, s.optD]) m.dispose();
    const bits = (a: ArrayLike<number>) => [...new Uint32Array(Float32Array.from(a).buffer)];
    return { losses: bits(losses), weights: weights.map(bits) };
  };
  try {
    const before = await run();
    const tu = enableConvTuning(g.gpu);
    await run(); // notes the step's problems
    const tiles = CONV_TILES.filter((t) => tileFits(g.gpu, t));
    const pick = new Generator(7);
    for (const key of tu.pending.keys()) tu.tiles.set(key, tiles[Math.floor(pick.uniform(1)[0] * tiles.length)]);
    assert.ok(tu.tiles.size >= 10, `${tu.tiles.size} conv problems in a step`);
    tu.pending.clear();
    const after = await run();
    assert.is(tu.pending.size, 0, 'every problem ran on its forced tile');
    assert.equal(after.losses, before.losses, 'losses');
    after.weights.forEach((w, i) =>
      assert.ok(
        w.every((v, j) => v === before.weights[i][j]),
        `parameter ${i} after the update`,
      ),
    );
  } finally {
    disableConvTuning(g.gpu);
  }
});

test.run();
