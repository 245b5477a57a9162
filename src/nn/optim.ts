// optim.ts — Adam and AdamW. step() records one fused in-place kernel per parameter (param, m and v updated
// together); no readback. State (step count, m, v) is what checkpoints save.
import { Tensor, keep } from '../autograd/tensor.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface AdamState {
  step: number;
  lr: number;
  m: Tensor[];
  v: Tensor[];
}

export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected decoupled = false;
  stepCount = 0;
  readonly m: Tensor[];
  readonly v: Tensor[];

  constructor(readonly params: Tensor[], opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.m = params.map((p) => keep(Tensor.zeros(p.backend, p.shape)));
    this.v = params.map((p) => keep(Tensor.zeros(p.backend, p.shape)));
  }

  /** one update of every parameter that has a gradient */
  step(): void {
    this.stepCount++;
    const h = { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled, step: this.stepCount };
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      if (p.grad.size !== p.size) throw new Error(`Adam: gradient of ${p.name || `parameter ${i}`} has ${p.grad.size} values, parameter ${p.size}`);
      p.backend.adam(p.store, p.grad.store, this.m[i].store, this.v[i].store, p.size, h);
    });
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** the moment tensors by name (for checkpoints), given the parameters' names */
  stateTensors(names: string[]): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    names.forEach((n, i) => {
      out[`optim.m.${n}`] = this.m[i];
      out[`optim.v.${n}`] = this.v[i];
    });
    return out;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), default decay 0.01 as PyTorch */
export class AdamW extends Adam {
  constructor(params: Tensor[], opts: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...opts });
    this.decoupled = true;
  }
}
