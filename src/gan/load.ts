// gan/load.ts — a GAN's two networks from checkpoint bytes, without the optimizer: what the browser playground
// and any inference-only user need. Browser-clean (no Node built-ins): the bytes come from fetch(), a file
// picker or readFileSync. Accepts a full training checkpoint (G, D, their Adam moments: the moments are ignored)
// or a slim one written by slimGanCheckpoint (G and D weights only, a quarter of the size). A checkpoint of a run
// that kept a weight average of its generator (G_ema, src/nn/ema.ts) gives that average as G unless the trained
// weights are asked for.
import type { Backend } from '../autograd/backend.js';
import { Generator } from '../autograd/random.js';
import type { Tensor } from '../autograd/tensor.js';
import {
  CheckpointError,
  type ParsedCheckpoint,
  assignState,
  parseCheckpoint,
  renameTensors,
  slimCheckpointBytes,
  withoutTensors,
} from '../nn/checkpoint.js';
import type { Safetensors } from '../nn/safetensors.js';
import { type GanConfig, GanDiscriminator, GanGenerator } from './models.js';

export interface GanModels {
  G: GanGenerator;
  D: GanDiscriminator;
  config: GanConfig;
  /** the checkpoint's metadata (model, preset, epoch, step, history, …) */
  meta: Record<string, any>;
  /** which weights G holds: the run's weight average (G_ema) or the trained weights */
  weights: GanWeights;
}

/** 'average': the generator's weight average where the checkpoint has one (else the trained weights); 'trained': G
/** itself */
export type GanWeights = 'average' | 'trained';

/** the networks' tensors by checkpoint name ("G.up1.weight", "D.bn2.running_mean", …): weights and buffers */
export function ganModelTensors(G: GanGenerator, D: GanDiscriminator): Record<string, Tensor> {
  const pre = (p: string, r: Record<string, Tensor>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [`${p}${k}`, v]));
  return { ...pre('G.', G.stateDict()), ...pre('D.', D.stateDict()) };
}

/** Adam's moments: optim.m.G.up1.weight (format 1's G.optim.m.up1.weight is renamed so on parsing) */
const isOptimizerTensor = (k: string) => k.startsWith('optim.');
const AVERAGE = 'G_ema.';

/** the checkpoint with G's tensors taken from the weight average (renamed G_ema.* → G.*), or without the average */
const pickGenerator = (parsed: ParsedCheckpoint, average: boolean): ParsedCheckpoint =>
  renameTensors(parsed, (k) => {
    if (k.startsWith(AVERAGE)) return average ? `G.${k.slice(AVERAGE.length)}` : null; // the average becomes G, or goes
    return average && k.startsWith('G.') ? null : k; // the trained G gives way to the average
  });

/** the checkpoint without its optimizer tensors (the networks' weights only) */
const modelOnly = (parsed: ParsedCheckpoint) => withoutTensors(parsed, isOptimizerTensor);

/**
 * Build G and D from checkpoint bytes (in eval mode: batchnorm uses its running statistics, dropout is off).
 * Throws SafetensorsError for a damaged file, CheckpointError for a file that is not a GAN of this engine.
 */
export function loadGanModels(
  be: Backend,
  src: Uint8Array | Safetensors | ParsedCheckpoint,
  name = 'checkpoint',
  weights: GanWeights = 'average',
): GanModels {
  const parsed = 'file' in src && 'meta' in src ? src : parseCheckpoint(src, { name });
  const meta = parsed.meta as Record<string, any>;
  if (meta.model !== 'cgan' && meta.model !== 'acgan')
    throw new CheckpointError(
      `${name}: a checkpoint of model ${JSON.stringify(meta.model)}, not a GAN (cgan or acgan)`,
    );
  const config = meta.config as GanConfig;
  if (!config || typeof config.noiseDim !== 'number')
    throw new CheckpointError(`${name}: no GAN configuration in the metadata`);
  // the initial weights are drawn and then overwritten: any seed does
  const gen = new Generator(0);
  const G = new GanGenerator(be, gen, config);
  const D = new GanDiscriminator(be, gen, config);
  const names = Object.keys(parsed.file.tensors);
  const average = weights === 'average' && names.some((k) => k.startsWith(AVERAGE));
  if (!average && !names.some((k) => k.startsWith('G.')) && names.some((k) => k.startsWith(AVERAGE)))
    throw new CheckpointError(
      `${name}: holds the generator's weight average only (a shipped file), not its trained weights; leave out --weights trained`,
    );
  try {
    assignState(pickGenerator(modelOnly(parsed), average), ganModelTensors(G, D), { name });
  } catch (e) {
    for (const t of Object.values(ganModelTensors(G, D))) t.dispose();
    throw e;
  }
  G.eval();
  D.eval();
  return { G, D, config, meta, weights: average ? 'average' : 'trained' };
}

/** a slim copy of a GAN checkpoint: the same metadata (less the resume position), G and D weights, no optimizer moments
/** */
export function slimGanCheckpoint(bytes: Uint8Array, name = 'checkpoint'): Uint8Array {
  const parsed = parseCheckpoint(bytes, { name });
  const meta = parsed.meta as Record<string, any>;
  if (meta.model !== 'cgan' && meta.model !== 'acgan')
    throw new CheckpointError(`${name}: a checkpoint of model ${JSON.stringify(meta.model)}, not a GAN`);
  return slimCheckpointBytes(parsed, isOptimizerTensor, ['position']);
}

/** tensors stored as F16 in a shipped GAN: weights of at least this many values (biases, batchnorm stay F32) */
export const SHIP_HALF_MIN = 4096;

/**
 * The file the repo ships for a GAN (models/cgan.safetensors): the networks a user samples and evaluates with,
 * nothing for training — the generator's weight average where the run kept one (else its trained weights) and
 * the discriminator, no optimizer moments, no resume position; weights of ≥ SHIP_HALF_MIN values stored as F16
 * (half the bytes; the scores are checked to stay the same). `extraMeta` (e.g. where it came from) is added.
 */
export function shipGanBytes(
  bytes: Uint8Array,
  name = 'checkpoint',
  extraMeta: Record<string, unknown> = {},
): Uint8Array {
  const parsed = parseCheckpoint(bytes, { name });
  const meta = parsed.meta as Record<string, any>;
  if (meta.model !== 'cgan' && meta.model !== 'acgan')
    throw new CheckpointError(`${name}: a checkpoint of model ${JSON.stringify(meta.model)}, not a GAN`);
  const hasAverage = Object.keys(parsed.file.tensors).some((k) => k.startsWith(AVERAGE));
  const drop = (k: string) => isOptimizerTensor(k) || (hasAverage && k.startsWith('G.'));
  const half = (k: string, shape: readonly number[]) =>
    k.endsWith('.weight') && shape.reduce((a, b) => a * b, 1) >= SHIP_HALF_MIN;
  const shipped = {
    weights: hasAverage ? 'average' : 'trained',
    storage: `F16 for weights of >= ${SHIP_HALF_MIN} values, F32 otherwise`,
    ...extraMeta,
  };
  return slimCheckpointBytes(parsed, drop, ['position', 'rng'], { shipped }, half);
}
