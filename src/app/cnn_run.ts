// app/cnn_run.ts — one CNN training run as the CLI does it: a run directory with metrics.jsonl, loss and
// accuracy curves (SVG), the confusion matrix (SVG), per-class accuracy, and a checkpoint after every epoch
// (atomic; `last.safetensors`, plus `best.safetensors` for the best validation accuracy). Resumable.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RunDir, resumingFrom } from './run_dir.js';
import type { Backend } from '../autograd/backend.js';
import {
  trainClassifier,
  makeClassifier,
  type ClassifierOptions,
  type ClassifierPosition,
  type TrainState,
  type EpochMetrics,
  type EvalResult,
  evaluate,
  prepareData,
} from '../train/classifier.js';
import type { FashionMnist } from '../data/dataset.js';
import { CLASS_NAMES } from '../data/dataset.js';
import { lineChart, confusionMatrix } from '../report/svg.js';
import { saveCheckpoint, readCheckpoint, readCheckpointBytes, sha256, writeWithHash } from '../node/checkpoint.js';
import { parseCheckpoint, assignState, slimCheckpointBytes } from '../nn/checkpoint.js';
import { type Cnn, cnnConventions, cnnPreprocessing, type CnnConfig } from '../models/cnn.js';
import { cnnFromCheckpoint } from '../models/cnn_load.js';
import type { Tensor } from '../autograd/tensor.js';

export function cnnStateTensors(state: TrainState): Record<string, Tensor> {
  const names = state.model.namedParameters().map(([n]) => n);
  return { ...state.model.stateDict(), ...state.opt.stateTensors(names) };
}

export async function saveCnn(
  path: string,
  state: TrainState,
  opts: ClassifierOptions,
  epoch: number,
  step: number,
  position?: ClassifierPosition,
): Promise<void> {
  await saveCheckpoint(path, {
    tensors: cnnStateTensors(state),
    meta: {
      model: 'cnn',
      config: state.model.config,
      preprocessing: cnnPreprocessing(),
      conventions: cnnConventions(state.model.config),
      epoch,
      step,
      position: position ?? null,
      rng: { model: state.gen.state(), data: state.dataGen.state() },
      optimizer: { kind: 'adam', step: state.opt.stepCount, lr: state.opt.lr },
      history: state.history,
      best: state.best,
      options: {
        ...opts,
        onEpoch: undefined,
        onProgress: undefined,
        resume: undefined,
        config: undefined,
        shouldStop: undefined,
        onInterrupt: undefined,
        extraTrain: undefined,
      },
    },
  });
}

/** rebuild a CNN (and its optimizer and RNG streams) from a checkpoint */
export function loadCnn(be: Backend, path: string, lr?: number): { state: TrainState; meta: Record<string, unknown> } {
  const parsed = parseCheckpoint(readCheckpoint(path), { model: 'cnn', name: path });
  const meta = parsed.meta;
  const config = meta.config as CnnConfig;
  const optMeta = meta.optimizer as { step: number; lr: number };
  const state = makeClassifier(be, 0, config, lr ?? optMeta.lr);
  assignState(parsed, cnnStateTensors(state), { model: 'cnn', name: path });
  const rng = meta.rng as { model: { seed: number; calls: number }; data: { seed: number; calls: number } };
  state.gen.setState(rng.model);
  state.dataGen.setState(rng.data);
  state.opt.stepCount = optMeta.step;
  state.history = (meta.history as EpochMetrics[]) ?? [];
  state.best = (meta.best as TrainState['best']) ?? null;
  return { state, meta };
}

/** the evaluation classifier shipped in the repo (the FID ruler), with `<file>.sha256` beside it */
export const SHIPPED_CLASSIFIER = 'models/eval-classifier.safetensors';

const isOptimizerTensor = (k: string) => k.startsWith('optim.');

export interface Classifier {
  model: Cnn;
  meta: Record<string, unknown>;
  path: string;
  /** SHA-256 of the file: names the ruler in FID results */
  sha256: string;
}

const SHIP_CLASSIFIER = (path: string) => `\`npm run eval -- cnn --checkpoint FILE --ship ${path}\``;

/**
 * A trained CNN alone, in eval mode, from a full training checkpoint (its Adam moments are ignored) or a slim
 * one (`eval cnn --ship`). When `<path>.sha256` exists (as beside the shipped classifier) the file must match it:
 * FID values on another ruler are not comparable, so a changed file is refused.
 */
export function loadClassifier(be: Backend, path: string): Classifier {
  const bytes = readCheckpointBytes(path, SHIP_CLASSIFIER(path));
  const { model, meta } = cnnFromCheckpoint(be, bytes, path);
  return { model, meta, path, sha256: sha256(bytes) };
}

/**
 * Write a slim copy of a CNN checkpoint (weights and batchnorm statistics, no optimizer moments or resume
 * position; `extraMeta` added, e.g. its test accuracy) to `out`, and `<out>.sha256` beside it; returns the hash.
 */
export function shipClassifier(path: string, out: string, extraMeta: Record<string, unknown>): string {
  const parsed = parseCheckpoint(readCheckpoint(path), { model: 'cnn', name: path });
  const bytes = slimCheckpointBytes(parsed, isOptimizerTensor, ['position'], {
    ...extraMeta,
    shippedFrom: basename(path),
  });
  mkdirSync(dirname(out), { recursive: true });
  return writeWithHash(out, bytes);
}

export interface CnnRunResult {
  /** null when interrupted */
  test: EvalResult | null;
  interrupted: boolean;
  history: EpochMetrics[];
  checkpoint: string | null;
  seconds: number;
}

export async function runCnn(
  be: Backend,
  data: FashionMnist,
  opts: ClassifierOptions,
  outDir: string | null,
  resumePath?: string,
  log: (s: string) => void = console.log,
): Promise<CnnRunResult> {
  const t0 = performance.now();
  let state: TrainState | undefined;
  if (resumePath) {
    const loaded = loadCnn(be, resumePath, opts.lr);
    state = loaded.state;
    const m = loaded.meta as { epoch: number; step: number; position: ClassifierPosition | null };
    opts = {
      ...opts,
      resume: {
        epoch: m.epoch,
        step: m.step,
        history: state.history,
        best: state.best,
        position: m.position ?? undefined,
      },
    };
    log(resumingFrom(resumePath, m.epoch, m.position?.inEpoch, m.step));
  }
  const dir = outDir ? new RunDir(outDir) : null;
  const userOnEpoch = opts.onEpoch;
  const res = await trainClassifier(
    be,
    data,
    {
      ...opts,
      onInterrupt: async (p, st, step) => {
        if (outDir) await saveCnn(join(outDir, 'last.safetensors'), st, opts, p.epoch, step, p);
      },
      onEpoch: async (m, st) => {
        await userOnEpoch?.(m, st);
        log(
          `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} acc ${(100 * m.trainAcc).toFixed(2)}% | val loss ${m.valLoss.toFixed(4)} acc ${(100 * m.valAcc).toFixed(2)}% | ${m.imgPerSec.toFixed(0)} img/s, ${m.seconds.toFixed(1)} s${m.tuneSeconds ? ` (+ ${m.tuneSeconds.toFixed(1)} s timing conv tiles)` : ''}`,
        );
        if (!dir) return;
        dir.appendMetrics(m);
        await saveCnn(dir.path('last.safetensors'), st, opts, m.epoch, m.step);
        if (st.best?.epoch === m.epoch) await saveCnn(dir.path('best.safetensors'), st, opts, m.epoch, m.step);
        dir.writeCharts(cnnCharts(st.history));
      },
    },
    state,
  );
  const seconds = (performance.now() - t0) / 1000;
  if (res.interrupted || !res.test)
    return {
      test: null,
      interrupted: true,
      history: res.state.history,
      checkpoint: outDir ? join(outDir, 'last.safetensors') : null,
      seconds,
    };
  if (outDir) {
    writeFileSync(
      join(outDir, 'confusion.svg'),
      confusionMatrix(
        `Test confusion matrix (accuracy ${(100 * res.test.acc).toFixed(2)}%)`,
        res.test.confusion,
        CLASS_NAMES,
      ),
    );
    writeFileSync(
      join(outDir, 'summary.json'),
      JSON.stringify({ test: res.test, best: res.state.best, epochs: res.state.history.length, seconds }, null, 2),
    );
  }
  return {
    test: res.test,
    interrupted: false,
    history: res.state.history,
    checkpoint: outDir ? join(outDir, 'best.safetensors') : null,
    seconds,
  };
}

/** the run's charts by file name: loss and accuracy, training beside validation */
function cnnCharts(h: EpochMetrics[]): Record<string, string> {
  const x = h.map((m) => m.epoch);
  return {
    'loss.svg': lineChart('Cross-entropy loss', 'epoch', [
      { name: 'train', x, y: h.map((m) => m.trainLoss) },
      { name: 'validation', x, y: h.map((m) => m.valLoss) },
    ]),
    'accuracy.svg': lineChart('Accuracy', 'epoch', [
      { name: 'train', x, y: h.map((m) => m.trainAcc) },
      { name: 'validation', x, y: h.map((m) => m.valAcc) },
    ]),
  };
}

/** test accuracy of a saved CNN (full or slim checkpoint) */
export async function evalCnn(be: Backend, data: FashionMnist, path: string, testSubset?: number): Promise<EvalResult> {
  // the model alone: a full training checkpoint or a slim one (the shipped classifier) alike
  const { model } = loadClassifier(be, path);
  try {
    const { test } = prepareData(data, { valFraction: 0, seed: 0, testSubset });
    return await evaluate(be, model, test);
  } finally {
    model.dispose();
  }
}
