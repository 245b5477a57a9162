// backend.ts — the primitive kernels every backend provides. The autograd ops (ops.ts) are written once on top of
// these, so the same model runs on the GPU (src/kernels) and on the float64 CPU reference (src/cpu), and the CPU
// run is the oracle for the GPU one. Storage is opaque to the autograd layer; shapes are row-major, contiguous.

export type DType = 'f32' | 'i32';
/** Opaque per-backend storage (a pooled GPU buffer, or a Float64Array/Int32Array on the CPU). */
export type Store = object;

export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'leaky_relu'
  | 'add_s'
  | 'mul_s'
  | 'rsub_s'
  | 'square'
  | 'sqrt'
  | 'recip'
  | 'abs';
/** a (op) b with broadcasting; sigmoid_sub = sigmoid(a) − b; bce_logits = max(a,0) − a·b + log(1+e^−|a|) */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'sigmoid_sub' | 'bce_logits';

export const UNARY_OPS: readonly UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'tanh',
  'sigmoid',
  'relu',
  'leaky_relu',
  'add_s',
  'mul_s',
  'rsub_s',
  'square',
  'sqrt',
  'recip',
  'abs',
];
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'sigmoid_sub', 'bce_logits'];

export interface MatmulDims {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** A is stored [batch][K][M] instead of [batch][M][K] */
  transA: boolean;
  /** B is stored [batch][N][K] instead of [batch][K][N] */
  transB: boolean;
  /** element stride between batches (0 broadcasts one matrix over the batch) */
  strideA: number;
  strideB: number;
}

/** activation fused into a kernel's epilogue */
export type Activation = 'none' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid';
export const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'leaky_relu', 'tanh', 'sigmoid'];

/** d's batchnorm groups (1 without), checked to divide the batch (both backends' primitives call this) */
export function batchnormGroups(d: BatchnormDims): number {
  const G = d.groups ?? 1;
  if (!(Number.isInteger(G) && G >= 1 && d.N % G === 0))
    throw new Error(`batchnorm: ${G} groups do not divide a batch of ${d.N}`);
  return G;
}

/**
 * A 2-D convolution, NCHW: x [N][C][H][W] * w [K][C][R][S] → y [N][K][P][Q], stride (sh, sw), top/left padding
 * (ph, pw); bottom/right padding is whatever P and Q imply (so TensorFlow's asymmetric 'same' fits).
 */
export interface ConvDims {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  S: number;
  P: number;
  Q: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** batchnorm layout: x viewed as [N][C][L] (L = H·W for 2-D, 1 for 1-D); statistics are per channel c over N·L */
export interface BatchnormDims {
  N: number;
  C: number;
  L: number;
  /**
   * x is read through relu (the ReLU of the layer before, moved into the batchnorm): statistics and normalisation
   * see relu(x), and batchnormGrad's gx is the gradient before that ReLU (times [x > 0])
   */
  inputRelu?: boolean;
  /**
   * groups G (default 1) of N/G consecutive samples, each normalised by its own statistics (mean and var hold G·C
   * values, group-major: g·C + c), as if each group went through the batchnorm alone, one after the other: the
   * running statistics take G updates in group order, gamma's and beta's gradients sum the groups'. A discriminator
   * runs its real and generated batches as one batch of two groups: one pass instead of two, the same result
   */
  groups?: number;
}

/**
 * what batchnormApply may fuse after the normalisation: an activation (relu, or leaky_relu with slope alpha), then
 * inverted dropout with probability p (0: none) and the mask `dropout` draws for stream `key` at counter offset 0
 */
export interface BatchnormEpilogue {
  act: 'none' | 'relu' | 'leaky_relu';
  alpha: number;
  p: number;
  key: number;
}

/** which of batchnormGrad's parameter gradients are added to their outputs' values instead of overwriting them */
export interface BatchnormAccumulate {
  gamma?: boolean;
  beta?: boolean;
}

/** max pooling over x [N][C][H][W] → [N][C][OH][OW] with k×k windows at stride `stride`, no padding, floor mode */
export interface Pool2dDims {
  N: number;
  C: number;
  H: number;
  W: number;
  k: number;
  stride: number;
  /** floor((H − k)/stride) + 1 */
  OH: number;
  /** floor((W − k)/stride) + 1 */
  OW: number;
}

/** one Adam/AdamW step's settings; `step` is t ≥ 1 (bias corrections 1 − β^t) */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding wd·p to the gradient */
  decoupled: boolean;
  step: number;
}

/** one tensor's place in an arena: element offset (a multiple of ARENA_ALIGN) and length */
export interface ArenaSlot {
  offset: number;
  n: number;
}

/** arena slots start at multiples of 64 elements: 256 bytes of f32, WebGPU's storage-binding offset alignment */
export const ARENA_ALIGN = 64;

/** parts per Backend.concat / Backend.split call (the GPU kernel's bindings); longer lists go in several calls */
export const CONCAT_MAX_PARTS = 4;

/** where an arena puts tensors of `sizes` elements (in order, each at an ARENA_ALIGN boundary), and its length */
export interface ArenaLayout {
  readonly slots: readonly ArenaSlot[];
  /** elements in the whole block */
  readonly total: number;
}

export function arenaLayout(sizes: readonly number[]): ArenaLayout {
  let at = 0;
  const slots = sizes.map((n) => {
    const s = { offset: at, n };
    at += Math.ceil(Math.max(n, 1) / ARENA_ALIGN) * ARENA_ALIGN;
    return s;
  });
  return { slots, total: at };
}

export interface Backend {
  readonly kind: 'gpu' | 'cpu';
  readonly name: string;
  /** storage for n elements; contents undefined (poisoned in tests) */
  alloc(n: number, dtype: DType): Store;
  upload(data: ArrayLike<number>, dtype: DType): Store;
  read(s: Store, n: number, dtype: DType): Promise<Float32Array | Float64Array | Int32Array>;
  /** overwrite storage with host data (in queue order after everything recorded before) */
  write(s: Store, data: ArrayLike<number>, dtype: DType): void;
  free(s: Store): void;
  /**
   * An arena: one f32 storage block laid out as `layout` (from arenaLayout). `whole` spans it (for kernels such as
   * adamMulti that update every slot at once); `slots[i]` is the storage of tensor i (layout.slots[i].n elements),
   * usable
   * wherever a tensor's storage is. Contents undefined. Every handle is freed on its own; the block goes with the
   * last. On the GPU a kernel must not bind one slot as writable and another slot of the same arena as read-only
   * (WebGPU forbids a writable and a read-only use of one buffer in a dispatch).
   */
  arena(layout: ArenaLayout): { whole: Store; slots: Store[] };
  /**
   * device memory of a pooling backend, in bytes: live (handed out now), peak (the most live since the previous call,
   * which starts a new peak) and allocated (held on the device, free buffers included); absent on the CPU reference.
   * A training run records it at every epoch's end: flat `allocated` after the first epoch is issue 7's "GPU memory
   * flat after warm-up" over a whole run
   */
  memory?(): { live: number; peak: number; allocated: number };
  /** asynchronous backends: wait until at most `max` earlier throttle points are still executing (one per step) */
  throttle?(max: number): Promise<void>;
  /** wall-clock ms spent so far timing kernels at throttle points (conv tiles, GPU backend with tuning on);
   *  training loops leave it out of their epoch times and report it apart */
  readonly tuneMs?: number;

  fill(out: Store, n: number, value: number): void;
  /** out = op(x) (alpha: the slope of leaky_relu, the scalar of *_s ops) */
  unary(op: UnaryOp, x: Store, out: Store, n: number, alpha: number): void;
  /** gx = gy · op'(x), given x and y = op(x) */
  unaryGrad(op: UnaryOp, x: Store, y: Store, gy: Store, gx: Store, n: number, alpha: number): void;
  /** out[outShape] = a[aShape] (op) b[bShape]; a and b broadcast to outShape (numpy rules, shapes padded left) */
  binary(
    op: BinaryOp,
    a: Store,
    aShape: readonly number[],
    b: Store,
    bShape: readonly number[],
    out: Store,
    outShape: readonly number[],
  ): void;
  /** out = sum of x over `axes` (out has x's shape with those axes set to 1); `accumulate`: out += it */
  reduceSum(x: Store, shape: readonly number[], axes: readonly number[], out: Store, accumulate?: boolean): void;
  /**
   * dst[dstOffset + Σ i_k·dstStrides_k] = src[srcOffset + Σ i_k·srcStrides_k] over `shape` (transpose, slice, concat)
   */
  copyStrided(
    src: Store,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Store,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void;
  /**
   * out [outer][W][inner] gets parts[k] [outer][widths[k]][inner] at columns [offsets[k], offsets[k] + widths[k]) of
   * its middle axis (concatenation along one axis), 1 to CONCAT_MAX_PARTS parts (32-bit words: f32 or i32)
   */
  concat(
    parts: readonly Store[],
    offsets: readonly number[],
    widths: readonly number[],
    W: number,
    outer: number,
    inner: number,
    out: Store,
  ): void;
  /** the inverse of concat: parts[k] = g [outer][W][inner]'s columns [offsets[k], offsets[k] + widths[k]), 1 to
  /** CONCAT_MAX_PARTS parts */
  split(
    g: Store,
    W: number,
    outer: number,
    inner: number,
    parts: readonly Store[],
    offsets: readonly number[],
    widths: readonly number[],
  ): void;
  /** out[batch][M][N] = act(op(A) · op(B) + bias[N]) (bias and activation optional); `accumulate`: out += it */
  /**
   * `biasGrad` (batch 1): also biasGrad.out[n] = Σ_k op(B)[k][n] (summed over k in order; added to its values with
   * biasGrad.add) — a dense layer's bias gradient from the product that makes its weight gradient
   */
  matmul(
    a: Store,
    b: Store,
    out: Store,
    d: MatmulDims,
    bias?: Store | null,
    act?: Activation,
    alpha?: number,
    accumulate?: boolean,
    biasGrad?: { out: Store; add: boolean } | null,
  ): void;
  /** per-row cross-entropy of softmax(logits[N][C]) against integer labels[N] */
  softmaxXent(logits: Store, labels: Store, out: Store, N: number, C: number): void;
  /** gLogits[i][c] = gRow[i] · (softmax(logits_i)_c − [c = label_i]) */
  softmaxXentGrad(logits: Store, labels: Store, gRow: Store, gLogits: Store, N: number, C: number): void;
  /** loss[0] = (1/N)·Σ_i of softmaxXent's row losses (the mean cross-entropy in one kernel) */
  softmaxXentMean(logits: Store, labels: Store, loss: Store, N: number, C: number): void;
  /** softmaxXentGrad with every row's gRow = gLoss[0]/N: the gradient of softmaxXentMean */
  softmaxXentMeanGrad(logits: Store, labels: Store, gLoss: Store, gLogits: Store, N: number, C: number): void;
  /**
   * The mean binary cross-entropy with logits, per group: logits [lShape] and targets [tShape] broadcast together
   * (numpy rules); the broadcast elements split into `groups` equal runs of n, loss[k] = (1/n)·Σ bce_logits(a, t) and
   * prob[k] = the mean of sigmoid over group k's logits. groups > 1 takes logits that do not broadcast and targets
   * one per logit or one for all. Each backend chooses its kernels (the GPU: one fused kernel, or the elementwise
   * ones for a general broadcast)
   */
  bceLogitsMean(
    logits: Store,
    lShape: readonly number[],
    targets: Store,
    tShape: readonly number[],
    loss: Store,
    prob: Store,
    groups?: number,
  ): void;
  /**
   * the gradients of bceLogitsMean's losses given gLoss [groups]: gLogits [lShape] (Σ over broadcast copies of
   * (sigmoid(a) − t)·gLoss[k]/n) and, when asked, gTargets [tShape] (of −a·gLoss[k]/n); null: not wanted
   */
  bceLogitsMeanGrad(
    logits: Store,
    lShape: readonly number[],
    targets: Store,
    tShape: readonly number[],
    gLoss: Store,
    gLogits: Store | null,
    gTargets: Store | null,
    groups?: number,
  ): void;
  /** hit[i] = 1 if argmax(logits_i) (first maximum) = label_i, else 0 */
  argmaxMatch(logits: Store, labels: Store, hit: Store, N: number, C: number): void;
  /** in place: param, m, v ← one Adam/AdamW step with gradient grad */
  adam(param: Store, grad: Store, m: Store, v: Store, n: number, h: AdamHyper): void;
  /**
   * the adam step of every slot in `slots` at once: param, grad, m and v are whole arenas of one layout (see
   * arenaLayout); elements outside the listed slots are left alone
   */
  adamMulti(param: Store, grad: Store, m: Store, v: Store, slots: readonly ArenaSlot[], h: AdamHyper): void;
  /** in place: avg ← avg + (1 − decay)·(x − avg) over n elements (a weight average, src/nn/ema.ts) */
  emaUpdate(avg: Store, x: Store, n: number, decay: number): void;
  /** counter-based random numbers: element i uses counter offset+i of stream `seed` */
  random(out: Store, n: number, dist: 'uniform' | 'normal', seed: number, offset: number): void;
  /** i32 out[i] ∈ [0, high) from counter offset+i of stream `seed` (high ≤ 256) */
  randomInt(out: Store, n: number, high: number, seed: number, offset: number): void;
  /**
   * out = keep_i ? x_i / (1 − p) : 0, keep_i from counter offset+i of stream `seed` (same mask forward and backward)
   */
  dropout(x: Store, out: Store, n: number, p: number, seed: number, offset: number): void;

  /** y = act(conv(x, w) + bias) */
  conv2d(x: Store, w: Store, bias: Store | null, y: Store, d: ConvDims, act: Activation, alpha: number): void;
  /** gx = ∂/∂x of conv given gy (gather form); with bias/act it is also the transposed convolution's forward */
  conv2dGradInput(
    gy: Store,
    w: Store,
    gx: Store,
    d: ConvDims,
    bias: Store | null,
    act: Activation,
    alpha: number,
  ): void;
  /** gw = ∂/∂w of conv given x and gy; `accumulate`: gw += it */
  conv2dGradWeight(x: Store, gy: Store, gw: Store, d: ConvDims, accumulate?: boolean): void;
  /** per-channel batch mean and biased variance (Σ(x − mean)²/(N·L), two-pass) of x [N][C][L] into mean[C], variance[C]
  /** */
  batchnormStats(x: Store, mean: Store, variance: Store, d: BatchnormDims): void;
  /**
   * batchnormStats, then in place, per channel: runMean = (1 − momentum)·runMean + momentum·mean,
   * runVar = (1 − momentum)·runVar + momentum·variance·M/(M − 1), M = N·L (the unbiased batch variance, as PyTorch)
   */
  batchnormStatsRunning(
    x: Store,
    mean: Store,
    variance: Store,
    runMean: Store,
    runVar: Store,
    d: BatchnormDims,
    momentum: number,
  ): void;
  /**
   * out = (x − mean_c)/√(variance_c + eps)·gamma_c + beta_c (batch statistics in training, running ones in eval),
   * then the epilogue's activation and dropout when one is given
   */
  batchnormApply(
    x: Store,
    mean: Store,
    variance: Store,
    gamma: Store,
    beta: Store,
    out: Store,
    d: BatchnormDims,
    eps: number,
    epi?: BatchnormEpilogue | null,
  ): void;
  /**
   * out = batchnormApply's epilogue alone on x [n] (no normalisation): the activation, then dropout (mask of element
   * i); its gradient is batchnormEpilogueGrad with dims {N: n, C: 1, L: 1}
   */
  activationDropout(x: Store, out: Store, n: number, epi: BatchnormEpilogue): void;
  /**
   * the gradient back through batchnormApply's epilogue, given its output y: gn = (kept by the dropout mask ?
   * g/(1 − p) : 0)·act'(input), the activation's slope read off sign(y) (the input's sign wherever kept)
   */
  batchnormEpilogueGrad(g: Store, y: Store, gn: Store, d: BatchnormDims, epi: BatchnormEpilogue): void;
  /**
   * with x̂ = (x − mean_c)·invstd_c, invstd_c = 1/√(variance_c + eps), M = N·L:
   * gGamma_c = Σ g·x̂, gBeta_c = Σ g; gx = gamma_c·invstd_c·(g − Σg/M − x̂·Σ(g·x̂)/M) when `training` (mean and
   * variance were the batch's own), gx = g·gamma_c·invstd_c otherwise (constant running statistics); `acc`: add
   * gGamma and/or gBeta to those outputs' values; `through`: g is the gradient of batchnormApply's epilogue output
   * y, taken back through the epilogue first (batchnormEpilogueGrad's g → gn)
   */
  batchnormGrad(
    x: Store,
    g: Store,
    mean: Store,
    variance: Store,
    gamma: Store,
    gx: Store,
    gGamma: Store,
    gBeta: Store,
    d: BatchnormDims,
    eps: number,
    training: boolean,
    acc?: BatchnormAccumulate,
    through?: { y: Store; epi: BatchnormEpilogue } | null,
  ): void;
  /** out[i][:] = weight[indices[i]][:] for i < n, weight [V][D]; an index outside [0, V): the CPU throws, the GPU
  /** writes NaN */
  embedding(weight: Store, indices: Store, out: Store, n: number, V: number, D: number): void;
  /**
   * gWeight[v][:] = Σ over i with indices[i] = v of g[i][:] (rows no index names are 0; deterministic, no atomics);
   * `accumulate`: gWeight += it
   */
  embeddingGrad(indices: Store, g: Store, gWeight: Store, n: number, V: number, D: number, accumulate?: boolean): void;
  /**
   * out = max over each window; the window's argmax is its first maximum in row-major order. With `drop`, then
   * inverted dropout with probability p and dropout's mask for stream `key` (element index of out, offset 0)
   */
  maxpool2d(x: Store, out: Store, d: Pool2dDims, drop?: { p: number; key: number } | null): void;
  /**
   * gx = Σ over the windows whose argmax (as in maxpool2d) is this element of g[window] (with `drop`, g[window]
   * through the same dropout mask and scale); 0 elsewhere
   */
  maxpool2dGrad(x: Store, g: Store, gx: Store, d: Pool2dDims, drop?: { p: number; key: number } | null): void;
}

/** strides of `shape` broadcast into `out` (0 where broadcast), left-padded */
/** the shape a and b broadcast to (numpy rules: shapes padded left, a dimension of 1 repeats) */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** the axes of `from` that a tensor of shape `to` was broadcast along: summing over them gives back `to`'s elements */
export function broadcastAxes(from: readonly number[], to: readonly number[]): number[] {
  const lead = from.length - to.length;
  return from.flatMap((d, i) => (i < lead || (to[i - lead] === 1 && d !== 1) ? [i] : []));
}

export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const lead = out.length - shape.length;
  const s = new Array<number>(out.length).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i + lead] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i];
  }
  return s;
}
