// bench/kernels/catalog.js — what bench/conv.js needs to know about each backend primitive to replay a call the
// step made (bench/kernels/trace.js): which arguments are storage (where, how many elements, i32 or f32, how to
// fill them, which are outputs), its useful FLOPs, the bytes it reads and writes, a short shape label, and which
// kernel family and role (forward, input gradient, …) it is for the layer that called it.
// FLOPs: a multiply-add counts 2 (conv and matmul: 2·M·N·K of the GEMM; zeros a phased transposed conv skips do
// not count); elementwise work counts the arithmetic per element the shader does, roughly (stated per spec).
// Bytes: every storage element the kernel reads or writes, once per pass the shader makes over it (batchnorm's
// statistics and gradient read their input twice); re-reads of tiles that go through workgroup memory and caches
// (conv, matmul, the embedding gradient's index scan) are not counted: for those it is the compulsory traffic.

const prod = (s) => s.reduce((a, b) => a * b, 1);
const F32 = 4;

// a buffer: path (argument index, or [index, key]: a store inside an argument: through.y, biasGrad.out, parts[k]),
// elements, io ('in'; 'out': poisoned with NaN before the checked run, then compared; 'inout': filled, compared),
// init ('signed' U(−1, 1), 'positive' U(0.5, 1.5), 'index:V' integers in [0, V), 'binary' 0 or 1), dtype
const buf = (path, n, io = 'in', init = 'signed', dtype = 'f32') => ({ path, n, io, init, dtype });
const outIf = (acc) => (acc ? 'inout' : 'out');

// ------------------------------------------------------------------ convolutions, in ConvDims terms: x [N][C][H][W],
// w [K][C][R][S], y [N][K][P][Q] (a transposed conv's forward is conv2dGradInput)
const convSizes = (d) => ({ X: d.N * d.C * d.H * d.W, Wn: d.K * d.C * d.R * d.S, Y: d.N * d.K * d.P * d.Q });
const convFlops = (d) => 2 * d.N * d.K * d.P * d.Q * d.C * d.R * d.S;
const convBytes = (d, extra) => {
  const s = convSizes(d);
  return F32 * (s.X + s.Wn + s.Y + extra);
};
const convShape = (d, transposed) => {
  const s = `k${d.R}${d.sh > 1 ? ` s${d.sh}` : ''}`;
  const x = `${d.N}×${d.C}×${d.H}×${d.W}`,
    y = `${d.N}×${d.K}×${d.P}×${d.Q}`;
  return transposed ? `${y} → ${x} ${s}` : `${x} → ${y} ${s}`;
};
const ROLES_CONV = { conv2d: 'forward', conv2dGradInput: 'gradInput', conv2dGradWeight: 'gradWeight' };
const ROLES_CONVT = { conv2dGradInput: 'forward', conv2d: 'gradInput', conv2dGradWeight: 'gradWeight' };
const actTag = (act) => (act && act !== 'none' ? ` +${act}` : '');

// ------------------------------------------------------------------ batchnorm: x [N][C][L], G groups
const bnG = (d) => d.groups ?? 1;
const bnN = (d) => d.N * d.C * d.L;
const bnShape = (d, extra = '') =>
  `${d.C} ch × ${d.N}·${d.L}${bnG(d) > 1 ? ` (${bnG(d)} groups)` : ''}${d.inputRelu ? ' relu-in' : ''}${extra}`;
const epiTag = (e) => (e ? `${e.act !== 'none' ? ` +${e.act}` : ''}${e.p ? ` +dropout ${e.p}` : ''}` : '');
const epiOps = (e) => (e?.act && e.act !== 'none' ? 1 : 0) + (e?.p ? 1 : 0);

// ------------------------------------------------------------------ the rest
/** the arena length adamMulti's slots span */
const arenaTotal = (slots) => slots.reduce((t, s) => Math.max(t, s.offset + Math.ceil(Math.max(s.n, 1) / 64) * 64), 0);
const params = (slots) => slots.reduce((t, s) => t + s.n, 0);
/** elements of a strided view: offset + Σ (extent − 1)·|stride| + 1 */
const spanOf = (offset, strides, shape) =>
  offset + shape.reduce((a, e, k) => a + (e - 1) * Math.abs(strides[k]), 0) + 1;
const positiveIn = (op) => (['log', 'sqrt', 'recip'].includes(op) ? 'positive' : 'signed');
const reduced = (shape, axes) => prod(shape.map((e, k) => (axes.includes(k) ? 1 : e)));
const matA = (d) => (d.strideA ? d.batch : 1) * d.M * d.K;
const matB = (d) => (d.strideB ? d.batch : 1) * d.K * d.N;
// bceLogitsMean (logits, lShape, targets, tShape, loss, prob, groups) and its gradient (…, gLoss, gLogits, gTargets,
// groups): the steps use the fused layout (targets one per logit or one for all)
const bceN = (a) => prod(a[1]);
const bceT = (a) => prod(a[3]);
const bceG = (a, at) => a[at] ?? 1;
const groupsTag = (g) => (g > 1 ? ` × ${g} groups` : '');
const poolSizes = (d) => ({ X: d.N * d.C * d.H * d.W, O: d.N * d.C * d.OH * d.OW });
const poolShape = (d, drop) => `${d.N}×${d.C}×${d.H}×${d.W} k${d.k} s${d.stride}${drop ? ` +dropout ${drop.p}` : ''}`;

/**
 * Per method: bufs(args) → buffers; flops(args); bytes(args); shape(args, kind) → label; batchFree: the work does
 * not grow with the batch (the CPU reference's time is then not scaled from the checked batch).
 */
export const SPECS = {
  conv2d: {
    bufs: (a) => {
      const d = a[4],
        s = convSizes(d);
      return [buf(0, s.X), buf(1, s.Wn), ...(a[2] ? [buf(2, d.K)] : []), buf(3, s.Y, 'out')];
    },
    flops: (a) => convFlops(a[4]),
    bytes: (a) => convBytes(a[4], a[2] ? a[4].K : 0),
    shape: (a, kind) => convShape(a[4], kind === 'ConvTranspose2d') + actTag(a[5]),
  },
  conv2dGradInput: {
    bufs: (a) => {
      const d = a[3],
        s = convSizes(d);
      return [buf(0, s.Y), buf(1, s.Wn), buf(2, s.X, 'out'), ...(a[4] ? [buf(4, d.C)] : [])];
    },
    flops: (a) => convFlops(a[3]),
    bytes: (a) => convBytes(a[3], a[4] ? a[3].C : 0),
    shape: (a, kind) => convShape(a[3], kind === 'ConvTranspose2d') + actTag(a[5]),
  },
  conv2dGradWeight: {
    bufs: (a) => {
      const s = convSizes(a[3]);
      return [buf(0, s.X), buf(1, s.Y), buf(2, s.Wn, outIf(a[4]))];
    },
    flops: (a) => convFlops(a[3]),
    bytes: (a) => convBytes(a[3], a[4] ? convSizes(a[3]).Wn : 0),
    shape: (a, kind) => convShape(a[3], kind === 'ConvTranspose2d') + (a[4] ? ' (accumulate)' : ''),
  },
  // ---------------------------------------------------------------- dense layers: out [batch][M][N] = op(A)·op(B)
  matmul: {
    bufs: (a) => {
      const d = a[3];
      return [
        buf(0, matA(d)),
        buf(1, matB(d)),
        buf(2, d.batch * d.M * d.N, outIf(a[7])),
        ...(a[4] ? [buf(4, d.N)] : []),
        ...(a[8] ? [buf([8, 'out'], d.N, outIf(a[8].add))] : []),
      ];
    },
    flops: (a) => 2 * a[3].batch * a[3].M * a[3].N * a[3].K,
    bytes: (a) => {
      const d = a[3];
      return F32 * (matA(d) + matB(d) + d.batch * d.M * d.N * (a[7] ? 2 : 1) + (a[4] ? d.N : 0) + (a[8] ? d.N : 0));
    },
    shape: (a) => {
      const d = a[3];
      return (
        `${d.M}×${d.K}${d.transA ? 'ᵀ' : ''} · ${d.K}×${d.N}${d.transB ? 'ᵀ' : ''}` +
        `${a[4] ? ' +bias' : ''}${actTag(a[5])}${a[8] ? ' +bias grad' : ''}`
      );
    },
  },
  // ---------------------------------------------------------------- batchnorm (wgsl/batchnorm.wgsl)
  batchnormStats: {
    bufs: (a) => {
      const gc = bnG(a[3]) * a[3].C;
      return [buf(0, bnN(a[3])), buf(1, gc, 'out'), buf(2, gc, 'out')];
    },
    flops: (a) => 4 * bnN(a[3]), // Σx; then Σ(x − mean)²
    bytes: (a) => F32 * (2 * bnN(a[3]) + 2 * bnG(a[3]) * a[3].C), // two passes over x
    shape: (a) => bnShape(a[3]),
  },
  batchnormStatsRunning: {
    bufs: (a) => {
      const d = a[5],
        gc = bnG(d) * d.C;
      return [
        buf(0, bnN(d)),
        buf(1, gc, 'out'),
        buf(2, gc, 'out'),
        buf(3, d.C, 'inout'),
        buf(4, d.C, 'inout', 'positive'),
      ];
    },
    flops: (a) => 4 * bnN(a[5]),
    bytes: (a) => F32 * (2 * bnN(a[5]) + 2 * bnG(a[5]) * a[5].C + 4 * a[5].C),
    shape: (a) => bnShape(a[5]),
  },
  batchnormApply: {
    bufs: (a) => {
      const d = a[6],
        n = bnN(d),
        gc = bnG(d) * d.C;
      return [buf(0, n), buf(1, gc), buf(2, gc, 'in', 'positive'), buf(3, d.C), buf(4, d.C), buf(5, n, 'out')];
    },
    flops: (a) => (2 + epiOps(a[8])) * bnN(a[6]),
    bytes: (a) => F32 * (2 * bnN(a[6]) + 2 * bnG(a[6]) * a[6].C + 2 * a[6].C),
    shape: (a) => bnShape(a[6], epiTag(a[8])),
  },
  batchnormGrad: {
    bufs: (a) => {
      const d = a[8],
        n = bnN(d),
        gc = bnG(d) * d.C,
        acc = a[11] ?? {};
      return [
        buf(0, n),
        buf(1, n),
        buf(2, gc),
        buf(3, gc, 'in', 'positive'),
        buf(4, d.C),
        buf(5, n, 'out'),
        buf(6, d.C, outIf(acc.gamma)),
        buf(7, d.C, outIf(acc.beta)),
        ...(a[12] ? [buf([12, 'y'], n)] : []),
      ];
    },
    flops: (a) => 8 * bnN(a[8]), // pass 1: Σg, Σg·x̂; pass 2: gx
    // two passes, each reading x and g (and, fused, the epilogue's output y), one write of gx
    bytes: (a) => F32 * ((a[12] ? 7 : 5) * bnN(a[8]) + 2 * bnG(a[8]) * a[8].C + 3 * a[8].C),
    shape: (a) => bnShape(a[8], `${a[12] ? ` through${epiTag(a[12].epi)}` : ''}${a[10] ? '' : ' (eval statistics)'}`),
  },
  batchnormEpilogueGrad: {
    bufs: (a) => {
      const n = bnN(a[3]);
      return [buf(0, n), buf(1, n), buf(2, n, 'out')];
    },
    flops: (a) => 2 * bnN(a[3]),
    bytes: (a) => F32 * 3 * bnN(a[3]),
    shape: (a) => `${bnN(a[3])} elements${epiTag(a[4])}`,
  },
  activationDropout: {
    bufs: (a) => [buf(0, a[2]), buf(1, a[2], 'out')],
    flops: (a) => 2 * a[2],
    bytes: (a) => F32 * 2 * a[2],
    shape: (a) => `${a[2]} elements${epiTag(a[3])}`,
  },
  // ---------------------------------------------------------------- embedding: weight [V][D], n indices
  embedding: {
    bufs: (a) => [buf(0, a[4] * a[5]), buf(1, a[3], 'in', `index:${a[4]}`, 'i32'), buf(2, a[3] * a[5], 'out')],
    flops: () => 0,
    bytes: (a) => F32 * (2 * a[3] * a[5] + a[3]), // the rows named, the output, the indices
    shape: (a) => `${a[3]} of ${a[4]}×${a[5]}`,
  },
  embeddingGrad: {
    bufs: (a) => [buf(0, a[3], 'in', `index:${a[4]}`, 'i32'), buf(1, a[3] * a[5]), buf(2, a[4] * a[5], outIf(a[6]))],
    flops: (a) => a[3] * a[5],
    bytes: (a) => F32 * (a[3] + a[3] * a[5] + a[4] * a[5] * (a[6] ? 2 : 1)),
    shape: (a) => `${a[3]} rows into ${a[4]}×${a[5]}${a[6] ? ' (accumulate)' : ''}`,
  },
  // ---------------------------------------------------------------- max pooling (+ dropout)
  maxpool2d: {
    bufs: (a) => {
      const s = poolSizes(a[2]);
      return [buf(0, s.X), buf(1, s.O, 'out')];
    },
    flops: (a) => poolSizes(a[2]).O * (a[2].k * a[2].k - 1 + (a[3] ? 1 : 0)), // comparisons (and the mask)
    bytes: (a) => {
      const s = poolSizes(a[2]);
      return F32 * (s.X + s.O);
    },
    shape: (a) => poolShape(a[2], a[3]),
  },
  maxpool2dGrad: {
    bufs: (a) => {
      const s = poolSizes(a[3]);
      return [buf(0, s.X), buf(1, s.O), buf(2, s.X, 'out')];
    },
    flops: (a) => poolSizes(a[3]).O * a[3].k * a[3].k,
    bytes: (a) => {
      const s = poolSizes(a[3]);
      return F32 * (2 * s.X + s.O);
    },
    shape: (a) => poolShape(a[3], a[4]),
  },
  // ---------------------------------------------------------------- losses
  softmaxXentMean: {
    bufs: (a) => [buf(0, a[3] * a[4]), buf(1, a[3], 'in', `index:${a[4]}`, 'i32'), buf(2, 1, 'out')],
    flops: (a) => 4 * a[3] * a[4], // max, exp, Σ, and the picked logit
    bytes: (a) => F32 * (a[3] * a[4] + a[3] + 1),
    shape: (a) => `${a[3]}×${a[4]} logits`,
  },
  softmaxXentMeanGrad: {
    bufs: (a) => [
      buf(0, a[4] * a[5]),
      buf(1, a[4], 'in', `index:${a[5]}`, 'i32'),
      buf(2, 1),
      buf(3, a[4] * a[5], 'out'),
    ],
    flops: (a) => 5 * a[4] * a[5],
    bytes: (a) => F32 * (2 * a[4] * a[5] + a[4] + 1),
    shape: (a) => `${a[4]}×${a[5]} logits`,
  },
  bceLogitsMean: {
    bufs: (a) => [
      buf(0, bceN(a)),
      buf(2, bceT(a), 'in', 'binary'),
      buf(4, bceG(a, 6), 'out'),
      buf(5, bceG(a, 6), 'out'),
    ],
    flops: (a) => 8 * bceN(a),
    bytes: (a) => F32 * (bceN(a) + bceT(a) + 2 * bceG(a, 6)),
    shape: (a) => `${bceN(a) / bceG(a, 6)}${groupsTag(bceG(a, 6))} logits`,
  },
  bceLogitsMeanGrad: {
    bufs: (a) => [
      buf(0, bceN(a)),
      buf(2, bceT(a), 'in', 'binary'),
      buf(4, bceG(a, 7)),
      ...(a[5] ? [buf(5, bceN(a), 'out')] : []),
      ...(a[6] ? [buf(6, bceT(a), 'out')] : []),
    ],
    flops: (a) => 4 * bceN(a),
    bytes: (a) => F32 * (2 * bceN(a) + bceT(a) + bceG(a, 7) + (a[6] ? bceT(a) : 0)),
    shape: (a) => `${bceN(a) / bceG(a, 7)}${groupsTag(bceG(a, 7))} logits`,
  },
  // ---------------------------------------------------------------- optimizer and weight average
  adamMulti: {
    bufs: (a) => {
      const T = arenaTotal(a[4]);
      return [buf(0, T, 'inout'), buf(1, T), buf(2, T, 'inout'), buf(3, T, 'inout', 'positive')];
    },
    flops: (a) => 14 * params(a[4]), // m, v, bias corrections, the update
    bytes: (a) => F32 * 7 * params(a[4]), // read p, g, m, v; write p, m, v
    shape: (a) => `${params(a[4]).toLocaleString('en')} params in ${a[4].length} tensors`,
    batchFree: true,
  },
  emaUpdate: {
    bufs: (a) => [buf(0, a[2], 'inout'), buf(1, a[2])],
    flops: (a) => 3 * a[2],
    bytes: (a) => F32 * 3 * a[2],
    shape: (a) => `${a[2].toLocaleString('en')} params`,
    batchFree: true,
  },
  // ---------------------------------------------------------------- the glue between layers (elementwise, layout)
  fill: {
    bufs: (a) => [buf(0, a[1], 'out')],
    flops: () => 0,
    bytes: (a) => F32 * a[1],
    shape: (a) => `${a[1]} elements`,
  },
  random: {
    bufs: (a) => [buf(0, a[1], 'out')],
    flops: (a) => 10 * a[1],
    bytes: (a) => F32 * a[1],
    shape: (a) => `${a[1]} ${a[2]}`,
  },
  randomInt: {
    bufs: (a) => [buf(0, a[1], 'out', 'signed', 'i32')],
    flops: (a) => 10 * a[1],
    bytes: (a) => F32 * a[1],
    shape: (a) => `${a[1]} in [0, ${a[2]})`,
  },
  unary: {
    bufs: (a) => [buf(1, a[3], 'in', positiveIn(a[0])), buf(2, a[3], 'out')],
    flops: (a) => a[3],
    bytes: (a) => F32 * 2 * a[3],
    shape: (a) => `${a[0]} ${a[3]}`,
  },
  unaryGrad: {
    bufs: (a) => {
      const p = positiveIn(a[0]);
      return [buf(1, a[5], 'in', p), buf(2, a[5], 'in', p), buf(3, a[5]), buf(4, a[5], 'out')];
    },
    flops: (a) => 2 * a[5],
    bytes: (a) => F32 * 4 * a[5],
    shape: (a) => `${a[0]} ${a[5]}`,
  },
  binary: {
    bufs: (a) => [
      buf(1, prod(a[2])),
      buf(3, prod(a[4]), 'in', a[0] === 'div' ? 'positive' : 'signed'),
      buf(5, prod(a[6]), 'out'),
    ],
    flops: (a) => prod(a[6]),
    bytes: (a) => F32 * (prod(a[2]) + prod(a[4]) + prod(a[6])),
    shape: (a) => `${a[0]} [${a[2]}]·[${a[4]}]`,
  },
  reduceSum: {
    bufs: (a) => [buf(0, prod(a[1])), buf(3, reduced(a[1], a[2]), outIf(a[4]))],
    flops: (a) => prod(a[1]),
    bytes: (a) => F32 * (prod(a[1]) + reduced(a[1], a[2])),
    shape: (a) => `[${a[1]}] over ${a[2]}`,
  },
  copyStrided: {
    bufs: (a) => [buf(0, spanOf(a[1], a[2], a[6])), buf(3, spanOf(a[4], a[5], a[6]), 'inout')],
    flops: () => 0,
    bytes: (a) => F32 * 2 * prod(a[6]),
    shape: (a) => `[${a[6]}]`,
  },
  concat: {
    // (parts, offsets, widths, W, outer, inner, out)
    bufs: (a) => [...a[0].map((_, k) => buf([0, k], a[4] * a[2][k] * a[5])), buf(6, a[4] * a[3] * a[5], 'inout')],
    flops: () => 0,
    bytes: (a) => F32 * 2 * a[4] * a[2].reduce((t, w) => t + w, 0) * a[5],
    shape: (a) => `${a[0].length} parts → ${a[4]}×${a[3]}×${a[5]}`,
  },
  split: {
    // (g, W, outer, inner, parts, offsets, widths)
    bufs: (a) => [buf(0, a[2] * a[1] * a[3]), ...a[4].map((_, k) => buf([4, k], a[2] * a[6][k] * a[3], 'out'))],
    flops: () => 0,
    bytes: (a) => F32 * 2 * a[2] * a[6].reduce((t, w) => t + w, 0) * a[3],
    shape: (a) => `${a[2]}×${a[1]}×${a[3]} → ${a[4].length} parts`,
  },
};

const ROLES = {
  batchnormStatsRunning: ['batchnorm', 'stats + running'],
  batchnormStats: ['batchnorm', 'stats'],
  batchnormApply: ['batchnorm', 'apply'],
  batchnormGrad: ['batchnorm', 'grad'],
  activationDropout: ['dropout', 'act+dropout'],
  embedding: ['embedding', 'gather'],
  embeddingGrad: ['embedding', 'grad'],
  softmaxXentMean: ['loss', 'softmax xent'],
  softmaxXentMeanGrad: ['loss', 'softmax xent grad'],
  bceLogitsMean: ['loss', 'bce'],
  bceLogitsMeanGrad: ['loss', 'bce grad'],
  adamMulti: ['adam', 'step'],
  emaUpdate: ['ema', 'update'],
};

/** the row's family and kernel (role) for a call, from the method and the class of the layer that made it */
export function classify(method, args, kind) {
  if (method.startsWith('conv2d'))
    return kind === 'ConvTranspose2d'
      ? { family: 'convTranspose2d', role: ROLES_CONVT[method] }
      : { family: 'conv2d', role: ROLES_CONV[method] };
  if (method === 'matmul' && kind === 'Linear')
    return { family: 'dense', role: args[3].transA ? 'gradWeight' : args[3].transB ? 'gradInput' : 'forward' };
  if (method === 'batchnormEpilogueGrad')
    return kind === 'BatchNorm'
      ? { family: 'batchnorm', role: 'epilogue grad' }
      : { family: 'dropout', role: 'act+dropout grad' };
  if (method === 'maxpool2d') return { family: 'maxpool', role: args[3] ? 'forward + dropout' : 'forward' };
  if (method === 'maxpool2dGrad') return { family: 'maxpool', role: args[4] ? 'grad + dropout' : 'grad' };
  if (ROLES[method]) return { family: ROLES[method][0], role: ROLES[method][1] };
  return { family: 'glue', role: ['unary', 'unaryGrad', 'binary'].includes(method) ? `${method} ${args[0]}` : method };
}

/** every family, in the order the table lists them (`--op` takes these) */
export const FAMILIES = [
  'conv2d',
  'convTranspose2d',
  'dense',
  'batchnorm',
  'dropout',
  'embedding',
  'maxpool',
  'loss',
  'adam',
  'ema',
  'glue',
];
