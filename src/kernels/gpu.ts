// gpu.ts — the GPU context every kernel records into. It owns the device, the buffer pool (buffer_pool.ts), the
// pipeline and bind-group caches (gpu_cache.ts), and one shared command encoder with one open compute pass; timing
// (gpu_timing.ts), per-dispatch profiling (gpu_profile.ts) and the device's faults (gpu_faults.ts) sit beside it.
// Kernels call `dispatch`; nothing is submitted until a sync point (`read`, `flush`, `sync`) or until
// `autoFlushEvery` dispatches have piled up.
// Per-dispatch parameters go into one uniform buffer through dynamic offsets (256 bytes a dispatch); the whole
// batch of parameters is written with one queue.writeBuffer right before its submit, which the queue orders after
// every earlier submit, so one uniform buffer serves every batch.
// No Node.js imports here: the engine core runs unchanged on a browser's WebGPU.
// Callers must wait for the GPU now and then (any readback does): recording runs ahead of the device without
// bound, and a loop that records hundreds of steps ahead of a slow adapter piles up in-flight work until Dawn
// runs out of memory (seen on lavapipe: a crash after ~450 un-awaited GAN steps). The training loops read their
// losses back every few steps, which keeps the queue short.
import { arenaHandles, BufferPool, type GBuf, type PoolStats } from './buffer_pool.js';
import { type Kernel, PipelineCache } from './gpu_cache.js';
import { GpuError, GpuFaults } from './gpu_faults.js';
import { PARAM_BYTES, PARAM_WORDS, Params } from './gpu_params.js';
import { GpuProfiler, type Profiled, type Work } from './gpu_profile.js';
import { GpuTimer, type PassHost } from './gpu_timing.js';
import FILL_WGSL from '../../wgsl/fill.wgsl';
export type { GBuf } from './buffer_pool.js';
export type { Kernel } from './gpu_cache.js';
export { GpuError, type GpuFault } from './gpu_faults.js';
export { Params } from './gpu_params.js';
export type { Profiled, Work } from './gpu_profile.js';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
}

export interface GpuStats {
  dispatches: number;
  submits: number;
  readbacks: number;
  uploads: number;
  pipelines: number;
  bindGroups: number;
  pool: PoolStats;
}

export class Gpu {
  readonly pool: BufferPool;
  private staging: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** timestamp writes for the next compute pass begun (timing and profiling set them) */
  private timestampWrites: GPUComputePassTimestampWrites | null = null;
  private pending = 0; // dispatches + copies in the open encoder
  private paramCapacity: number;
  private paramHost: ArrayBuffer;
  private paramBuf: GPUBuffer;
  private params: Params;
  private slot = 0;
  private cache: PipelineCache;
  private faults: GpuFaults;
  private timer: GpuTimer;
  private profiler: GpuProfiler;
  readonly counters = { dispatches: 0, submits: 0, readbacks: 0, uploads: 0 };
  /** submit automatically after this many dispatches (keeps the GPU busy during long recordings) */
  autoFlushEvery = 2048;
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
    const faults = new GpuFaults(device);
    this.faults = faults;
    this.cache = new PipelineCache(device, this.paramBuf, (m) => faults.report(m));
    // what timing and profiling may do to the recording: end the open pass, stamp the next, submit, read back
    const host: PassHost = {
      device,
      get canTime() {
        return features.has('timestamp-query');
      },
      endPass: () => this.endPass(),
      stampNextPass: (w) => {
        this.timestampWrites = w;
      },
      flush: () => this.flush(),
      read: (src, bytes) => this.read(src, bytes),
    };
    this.timer = new GpuTimer(host);
    this.profiler = new GpuProfiler(host, this.pool);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** max bind groups kept (LRU); a steady training loop needs far fewer */
  get bindGroupCacheSize(): number {
    return this.cache.bindGroupCacheSize;
  }
  set bindGroupCacheSize(n: number) {
    this.cache.bindGroupCacheSize = n;
  }

  /** the kernel's pipeline (built once, cached) */
  pipeline(k: Kernel): GPUComputePipeline {
    return this.cache.pipeline(k);
  }

  // ---------------------------------------------------------------- recording
  private pass_(): GPUComputePassEncoder {
    this.faults.checkLost();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) {
      this.pass = this.encoder.beginComputePass(
        this.timestampWrites ? { timestampWrites: this.timestampWrites } : undefined,
      );
      this.timestampWrites = null;
    }
    return this.pass;
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
    const pipeline = this.cache.pipeline(k);
    const group = this.cache.bindGroup(k, bufs);
    if (this.profiler.on) this.profiler.next(k, work);
    const pass = this.pass_();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [this.slot * PARAM_BYTES]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler.on) this.endPass();
    this.slot++;
    this.pending++;
    this.counters.dispatches++;
    if (this.pending >= this.autoFlushEvery) this.flush();
  }

  // ---------------------------------------------------------------- timing, profiling (gpu_timing/profile.ts)
  /** whether GPU-side timing (timestamp queries) is available */
  get canTime(): boolean {
    return this.features.has('timestamp-query');
  }

  /**
   * Run `record` (which records dispatches, no copies) in a compute pass of its own and return the GPU time of that
   * pass in milliseconds from timestamp queries, or null where the adapter has none.
   */
  timeGpu(record: () => void): Promise<number | null> {
    return this.timer.time(record);
  }

  /** profile mode (benchmarks only; needs timestamp-query): every dispatch in a timestamped pass of its own */
  startProfile(capacity = 2048): void {
    this.profiler.start(capacity);
  }
  /** leave profile mode; returns every profiled dispatch with its GPU time in ms (and its Work where the kernel's
   * wrapper gave one), in order */
  stopProfile(): Promise<(Profiled & { ms: number })[]> {
    return this.profiler.stop();
  }

  /** Record a buffer-to-buffer copy into the shared encoder. */
  copy(src: GBuf, srcOffset: number, dst: GBuf, dstOffset: number, bytes: number): void {
    this.faults.checkLost();
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
    this.cache.holdRetired();
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
    return arenaHandles(this.acquire(Math.max(4, bytes)), bytes, offsets, sizes);
  }

  /** Write host data into a buffer. Pending work is submitted first so the write lands after it in queue order. */
  upload(dst: GBuf, data: ArrayBufferView, dstOffset = 0): void {
    this.faults.checkLost();
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
      this.faults.checkLost();
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

  // ---------------------------------------------------------------- errors and stats (gpu_faults.ts)
  /** throws (as a GpuError) any WGSL/validation error, out-of-memory or device loss seen so far */
  throwErrors(): void {
    this.faults.throwErrors();
  }

  /** test hook: make the device look out of memory (reported at the next sync) or lost (from now on) */
  injectFault(kind: 'oom' | 'lost'): void {
    this.faults.inject(kind);
  }

  /** Free pooled buffers that nothing holds (and the bind groups naming them). */
  trim(): number {
    this.flush();
    return this.pool.trim((b) => this.cache.forgetBuffer(b)) + this.staging.trim();
  }

  stats(): GpuStats {
    return {
      ...this.counters,
      pipelines: this.cache.pipelineCount,
      bindGroups: this.cache.bindGroupCount,
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
