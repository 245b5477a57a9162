// gpu.test.ts — the GPU context itself: poisoning catches unwritten elements, the pool reuses buffers (a repeated
// step does not grow peak memory), dispatches are batched into few submits, WGSL errors name their file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/autograd/ops.js';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import { Generator } from '../src/autograd/random.js';
import { gpuBackend, assertClose, relError } from './harness.js';
import { sizeClass } from '../src/kernels/buffer_pool.js';

test('an element no kernel wrote reads as NaN and fails the comparison', async () => {
  const be = await gpuBackend();
  const t = Tensor.empty(be, [17]);
  const v = await t.toArray();
  assert.ok(v.every((x) => Number.isNaN(x)));
  assert.is(relError(v, new Float64Array(17)), Infinity);
  let msg = '';
  try {
    assertClose(v, new Float64Array(17), 1e-4, 'poisoned');
  } catch (e) {
    msg = String((e as Error).message);
  }
  assert.match(msg, /relative error Infinity/);
  t.dispose();
});

test('size classes: powers of two to 4 KiB, then quarter octaves', () => {
  assert.is(sizeClass(1), 256);
  assert.is(sizeClass(4000), 4096);
  assert.is(sizeClass(4097), 5120);
  assert.is(sizeClass(1 << 20), 1 << 20);
  assert.is(sizeClass((1 << 20) + 1), 1.25 * (1 << 20));
  // the definition, with Math.log2, against the clz32 form sizeClass uses, on edges and random sizes up to 8 GiB
  const ref = (bytes: number) => {
    const b = Math.max(256, Math.ceil(bytes / 256) * 256);
    if (b <= 4096) return 2 ** Math.ceil(Math.log2(b));
    const step = 2 ** Math.floor(Math.log2(b)) / 4;
    return Math.ceil(b / step) * step;
  };
  const g = new Generator(5);
  const sizes = [0, 255, 256, 257, 4095, 4096, 4097, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 + 7];
  for (let e = 8; e < 33; e++) sizes.push(2 ** e - 1, 2 ** e, 2 ** e + 1, 2 ** e + 256);
  for (const u of g.uniform(2000)) sizes.push(Math.floor(2 ** (33 * u)));
  for (const b of sizes) assert.is(sizeClass(b), ref(b), `size ${b}`);
});

function step(_be: Awaited<ReturnType<typeof gpuBackend>>, w: Tensor, x: Tensor, gen: Generator): Tensor {
  return tidy(() => {
    const h = F.dropout(F.relu(F.matmul(x, w)), 0.1, gen);
    const loss = F.mean(F.square(h));
    loss.backward();
    return loss;
  });
}

test('the same training step twice does not grow peak bytes or allocate', async () => {
  const be = await gpuBackend();
  const gen = new Generator(1);
  const w = F.randomNormal(be, [33, 17], gen).setRequiresGrad();
  const x = F.randomNormal(be, [65, 33], gen);
  await be.gpu.sync();
  be.gpu.pool.resetPeak();
  for (let i = 0; i < 2; i++) {
    step(be, w, x, gen).dispose();
    w.grad!.dispose();
    w.grad = null;
  }
  await be.gpu.sync();
  const s0 = be.gpu.pool.stats(); // peak over the two warm-up steps
  be.gpu.pool.resetPeak();
  for (let i = 0; i < 5; i++) {
    step(be, w, x, gen).dispose();
    w.grad!.dispose();
    w.grad = null;
  }
  await be.gpu.sync();
  const s1 = be.gpu.pool.stats();
  assert.is(s1.allocations, s0.allocations, 'no new buffers');
  assert.ok(s1.peakLiveBytes <= s0.peakLiveBytes, `peak grew: ${s0.peakLiveBytes} → ${s1.peakLiveBytes}`);
  assert.is(s1.liveBytes, s0.liveBytes);
  w.dispose();
  x.dispose();
});

test('dispatches are batched: a step records many dispatches and submits once', async () => {
  const be = await gpuBackend();
  await be.gpu.sync();
  const gen = new Generator(2);
  const w = F.randomNormal(be, [9, 5], gen).setRequiresGrad();
  const x = F.randomNormal(be, [7, 9], gen);
  await be.gpu.sync();
  const c0 = { ...be.gpu.counters };
  const loss = step(be, w, x, gen);
  const c1 = { ...be.gpu.counters };
  assert.ok(c1.dispatches - c0.dispatches >= 8, `dispatches ${c1.dispatches - c0.dispatches}`);
  assert.is(c1.submits - c0.submits, 0, 'nothing submitted while recording');
  await loss.item();
  assert.is(be.gpu.counters.submits - c1.submits, 1, 'one submit at the readback');
  loss.dispose();
  w.grad?.dispose();
  w.dispose();
  x.dispose();
});

test('discardRecorded drops recorded work unsubmitted (host-only timing in the bench), and the next work runs', async () => {
  const be = await gpuBackend();
  const g = be.gpu;
  await g.sync();
  const b = g.acquire(64);
  g.upload(b, new Float32Array(16).fill(3));
  const s0 = g.counters.submits;
  g.fillWords(b, 0x7fc00000, 16); // would overwrite with NaN
  g.discardRecorded();
  assert.equal([...new Float32Array(await g.read(b, 64))], new Array(16).fill(3), 'the dropped fill never ran');
  g.fillWords(b, 0x40000000, 16); // 2.0: recording after a discard works
  assert.equal([...new Float32Array(await g.read(b, 64))], new Array(16).fill(2));
  assert.is(g.counters.submits - s0, 2, 'one submit per read; the discard submitted nothing');
  g.release(b);
});

test('a WGSL compile error is thrown at the next sync, naming the file', async () => {
  const be = await gpuBackend();
  const bad = { file: 'wgsl/broken_on_purpose.wgsl', code: 'fn oops( {', entry: 'main', bindings: ['rw'] as const };
  const t = Tensor.empty(be, [4]);
  try {
    be.gpu.dispatch(bad, [t.store as never], (p) => p.u(1), [1]);
  } catch (e) {
    assert.match(String(e), /broken_on_purpose/);
    t.dispose();
    return;
  }
  let msg = '';
  try {
    await be.gpu.sync();
  } catch (e) {
    msg = String(e);
  }
  t.dispose();
  assert.match(msg, /broken_on_purpose\.wgsl/);
});

// Dawn rounds timestamps down to multiples of 65.536 µs unless its toggle timestamp_quantization is off
// (src/node/gpu.ts DAWN_FLAGS): then every small kernel of a profile reads 0 or 0.066 ms
test('timestamp queries have full resolution (not quantised to 65.536 µs)', async () => {
  const be = await gpuBackend();
  const g = be.gpu;
  if (!g.canTime) return; // an adapter without timestamp queries has nothing to quantise
  const gen = new Generator(4);
  const a = F.randomNormal(be, [33, 47], gen),
    b = F.randomNormal(be, [47, 29], gen);
  await g.sync();
  const step = 65536e-6; // ms
  const times: number[] = [];
  for (let i = 0; i < 6; i++) times.push((await g.timeGpu(() => F.matmul(a, b).dispose()))!);
  const offGrid = times.filter((ms) => Math.abs(ms / step - Math.round(ms / step)) > 1e-6);
  assert.ok(offGrid.length > 0, `every time on the 65.536 µs grid: ${times.join(', ')} ms`);
  a.dispose();
  b.dispose();
});

test("a profile names each conv and matmul dispatch's problem and its useful FLOPs", async () => {
  const be = await gpuBackend();
  const g = be.gpu;
  if (!g.canTime) return;
  const gen = new Generator(6);
  const x = F.randomNormal(be, [3, 5, 13, 13], gen),
    w = F.randomNormal(be, [17, 5, 3, 3], gen);
  const a = F.randomNormal(be, [33, 47], gen),
    b = F.randomNormal(be, [47, 29], gen);
  await g.sync();
  g.startProfile();
  const y = F.conv2d(x, w, null, { stride: 2, padding: 'same' }); // 13 → 7
  const c = F.matmul(a, b);
  const prof = await g.stopProfile();
  const conv = prof.find((p) => p.label.startsWith('conv2d.wgsl:conv2d'));
  assert.match(conv?.what ?? '', /^forward x \[3,5,13,13\] w \[17,5,3,3\] stride 2 \(\d+×\d+(\/8)?\)$/);
  assert.is(conv?.flops, 2 * 3 * 17 * 7 * 7 * 5 * 3 * 3);
  const mm = prof.find((p) => p.label.startsWith('matmul.wgsl:'));
  assert.match(mm?.what ?? '', /^matmul \[33×47\]·\[47×29\]$/);
  assert.is(mm?.flops, 2 * 33 * 47 * 29);
  for (const t of [x, w, a, b, y, c]) t.dispose();
});

test.run();
