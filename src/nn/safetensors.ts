// safetensors.ts — encode and decode the safetensors format (Hugging Face), the engine's checkpoint file format.
// Pure TypeScript on bytes (no Node imports; runs in a browser too): the Node edge (src/node/checkpoint.ts) reads
// and writes the files, src/nn/checkpoint.ts turns engine state into tensors and back.
//
// Layout: an 8-byte little-endian u64 N; N bytes of UTF-8 JSON, padded with spaces to a multiple of 8 by writers:
//   {"__metadata__": {"k": "v", ...},            (optional; every value a string)
//    "name": {"dtype": "F32", "shape": [3, 17], "data_offsets": [begin, end]}, ...}
// then the byte buffer: each tensor little-endian, row-major, at [begin, end) relative to the buffer's start. The
// tensors cover the buffer exactly: no gaps, no overlaps, nothing after the last one.
//
// The encoder writes what Python's `safetensors` writes for the same input, byte for byte: the header in data
// order, `__metadata__` first, compact JSON; tensors sorted by dtype (widest first: I64, F64, F32, I32, U8) and
// then by name (UTF-8 bytes). Widest first keeps every tensor aligned to its element size. Metadata entries keep
// the caller's order (Python's order is a hash map's, so only a file with at most one entry matches it exactly).
//
// Decoding checks everything the reference reader checks and says what is wrong: the length fields, the JSON,
// each entry's dtype, shape and offsets, duplicate names, the metadata's types. Decoded data is always a fresh
// copy (never a view of `bytes`). Dtypes: F32, I32, U8 both ways; F64 and I64 read only (I64 values must be
// integers of magnitude < 2^53, which a JS number holds exactly; both come back as Float64Array). F16 both ways
// (IEEE half): read as Float32Array (exact); written from a Float32Array, each value rounded to the nearest half
// (ties to even), refusing values beyond half's range (±65504) rather than storing infinities.

export class SafetensorsError extends Error {}

/** dtypes this module reads */
export type SafeDType = 'F32' | 'F16' | 'I32' | 'U8' | 'F64' | 'I64';
/** dtypes this module writes */
export type WritableDType = 'F32' | 'F16' | 'I32' | 'U8';

export type SafeData = Float32Array | Int32Array | Uint8Array | Float64Array;

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** F32 and F16 → Float32Array, I32 → Int32Array, U8 → Uint8Array, F64 and I64 → Float64Array */
  data: SafeData;
}

export interface TensorToWrite {
  dtype: WritableDType;
  shape: readonly number[];
  /** F32 and F16 → Float32Array, I32 → Int32Array, U8 → Uint8Array (exactly that type, shape's product elements) */
  data: Float32Array | Int32Array | Uint8Array;
}

export interface Safetensors {
  /** in file (data) order */
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** bytes per element */
const SIZE: Record<SafeDType, number> = { F32: 4, F16: 2, I32: 4, U8: 1, F64: 8, I64: 8 };
/** the writer's sort key: Python safetensors' Dtype enum order (BOOL < U8 < … < F16 < BF16 < I32 < U32 < F32 < …) */
const RANK: Record<WritableDType, number> = { U8: 1, F16: 11, I32: 13, F32: 15 };
/** dtypes in the safetensors spec that this engine does not handle (named as such in errors) */
const OTHER_SPEC_DTYPES = new Set([
  'BOOL',
  'I8',
  'I16',
  'U16',
  'BF16',
  'U32',
  'U64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
]);

/** the reference reader's limit on the JSON header */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      throw new SafetensorsError(`${what}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new SafetensorsError(`${what}: shape ${fmtShape(shape)} has too many elements`);
  return n;
}

function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
const utf8 = new TextEncoder();

/** an own property, even for names such as "__proto__" */
function define<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ------------------------------------------------------------------ encode

/**
 * The safetensors bytes for `tensors` (and `metadata`, written as `__metadata__` when given, even empty). Throws
 * SafetensorsError for an unsupported dtype, a data array of the wrong type or length, a bad shape, a non-string
 * metadata value, or a tensor named `__metadata__`.
 */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const what = `encodeSafetensors: tensor "${name}"`;
    if (name === '__metadata__')
      throw new SafetensorsError(`${what}: the name __metadata__ is reserved for the metadata`);
    if (!t || typeof t !== 'object') throw new SafetensorsError(`${what}: not a {dtype, shape, data} object`);
    if (!(t.dtype in RANK))
      throw new SafetensorsError(`${what}: dtype ${JSON.stringify(t.dtype)} cannot be written (F32, F16, I32 or U8)`);
    const want = t.dtype === 'F32' || t.dtype === 'F16' ? Float32Array : t.dtype === 'I32' ? Int32Array : Uint8Array;
    if (!(t.data instanceof want))
      throw new SafetensorsError(
        `${what}: dtype ${t.dtype} needs a ${want.name}, got ${t.data?.constructor?.name ?? typeof t.data}`,
      );
    const n = elementCount(t.shape, what);
    if (t.data.length !== n)
      throw new SafetensorsError(`${what}: shape ${fmtShape(t.shape)} has ${n} elements but data has ${t.data.length}`);
    // F16: the halves' bits (little-endian) stand in for the data from here on
    if (t.dtype === 'F16')
      return { name, t: { ...t, data: new Uint8Array(toHalfBits(t.data as Float32Array, what).buffer) } };
    return { name, t };
  });
  entries.sort((a, b) => RANK[b.t.dtype] - RANK[a.t.dtype] || compareUtf8(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const kv: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new SafetensorsError(
          `encodeSafetensors: metadata "${k}" is a ${typeof v}; safetensors metadata values must be strings`,
        );
      kv.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const { name, t } of entries) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = utf8.encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const { t } of entries) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    if (!LITTLE_ENDIAN && t.dtype !== 'F16') swapBytes(out.subarray(at, at + bytes.length), SIZE[t.dtype]);
    at += bytes.length;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits of each value, little-endian, rounded to nearest (ties to even); beyond ±65504 is an error */
export function toHalfBits(src: Float32Array, what = 'toHalfBits'): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    f32[0] = src[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    let h: number;
    if (exp === 0xff) {
      if (mant) throw new SafetensorsError(`${what}: NaN at index ${i} cannot be stored`);
      throw new SafetensorsError(`${what}: ${src[i]} at index ${i} cannot be stored`);
    } else if (exp > 142) {
      throw new SafetensorsError(`${what}: ${src[i]} at index ${i} is beyond F16's range (±65504); store it as F32`);
    } else if (exp >= 113) {
      // normal half: 10 mantissa bits, round to nearest even on the 13 dropped
      h = ((exp - 112) << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still right
      if (h >= 0x7c00)
        throw new SafetensorsError(
          `${what}: ${src[i]} at index ${i} rounds beyond F16's range (±65504); store it as F32`,
        );
    } else if (exp >= 102) {
      // subnormal half: shift the implicit 1 in, round to nearest even
      mant |= 0x800000;
      const shift = 126 - exp; // 14..24
      h = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rest > halfway || (rest === halfway && h & 1)) h++;
    } else h = 0; // below half the smallest subnormal: ±0
    out[i] = sign | h;
  }
  if (!LITTLE_ENDIAN) swapBytes(new Uint8Array(out.buffer), 2);
  return out;
}

/** the values of little-endian IEEE half bits (exact) */
export function fromHalfBits(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] =
      exp === 0
        ? sign * mant * 2 ** -24
        : exp === 31
          ? mant
            ? NaN
            : sign * Infinity
          : sign * (1024 + mant) * 2 ** (exp - 25);
  }
  return out;
}

function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

// ------------------------------------------------------------------ decode

/**
 * Parse and check safetensors bytes; `name` (a file name) starts every error message. Throws SafetensorsError
 * saying what is wrong: too short, a header length beyond the file or the 100 MB limit, a header that is not
 * UTF-8 JSON object, an unknown dtype, a shape that does not match its offsets, offsets out of bounds,
 * overlapping, leaving gaps or not covering the buffer, duplicate names, metadata values that are not strings,
 * I64 values a JS number cannot hold exactly.
 */
export function decodeSafetensors(bytes: Uint8Array, name = 'checkpoint'): Safetensors {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${name}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array))
    fail(`expected a Uint8Array of file bytes, got ${(bytes as unknown as object)?.constructor?.name ?? typeof bytes}`);
  if (bytes.length < 8)
    fail(
      `${bytes.length} bytes is too short for a safetensors file (it starts with an 8-byte header length); empty or truncated file`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_HEADER_BYTES)
    fail(
      `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file (or a corrupt one)`,
    );
  if (8 + headerLen > bytes.length)
    fail(
      `header length ${headerLen} reaches past the end of the ${bytes.length}-byte file; truncated, or not a safetensors file`,
    );
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object; not a safetensors file`);
  const headerBytes = bytes.subarray(8, 8 + headerLen);
  if (headerBytes[0] !== 0x7b /* { */) fail(`the header does not start with "{"; not a safetensors file`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('the header is not valid UTF-8; corrupt file');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message}); corrupt or truncated header`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const seen = new Set<string>();
  for (const k of topLevelKeys(text)) {
    if (seen.has(k)) fail(`the name ${JSON.stringify(k)} appears twice in the header`);
    seen.add(k);
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const infos: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, v] of Object.entries(header as Record<string, unknown>)) {
    const what = `tensor ${JSON.stringify(key)}`;
    if (key === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v))
        fail(`__metadata__ must be an object of strings, got ${JSON.stringify(v)}`);
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
        if (typeof mv !== 'string')
          fail(`__metadata__ "${mk}" is ${JSON.stringify(mv)}; metadata values must be strings`);
        define(metadata, mk, mv);
      }
      continue;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      fail(`${what}: entry must be an object {dtype, shape, data_offsets}, got ${JSON.stringify(v)}`);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string') fail(`${what}: missing or non-string "dtype"`);
    const dtype = e.dtype as string;
    if (!(dtype in SIZE)) {
      if (OTHER_SPEC_DTYPES.has(dtype))
        fail(`${what}: dtype ${dtype} is not supported by this engine (F32, F16, I32, U8, F64, I64)`);
      fail(`${what}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(e.shape)) fail(`${what}: missing or non-array "shape"`);
    const shape = e.shape as number[];
    let n = 0;
    try {
      n = elementCount(shape, what);
    } catch (err) {
      fail((err as Error).message);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    )
      fail(`${what}: "data_offsets" must be [begin, end] with non-negative integers, got ${JSON.stringify(offs)}`);
    const [begin, end] = offs as number[];
    if (end < begin) fail(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
    const nbytes = n * SIZE[dtype as SafeDType];
    if (end - begin !== nbytes)
      fail(
        `${what}: ${dtype} ${fmtShape(shape)} needs ${nbytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    if (end > dataLen)
      fail(`${what}: data_offsets [${begin}, ${end}] reach past the ${dataLen}-byte data buffer; truncated file`);
    infos.push({ name: key, dtype: dtype as SafeDType, shape: [...shape], begin, end });
  }

  // the tensors must tile [0, dataLen) exactly
  const byPos = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = '';
  for (const t of byPos) {
    if (t.begin < pos)
      fail(
        `tensor ${JSON.stringify(t.name)} at [${t.begin}, ${t.end}] overlaps tensor ${JSON.stringify(prev)} (which ends at ${pos})`,
      );
    if (t.begin > pos)
      fail(
        `a gap of ${t.begin - pos} bytes before tensor ${JSON.stringify(t.name)} at [${t.begin}, ${t.end}] (the previous tensor ends at ${pos}); tensors must be contiguous`,
      );
    pos = t.end;
    prev = t.name;
  }
  if (pos !== dataLen)
    fail(
      `${dataLen - pos} bytes after the last tensor (tensors cover ${pos} of the ${dataLen}-byte data buffer); trailing garbage or a corrupt header`,
    );

  const tensors: Record<string, SafeTensor> = {};
  for (const t of byPos)
    define(tensors, t.name, {
      dtype: t.dtype,
      shape: t.shape,
      data: readData(
        bytes,
        dataStart + t.begin,
        dataStart + t.end,
        t.dtype,
        `${name}: tensor ${JSON.stringify(t.name)}`,
      ),
    });
  return { tensors, metadata };
}

function readData(bytes: Uint8Array, begin: number, end: number, dtype: SafeDType, what: string): SafeData {
  const raw = bytes.slice(begin, end); // a copy, aligned at 0
  if (dtype === 'U8') return raw;
  if (dtype === 'I64') {
    const view = new DataView(raw.buffer);
    const out = new Float64Array(raw.length / 8);
    for (let i = 0; i < out.length; i++) {
      const v = view.getBigInt64(8 * i, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
        throw new SafetensorsError(
          `${what}: I64 value ${v} at index ${i} has magnitude ≥ 2^53, which a JS number cannot hold exactly`,
        );
      out[i] = Number(v);
    }
    return out;
  }
  if (!LITTLE_ENDIAN) swapBytes(raw, SIZE[dtype]);
  if (dtype === 'F16') return fromHalfBits(new Uint16Array(raw.buffer));
  return dtype === 'F32'
    ? new Float32Array(raw.buffer)
    : dtype === 'I32'
      ? new Int32Array(raw.buffer)
      : new Float64Array(raw.buffer);
}

/** the keys of the top-level object of a JSON text already accepted by JSON.parse, in order, duplicates kept */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}
