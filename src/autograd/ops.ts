// ops.ts — differentiable ops, each forward beside its backward (micrograd style). They call the backend's
// primitive kernels, so every op here runs on the GPU and on the float64 CPU reference alike.
import { CONCAT_MAX_PARTS, broadcastAxes, broadcastShape } from './backend.js';
import type { Activation, Backend, BinaryOp, UnaryOp, MatmulDims } from './backend.js';
import { Tensor, type Shape, record, setAccumulate, sizeOf, stridesOf, noGrad } from './tensor.js';
import type { Generator } from './random.js';
import { preActivationGrad, sumInto } from './grads.js';

// ------------------------------------------------------------------ helpers
function sameBackend(...ts: Tensor[]): Backend {
  const b = ts[0].backend;
  for (const t of ts) if (t.backend !== b) throw new Error(`ops mix backends (${b.name} and ${t.backend.name})`);
  return b;
}
function f32(t: Tensor, op: string): void {
  if (t.dtype !== 'f32') throw new Error(`${op}: expects f32, got ${t.dtype} [${t.shape}]`);
}
const fmt = (s: Shape) => `[${s.join(', ')}]`;

export { broadcastShape };

/** sum g (shape `from`) down to `to` (the shape it was broadcast from) */
export function sumTo(g: Tensor, to: Shape): Tensor {
  if (g.shape.length === to.length && g.shape.every((d, i) => d === to[i])) return g;
  const r = sum(g, broadcastAxes(g.shape, to), true);
  if (r.shape.length === to.length) return r;
  const v = r.view(to);
  r.dispose();
  return v;
}

// ------------------------------------------------------------------ elementwise
function unaryRaw(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  f32(x, op);
  const out = Tensor.empty(x.backend, x.shape);
  x.backend.unary(op, x.store, out.store, x.size, alpha);
  return out;
}

function unary(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  const y = unaryRaw(op, x, alpha);
  return record(y, op, [x], (g) => {
    const gx = Tensor.empty(x.backend, x.shape);
    x.backend.unaryGrad(op, x.store, y.store, g.store, gx.store, x.size, alpha);
    return [gx];
  });
}

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const relu = (x: Tensor) => unary('relu', x);
export const leakyRelu = (x: Tensor, slope = 0.2) => unary('leaky_relu', x, slope);
export const square = (x: Tensor) => unary('square', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const abs = (x: Tensor) => unary('abs', x);
export const addScalar = (x: Tensor, s: number) => unary('add_s', x, s);
export const mulScalar = (x: Tensor, s: number) => unary('mul_s', x, s);
/** s − x */
export const rsubScalar = (x: Tensor, s: number) => unary('rsub_s', x, s);

/** a (op) b, into `into` when given (a tensor of the result's size, e.g. a parameter's gradient slot) */
function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, into: Tensor | null = null): Tensor {
  const be = sameBackend(a, b);
  f32(a, op);
  f32(b, op);
  const shape = broadcastShape(a.shape, b.shape);
  if (into && into.size !== sizeOf(shape))
    throw new Error(`${op}: result [${shape}] does not fit the output tensor [${into.shape}]`);
  const out = into ?? Tensor.empty(be, shape);
  be.binary(op, a.store, a.shape, b.store, b.shape, out.store, shape);
  return out;
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, b);
  const y = binaryRaw('add', a, b);
  return record(y, 'add', [a, b], (g, needs) => [
    needs[0] ? sumTo(g, a.shape) : null,
    needs[1] ? sumTo(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return addScalar(a, -b);
  const y = binaryRaw('sub', a, b);
  return record(y, 'sub', [a, b], (g, needs) => {
    let gb: Tensor | null = null;
    if (needs[1]) {
      const s = sumTo(g, b.shape);
      gb = unaryRaw('neg', s);
      if (s !== g) s.dispose();
    }
    return [needs[0] ? sumTo(g, a.shape) : null, gb];
  });
}

/** reduce a freshly made gradient to `shape`, freeing the full-size one when a reduction happened */
function reduceTo(full: Tensor, shape: Shape): Tensor {
  const r = sumTo(full, shape);
  if (r !== full) full.dispose();
  return r;
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, b);
  const y = binaryRaw('mul', a, b);
  return record(y, 'mul', [a, b], (g, needs) => [
    needs[0] ? reduceTo(binaryRaw('mul', g, b), a.shape) : null,
    needs[1] ? reduceTo(binaryRaw('mul', g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return mulScalar(a, 1 / b);
  const y = binaryRaw('div', a, b);
  return record(y, 'div', [a, b], (g, needs) => {
    let gb: Tensor | null = null;
    if (needs[1]) {
      // d(a/b)/db = −(a/b)/b = −y/b
      const gy = binaryRaw('mul', g, y);
      const q = binaryRaw('div', gy, b);
      gy.dispose();
      gb = reduceTo(unaryRaw('neg', q), b.shape);
      q.dispose();
    }
    return [needs[0] ? reduceTo(binaryRaw('div', g, b), a.shape) : null, gb];
  });
}

setAccumulate((a, b, into) => binaryRaw('add', a, b, into));

// ------------------------------------------------------------------ reductions
function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  const list = axes === undefined ? [...Array(rank).keys()] : typeof axes === 'number' ? [axes] : [...axes];
  const out = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((x, y) => x - y);
  for (const a of out) if (a < 0 || a >= rank) throw new Error(`axis ${a} out of range for rank ${rank}`);
  return out;
}

/** sum over axes (all by default); keepdims keeps them as size 1 */
export function sum(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  f32(x, 'sum');
  const ax = normAxes(axes, x.shape.length);
  const kshape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = Tensor.empty(x.backend, kshape);
  x.backend.reduceSum(x.store, x.shape, ax, out.store);
  let y = out;
  if (!keepdims) {
    y = out.view(x.shape.filter((_, i) => !ax.includes(i)));
    out.dispose();
  }
  return record(y, 'sum', [x], (g) => [expand(g.view(kshape), x.shape, true)]);
}

export function mean(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normAxes(axes, x.shape.length);
  const count = ax.reduce((a, i) => a * x.shape[i], 1);
  const s = sum(x, ax, keepdims);
  const m = mulScalar(s, 1 / count);
  if (!s.requiresGrad) s.dispose();
  return m;
}

/** broadcast x to `shape` (a copy with zero strides); `consume` frees x */
export function expand(x: Tensor, shape: Shape, consume = false): Tensor {
  const full = broadcastShape(x.shape, shape);
  if (full.some((d, i) => d !== shape[i])) throw new Error(`cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  const lead = shape.length - x.shape.length;
  const xs = stridesOf(x.shape);
  const src = shape.map((_d, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : xs[i - lead]));
  const out = Tensor.empty(x.backend, shape, x.dtype);
  x.backend.copyStrided(x.store, 0, src, out.store, 0, stridesOf(shape), shape);
  const y = record(out, 'expand', [x], (g) => [sumTo(g, x.shape)]);
  if (consume) x.dispose();
  return y;
}

// ------------------------------------------------------------------ shape ops
export function reshape(x: Tensor, shape: Shape): Tensor {
  const y = x.view(shape);
  return record(y, 'reshape', [x], (g) => [g.view(x.shape)]);
}

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const r = x.shape.length;
  const p = perm ?? [...Array(r).keys()].reverse();
  if (p.length !== r || new Set(p).size !== r || p.some((a) => a < 0 || a >= r))
    throw new Error(`transpose: bad permutation [${p}] for rank ${r}`);
  const shape = p.map((a) => x.shape[a]);
  const xs = stridesOf(x.shape);
  const out = Tensor.empty(x.backend, shape, x.dtype);
  x.backend.copyStrided(
    x.store,
    0,
    p.map((a) => xs[a]),
    out.store,
    0,
    stridesOf(shape),
    shape,
  );
  const inv = p.map((_, i) => p.indexOf(i));
  return record(out, 'transpose', [x], (g) => [transpose(g, inv)]);
}

/** elements [start, start+length) along `axis` */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = axis < 0 ? axis + x.shape.length : axis;
  if (a < 0 || a >= x.shape.length || start < 0 || length < 0 || start + length > x.shape[a])
    throw new Error(`narrow: [${start}, ${start + length}) out of range for axis ${axis} of ${fmt(x.shape)}`);
  const shape = x.shape.map((d, i) => (i === a ? length : d));
  const xs = stridesOf(x.shape);
  const out = Tensor.empty(x.backend, shape, x.dtype);
  x.backend.copyStrided(x.store, start * xs[a], xs, out.store, 0, stridesOf(shape), shape);
  return record(out, 'narrow', [x], (g) => {
    const gx = Tensor.zeros(x.backend, x.shape);
    x.backend.copyStrided(g.store, 0, stridesOf(shape), gx.store, start * xs[a], xs, shape);
    return [gx];
  });
}

export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  if (ts.length === 0) throw new Error('concat: no tensors');
  const be = sameBackend(...ts);
  const r = ts[0].shape.length;
  const a = axis < 0 ? axis + r : axis;
  for (const t of ts)
    if (t.shape.length !== r || t.shape.some((d, i) => i !== a && d !== ts[0].shape[i]) || t.dtype !== ts[0].dtype)
      throw new Error(`concat: ${ts.map((t) => fmt(t.shape)).join(' and ')} differ outside axis ${axis}`);
  const W = ts.reduce((s, t) => s + t.shape[a], 0);
  const shape = ts[0].shape.map((d, i) => (i === a ? W : d));
  const outer = sizeOf(shape.slice(0, a));
  const inner = sizeOf(shape.slice(a + 1));
  const out = Tensor.empty(be, shape, ts[0].dtype);
  const offsets: number[] = [];
  ts.reduce((off, t) => (offsets.push(off), off + t.shape[a]), 0);
  const widths = ts.map((t) => t.shape[a]);
  // up to CONCAT_MAX_PARTS tensors per kernel, each way
  for (let k = 0; k < ts.length; k += CONCAT_MAX_PARTS)
    be.concat(
      ts.slice(k, k + CONCAT_MAX_PARTS).map((t) => t.store),
      offsets.slice(k, k + CONCAT_MAX_PARTS),
      widths.slice(k, k + CONCAT_MAX_PARTS),
      W,
      outer,
      inner,
      out.store,
    );
  return record(out, 'concat', [...ts], (g, needs) => {
    const gs = ts.map((t, k) => (needs[k] ? Tensor.empty(be, t.shape) : null));
    const want = [...gs.keys()].filter((k) => gs[k]);
    for (let i = 0; i < want.length; i += CONCAT_MAX_PARTS) {
      const ks = want.slice(i, i + CONCAT_MAX_PARTS);
      be.split(
        g.store,
        W,
        outer,
        inner,
        ks.map((k) => gs[k]!.store),
        ks.map((k) => offsets[k]),
        ks.map((k) => widths[k]),
      );
    }
    return gs;
  });
}

// ------------------------------------------------------------------ matmul
/** op(a)·op(b); into `into.t` when given (added to it with `into.add`: a parameter's gradient slot) */
function matmulRaw(
  be: Backend,
  a: Tensor,
  b: Tensor,
  d: MatmulDims,
  into: { t: Tensor; add: boolean } | null = null,
): Tensor {
  const out = into?.t ?? Tensor.empty(be, d.batch > 1 ? [d.batch, d.M, d.N] : [d.M, d.N]);
  be.matmul(a.store, b.store, out.store, d, null, 'none', 0, !!into?.add);
  return out;
}

/**
 * a [M,K] · b [K,N] → [M,N]; a [B,M,K] · b [B,K,N] → [B,M,N]; a [B,M,K] · b [K,N] → [B,M,N] (b shared).
 * transA/transB read a as [.., K, M] or b as [.., N, K] (no copy).
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  const be = sameBackend(a, b);
  f32(a, 'matmul');
  f32(b, 'matmul');
  const tA = !!opts.transA;
  const tB = !!opts.transB;
  if (
    a.shape.length < 2 ||
    a.shape.length > 3 ||
    b.shape.length < 2 ||
    b.shape.length > 3 ||
    (a.shape.length === 2 && b.shape.length === 3)
  )
    throw new Error(`matmul: unsupported ranks ${fmt(a.shape)} · ${fmt(b.shape)} (2-D·2-D, 3-D·3-D or 3-D·2-D)`);
  const batch = a.shape.length === 3 ? a.shape[0] : 1;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = tA ? ac : ar;
  const K = tA ? ar : ac;
  const N = tB ? br : bc;
  const Kb = tB ? bc : br;
  if (K !== Kb || (b.shape.length === 3 && b.shape[0] !== batch))
    throw new Error(`matmul: shapes ${fmt(a.shape)}${tA ? 'ᵀ' : ''} · ${fmt(b.shape)}${tB ? 'ᵀ' : ''} do not match`);
  const bShared = b.shape.length === 2 && batch > 1;
  const d: MatmulDims = { batch, M, N, K, transA: tA, transB: tB, strideA: M * K, strideB: bShared ? 0 : K * N };
  const y = matmulRaw(be, a, b, d);
  const out = a.shape.length === 3 && batch === 1 ? y.view([1, M, N]) : y;
  if (out !== y) y.dispose();
  return record(out, 'matmul', [a, b], (g, needs) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      // dA = dC·Bᵀ (or, when A was read transposed, dAᵀ = B·dCᵀ → dA = (B·dCᵀ)ᵀ stored as [K,M] = op(B)·dCᵀ)
      ga = tA
        ? matmulRaw(be, b, g, { batch, M: K, N: M, K: N, transA: tB, transB: true, strideA: d.strideB, strideB: M * N })
        : matmulRaw(be, g, b, { batch, M, N: K, K: N, transA: false, transB: !tB, strideA: M * N, strideB: d.strideB });
      if (a.shape.length === 3 && batch === 1) ga = reshapeOwned(ga, a.shape);
    }
    if (needs[1]) {
      if (bShared) {
        // dB sums over the batch: treat A as [B·M, K] and dC as [B·M, N]
        const MB = batch * M;
        if (tA) {
          // a is [B][K][M]: no single 2-D view; sum per-batch products instead
          const parts = matmulRaw(be, a, g, {
            batch,
            M: K,
            N,
            K: M,
            transA: false,
            transB: false,
            strideA: M * K,
            strideB: M * N,
          });
          const s = sum(parts, 0);
          parts.dispose();
          gb = tB ? transposeOwned(s) : s;
        } else
          gb = tB
            ? matmulRaw(be, g, a, { batch: 1, M: N, N: K, K: MB, transA: true, transB: false, strideA: 0, strideB: 0 })
            : matmulRaw(be, a, g, { batch: 1, M: K, N, K: MB, transA: true, transB: false, strideA: 0, strideB: 0 });
      } else {
        gb = tB
          ? matmulRaw(be, g, a, { batch, M: N, N: K, K: M, transA: true, transB: tA, strideA: M * N, strideB: M * K })
          : matmulRaw(be, a, g, { batch, M: K, N, K: M, transA: !tA, transB: false, strideA: M * K, strideB: M * N });
        if (b.shape.length === 3 && batch === 1) gb = reshapeOwned(gb, b.shape);
      }
    }
    return [ga, gb];
  });
}
function reshapeOwned(t: Tensor, shape: Shape): Tensor {
  const v = t.view(shape);
  t.dispose();
  return v;
}
function transposeOwned(t: Tensor): Tensor {
  const r = noGrad(() => transpose(t));
  t.dispose();
  return r;
}

/** a dense layer: y = act(x·w + b); x [B, in], w [in, out], b [out]; bias and activation run in the matmul's epilogue
/** */
export function linear(
  x: Tensor,
  w: Tensor,
  b: Tensor | null = null,
  opts: { activation?: Activation; alpha?: number } = {},
): Tensor {
  const be = sameBackend(x, w, ...(b ? [b] : []));
  if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[0] || (b && b.size !== w.shape[1]))
    throw new Error(
      `linear: x ${fmt(x.shape)} (want [B, in]), w ${fmt(w.shape)} (want [in, out]), b ${b ? fmt(b.shape) : 'none'} (want [out]) do not match`,
    );
  const [M, K] = x.shape;
  const N = w.shape[1];
  const act = opts.activation ?? 'none';
  const alpha = opts.alpha ?? 0.2;
  const y = Tensor.empty(be, [M, N]);
  be.matmul(
    x.store,
    w.store,
    y.store,
    { batch: 1, M, N, K, transA: false, transB: false, strideA: 0, strideB: 0 },
    b?.store ?? null,
    act,
    alpha,
  );
  return record(y, 'linear', b ? [x, w, b] : [x, w], (g, needs, out) => {
    const gp = preActivationGrad(y, g, act, alpha);
    // into x's earlier gradient when it has one (two heads on one feature vector): added by this matmul
    const gx = needs[0]
      ? matmulRaw(
          be,
          gp,
          w,
          { batch: 1, M, N: K, K: N, transA: false, transB: true, strideA: 0, strideB: 0 },
          out(0, x.shape),
        )
      : null;
    let gw: Tensor | null = null,
      gb: Tensor | null = null;
    if (needs[1]) {
      const ow = out(1, w.shape);
      // the bias gradient (gp's column sums) from the same kernel as the weight gradient
      const ob = b && needs[2] ? out(2, b.shape) : null;
      be.matmul(
        x.store,
        gp.store,
        ow.t.store,
        { batch: 1, M: K, N, K: M, transA: true, transB: false, strideA: 0, strideB: 0 },
        null,
        'none',
        0,
        ow.add,
        ob && { out: ob.t.store, add: ob.add },
      );
      gw = ow.t;
      gb = ob?.t ?? null;
    } else if (b && needs[2]) gb = sumInto(gp, [0], out(2, b.shape));
    if (gp !== g) gp.dispose();
    return b ? [gx, gw, gb] : [gx, gw];
  });
}

// ------------------------------------------------------------------ losses
function checkXent(logits: Tensor, labels: Tensor): Backend {
  const be = sameBackend(logits, labels);
  f32(logits, 'softmaxCrossEntropy');
  if (logits.shape.length !== 2 || labels.dtype !== 'i32' || labels.size !== logits.shape[0])
    throw new Error(
      `softmaxCrossEntropy: logits ${fmt(logits.shape)} (want [N, C]) and labels ${fmt(labels.shape)} ${labels.dtype} (want [N] i32)`,
    );
  return be;
}

/**
 * mean over rows of −log softmax(logits)[label]; logits [N, C] f32, labels [N] i32 → a scalar (shape []). One
 * kernel each way (softmaxXentMean), with the same bits as mean(softmaxCrossEntropyRows(logits, labels)).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const be = checkXent(logits, labels);
  const [N, C] = logits.shape;
  const out = Tensor.empty(be, []);
  be.softmaxXentMean(logits.store, labels.store, out.store, N, C);
  return record(out, 'softmaxCrossEntropy', [logits], (g) => {
    const gl = Tensor.empty(be, logits.shape);
    be.softmaxXentMeanGrad(logits.store, labels.store, g.store, gl.store, N, C);
    return [gl];
  });
}

/** per-row cross-entropy [N] */
export function softmaxCrossEntropyRows(logits: Tensor, labels: Tensor): Tensor {
  const be = checkXent(logits, labels);
  const [N, C] = logits.shape;
  const out = Tensor.empty(be, [N]);
  be.softmaxXent(logits.store, labels.store, out.store, N, C);
  return record(out, 'softmaxCrossEntropy', [logits], (g) => {
    const gl = Tensor.empty(be, logits.shape);
    be.softmaxXentGrad(logits.store, labels.store, g.store, gl.store, N, C);
    return [gl];
  });
}

/** per row: 1 where the first largest logit is the label, else 0 (not differentiable); sum it for a correct count */
export function argmaxMatch(logits: Tensor, labels: Tensor): Tensor {
  const be = sameBackend(logits, labels);
  if (logits.shape.length !== 2 || labels.dtype !== 'i32' || labels.size !== logits.shape[0])
    throw new Error(
      `argmaxMatch: logits ${fmt(logits.shape)} (want [N, C]) and labels ${fmt(labels.shape)} ${labels.dtype} (want [N] i32)`,
    );
  const out = Tensor.empty(be, [logits.shape[0]]);
  be.argmaxMatch(logits.store, labels.store, out.store, logits.shape[0], logits.shape[1]);
  return out;
}

/** the mean binary cross-entropy of sigmoid(logits) against targets in [0, 1] (broadcast, numpy rules) */
export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  const { loss, prob } = bceWithLogitsAndProb(logits, targets);
  prob.dispose();
  return loss;
}

/**
 * bceWithLogits and the mean probability mean(sigmoid(logits)) (not differentiable; a discriminator's D(x)), per
 * group: with groups > 1 the logits are that many equal runs (consecutive along the flattened tensor, e.g. a
 * discriminator's logits for real images, then for generated ones) and loss, prob [groups] hold each run's means,
 * the same bits as a call on each run alone; the targets are then one per logit or one for all, without gradient.
 * The backend chooses the kernels (backend.bceLogitsMean).
 */
export function bceWithLogitsAndProb(logits: Tensor, targets: Tensor, groups = 1): { loss: Tensor; prob: Tensor } {
  const be = sameBackend(logits, targets);
  f32(logits, 'bceWithLogits');
  f32(targets, 'bceWithLogits');
  const n = logits.size;
  if (!(Number.isInteger(groups) && groups >= 1 && n % groups === 0))
    throw new Error(`bceWithLogits: ${groups} groups do not divide ${n} logits`);
  const both = sizeOf(broadcastShape(logits.shape, targets.shape)); // throws on shapes that do not broadcast
  if (groups > 1 && (targets.requiresGrad || both !== n || (targets.size !== n && targets.size !== 1)))
    throw new Error(
      `bceWithLogits in ${groups} groups: targets must be one per logit (${n}) or one for all, without gradient; ` +
        `got ${fmt(targets.shape)}`,
    );
  const shape = groups === 1 ? [] : [groups];
  const loss = Tensor.empty(be, shape);
  const prob = Tensor.empty(be, shape);
  be.bceLogitsMean(logits.store, logits.shape, targets.store, targets.shape, loss.store, prob.store, groups);
  return {
    loss: record(loss, 'bceWithLogits', [logits, targets], (g, needs) => {
      const gl = needs[0] ? Tensor.empty(be, logits.shape) : null;
      const gt = needs[1] ? Tensor.empty(be, targets.shape) : null;
      be.bceLogitsMeanGrad(
        logits.store,
        logits.shape,
        targets.store,
        targets.shape,
        g.store,
        gl?.store ?? null,
        gt?.store ?? null,
        groups,
      );
      return [gl, gt];
    }),
    prob,
  };
}

// ------------------------------------------------------------------ randomness
export function randomUniform(be: Backend, shape: Shape, gen: Generator): Tensor {
  const t = Tensor.empty(be, shape);
  be.random(t.store, t.size, 'uniform', gen.nextKey(), 0);
  return t;
}
export function randomNormal(be: Backend, shape: Shape, gen: Generator, mean = 0, std = 1): Tensor {
  const t = Tensor.empty(be, shape);
  be.random(t.store, t.size, 'normal', gen.nextKey(), 0);
  if (mean === 0 && std === 1) return t;
  const s = unaryRaw('mul_s', t, std);
  t.dispose();
  if (mean === 0) return s;
  const r = unaryRaw('add_s', s, mean);
  s.dispose();
  return r;
}

/** i32 integers uniform in [0, high) (e.g. class labels), drawn on the backend: no upload */
export function randomInt(be: Backend, shape: Shape, high: number, gen: Generator): Tensor {
  if (!(Number.isInteger(high) && high >= 1 && high <= 256))
    throw new Error(`randomInt: high must be an integer in [1, 256], got ${high}`);
  const t = Tensor.empty(be, shape, 'i32');
  be.randomInt(t.store, t.size, high, gen.nextKey(), 0);
  return t;
}

/** inverted dropout: zero each element with probability p and scale the rest by 1/(1−p) */
export function dropout(x: Tensor, p: number, gen: Generator, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return reshape(x, x.shape);
  f32(x, 'dropout');
  const key = gen.nextKey();
  const out = Tensor.empty(x.backend, x.shape);
  x.backend.dropout(x.store, out.store, x.size, p, key, 0);
  return record(out, 'dropout', [x], (g) => {
    const gx = Tensor.empty(x.backend, x.shape);
    x.backend.dropout(g.store, gx.store, x.size, p, key, 0);
    return [gx];
  });
}

export { sizeOf };
export * from './conv2d.js';
export { preActivationGrad, sumInto } from './grads.js';
export * from './batchnorm.js';
export * from './embedding.js';
export * from './maxpool2d.js';
