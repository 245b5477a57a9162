// models/cnn_load.ts — a trained CNN classifier from checkpoint bytes, in eval mode, without its optimizer: the
// evaluation's judge (src/app/cnn_run.ts adds the file and its SHA-256 check) and the playground's, which judges
// the class balance of what a GAN makes while it trains. Browser-clean.
import type { Backend } from '../autograd/backend.js';
import { Generator } from '../autograd/random.js';
import { assignState, parseCheckpoint, withoutTensors } from '../nn/checkpoint.js';
import { decodeSafetensors } from '../nn/safetensors.js';
import { Cnn, type CnnConfig } from './cnn.js';

const isOptimizerTensor = (k: string) => k.startsWith('optim.');

/** the CNN of a full training checkpoint (its Adam moments ignored) or a slim one; CheckpointError for another model */
export function cnnFromCheckpoint(
  be: Backend,
  bytes: Uint8Array,
  name: string,
): { model: Cnn; meta: Record<string, unknown> } {
  const parsed = withoutTensors(
    parseCheckpoint(decodeSafetensors(bytes, name), { model: 'cnn', name }),
    isOptimizerTensor,
  );
  const model = new Cnn(be, new Generator(0), parsed.meta.config as CnnConfig);
  try {
    assignState(parsed, model.stateDict(), { model: 'cnn', name });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return { model, meta: parsed.meta };
}
