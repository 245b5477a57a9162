// tensor.ts — the Tensor (shape, dtype, storage on some backend), its lifetime (refcounted storage, dispose,
// `tidy` scopes) and the reverse-mode tape (`backward`). Ops live in ops.ts; each records a backward closure
// here when gradients are on and an input requires them.
import type { Backend, DType, Store } from './backend.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`bad shape [${shape.join(', ')}]: dimensions must be non-negative integers`);
    n *= d;
  }
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** refcounted backend storage: reshape/detach share it, the last release frees it (relocate moves it) */
class Storage {
  refs = 1;
  constructor(
    readonly backend: Backend,
    public store: Store,
    readonly n: number,
    readonly dtype: DType,
  ) {}
  release(): void {
    if (--this.refs === 0) this.backend.free(this.store);
  }
}

/**
 * Where a backward closure may write input k's gradient (shape: input k's): `t`, overwritten, or, with `add`,
 * added to. For a parameter with a gradient slot (an optimizer's arena, see `gradSlot`), `t` is a view of the
 * slot: the first gradient of the pass overwrites it, later ones add to it, and the optimizer finds the sum in
 * place. For an intermediate tensor that already has a gradient from another consumer (held by nothing else), `t`
 * is that gradient, with `add`. Otherwise `t` is a new tensor. A closure that allocates its gradients some other way
 * is still correct (they are added by the tape, and the optimizer copies what is not in its slot).
 */
export type GradOut = (k: number, shape: Shape) => { t: Tensor; add: boolean };

interface TapeNode {
  name: string;
  inputs: Tensor[];
  /** maps the output gradient to one gradient per input (null where not needed) */
  backward: (g: Tensor, needs: boolean[], out: GradOut) => (Tensor | null)[];
}

// ------------------------------------------------------------------ grad mode and scopes
let gradEnabled = true;
export function isGradEnabled(): boolean {
  return gradEnabled;
}
/** run fn without recording the tape */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

const scopes: Set<Tensor>[] = [];

/**
 * Run fn and dispose every tensor it created, except those in its result (a tensor, or arrays/objects of them)
 * and those passed to `keep`. A training step runs inside one scope, so its temporaries go back to the pool.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise)
      throw new Error('tidy(fn): fn must be synchronous (record GPU work, read back outside)');
  } finally {
    scopes.pop();
  }
  const keepers = new Set<Tensor>();
  collect(result, keepers);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (keepers.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}
function collect(v: unknown, into: Set<Tensor>): void {
  if (v instanceof Tensor) into.add(v);
  else if (Array.isArray(v)) for (const x of v) collect(x, into);
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    for (const x of Object.values(v)) collect(x, into);
}
/** take a tensor out of every enclosing scope (it lives until disposed explicitly) */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** keep this (non-leaf) tensor's gradient in .grad after backward, for inspection */
  retainGrad = false;
  /** how this tensor was made (null for leaves and when no gradient was needed) */
  node: TapeNode | null = null;
  name = '';
  /**
   * set by an optimizer that keeps this parameter's gradient in an arena: the slot the backward pass writes the
   * gradient into where it can (see GradOut); .grad is then a view of it
   */
  gradSlot: Tensor | null = null;
  private storage: Storage | null;

  private constructor(
    storage: Storage,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {
    this.storage = storage;
    this.size = sizeOf(shape);
    scopes[scopes.length - 1]?.add(this);
  }

  get backend(): Backend {
    return this.live().backend;
  }
  /** the backend storage (for kernels) */
  get store(): Store {
    return this.live().store;
  }
  get disposed(): boolean {
    return this.storage === null;
  }
  private live(): Storage {
    if (!this.storage)
      throw new Error(
        `tensor #${this.id}${this.name ? ` (${this.name})` : ''} [${this.shape.join(', ')}] used after dispose`,
      );
    return this.storage;
  }

  /** a new tensor with uninitialised storage */
  static empty(backend: Backend, shape: Shape, dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    return new Tensor(new Storage(backend, backend.alloc(n, dtype), n, dtype), [...shape], dtype);
  }
  /** a tensor owning existing storage of sizeOf(shape) elements (e.g. an arena slot); disposing it frees the store */
  static adopt(backend: Backend, store: Store, shape: Shape, dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    return new Tensor(new Storage(backend, store, n, dtype), [...shape], dtype);
  }
  static from(backend: Backend, data: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    if (data.length !== n)
      throw new Error(`Tensor.from: ${data.length} values for shape [${shape.join(', ')}] (needs ${n})`);
    return new Tensor(new Storage(backend, backend.upload(data, dtype), n, dtype), [...shape], dtype);
  }
  static full(backend: Backend, shape: Shape, value: number): Tensor {
    const t = Tensor.empty(backend, shape);
    backend.fill(t.store, t.size, value);
    return t;
  }
  static zeros(backend: Backend, shape: Shape): Tensor {
    return Tensor.full(backend, shape, 0);
  }

  /** a view with another shape over the same storage (no copy; its gradient flows back through reshape) */
  view(shape: Shape): Tensor {
    const s = this.live();
    const resolved = resolveShape(shape, this.size);
    s.refs++;
    return new Tensor(s, resolved, this.dtype);
  }

  /** same storage, cut off from the tape */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /** read the data back (the only readback path); throws at once if the tensor was disposed */
  toArray(): Promise<Float32Array | Float64Array | Int32Array> {
    const s = this.live();
    return s.backend.read(s.store, this.size, this.dtype);
  }
  /** overwrite this tensor's values in place (same storage: views and optimizer references stay valid) */
  assign(data: ArrayLike<number>): this {
    const s = this.live();
    if (data.length !== this.size)
      throw new Error(`assign: ${data.length} values for tensor [${this.shape.join(', ')}] of ${this.size}`);
    s.backend.write(s.store, data, this.dtype);
    return this;
  }

  /**
   * move the data into `store` (this tensor's size, e.g. an optimizer's arena slot; adopted: freed with the
   * tensor) and free the old storage. Views of this tensor move with it; it stays the same object.
   */
  relocate(store: Store): this {
    const s = this.live();
    s.backend.copyStrided(s.store, 0, [1], store, 0, [1], [s.n]);
    s.backend.free(s.store);
    s.store = store;
    return this;
  }

  /** read a one-element tensor */
  item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor has ${this.size} elements`);
    return this.toArray().then((a) => a[0]);
  }

  dispose(): void {
    if (!this.storage) return;
    this.storage.release();
    this.storage = null;
    this.node = null;
    for (const s of scopes) s.delete(this);
  }

  setRequiresGrad(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /**
   * Reverse-mode differentiation from this tensor. Without `grad` the tensor must hold one element (seed 1).
   * Gradients accumulate into `.grad` of every leaf that requires them; intermediate gradients are freed.
   */
  backward(grad?: Tensor): void {
    backwardAll([this], grad && [grad]);
  }

  /** whether this is the only handle on its storage (the backward pass may then add into it in place) */
  soleHandle(): boolean {
    return this.storage?.refs === 1;
  }
}

/**
 * Reverse-mode differentiation from several tensors at once, as if from their sum, which is never computed (one
 * add kernel fewer per extra root): root i is seeded with grads[i], or with 1 when it holds one element. PyTorch's
 * torch.autograd.backward(tensors). A tensor's backward() is backwardAll([it]).
 */
export function backwardAll(roots: readonly Tensor[], seeds?: readonly (Tensor | undefined)[]): void {
  if (!roots.length) throw new Error('backwardAll(): no roots');
  roots.forEach((root, i) => {
    const what = roots.length > 1 ? `backwardAll(): root ${i}` : 'backward()';
    if (!root.requiresGrad)
      throw new Error(
        `${what}: this tensor does not require grad (no input had requiresGrad, or it was made under noGrad)`,
      );
    if (roots.indexOf(root) !== i) throw new Error(`${what} is listed twice`);
    const grad = seeds?.[i];
    if (!grad && root.size !== 1)
      throw new Error(`${what}: tensor has ${root.size} elements; pass the output gradient`);
    if (grad && grad.size !== root.size)
      throw new Error(`${what}: grad [${grad.shape}] does not match [${root.shape}]`);
  });
  // the seeds: our own handles (every gradient in `grads` is ours to free); the kept 1 needs no fill per call, and
  // nothing writes into a gradient it is handed
  const grads = new Map<Tensor, Tensor>(
    roots.map((root, i) => [root, (seeds?.[i] ?? oneOf(root.backend)).view(root.shape)]),
  );
  const order = topoOrder(roots);
  // parameters with a gradient slot: how many gradients each is still to receive in this pass
  const pending = new Map<Tensor, number>();
  for (const t of order)
    if (t.node)
      for (const inp of t.node.inputs)
        if (inp.requiresGrad && !inp.node && inp.gradSlot) pending.set(inp, (pending.get(inp) ?? 0) + 1);
  // the slot view a leaf's complete gradient may be written into: none if .grad already holds an earlier pass's
  const slotFor = (inp: Tensor, shape: Shape): Tensor | null => {
    const slot = inp.gradSlot;
    return slot && !inp.node && !inp.grad && !slot.disposed && slot.size === sizeOf(shape) ? slot.view(shape) : null;
  };
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (t.node) {
        const inputs = t.node.inputs;
        const needs = inputs.map((x) => x.requiresGrad);
        // what `out` handed out to be added to: only these are sums already (two handles on one storage, e.g. g
        // passed through to both inputs of add(h, h), are two gradients to add)
        const inPlace = new Set<Tensor>();
        const out: GradOut = (k, shape) => {
          const inp = inputs[k];
          // the slot (not for an input named twice by this op): written by the first gradient, added to by later
          // ones; after a gradient that did not go there, a new tensor (the sum goes there below)
          const once = inputs.indexOf(inp) === inputs.lastIndexOf(inp);
          const slot = once ? slotFor(inp, shape) : null;
          const prev = grads.get(inp);
          if (slot && (!prev || prev.store === slot.store)) {
            if (prev) inPlace.add(slot);
            return { t: slot, add: !!prev };
          }
          slot?.dispose();
          // an intermediate's earlier gradient that nothing else holds (one handle on its storage): add to it in
          // place, as the tape would (prev + this one), without a separate add
          if (once && prev && inp.node && prev.soleHandle() && prev.size === sizeOf(shape)) {
            const v = prev.view(shape);
            inPlace.add(v);
            return { t: v, add: true };
          }
          return { t: Tensor.empty(inp.backend, shape), add: false };
        };
        const gs = t.node.backward(g, needs, out);
        const handed = new Set<Tensor>();
        inputs.forEach((inp, k) => {
          let gi = gs[k];
          const left = pending.get(inp);
          if (left !== undefined) pending.set(inp, left - 1);
          if (!gi || !needs[k]) return;
          // a closure may pass g (or one tensor) through to several inputs: give each holder its own handle
          if (gi === g || handed.has(gi)) gi = gi.view(gi.shape);
          handed.add(gi);
          const prev = grads.get(inp);
          if (prev && inPlace.has(gi))
            gi.dispose(); // added in place (GradOut's add)
          else if (prev) {
            // the last gradient of a parameter with a slot: the sum goes straight into the slot, unless one of the
            // two already lives there (WebGPU: no kernel reads a buffer it writes through another binding)
            const slot = inp.gradSlot;
            const free = slot && !slot.disposed && prev.store !== slot.store && gi.store !== slot.store;
            const into = left === 1 && free ? slotFor(inp, inp.shape) : null;
            grads.set(inp, accumulate(prev, gi, into));
            prev.dispose();
            gi.dispose();
          } else grads.set(inp, gi);
        });
        for (const x of gs) if (x && x !== g && !handed.has(x)) x.dispose();
        if (t.retainGrad) {
          t.grad?.dispose();
          t.grad = keep(g.view(t.shape)); // an intermediate's gradient, kept on request (for --trace)
        }
        g.dispose();
      } else {
        // a leaf: accumulate into .grad, which outlives every scope
        let r = g;
        if (g.shape.length !== t.shape.length || g.shape.some((d, k) => d !== t.shape[k])) {
          r = g.view(t.shape);
          g.dispose();
        }
        if (t.grad) {
          const sum = accumulate(t.grad, r);
          t.grad.dispose();
          r.dispose();
          t.grad = keep(sum);
        } else t.grad = keep(r);
      }
    }
  });
}

/** a kept scalar 1 per backend: the seed of backward() on a one-element tensor */
const ones = new WeakMap<Backend, Tensor>();
function oneOf(be: Backend): Tensor {
  let t = ones.get(be);
  if (!t || t.disposed) ones.set(be, (t = keep(Tensor.full(be, [1], 1))));
  return t;
}

/** gradient accumulation: a + b (same shape), into `out` when given (a tensor of that size other than a and b) */
type AccumulateFn = (a: Tensor, b: Tensor, out: Tensor | null) => Tensor;
let addImpl: AccumulateFn | null = null;
export function setAccumulate(fn: AccumulateFn): void {
  addImpl = fn;
}
function accumulate(a: Tensor, b: Tensor, out: Tensor | null = null): Tensor {
  return addImpl!(a, b, out);
}

/** every tensor the roots depend on through gradient-tracking ops, each after its inputs */
function topoOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = roots.map((r): [Tensor, boolean] => [r, false]).reverse();
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    if (t.node) for (const i of t.node.inputs) if (i.requiresGrad && !seen.has(i)) stack.push([i, false]);
  }
  return order;
}

/** attach a backward closure to `out` (only when gradients are on and some input needs one) */
export function record(
  out: Tensor,
  name: string,
  inputs: Tensor[],
  backward: (g: Tensor, needs: boolean[], out: GradOut) => (Tensor | null)[],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { name, inputs, backward };
  }
  return out;
}

export function resolveShape(shape: Shape, size: number): number[] {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = s.reduce((a, d, i) => (i === neg ? a : a * d), 1);
    s[neg] = rest === 0 ? 0 : size / rest;
  }
  if (sizeOf(s) !== size || !Number.isInteger(s[neg] ?? 0))
    throw new Error(`cannot view ${size} elements as [${shape.join(', ')}]`);
  return s;
}
