// gpu_cache.ts — the pipeline and bind-group caches of a Gpu: a kernel's pipeline is built once (per file, entry and
// override constants) and a bind group once per kernel binding list and buffers (LRU, bounded); binding 0 of every
// group is the shared parameter buffer (gpu_params.ts).
import type { GBuf } from './buffer_pool.js';
import { PARAM_BYTES } from './gpu_params.js';

export interface Kernel {
  /** shader file, e.g. 'wgsl/matmul.wgsl' (named in every error) */
  file: string;
  code: string;
  entry: string;
  /** access of bindings 1..n (binding 0 is the uniform parameter block) */
  bindings: readonly ('read' | 'rw')[];
  /** pipeline-overridable constants (part of the cache key) */
  constants?: Record<string, number>;
}

export class PipelineCache {
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelineLayouts = new Map<string, GPUPipelineLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  /** bind groups evicted from the cache, held until the work submitted with them has finished */
  private retired: GPUBindGroup[] = [];
  /** max bind groups kept (LRU); a steady training loop needs far fewer */
  bindGroupCacheSize = 8192;

  /** `onError` gets WGSL compilation errors (they arrive asynchronously) */
  constructor(
    private device: GPUDevice,
    private paramBuf: GPUBuffer,
    private onError: (message: string) => void,
  ) {}

  private layoutFor(bindings: readonly ('read' | 'rw')[]): GPUBindGroupLayout {
    const key = bindings.join(',');
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        {
          binding: 0,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_BYTES },
        },
      ];
      bindings.forEach((b, i) =>
        entries.push({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b === 'read' ? 'read-only-storage' : 'storage' },
        }),
      );
      l = this.device.createBindGroupLayout({ entries, label: `layout(${key})` });
      this.layouts.set(key, l);
      this.pipelineLayouts.set(key, this.device.createPipelineLayout({ bindGroupLayouts: [l] }));
    }
    return l;
  }

  /** pipelines by kernel object (kernels are cached by their modules, so this skips building the string key) */
  private pipelineOf = new WeakMap<Kernel, GPUComputePipeline>();

  pipeline(k: Kernel): GPUComputePipeline {
    const hit = this.pipelineOf.get(k);
    if (hit) return hit;
    const ck = k.constants
      ? Object.entries(k.constants)
          .map(([a, b]) => `${a}=${b}`)
          .join(',')
      : '';
    const key = `${k.file}:${k.entry}:${ck}`;
    let p = this.pipelines.get(key);
    if (!p) {
      this.layoutFor(k.bindings);
      const module = this.device.createShaderModule({ code: k.code, label: k.file });
      module.getCompilationInfo?.().then((info) => {
        for (const m of info.messages)
          if (m.type === 'error') this.onError(`WGSL error in ${k.file}:${m.lineNum}:${m.linePos}: ${m.message}`);
      });
      p = this.device.createComputePipeline({
        layout: this.pipelineLayouts.get(k.bindings.join(','))!,
        compute: { module, entryPoint: k.entry, constants: k.constants },
        label: `${k.file}:${k.entry}${ck ? `(${ck})` : ''}`,
      });
      this.pipelines.set(key, p);
    }
    this.pipelineOf.set(k, p);
    return p;
  }

  /** cache-key parts, made once per kernel (its binding list) and per buffer handle (its id and slot) */
  private keyPart = new WeakMap<object, string>();

  bindGroup(k: Kernel, bufs: readonly GBuf[]): GPUBindGroup {
    let key = this.keyPart.get(k);
    if (key === undefined) this.keyPart.set(k, (key = k.bindings.join(',')));
    for (const b of bufs) {
      let part = this.keyPart.get(b);
      if (part === undefined)
        this.keyPart.set(b, (part = ':' + b.id + (b.offset === undefined ? '' : `@${b.offset}+${b.size}`)));
      key += part;
    }
    let g = this.bindGroups.get(key);
    if (g) {
      this.bindGroups.delete(key); // LRU: move to the end
      this.bindGroups.set(key, g);
      return g;
    }
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.paramBuf, offset: 0, size: PARAM_BYTES } },
    ];
    bufs.forEach((b, i) =>
      entries.push({
        binding: i + 1,
        resource: b.offset === undefined ? { buffer: b.buffer } : { buffer: b.buffer, offset: b.offset, size: b.size },
      }),
    );
    g = this.device.createBindGroup({ layout: this.layoutFor(k.bindings), entries, label: k.file });
    this.bindGroups.set(key, g);
    if (this.bindGroups.size > this.bindGroupCacheSize) {
      // an evicted group may still be named by recorded or in-flight work: keep it referenced until that work is
      // done (dawn.node frees what the garbage collector finalises, in-flight or not)
      const oldest = this.bindGroups.keys().next().value!;
      this.retired.push(this.bindGroups.get(oldest)!);
      this.bindGroups.delete(oldest);
    }
    return g;
  }

  /** Forget cached bind groups that name a buffer (called when the pool destroys it). */
  forgetBuffer(b: GBuf): void {
    const id = String(b.id);
    for (const key of [...this.bindGroups.keys()])
      if (
        key
          .split(':')
          .slice(1)
          .some((k) => k.split('@')[0] === id)
      )
        this.bindGroups.delete(key);
  }

  /** after a submit: keep the groups evicted since the last one referenced until the submitted work is done */
  holdRetired(): void {
    if (this.retired.length) {
      const hold = this.retired;
      this.retired = [];
      this.device.queue.onSubmittedWorkDone().then(() => void hold.length);
    }
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }
  get bindGroupCount(): number {
    return this.bindGroups.size;
  }
}
