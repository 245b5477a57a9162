// checkpoint.ts — engine state (named tensors plus JSON-able facts: config, epoch, RNG state, optimizer step…) to
// safetensors bytes and back. Pure TypeScript (no Node imports); src/node/checkpoint.ts reads and writes files.
//
// In the file: every tensor under its name (f32 → F32, i32 → I32; F16 read as f32, for shipped weights) in
// PyTorch's layout (Linear weights [out, in], transposed from the engine's [in, out]: src/nn/torch_layout.ts);
// `__metadata__` holds "format" =
// CHECKPOINT_FORMAT (a plain string) and one entry per `meta` key, its value JSON-stringified (so "model": "cnn"
// is stored as the string "\"cnn\""). Any safetensors reader (Python's included) can open the file. Files of
// format 1 load too, converted on load (src/nn/checkpoint_v1.ts).
//
// Loading never writes into the caller's tensors: `loadStateInto` checks the file against the tensors the model
// expects (names, dtypes, shapes; every problem listed), then uploads each one into a NEW tensor on `backend` and
// returns them by name with the parsed meta; the caller swaps them in and disposes the old ones. Nothing is
// uploaded unless every check passes.

import type { Backend, DType } from '../autograd/backend.js';
import { Tensor } from '../autograd/tensor.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeData,
  type Safetensors,
  type TensorToWrite,
} from './safetensors.js';
import { droppedOnLoad, fileShape, isStoredTransposed, storeTransposed, transpose2d } from './torch_layout.js';
import { FORMAT_V1, v1Names } from './checkpoint_v1.js';

export class CheckpointError extends Error {}

/** the value of the "format" metadata entry this engine writes (and reads, with FORMAT_V1) */
export const CHECKPOINT_FORMAT = 'fmnist-webgpu-engine/2';

export interface EngineState {
  tensors: Record<string, Tensor>;
  /** JSON-able values, e.g. model, config, epoch, rng (Generator.state()), optimizer; "format" is reserved */
  meta: Record<string, unknown>;
}

const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Read every tensor back (toArray) and encode it with the meta. f32 tensors are stored as F32 (the CPU
 * reference's float64 values are rounded to float32), i32 as I32; tensors marked storeTransposed (Linear
 * weights and their moments) transposed, as PyTorch holds them.
 */
export async function stateToSafetensors(state: EngineState): Promise<Uint8Array> {
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT };
  for (const [k, v] of Object.entries(state.meta)) {
    if (k === 'format')
      throw new CheckpointError(
        `stateToSafetensors: meta key "format" is reserved (the file's format, ${CHECKPOINT_FORMAT})`,
      );
    let s: string | undefined;
    try {
      s = JSON.stringify(v);
    } catch (e) {
      throw new CheckpointError(`stateToSafetensors: meta "${k}" cannot be written as JSON (${(e as Error).message})`);
    }
    if (s === undefined)
      throw new CheckpointError(`stateToSafetensors: meta "${k}" is ${typeof v}, which JSON cannot hold`);
    Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
  }
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(state.tensors)) {
    if (!(t instanceof Tensor)) throw new CheckpointError(`stateToSafetensors: "${name}" is not a Tensor`);
    if (t.disposed) throw new CheckpointError(`stateToSafetensors: tensor "${name}" was disposed before saving`);
    const read = await t.toArray();
    const a = isStoredTransposed(t) ? transpose2d(read, t.shape[0], t.shape[1]) : read;
    const shape = fileShape(t, t.shape, true);
    const entry: TensorToWrite =
      t.dtype === 'f32'
        ? { dtype: 'F32', shape, data: a instanceof Float32Array ? a : Float32Array.from(a) }
        : { dtype: 'I32', shape, data: a instanceof Int32Array ? a : Int32Array.from(a) };
    Object.defineProperty(out, name, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return encodeSafetensors(out, metadata);
}

export interface CheckOptions {
  /** the file's name for messages (default "checkpoint") */
  name?: string;
  /** the "format" metadata required (default: CHECKPOINT_FORMAT or FORMAT_V1); null accepts any file, its metadata
   *  kept raw where not JSON (a file of no format of this engine is taken to be in PyTorch's layout) */
  format?: string | null;
  /** the meta "model" required (e.g. "cnn"); a checkpoint of another model, or of none, is refused */
  model?: string;
}

export interface ParsedCheckpoint {
  /** the tensors (format-1 files: under their format-2 names, checkpoint_v1.ts) */
  file: Safetensors;
  /** the metadata, JSON-parsed, without "format" */
  meta: Record<string, unknown>;
  format: string | null;
}

/** whether a parsed checkpoint holds Linear weights as PyTorch does, [out, in] (all but format 1) */
const pytorchLayout = (parsed: ParsedCheckpoint) => parsed.format !== FORMAT_V1;

/**
 * Decode and check a checkpoint's format and model, without touching tensors: read the config from `meta` to
 * build the model, then pass the result to loadStateInto. Throws SafetensorsError for a damaged file and
 * CheckpointError for a wrong one.
 */
export function parseCheckpoint(src: Uint8Array | Safetensors, opts: CheckOptions = {}): ParsedCheckpoint {
  const name = opts.name ?? 'checkpoint';
  const decoded = src instanceof Uint8Array ? decodeSafetensors(src, name) : src;
  const want = opts.format === undefined ? CHECKPOINT_FORMAT : opts.format;
  const format = Object.hasOwn(decoded.metadata, 'format') ? decoded.metadata.format : null;
  const file = format === FORMAT_V1 ? v1Names(decoded) : decoded;
  if (want !== null && format !== want && !(opts.format === undefined && format === FORMAT_V1)) {
    const wanted = `"${want}"${opts.format === undefined ? ` or "${FORMAT_V1}"` : ''}`;
    if (format === null)
      throw new CheckpointError(
        `${name}: no "format" metadata; not a checkpoint of this engine (expected format ${wanted})`,
      );
    throw new CheckpointError(
      `${name}: format "${format}", expected ${wanted}${format.startsWith('fmnist-webgpu-engine/') ? ' (written by another version of this engine)' : '; not a checkpoint of this engine'}`,
    );
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file.metadata)) {
    if (k === 'format') continue;
    let parsed: unknown = v;
    try {
      parsed = JSON.parse(v);
    } catch {
      if (want !== null)
        throw new CheckpointError(
          `${name}: metadata "${k}" is not JSON (${JSON.stringify(v.slice(0, 60))}); corrupt checkpoint`,
        );
    }
    Object.defineProperty(meta, k, { value: parsed, enumerable: true, writable: true, configurable: true });
  }
  checkModel(meta, opts.model, name);
  return { file, meta, format };
}

function checkModel(meta: Record<string, unknown>, model: string | undefined, name: string): void {
  if (model === undefined || meta.model === model) return;
  if (meta.model === undefined)
    throw new CheckpointError(`${name}: the checkpoint names no model; expected a "${model}" checkpoint`);
  throw new CheckpointError(`${name}: a checkpoint of model ${JSON.stringify(meta.model)}, expected "${model}"`);
}

/** what a model expects of one tensor (a Tensor qualifies), in the engine's layout (see storeTransposed) */
export interface TensorSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface LoadedState {
  /** new tensors on the backend, one per expected name; the caller owns (and eventually disposes) them. Inside
   *  `tidy`, they belong to that scope like any new tensor: `keep()` them or load outside it */
  tensors: Record<string, Tensor>;
  meta: Record<string, unknown>;
}

/** check a checkpoint against what a model expects (names, dtypes, shapes, model); returns it parsed */
export function checkState(
  src: Uint8Array | Safetensors | ParsedCheckpoint,
  expected: Record<string, TensorSpec>,
  opts: CheckOptions = {},
): ParsedCheckpoint {
  const name = opts.name ?? 'checkpoint';
  let parsed: ParsedCheckpoint;
  if ('file' in src && 'meta' in src) {
    parsed = src;
    checkModel(parsed.meta, opts.model, name);
  } else parsed = parseCheckpoint(src, opts);
  const have = parsed.file.tensors;
  const has = (o: object, k: string) => Object.hasOwn(o, k);
  const missing = Object.keys(expected).filter((k) => !has(have, k));
  const unexpected = Object.keys(have).filter((k) => !has(expected, k) && !droppedOnLoad(k, expected));
  if (missing.length || unexpected.length) {
    const parts: string[] = [];
    if (missing.length)
      parts.push(`missing ${missing.length} tensor${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
    if (unexpected.length)
      parts.push(`${unexpected.length} unexpected tensor${unexpected.length > 1 ? 's' : ''}: ${unexpected.join(', ')}`);
    throw new CheckpointError(`${name}: does not match the model: ${parts.join('; ')}`);
  }
  const problems: string[] = [];
  for (const [k, spec] of Object.entries(expected)) {
    const t = have[k];
    const ok =
      spec.dtype === 'f32'
        ? t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'F64'
        : t.dtype === 'I32' || t.dtype === 'I64';
    const want = fileShape(spec, spec.shape, pytorchLayout(parsed)); // shapes as the file holds them
    if (!ok) problems.push(`${k}: dtype ${t.dtype} in the checkpoint, model wants ${spec.dtype}`);
    else if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
      problems.push(
        `${k}: shape ${fmtShape(t.shape)} in the checkpoint, model wants ${fmtShape(want)}${isStoredTransposed(spec) && pytorchLayout(parsed) ? ' ([out, in], as PyTorch)' : ''}`,
      );
    else if (t.dtype === 'I64') {
      const bad = (t.data as Float64Array).findIndex((v) => v > 2147483647 || v < -2147483648);
      if (bad >= 0) problems.push(`${k}: I64 value ${t.data[bad]} at index ${bad} does not fit the model's i32`);
    }
  }
  if (problems.length) throw new CheckpointError(`${name}: does not match the model: ${problems.join('; ')}`);
  return parsed;
}

/** a checked tensor's data in the engine's layout (transposed back where the file holds it as PyTorch does) */
function engineData(parsed: ParsedCheckpoint, k: string, spec: TensorSpec): SafeData {
  const t = parsed.file.tensors[k];
  return isStoredTransposed(spec) && pytorchLayout(parsed) ? transpose2d(t.data, t.shape[0], t.shape[1]) : t.data;
}

/**
 * Check the checkpoint holds exactly the `expected` names with their dtypes and shapes, then upload every tensor
 * into a new tensor on `backend`. Conversions: F64 → f32 (rounded), I64 → i32 (must fit in 32 bits); nothing
 * else. Throws CheckpointError listing every missing and unexpected name, or every dtype/shape mismatch, e.g.
 * `conv1.weight: shape [32, 1, 3, 3] in the checkpoint, model wants [32, 3, 3, 3]`.
 */
export function loadStateInto(
  src: Uint8Array | Safetensors | ParsedCheckpoint,
  expected: Record<string, TensorSpec>,
  backend: Backend,
  opts: CheckOptions = {},
): LoadedState {
  const parsed = checkState(src, expected, opts);
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [k, spec] of Object.entries(expected)) {
      const d = engineData(parsed, k, spec);
      // F64 is rounded to float32 here, so the CPU reference (which stores float64) holds what the GPU holds
      const data = spec.dtype === 'f32' && !(d instanceof Float32Array) ? Float32Array.from(d) : d;
      const t = Tensor.from(backend, data, spec.shape, spec.dtype);
      t.name = k;
      if (isStoredTransposed(spec)) storeTransposed(t);
      Object.defineProperty(tensors, k, { value: t, enumerable: true, writable: true, configurable: true });
    }
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return { tensors, meta: parsed.meta };
}

/**
 * Check like loadStateInto, then overwrite the `targets` tensors' values in place (Tensor.assign), so the model's
 * parameters and the optimizer's references to them stay the same objects. Returns the metadata.
 */
export function assignState(
  src: Uint8Array | Safetensors | ParsedCheckpoint,
  targets: Record<string, Tensor>,
  opts: CheckOptions = {},
): Record<string, unknown> {
  const parsed = checkState(src, targets, opts);
  for (const [k, t] of Object.entries(targets)) {
    const d = engineData(parsed, k, t);
    t.assign(t.dtype === 'f32' && !(d instanceof Float32Array) ? Float32Array.from(d) : d);
  }
  return parsed.meta;
}

/** the checkpoint without the tensors `drop` names (e.g. an optimizer's moments), for loading a model alone */
export function withoutTensors(parsed: ParsedCheckpoint, drop: (name: string) => boolean): ParsedCheckpoint {
  return renameTensors(parsed, (k) => (drop(k) ? null : k));
}

/** the checkpoint with each tensor under the name `rename` gives it, or left out where that is null */
export function renameTensors(parsed: ParsedCheckpoint, rename: (name: string) => string | null): ParsedCheckpoint {
  const tensors: Safetensors['tensors'] = {};
  for (const [k, t] of Object.entries(parsed.file.tensors)) {
    const to = rename(k);
    if (to !== null) Object.defineProperty(tensors, to, { value: t, enumerable: true });
  }
  return { ...parsed, file: { ...parsed.file, tensors } };
}

/**
 * Safetensors bytes of a slim copy: the tensors `drop` does not name, the same metadata less the keys in
 * `dropMeta` (e.g. a resume position), plus `"slim": true` and any `extraMeta`. For inference-only files: a
 * browser download, the shipped evaluation classifier and GANs. Float tensors stored as F16 stay F16, and those
 * `half` names become F16 (the shipped GANs' large weights).
 */
export function slimCheckpointBytes(
  parsed: ParsedCheckpoint,
  drop: (name: string) => boolean,
  dropMeta: string[] = [],
  extraMeta: Record<string, unknown> = {},
  half: (name: string, shape: readonly number[]) => boolean = () => false,
): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [k, t] of Object.entries(withoutTensors(parsed, drop).file.tensors)) {
    const data =
      t.dtype === 'F64'
        ? Float32Array.from(t.data)
        : t.dtype === 'I64'
          ? Int32Array.from(t.data)
          : (t.data as Float32Array | Int32Array | Uint8Array);
    const float = data instanceof Float32Array;
    const dtype = float
      ? t.dtype === 'F16' || half(k, t.shape)
        ? 'F16'
        : 'F32'
      : data instanceof Int32Array
        ? 'I32'
        : 'U8';
    tensors[k] = { dtype, shape: t.shape, data };
  }
  const metadata: Record<string, string> = { format: parsed.format ?? '' };
  for (const [k, v] of Object.entries({ ...parsed.meta, ...extraMeta }))
    if (!dropMeta.includes(k)) metadata[k] = JSON.stringify(v);
  metadata.slim = JSON.stringify(true);
  return encodeSafetensors(tensors, metadata);
}
