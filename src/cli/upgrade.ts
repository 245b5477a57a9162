// cli/upgrade.ts — `node dist/cli.js upgrade`: a checkpoint of format 1 rewritten in format 2 (PyTorch's layout and
// names, src/nn/torch_layout.ts and checkpoint_v1.ts), every tensor and metadata entry kept, values exact, with the
// "preprocessing" and "conventions" entries format-2 files carry and "upgradedFrom" (the old format and SHA-256).
// Format-1 files load without it (converted on load); this is for files a PyTorch user opens as they are, e.g.
// the shipped classifier. Which tensors are Linear weights (and that the file holds the model's tensors at all)
// comes from the model the metadata names, built with its optimizer on the CPU reference (weights thrown away).
import type { Tensor } from '../autograd/tensor.js';
import { CpuBackend } from '../cpu/backend.js';
import { CHECKPOINT_FORMAT, CheckpointError, checkState, parseCheckpoint } from '../nn/checkpoint.js';
import { FORMAT_V1, v1ToV2Tensors } from '../nn/checkpoint_v1.js';
import { encodeSafetensors, type TensorToWrite } from '../nn/safetensors.js';
import { transposedNames } from '../nn/torch_layout.js';
import { cnnConventions, cnnPreprocessing, type CnnConfig } from '../models/cnn.js';
import { makeClassifier } from '../train/classifier.js';
import { cnnStateTensors } from '../app/cnn_run.js';
import { ganConventions, ganPreprocessing, type GanConfig } from '../gan/models.js';
import { makeGan } from '../gan/train.js';
import { ganStateTensors } from '../app/gan_run.js';
import { sha256 } from '../node/checkpoint.js';

/** format-1 checkpoint bytes → format-2 bytes (see the file's header); `name` for messages */
export function upgradeCheckpoint(bytes: Uint8Array, name: string): Uint8Array {
  const parsed = parseCheckpoint(bytes, { name });
  if (parsed.format === CHECKPOINT_FORMAT)
    throw new CheckpointError(`${name}: already format "${CHECKPOINT_FORMAT}"; nothing to upgrade`);
  const meta = parsed.meta as Record<string, unknown>;
  // every tensor a checkpoint of this model can hold (networks, weight average, Adam's moments), on the CPU reference
  const be = new CpuBackend();
  let all: Record<string, Tensor>, added: Record<string, unknown>;
  if (meta.model === 'cnn') {
    const c = meta.config as CnnConfig;
    all = cnnStateTensors(makeClassifier(be, 0, c));
    added = { preprocessing: cnnPreprocessing(), conventions: cnnConventions(c) };
  } else if (meta.model === 'cgan' || meta.model === 'acgan') {
    const c = meta.config as GanConfig;
    all = ganStateTensors(makeGan(be, c, { lr: 1e-3, beta1: 0.5, emaDecay: 0.999 }, 0));
    added = { preprocessing: ganPreprocessing(c), conventions: ganConventions(c) };
  } else
    throw new CheckpointError(
      `${name}: a checkpoint of model ${JSON.stringify(meta.model)}; upgrade knows cnn, cgan and acgan`,
    );
  // the file's tensors must be the model's (a slim file holds fewer): names, dtypes and shapes checked
  const present = Object.fromEntries(Object.entries(all).filter(([k]) => Object.hasOwn(parsed.file.tensors, k)));
  checkState(parsed, present, { name });
  const tensors: Record<string, TensorToWrite> = {};
  for (const [k, t] of Object.entries(v1ToV2Tensors(parsed.file.tensors, transposedNames(present)))) {
    // F64 and I64 (read, never written by this engine) are written as F32 and I32, as slim copies do; F16 stays F16
    const data =
      t.dtype === 'F64'
        ? Float32Array.from(t.data)
        : t.dtype === 'I64'
          ? Int32Array.from(t.data)
          : (t.data as Float32Array | Int32Array | Uint8Array);
    const dtype =
      t.dtype === 'F16' ? 'F16' : data instanceof Float32Array ? 'F32' : data instanceof Int32Array ? 'I32' : 'U8';
    tensors[k] = { dtype, shape: t.shape, data };
  }
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT };
  const entries = { ...meta, ...added, upgradedFrom: { format: FORMAT_V1, sha256: sha256(bytes) } };
  for (const [k, v] of Object.entries(entries)) metadata[k] = JSON.stringify(v);
  return encodeSafetensors(tensors, metadata);
}
