// bench/kernels/tfjs.js — the peer: TensorFlow.js's WebGPU backend on the same adapter, in the same process, on the
// same shapes as each of our kernel calls. TF.js stays out of the engine's dependencies: it is loaded from an
// optional peer folder (bench/peers: `cd bench/peers && npm install`; `--peers DIR` names another, e.g. the copy
// bench/peers/slim.mjs makes), and skipped with a note when absent. It gets the Dawn entry point the engine uses (the
// same adapter; a device of its own) and is timed the way ours is: the sum of its kernels' GPU timestamps (tf.time)
// where the adapter has them. TF.js works in NHWC, its native layout. Where TF.js has one kernel for the job
// (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, BatchMatMul, FusedBatchNorm, GatherV2, UnsortedSegmentSum,
// MaxPool, MaxPoolGrad) that kernel runs; where it has none, the same arithmetic composed of its ops (the row's note
// says "composed"); dropout masks are made once, outside the timing, and multiplied in.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** TF.js from `dir` on Dawn's `navigatorGpu`: { tf, version, note, dispose } or { tf: null, note } */
export async function loadTfjs(dir, navigatorGpu, ourDevice) {
  const at = resolve(dir),
    nm = join(at, 'node_modules/@tensorflow');
  const skip = (why) => ({
    tf: null,
    note:
      `TF.js: skipped (${why}); to compare, \`cd bench/peers && npm install\` ` +
      '(or --peers DIR with @tensorflow/tfjs-core and -backend-webgpu)',
  });
  if (!existsSync(join(nm, 'tfjs-backend-webgpu')) || !existsSync(join(nm, 'tfjs-core')))
    return skip(`no @tensorflow/tfjs-backend-webgpu under ${join(at, 'node_modules')}`);
  try {
    const nav = { ...(globalThis.navigator ?? {}), gpu: navigatorGpu };
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
    const req = createRequire(join(at, 'package.json'));
    const tf = req('@tensorflow/tfjs-core');
    req('@tensorflow/tfjs-backend-webgpu'); // registers the 'webgpu' backend (it checks navigator.gpu on load)
    tf.env().set('WEBGPU_CPU_FORWARD', false); // small tensors too on the GPU, as ours
    if (!(await tf.setBackend('webgpu'))) return skip('its WebGPU backend did not start');
    await tf.ready();
    const vendor = tf.backend().adapterInfo?.vendor ?? '?';
    const timing = tf.backend().supportTimestampQuery
      ? 'GPU timestamps of its kernels (tf.time)'
      : "wall clock to the queue's completion";
    return {
      tf,
      version: tf.version_core,
      dispose: () => tf.disposeVariables(),
      note:
        `TF.js ${tf.version_core} WebGPU backend (from ${at}; its own device on this Dawn instance, ` +
        `adapter vendor '${vendor}' beside ours, ${ourDevice}), NHWC; timing: ${timing}`,
    };
  } catch (e) {
    return skip(`it failed to load: ${e.message.split('\n')[0]}`);
  }
}

/** ms per run as TF.js runs fn (a function that records kernels; its tensors are freed by tidy) */
function timing(tf, runs, software) {
  const be = tf.backend();
  const once = (fn) => tf.dispose(tf.tidy(fn)); // intermediates freed by tidy, the results here
  async function runsMs(fn, n) {
    if (be.supportTimestampQuery) {
      const info = await tf.time(() => {
        for (let i = 0; i < n; i++) once(fn);
      });
      if (typeof info.kernelMs === 'number') return info.kernelMs;
    }
    const t0 = performance.now();
    for (let i = 0; i < n; i++) once(fn);
    be.submitQueue();
    await be.device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  }
  /** fn back to back for about `ms` of wall clock (at most 256 runs), untimed: a GPU's clocks up */
  async function warm(fn, ms) {
    const t0 = performance.now();
    for (let i = 0; i < 256 && performance.now() - t0 < ms; i++) once(fn);
    be.submitQueue();
    await be.device.queue.onSubmittedWorkDone();
  }
  // as measure.js's timer: warm-up, then on hardware ~50 ms back to back and batches of ~5 ms of GPU time (at most
  // 16 runs: tf.time reads each kernel's timestamps back on its own, which costs wall clock, not GPU time)
  return async (fn) => {
    once(fn); // warm-up: pipelines compile
    await runsMs(() => {}, 1);
    let R = 1;
    if (!software) {
      await warm(fn, 50);
      R = Math.min(16, Math.max(1, Math.ceil(5 / Math.max(await runsMs(fn, 1), 1e-3))));
    }
    const ms = [];
    for (let i = 0; i < runs; i++) ms.push((await runsMs(fn, R)) / R);
    ms.sort((a, b) => a - b);
    return ms[Math.floor(ms.length / 2)];
  };
}

/**
 * A timer for our calls: (method, args, kind) → { ms, note }, ms null where TF.js has no counterpart (the glue
 * between layers) or the case failed (the note says why).
 */
export function tfjsTimer(tf, runs, software) {
  const time = timing(tf, runs, software);
  const failed = (e) => ({ ms: null, note: `TF.js failed: ${e.message.split('\n')[0].slice(0, 80)}` });
  return async (method, args) => {
    let c;
    try {
      c = caseOf(tf, method, args);
    } catch (e) {
      return failed(e);
    }
    if (!c) return { ms: null, note: '' };
    try {
      return { ms: await time(c.run), note: c.note };
    } catch (e) {
      return failed(e);
    } finally {
      tf.dispose(c.keep);
      for (const v of c.vars ?? []) v.dispose();
    }
  };
}

// ------------------------------------------------------------------ the cases: inputs made once, run() records
/** uniform values in [lo, hi) made on the host by a xorshift (tf.randomUniform's is slow for big tensors) */
function U(tf, shape, lo = -1, hi = 1) {
  const a = new Float32Array(shape.reduce((p, e) => p * e, 1));
  let x = 0x9e3779b9 ^ a.length;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = lo + ((x >>> 0) / 4294967296) * (hi - lo);
  }
  return tf.tensor(a, shape, 'float32');
}
const indices = (tf, n, V) =>
  tf.tensor1d(
    Array.from({ length: n }, (_, i) => (i * 7) % V),
    'int32',
  );
/** an inverted-dropout mask (0 or 1/(1 − p)), made once */
const maskOf = (tf, shape, p) =>
  tf.tidy(() => tf.mul(tf.cast(tf.greaterEqual(U(tf, shape, 0, 1), p), 'float32'), 1 / (1 - p)));
const ACT = { relu: 'relu', leaky_relu: 'leakyrelu', sigmoid: 'sigmoid' }; // what TF.js's fused kernels take
const fusable = (a) => !a || a === 'none' || a in ACT;
const act = (tf, y, a, alpha = 0.2) =>
  a === 'relu'
    ? tf.relu(y)
    : a === 'leaky_relu'
      ? tf.leakyRelu(y, alpha)
      : a === 'tanh'
        ? tf.tanh(y)
        : a === 'sigmoid'
          ? tf.sigmoid(y)
          : y;
/** act'(.) read off the activation's output y, times g */
const actGrad = (tf, g, y, a, alpha = 0.2) =>
  a === 'relu' ? tf.mul(g, tf.step(y)) : a === 'leaky_relu' ? tf.where(tf.greater(y, 0), g, tf.mul(g, alpha)) : g;
/** explicit NHWC padding: ours is top/left, the rest what P and Q imply */
const pads = (d) => [
  [0, 0],
  [d.ph, Math.max(0, (d.P - 1) * d.sh + d.R - d.H - d.ph)],
  [d.pw, Math.max(0, (d.Q - 1) * d.sw + d.S - d.W - d.pw)],
  [0, 0],
];
const some = (...ts) => ts.filter(Boolean);

function caseOf(tf, method, a) {
  switch (method) {
    case 'conv2d':
    case 'conv2dGradInput':
    case 'conv2dGradWeight':
      return convCase(tf, method, a);
    case 'batchnormStats':
    case 'batchnormStatsRunning':
    case 'batchnormApply':
    case 'batchnormGrad':
      return bnCase(tf, method, a);
    case 'matmul':
      return matmulCase(tf, a);
    case 'activationDropout': {
      const [, , n, epi] = a;
      const x = U(tf, [n]),
        m = epi.p ? maskOf(tf, [n], epi.p) : null;
      const run = () => {
        const y = act(tf, x, epi.act, epi.alpha);
        return m ? tf.mul(y, m) : y;
      };
      return { keep: some(x, m), note: 'composed', run };
    }
    case 'batchnormEpilogueGrad': {
      const [, , , d, epi] = a;
      const n = d.N * d.C * d.L;
      const g = U(tf, [n]),
        y = U(tf, [n]),
        m = epi.p ? maskOf(tf, [n], epi.p) : null;
      const run = () => actGrad(tf, m ? tf.mul(g, m) : g, y, epi.act, epi.alpha);
      return { keep: some(g, y, m), note: 'composed', run };
    }
    case 'embedding': {
      const [, , , n, V, D] = a;
      const w = U(tf, [V, D]),
        idx = indices(tf, n, V);
      return { keep: [w, idx], note: 'GatherV2', run: () => tf.gather(w, idx) };
    }
    case 'embeddingGrad': {
      const [, , , n, V, D, accumulate] = a;
      const g = U(tf, [n, D]),
        idx = indices(tf, n, V),
        prev = accumulate ? U(tf, [V, D]) : null;
      const run = () => {
        const s = tf.unsortedSegmentSum(g, idx, V);
        return prev ? tf.add(s, prev) : s;
      };
      return { keep: some(g, idx, prev), note: 'UnsortedSegmentSum', run };
    }
    case 'maxpool2d':
    case 'maxpool2dGrad':
      return poolCase(tf, method, a);
    case 'softmaxXentMean':
    case 'softmaxXentMeanGrad': {
      const [N, C] = method === 'softmaxXentMean' ? [a[3], a[4]] : [a[4], a[5]];
      const logits = U(tf, [N, C]),
        onehot = tf.tidy(() => tf.cast(tf.oneHot(indices(tf, N, C), C), 'float32'));
      if (method === 'softmaxXentMean')
        return { keep: [logits, onehot], note: 'tf.losses', run: () => tf.losses.softmaxCrossEntropy(onehot, logits) };
      const gl = tf.scalar(1);
      const run = () => tf.mul(tf.sub(tf.softmax(logits), onehot), tf.div(gl, N));
      return { keep: [logits, onehot, gl], note: 'composed', run };
    }
    case 'bceLogitsMean':
    case 'bceLogitsMeanGrad': {
      const [, lShape, , tShape] = a;
      const groups = a[method === 'bceLogitsMean' ? 6 : 7] ?? 1;
      const n = lShape.reduce((p, d) => p * d, 1) / groups;
      const tStride = tShape.reduce((p, d) => p * d, 1) > 1;
      const x = U(tf, [groups, n]);
      const t = tStride ? tf.tidy(() => tf.cast(tf.greater(U(tf, [groups, n]), 0), 'float32')) : tf.scalar(1);
      if (method === 'bceLogitsMean') {
        const bce = () => tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
        return { keep: [x, t], note: 'composed', run: () => [tf.mean(bce(), 1), tf.mean(tf.sigmoid(x), 1)] };
      }
      const gl = U(tf, [groups, 1]);
      return { keep: [x, t, gl], note: 'composed', run: () => tf.mul(tf.sub(tf.sigmoid(x), t), tf.div(gl, n)) };
    }
    case 'adamMulti': {
      const [, , , , slots, h] = a;
      const opt = tf.train.adam(h.lr, h.beta1, h.beta2, h.eps);
      const tag = Math.random().toString(36).slice(2); // variable names are global in TF.js
      const vars = slots.map((s, i) => tf.tidy(() => tf.variable(U(tf, [s.n]), true, `p${i}_${tag}`)));
      const grads = Object.fromEntries(vars.map((v) => [v.name, U(tf, v.shape)]));
      const note = 'tf.train.adam, a kernel chain per tensor';
      vars.push({ dispose: () => opt.dispose() });
      return { keep: Object.values(grads), vars, note, run: () => opt.applyGradients(grads) };
    }
    case 'emaUpdate': {
      const [, , n, decay] = a;
      const avg = tf.tidy(() => tf.variable(U(tf, [n]))),
        x = U(tf, [n]);
      const run = () => avg.assign(tf.add(avg, tf.mul(tf.sub(x, avg), 1 - decay)));
      return { keep: [x], vars: [avg], note: 'composed', run };
    }
    default:
      return null;
  }
}

/** a dense layer's product: BatchMatMul (fused with bias and activation where TF.js can) */
function matmulCase(tf, a) {
  const [, , , d, bias, actName, alpha, accumulate, biasGrad] = a;
  if (d.batch !== 1) return null;
  const A = U(tf, d.transA ? [d.K, d.M] : [d.M, d.K]),
    B = U(tf, d.transB ? [d.N, d.K] : [d.K, d.N]);
  const b = bias ? U(tf, [d.N]) : null,
    prev = accumulate ? U(tf, [d.M, d.N]) : null;
  const fused = fusable(actName) && (b || (actName && actName !== 'none'));
  const run = () => {
    let y = fused
      ? tf.fused.matMul({
          a: A,
          b: B,
          transposeA: d.transA,
          transposeB: d.transB,
          bias: b ?? undefined,
          activation: ACT[actName] ?? 'linear',
          leakyreluAlpha: alpha,
        })
      : tf.matMul(A, B, d.transA, d.transB);
    if (!fusable(actName)) y = act(tf, b ? tf.add(y, b) : y, actName, alpha);
    if (prev) y = tf.add(y, prev);
    return biasGrad ? [y, tf.sum(B, d.transB ? 1 : 0)] : y;
  };
  const note = biasGrad || prev || !fusable(actName) ? 'BatchMatMul + ops' : 'BatchMatMul';
  return { keep: some(A, B, b, prev), note, run };
}

/** conv2d (Conv2D / FusedConv2D), conv2dGradInput (Conv2DBackpropInput), conv2dGradWeight (Conv2DBackpropFilter) */
function convCase(tf, method, a) {
  const d = a[method === 'conv2d' ? 4 : 3];
  const strides = [d.sh, d.sw],
    pad = pads(d);
  const x = U(tf, [d.N, d.H, d.W, d.C]),
    w = U(tf, [d.R, d.S, d.C, d.K]),
    dy = U(tf, [d.N, d.P, d.Q, d.K]);
  const keep = [x, w, dy];
  if (method === 'conv2d') {
    const [, , bias, , , actName, alpha] = a;
    const b = bias ? U(tf, [d.K]) : null;
    if (b) keep.push(b);
    const extra = b || (actName && actName !== 'none');
    const run = () =>
      fusable(actName)
        ? tf.fused.conv2d({
            x,
            filter: w,
            strides,
            pad,
            bias: b ?? undefined,
            activation: ACT[actName] ?? 'linear',
            leakyreluAlpha: alpha,
          })
        : act(tf, b ? tf.add(tf.conv2d(x, w, strides, pad), b) : tf.conv2d(x, w, strides, pad), actName, alpha);
    return { keep, note: extra ? 'FusedConv2D' : 'Conv2D', run };
  }
  if (method === 'conv2dGradInput') {
    const [, , , , bias, actName, alpha] = a;
    const b = bias ? U(tf, [d.C]) : null;
    if (b) keep.push(b);
    const extra = b || (actName && actName !== 'none');
    const run = () => {
      const y = tf.conv2dTranspose(dy, w, [d.N, d.H, d.W, d.C], strides, pad);
      return extra ? act(tf, b ? tf.add(y, b) : y, actName, alpha) : y;
    };
    return { keep, note: extra ? 'Conv2DBackpropInput + ops' : 'Conv2DBackpropInput', run };
  }
  const prev = a[4] ? U(tf, [d.R, d.S, d.C, d.K]) : null;
  if (prev) keep.push(prev);
  const attrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [d.R, d.S, d.C, d.K] };
  const run = () => {
    const gw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs);
    return prev ? tf.add(gw, prev) : gw;
  };
  return { keep, note: prev ? 'Conv2DBackpropFilter + add' : 'Conv2DBackpropFilter', run };
}

/** max pooling each way (NHWC), the dropout mask multiplied in */
function poolCase(tf, method, a) {
  const fwd = method === 'maxpool2d';
  const d = a[fwd ? 2 : 3],
    drop = a[fwd ? 3 : 4];
  const x = U(tf, [d.N, d.H, d.W, d.C]);
  const y = tf.maxPool(x, d.k, d.stride, 'valid');
  const m = drop ? maskOf(tf, y.shape, drop.p) : null;
  if (fwd) {
    const run = () => {
      const o = tf.maxPool(x, d.k, d.stride, 'valid');
      return m ? tf.mul(o, m) : o;
    };
    return { keep: some(x, y, m), note: drop ? 'MaxPool + mask' : 'MaxPool', run };
  }
  const dy = U(tf, y.shape);
  const attrs = { filterSize: d.k, strides: d.stride, pad: 'valid' };
  const run = () => tf.engine().runKernel('MaxPoolGrad', { dy: m ? tf.mul(dy, m) : dy, input: x, output: y }, attrs);
  return { keep: some(x, y, m, dy), note: drop ? 'MaxPoolGrad + mask' : 'MaxPoolGrad', run };
}

/** batchnorm on x [G][M][C] (NHWC, a group's N/G·L positions per channel) */
function bnCase(tf, method, a) {
  const d = a[{ batchnormStats: 3, batchnormStatsRunning: 5, batchnormApply: 6, batchnormGrad: 8 }[method]];
  const G = d.groups ?? 1,
    M = (d.N / G) * d.L,
    C = d.C;
  const x = U(tf, [G, M, C]);
  const xin = () => (d.inputRelu ? tf.relu(x) : x);
  const keep = [x];
  const mk = (t) => (keep.push(t), t);
  if (method === 'batchnormStats' || method === 'batchnormStatsRunning') {
    const running = method === 'batchnormStatsRunning';
    const momentum = a[6];
    const rm = running ? tf.variable(tf.zeros([C])) : null,
      rv = running ? tf.variable(tf.ones([C])) : null;
    const update = (r, s, g, k) =>
      r.assign(tf.add(tf.mul(r, 1 - momentum), tf.mul(tf.reshape(tf.slice(s, [g, 0], [1, C]), [C]), k)));
    const run = () => {
      const { mean, variance } = tf.moments(xin(), [1]);
      for (let g = 0; running && g < G; g++) {
        update(rm, mean, g, momentum);
        update(rv, variance, g, (momentum * M) / (M - 1));
      }
      return [mean, variance];
    };
    return { keep, vars: some(rm, rv), note: running ? 'tf.moments + ops' : 'tf.moments', run };
  }
  // statistics per group [G, 1, C]; gamma and beta of the same rank (tf.batchNorm wants equal ranks)
  const mean = mk(U(tf, [G, 1, C], -0.1, 0.1)),
    variance = mk(U(tf, [G, 1, C], 0.5, 1.5));
  const gamma = mk(U(tf, [1, 1, C])),
    beta = mk(U(tf, [1, 1, C]));
  const n = [G, M, C];
  if (method === 'batchnormApply') {
    const [, , , , , , , eps, epi] = a;
    const m = epi?.p ? mk(maskOf(tf, n, epi.p)) : null;
    const run = () => {
      const y = act(tf, tf.batchNorm(xin(), mean, variance, beta, gamma, eps), epi?.act, epi?.alpha);
      return m ? tf.mul(y, m) : y;
    };
    return { keep, note: epi && (epi.act !== 'none' || epi.p) ? 'FusedBatchNorm + ops' : 'FusedBatchNorm', run };
  }
  // batchnormGrad, composed as TF.js's own gradient of batchNorm is (it has no fused kernel for it)
  const [, , , , , , , , , eps, training, acc = {}, through] = a;
  const g0 = mk(U(tf, n)),
    y = through ? mk(U(tf, n)) : null;
  const m = through?.epi.p ? mk(maskOf(tf, n, through.epi.p)) : null;
  const pg = acc.gamma ? mk(U(tf, [C])) : null,
    pb = acc.beta ? mk(U(tf, [C])) : null;
  const run = () => {
    const g = through ? actGrad(tf, m ? tf.mul(g0, m) : g0, y, through.epi.act, through.epi.alpha) : g0;
    const inv = tf.rsqrt(tf.add(variance, eps));
    const xh = tf.mul(tf.sub(xin(), mean), inv);
    const gxh = tf.mul(g, xh);
    let gBeta = tf.sum(g, [0, 1]),
      gGamma = tf.sum(gxh, [0, 1]);
    const centred = () => tf.sub(tf.sub(g, tf.div(tf.sum(g, 1, true), M)), tf.mul(xh, tf.div(tf.sum(gxh, 1, true), M)));
    let gx = tf.mul(tf.mul(gamma, inv), training ? centred() : g);
    if (d.inputRelu) gx = tf.mul(gx, tf.step(x));
    if (pg) gGamma = tf.add(gGamma, pg);
    if (pb) gBeta = tf.add(gBeta, pb);
    return [gx, gGamma, gBeta];
  };
  return { keep, note: 'composed', run };
}
