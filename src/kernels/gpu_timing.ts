// gpu_timing.ts — timing one recorded pass on the GPU with timestamp queries (Gpu.timeGpu; conv2d_tune.ts picks
// tiles by it).
import type { GBuf } from './buffer_pool.js';

/** what timing needs from the Gpu that records: its device, ending the open pass, stamping the next one, submitting,
 * reading back */
export interface PassHost {
  readonly device: GPUDevice;
  readonly canTime: boolean;
  endPass(): GPUCommandEncoder;
  /** timestamp writes for the next compute pass begun (null: none) */
  stampNextPass(w: GPUComputePassTimestampWrites | null): void;
  flush(): void;
  read(src: GBuf, bytes: number): Promise<ArrayBuffer>;
}

export class GpuTimer {
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GBuf | null = null;

  constructor(private host: PassHost) {}

  /**
   * Run `record` (which records dispatches, no copies) in a compute pass of its own and return the GPU time of that
   * pass in milliseconds from timestamp queries, or null where the adapter has none.
   */
  async time(record: () => void): Promise<number | null> {
    const h = this.host;
    if (!h.canTime) {
      record();
      return null;
    }
    h.flush();
    if (!this.querySet) this.querySet = h.device.createQuerySet({ type: 'timestamp', count: 2 });
    h.stampNextPass({ querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    record();
    const enc = h.endPass();
    if (!this.resolveBuf)
      this.resolveBuf = {
        buffer: h.device.createBuffer({
          size: 256,
          usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
          label: 'timestamps',
        }),
        size: 256,
        id: -1,
      };
    enc.resolveQuerySet(this.querySet, 0, 2, this.resolveBuf.buffer, 0);
    h.stampNextPass(null);
    const ticks = new BigUint64Array(await h.read(this.resolveBuf, 16));
    return Number(ticks[1] - ticks[0]) / 1e6;
  }
}
