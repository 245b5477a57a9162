// cli/main.ts — the command line: `node dist/cli.js <command> [model] [flags]` (npm run train / eval call it).
// Errors are one line on stderr saying what is wrong and how to fix it; exit 2 for usage errors, 1 for runtime
// errors; --verbose adds the stack trace.
import { nodeGpu, releaseNodeGpu } from '../node/gpu.js';
import { describeGpu, NoAdapterError } from '../kernels/device.js';
import { GpuBackend } from '../kernels/backend.js';
import type { Gpu } from '../kernels/gpu.js';
import { parseFlags, helpText, UsageError, type FlagSpec, type Flags } from './args.js';
import { ProgressLine, fmtTime } from './progress.js';
import { loadFashionMnist, DataError } from '../node/fashion_mnist.js';
import { runCnn, evalCnn, shipClassifier, SHIPPED_CLASSIFIER } from '../app/cnn_run.js';
import { CLASS_NAMES, type FashionMnist } from '../data/dataset.js';
import { CheckpointError } from '../nn/checkpoint.js';
import { SafetensorsError } from '../nn/safetensors.js';
import { PRESETS } from '../gan/train.js';
import { runGan, NonFiniteError } from '../app/gan_run.js';
import { nanStopped, TrainingStopped, withGanPolicies, type GanAttempt } from '../app/policies.js';
import { loadGanModels, type GanWeights } from '../gan/load.js';
import { SHIPPED_GAN, SHIP_GAN, shipGan, writeShippedGrid } from '../app/ship.js';
import { readCheckpoint, readCheckpointBytes, sha256, writeFileAtomic } from '../node/checkpoint.js';
import { basename, dirname, join } from 'node:path';
import { upgradeCheckpoint } from './upgrade.js';
import { evaluateGan, EVAL_WHAT, EvalUsageError, TRUNCATION_THRESHOLDS, WEIGHTS_NOTE } from '../app/eval_run.js';
import type { EvalWhat } from '../app/eval_run.js';
import { SampleFileError } from '../eval/idx_samples.js';
import { KID_DEFAULTS, PRC_DEFAULTS } from '../eval/kid_prc.js';
import { ISC_DEFAULTS } from '../eval/isc.js';
import { generate } from '../gan/train.js';
import { Generator } from '../autograd/random.js';
import { Tensor } from '../autograd/tensor.js';
import { writeGridPng } from '../node/png.js';
import { writeIdx } from '../data/idx.js';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CheckpointFileError } from '../node/checkpoint.js';
import { startPlayground, newestGanRun, PlaygroundError } from '../app/serve.js';
import { lockRunDir, RunLockError } from '../node/runlock.js';
import { loadTileCache, saveTileCache, tileCachePath } from '../node/tile_cache.js';
import { TUNE_MODES, tuneModeOf, tunesOn, type TuneMode } from '../kernels/conv2d_tune.js';

const HELP = `usage: node dist/cli.js <command> [model] [flags]     (npm run train -- [model] [flags])

commands:
  info                 print the WebGPU adapter the engine would use
  train [cgan|acgan|cnn]  train a model (default: cgan, the product's main job)
  eval cnn             test accuracy of a saved CNN (--checkpoint FILE)
  eval gan             FID, KID, precision/recall on our classifier's features, its score (the IS formula), accuracy
                       and class balance of generated images, truncation, latent space, augmentation study,
                       report.html (--checkpoint GAN --classifier CNN, or --samples/--labels)
  sample               images from a GAN (--checkpoint FILE, default the shipped ${SHIPPED_GAN.cgan}; --model acgan)
  playground           serve the browser playground on localhost (--run DIR | --checkpoint FILE [--port N]; without
                       them the newest GAN run under runs/, else the shipped GANs)
  upgrade              rewrite a checkpoint of format 1 in format 2, PyTorch's layout (--checkpoint FILE [--out FILE])
  help                 this text; \`<command> --help\` for a command's flags`;

const EVAL_HELP = `usage: npm run eval -- cnn|gan [flags]

  eval cnn   test accuracy of a saved CNN: --checkpoint FILE [--ship FILE]   (\`eval cnn --help\` for its flags)
  eval gan   FID, accuracy, class balance, truncation, latent space, augmentation study and report.html of a GAN:
             --checkpoint FILE (e.g. ${SHIPPED_GAN.cgan}) or --samples F --labels F   (\`eval gan --help\`)`;

const DATA_FLAG: FlagSpec = {
  type: 'string',
  help: 'directory with the Fashion-MNIST IDX files (else $FASHION_MNIST_DIR, ./data, /usr/share/datasets/fashion-mnist)',
};

const TUNE_FLAG: FlagSpec = {
  type: 'string',
  choices: [...TUNE_MODES],
  help: 'time the conv tiles on this device after the first step and keep the fastest, listed in conv-tiles.jsonl and cached in ~/.cache/fmnist-webgpu-engine (auto: on a GPU, not on a software adapter; default $FMNIST_TUNE or auto; the results are the same bits either way)',
};

const TRAIN_CNN: Record<string, FlagSpec> = {
  epochs: { type: 'int', min: 1, help: 'epochs (default 30 on a GPU; 1 on a software adapter)' },
  batch: { type: 'int', min: 1, help: 'batch size (default 64)' },
  lr: { type: 'number', min: 0, help: 'Adam learning rate (default 1e-3)' },
  seed: { type: 'int', min: 0, help: 'seed for initialisation, shuffling, dropout (default 3)' },
  out: { type: 'string', help: 'run directory (default runs/cnn-<date>)' },
  resume: { type: 'string', help: 'continue from a checkpoint (e.g. runs/NAME/last.safetensors)' },
  data: DATA_FLAG,
  augment: { type: 'bool', help: 'random 2-pixel shifts and horizontal flips' },
  patience: {
    type: 'int',
    min: 0,
    help: 'early stopping: epochs without a better validation accuracy (default 5; 0 off)',
  },
  'train-subset': {
    type: 'int',
    min: 1,
    help: 'train on the first N images only (default: all on a GPU; 2000 on a software adapter)',
  },
  'test-subset': { type: 'int', min: 1, help: 'evaluate on the first N test images only' },
  full: { type: 'bool', help: 'on a software adapter, train the full configuration anyway (hours)' },
  tune: TUNE_FLAG,
};
const TRAIN_GAN: Record<string, FlagSpec> = {
  preset: {
    type: 'string',
    choices: Object.keys(PRESETS),
    help: "networks and hyper-parameters (default: the model's own; *-lite on a software adapter)",
  },
  epochs: { type: 'int', min: 1, help: 'epochs (default from the preset)' },
  batch: { type: 'int', min: 2, help: 'batch size (default 64)' },
  lr: { type: 'number', min: 0, help: 'Adam learning rate for G and D' },
  ema: {
    type: 'number',
    min: 0,
    help: "decay of the generator's weight average that samples, FID and evaluation use (default 0.999; 0: sample from the trained weights)",
  },
  seed: { type: 'int', min: 0, help: 'seed for initialisation, noise, labels, data order (default 0)' },
  out: { type: 'string', help: 'run directory (default runs/<model>-<date>)' },
  resume: { type: 'string', help: "continue from a run's checkpoint.safetensors" },
  data: DATA_FLAG,
  'train-subset': { type: 'int', min: 2, help: 'train on the first N images only' },
  full: { type: 'bool', help: 'on a software adapter, use the full networks and data anyway (days)' },
  tune: TUNE_FLAG,
  trace: { type: 'bool', help: 'write trace.jsonl: per-layer activation and gradient statistics each epoch' },
  'on-nan': {
    type: 'string',
    choices: ['stop', 'rollback'],
    help: 'when a loss or weight turns NaN/Inf: stop (default), or reload the last checkpoint with half the learning rate (3 tries)',
  },
  'debug-nan-at-step': { type: 'int', min: 1, help: 'test hook: poison a generator weight with NaN after this step' },
  'debug-gpu-fault': { type: 'string', help: 'test hook: oom@STEP or lost@STEP makes the GPU fail after that step' },
  'fid-every': {
    type: 'int',
    min: 1,
    help: "FID every N epochs (and at the last) on --classifier's features; fid.svg and metrics.jsonl",
  },
  classifier: {
    type: 'string',
    help: 'the CNN checkpoint whose features are the FID space (runs/CNN/best.safetensors); with it the run ends with an evaluation and report.html in <out>/eval',
  },
  'fid-n': { type: 'int', min: 10, help: 'images per FID (default 2000)' },
};

const WEIGHTS_FLAG: FlagSpec = {
  type: 'string',
  choices: ['average', 'trained'],
  help: "the generator's weight average (default, where the checkpoint has one) or its trained weights",
};

const SAMPLE: Record<string, FlagSpec> = {
  checkpoint: {
    type: 'string',
    help: `a GAN checkpoint (runs/NAME/checkpoint.safetensors; default: the shipped ${SHIPPED_GAN.cgan})`,
  },
  model: {
    type: 'string',
    choices: ['cgan', 'acgan'],
    help: `without --checkpoint: which shipped GAN (default cgan; acgan: ${SHIPPED_GAN.acgan})`,
  },
  class: { type: 'int', min: 0, help: 'only this class (0–9; default: every class, one row each)' },
  n: { type: 'int', min: 1, help: 'images per class (default 10; 64 with --class)' },
  seed: { type: 'int', min: 0, help: 'noise seed (default 0)' },
  out: {
    type: 'string',
    help: 'output file (default samples.png, or samples-images.idx plus samples-labels.idx with --format idx)',
  },
  format: {
    type: 'string',
    choices: ['png', 'idx'],
    help: 'png grid, or IDX files (uint8 images + labels) for other tools',
  },
  weights: WEIGHTS_FLAG,
  truncation: {
    type: 'number',
    min: 0.01,
    help: 'redraw noise components outside ±T (the truncation trick: more typical, less varied samples; default: none)',
  },
};

const PLAYGROUND: Record<string, FlagSpec> = {
  run: { type: 'string', help: 'a GAN run directory (serves its checkpoint.safetensors)' },
  checkpoint: {
    type: 'string',
    help: "a GAN checkpoint file (default: the newest GAN run under runs/, else dist/web's own)",
  },
  port: { type: 'int', min: 0, help: 'port (default 8080; 0 picks a free one)' },
  host: { type: 'string', help: 'address to listen on (default 127.0.0.1; WebGPU needs localhost or https)' },
  site: { type: 'string', help: 'the built site (default dist/web)' },
};

const EVAL_GAN: Record<string, FlagSpec> = {
  checkpoint: {
    type: 'string',
    help: 'the GAN checkpoint (runs/NAME/checkpoint.safetensors), or give --samples and --labels',
  },
  samples: { type: 'string', help: 'generated images from any tool: idx3-ubyte N×28×28 uint8 (gz or not)' },
  labels: { type: 'string', help: 'their intended classes: idx1-ubyte (gz or not)' },
  classifier: {
    type: 'string',
    help:
      'the CNN that judges them (its 128-d features are the FID space), e.g. runs/cnn/best.safetensors (default: the shipped ' +
      SHIPPED_CLASSIFIER +
      ' when this checkout has it)',
  },
  what: { type: 'string', help: `comma-separated parts (default all): ${EVAL_WHAT.join(',')}` },
  n: { type: 'int', min: 2, help: 'generated images (default 10000)' },
  'real-n': { type: 'int', min: 2, help: 'real images for FID and its floor (default 10000)' },
  seed: { type: 'int', min: 0, help: 'noise seed (default 0)' },
  weights: WEIGHTS_FLAG,
  'augment-epochs': {
    type: 'int',
    min: 1,
    help: 'epochs of each classifier the augmentation study trains, all rows alike (default 10)',
  },
  'augment-train-subset': {
    type: 'int',
    min: 2,
    help: 'real training images of the augmentation study (default all 60000; for trials)',
  },
  'augment-test-subset': {
    type: 'int',
    min: 2,
    help: 'test images its classifiers are scored on (default all 10000; for trials)',
  },
  ship: {
    type: 'string',
    help: `first write the file to ship (weight average and D, no optimizer, large weights as F16) and FILE.sha256, then evaluate that file (${SHIPPED_GAN.cgan}, ${SHIPPED_GAN.acgan})`,
  },
  truncation: {
    type: 'string',
    help: `the truncation study's thresholds, comma-separated (default ${TRUNCATION_THRESHOLDS.join(',')})`,
  },
  'kid-subsets': { type: 'int', min: 1, help: `KID: subset pairs drawn with --seed (default ${KID_DEFAULTS.subsets})` },
  'kid-subset-size': {
    type: 'int',
    min: 2,
    help: `KID: rows per subset, capped at the smaller set (default ${KID_DEFAULTS.subsetSize})`,
  },
  'prc-k': {
    type: 'int',
    min: 1,
    help: `precision/recall: a row's radius is the distance to its k-th nearest neighbour (default ${PRC_DEFAULTS.k})`,
  },
  'isc-splits': {
    type: 'int',
    min: 1,
    help: `classifier score: parts of the shuffled samples (default ${ISC_DEFAULTS.splits})`,
  },
  out: {
    type: 'string',
    help: "output directory (default: eval/ beside a run's checkpoint, eval-NAME/ here for a shipped file, else eval-<date>)",
  },
  data: DATA_FLAG,
};

const EVAL_CNN: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', help: 'the CNN checkpoint (.safetensors) to evaluate' },
  data: DATA_FLAG,
  'test-subset': { type: 'int', min: 1, help: 'evaluate on the first N test images only' },
  ship: {
    type: 'string',
    help: `also write a slim copy (weights only, test accuracy in its metadata) and FILE.sha256 beside it: the evaluation classifier (${SHIPPED_CLASSIFIER})`,
  },
};

const UPGRADE: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', help: 'a checkpoint of format 1 (written until 2026-12-04)' },
  out: {
    type: 'string',
    help: 'where to write the format-2 file (default: over --checkpoint, atomically); FILE.sha256 is rewritten when --checkpoint has one',
  },
};

async function withGpu<T>(flags: Flags, fn: (gpu: Gpu, be: GpuBackend) => Promise<T>): Promise<T> {
  const gpu = await nodeGpu({ adapter: flags.adapter as string | undefined });
  try {
    return await fn(gpu, new GpuBackend(gpu));
  } finally {
    releaseNodeGpu(gpu);
  }
}

async function trainCnn(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, TRAIN_CNN);
  if (flags.help) {
    console.log(helpText('usage: npm run train -- cnn [flags]', TRAIN_CNN));
    return 0;
  }
  checkOutDir(flags.out, flags.resume, ['last.safetensors', 'best.safetensors']);
  return withGpu(flags, async (gpu, be) => {
    const software = gpu.adapter.software;
    console.log(`device: ${describeGpu(gpu)}`);
    const short = software && !flags.full;
    const opts = {
      epochs: (flags.epochs as number) ?? (short ? 1 : 30),
      batch: (flags.batch as number) ?? 64,
      lr: (flags.lr as number) ?? 1e-3,
      seed: (flags.seed as number) ?? 3,
      valFraction: 0.1,
      patience: (flags.patience as number) ?? 5,
      augment: Boolean(flags.augment),
      trainSubset: (flags['train-subset'] as number) ?? (short ? 2000 : undefined),
      testSubset: (flags['test-subset'] as number) ?? (short ? 1000 : undefined),
      logEvery: 20,
    };
    if (short && !flags['train-subset'] && !flags.epochs)
      console.log(
        `software adapter: a short run (${opts.epochs} epoch on ${opts.trainSubset} images, tested on ${opts.testSubset}); the full run is \`npm run train -- cnn --full\` or, better, on a GPU`,
      );
    const data = await loadFashionMnist({ dir: flags.data as string | undefined, log: console.log });
    console.log(`data: ${data.source} (${data.train.count} train, ${data.test.count} test)`);
    const out = (flags.out as string) ?? `runs/cnn-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
    const bar = new ProgressLine();
    convTuningFor(gpu, be, flags, out, (l) => {
      bar.done();
      console.log(l);
    });
    const stop = interruptible();
    const res = await runCnn(
      be,
      data,
      {
        ...opts,
        shouldStop: stop.requested,
        onProgress: (p) =>
          bar.update(
            (p.epoch - 1 + p.step / p.stepsPerEpoch) / p.epochs,
            `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} acc ${(100 * p.acc).toFixed(1)}% ${p.imgPerSec.toFixed(0)} img/s ETA ${fmtTime(p.etaSec)}`,
          ),
        onEpoch: () => bar.done(),
      },
      out,
      flags.resume as string | undefined,
    )
      .catch((e) => {
        if (!(e instanceof NonFiniteError)) throw e;
        bar.done();
        throw nanStopped(e, join(out, 'last.safetensors'), opts.lr);
      })
      .finally(() => stop.dispose());
    bar.done();
    if (res.interrupted || !res.test) {
      console.log(
        `stopped by ${stop.signal}; checkpoint: ${res.checkpoint}\nresume with: npm run train -- cnn --out ${out} --resume ${res.checkpoint}`,
      );
      return stop.signal === 'SIGTERM' ? 143 : 130;
    }
    console.log(
      `test accuracy ${(100 * res.test.acc).toFixed(2)}% on ${res.test.count} images (loss ${res.test.loss.toFixed(4)}), ${res.seconds.toFixed(0)} s`,
    );
    console.log(res.test.perClass.map((c) => `  ${c.name.padEnd(12)} ${(100 * c.acc).toFixed(1)}%`).join('\n'));
    console.log(
      `run directory: ${out} (metrics.jsonl, loss.svg, accuracy.svg, confusion.svg, best.safetensors, last.safetensors)`,
    );
    return 0;
  });
}

/**
 * --tune: conv tiles timed on this device at the end of the first step (GpuBackend.tuneConvs), each problem's
 * timings appended to OUT/conv-tiles.jsonl and one line logged; the choices are cached for later processes
 * (node/tile_cache.ts), and problems found there are not timed again
 */
function convTuningFor(gpu: Gpu, be: GpuBackend, flags: Flags, out: string, log: (s: string) => void): void {
  let mode: TuneMode;
  try {
    mode = tuneModeOf(flags.tune as string | undefined, process.env.FMNIST_TUNE);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!tunesOn(gpu, mode)) {
    if (mode !== 'off' && !gpu.canTime)
      log('conv tiles: this device has no timestamp queries, so the built-in rule picks them (--tune needs them)');
    return;
  }
  const cache = loadTileCache(gpu);
  if (cache.problem) log(cache.problem);
  else if (cache.loaded)
    log(`conv tiles: ${cache.loaded} problems' tiles from ${tileCachePath()} (timed by an earlier run on this device)`);
  be.tuneConvs((r, ms) => {
    if (!r.length) return;
    try {
      saveTileCache(gpu);
    } catch (e) {
      log(`conv tiles: not cached (${(e as Error).message})`);
    }
    mkdirSync(out, { recursive: true });
    appendFileSync(
      join(out, 'conv-tiles.jsonl'),
      r.map((x) => JSON.stringify({ date: new Date().toISOString(), ...x })).join('\n') + '\n',
    );
    const changed = r.filter((x) => x.best !== x.rule);
    const saved = r.reduce((a, x) => a + x.ruleMs - x.bestMs, 0);
    log(
      `conv tiles timed on this device: ${r.length} problems in ${(ms / 1000).toFixed(1)} s; ${changed.length} take another tile than the built-in rule (${saved.toFixed(2)} ms less per pass over them; ${join(out, 'conv-tiles.jsonl')})`,
    );
  });
}

function parseFault(v: string | undefined): { kind: 'oom' | 'lost'; step: number } | undefined {
  if (!v) return undefined;
  const m = /^(oom|lost)@(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--debug-gpu-fault takes oom@STEP or lost@STEP, got '${v}'`);
  return { kind: m[1] as 'oom' | 'lost', step: Number(m[2]) };
}

/**
 * A stop signal that arrives less than this many ms after the first one is the same request delivered twice, not
 * a second one: GNU `timeout` sends SIGTERM to the child and to its process group, and Ctrl-C in a terminal sends
 * SIGINT to the whole process group (under `npm run`, npm forwards it as well), so node gets it twice or more
 * within microseconds to milliseconds. Only a repeat after this asks for something more (an abort).
 */
const REPEAT_SIGNAL_GRACE_MS = 1000;

/**
 * Calls `first` on the first SIGINT/SIGTERM and `again` on one that comes REPEAT_SIGNAL_GRACE_MS or more after it
 * (repeats sooner are ignored); the listeners stay installed, so no repeat meets node's default action (death by
 * the signal), until the returned function removes them.
 */
function onStopSignals(first: (sig: NodeJS.Signals) => void, again: (sig: NodeJS.Signals) => void): () => void {
  let firstAt: number | null = null;
  const on = (sig: NodeJS.Signals) => {
    const now = performance.now();
    if (firstAt === null) {
      firstAt = now;
      first(sig);
    } else if (now - firstAt >= REPEAT_SIGNAL_GRACE_MS) again(sig);
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/**
 * SIGINT/SIGTERM: the first asks training to stop after the current step and write a checkpoint; another one a
 * second or more later (REPEAT_SIGNAL_GRACE_MS; sooner ones are the same signal delivered twice) aborts at once.
 */
function interruptible(): { requested: () => boolean; signal: string | null; dispose: () => void } {
  const st = { signal: null as string | null };
  const dispose = onStopSignals(
    (sig) => {
      st.signal = sig;
      console.error(
        `\n${sig}: finishing the current step and writing a checkpoint (send it again, a second or more later, to abort)`,
      );
    },
    (sig) => {
      console.error(`\n${sig} again: aborting without a checkpoint`);
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    },
  );
  return {
    requested: () => st.signal !== null,
    get signal() {
      return st.signal;
    },
    dispose,
  };
}

/** on a software adapter, the default run: narrow networks on this many images, sized to end within 10 minutes */
const SOFTWARE_GAN_IMAGES = 1280;

/**
 * A run directory that already holds a run is written again only with --resume: a second `--out` to the same
 * place must not overwrite the first run's checkpoints, and two runs must not write it at once (run.lock). Checked
 * before the GPU starts.
 */
function checkOutDir(out: unknown, resume: unknown, holds: string[]): void {
  if (typeof out !== 'string') return;
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new UsageError(`--out ${out} exists and is not a directory`);
  lockRunDir(out); // one process per run directory, until this one exits
  const found = holds.find((f) => existsSync(join(out, f)));
  if (found && !resume)
    throw new UsageError(
      `--out ${out} already holds a run (${found}); continue it with --resume ${join(out, found)}, or pick another --out`,
    );
}

async function trainGan(kind: 'cgan' | 'acgan', argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, TRAIN_GAN);
  if (flags.help) {
    console.log(
      helpText(
        `usage: npm run train -- ${kind} [flags]\n\npresets:\n${Object.entries(PRESETS)
          .map(([k, p]) => `  ${k.padEnd(13)} ${p.about}`)
          .join('\n')}`,
        TRAIN_GAN,
      ),
    );
    return 0;
  }
  if (flags.ema !== undefined) {
    if ((flags.ema as number) >= 1)
      throw new UsageError(`--ema must be below 1 (a decay such as 0.999), or 0 for no average; got ${flags.ema}`);
    if (flags.resume)
      throw new UsageError(
        "--ema cannot change on --resume: the checkpoint's run keeps its own weight average (or none)",
      );
  }
  checkOutDir(flags.out, flags.resume, ['checkpoint.safetensors']);
  return withGpu(flags, async (gpu, be) => {
    console.log(`device: ${describeGpu(gpu)}`);
    const plan = ganPlan(kind, flags, gpu.adapter.software);
    const data = await loadFashionMnist({ dir: flags.data as string | undefined, log: console.log });
    const out = (flags.out as string) ?? `runs/${kind}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
    const bar = new ProgressLine();
    const log = (l: string) => {
      bar.done();
      console.log(l);
    };
    convTuningFor(gpu, be, flags, out, log);
    const stop = interruptible();
    const ckpt = join(out, 'checkpoint.safetensors');
    const { presetName, preset, hyper, trainSubset } = plan;
    const run = (a: GanAttempt) =>
      runGan(
        be,
        data,
        {
          preset: presetName,
          config: preset.config,
          hyper,
          seed: (flags.seed as number) ?? 0,
          trainSubset,
          logEvery: 10,
          trace: Boolean(flags.trace),
          shouldStop: stop.requested,
          lrOverride: a.lrOverride,
          injectNanAtStep: a.injectNanAtStep,
          injectFault: parseFault(flags['debug-gpu-fault'] as string | undefined),
          fid: flags['fid-every']
            ? {
                every: flags['fid-every'] as number,
                classifier: flags.classifier as string,
                n: (flags['fid-n'] as number) ?? 2000,
              }
            : undefined,
          onProgress: (p) =>
            bar.update(
              (p.epoch - 1 + p.step / p.steps) / p.epochs,
              `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} D ${p.d.toFixed(3)} G ${p.g.toFixed(3)} ${p.imgPerSec.toFixed(0)} img/s ETA ${fmtTime(p.etaSec)}`,
            ),
          log,
        },
        out,
        a.resume,
      );
    const res = await withGanPolicies(run, {
      ckpt,
      onNan: flags['on-nan'] === 'rollback' ? 'rollback' : 'stop',
      lr: hyper.lr,
      batch: hyper.batch,
      resume: flags.resume as string | undefined,
      lrOverride: flags.lr as number | undefined,
      injectNanAtStep: flags['debug-nan-at-step'] as number | undefined,
      log: console.log,
      interrupt: () => bar.done(),
    }).finally(() => stop.dispose());
    bar.done();
    if (res.interrupted) {
      console.log(
        `stopped by ${stop.signal} after step ${res.step}; checkpoint: ${ckpt}\nresume with: npm run train -- ${kind} --out ${out} --resume ${ckpt}${flags.preset ? ` --preset ${presetName}` : ''}`,
      );
      return stop.signal === 'SIGTERM' ? 143 : 130;
    }
    console.log(
      `done in ${fmtTime(res.seconds)}; run directory: ${out} (grid.png, samples/, losses.svg, d_outputs.svg, metrics.jsonl, checkpoint.safetensors)`,
    );
    if (plan.short) await shippedBeside(be, kind, plan, out);
    if (flags.classifier) await evaluateAtEnd(be, gpu, flags, plan.short, data, out);
    return 0;
  });
}

/** the preset, hyper-parameters and training subset of a GAN run from its flags; printed */
function ganPlan(kind: 'cgan' | 'acgan', flags: Flags, software: boolean) {
  const short = software && !flags.full;
  if (flags['fid-every'] && !flags.classifier)
    throw new UsageError('--fid-every needs --classifier CNN (its features are the FID space)');
  const presetName = (flags.preset as string) ?? (short ? `${kind}-lite` : kind);
  const preset = PRESETS[presetName];
  if (preset.config.kind !== kind)
    throw new UsageError(`--preset ${presetName} is a ${preset.config.kind} preset, not ${kind}`);
  const hyper = { ...preset.hyper };
  if (flags.epochs) hyper.epochs = flags.epochs as number;
  if (flags.batch) hyper.batch = flags.batch as number;
  if (flags.lr !== undefined) hyper.lr = flags.lr as number;
  if (flags.ema !== undefined) hyper.emaDecay = flags.ema as number;
  const trainSubset = (flags['train-subset'] as number) ?? (short ? SOFTWARE_GAN_IMAGES : undefined);
  if (short && !flags['train-subset'] && !flags.preset)
    console.log(
      `software adapter: a short demonstration run (preset ${presetName}, ${hyper.epochs} epoch on ${trainSubset} images, well under 10 minutes on 2 cores);\nthe real run is \`npm run train -- ${kind}\` on a GPU (preset ${kind}: ${PRESETS[kind].about}, ${PRESETS[kind].hyper.epochs} epochs)`,
    );
  else console.log(`preset ${presetName}: ${preset.about}`);
  return { short, presetName, preset, hyper, trainSubset };
}

/** a demo run's grid is honest noise-and-blobs; beside it, the shipped GAN's for the same noise */
async function shippedBeside(
  be: GpuBackend,
  kind: 'cgan' | 'acgan',
  plan: ReturnType<typeof ganPlan>,
  out: string,
): Promise<void> {
  const meta = await writeShippedGrid(be, kind, join(out, 'grid-shipped.png'));
  if (meta)
    console.log(
      `${join(out, 'grid.png')}: this demonstration run (preset ${plan.presetName}, ${plan.hyper.epochs} epoch${plan.hyper.epochs === 1 ? '' : 's'} on ${plan.trainSubset} images, software adapter)\n` +
        `${join(out, 'grid-shipped.png')}: the shipped ${kind === 'cgan' ? 'cGAN' : 'AC-GAN'} (${SHIPPED_GAN[kind]}, preset ${meta.preset}, ${meta.epoch} epochs on a GPU; models/README.md) for the same noise: what \`npm run train\` gives on a GPU`,
    );
}

/**
 * The evaluation at the end of a run with --classifier (the augmentation study, hours of classifier training, is
 * left to `npm run eval -- gan … --what augment`)
 */
async function evaluateAtEnd(
  be: GpuBackend,
  gpu: Gpu,
  flags: Flags,
  short: boolean,
  data: FashionMnist,
  out: string,
): Promise<void> {
  const r = await evaluateGan(be, {
    ganCheckpoint: join(out, 'checkpoint.safetensors'),
    classifierCheckpoint: flags.classifier as string,
    data,
    n: (flags['fid-n'] as number) ?? (short ? 500 : 10000),
    realN: short ? 500 : undefined,
    seed: 0,
    outDir: join(out, 'eval'),
    what: ['fid', 'kid', 'prc', 'isc', 'accuracy', 'balance', 'truncation', 'latent', 'report'],
    log: () => {},
    setup: [['device', describeGpu(gpu)]],
  });
  if (r.fid)
    console.log(
      `FID ${r.fid.fid.toFixed(2)} (floor ${r.fid.realFloor?.toFixed(2) ?? '–'}); accuracy on generated images ${r.accuracy ? (100 * r.accuracy.acc).toFixed(2) : '–'}%; report: ${join(out, 'eval', 'report.html')}`,
    );
}

async function playgroundCmd(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, PLAYGROUND);
  if (flags.help) {
    console.log(helpText('usage: npm run playground -- [--run runs/NAME | --checkpoint FILE] [flags]', PLAYGROUND));
    return 0;
  }
  if (flags.run && flags.checkpoint) throw new UsageError('give --run DIR or --checkpoint FILE, not both');
  let checkpoint =
    (flags.checkpoint as string | undefined) ??
    (flags.run ? join(flags.run as string, 'checkpoint.safetensors') : undefined);
  if (flags.run && !existsSync(checkpoint!))
    throw new PlaygroundError(`${flags.run}: no checkpoint.safetensors there (is it a GAN run directory?)`);
  const site = (flags.site as string) ?? 'dist/web';
  // the shipped GANs are always offered beside; without a run they are what the page opens
  const shipped = Object.values(SHIPPED_GAN).filter((f) => existsSync(f));
  if (!checkpoint && !existsSync(join(site, 'checkpoint.safetensors'))) {
    checkpoint = newestGanRun('runs') ?? undefined;
    if (checkpoint) console.log(`serving the newest GAN run: ${checkpoint}`);
    else if (shipped.length) console.log(`no GAN run under runs/: serving the shipped GANs (${shipped.join(', ')})`);
  }
  const pg = await startPlayground({
    root: site,
    checkpoint,
    models: shipped,
    port: (flags.port as number | undefined) ?? 8080,
    host: flags.host as string | undefined,
  });
  console.log(
    `playground: ${pg.url}  (model: ${pg.checkpoint ?? pg.models[0]?.name ?? 'none yet: pick a checkpoint file in the page, or train one with `npm run train`'})`,
  );
  console.log(
    pg.dataDir
      ? `Train view (${pg.url}?view=train): trains on Fashion-MNIST from ${pg.dataDir}`
      : 'Train view: no Fashion-MNIST found to serve (bash scripts/setup.sh installs it); the page can open the files picked from disk',
  );
  console.log(
    'open it in a browser with WebGPU (Chrome/Edge 113+; on Linux enable chrome://flags/#enable-unsafe-webgpu); Ctrl-C stops',
  );
  // the first SIGINT/SIGTERM closes the server (exit 0); the same signal delivered twice (Ctrl-C, `timeout`: see
  // REPEAT_SIGNAL_GRACE_MS) neither closes it twice nor kills the process; one a second or more later exits at once
  let dispose = () => {};
  await new Promise<void>((ok) => {
    dispose = onStopSignals(
      () => void pg.close().then(ok),
      (sig) => process.exit(sig === 'SIGTERM' ? 143 : 130),
    );
  }).finally(() => dispose());
  return 0;
}

async function sampleCmd(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, SAMPLE);
  if (flags.help) {
    console.log(helpText('usage: npm run sample -- [--checkpoint FILE | --model cgan|acgan] [flags]', SAMPLE));
    return 0;
  }
  if (flags.checkpoint && flags.model)
    throw new UsageError(
      'give --checkpoint FILE or --model (a shipped GAN), not both: the checkpoint says which GAN it is',
    );
  if (!flags.checkpoint) {
    const shipped = SHIPPED_GAN[(flags.model as 'cgan' | 'acgan' | undefined) ?? 'cgan'];
    if (!existsSync(shipped))
      throw new UsageError(
        `${shipped} is not in this checkout: give --checkpoint FILE (a GAN run's checkpoint.safetensors)`,
      );
    flags.checkpoint = shipped;
  }
  const cls = flags.class as number | undefined;
  if (cls !== undefined && cls > 9) throw new UsageError(`--class must be 0–9, got ${cls}`);
  return withGpu(flags, async (_gpu, be) => {
    const ckpt = flags.checkpoint as string;
    const state = loadGanModels(
      be,
      readCheckpoint(ckpt, SHIP_GAN(ckpt)),
      ckpt,
      flags.weights as GanWeights | undefined,
    );
    const per = (flags.n as number) ?? (cls === undefined ? 10 : 64);
    const classes = cls === undefined ? [...Array(state.config.classes).keys()] : [cls];
    const n = per * classes.length;
    const g = new Generator((flags.seed as number) ?? 0);
    const t = flags.truncation as number | undefined;
    // Infinity: normal()'s draws
    const z = Tensor.from(be, g.truncatedNormal(n * state.config.noiseDim, t ?? Infinity), [n, state.config.noiseDim]);
    const labels = Array.from({ length: n }, (_, i) => classes[Math.floor(i / per)]);
    const y = Tensor.from(be, labels, [n], 'i32');
    const imgs = await generate(state.G, z, y);
    if (flags.format === 'idx') {
      const base = ((flags.out as string) ?? 'samples').replace(/\.idx$/, '');
      const u8 = Uint8Array.from(imgs, (v) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255));
      writeFileSync(`${base}-images.idx`, writeIdx([n, 28, 28], u8));
      writeFileSync(`${base}-labels.idx`, writeIdx([n], labels));
      console.log(`wrote ${n} images to ${base}-images.idx and their labels to ${base}-labels.idx`);
    } else {
      const out = (flags.out as string) ?? 'samples.png';
      const cols = cls === undefined ? per : Math.ceil(Math.sqrt(per));
      writeGridPng(out, imgs, { rows: Math.ceil(n / cols), cols });
      console.log(
        `wrote ${n} samples (${cls === undefined ? 'a row per class' : `class ${cls} ${CLASS_NAMES[cls]}`}; ${WEIGHTS_NOTE[state.weights]}${t !== undefined ? `; noise truncated at ±${t}` : ''}) to ${out}`,
      );
    }
    return 0;
  });
}

async function evalGanCmd(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, EVAL_GAN);
  if (flags.help) {
    console.log(
      helpText(
        'usage: npm run eval -- gan (--checkpoint GAN | --samples F --labels F) --classifier CNN [flags]',
        EVAL_GAN,
      ),
    );
    return 0;
  }
  if (!flags.classifier) {
    if (!existsSync(SHIPPED_CLASSIFIER))
      throw new UsageError(
        `eval gan needs --classifier CNN (its features are the FID space): the shipped evaluation classifier ${SHIPPED_CLASSIFIER} is not in this checkout yet (it is trained on the GPU machine, scripts/gpu-session.sh); train one with \`npm run train -- cnn\` and pass runs/NAME/best.safetensors`,
      );
    flags.classifier = SHIPPED_CLASSIFIER;
  }
  if (flags.ship && !flags.checkpoint)
    throw new UsageError(
      '--ship writes the shipped file of a --checkpoint; give --checkpoint runs/NAME/checkpoint.safetensors',
    );
  if (flags.ship && flags.weights)
    throw new UsageError(
      '--ship keeps the weight average where the run has one (else the trained weights); leave out --weights',
    );
  if (!flags.checkpoint === !flags.samples)
    throw new UsageError('eval gan needs --checkpoint GAN or --samples FILE --labels FILE (one of them)');
  if (flags.samples && !flags.labels)
    throw new UsageError('--samples needs --labels (the intended class of each image)');
  if (flags.weights && !flags.checkpoint)
    throw new UsageError("--weights picks a GAN checkpoint's generator weights; --samples files have none");
  const what = ((flags.what as string | undefined)?.split(',') ?? [...EVAL_WHAT]) as EvalWhat[];
  for (const w of what)
    if (!EVAL_WHAT.includes(w)) throw new UsageError(`--what: unknown part '${w}' (${EVAL_WHAT.join(', ')})`);
  const truncation = (flags.truncation as string | undefined)?.split(',').map((v) => {
    const t = Number(v);
    if (v.trim() === '' || !(t > 0) || !Number.isFinite(t))
      throw new UsageError(
        `--truncation expects thresholds > 0, comma-separated (e.g. ${TRUNCATION_THRESHOLDS.join(',')}); got '${v}'`,
      );
    return t;
  });
  if (flags.ship) {
    // the file is written before the GPU starts, and what follows evaluates it (not the run's checkpoint): the
    // scores printed are the shipped file's
    const from = flags.checkpoint as string;
    const hash = shipGan(from, flags.ship as string);
    console.log(`wrote ${flags.ship} (SHA-256 ${hash}) and ${flags.ship}.sha256 from ${from}; evaluating it`);
    flags.checkpoint = flags.ship;
  }
  return withGpu(flags, async (gpu, be) => {
    const data = await loadFashionMnist({ dir: flags.data as string | undefined });
    // eval/ beside a run's checkpoint; a shipped file (a .sha256 beside it) gets eval-<name>/ here, not in models/
    const ckpt = flags.checkpoint as string | undefined;
    const outDir =
      (flags.out as string) ??
      (!ckpt
        ? `eval-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`
        : existsSync(`${ckpt}.sha256`)
          ? `eval-${basename(ckpt, '.safetensors')}`
          : join(dirname(ckpt), 'eval'));
    const r = await evaluateGan(be, {
      ganCheckpoint: flags.checkpoint as string | undefined,
      weights: flags.weights as GanWeights | undefined,
      samples: flags.samples as string | undefined,
      labels: flags.labels as string | undefined,
      classifierCheckpoint: flags.classifier as string,
      data,
      n: flags.n as number | undefined,
      realN: flags['real-n'] as number | undefined,
      seed: (flags.seed as number) ?? 0,
      outDir,
      what,
      log: console.log,
      setup: [['device', describeGpu(gpu)]],
      augment: {
        epochs: flags['augment-epochs'] as number | undefined,
        trainSubset: flags['augment-train-subset'] as number | undefined,
        testSubset: flags['augment-test-subset'] as number | undefined,
      },
      truncation,
      kid: {
        subsets: flags['kid-subsets'] as number | undefined,
        subsetSize: flags['kid-subset-size'] as number | undefined,
      },
      prc: { k: flags['prc-k'] as number | undefined },
      isc: { splits: flags['isc-splits'] as number | undefined },
    });
    if (r.fid)
      console.log(
        `FID ${r.fid.fid.toFixed(2)} (real-vs-real floor ${r.fid.realFloor?.toFixed(2) ?? 'not computed'}; ${r.fid.nGenerated} generated vs ${r.fid.nReal} real, features of ${r.fid.classifier})`,
      );
    const { kid, prc, isc } = r;
    if (kid) {
      const about = `${kid.subsets} subset pairs of ${kid.subsetSize}`;
      console.log(`KID ${kid.mean.toExponential(3)} ± ${kid.std.toExponential(2)} (${about})`);
    }
    if (prc) {
      const n = `${prc.nGenerated} generated vs ${prc.nReal} real`;
      console.log(`precision ${prc.precision.toFixed(4)}, recall ${prc.recall.toFixed(4)} (k = ${prc.k}; ${n})`);
    }
    if (isc) {
      const real = isc.real ? `; real test images ${isc.real.mean.toFixed(3)} ± ${isc.real.std.toFixed(3)}` : '';
      console.log(`classifier score ${isc.mean.toFixed(3)} ± ${isc.std.toFixed(3)} (${isc.splits} splits)${real}`);
    }
    if (r.accuracy)
      console.log(
        `classifier accuracy on generated images ${(100 * r.accuracy.acc).toFixed(2)}%${r.accuracy.real ? ` (on real test images ${(100 * r.accuracy.real.acc).toFixed(2)}%)` : ''}`,
      );
    if (r.balance)
      console.log(
        `class balance: largest deviation from 10% is ${(100 * r.balance.maxDeviation).toFixed(2)} points (class ${r.balance.worstClass})`,
      );
    if (r.truncation)
      console.log(
        `truncation (FID / accuracy): ${r.truncation.map((x) => `${x.threshold === null ? 'none' : `±${x.threshold}`} ${x.fid.toFixed(2)} / ${(100 * x.acc).toFixed(2)}%`).join(', ')}`,
      );
    console.log(
      `results: ${join(outDir, 'results.json')}${what.includes('report') ? `, report: ${join(outDir, 'report.html')}` : ''}`,
    );
    return 0;
  });
}

async function evalCnnCmd(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, EVAL_CNN);
  if (flags.help) {
    console.log(helpText('usage: npm run eval -- cnn --checkpoint FILE [flags]', EVAL_CNN));
    return 0;
  }
  if (!flags.checkpoint) throw new UsageError('eval cnn needs --checkpoint FILE (e.g. runs/NAME/best.safetensors)');
  return withGpu(flags, async (_gpu, be) => {
    const data = await loadFashionMnist({ dir: flags.data as string | undefined });
    const r = await evalCnn(be, data, flags.checkpoint as string, flags['test-subset'] as number | undefined);
    console.log(`test accuracy ${(100 * r.acc).toFixed(2)}% on ${r.count} images (loss ${r.loss.toFixed(4)})`);
    r.perClass.forEach((c, i) => console.log(`  ${i} ${CLASS_NAMES[i].padEnd(12)} ${(100 * c.acc).toFixed(1)}%`));
    if (flags.ship) {
      const out = flags.ship as string;
      const hash = shipClassifier(flags.checkpoint as string, out, {
        testAccuracy: r.acc,
        testImages: r.count,
        testPerClass: r.perClass.map((c) => c.acc),
      });
      console.log(
        `shipped ${out} (weights only; test accuracy ${(100 * r.acc).toFixed(2)}% on ${r.count} images in its metadata)\nSHA-256 ${hash} (also in ${out}.sha256; loading checks it)`,
      );
    }
    return 0;
  });
}

/** `upgrade`: no GPU needed; a recorded SHA-256 (FILE.sha256) must match before, and is rewritten after */
async function upgradeCmd(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, UPGRADE);
  if (flags.help) {
    console.log(helpText('usage: node dist/cli.js upgrade --checkpoint FILE [--out FILE]', UPGRADE));
    return 0;
  }
  if (!flags.checkpoint) throw new UsageError('upgrade needs --checkpoint FILE');
  const inp = flags.checkpoint as string,
    out = (flags.out as string | undefined) ?? inp;
  const bytes = readCheckpointBytes(inp);
  const old = sha256(bytes);
  const recorded = existsSync(`${inp}.sha256`) ? readFileSync(`${inp}.sha256`, 'utf8').trim().split(/\s+/)[0] : null;
  if (recorded !== null && recorded !== old)
    throw new CheckpointError(
      `${inp}: SHA-256 ${old} differs from the one recorded in ${inp}.sha256 (${recorded}); not upgrading a changed file`,
    );
  const upgraded = upgradeCheckpoint(bytes, inp);
  writeFileAtomic(out, upgraded);
  const hash = sha256(upgraded);
  if (recorded !== null) writeFileAtomic(`${out}.sha256`, new TextEncoder().encode(`${hash}  ${basename(out)}\n`));
  console.log(
    `${out}: format 2 (PyTorch's layout), the same values\nSHA-256 ${hash} (was ${old} in format 1${recorded !== null ? `; ${out}.sha256 updated` : ''})`,
  );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'help';
  const rest = argv.slice(cmd === argv[0] ? 1 : 0);
  const model = rest[0] && !rest[0].startsWith('--') ? rest.shift() : undefined;
  switch (cmd) {
    case 'help':
      console.log(HELP);
      return argv.includes('--help') || argv.length === 0 || argv[0] === 'help' ? 0 : 2;
    case 'info': {
      const { flags } = parseFlags(rest, {});
      return withGpu(flags, async (gpu) => {
        console.log(describeGpu(gpu));
        const l = gpu.limits;
        console.log(
          `features: ${[...gpu.features].join(', ') || 'none'}; maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, workgroup storage ${l.maxComputeWorkgroupStorageSize} B`,
        );
        return 0;
      });
    }
    case 'train':
      if (model === 'cnn') return trainCnn(rest);
      if (model === undefined || model === 'cgan' || model === 'acgan') return trainGan(model ?? 'cgan', rest);
      throw new UsageError(`unknown model '${model}' for train (cnn, cgan, acgan)`);
    case 'sample':
      if (model) throw new UsageError(`sample takes no model name ('${model}'); the checkpoint says which GAN it is`);
      return sampleCmd(rest);
    case 'playground':
      if (model)
        throw new UsageError(
          `playground takes no positional argument ('${model}'); use --run DIR or --checkpoint FILE`,
        );
      return playgroundCmd(rest);
    case 'upgrade':
      if (model) throw new UsageError(`upgrade takes no positional argument ('${model}'); use --checkpoint FILE`);
      return upgradeCmd(rest);
    case 'eval':
      if (model === 'cnn') return evalCnnCmd(rest);
      if (model === 'gan') return evalGanCmd(rest);
      if (!model && rest.includes('--help')) {
        console.log(EVAL_HELP);
        return 0;
      }
      throw new UsageError(
        `eval needs a model: \`eval cnn --checkpoint FILE\` or \`eval gan --checkpoint FILE\`${model ? ` ('${model}' is unknown)` : ''}`,
      );
    default:
      throw new UsageError(`unknown command '${cmd}' (see --help)`);
  }
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as Error;
    const known =
      e instanceof EvalUsageError ||
      e instanceof SampleFileError ||
      e instanceof TrainingStopped ||
      e instanceof UsageError ||
      e instanceof NoAdapterError ||
      e instanceof DataError ||
      e instanceof CheckpointError ||
      e instanceof SafetensorsError ||
      e instanceof CheckpointFileError ||
      e instanceof PlaygroundError ||
      e instanceof RunLockError;
    console.error(`error: ${err?.message ?? String(e)}`);
    if (!known && !verbose) console.error('(run with --verbose for the stack trace)');
    if (verbose && err?.stack) console.error(err.stack);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
