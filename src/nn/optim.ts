// optim.ts — Adam and AdamW. By default (multiTensor) the optimizer keeps its parameters, their gradients and the
// moments m and v in four arenas (one storage block each, every tensor in a 256-byte-aligned slot, the same layout
// in all four): the parameters move into theirs at construction (same Tensor objects), the backward pass writes
// each parameter's gradient straight into its slot where it can (Tensor.gradSlot), and step() updates every
// parameter with one kernel (adamMulti). `multiTensor: false` keeps each tensor in storage of its own and records
// one fused kernel per parameter. Either way no readback; state (step count, m, v) is what checkpoints save, under
// the same names and shapes.
import { Tensor, keep } from '../autograd/tensor.js';
import { isStoredTransposed, storeTransposed } from './torch_layout.js';
import {
  arenaLayout,
  type AdamHyper,
  type ArenaLayout,
  type ArenaSlot,
  type Backend,
  type Store,
} from '../autograd/backend.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** one kernel for all parameters, over arenas (default true); false: one kernel per parameter */
  multiTensor?: boolean;
}

export interface AdamState {
  step: number;
  lr: number;
  m: Tensor[];
  v: Tensor[];
}

/** the four arenas of a multi-tensor optimizer (whole-block stores) and where each parameter sits in them */
interface Arenas {
  be: Backend;
  param: Store;
  grad: Store;
  m: Store;
  v: Store;
  slots: readonly ArenaSlot[];
  layout: ArenaLayout;
  /** each parameter's store when it moved in (a parameter moved since by someone else is refused at step) */
  paramStores: Store[];
  /** each parameter's gradient slot (Tensor.gradSlot) */
  gradSlots: Tensor[];
}

export class Adam {
  /** read at every step: may change between steps (the playground's live controls) */
  lr: number;
  beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly multiTensor: boolean;
  protected decoupled = false;
  stepCount = 0;
  readonly m: Tensor[];
  readonly v: Tensor[];
  private arenas: Arenas | null = null;

  constructor(
    readonly params: Tensor[],
    opts: AdamOptions = {},
  ) {
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.multiTensor = (opts.multiTensor ?? true) && params.length > 0;
    if (!this.multiTensor) {
      this.m = params.map((p) => keep(Tensor.zeros(p.backend, p.shape)));
      this.v = params.map((p) => keep(Tensor.zeros(p.backend, p.shape)));
      return;
    }
    const be = params[0].backend;
    params.forEach((p, i) => {
      if (p.backend !== be) throw new Error(`Adam: parameters on two backends (${be.name} and ${p.backend.name})`);
      if (p.dtype !== 'f32') throw new Error(`Adam: parameter ${p.name || i} is ${p.dtype}; only f32 parameters learn`);
      if (params.indexOf(p) !== i) throw new Error(`Adam: parameter ${p.name || i} is listed twice`);
    });
    const layout = arenaLayout(params.map((p) => p.size));
    const { slots, total } = layout;
    const arena = () => be.arena(layout);
    const pa = arena(),
      ga = arena(),
      ma = arena(),
      va = arena();
    for (const whole of [ma.whole, va.whole]) be.fill(whole, total, 0);
    params.forEach((p, i) => p.relocate(pa.slots[i]));
    const adopt = (s: Store[]) => params.map((p, i) => keep(Tensor.adopt(be, s[i], p.shape)));
    this.m = adopt(ma.slots);
    this.v = adopt(va.slots);
    const gradSlots = adopt(ga.slots);
    params.forEach((p, i) => (p.gradSlot = gradSlots[i]));
    this.arenas = {
      be,
      param: pa.whole,
      grad: ga.whole,
      m: ma.whole,
      v: va.whole,
      slots,
      layout,
      paramStores: params.map((p) => p.store),
      gradSlots,
    };
  }

  /** the parameters' arena (the whole block and its layout), or null without one (multiTensor off) */
  paramArena(): { whole: Store; layout: ArenaLayout } | null {
    return this.arenas ? { whole: this.arenas.param, layout: this.arenas.layout } : null;
  }

  private hyper(): AdamHyper {
    return {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
      step: this.stepCount,
    };
  }

  private checkGrad(p: Tensor, i: number): void {
    if (p.grad!.size !== p.size)
      throw new Error(
        `Adam: gradient of ${p.name || `parameter ${i}`} has ${p.grad!.size} values, parameter ${p.size}`,
      );
  }

  /** one update of every parameter that has a gradient */
  step(): void {
    this.stepCount++;
    const h = this.hyper();
    const a = this.arenas;
    if (!a) {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        this.checkGrad(p, i);
        p.backend.adam(p.store, p.grad.store, this.m[i].store, this.v[i].store, p.size, h);
      });
      return;
    }
    const active: ArenaSlot[] = [];
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      this.checkGrad(p, i);
      if (p.store !== a.paramStores[i])
        throw new Error(
          `Adam: parameter ${p.name || i} was moved out of this optimizer's arena (by another optimizer?)`,
        );
      // a gradient the backward pass could not write in place (or one set by hand): copy it into its slot
      const slot = a.gradSlots[i];
      if (p.grad.store !== slot.store) a.be.copyStrided(p.grad.store, 0, [1], slot.store, 0, [1], [p.size]);
      active.push(a.slots[i]);
    });
    if (active.length) a.be.adamMulti(a.param, a.grad, a.m, a.v, active, h);
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** the moment tensors by name (for checkpoints: `optim.m.<name>`, `optim.v.<name>`), given the parameters' names;
   *  each in its parameter's checkpoint layout (storeTransposed) */
  stateTensors(names: string[]): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    names.forEach((n, i) => {
      if (isStoredTransposed(this.params[i])) [this.m[i], this.v[i]].forEach(storeTransposed);
      out[`optim.m.${n}`] = this.m[i];
      out[`optim.v.${n}`] = this.v[i];
    });
    return out;
  }

  /** frees the moments (and the gradient slots; the parameters keep their storage, so the model lives on) */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
    const a = this.arenas;
    if (!a) return;
    this.params.forEach((p, i) => {
      if (p.gradSlot === a.gradSlots[i]) p.gradSlot = null;
    });
    for (const t of a.gradSlots) t.dispose();
    for (const s of [a.param, a.grad, a.m, a.v]) a.be.free(s);
    this.arenas = null;
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), default decay 0.01 as PyTorch */
export class AdamW extends Adam {
  constructor(params: Tensor[], opts: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...opts });
    this.decoupled = true;
  }
}
