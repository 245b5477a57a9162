// checkpoint.test.ts — safetensors encode/decode (round trip, the reference implementation's exact bytes, every
// rejection), engine state to checkpoint and back (name/dtype/shape/model checks), atomic file writes, and GPU
// tensors saved and loaded. `node scripts/safetensors_crosscheck.mjs` checks against Python's safetensors, if present.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type TensorToWrite } from '../src/nn/safetensors.js';
import {
  stateToSafetensors,
  loadStateInto,
  parseCheckpoint,
  CheckpointError,
  CHECKPOINT_FORMAT,
} from '../src/nn/checkpoint.js';
import { writeFileAtomic, readCheckpoint, saveCheckpoint, CheckpointFileError } from '../src/node/checkpoint.js';
import { Tensor } from '../src/autograd/tensor.js';
import { Generator } from '../src/autograd/random.js';
import type { Backend } from '../src/autograd/backend.js';
import { cpu, gpuBackend } from './harness.js';
import { HANG_GUARD_MS, ended } from './hang_guard.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** a safetensors file from a header object (or raw header text) and a data buffer, padded like the reference */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** expect a throw of class `cls` whose message matches every pattern */
// biome-ignore lint/complexity/noBannedTypes: any error class
function throwsWith(fn: () => unknown, cls: Function, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, cls, `wrong error class: ${e}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable(`expected ${cls.name} matching ${patterns.join(' ')}`);
}

// ------------------------------------------------------------------ the format

test('round trip F32/I32/U8, shapes [], [1], [3,17], [0,2], with metadata: values and bytes exact', () => {
  const m = new Float32Array(51).map((_, i) => Math.sin(i) * 1e3);
  m[3] = NaN;
  m[4] = -0;
  m[5] = -Infinity;
  m[6] = 1e-45; // subnormal
  const tensors: Record<string, TensorToWrite> = {
    'layer.weight': { dtype: 'F32', shape: [3, 17], data: m },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([2.5]) },
    step: { dtype: 'I32', shape: [1], data: new Int32Array([-2147483648]) },
    labels: { dtype: 'I32', shape: [4], data: new Int32Array([0, 9, -1, 2147483647]) },
    pixels: { dtype: 'U8', shape: [2, 3], data: new Uint8Array([0, 1, 127, 128, 254, 255]) },
    empty: { dtype: 'F32', shape: [0, 2], data: new Float32Array(0) },
    'ünïcode "name"\n': { dtype: 'U8', shape: [1], data: new Uint8Array([42]) },
  };
  const metadata = { epoch: '3', note: 'tab\tquote"é' };
  const bytes = encodeSafetensors(tensors, metadata);
  const n = new DataView(bytes.buffer).getUint32(0, true);
  assert.is(n % 8, 0, 'header padded to a multiple of 8');
  assert.is(bytes[8 + n - 1] === 0x20 || bytes[8 + n - 1] === 0x7d, true);
  const back = decodeSafetensors(bytes);
  assert.equal(back.metadata, metadata);
  assert.equal(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) {
    const got = back.tensors[k];
    assert.is(got.dtype, t.dtype, k);
    assert.equal(got.shape, [...t.shape], k);
    assert.is(got.data.constructor, t.data.constructor, k);
    assert.ok(sameBytes(bytesOf(got.data), bytesOf(t.data)), `${k}: bytes differ`);
  }
  // decoding copies: changing the file afterwards does not change the tensors
  const before = back.tensors.scalar.data[0];
  bytes.fill(0, bytes.length - 64);
  assert.is(back.tensors.scalar.data[0], before);
  // encode(decode(x)) === x
  const again = encodeSafetensors(
    decodeSafetensors(encodeSafetensors(tensors, metadata)).tensors as Record<string, TensorToWrite>,
    metadata,
  );
  assert.ok(sameBytes(again, encodeSafetensors(tensors, metadata)));
  // an empty file with no tensors
  const none = encodeSafetensors({});
  assert.equal([...none], [8, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{}      ')]);
  assert.equal(decodeSafetensors(none), { tensors: {}, metadata: {} });
});

test('reference layout: the hand-made bytes for {"a": F32 [2] = [1, 2]}', () => {
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  assert.is(json.length, 54);
  const want = new Uint8Array([
    56,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...new TextEncoder().encode(json + '  '),
    0,
    0,
    0x80,
    0x3f,
    0,
    0,
    0,
    0x40,
  ]);
  const got = decodeSafetensors(want);
  assert.equal(got.metadata, {});
  assert.equal(Object.keys(got.tensors), ['a']);
  assert.equal({ ...got.tensors.a, data: [...got.tensors.a.data] }, { dtype: 'F32', shape: [2], data: [1, 2] });
  assert.ok(sameBytes(encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }), want));
});

// Written by Python's safetensors 0.8.0 (safetensors.numpy.save), base64:
//   save({'w': np.arange(6, dtype=np.float32).reshape(2, 3) / 4, 'step': np.array([3], dtype=np.int32),
//         'px': np.array([0, 255, 9], dtype=np.uint8), 's': np.array(-1.5, dtype=np.float32)},
//        metadata={'note': 'héllo "q"\n'})
const PY_SMALL =
  'CAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJub3RlIjoiaMOpbGxvIFwicVwiXG4ifSwicyI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbXSwiZGF0YV9vZmZzZXRzIjpbMCw0XX0sInciOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzIsM10sImRhdGFfb2Zmc2V0cyI6WzQsMjhdfSwic3RlcCI6eyJkdHlwZSI6IkkzMiIsInNoYXBlIjpbMV0sImRhdGFfb2Zmc2V0cyI6WzI4LDMyXX0sInB4Ijp7ImR0eXBlIjoiVTgiLCJzaGFwZSI6WzNdLCJkYXRhX29mZnNldHMiOlszMiwzNV19fSAAAMC/AAAAAAAAgD4AAAA/AABAPwAAgD8AAKA/AwAAAAD/CQ==';
//   save({'b': np.array([1, -2], dtype=np.int32), 'a': np.array([1, 2], dtype=np.float32),
//         'c': np.array([7], dtype=np.uint8), 'z': np.array(0.1, dtype=np.float64),
//         'y': np.array([-5, 2**40], dtype=np.int64)}, metadata={'format': 'pt'})
const PY_WIDE =
  'MAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJ5Ijp7ImR0eXBlIjoiSTY0Iiwic2hhcGUiOlsyXSwiZGF0YV9vZmZzZXRzIjpbMCwxNl19LCJ6Ijp7ImR0eXBlIjoiRjY0Iiwic2hhcGUiOltdLCJkYXRhX29mZnNldHMiOlsxNiwyNF19LCJhIjp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyXSwiZGF0YV9vZmZzZXRzIjpbMjQsMzJdfSwiYiI6eyJkdHlwZSI6IkkzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzMyLDQwXX0sImMiOnsiZHR5cGUiOiJVOCIsInNoYXBlIjpbMV0sImRhdGFfb2Zmc2V0cyI6WzQwLDQxXX19+/////////8AAAAAAAEAAJqZmZmZmbk/AACAPwAAAEABAAAA/v///wc=';

test("reference bytes from Python's safetensors: decoded, and re-encoded byte for byte", () => {
  const py = b64(PY_SMALL);
  const f = decodeSafetensors(py, 'py_small');
  assert.equal(f.metadata, { note: 'héllo "q"\n' });
  assert.equal(Object.keys(f.tensors), ['s', 'w', 'step', 'px']);
  assert.equal([...f.tensors.w.data], [0, 0.25, 0.5, 0.75, 1, 1.25]);
  assert.equal(f.tensors.w.shape, [2, 3]);
  assert.equal(f.tensors.s.shape, []);
  assert.equal([...f.tensors.step.data], [3]);
  assert.equal([...f.tensors.px.data], [0, 255, 9]);
  const ours = encodeSafetensors(
    {
      px: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 255, 9]) },
      step: { dtype: 'I32', shape: [1], data: new Int32Array([3]) },
      w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]) },
      s: { dtype: 'F32', shape: [], data: new Float32Array([-1.5]) },
    },
    { note: 'héllo "q"\n' },
  );
  assert.ok(sameBytes(ours, py), 'our bytes differ from the reference implementation');

  const wide = decodeSafetensors(b64(PY_WIDE), 'py_wide');
  assert.equal(Object.keys(wide.tensors), ['y', 'z', 'a', 'b', 'c']);
  assert.is(wide.tensors.y.dtype, 'I64');
  assert.equal([...wide.tensors.y.data], [-5, 2 ** 40]);
  assert.is(wide.tensors.z.dtype, 'F64');
  assert.is(wide.tensors.z.data[0], 0.1);
  assert.equal([...wide.tensors.b.data], [1, -2]);
});

test('I64 beyond 2^53 is refused, at 2^53 − 1 read exactly', () => {
  const data = new Uint8Array(16);
  const v = new DataView(data.buffer);
  v.setBigInt64(0, -(2n ** 53n - 1n), true);
  v.setBigInt64(8, 2n ** 53n, true);
  const file = rawFile({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
  throwsWith(
    () => decodeSafetensors(file, 'ids.safetensors'),
    SafetensorsError,
    /ids\.safetensors/,
    /"big"/,
    /9007199254740992 at index 1/,
    /2\^53/,
  );
  v.setBigInt64(8, 2n ** 53n - 1n, true);
  assert.equal(
    [
      ...decodeSafetensors(rawFile({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data)).tensors.big
        .data,
    ],
    [-(2 ** 53 - 1), 2 ** 53 - 1],
  );
});

test('decode rejects: truncated, header length, bad JSON, dtype, shape vs offsets, overlaps, gaps, trailing bytes, duplicates, metadata', () => {
  const good = encodeSafetensors({
    a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    b: { dtype: 'I32', shape: [1], data: new Int32Array([3]) },
  });
  const E = SafetensorsError;
  throwsWith(() => decodeSafetensors(new Uint8Array(0), 'f.st'), E, /^f\.st: 0 bytes is too short/);
  throwsWith(() => decodeSafetensors(good.subarray(0, 5)), E, /^checkpoint: 5 bytes is too short.*truncated/);
  throwsWith(
    () => decodeSafetensors(good.subarray(0, 40)),
    E,
    /header length \d+ reaches past the end of the 40-byte file; truncated/,
  );
  throwsWith(
    () => decodeSafetensors(good.subarray(0, good.length - 2)),
    E,
    /tensor "b": data_offsets \[8, 12\] reach past the 10-byte data buffer; truncated/,
  );
  // a PNG, and a text file
  throwsWith(
    () => decodeSafetensors(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])),
    E,
    /header length \d+ exceeds the 100000000-byte limit; not a safetensors file/,
  );
  throwsWith(
    () => decodeSafetensors(new TextEncoder().encode('hello\0\0\0 world, this is text')),
    E,
    /not a safetensors file/,
  );
  const big = new Uint8Array(16);
  new DataView(big.buffer).setUint32(4, 1, true); // 2^32
  throwsWith(() => decodeSafetensors(big), E, /header length 4294967296 exceeds/);
  throwsWith(() => decodeSafetensors(rawFile('[1, 2, 3]')), E, /does not start with "\{"/);
  throwsWith(() => decodeSafetensors(rawFile('{"a": {"dtype": "F32",')), E, /not valid JSON/);
  const badUtf8 = rawFile('{"a":1}');
  badUtf8[10] = 0xff;
  throwsWith(() => decodeSafetensors(badUtf8), E, /not valid UTF-8/);
  const entry = (dtype: string, shape: unknown, offs: unknown) => ({ dtype, shape, data_offsets: offs });
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('Q7', [1], [0, 4]) }, new Uint8Array(4))),
    E,
    /tensor "a": unknown dtype "Q7"/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('BF16', [2], [0, 4]) }, new Uint8Array(4))),
    E,
    /dtype BF16 is not supported by this engine/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))),
    E,
    /"a": missing or non-string "dtype"/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('F32', [1, -1], [0, 4]) }, new Uint8Array(4))),
    E,
    /"a": shape \[1,-1\] must be a list of non-negative integers/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('F32', [3], [0, 8]) }, new Uint8Array(8))),
    E,
    /"a": F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('F32', [1], [4]) }, new Uint8Array(4))),
    E,
    /"data_offsets" must be \[begin, end\]/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('F32', [1], [8, 4]) }, new Uint8Array(8))),
    E,
    /end before they begin/,
  );
  throwsWith(
    () =>
      decodeSafetensors(rawFile({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [4, 12]) }, new Uint8Array(12))),
    E,
    /tensor "b" at \[4, 12\] overlaps tensor "a" \(which ends at 8\)/,
  );
  throwsWith(
    () =>
      decodeSafetensors(rawFile({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }, new Uint8Array(12))),
    E,
    /a gap of 4 bytes before tensor "b"/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('F32', [1], [4, 8]) }, new Uint8Array(8))),
    E,
    /a gap of 4 bytes before tensor "a"/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ a: entry('F32', [1], [0, 4]) }, new Uint8Array(6))),
    E,
    /2 bytes after the last tensor/,
  );
  throwsWith(
    () =>
      decodeSafetensors(
        rawFile(
          '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
          new Uint8Array(2),
        ),
      ),
    E,
    /the name "a" appears twice/,
  );
  throwsWith(
    () => decodeSafetensors(rawFile({ __metadata__: { epoch: 3 } })),
    E,
    /__metadata__ "epoch" is 3; metadata values must be strings/,
  );
  throwsWith(() => decodeSafetensors(rawFile({ __metadata__: ['x'] })), E, /__metadata__ must be an object/);
  throwsWith(() => decodeSafetensors(rawFile({ a: [1, 2] })), E, /tensor "a": entry must be an object/);
  // nested keys with the same name are not duplicates; "__proto__" is an ordinary name
  const ok = decodeSafetensors(
    rawFile(
      '{"__metadata__":{"a":"1"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__proto__":{"dtype":"U8","shape":[],"data_offsets":[1,2]}}',
      new Uint8Array([5, 6]),
    ),
  );
  assert.equal(Object.keys(ok.tensors), ['a', '__proto__']);
  // biome-ignore lint/suspicious/noProto: a tensor named __proto__ is what this test reads back
  assert.equal([...ok.tensors.__proto__.data], [6]);
  // an unpadded header is accepted (padding is for writers)
  assert.equal(
    [...decodeSafetensors(rawFile({ a: entry('U8', [1], [0, 1]) }, new Uint8Array([9]), false)).tensors.a.data],
    [9],
  );
});

test('encode rejects: unwritable dtype, wrong array type or length, bad shape, reserved name, non-string metadata', () => {
  const E = SafetensorsError;
  throwsWith(
    () => encodeSafetensors({ a: { dtype: 'F64' as 'F32', shape: [1], data: new Float32Array(1) } }),
    E,
    /"a": dtype "F64" cannot be written/,
  );
  throwsWith(
    () => encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Float64Array(1) as unknown as Float32Array } }),
    E,
    /"a": dtype F32 needs a Float32Array, got Float64Array/,
  );
  throwsWith(
    () => encodeSafetensors({ a: { dtype: 'I32', shape: [2, 2], data: new Int32Array(3) } }),
    E,
    /"a": shape \[2, 2\] has 4 elements but data has 3/,
  );
  throwsWith(
    () => encodeSafetensors({ a: { dtype: 'U8', shape: [1.5], data: new Uint8Array(1) } }),
    E,
    /must be a list of non-negative integers/,
  );
  throwsWith(
    () => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } }),
    E,
    /reserved/,
  );
  throwsWith(() => encodeSafetensors({}, { epoch: 3 as unknown as string }), E, /metadata "epoch" is a number/);
});

// ------------------------------------------------------------------ engine state

function cnnState(be: Backend = cpu) {
  const g = new Generator(7);
  const w = Tensor.from(
    be,
    Array.from(g.uniform(32 * 1 * 9), (x) => x - 0.5),
    [32, 1, 3, 3],
  );
  const b = Tensor.from(be, [0.5], [1]);
  const s = Tensor.from(be, [1.25], []);
  const c = Tensor.from(be, [3, -1, 0], [3], 'i32');
  return { tensors: { 'conv1.weight': w, 'conv1.bias': b, scale: s, counts: c }, g };
}

test('state → checkpoint → state: values, meta (config, epoch, rng) and model check', async () => {
  const { tensors, g } = cnnState();
  g.uniform(10);
  const meta = {
    model: 'cnn',
    config: { channels: [32, 64], lr: 1e-3 },
    epoch: 4,
    rng: g.state(),
    optimizer: { step: 1200 },
  };
  const bytes = await stateToSafetensors({ tensors, meta });
  const file = decodeSafetensors(bytes);
  assert.is(file.metadata.format, CHECKPOINT_FORMAT);
  assert.is(file.metadata.model, '"cnn"');
  assert.is(file.metadata.epoch, '4');
  const loaded = loadStateInto(bytes, tensors, cpu, { model: 'cnn' });
  assert.equal(loaded.meta, meta);
  assert.equal(Object.keys(loaded.tensors).sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) {
    const got = loaded.tensors[k];
    assert.ok(got !== t, 'new tensors');
    assert.is(got.dtype, t.dtype);
    assert.equal(got.shape, t.shape);
    assert.equal([...(await got.toArray())], [...Float32Array.from(await t.toArray())], k);
  }
  const g2 = new Generator(0);
  g2.setState(loaded.meta.rng as ReturnType<Generator['state']>);
  assert.equal([...g2.uniform(4)], [...g.uniform(4)], 'restored RNG continues the stream');
  // parseCheckpoint first (to read the config), then load from it
  const p = parseCheckpoint(bytes, { model: 'cnn' });
  assert.equal(p.meta.config, meta.config);
  assert.is(Object.keys(loadStateInto(p, tensors, cpu).tensors).length, 4);
});

test('state errors: reserved/unserialisable meta, disposed tensor', async () => {
  const { tensors } = cnnState();
  const rejects = async (p: Promise<unknown>, re: RegExp) => {
    try {
      await p;
    } catch (e) {
      assert.instance(e, CheckpointError);
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`expected a rejection matching ${re}`);
  };
  await rejects(stateToSafetensors({ tensors, meta: { format: 'mine' } }), /"format" is reserved/);
  await rejects(stateToSafetensors({ tensors, meta: { f: () => 1 } }), /meta "f" is function/);
  await rejects(stateToSafetensors({ tensors, meta: { n: 10n } }), /meta "n" cannot be written as JSON/);
  const t = Tensor.from(cpu, [1], [1]);
  t.dispose();
  await rejects(stateToSafetensors({ tensors: { t }, meta: {} }), /tensor "t" was disposed/);
});

test('load rejects: wrong shape (names tensor and both shapes), dtype, missing/unexpected names, model, format', async () => {
  const { tensors } = cnnState();
  const bytes = await stateToSafetensors({ tensors, meta: { model: 'cnn' } });
  const C = CheckpointError;
  const rgb = { ...tensors, 'conv1.weight': { shape: [32, 3, 3, 3], dtype: 'f32' as const } };
  throwsWith(
    () => loadStateInto(bytes, rgb, cpu, { name: 'cnn.safetensors' }),
    C,
    /^cnn\.safetensors: does not match the model: conv1\.weight: shape \[32, 1, 3, 3\] in the checkpoint, model wants \[32, 3, 3, 3\]$/,
  );
  const two = { ...rgb, scale: { shape: [1], dtype: 'f32' as const }, counts: { shape: [3], dtype: 'f32' as const } };
  throwsWith(
    () => loadStateInto(bytes, two, cpu),
    C,
    /conv1\.weight: shape/,
    /scale: shape \[\] in the checkpoint, model wants \[1\]/,
    /counts: dtype I32 in the checkpoint, model wants f32/,
  );
  const { scale: _s, ...fewer } = tensors;
  const more = {
    ...fewer,
    'fc.weight': { shape: [10, 4], dtype: 'f32' as const },
    'fc.bias': { shape: [10], dtype: 'f32' as const },
  };
  throwsWith(
    () => loadStateInto(bytes, more, cpu),
    C,
    /missing 2 tensors: fc\.weight, fc\.bias; 1 unexpected tensor: scale/,
  );
  throwsWith(() => loadStateInto(bytes, fewer, cpu), C, /1 unexpected tensor: scale/);
  // a cGAN checkpoint given to the CNN
  const gan = await stateToSafetensors({ tensors, meta: { model: 'cgan' } });
  throwsWith(
    () => loadStateInto(gan, tensors, cpu, { model: 'cnn', name: 'g.st' }),
    C,
    /^g\.st: a checkpoint of model "cgan", expected "cnn"$/,
  );
  throwsWith(
    () => loadStateInto(parseCheckpoint(gan), tensors, cpu, { model: 'cnn' }),
    C,
    /model "cgan", expected "cnn"/,
  );
  const anon = await stateToSafetensors({ tensors, meta: {} });
  throwsWith(
    () => loadStateInto(anon, tensors, cpu, { model: 'cnn' }),
    C,
    /names no model; expected a "cnn" checkpoint/,
  );
  // files not written by this engine, or by another version of it
  const plain = encodeSafetensors({ scale: { dtype: 'F32', shape: [], data: new Float32Array([1]) } });
  throwsWith(
    () => loadStateInto(plain, { scale: tensors.scale }, cpu),
    C,
    /no "format" metadata; not a checkpoint of this engine/,
  );
  const v3 = encodeSafetensors({}, { format: 'fmnist-webgpu-engine/3' });
  throwsWith(
    () => parseCheckpoint(v3),
    C,
    /format "fmnist-webgpu-engine\/3", expected "fmnist-webgpu-engine\/2" or "fmnist-webgpu-engine\/1" \(written by another version/,
  );
  throwsWith(
    () => parseCheckpoint(encodeSafetensors({}, { format: 'fmnist-webgpu-engine/1' }), { format: CHECKPOINT_FORMAT }),
    C,
    /format "fmnist-webgpu-engine\/1", expected "fmnist-webgpu-engine\/2" \(written/,
  );
  throwsWith(
    () => parseCheckpoint(encodeSafetensors({}, { format: CHECKPOINT_FORMAT, epoch: 'three' })),
    C,
    /metadata "epoch" is not JSON/,
  );
  // a corrupt file is a SafetensorsError, named
  throwsWith(
    () => loadStateInto(bytes.subarray(0, bytes.length - 1), tensors, cpu, { name: 'x.st' }),
    SafetensorsError,
    /^x\.st: /,
  );
});

test("a foreign file (Python's, F64 and I64) loads with format: null, converted to f32 and i32", async () => {
  const py = b64(PY_WIDE);
  throwsWith(() => parseCheckpoint(py), CheckpointError, /format "pt", expected/);
  const want = {
    y: { shape: [2], dtype: 'i32' as const },
    z: { shape: [], dtype: 'f32' as const },
    a: { shape: [2], dtype: 'f32' as const },
    b: { shape: [2], dtype: 'i32' as const },
  };
  throwsWith(() => loadStateInto(py, want, cpu, { format: null }), CheckpointError, /1 unexpected tensor: c/);
  throwsWith(
    () => loadStateInto(py, { ...want, c: { shape: [1], dtype: 'i32' } }, cpu, { format: null }),
    CheckpointError,
    /y: I64 value 1099511627776 at index 1 does not fit the model's i32/,
    /c: dtype U8 in the checkpoint, model wants i32/,
  );
  const small = encodeSafetensors({}, { format: 'pt' });
  assert.equal(parseCheckpoint(small, { format: null }).meta, {});
  assert.is(parseCheckpoint(small, { format: null }).format, 'pt');
  // F64 → f32 and (in range) I64 → i32, from a hand-made file
  const data = new Uint8Array(24);
  const v = new DataView(data.buffer);
  v.setFloat64(0, 0.1, true);
  v.setBigInt64(8, -7n, true);
  v.setBigInt64(16, 2147483647n, true);
  const f = rawFile(
    {
      __metadata__: { format: CHECKPOINT_FORMAT, epoch: '1' },
      x: { dtype: 'F64', shape: [], data_offsets: [0, 8] },
      n: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
    },
    data,
  );
  const got = loadStateInto(f, { x: { shape: [], dtype: 'f32' }, n: { shape: [2], dtype: 'i32' } }, cpu);
  assert.is((await got.tensors.x.toArray())[0], Math.fround(0.1));
  assert.equal([...(await got.tensors.n.toArray())], [-7, 2147483647]);
  assert.is(got.tensors.n.dtype, 'i32');
});

// ------------------------------------------------------------------ files

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ckpt-'));
}

test('writeFileAtomic: replaces the file; a failure mid-write leaves the old file and no temp file', () => {
  const dir = tmp();
  try {
    const path = join(dir, 'model.safetensors');
    const v1 = encodeSafetensors({ a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) } });
    writeFileAtomic(path, v1);
    assert.ok(sameBytes(new Uint8Array(readFileSync(path)), v1));
    const v2 = encodeSafetensors({ a: { dtype: 'U8', shape: [4], data: new Uint8Array([4, 5, 6, 7]) } });
    writeFileAtomic(path, v2);
    assert.ok(sameBytes(new Uint8Array(readFileSync(path)), v2));
    // the bytes fail to write after the temp file was opened
    const broken = new Proxy(v1, {
      get() {
        throw new Error('disk on fire');
      },
    });
    throwsWith(
      () => writeFileAtomic(path, broken),
      CheckpointFileError,
      /cannot write .*model\.safetensors \(the previous file, if any, is unchanged\)/,
    );
    assert.ok(sameBytes(new Uint8Array(readFileSync(path)), v2), 'previous checkpoint intact');
    assert.equal(readdirSync(dir), ['model.safetensors'], 'no temp file left');
    // the rename fails (the target is a directory): the directory stays, the temp file goes
    const d = join(dir, 'sub');
    mkdirSync(d);
    throwsWith(() => writeFileAtomic(d, v1), CheckpointFileError, /cannot write/);
    assert.equal(readdirSync(dir).sort(), ['model.safetensors', 'sub']);
    // the directory does not exist
    throwsWith(
      () => writeFileAtomic(join(dir, 'nope', 'x.st'), v1),
      CheckpointFileError,
      /cannot create .*nope.*x\.st\.tmp-\d+/,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('writeFileAtomic: a write cut short (file size limit, EFBIG in a child process) keeps the old file', () => {
  const index = fileURLToPath(new URL('../index.js', import.meta.url));
  if (!existsSync(index)) {
    console.log(`  (skipped: ${index} not built)`);
    return;
  }
  const dir = tmp();
  try {
    const path = join(dir, 'model.safetensors');
    const old = encodeSafetensors({ a: { dtype: 'U8', shape: [100], data: new Uint8Array(100).fill(1) } });
    writeFileAtomic(path, old);
    // `ulimit -f 8`: at most 8 KiB per file, so writing 64 KiB stops part way (Node ignores SIGXFSZ: EFBIG)
    const script = `import { writeFileAtomic, encodeSafetensors } from ${JSON.stringify(index)};
      try { writeFileAtomic(${JSON.stringify(path)}, encodeSafetensors({ big: { dtype: 'F32', shape: [16384], data: new Float32Array(16384).fill(2) } })); console.log('WROTE'); }
      catch (e) { console.log('FAILED ' + e.message); }`;
    writeFileSync(join(dir, 'child.mjs'), script);
    const r = spawnSync('bash', ['-c', `ulimit -f 8 && exec "${process.execPath}" child.mjs`], {
      cwd: dir,
      encoding: 'utf8',
      timeout: HANG_GUARD_MS,
    });
    assert.match(
      r.stdout,
      /FAILED cannot write .*File too large|FAILED .*EFBIG/,
      `child (${ended(r)}): ${r.stdout} ${r.stderr}`,
    );
    assert.ok(sameBytes(new Uint8Array(readFileSync(path)), old), 'previous checkpoint intact');
    assert.equal(readdirSync(dir).sort(), ['child.mjs', 'model.safetensors'], 'no temp file left');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('readCheckpoint: missing, a directory, not safetensors, truncated; saveCheckpoint round trip', async () => {
  const dir = tmp();
  try {
    throwsWith(() => readCheckpoint(join(dir, 'none.st')), CheckpointFileError, /checkpoint .*none\.st does not exist/);
    throwsWith(() => readCheckpoint(dir), CheckpointFileError, /is a directory/);
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'these are not the tensors you are looking for\n');
    throwsWith(
      () => readCheckpoint(txt),
      SafetensorsError,
      /notes\.txt: header length \d+ exceeds .* not a safetensors file/,
    );
    const { tensors } = cnnState();
    const path = join(dir, 'cnn.safetensors');
    await saveCheckpoint(path, { tensors, meta: { model: 'cnn', epoch: 1 } });
    const full = readFileSync(path);
    writeFileSync(join(dir, 'cut.st'), full.subarray(0, full.length - 100));
    throwsWith(() => readCheckpoint(join(dir, 'cut.st')), SafetensorsError, /cut\.st: .*truncated/);
    writeFileSync(join(dir, 'cut2.st'), full.subarray(0, 20));
    throwsWith(
      () => readCheckpoint(join(dir, 'cut2.st')),
      SafetensorsError,
      /cut2\.st: header length \d+ reaches past the end of the 20-byte file; truncated/,
    );
    const back = loadStateInto(readCheckpoint(path), tensors, cpu, { model: 'cnn', name: path });
    assert.equal(back.meta, { model: 'cnn', epoch: 1 });
    assert.equal([...(await back.tensors.counts.toArray())], [3, -1, 0]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('GPU tensors: saved and loaded back equal (on the GPU and on the CPU)', async () => {
  const be = await gpuBackend();
  const { tensors } = cnnState(be);
  const want = Object.fromEntries(
    await Promise.all(Object.entries(tensors).map(async ([k, t]) => [k, [...(await t.toArray())]] as const)),
  );
  const bytes = await stateToSafetensors({ tensors, meta: { model: 'cnn' } });
  const onGpu = loadStateInto(bytes, tensors, be, { model: 'cnn' });
  const onCpu = loadStateInto(bytes, tensors, cpu, { model: 'cnn' });
  for (const k of Object.keys(tensors)) {
    assert.is(onGpu.tensors[k].backend, be);
    assert.equal([...(await onGpu.tensors[k].toArray())], want[k], `${k} (GPU)`);
    assert.equal([...(await onCpu.tensors[k].toArray())], want[k], `${k} (CPU)`);
  }
  for (const t of [...Object.values(tensors), ...Object.values(onGpu.tensors)]) t.dispose();
});

test.run();
