// safetensors_crosscheck.mjs — checks src/nn/safetensors.ts against Hugging Face's own implementation (Python's
// `safetensors` package), when it is installed: (1) Python loads a file our encoder wrote and, saving the same
// tensors and metadata again, produces the same bytes; (2) our decoder reads a file Python wrote (F32, F64, I32,
// I64, U8; shapes [], [0, 3], …) to the same values. Not part of the test suite (which must not depend on Python);
// prints "skipped: …" and exits 0 when Python, numpy or safetensors is missing.
// Usage: node scripts/build.mjs && node scripts/safetensors_crosscheck.mjs   ($PYTHON picks the interpreter)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { encodeSafetensors, decodeSafetensors } = await import('../dist/index.js').catch(() => {
  console.error('dist/index.js is missing: run `node scripts/build.mjs` first');
  process.exit(1);
});

const python = process.env.PYTHON || 'python3';
const probe = spawnSync(python, ['-c', 'import numpy, safetensors; print(safetensors.__version__)'], {
  encoding: 'utf8',
});
if (probe.status !== 0) {
  console.log(
    `skipped: ${python} with numpy and safetensors not found (pip install safetensors numpy to run this check)`,
  );
  process.exit(0);
}
console.log(`Python safetensors ${probe.stdout.trim()}`);

const PY = `
import json, sys, numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save, save_file
d = sys.argv[1]
ours = open(d + '/ours.safetensors', 'rb').read()
tensors = load_file(d + '/ours.safetensors')
with safe_open(d + '/ours.safetensors', framework='np') as f:
    meta = f.metadata()
again = save(tensors, metadata=meta)
print('reencode', 'same' if again == ours else 'DIFFERENT')
rng = np.random.default_rng(0)
mine = {
    'f32': (rng.standard_normal((3, 17)) * 100).astype(np.float32),
    'f64': rng.standard_normal((2, 5)),
    'i32': rng.integers(-2**31, 2**31, size=(7,), dtype=np.int32),
    'i64': rng.integers(-2**53 + 1, 2**53, size=(4,), dtype=np.int64),
    'u8': rng.integers(0, 256, size=(2, 2, 2), dtype=np.uint8),
    'scalar': np.array(-0.25, dtype=np.float32),
    'empty': np.zeros((0, 3), dtype=np.float32),
    'ünï.name': np.array([1], dtype=np.int32),
}
save_file(mine, d + '/py.safetensors', metadata={'format': 'pt', 'note': 'héllo'})
json.dump({k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'values': v.ravel().tolist()} for k, v in mine.items()},
          open(d + '/py.json', 'w'))
`;

const dir = mkdtempSync(join(tmpdir(), 'st-cross-'));
let failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed++;
};
try {
  const w = new Float32Array(51).map((_, i) => Math.cos(i) * 1e4);
  w[1] = -0;
  w[2] = Infinity;
  w[3] = 1e-45;
  const ours = encodeSafetensors(
    {
      'conv1.weight': { dtype: 'F32', shape: [3, 17], data: w },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([NaN]) },
      step: { dtype: 'I32', shape: [1], data: new Int32Array([-2147483648]) },
      pixels: { dtype: 'U8', shape: [2, 3], data: new Uint8Array([0, 1, 127, 128, 254, 255]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      'ünïcode "name"': { dtype: 'I32', shape: [2], data: new Int32Array([7, -7]) },
    },
    { config: '{"lr":0.001,"note":"tab\\there é"}' },
  );
  writeFileSync(join(dir, 'ours.safetensors'), ours);
  const r = spawnSync(python, ['-c', PY, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}`);
  check(/reencode same/.test(r.stdout), 'Python reads our file, and saving it again gives our bytes exactly');

  const py = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'py.safetensors'))), 'py.safetensors');
  const want = JSON.parse(readFileSync(join(dir, 'py.json'), 'utf8'));
  const dtypes = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', uint8: 'U8' };
  check(
    Object.keys(py.metadata).length === 2 && py.metadata.format === 'pt' && py.metadata.note === 'héllo',
    'metadata read',
  );
  check(Object.keys(py.tensors).length === Object.keys(want).length, `${Object.keys(want).length} tensors read`);
  for (const [k, v] of Object.entries(want)) {
    const t = py.tensors[k];
    const same =
      t &&
      t.dtype === dtypes[v.dtype] &&
      JSON.stringify(t.shape) === JSON.stringify(v.shape) &&
      t.data.length === v.values.length &&
      v.values.every((x, i) => Object.is(x, t.data[i]) || x === t.data[i]);
    check(!!same, `${k}: ${v.dtype} [${v.shape}] values equal`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(failed ? `${failed} check(s) failed` : 'all checks passed');
process.exit(failed ? 1 : 0);
