// gpu_params.ts — the per-dispatch parameter block: each dispatch's uniform struct goes into its own 256-byte slot of
// one host buffer (bound through a dynamic offset), which Gpu writes to the device right before its submit.

/** one dispatch's parameter slot (minUniformBufferOffsetAlignment) */
export const PARAM_BYTES = 256;
export const PARAM_WORDS = PARAM_BYTES / 4;

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
