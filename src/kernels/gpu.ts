// gpu.ts — the GPU context every kernel records into. It owns the device, the buffer pool, the pipeline and
// bind-group caches, and one shared command encoder with one open compute pass. Kernels call `dispatch`; nothing
// is submitted until a sync point (`read`, `flush`, `sync`) or until `autoFlushEvery` dispatches have piled up.
// Per-dispatch parameters go into one uniform buffer through dynamic offsets (256 bytes a dispatch); the whole
// batch of parameters is written with one queue.writeBuffer right before its submit, which the queue orders after
// every earlier submit, so one uniform buffer serves every batch.
// No Node.js imports here: the engine core runs unchanged on a browser's WebGPU.
// Callers must wait for the GPU now and then (any readback does): recording runs ahead of the device without
// bound, and a loop that records hundreds of steps ahead of a slow adapter piles up in-flight work until Dawn
// runs out of memory (seen on lavapipe: a crash after ~450 un-awaited GAN steps). The training loops read their
// losses back every few steps, which keeps the queue short.
import { BufferPool, type GBuf, type PoolStats } from './buffer_pool.js';
export type { GBuf } from './buffer_pool.js';
import FILL_WGSL from '../../wgsl/fill.wgsl';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
}

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

/** what one dispatch computes, for profiles (benchmarks): the problem in words and its useful floating-point
 * operations (a multiply-add counts 2; zeros a kernel multiplies for its own convenience do not count) */
export interface Work {
  what: string;
  flops: number;
}
/** a profiled dispatch: its pipeline's label (file:entry(constants)) and, where the wrapper said, its Work */
export type Profiled = { label: string } & Partial<Work>;

export interface GpuStats {
  dispatches: number;
  submits: number;
  readbacks: number;
  uploads: number;
  pipelines: number;
  bindGroups: number;
  pool: PoolStats;
}

const PARAM_BYTES = 256; // one dispatch's parameter slot (minUniformBufferOffsetAlignment)
const PARAM_WORDS = PARAM_BYTES / 4;

/** Parameter block writer: fields in the order the WGSL struct declares them (vec4 fields take 4 words). */
export class Params {
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  /** the next word written (absolute in the host copy of the parameter buffer) */
  n = 0;
  /** views over the whole host copy; `at` points them at one dispatch's slot (one object serves every dispatch) */
  constructor(buf: ArrayBuffer) {
    this.u32 = new Uint32Array(buf);
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
  }
  /** start writing the slot at byte `offset`, zeroed */
  at(offset: number): this {
    this.n = offset / 4;
    this.u32.fill(0, this.n, this.n + PARAM_WORDS);
    return this;
  }
  u(...v: number[]): this {
    for (const x of v) this.u32[this.n++] = x >>> 0;
    return this;
  }
  i(...v: number[]): this {
    for (const x of v) this.i32[this.n++] = x | 0;
    return this;
  }
  f(...v: number[]): this {
    for (const x of v) this.f32[this.n++] = x;
    return this;
  }
  /** pad to the next 16-byte boundary (before a vec4 field) */
  align4(): this {
    while (this.n % 4) this.u32[this.n++] = 0;
    return this;
  }
  /** a vec4<u32> field (up to 4 values, rest 0) */
  vec4u(v: readonly number[]): this {
    this.align4();
    for (let k = 0; k < 4; k++) this.u32[this.n++] = (v[k] ?? 0) >>> 0;
    return this;
  }
}

/** what went wrong on the device: a shader or validation error, running out of memory, or losing the device */
export type GpuFault = 'error' | 'oom' | 'lost';
export class GpuError extends Error {
  constructor(
    message: string,
    readonly kind: GpuFault = 'error',
  ) {
    super(message);
  }
}

export class Gpu {
  readonly pool: BufferPool;
  private staging: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0; // dispatches + copies in the open encoder
  private paramCapacity: number;
  private paramHost: ArrayBuffer;
  private paramBuf: GPUBuffer;
  private params: Params;
  private slot = 0;
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelineLayouts = new Map<string, GPUPipelineLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  /** bind groups evicted from the cache, held until the work submitted with them has finished */
  private retired: GPUBindGroup[] = [];
  private errors: string[] = [];
  private oom = false;
  private lostReason: string | null = null;
  readonly counters = { dispatches: 0, submits: 0, readbacks: 0, uploads: 0 };
  /** submit automatically after this many dispatches (keeps the GPU busy during long recordings) */
  autoFlushEvery = 2048;
  /** max bind groups kept (LRU); a steady training loop needs far fewer */
  bindGroupCacheSize = 8192;
  /** conv2d's split-K of the forward and unphased input gradient where output tiles are few (gemmSplits); false:
   * never (`bench/train-step.js --split-k off`, to time what it buys on a GPU). The weight gradient's is not affected
   * */
  splitK = true;
  /** tests: fill every newly acquired buffer with NaN so that an element a kernel fails to write shows up */
  poison = false;
  private poisonKernel: Kernel | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    readonly features: ReadonlySet<string>,
  ) {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool(device, usage, 'tensor');
    this.staging = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    this.paramCapacity = this.autoFlushEvery;
    this.paramHost = new ArrayBuffer(this.paramCapacity * PARAM_BYTES);
    this.params = new Params(this.paramHost);
    this.paramBuf = device.createBuffer({
      size: this.paramCapacity * PARAM_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'params',
    });
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      if (e?.constructor?.name?.includes('OutOfMemory') || /out of memory/i.test(e?.message ?? '')) this.oom = true;
      this.errors.push(e?.message ?? String(e));
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = `GPU device lost (${info.reason}): ${info.message}`;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  // ---------------------------------------------------------------- pipelines and bind groups (cached)
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
          if (m.type === 'error') this.errors.push(`WGSL error in ${k.file}:${m.lineNum}:${m.linePos}: ${m.message}`);
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

  private bindGroup(k: Kernel, bufs: readonly GBuf[]): GPUBindGroup {
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
  private forgetBuffer(b: GBuf): void {
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

  // ---------------------------------------------------------------- recording
  private pass_(): GPUComputePassEncoder {
    this.checkLost();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) {
      this.pass = this.encoder.beginComputePass(
        this.timestampWrites ? { timestampWrites: this.timestampWrites } : undefined,
      );
      this.timestampWrites = null;
    }
    return this.pass;
  }

  private timestampWrites: GPUComputePassTimestampWrites | null = null;
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GBuf | null = null;

  /** whether GPU-side timing (timestamp queries) is available */
  get canTime(): boolean {
    return this.features.has('timestamp-query');
  }

  /**
   * Run `record` (which records dispatches, no copies) in a compute pass of its own and return the GPU time of that
   * pass in milliseconds from timestamp queries, or null where the adapter has none.
   */
  async timeGpu(record: () => void): Promise<number | null> {
    if (!this.canTime) {
      record();
      return null;
    }
    this.flush();
    if (!this.querySet) this.querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 });
    this.timestampWrites = { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    record();
    const enc = this.endPass();
    if (!this.resolveBuf)
      this.resolveBuf = {
        buffer: this.device.createBuffer({
          size: 256,
          usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
          label: 'timestamps',
        }),
        size: 256,
        id: -1,
      };
    enc.resolveQuerySet(this.querySet, 0, 2, this.resolveBuf.buffer, 0);
    this.timestampWrites = null;
    const ticks = new BigUint64Array(await this.read(this.resolveBuf, 16));
    return Number(ticks[1] - ticks[0]) / 1e6;
  }

  private endPass(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  /**
   * Record one dispatch. `setParams` writes the kernel's uniform struct; `bufs` are bindings 1..n in order.
   * `groups` is the workgroup count [x, y, z]. `work` describes the problem for profiles (called only when
   * profiling, so that a training step builds no strings).
   */
  dispatch(
    k: Kernel,
    bufs: readonly GBuf[],
    setParams: (p: Params) => void,
    groups: readonly [number, number?, number?],
    work?: () => Work,
  ): void {
    if (bufs.length !== k.bindings.length)
      throw new GpuError(`${k.file}:${k.entry}: ${bufs.length} buffers bound, ${k.bindings.length} declared`);
    const [x, y = 1, z = 1] = groups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max)
      throw new GpuError(`${k.file}:${k.entry}: dispatch ${x}×${y}×${z} exceeds ${max} workgroups per dimension`);
    if (this.slot >= this.paramCapacity) this.flush();
    const p = this.params.at(this.slot * PARAM_BYTES);
    setParams(p);
    if (p.n > (this.slot + 1) * PARAM_WORDS)
      throw new GpuError(`${k.file}:${k.entry}: parameters overflow their ${PARAM_BYTES}-byte slot`);
    const pipeline = this.pipeline(k);
    const group = this.bindGroup(k, bufs);
    if (this.prof) this.profileNext(k, work);
    const pass = this.pass_();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [this.slot * PARAM_BYTES]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.prof) this.endPass();
    this.slot++;
    this.pending++;
    this.counters.dispatches++;
    if (this.pending >= this.autoFlushEvery) this.flush();
  }

  // ---------------------------------------------------------------- per-kernel profiling
  private prof: { set: GPUQuerySet; labels: Profiled[]; resolve: GPUBuffer; capacity: number } | null = null;

  /**
   * Profile mode (benchmarks only; needs timestamp-query): every dispatch gets a compute pass of its own with
   * timestamps at its start and end. Passes cost more than dispatches in a shared pass, so profiled totals
   * overstate a real run; the breakdown shows where time goes.
   */
  startProfile(capacity = 2048): void {
    capacity = Math.min(capacity, 2048); // WebGPU allows at most 4096 queries in a set
    if (!this.canTime) throw new GpuError('profiling needs the timestamp-query feature, which this adapter lacks');
    this.flush();
    const set = this.device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    const resolve = this.device.createBuffer({
      size: 16 * capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.prof = { set, labels: [], resolve, capacity };
  }
  private profileNext(k: Kernel, work?: () => Work): void {
    const p = this.prof!;
    if (p.labels.length >= p.capacity) this.flushProfile();
    const i = p.labels.length;
    p.labels.push({
      label: `${k.file.replace(/^wgsl\//, '')}:${k.entry}${
        k.constants
          ? `(${Object.entries(k.constants)
              .map(([a, b]) => `${a}=${b}`)
              .join(',')})`
          : ''
      }`,
      ...work?.(),
    });
    this.endPass();
    this.timestampWrites = { querySet: p.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }
  /** resolve the recorded timestamps into results (async part is in stopProfile) */
  private pendingResolves: { buf: GBuf; labels: Profiled[] }[] = [];
  private flushProfile(): void {
    const p = this.prof!;
    const n = p.labels.length;
    if (!n) return;
    const enc = this.endPass();
    const buf = this.pool.acquire(16 * n);
    enc.resolveQuerySet(p.set, 0, 2 * n, p.resolve, 0);
    enc.copyBufferToBuffer(p.resolve, 0, buf.buffer, 0, 16 * n);
    this.pendingResolves.push({ buf, labels: p.labels });
    p.labels = [];
    this.flush();
  }
  /** leave profile mode; returns every profiled dispatch with its GPU time in ms (and its Work where the kernel's
   * wrapper gave one), in order */
  async stopProfile(): Promise<(Profiled & { ms: number })[]> {
    if (!this.prof) return [];
    this.flushProfile();
    const out: (Profiled & { ms: number })[] = [];
    for (const { buf, labels } of this.pendingResolves) {
      const t = new BigUint64Array(await this.read(buf, 16 * labels.length));
      labels.forEach((l, i) => out.push({ ...l, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
      this.pool.release(buf);
    }
    this.pendingResolves = [];
    this.prof.set.destroy();
    this.prof.resolve.destroy();
    this.prof = null;
    return out;
  }

  /** Record a buffer-to-buffer copy into the shared encoder. */
  copy(src: GBuf, srcOffset: number, dst: GBuf, dstOffset: number, bytes: number): void {
    this.checkLost();
    this.endPass().copyBufferToBuffer(
      src.buffer,
      (src.offset ?? 0) + srcOffset,
      dst.buffer,
      (dst.offset ?? 0) + dstOffset,
      bytes,
    );
    this.pending++;
  }

  /** Submit what has been recorded (no wait). */
  flush(): void {
    if (!this.encoder) return;
    const enc = this.endPass();
    if (this.slot > 0) this.device.queue.writeBuffer(this.paramBuf, 0, this.paramHost, 0, this.slot * PARAM_BYTES);
    this.device.queue.submit([enc.finish()]);
    if (this.retired.length) {
      const hold = this.retired;
      this.retired = [];
      this.device.queue.onSubmittedWorkDone().then(() => void hold.length);
    }
    this.encoder = null;
    this.pending = 0;
    this.slot = 0;
    this.counters.submits++;
  }

  /**
   * Drop what is recorded without submitting it (benchmarks only: the host's cost of recording a step, with the
   * GPU idle). Whatever the dropped work would have written keeps its old contents.
   */
  discardRecorded(): void {
    if (this.pass) this.pass.end();
    this.pass = null;
    this.encoder = null;
    this.pending = 0;
    this.slot = 0;
  }

  private inFlight: Promise<unknown>[] = [];
  /**
   * Submit what is recorded and wait until at most `max` earlier throttle points are still executing on the GPU.
   * Training loops call it once per step: the host stays at most `max` steps ahead of the device, so queued work
   * (and memory) stays bounded and a stop request is served within a step or two, while the GPU never idles
   * waiting for the host.
   */
  async throttle(max = 2): Promise<void> {
    this.flush();
    this.inFlight.push(this.device.queue.onSubmittedWorkDone());
    while (this.inFlight.length > max) await this.inFlight.shift();
    this.throwErrors();
  }

  /** Submit and wait for the GPU to finish; throws any WGSL/validation error seen so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
  }

  // ---------------------------------------------------------------- memory
  acquire(bytes: number): GBuf {
    const b = this.pool.acquire(bytes);
    if (this.poison) this.fillWords(b, 0x7fc00000, b.size / 4);
    return b;
  }

  release(b: GBuf): void {
    if (!b.arena) this.pool.release(b);
    else if (--b.arena.refs === 0) this.pool.release(b.arena.buf);
  }

  private spares: GBuf[] = [];
  /**
   * The k-th spare of this context: a zeroed 4-byte buffer, kept for the context's life, bound where a kernel's
   * optional binding is switched off (no bias, no bias gradient, an unused part); the kernel neither reads nor writes
   * it there. Distinct k for distinct bindings of one dispatch (writable bindings must not alias).
   */
  spare(k = 0): GBuf {
    while (this.spares.length <= k) {
      const b = this.pool.acquire(4);
      this.upload(b, new Uint32Array(1));
      this.spares.push(b);
    }
    return this.spares[k];
  }

  /**
   * An arena: one pooled buffer holding slots of the given byte sizes at the given byte offsets (each a multiple
   * of 256, minStorageBufferOffsetAlignment), for kernels that update many tensors in one dispatch. Returns the
   * whole buffer's handle and one handle per slot; a kernel binding a slot sees just that slot, from index 0.
   * Each handle is released on its own (release); the buffer returns to the pool with the last one.
   */
  arena(bytes: number, offsets: readonly number[], sizes: readonly number[]): { whole: GBuf; slots: GBuf[] } {
    const buf = this.acquire(Math.max(4, bytes));
    const ref = { refs: offsets.length + 1, buf };
    const whole: GBuf = { buffer: buf.buffer, size: buf.size, id: buf.id, arena: ref };
    const slots = offsets.map((offset, i): GBuf => {
      if (offset % 256 || offset + sizes[i] > bytes)
        throw new GpuError(
          `arena slot ${i} at byte ${offset} (${sizes[i]} bytes) is unaligned or outside ${bytes} bytes`,
        );
      return { buffer: buf.buffer, size: Math.max(4, sizes[i]), id: buf.id, offset, arena: ref };
    });
    return { whole, slots };
  }

  /** Write host data into a buffer. Pending work is submitted first so the write lands after it in queue order. */
  upload(dst: GBuf, data: ArrayBufferView, dstOffset = 0): void {
    this.checkLost();
    if (this.encoder) this.flush();
    this.device.queue.writeBuffer(
      dst.buffer,
      (dst.offset ?? 0) + dstOffset,
      data.buffer,
      data.byteOffset,
      data.byteLength,
    );
    this.counters.uploads++;
  }

  /** Read `bytes` from a buffer: the only way data comes back to the host. */
  async read(src: GBuf, bytes: number, srcOffset = 0): Promise<ArrayBuffer> {
    const nbytes = Math.ceil(bytes / 4) * 4;
    const st = this.staging.acquire(nbytes);
    this.copy(src, srcOffset, st, 0, nbytes);
    this.flush();
    this.counters.readbacks++;
    try {
      await st.buffer.mapAsync(GPUMapMode.READ, 0, nbytes);
    } catch (e) {
      this.checkLost();
      this.throwErrors();
      throw e;
    }
    const out = st.buffer.getMappedRange(0, nbytes).slice(0, bytes);
    st.buffer.unmap();
    this.staging.release(st);
    this.throwErrors();
    return out;
  }

  /** Fill `words` u32 words of a buffer with a bit pattern (used for poisoning and zeroing). */
  fillWords(b: GBuf, bits: number, words: number): void {
    if (!this.poisonKernel)
      this.poisonKernel = { file: 'wgsl/fill.wgsl', code: FILL_WGSL, entry: 'fill_words', bindings: ['rw'] };
    const wg = Math.ceil(words / 256);
    const gx = Math.min(wg, 65535);
    this.dispatch(this.poisonKernel, [b], (p) => p.u(words, bits, gx), [gx, Math.ceil(wg / gx)]);
  }

  // ---------------------------------------------------------------- errors and stats
  private checkLost(): void {
    if (this.lostReason) throw new GpuError(this.lostReason, 'lost');
  }

  throwErrors(): void {
    this.checkLost();
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      if (this.oom) {
        this.oom = false;
        throw new GpuError(`GPU out of memory: ${msg}`, 'oom');
      }
      throw new GpuError(msg);
    }
  }

  /** test hook: make the device look out of memory (reported at the next sync) or lost (from now on) */
  injectFault(kind: 'oom' | 'lost'): void {
    if (kind === 'oom') {
      this.oom = true;
      this.errors.push('out of memory (injected by a test hook)');
    } else this.lostReason = 'GPU device lost (injected by a test hook)';
  }

  /** Free pooled buffers that nothing holds (and the bind groups naming them). */
  trim(): number {
    this.flush();
    return this.pool.trim((b) => this.forgetBuffer(b)) + this.staging.trim();
  }

  stats(): GpuStats {
    return {
      ...this.counters,
      pipelines: this.pipelines.size,
      bindGroups: this.bindGroups.size,
      pool: this.pool.stats(),
    };
  }

  destroy(): void {
    this.flush();
    this.device.destroy();
  }
}

/** 1-D workgroup count split over x and y (x ≤ 65535); kernels rebuild the linear id as x + y·nx. */
export function grid(workgroups: number): [number, number] {
  const gx = Math.min(Math.max(workgroups, 1), 65535);
  return [gx, Math.ceil(workgroups / gx)];
}
