// bench/kernels/trace.js — which kernels a training step runs, found by running one: the model's real step (the
// CNN's forward, loss, backward and Adam; ganStep for the GANs) on a "dry" backend that records each primitive call
// (its method and arguments) and computes nothing, so a step at batch 256 of the full networks costs milliseconds.
// Each call is tagged with the layer that made it: module forwards are wrapped to push their dotted name; backward
// kernels (run from the tape, outside any forward) take the layer whose forward had the same dims; optimizer steps
// and the weight average are named by the step. What a row of bench/conv.js measures is then exactly a call the
// step makes (shape, fused epilogue, groups, accumulate flags), not a list typed in beside the models.

/** every primitive a backend provides that computes (src/autograd/backend.ts); the rest are storage calls */
const COMPUTE = [
  'fill',
  'unary',
  'unaryGrad',
  'binary',
  'reduceSum',
  'copyStrided',
  'concat',
  'split',
  'matmul',
  'softmaxXent',
  'softmaxXentGrad',
  'softmaxXentMean',
  'softmaxXentMeanGrad',
  'bceLogitsMean',
  'bceLogitsMeanGrad',
  'argmaxMatch',
  'adam',
  'adamMulti',
  'emaUpdate',
  'random',
  'randomInt',
  'dropout',
  'conv2d',
  'conv2dGradInput',
  'conv2dGradWeight',
  'batchnormStats',
  'batchnormStatsRunning',
  'batchnormApply',
  'activationDropout',
  'batchnormEpilogueGrad',
  'batchnormGrad',
  'embedding',
  'embeddingGrad',
  'maxpool2d',
  'maxpool2dGrad',
];

/** a backend that records compute calls and hands out empty stores */
function dryBackend(record) {
  const be = {
    kind: 'gpu',
    name: 'dry (trace)',
    alloc: () => ({}),
    upload: () => ({}),
    write() {},
    free() {},
    read: async (_s, n, dtype) => (dtype === 'i32' ? new Int32Array(n) : new Float32Array(n)),
    arena: (layout) => ({ whole: {}, slots: layout.slots.map(() => ({})) }),
  };
  for (const m of COMPUTE) be[m] = (...args) => record(m, args);
  return be;
}

/** where each batchnorm primitive has its BatchnormDims */
const BN_DIMS = {
  batchnormStats: 3,
  batchnormStatsRunning: 5,
  batchnormApply: 6,
  batchnormGrad: 8,
  batchnormEpilogueGrad: 3,
};

/** the key under which a forward call's dims are remembered, so its backward kernels find their layer */
function dimsKey(method, a) {
  switch (method) {
    case 'conv2d':
    case 'conv2dGradInput':
      return `conv:${JSON.stringify(a[method === 'conv2d' ? 4 : 3])}`;
    case 'conv2dGradWeight':
      return `conv:${JSON.stringify(a[3])}`;
    case 'batchnormStats':
    case 'batchnormStatsRunning':
    case 'batchnormApply':
    case 'batchnormGrad':
    case 'batchnormEpilogueGrad': {
      const d = a[BN_DIMS[method]];
      // activationDropout's gradient is batchnormEpilogueGrad over {N: n, C: 1, L: 1}
      return method === 'batchnormEpilogueGrad' && d.C === 1 && d.L === 1 ? `act:${d.N}` : `bn:${d.N}:${d.C}:${d.L}`;
    }
    case 'activationDropout':
      return `act:${a[2]}`;
    case 'maxpool2d':
    case 'maxpool2dGrad':
      return `pool:${JSON.stringify(a[method === 'maxpool2d' ? 2 : 3])}`;
    case 'embedding':
      return `emb:${a[3]}:${a[4]}:${a[5]}`;
    case 'embeddingGrad':
      return `emb:${a[3]}:${a[4]}:${a[5]}`;
    case 'matmul':
      return `mm:${[a[3].M, a[3].N, a[3].K].sort((x, y) => x - y).join('x')}`;
    default:
      return null;
  }
}

/**
 * Wrap `fn` of object `o` so calls made inside it carry `name` (the innermost name wins). Returns the restore.
 */
function wrap(o, fn, name, stack) {
  const orig = o[fn];
  o[fn] = function (...args) {
    stack.push(name);
    try {
      return orig.apply(this, args);
    } finally {
      stack.pop();
    }
  };
}

/** every module of `root` by dotted name (prefixed), its forward wrapped to name the calls it makes */
function nameModules(root, prefix, stack, kinds) {
  for (const [name, m] of [[prefix.replace(/\.$/, ''), root], ...root.namedModules(prefix)]) {
    if (typeof m.forward !== 'function' || !name) continue;
    kinds.set(name, m.constructor.name);
    wrap(m, 'forward', name, stack);
  }
}

/**
 * The calls of one training step of `model` ('cnn', 'cgan', 'acgan') at batch B: [{ method, args, layer, kind }]
 * in the order the step records them (layer: a module's dotted name, 'loss', 'Adam G', … or '(step)' for the glue
 * between layers; kind: the layer's class, e.g. 'Conv2d'). E is the engine (dist/index.js).
 * Layers with the same dims (the CNN's bn5 and bn6) are told apart by order: the tape runs backward in reverse, so
 * each backward method takes the layers of its dims last to first.
 */
export function traceStep(E, model, B) {
  const calls = [];
  const stack = [];
  const kinds = new Map([['loss', 'Loss']]);
  const byDims = new Map(); // dims key → the layers whose forward had them, in order
  const cursor = new Map(); // `${key}|${method}` → the next of those layers (from the last) a backward call takes
  let recording = false;
  const be = dryBackend((method, args) => {
    if (!recording) return;
    const key = dimsKey(method, args);
    let layer = stack[stack.length - 1] ?? null;
    if (layer && key) {
      const list = byDims.get(key) ?? [];
      if (list[list.length - 1] !== layer) list.push(layer);
      byDims.set(key, list);
    }
    if (!layer && key && byDims.has(key)) {
      const list = byDims.get(key);
      const c = `${key}|${method}`;
      const i = cursor.get(c) ?? list.length - 1;
      layer = list[i];
      cursor.set(c, i > 0 ? i - 1 : list.length - 1);
    }
    layer ??= /Xent|bceLogits/.test(method) ? 'loss' : '(step)';
    calls.push({ method, args, layer, kind: kinds.get(layer) ?? '' });
  });
  const gen = new E.Generator(1);
  const labels = Array.from({ length: B }, (_, i) => i % 10);
  if (model === 'cnn') {
    const net = new E.Cnn(be, gen, E.SEED_CNN);
    const opt = new E.Adam(net.parameters(), { lr: 1e-3 });
    nameModules(net, '', stack, kinds);
    wrap(opt, 'step', 'Adam', stack);
    kinds.set('Adam', 'Adam');
    const x = E.Tensor.from(be, new Float32Array(B * 784), [B, 1, 28, 28]);
    const y = E.Tensor.from(be, labels, [B], 'i32');
    recording = true;
    E.tidy(() => {
      const loss = E.F.softmaxCrossEntropy(net.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
    return { model, batch: B, about: 'cnn (seed 003)', calls };
  }
  const p = E.PRESETS[model];
  if (!p) throw new Error(`no GAN preset '${model}'`);
  const s = E.makeGan(be, p.config, p.hyper, 1);
  nameModules(s.G, 'G.', stack, kinds);
  nameModules(s.D, 'D.', stack, kinds);
  wrap(s.optG, 'step', 'Adam G', stack);
  wrap(s.optD, 'step', 'Adam D', stack);
  kinds.set('Adam G', 'Adam').set('Adam D', 'Adam');
  if (s.ema) {
    wrap(s.ema.avg, 'update', 'EMA G', stack);
    kinds.set('EMA G', 'Ema');
  }
  const x = E.Tensor.from(be, new Float32Array(B * 784), [B, 1, 28, 28]);
  const y = E.Tensor.from(be, labels, [B], 'i32');
  recording = true;
  E.tidy(() => void E.ganStep(be, s, x, y));
  return { model, batch: B, about: `${model} (preset ${model})`, calls };
}
