// gpu_profile.ts — per-dispatch profiling (benchmarks, conv2d_tune.ts): while on, every dispatch gets a compute pass
// of its own with timestamps at its start and end, labelled with its pipeline and the Work its wrapper describes.
import type { BufferPool, GBuf } from './buffer_pool.js';
import type { Kernel } from './gpu_cache.js';
import { GpuError } from './gpu_faults.js';
import type { PassHost } from './gpu_timing.js';

/** what one dispatch computes, for profiles (benchmarks): the problem in words and its useful floating-point
 * operations (a multiply-add counts 2; zeros a kernel multiplies for its own convenience do not count) */
export interface Work {
  what: string;
  flops: number;
}
/** a profiled dispatch: its pipeline's label (file:entry(constants)) and, where the wrapper said, its Work */
export type Profiled = { label: string } & Partial<Work>;

export class GpuProfiler {
  private prof: { set: GPUQuerySet; labels: Profiled[]; resolve: GPUBuffer; capacity: number } | null = null;
  /** resolved timestamps waiting to be read (by stop) */
  private pendingResolves: { buf: GBuf; labels: Profiled[] }[] = [];

  /** `pool` holds the buffers the timestamps are copied to */
  constructor(
    private host: PassHost,
    private pool: BufferPool,
  ) {}

  /** whether profile mode is on (Gpu.dispatch asks before each dispatch) */
  get on(): boolean {
    return this.prof !== null;
  }

  /**
   * Profile mode (benchmarks only; needs timestamp-query): every dispatch gets a compute pass of its own with
   * timestamps at its start and end. Passes cost more than dispatches in a shared pass, so profiled totals
   * overstate a real run; the breakdown shows where time goes.
   */
  start(capacity = 2048): void {
    const h = this.host;
    capacity = Math.min(capacity, 2048); // WebGPU allows at most 4096 queries in a set
    if (!h.canTime) throw new GpuError('profiling needs the timestamp-query feature, which this adapter lacks');
    h.flush();
    const set = h.device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    const resolve = h.device.createBuffer({
      size: 16 * capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.prof = { set, labels: [], resolve, capacity };
  }

  /** before a dispatch in profile mode: label it and give it a timestamped pass of its own */
  next(k: Kernel, work?: () => Work): void {
    const p = this.prof!;
    if (p.labels.length >= p.capacity) this.flush();
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
    this.host.endPass();
    this.host.stampNextPass({ querySet: p.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
  }

  /** resolve the recorded timestamps into results (async part is in stop) */
  private flush(): void {
    const p = this.prof!;
    const n = p.labels.length;
    if (!n) return;
    const enc = this.host.endPass();
    const buf = this.pool.acquire(16 * n);
    enc.resolveQuerySet(p.set, 0, 2 * n, p.resolve, 0);
    enc.copyBufferToBuffer(p.resolve, 0, buf.buffer, 0, 16 * n);
    this.pendingResolves.push({ buf, labels: p.labels });
    p.labels = [];
    this.host.flush();
  }

  /** leave profile mode; returns every profiled dispatch with its GPU time in ms (and its Work where the kernel's
   * wrapper gave one), in order */
  async stop(): Promise<(Profiled & { ms: number })[]> {
    if (!this.prof) return [];
    this.flush();
    const out: (Profiled & { ms: number })[] = [];
    for (const { buf, labels } of this.pendingResolves) {
      const t = new BigUint64Array(await this.host.read(buf, 16 * labels.length));
      labels.forEach((l, i) => out.push({ ...l, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
      this.pool.release(buf);
    }
    this.pendingResolves = [];
    this.prof.set.destroy();
    this.prof.resolve.destroy();
    this.prof = null;
    return out;
  }
}
