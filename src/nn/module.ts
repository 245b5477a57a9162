// module.ts — Module: a named tree of parameters (tensors that learn), buffers (tensors that are state but not
// learned, e.g. batchnorm running statistics) and child modules, with train/eval mode. Names are dotted paths
// ("features.conv1.weight") and are what checkpoints store. Parameters live outside every tidy scope.
import { type Tensor, keep } from '../autograd/tensor.js';

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  protected param(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    t.name = name;
    this._params.set(name, keep(t));
    return t;
  }
  protected buffer(name: string, t: Tensor): Tensor {
    t.name = name;
    this._buffers.set(name, keep(t));
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this._params].map(([n, t]) => [prefix + n, t]);
    for (const [n, m] of this._children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this._buffers].map(([n, t]) => [prefix + n, t]);
    for (const [n, m] of this._children) out.push(...m.namedBuffers(`${prefix}${n}.`));
    return out;
  }
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [n, m] of this._children) out.push([prefix + n, m], ...m.namedModules(`${prefix}${n}.`));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  /** every tensor a checkpoint must hold: parameters and buffers by dotted name */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }
  parameterCount(): number {
    return this.parameters().reduce((a, t) => a + t.size, 0);
  }
  /** set training mode (dropout on, batchnorm uses batch statistics) for this module and its children */
  train(on = true): this {
    this.training = on;
    for (const m of this._children.values()) m.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
  dispose(): void {
    this.zeroGrad();
    for (const t of [...this._params.values(), ...this._buffers.values()]) t.dispose();
    for (const m of this._children.values()) m.dispose();
  }
  /** a one-line-per-layer summary with parameter counts */
  summary(indent = ''): string {
    const own = [...this._params.values()].reduce((a, t) => a + t.size, 0);
    const lines = [`${indent}${this.describe()}${own ? `  (${own} params)` : ''}`];
    for (const [n, m] of this._children) lines.push(m.summary(`${indent}  ${n}: `.replace(/^(\s*)(\S+: )$/, '$1$2')));
    return lines.join('\n');
  }
  describe(): string {
    return this.constructor.name;
  }
}

/** a module that maps one tensor to one tensor (what Sequential chains) */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(layers: Layer[] | Record<string, Layer>) {
    super();
    const entries = Array.isArray(layers) ? layers.map((l, i) => [String(i), l] as const) : Object.entries(layers);
    this.layers = entries.map(([n, l]) => this.child(n, l));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
}
