// buffer_pool.ts — the GPU buffer pool (not pooling, which is maxpool2d.ts). Buffers are reused by size class so
// that a training step, once warm, allocates nothing. Counters: live bytes (handed out now), peak live bytes, bytes
// allocated on the device in total. Reuse is safe without waiting for the GPU: WebGPU executes the queue in order,
// so a buffer released after kernel A read it and acquired by kernel B recorded later is only overwritten after A
// has run. Also the handles of an arena (slots of one pooled buffer, released together).
import { GpuError } from './gpu_faults.js';

export interface GBuf {
  readonly buffer: GPUBuffer;
  readonly size: number; // bytes (the size class, >= what was asked; a slot's own bytes)
  readonly id: number; // stable id, used in bind-group cache keys (a slot carries its arena buffer's id)
  /** an arena slot: its byte offset in `buffer` (256-aligned); kernels bind just [offset, offset + size) */
  readonly offset?: number;
  /** arena slots and the arena's whole handle: the pooled buffer goes back when the last of them is released */
  readonly arena?: ArenaRef;
}

/** a pooled buffer shared by the slots of an arena (see Gpu.arena) */
export interface ArenaRef {
  refs: number;
  readonly buf: GBuf;
}

/** Round a byte count up to its size class: powers of two up to 4 KiB, then four classes per octave. */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  // floor(log2 b) by counting leading zeros below 2^31 (this runs on every acquire)
  const lg = b < 2 ** 31 ? 31 - Math.clz32(b) : Math.floor(Math.log2(b));
  if (b <= 4096) return b === 2 ** lg ? b : 2 ** (lg + 1);
  const oct = 2 ** lg;
  const step = oct / 4;
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  liveBytes: number;
  peakLiveBytes: number;
  allocatedBytes: number;
  buffers: number;
  freeBuffers: number;
  allocations: number;
}

export class BufferPool {
  private free = new Map<number, GBuf[]>();
  private nextId = 1;
  private live = 0;
  private peak = 0;
  private allocated = 0;
  private count = 0;
  private freeCount = 0;
  private allocations = 0;

  constructor(
    private device: GPUDevice,
    private usage: number,
    private label: string,
  ) {}

  acquire(bytes: number): GBuf {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    // the free list is kept sorted by id, descending, and the smallest id is handed out: a step that frees and
    // re-acquires the same buffers gets them back in the same roles, so its bind groups are cache hits
    let b = list?.pop();
    if (b) this.freeCount--;
    else {
      b = {
        buffer: this.device.createBuffer({ size, usage: this.usage, label: `${this.label}#${this.nextId}` }),
        size,
        id: this.nextId++,
      };
      this.allocated += size;
      this.count++;
      this.allocations++;
    }
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    return b;
  }

  release(b: GBuf): void {
    this.live -= b.size;
    let list = this.free.get(b.size);
    if (!list) this.free.set(b.size, (list = []));
    let i = list.length;
    while (i > 0 && list[i - 1].id < b.id) i--;
    list.splice(i, 0, b);
    this.freeCount++;
  }

  /** Destroy every free buffer (returns the bytes given back). */
  trim(onDestroy?: (b: GBuf) => void): number {
    let bytes = 0;
    for (const list of this.free.values())
      for (const b of list) {
        onDestroy?.(b);
        b.buffer.destroy();
        bytes += b.size;
        this.count--;
      }
    this.allocated -= bytes;
    this.free.clear();
    this.freeCount = 0;
    return bytes;
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  stats(): PoolStats {
    return {
      liveBytes: this.live,
      peakLiveBytes: this.peak,
      allocatedBytes: this.allocated,
      buffers: this.count,
      freeBuffers: this.freeCount,
      allocations: this.allocations,
    };
  }
}

/**
 * The handles of an arena laid out in the pooled buffer `buf` (`bytes` long): the whole buffer's and one per slot at
 * the given byte offsets (each a multiple of 256, minStorageBufferOffsetAlignment) and sizes. They share one
 * reference count, one per handle: the buffer goes back to the pool with the last one released (Gpu.release).
 */
export function arenaHandles(
  buf: GBuf,
  bytes: number,
  offsets: readonly number[],
  sizes: readonly number[],
): { whole: GBuf; slots: GBuf[] } {
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
