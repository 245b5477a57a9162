// gpu_faults.ts — what goes wrong on the device, collected as it is reported (the device's uncaptured errors, WGSL
// compilation messages, losing the device) and thrown as a GpuError at the next sync point; and the test hook that
// makes the device look out of memory or lost.

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

export class GpuFaults {
  private errors: string[] = [];
  private oom = false;
  private lostReason: string | null = null;

  /** listens to `device` from now on */
  constructor(device: GPUDevice) {
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      if (e?.constructor?.name?.includes('OutOfMemory') || /out of memory/i.test(e?.message ?? '')) this.oom = true;
      this.errors.push(e?.message ?? String(e));
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = `GPU device lost (${info.reason}): ${info.message}`;
    });
  }

  /** an error seen other than through the device's events (a WGSL compilation message), thrown at the next sync */
  report(message: string): void {
    this.errors.push(message);
  }

  /** throws once the device is lost */
  checkLost(): void {
    if (this.lostReason) throw new GpuError(this.lostReason, 'lost');
  }

  /** throws (and forgets) every error reported so far, as one GpuError ('oom' where one was out of memory) */
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
  inject(kind: 'oom' | 'lost'): void {
    if (kind === 'oom') {
      this.oom = true;
      this.errors.push('out of memory (injected by a test hook)');
    } else this.lostReason = 'GPU device lost (injected by a test hook)';
  }
}
