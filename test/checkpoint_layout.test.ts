// checkpoint_layout.test.ts — checkpoint format 2, PyTorch's layout (issue 26), on the CPU reference: Linear
// weights and their Adam moments are written [out, in] and read back [in, out]; a GAN's moments live under
// optim.; files of format 1 (written before) load to the same values, and `upgrade` rewrites them exactly;
// PyTorch's num_batches_tracked is accepted beside a batchnorm only; shape errors speak of the file's layout; the
// shipped classifier is in format 2 and names its format-1 original. test/torch_interop.test.ts checks the same
// files against PyTorch itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Generator } from '../src/autograd/random.js';
import type { Tensor } from '../src/autograd/tensor.js';
import {
  assignState,
  CHECKPOINT_FORMAT,
  CheckpointError,
  loadStateInto,
  parseCheckpoint,
  stateToSafetensors,
} from '../src/nn/checkpoint.js';
import { FORMAT_V1, v2Name } from '../src/nn/checkpoint_v1.js';
import { decodeSafetensors, encodeSafetensors, type Safetensors, type TensorToWrite } from '../src/nn/safetensors.js';
import { transposedNames } from '../src/nn/torch_layout.js';
import { Cnn, type CnnConfig } from '../src/models/cnn.js';
import { makeClassifier } from '../src/train/classifier.js';
import { cnnStateTensors, SHIPPED_CLASSIFIER } from '../src/app/cnn_run.js';
import { makeGan } from '../src/gan/train.js';
import { ganStateTensors } from '../src/app/gan_run.js';
import { loadGanModels } from '../src/gan/load.js';
import type { GanConfig } from '../src/gan/models.js';
import { upgradeCheckpoint } from '../src/cli/upgrade.js';
import { sha256 } from '../src/node/checkpoint.js';
import { cpu } from './harness.js';

const TINY: CnnConfig = { channels: [2, 3], dense: 5, dropout: 0.2, bnMomentum: 0.01, bnEps: 1e-3, classes: 4 };
const GAN: GanConfig = {
  kind: 'acgan',
  noiseDim: 4,
  embedDim: 3,
  classes: 10,
  gMaps: 2,
  gMid: 2,
  dChannels: [2, 2, 2, 2],
  dropout: 0.5,
  bnMomentum: 0.01,
};

/** every f32 tensor redrawn (distinct values everywhere, so a transpose or a mix-up shows) */
function redraw(tensors: Record<string, Tensor>, seed: number): void {
  const g = new Generator(seed);
  for (const t of Object.values(tensors)) if (t.dtype === 'f32') t.assign(Float32Array.from(g.normal(t.size)));
}
const values = async (ts: Record<string, Tensor>) =>
  Object.fromEntries(
    await Promise.all(Object.entries(ts).map(async ([k, t]) => [k, Array.from(await t.toArray())] as const)),
  );

/** what the engine wrote before format 2: every tensor as it is in the engine, a GAN's moments under its network */
async function v1Bytes(tensors: Record<string, Tensor>, meta: Record<string, unknown>): Promise<Uint8Array> {
  const out: Record<string, TensorToWrite> = {};
  for (const [k, t] of Object.entries(tensors)) {
    const m = /^optim\.([mv])\.([GD])\.(.+)$/.exec(k);
    out[m ? `${m[2]}.optim.${m[1]}.${m[3]}` : k] = {
      dtype: 'F32',
      shape: [...t.shape],
      data: Float32Array.from(await t.toArray()),
    };
  }
  const metadata: Record<string, string> = { format: FORMAT_V1 };
  for (const [k, v] of Object.entries(meta)) metadata[k] = JSON.stringify(v);
  return encodeSafetensors(out, metadata);
}

function throwsWith(fn: () => unknown, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CheckpointError, `wrong error class: ${e}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable(`expected a CheckpointError matching ${patterns.join(' ')}`);
}

test('the CNN: Linear weights and their moments written [out, in], everything else as the engine holds it; read back exactly', async () => {
  const st = makeClassifier(cpu, 1, TINY);
  const tensors = cnnStateTensors(st);
  redraw(tensors, 2);
  const want = await values(tensors);
  const file = decodeSafetensors(await stateToSafetensors({ tensors, meta: { model: 'cnn', config: TINY } }));
  assert.is(file.metadata.format, CHECKPOINT_FORMAT);
  assert.equal([...transposedNames(tensors)].sort(), [
    'dense.fc.weight',
    'optim.m.dense.fc.weight',
    'optim.m.out.weight',
    'optim.v.dense.fc.weight',
    'optim.v.out.weight',
    'out.weight',
  ]);
  const fc = st.model.dense.layers[1] as unknown as { weight: Tensor };
  assert.equal(fc.weight.shape, [588, 5], 'the engine: [in, out]');
  for (const k of ['dense.fc.weight', 'optim.v.dense.fc.weight']) {
    assert.equal(file.tensors[k].shape, [5, 588], `${k}: PyTorch's [out, in] in the file`);
    for (let o = 0; o < 5; o++)
      for (let i = 0; i < 588; i++) assert.is(file.tensors[k].data[o * 588 + i], want[k][i * 5 + o]);
  }
  for (const [k, t] of Object.entries(tensors))
    if (!k.includes('fc.weight') && !k.includes('out.weight')) assert.equal(file.tensors[k].shape, [...t.shape], k);
  // back into a fresh model and optimizer: the same values, in the engine's layout
  const other = makeClassifier(cpu, 9, TINY);
  assignState(parseCheckpoint(encodeAgain(file)), cnnStateTensors(other));
  assert.equal(await values(cnnStateTensors(other)), want);
  const loaded = loadStateInto(encodeAgain(file), tensors, cpu);
  assert.equal(await values(loaded.tensors), want);
  assert.ok(transposedNames(loaded.tensors).has('out.weight'), 'a loaded Linear weight is marked too');
});

const encodeAgain = (f: Safetensors) =>
  encodeSafetensors(
    Object.fromEntries(
      Object.entries(f.tensors).map(([k, t]) => [
        k,
        { dtype: t.dtype as 'F32', shape: t.shape, data: t.data as Float32Array },
      ]),
    ),
    f.metadata,
  );

test('a GAN: networks under G., G_ema., D. as their state_dicts, moments under optim.; format 1 loads to the same values', async () => {
  const s = makeGan(cpu, GAN, { lr: 2e-4, beta1: 0.5, emaDecay: 0.999 }, 3);
  const tensors = ganStateTensors(s);
  redraw(tensors, 4);
  const want = await values(tensors);
  const meta = { model: 'acgan', config: GAN };
  const v2 = await stateToSafetensors({ tensors, meta });
  const names = Object.keys(decodeSafetensors(v2).tensors);
  assert.ok(names.includes('optim.m.G.noise_fc.weight') && names.includes('optim.v.D.cls.weight'));
  assert.not.ok(
    names.some((n) => /^[GD]\.optim\./.test(n)),
    'no moments under a network',
  );
  assert.is(decodeSafetensors(v2).tensors['D.cls.weight'].shape.join(), '10,98', 'D.cls.weight [classes, features]');
  assert.is(decodeSafetensors(v2).tensors['G_ema.label_fc.weight'].shape.join(), '49,3');
  const v1 = await v1Bytes(tensors, meta);
  assert.ok(Object.keys(decodeSafetensors(v1).tensors).includes('G.optim.m.noise_fc.weight'), 'the old names');
  assert.is(parseCheckpoint(v1).format, FORMAT_V1);
  assert.ok('optim.m.G.noise_fc.weight' in parseCheckpoint(v1).file.tensors, 'renamed on parsing');
  for (const bytes of [v1, v2]) {
    const other = makeGan(cpu, GAN, { lr: 2e-4, beta1: 0.5, emaDecay: 0.999 }, 8);
    assignState(parseCheckpoint(bytes), ganStateTensors(other));
    assert.equal(await values(ganStateTensors(other)), want, parseCheckpoint(bytes).format!);
    // and for sampling: G is the weight average
    const m = loadGanModels(cpu, bytes);
    assert.equal(Array.from(await m.G.labelFc.weight.toArray()), want['G_ema.label_fc.weight']);
    assert.equal(Array.from(await m.D.advHead.weight.toArray()), want['D.adv.weight']);
  }
  assert.is(v2Name('G.optim.v.bn1.weight'), 'optim.v.G.bn1.weight');
  assert.is(v2Name('D.conv1.weight'), 'D.conv1.weight');
  assert.is(v2Name('optim.m.body.conv1.weight'), 'optim.m.body.conv1.weight');
});

test('upgrade: format 1 → format 2 bytes holding what saving the model now writes, with conventions and the old SHA-256', async () => {
  const st = makeClassifier(cpu, 1, TINY);
  const tensors = cnnStateTensors(st);
  redraw(tensors, 5);
  const meta = { model: 'cnn', config: TINY, epoch: 3 };
  const old = await v1Bytes(tensors, meta);
  const up = decodeSafetensors(upgradeCheckpoint(old, 'old.safetensors'));
  const now = decodeSafetensors(await stateToSafetensors({ tensors, meta }));
  assert.equal(Object.keys(up.tensors).sort(), Object.keys(now.tensors).sort());
  for (const [k, t] of Object.entries(now.tensors)) {
    assert.equal(up.tensors[k].shape, t.shape, k);
    assert.equal(Array.from(up.tensors[k].data), Array.from(t.data), k);
  }
  assert.is(up.metadata.format, CHECKPOINT_FORMAT);
  assert.is(JSON.parse(up.metadata.epoch), 3);
  assert.equal(JSON.parse(up.metadata.upgradedFrom), { format: FORMAT_V1, sha256: sha256(old) });
  assert.is(JSON.parse(up.metadata.conventions).batchnorm.eps, 1e-3);
  assert.is(JSON.parse(up.metadata.preprocessing).scale, 1 / 255);
  throwsWith(
    () => upgradeCheckpoint(upgradeCheckpoint(old, 'a'), 'b.safetensors'),
    /b\.safetensors: already format "fmnist-webgpu-engine\/2"/,
  );
  // a file that is not the model its metadata names is refused, not transposed blindly
  const wrong = await v1Bytes(tensors, { ...meta, config: { ...TINY, dense: 6 } });
  throwsWith(
    () => upgradeCheckpoint(wrong, 'w.safetensors'),
    /w\.safetensors: does not match the model: dense\.fc\.weight: shape \[588, 5\] in the checkpoint, model wants \[588, 6\]/,
  );
  // a GAN too: the same tensors as format 2 writes them
  const s = makeGan(cpu, GAN, { lr: 2e-4, beta1: 0.5, emaDecay: 0.999 }, 3);
  const gt = ganStateTensors(s);
  redraw(gt, 6);
  const gm = { model: 'acgan', config: GAN };
  const gup = decodeSafetensors(upgradeCheckpoint(await v1Bytes(gt, gm), 'g'));
  const gnow = decodeSafetensors(await stateToSafetensors({ tensors: gt, meta: gm }));
  for (const [k, t] of Object.entries(gnow.tensors)) assert.equal(gup.tensors[k].data.join(), t.data.join(), k);
  assert.is(Object.keys(gup.tensors).length, Object.keys(gnow.tensors).length);
});

test("num_batches_tracked (PyTorch's) is dropped beside a batchnorm and unexpected elsewhere; shape errors in the file's layout", async () => {
  const m = new Cnn(cpu, new Generator(0), TINY);
  const sd = m.stateDict();
  const file = decodeSafetensors(await stateToSafetensors({ tensors: sd, meta: { model: 'cnn' } }));
  const counter = { dtype: 'I32' as const, shape: [] as number[], data: new Int32Array([7]) };
  const withCounters = (names: string[]) => {
    const f = encodeAgain(file);
    const d = decodeSafetensors(f);
    const out: Record<string, TensorToWrite> = Object.fromEntries(
      Object.entries(d.tensors).map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data as Float32Array }]),
    );
    for (const n of names) out[n] = counter;
    return encodeSafetensors(out, d.metadata);
  };
  assignState(parseCheckpoint(withCounters(['body.bn1.num_batches_tracked', 'dense.bn.num_batches_tracked'])), sd);
  throwsWith(
    () => assignState(parseCheckpoint(withCounters(['body.conv1.num_batches_tracked'])), sd),
    /1 unexpected tensor: body\.conv1\.num_batches_tracked/,
  );
  // a model with a wider dense layer: the message gives the shape as the file holds it, [out, in]
  const wide = new Cnn(cpu, new Generator(0), { ...TINY, dense: 6 });
  throwsWith(
    () => assignState(parseCheckpoint(encodeAgain(file)), wide.stateDict()),
    /dense\.fc\.weight: shape \[5, 588\] in the checkpoint, model wants \[6, 588\] \(\[out, in\], as PyTorch\)/,
    /dense\.bn\.weight: shape \[5\] in the checkpoint, model wants \[6\]/,
  );
  m.dispose();
  wide.dispose();
});

test("the shipped classifier is in format 2 (PyTorch's layout), with its conventions and its format-1 original's SHA-256", () => {
  const p = parseCheckpoint(new Uint8Array(readFileSync(SHIPPED_CLASSIFIER)), { model: 'cnn' });
  assert.is(p.format, CHECKPOINT_FORMAT);
  assert.equal(p.file.tensors['dense.fc.weight'].shape, [128, 1152]);
  assert.equal(p.meta.upgradedFrom, {
    format: FORMAT_V1,
    sha256: 'a3b2a758791deaea3bba151426a536901ccf13c4d8811f7b07c46f3c838aca90',
  });
  const c = p.meta.conventions as { batchnorm: { eps: number; momentum: number }; layerOrder: string };
  assert.equal(c.batchnorm, { ...c.batchnorm, eps: 1e-3, momentum: 0.01 });
  assert.match(c.layerOrder, /ReLU BEFORE batchnorm/);
  assert.equal(p.meta.preprocessing, { ...(p.meta.preprocessing as object), scale: 1 / 255, offset: 0 });
});

test.run();
