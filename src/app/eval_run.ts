// app/eval_run.ts — `npm run eval -- gan …`: scores a GAN checkpoint (or samples from another tool, as an IDX
// pair) with a trained CNN classifier and writes the results into a directory: results.json (every number),
// the figures (PNG grids, SVG charts) and report.html (src/report/html.ts). What is computed is chosen by `what`:
//   fid       FID of n generated samples against the real test set, and the real-vs-real floor (train vs test)
//   kid       KID (kernel distance, unbiased MMD²) on the same features: mean ± std over random subset pairs
//   prc       improved precision and recall (k-NN manifolds, k = 3) on the same features, and their F-score
//   isc       the classifier score: the Inception Score formula on the classifier's logits (mean ± std over
//             splits), next to the real test images' (when the real test set is classified for another part)
//             (kid, prc and isc are torch-fidelity's set beside FID, on the features and logits of the one
//             classifier pass FID uses: src/eval/kid_prc.ts, src/eval/isc.ts)
//   accuracy  does the classifier see the intended class (overall, per class, confusion matrix)
//   balance   predicted-class shares of samples drawn with uniform labels
//   truncation the truncation trick (GAN only): the same n samples with their noise truncated at each threshold,
//             scored like the untruncated ones (FID, accuracy, balance): how much variety buys how much fidelity
//   latent    interpolation grids (GAN only), PCA and t-SNE maps and silhouette scores of classifier features
//   augment   classifiers trained on real, real + synthetic (0.5×, 1×) and synthetic only, tested on real
//   report    report.html from whatever of the above was computed (plus the GAN run's loss curves and
//             per-epoch grids when the checkpoint's run directory has them)
// Samples from a GAN: n images, labels cycling 0…9 (so exactly balanced), noise from `seed`; from IDX files: the
// first n of the pair, labels as given.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Backend } from '../autograd/backend.js';
import { Tensor } from '../autograd/tensor.js';
import { Generator } from '../autograd/random.js';
import type { FashionMnist } from '../data/dataset.js';
import { CLASS_NAMES } from '../data/dataset.js';
import type { LabelledImages } from '../data/idx.js';
import type { Cnn, CnnConfig } from '../models/cnn.js';
import type { GanGenerator } from '../gan/models.js';
import { generate } from '../gan/train.js';
import { loadGanModels, type GanWeights } from '../gan/load.js';
import { SHIP_GAN } from './ship.js';
import { readCheckpoint } from '../node/checkpoint.js';
import { loadClassifier } from './cnn_run.js';
import { gridPng } from '../node/png.js';
import { confusionMatrix, barChart, lineChart, scatterPlot, scatterBounds } from '../report/svg.js';
import { fidCharts, lossCharts, type GanEpoch } from './gan_run.js';
import type { TraceLine } from '../gan/trace.js';
import { traceCharts } from '../report/trace_charts.js';
import { reportHtml, type ReportFigure, type ReportInput, type ReportTruncation } from '../report/html.js';
import { readSamplePair } from '../eval/idx_samples.js';
import {
  accuracyOf,
  classBalance,
  classify,
  type Classified,
  featureGaussian,
  fidFromFeatures,
  fromSymmetric,
  pickImages,
  toBytes,
  type AccuracyResult,
  type BalanceResult,
  type FidResult,
} from '../eval/metrics.js';
import {
  classSweepGrid,
  interpolationGrid,
  truncationGrid,
  pcaFit,
  pcaProject,
  silhouette,
  stratifiedIndices,
  takeRows,
  tsne,
  type ImageGrid,
  type Silhouette,
} from '../eval/latent.js';
import { augmentationStudy, type AugmentOptions, type AugmentResult } from '../eval/augment.js';
import { kidPrc, type KidOptions, type KidResult, type PrcOptions, type PrcResult } from '../eval/kid_prc.js';
import { isc, type IscOptions, type IscResult } from '../eval/isc.js';

export type EvalWhat =
  | 'fid'
  | 'kid'
  | 'prc'
  | 'isc'
  | 'accuracy'
  | 'balance'
  | 'truncation'
  | 'latent'
  | 'augment'
  | 'report';
export const EVAL_WHAT: EvalWhat[] = [
  'fid',
  'kid',
  'prc',
  'isc',
  'accuracy',
  'balance',
  'truncation',
  'latent',
  'augment',
  'report',
];
/** the truncation study's default thresholds (BigGAN's range; below 0.5 most samples of a class look alike) */
export const TRUNCATION_THRESHOLDS = [2, 1.5, 1, 0.5];

export class EvalUsageError extends Error {}

/** how a log line names the generator's weights */
export const WEIGHTS_NOTE: Record<GanWeights, string> = {
  average: "the generator's weight average",
  trained: 'the trained weights',
};

export interface EvalGanOptions {
  /** a GAN run's checkpoint.safetensors (or give samples + labels) */
  ganCheckpoint?: string;
  /** the generator's weight average where the checkpoint has one (default), or its trained weights */
  weights?: GanWeights;
  /** idx3-ubyte N×28×28 (gz or not) */
  samples?: string;
  /** idx1-ubyte N labels 0–9 (gz or not) */
  labels?: string;
  /** the CNN classifier whose features and predictions judge the samples (e.g. runs/cnn/best.safetensors) */
  classifierCheckpoint: string;
  data: FashionMnist;
  /** samples to generate / use (default 10 000) */
  n?: number;
  /** real test images for FID, and training images for the floor (default: the whole 10 000-image test set) */
  realN?: number;
  seed?: number;
  outDir: string;
  what: EvalWhat[];
  /** images per classifier / generator batch (default 500) */
  batch?: number;
  latent?: { perClass?: number; steps?: number; sweepRows?: number; tsneIterations?: number; perplexity?: number };
  /** KID's subsets (default 100 of 1000 rows, drawn with `seed`) */
  kid?: Omit<KidOptions, 'seed'>;
  /** precision/recall's k (default 3) */
  prc?: PrcOptions;
  /** the classifier score's splits (default 10; samples shuffled with `seed`) */
  isc?: Omit<IscOptions, 'seed' | 'shuffle'>;
  /** the truncation study's thresholds (default TRUNCATION_THRESHOLDS) */
  truncation?: number[];
  /** the augmentation study's settings (default: 10 epochs, batch 64, lr 1e-3, the classifier checkpoint's
  /** architecture, all real training images) */
  augment?: Partial<Omit<AugmentOptions, 'log'>>;
  /** progress lines (default: none) */
  log?: (s: string) => void;
  /** extra setup rows for the report (e.g. the device) */
  setup?: [string, string | number][];
}

export interface TruncationRow {
  /** noise components truncated to ±threshold (null: untruncated) */
  threshold: number | null;
  /** against the real test set's features (as `fid`, without the floor) */
  fid: number;
  acc: number;
  perClassAcc: number[];
  /** class balance: largest deviation of a predicted class's share from 1/classes, and that class */
  maxDeviation: number;
  worstClass: number;
}

export interface EvalResults {
  version: 1;
  created: string;
  source:
    | { kind: 'gan'; checkpoint: string; model: string; preset?: string; epoch?: number; weights?: GanWeights }
    | { kind: 'idx'; samples: string; labels: string; fileCount: number };
  classifier: {
    checkpoint: string;
    name: string;
    sha256: string;
    epoch?: number;
    bestValAcc?: number;
    testAcc?: number;
    config: CnnConfig;
  };
  /** samples evaluated */
  n: number;
  seed: number;
  what: EvalWhat[];
  fid?: FidResult;
  /** KID of the generated against the real test set's features (each subset's value left out) */
  kid?: Omit<KidResult, 'values'>;
  /** precision and recall of the generated against the real test set's features */
  prc?: PrcResult;
  /** the classifier score of the generated samples; `real` the real test images' (when they were classified) */
  isc?: IscResult & { real?: IscResult };
  /** generated samples vs their intended labels; `real` is the classifier on real test images (when FID ran) */
  accuracy?: AccuracyResult & { real?: { acc: number; count: number } };
  balance?: BalanceResult;
  /** the untruncated samples' row first (threshold null), then one per threshold, same labels and noise stream */
  truncation?: TruncationRow[];
  latent?: {
    perClass: number;
    pcaExplained: number[];
    silhouette: { real: Silhouette; generated: Silhouette };
    tsneKl: { real: number; generated: number };
  };
  augment?: AugmentResult;
  /** files written, relative to outDir */
  files: string[];
  notes: string[];
  seconds: number;
}

/**
 * Score a GAN checkpoint or an IDX sample pair; writes results.json, figures and (with 'report') report.html into
 * opts.outDir and returns the results. Bad option combinations throw EvalUsageError; bad files throw the loaders'
 * errors (CheckpointError, SampleFileError). The models it loads are disposed before it returns.
 */
export async function evaluateGan(be: Backend, opts: EvalGanOptions): Promise<EvalResults> {
  const cleanup: (() => void)[] = [];
  try {
    return await evaluate(be, opts, cleanup);
  } finally {
    for (const f of cleanup.reverse()) f();
  }
}

/** what every part of one evaluation reads (the judge, the samples, their classifier pass) and adds to */
interface EvalRun {
  be: Backend;
  opts: EvalGanOptions;
  what: Set<EvalWhat>;
  log: (s: string) => void;
  /** writes a file into the output directory and lists it in results.files */
  write: (name: string, content: string | Uint8Array) => void;
  results: EvalResults;
  notes: string[];
  seed: number;
  batch: number;
  model: Cnn;
  classes: number;
  /** the generator (null for IDX samples) and its checkpoint's metadata */
  G: GanGenerator | null;
  ganMeta: Record<string, any> | null;
  idxSet: LabelledImages | null;
  /** the samples in [0, 1] and their intended labels */
  images: Float32Array;
  labels: Int32Array;
  /** the samples' classifier pass (null when only augment/report are asked) */
  gen: Classified | null;
  /** the real test set's classifier pass, made once for whichever part needs it first */
  realTestSet: () => Promise<RealTest>;
  /** that pass if some part made it already, else null */
  realTest: () => RealTest | null;
}
type RealTest = { c: Classified; labels: Int32Array };

async function evaluate(be: Backend, opts: EvalGanOptions, cleanup: (() => void)[]): Promise<EvalResults> {
  const t0 = performance.now();
  checkEvalOptions(opts);
  const run = await openEvalRun(be, opts, cleanup);
  const { what } = run;
  if (what.has('fid')) await fidPart(run);
  if (what.has('kid') || what.has('prc')) await kidPrcPart(run);
  if (what.has('isc')) iscPart(run);
  if (what.has('accuracy')) accuracyPart(run);
  if (what.has('balance')) balancePart(run);
  const truncationReport = what.has('truncation') ? await truncationPart(run) : undefined;
  const latentFigures = what.has('latent') ? await latentPart(run) : [];
  if (what.has('augment')) await augmentPart(run);
  return finishEval(run, t0, truncationReport, latentFigures);
}

/** option combinations that make no evaluation: EvalUsageError before anything is loaded */
function checkEvalOptions(opts: EvalGanOptions): void {
  for (const w of opts.what)
    if (!EVAL_WHAT.includes(w))
      throw new EvalUsageError(`unknown evaluation '${w}' (choose from ${EVAL_WHAT.join(', ')})`);
  if (!!opts.ganCheckpoint === !!(opts.samples || opts.labels))
    throw new EvalUsageError(
      'evaluate either a GAN checkpoint or an IDX sample pair (--samples FILE --labels FILE), not both or neither',
    );
  if (!opts.ganCheckpoint && !(opts.samples && opts.labels))
    throw new EvalUsageError('IDX samples need both --samples FILE and --labels FILE');
  const n = opts.n ?? 10000;
  if (!(Number.isInteger(n) && n >= 2)) throw new EvalUsageError(`n must be an integer ≥ 2, got ${n}`);
}

/** the classifier that judges the samples (its file's SHA-256 checked) and what results.json says of it */
function loadJudge(be: Backend, opts: EvalGanOptions, cleanup: (() => void)[], log: (s: string) => void) {
  // --- the judge ---------------------------------------------------------------------------------------------
  const cnn = loadClassifier(be, opts.classifierCheckpoint);
  cleanup.push(() => cnn.model.dispose());
  const model: Cnn = cnn.model;
  const classes = model.config.classes;
  const classifier = {
    checkpoint: opts.classifierCheckpoint,
    name: basename(opts.classifierCheckpoint),
    sha256: cnn.sha256,
    epoch: cnn.meta.epoch as number | undefined,
    bestValAcc: (cnn.meta.best as { valAcc?: number } | null)?.valAcc,
    testAcc: cnn.meta.testAccuracy as number | undefined,
    config: model.config,
  };
  log(`classifier ${classifier.name} (epoch ${classifier.epoch ?? '?'}, SHA-256 ${cnn.sha256.slice(0, 16)}…)`);
  return { model, classes, classifier };
}

/** n samples with their intended labels: generated (labels cycling over the classes) or read from IDX files */
async function loadSamples(
  be: Backend,
  opts: EvalGanOptions,
  cleanup: (() => void)[],
  ctx: { classes: number; n: number; seed: number; batch: number; notes: string[]; log: (s: string) => void },
) {
  const { classes, n, seed, batch, notes, log } = ctx;
  let G: GanGenerator | null = null;
  let ganMeta: Record<string, any> | null = null;
  let source: EvalResults['source'];
  let images: Float32Array; // [0, 1]
  let labels: Int32Array;
  let idxSet: LabelledImages | null = null;
  if (opts.ganCheckpoint) {
    const loaded = loadGanModels(
      be,
      readCheckpoint(opts.ganCheckpoint, SHIP_GAN(opts.ganCheckpoint)),
      opts.ganCheckpoint,
      opts.weights,
    );
    cleanup.push(() => {
      for (const m of [loaded.G, loaded.D]) m.dispose();
    });
    G = loaded.G;
    ganMeta = loaded.meta;
    source = {
      kind: 'gan',
      checkpoint: opts.ganCheckpoint,
      model: ganMeta.model,
      preset: ganMeta.preset,
      epoch: ganMeta.epoch,
      weights: loaded.weights,
    };
    labels = Int32Array.from({ length: n }, (_, i) => i % classes);
    log(
      `generating ${n} samples from ${opts.ganCheckpoint} (${ganMeta.model}, epoch ${ganMeta.epoch}, ${WEIGHTS_NOTE[loaded.weights]})`,
    );
    images = fromSymmetric(await generateLabelled(be, G, labels, new Generator(seed), batch));
  } else {
    idxSet = readSamplePair(opts.samples!, opts.labels!, classes);
    source = { kind: 'idx', samples: opts.samples!, labels: opts.labels!, fileCount: idxSet.count };
    const picked = pickImages(idxSet, n);
    images = picked.images;
    labels = picked.labels;
    if (idxSet.count > n) notes.push(`used the first ${n} of the ${idxSet.count} samples in ${opts.samples}`);
    log(`read ${idxSet.count} samples from ${opts.samples}; using ${labels.length}`);
  }
  return { G, ganMeta, source, images, labels, idxSet };
}

/** the judge, the samples (generated or read) and their classifier pass; samples.png written */
async function openEvalRun(be: Backend, opts: EvalGanOptions, cleanup: (() => void)[]): Promise<EvalRun> {
  const log = opts.log ?? (() => {});
  const n = opts.n ?? 10000;
  const seed = opts.seed ?? 0;
  const batch = opts.batch ?? 500;
  const out = opts.outDir;
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const notes: string[] = [];
  const write = (name: string, content: string | Uint8Array) => {
    writeFileSync(join(out, name), content);
    if (!files.includes(name)) files.push(name);
  };

  const { model, classes, classifier } = loadJudge(be, opts, cleanup, log);
  const { G, ganMeta, source, images, labels, idxSet } = await loadSamples(be, opts, cleanup, {
    classes,
    n,
    seed,
    batch,
    notes,
    log,
  });
  const count = labels.length;
  write('samples.png', gridPng(classMajor(images, labels, classes, 10), { rows: classes, cols: 10, range: 'unit' }));

  // --- classifier passes -------------------------------------------------------------------------------------
  const results: EvalResults = {
    version: 1,
    created: new Date().toISOString(),
    source,
    classifier,
    n: count,
    seed,
    what: opts.what,
    files,
    notes,
    seconds: 0,
  };
  // every part but the augmentation study and the report reads the generated samples' classifier pass
  const needGen = opts.what.some((w) => w !== 'augment' && w !== 'report');
  let gen: Classified | null = null;
  if (needGen) {
    log(`classifying ${count} samples`);
    gen = await classify(be, model, images, batch);
  }
  // the real test set's classifier pass, made once for whichever part needs it first (a cast, so that TypeScript
  // does not narrow it to null for the code after the closure that sets it)
  let realTest = null as { c: Classified; labels: Int32Array } | null;
  const realTestSet = async () => {
    if (!realTest) {
      const real = pickImages(opts.data.test, opts.realN);
      log(`classifying ${real.labels.length} real test images`);
      realTest = { c: await classify(be, model, real.images, batch), labels: real.labels };
    }
    return realTest;
  };
  return {
    be,
    opts,
    what: new Set(opts.what),
    log,
    write,
    results,
    notes,
    seed,
    batch,
    model,
    classes,
    G,
    ganMeta,
    idxSet,
    images,
    labels,
    gen,
    realTestSet,
    realTest: () => realTest,
  };
}

/** FID of the samples against the real test set, and the real-vs-real floor (training vs test images) */
async function fidPart(run: EvalRun): Promise<void> {
  const { opts, model, batch, seed, gen, log, notes, results } = run;
  const be = run.be;
  const count = run.labels.length;
  const classifier = results.classifier;
  const rt = await run.realTestSet();
  const trainN = Math.min(rt.labels.length, opts.data.train.count);
  const floorSet = pickImages(opts.data.train, trainN, seed ^ 0xf100);
  log(`classifying ${trainN} real training images (the FID floor)`);
  const floor = await classify(be, model, floorSet.images, batch);
  const gG = featureGaussian(gen!),
    gR = featureGaussian(rt.c),
    gF = featureGaussian(floor);
  results.fid = fidFromFeatures(gG, gR, gF, classifier.name);
  log(
    `FID ${results.fid.fid.toFixed(3)} (floor ${results.fid.realFloor?.toFixed(3)}) with ${count} samples vs ${rt.labels.length} real`,
  );
  if (count < 2 * gen!.dim)
    notes.push(
      `FID with ${count} samples in ${gen!.dim} dimensions: the covariance is poorly estimated (want ≫ ${gen!.dim}); compare only at equal counts`,
    );
}

/** KID and precision/recall in one float64 pass over every pair of feature vectors */
async function kidPrcPart(run: EvalRun): Promise<void> {
  const { opts, what, gen, log, notes, results, seed } = run;
  const count = run.labels.length;
  // one float64 pass over every pair of feature vectors serves both (host side: ~30 s at 10 000 × 10 000)
  const rt = await run.realTestSet();
  const parts = [what.has('kid') && 'KID', what.has('prc') && 'precision/recall'].filter(Boolean).join(' and ');
  log(`${parts}: ${count} generated vs ${rt.labels.length} real feature vectors`);
  const t = performance.now();
  const r = kidPrc(gen!.features, rt.c.features, gen!.dim, {
    kid: what.has('kid') ? { ...opts.kid, seed } : null,
    prc: what.has('prc') ? (opts.prc ?? {}) : null,
  });
  const s = ((performance.now() - t) / 1000).toFixed(1);
  if (r.kid) {
    const { values: _, ...k } = r.kid;
    results.kid = k;
    const about = `${k.subsets} subsets of ${k.subsetSize}; ${s} s`;
    log(`KID ${k.mean.toExponential(3)} ± ${k.std.toExponential(2)} (${about})`);
    if (k.subsetSize < k.requestedSize) {
      const fewer = Math.min(k.nGenerated, k.nReal);
      notes.push(`KID subsets of ${k.subsetSize} rows, not ${k.requestedSize}: the smaller set has only ${fewer}`);
    }
  }
  if (r.prc) {
    results.prc = r.prc;
    log(`precision ${r.prc.precision.toFixed(4)}, recall ${r.prc.recall.toFixed(4)} (k = ${r.prc.k}; ${s} s)`);
  }
}

/** the classifier score (the IS formula), beside the real test images' when they were classified */
function iscPart(run: EvalRun): void {
  const { opts, gen, classes, log, results, seed } = run;
  const realTest = run.realTest();
  const o = { ...opts.isc, seed };
  const g = isc(gen!.logits, classes, o);
  // the real test images' score for reference, when another part classified them anyway
  results.isc = realTest ? { ...g, real: isc(realTest.c.logits, classes, o) } : g;
  const real = results.isc.real ? `; real test images ${results.isc.real.mean.toFixed(3)}` : '';
  log(`classifier score ${g.mean.toFixed(3)} ± ${g.std.toFixed(3)} (${g.splits} splits)${real}`);
}

/** does the classifier see the intended class: overall, per class, the confusion matrix */
function accuracyPart(run: EvalRun): void {
  const { gen, labels, classes, log, write, results } = run;
  const realTest = run.realTest();
  const acc = accuracyOf(gen!.predictions, labels, classes);
  const real = realTest ? accuracyOf(realTest.c.predictions, realTest.labels, classes) : null;
  results.accuracy = real ? { ...acc, real: { acc: real.acc, count: real.count } } : acc;
  write(
    'confusion.svg',
    confusionMatrix(
      `Generated samples: intended (rows) vs predicted (accuracy ${(100 * acc.acc).toFixed(2)}%)`,
      acc.confusion,
      CLASS_NAMES,
    ),
  );
  log(`accuracy on intended labels ${(100 * acc.acc).toFixed(2)}%`);
}

/** the predicted classes' shares */
function balancePart(run: EvalRun): void {
  const { gen, labels, classes, log, write, notes, results } = run;
  const b = classBalance(gen!.predictions, classes, labels);
  results.balance = b;
  if (b.intendedShares?.some((s) => Math.abs(s - b.expected) > 0.02))
    notes.push(
      'the intended labels are not uniform, so the class-balance deviations mix the label distribution with the generator’s',
    );
  write(
    'balance.svg',
    barChart(
      'Predicted class shares',
      CLASS_NAMES.map((nm, c) => `${c} ${nm}`),
      b.shares,
      { reference: b.expected, referenceLabel: 'even share', percent: true, yLabel: 'share of samples' },
    ),
  );
  log(`class balance: largest deviation ${(100 * b.maxDeviation).toFixed(2)} points (${CLASS_NAMES[b.worstClass]})`);
}

/** the same samples with their noise truncated at each threshold, scored like the untruncated ones (GAN only) */
async function truncationPart(run: EvalRun): Promise<ReturnType<typeof truncationFigures> | undefined> {
  const { be, opts, G, model, labels, classes, batch, seed, gen, log, write, notes, results } = run;
  const count = labels.length;
  const classifier = results.classifier;
  if (!G) {
    notes.push('the truncation study needs a generator: not run for IDX samples');
    return undefined;
  }
  const thresholds = opts.truncation ?? TRUNCATION_THRESHOLDS;
  const bad = thresholds.find((t) => !(t > 0));
  if (bad !== undefined) throw new EvalUsageError(`truncation thresholds must be > 0, got ${bad}`);
  const gR = featureGaussian((await run.realTestSet()).c);
  const row = (threshold: number | null, c: Classified): TruncationRow => {
    const a = accuracyOf(c.predictions, labels, classes);
    const b = classBalance(c.predictions, classes, labels);
    return {
      threshold,
      fid: fidFromFeatures(featureGaussian(c), gR, null, classifier.name).fid,
      acc: a.acc,
      perClassAcc: a.perClass.map((p) => p.acc),
      maxDeviation: b.maxDeviation,
      worstClass: b.worstClass,
    };
  };
  const rows = [row(null, gen!)];
  for (const t of thresholds) {
    // the same labels and noise stream as the samples above, the components outside ±t redrawn
    log(`truncation: ${count} samples with noise truncated at ±${t}`);
    const imgs = fromSymmetric(await generateLabelled(be, G, labels, new Generator(seed), batch, t));
    rows.push(row(t, await classify(be, model, imgs, batch)));
    const r = rows[rows.length - 1];
    log(
      `truncation ±${t}: FID ${r.fid.toFixed(3)}, accuracy ${(100 * r.acc).toFixed(2)}%, balance ${(100 * r.maxDeviation).toFixed(2)} points`,
    );
  }
  results.truncation = rows;
  const grid = gridOf(await truncationGrid(be, G, { thresholds: [Infinity, ...thresholds], seed: seed + 4 }));
  write('truncation.png', grid);
  const truncationReport = truncationFigures(rows, grid);
  for (const f of truncationReport.figures) if (f.svg) write(f.name!, f.svg);
  return truncationReport;
}

/** interpolation grids (GAN only), PCA and t-SNE maps and silhouettes of classifier features */
async function latentPart(run: EvalRun): Promise<ReportFigure[]> {
  const figures: ReportFigure[] = [];
  if (run.G) figures.push(...(await latentGrids(run, run.G)));
  else run.notes.push('interpolation grids need a generator: not made for IDX samples');
  figures.push(...(await featureMaps(run)));
  return figures;
}

/** interpolations within each class and one noise vector swept over the classes */
async function latentGrids(run: EvalRun, G: GanGenerator): Promise<ReportFigure[]> {
  const { be, opts, classes, seed, log, write } = run;
  const latentFigures: ReportFigure[] = [];
  const lo = opts.latent ?? {};
  const steps = lo.steps ?? 10;
  log('latent: interpolation grids');
  const cls = [...Array(classes).keys()];
  for (const mode of ['lerp', 'slerp'] as const) {
    const g = await interpolationGrid(be, G, { classes: cls, steps, seed: seed + 1, mode });
    const png = gridOf(g);
    write(`interp_${mode}.png`, png);
    latentFigures.push({
      caption: `Interpolation within each class (rows), ${mode === 'lerp' ? 'linear' : 'spherical'} between two noise vectors in ${steps} steps (same noise pairs in both figures).`,
      png,
    });
  }
  const sweep = await classSweepGrid(be, G, { rows: lo.sweepRows ?? 8, seed: seed + 2 });
  const png = gridOf(sweep);
  write('class_sweep.png', png);
  latentFigures.push({
    caption: `Fixed noise (rows), every class (columns ${CLASS_NAMES.map((nm, c) => `${c} ${nm}`).join(', ')}).`,
    png,
  });
  return latentFigures;
}

/** PCA and t-SNE maps and silhouette scores of the classifier's features, generated beside real */
async function featureMaps(run: EvalRun): Promise<ReportFigure[]> {
  const { be, opts, model, labels, classes, batch, seed, gen, log, write, results } = run;
  const realTest = run.realTest();
  const latentFigures: ReportFigure[] = [];
  const lo = opts.latent ?? {};
  const per = lo.perClass ?? 30;
  const gi = stratifiedIndices(labels, per, classes);
  const gFeat = takeRows(gen!.features, gen!.dim, gi);
  const gLab = Int32Array.from(gi, (i) => labels[i]);
  let rFeat: Float64Array, rLab: Int32Array;
  if (realTest) {
    const ri = stratifiedIndices(realTest.labels, per, classes);
    rFeat = takeRows(realTest.c.features, realTest.c.dim, ri);
    rLab = Int32Array.from(ri, (i) => realTest!.labels[i]);
  } else {
    const ri = stratifiedIndices(opts.data.test.labels, per, classes);
    const sub = pickImagesAt(opts.data.test, ri);
    log(`latent: classifying ${ri.length} real test images`);
    const c = await classify(be, model, sub.images, batch);
    rFeat = Float64Array.from(c.features);
    rLab = sub.labels;
  }
  const dim = gen!.dim;
  log(`latent: PCA, t-SNE and silhouettes of ${gLab.length} generated and ${rLab.length} real feature vectors`);
  const pca = pcaFit(rFeat, dim, 2);
  const ev = pca.explained.map((e) => `${(100 * e).toFixed(1)}%`).join(', ');
  const proj = { real: pcaProject(pca, rFeat, dim), generated: pcaProject(pca, gFeat, dim) };
  const bounds = scatterBounds(proj.real, proj.generated);
  for (const [name, l] of [
    ['real', rLab],
    ['generated', gLab],
  ] as const) {
    const svg = scatterPlot(`PCA of classifier features: ${name}`, proj[name], l, CLASS_NAMES, {
      bounds,
      xLabel: 'PC 1',
      yLabel: 'PC 2',
    });
    write(`pca_${name}.svg`, svg);
    latentFigures.push({
      caption: `${name === 'real' ? 'Real test images' : 'Generated samples (coloured by intended class)'} in the first two principal components of the real features (explained variance ${ev}); both panels share the projection.`,
      svg,
    });
  }
  const tsneKl: Record<string, number> = {};
  for (const [name, f, l] of [
    ['real', rFeat, rLab],
    ['generated', gFeat, gLab],
  ] as const) {
    const t = tsne(f, dim, { perplexity: lo.perplexity ?? 30, iterations: lo.tsneIterations ?? 1000, seed });
    tsneKl[name] = t.kl;
    const svg = scatterPlot(`t-SNE of classifier features: ${name}`, t.y, l, CLASS_NAMES);
    write(`tsne_${name}.svg`, svg);
    latentFigures.push({
      caption: `Exact t-SNE (perplexity ${t.perplexity.toFixed(0)}, KL ${t.kl.toFixed(3)}) of ${l.length} ${name === 'real' ? 'real test' : 'generated'} feature vectors.`,
      svg,
    });
  }
  results.latent = {
    perClass: per,
    pcaExplained: pca.explained,
    silhouette: { real: silhouette(rFeat, dim, rLab, classes), generated: silhouette(gFeat, dim, gLab, classes) },
    tsneKl: { real: tsneKl.real, generated: tsneKl.generated },
  };
  return latentFigures;
}

/** classifiers trained on real, real + synthetic and synthetic images, tested on real ones */
async function augmentPart(run: EvalRun): Promise<void> {
  const { be, opts, G, idxSet, model, classes, batch, seed, log, notes, results } = run;
  const a = opts.augment ?? {};
  const synthGen = new Generator(seed + 3);
  const synth = async (m: number): Promise<LabelledImages> => {
    if (G) {
      const y = Int32Array.from({ length: m }, (_, i) => i % classes);
      log(`augment: generating ${m} synthetic training images`);
      const img = await generateLabelled(be, G, y, synthGen, batch);
      return { images: toBytes(img, 'symmetric'), labels: Uint8Array.from(y), count: m, rows: 28, cols: 28 };
    }
    const s = idxSet!;
    const k = Math.min(m, s.count);
    return { images: s.images.subarray(0, k * 784), labels: s.labels.subarray(0, k), count: k, rows: 28, cols: 28 };
  };
  results.augment = await augmentationStudy(be, opts.data, synth, {
    epochs: a.epochs ?? 10,
    batch: a.batch ?? 64,
    lr: a.lr ?? 1e-3,
    seed: a.seed ?? seed,
    ratios: a.ratios,
    tstr: a.tstr,
    trainSubset: a.trainSubset,
    testSubset: a.testSubset,
    valFraction: a.valFraction,
    config: a.config ?? model.config,
    log,
  });
  notes.push(...results.augment.notes);
}

/** report.html (when asked) and results.json */
function finishEval(
  run: EvalRun,
  t0: number,
  truncationReport: ReturnType<typeof truncationFigures> | undefined,
  latentFigures: ReportFigure[],
): EvalResults {
  const { opts, what, ganMeta, log, write, results } = run;
  const out = opts.outDir;
  results.seconds = (performance.now() - t0) / 1000;
  if (what.has('report')) {
    write(
      'report.html',
      reportHtml(
        reportInput(results, opts, ganMeta, latentFigures, readFileSync(join(out, 'samples.png')), truncationReport),
      ),
    );
    log(`wrote ${join(out, 'report.html')}`);
  }
  results.files.push('results.json');
  results.seconds = (performance.now() - t0) / 1000;
  // the numbers first, the bookkeeping last
  const { files: f, notes: nt, seconds, ...rest } = results;
  writeFileSync(join(out, 'results.json'), JSON.stringify({ ...rest, notes: nt, files: f, seconds }, null, 2));
  return results;
}

/** G's images [n·784] in [−1, 1] for labels y and noise drawn from `g` (truncated at ±truncation, if given) */
async function generateLabelled(
  be: Backend,
  G: GanGenerator,
  y: Int32Array,
  g: Generator,
  batch: number,
  truncation = Infinity,
): Promise<Float32Array> {
  const n = y.length,
    d = G.config.noiseDim;
  const out = new Float32Array(n * 784);
  // in chunks, so the noise and label tensors stay small for large n
  const chunk = Math.max(batch, 5000);
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const z = Tensor.from(be, g.truncatedNormal(m * d, truncation), [m, d]); // Infinity: normal()'s draws
    const yt = Tensor.from(be, y.subarray(i, i + m), [m], 'i32');
    out.set(await generate(G, z, yt, batch), i * 784);
    z.dispose();
    yt.dispose();
  }
  return out;
}

/** the truncation study's two charts against the threshold: accuracy and class balance (percent), and FID (the
 * untruncated samples' values go in the captions: they have no threshold to stand at) */
export function truncationCharts(
  rows: TruncationRow[],
): Record<'truncation_accuracy.svg' | 'truncation_fid.svg', string> {
  const cut = rows.filter((r) => r.threshold !== null).sort((a, b) => a.threshold! - b.threshold!);
  const x = cut.map((r) => r.threshold!);
  return {
    'truncation_accuracy.svg': lineChart('Accuracy and class balance of truncated samples', 'truncation threshold', [
      { name: 'accuracy %', x, y: cut.map((r) => 100 * r.acc) },
      { name: 'worst class, pts', x, y: cut.map((r) => 100 * r.maxDeviation) },
    ]),
    'truncation_fid.svg': lineChart('FID of truncated samples', 'truncation threshold', [
      { name: 'FID', x, y: cut.map((r) => r.fid) },
    ]),
  };
}

/** up to `per` images of each class, class-major (a row per class), blank where a class has fewer */
function classMajor(images: Float32Array, labels: Int32Array, classes: number, per: number): Float32Array {
  const out = new Float32Array(classes * per * 784);
  const taken = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (taken[c] >= per) continue;
    out.set(images.subarray(i * 784, (i + 1) * 784), (c * per + taken[c]) * 784);
    taken[c]++;
  }
  return out;
}

function pickImagesAt(set: LabelledImages, idx: ArrayLike<number>): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(idx.length * 784);
  const labels = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    for (let p = 0; p < 784; p++) images[i * 784 + p] = set.images[idx[i] * 784 + p] / 255;
    labels[i] = set.labels[idx[i]];
  }
  return { images, labels };
}

const gridOf = (g: ImageGrid): Uint8Array => new Uint8Array(gridPng(g.images, { rows: g.rows, cols: g.cols }));

/** loss curves, per-epoch grids and --trace charts of the GAN run the checkpoint came from */
function trainingFigures(
  ganCheckpoint: string,
  meta: Record<string, any>,
): { curves: ReportFigure[]; grids: { epoch: number; png: Uint8Array }[]; trace: ReportFigure[] | null } {
  const curves: ReportFigure[] = [];
  const h = (meta.history ?? []) as GanEpoch[];
  if (h.length) {
    const lc = lossCharts(h);
    curves.push({ caption: 'Training losses per epoch (means over the epoch’s steps).', svg: lc.losses });
    curves.push({
      caption: 'Mean discriminator output on real images, D(x), and on generated ones, D(G(z)).',
      svg: lc.dOutputs,
    });
    const fc = fidCharts(h);
    if (fc) {
      const both = fc.trained
        ? " Two lines: the generator's weight average (what samples come from) and the trained weights."
        : '';
      curves.push({
        caption: `FID during training (--fid-every), on the same classifier's features with the run's --fid-n generated and test images (usually fewer than the evaluation's, and fewer images give a higher FID), with the real-vs-real floor at that size.${both}`,
        svg: fc.fid,
      });
      if (fc.accuracy)
        curves.push({
          caption: `The classifier's accuracy on those generated images (their intended labels) during training.${both}`,
          svg: fc.accuracy,
        });
    }
  }
  const dir = join(dirname(ganCheckpoint), 'samples');
  const grids: { epoch: number; png: Uint8Array }[] = [];
  if (existsSync(dir)) {
    const epochs = readdirSync(dir)
      .map((f) => /^epoch_(\d+)\.png$/.exec(f))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => +m[1])
      .sort((a, b) => a - b);
    // at most 6, evenly spaced, always the first and the last
    const pick =
      epochs.length <= 6
        ? epochs
        : [...new Set(Array.from({ length: 6 }, (_, i) => epochs[Math.round((i * (epochs.length - 1)) / 5)]))];
    for (const e of pick)
      grids.push({ epoch: e, png: new Uint8Array(readFileSync(join(dir, `epoch_${String(e).padStart(3, '0')}.png`))) });
  }
  const tracePath = join(dirname(ganCheckpoint), 'trace.jsonl');
  const trace = existsSync(tracePath)
    ? traceCharts(
        readFileSync(tracePath, 'utf8')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as TraceLine),
      )
    : null;
  return { curves, grids, trace };
}

/** the truncation study's figures for the report (the charts named by the files they are also written to) */
function truncationFigures(
  rows: TruncationRow[],
  gridPng: Uint8Array,
): ReportTruncation & { figures: (ReportFigure & { name?: string })[] } {
  const base = rows.find((x) => x.threshold === null);
  const charts = truncationCharts(rows);
  return {
    rows,
    figures: [
      {
        name: 'truncation_accuracy.svg',
        caption: `Accuracy of the classifier on the truncated samples, and the largest deviation of a predicted class's share from an even one, in points${base ? ` (untruncated: ${(100 * base.acc).toFixed(2)}% and ${(100 * base.maxDeviation).toFixed(2)} points)` : ''}.`,
        svg: charts['truncation_accuracy.svg'],
      },
      {
        name: 'truncation_fid.svg',
        caption: `FID of the truncated samples against the real test set${base ? ` (untruncated: ${base.fid.toFixed(3)})` : ''}.`,
        svg: charts['truncation_fid.svg'],
      },
      {
        caption: 'One noise vector (rows: untruncated, then truncated at each threshold), every class (columns).',
        png: gridPng,
      },
    ],
  };
}

function reportInput(
  r: EvalResults,
  opts: EvalGanOptions,
  ganMeta: Record<string, any> | null,
  latentFigures: ReportFigure[],
  samplesPng: Uint8Array,
  truncation?: ReportTruncation,
): ReportInput {
  const setup: [string, string | number][] = [];
  if (r.source.kind === 'gan') {
    setup.push(
      ['model', `${r.source.model}${r.source.preset ? ` (preset ${r.source.preset})` : ''}`],
      ['checkpoint', r.source.checkpoint],
      ['epochs trained', r.source.epoch ?? '?'],
    );
    if (r.source.weights)
      setup.push([
        'generator weights',
        r.source.weights === 'average'
          ? `the weight average (EMA, decay ${ganMeta?.ema?.decay ?? '?'}, batchnorm statistics recomputed for it)`
          : 'the trained weights',
      ]);
    if (ganMeta?.hyper)
      setup.push(['optimiser', `Adam lr ${ganMeta.hyper.lr}, β1 ${ganMeta.hyper.beta1}, batch ${ganMeta.hyper.batch}`]);
    if (ganMeta?.config)
      setup.push([
        'generator',
        `noise ${ganMeta.config.noiseDim}-d, ${ganMeta.config.gMaps}/${ganMeta.config.gMid} maps; discriminator channels ${ganMeta.config.dChannels?.join('/')}`,
      ]);
  } else setup.push(['samples', `${r.source.samples} (${r.source.fileCount} images)`], ['labels', r.source.labels]);
  setup.push([
    'samples evaluated',
    `${r.n} (${r.source.kind === 'gan' ? `labels cycling 0–9, noise seed ${r.seed}` : 'labels from the file'})`,
  ]);
  const c = r.classifier;
  setup.push([
    'classifier',
    `${c.checkpoint} (epoch ${c.epoch ?? '?'}${c.bestValAcc !== undefined ? `, validation accuracy ${(100 * c.bestValAcc).toFixed(2)}%` : ''}${c.testAcc !== undefined ? `, test accuracy ${(100 * c.testAcc).toFixed(2)}%` : ''}; SHA-256 ${c.sha256})`,
  ]);
  setup.push(['real data', opts.data.source]);
  setup.push(['evaluations', r.what.join(', ')], ['evaluation time', `${r.seconds.toFixed(1)} s`]);
  setup.push(...(opts.setup ?? []));
  const tf =
    r.source.kind === 'gan' && ganMeta
      ? trainingFigures(r.source.checkpoint, ganMeta)
      : { curves: [], grids: [], trace: undefined };
  return {
    title: `Evaluation of ${r.source.kind === 'gan' ? `${r.source.model} ${basename(dirname(r.source.checkpoint))}` : basename(r.source.samples)}`,
    subtitle: `${r.created.slice(0, 10)} · fmnist-webgpu-engine`,
    setup,
    lossCurves: tf.curves,
    sampleGrids: tf.grids,
    trace: tf.trace,
    samples: {
      caption: `Evaluated samples: the first ten of each class (a row per class, ${CLASS_NAMES.join(', ')}).`,
      png: samplesPng,
    },
    fid: r.fid,
    kid: r.kid,
    prc: r.prc,
    isc: r.isc,
    accuracy: r.accuracy
      ? { ...r.accuracy, realAcc: r.accuracy.real?.acc, realCount: r.accuracy.real?.count }
      : undefined,
    balance: r.balance,
    truncation,
    augment: r.augment,
    latent:
      r.latent || latentFigures.length
        ? {
            figures: latentFigures,
            silhouette: r.latent
              ? [
                  { name: 'real', s: r.latent.silhouette.real },
                  { name: 'generated', s: r.latent.silhouette.generated },
                ]
              : undefined,
            pcaExplained: r.latent?.pcaExplained,
          }
        : undefined,
    notes: r.notes,
  };
}
