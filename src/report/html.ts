// report/html.ts — report.html for an evaluated GAN run: one self-contained file (SVG inline, PNGs as data: URIs, a
// few lines of CSS, no scripts, nothing fetched) laid out like a short paper: summary, setup, training (loss
// curves, sample grids by epoch, --trace's per-layer statistics), sample quality (FID; KID, precision and recall,
// classifier score; accuracy, confusion matrix, class balance), generated images as training data (augmentation /
// TSTR table), latent space (interpolations, PCA, t-SNE, silhouettes), notes.
// The input is a plain object holding whatever a run has; a missing section is replaced by a one-line note, so a
// tiny run still gets a valid report. Pure string building (no Node), so the browser playground can use it too.
import type { BalanceResult } from '../eval/metrics.js';
import type { KidResult, PrcResult } from '../eval/kid_prc.js';
import type { IscResult } from '../eval/isc.js';
import { barChart, confusionMatrix } from './svg.js';
import { CLASS_NAMES } from '../data/dataset.js';

export interface ReportFigure {
  caption: string;
  /** an inline SVG document (from src/report/svg.ts) */
  svg?: string;
  /** PNG bytes, embedded as a data: URI */
  png?: Uint8Array;
}

export interface ReportFid {
  fid: number;
  realFloor: number | null;
  nGenerated: number;
  nReal: number;
  nRealTrain: number;
  dim: number;
  classifier: string;
  clipped?: number;
  mostNegative?: number;
}

/** KID, precision/recall and the classifier score as the evaluation computes them */
export type ReportKid = Pick<KidResult, 'mean' | 'std' | 'subsets' | 'subsetSize' | 'nGenerated' | 'nReal' | 'dim'>;
export type ReportPrc = Pick<PrcResult, 'precision' | 'recall' | 'fScore' | 'k' | 'nGenerated' | 'nReal' | 'dim'>;
export type ReportIsc = Pick<IscResult, 'mean' | 'std' | 'splits' | 'n' | 'classes'> & {
  /** the real test images' score, for reference */
  real?: Pick<IscResult, 'mean' | 'std' | 'splits' | 'n'>;
};

export interface ReportAccuracy {
  acc: number;
  count: number;
  perClass: { name: string; count: number; correct: number; acc: number }[];
  /** [intended][predicted] */
  confusion: number[][];
  /** the classifier's accuracy on real test images, for reference */
  realAcc?: number;
  realCount?: number;
}

/** the class-balance figures a report shows (the evaluation's BalanceResult carries them) */
export type ReportBalance = Pick<
  BalanceResult,
  'count' | 'counts' | 'shares' | 'expected' | 'maxDeviation' | 'worstClass' | 'totalVariation'
>;

export interface ReportAugment {
  rows: { setting: string; real: number; synthetic: number; testAcc: number; valAcc?: number; seconds?: number }[];
  epochs: number;
  seed: number;
  testCount: number;
  notes?: string[];
}

export interface ReportSilhouette {
  overall: number;
  perClass: number[];
  count: number;
}

export interface ReportTruncation {
  /** threshold null: the untruncated samples */
  rows: { threshold: number | null; fid: number; acc: number; maxDeviation: number; worstClass: number }[];
  /** the charts and the grid (one noise vector per row, truncated at each threshold, every class) */
  figures: ReportFigure[];
}

export interface ReportInput {
  title: string;
  /** e.g. the date and the command */
  subtitle?: string;
  /** setup as key–value rows (model, checkpoint, epochs, classifier, seed, device, …) */
  setup?: [string, string | number][];
  lossCurves?: ReportFigure[];
  /** `--trace` statistics over training (per-layer activations and gradients), or null: the run had no --trace */
  trace?: ReportFigure[] | null;
  /** one grid per (chosen) epoch, oldest first */
  sampleGrids?: { epoch: number | string; png: Uint8Array }[];
  /** the evaluated samples (e.g. 10×10, a row per class) */
  samples?: ReportFigure;
  fid?: ReportFid;
  kid?: ReportKid;
  prc?: ReportPrc;
  isc?: ReportIsc;
  accuracy?: ReportAccuracy;
  balance?: ReportBalance;
  truncation?: ReportTruncation;
  augment?: ReportAugment;
  latent?: { figures: ReportFigure[]; silhouette?: { name: string; s: ReportSilhouette }[]; pcaExplained?: number[] };
  notes?: string[];
  classNames?: readonly string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (v: number, d = 2) => (Number.isFinite(v) ? `${(100 * v).toFixed(d)}%` : '–');
const num = (v: number | null | undefined, d = 3) =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d);
/** 4 significant digits, exponent form below 10⁻³ (KID's values span orders of magnitude) */
const sig = (v: number) =>
  !Number.isFinite(v) ? '–' : v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** standard base64 of bytes (no Node Buffer, so this module stays browser-clean) */
export function base64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += B64[v >> 18] + B64[(v >> 12) & 63] + '==';
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + '=';
  }
  return out;
}

/** the SVG document without its XML prolog, ready to inline */
const inlineSvg = (svg: string) => svg.replace(/^<\?xml[^>]*>\s*/, '');

class Doc {
  private parts: string[] = [];
  private fig = 0;
  private tab = 0;
  add(html: string): void {
    this.parts.push(html);
  }
  figure(f: ReportFigure): void {
    this.fig++;
    const body = f.svg
      ? inlineSvg(f.svg)
      : f.png
        ? `<img src="data:image/png;base64,${base64(f.png)}" alt="${esc(f.caption)}">`
        : '';
    this.add(
      `<figure data-figure="${this.fig}">${body}<figcaption><b>Figure ${this.fig}.</b> ${esc(f.caption)}</figcaption></figure>`,
    );
  }
  table(caption: string, head: string[], rows: (string | number)[][]): void {
    this.tab++;
    const th = head.some((h) => h) ? `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` : '';
    const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('\n');
    this.add(
      `<table data-table="${this.tab}"><caption><b>Table ${this.tab}.</b> ${esc(caption)}</caption>${th}<tbody>\n${tr}\n</tbody></table>`,
    );
  }
  missing(what: string): void {
    this.add(`<p class="missing">${esc(what)}</p>`);
  }
  html(): string {
    return this.parts.join('\n');
  }
}

const CSS = `body{font-family:Georgia,'Times New Roman',serif;max-width:920px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
.subtitle{color:#666;margin-top:0}.abstract{background:#f6f6f6;padding:.8em 1em;border-left:3px solid #888}
figure{margin:1.2em 0;text-align:center}figure svg,figure img{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#444;margin-top:.3em}.grids{display:flex;flex-wrap:wrap;gap:.5em;justify-content:center}
.grids figure{margin:.3em}table{border-collapse:collapse;margin:1em auto;font-size:.92em}
caption{caption-side:top;margin-bottom:.4em;font-size:.95em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f0f0f0}td:first-child{text-align:left}.missing{color:#999;font-style:italic}`;

/** the whole report as one HTML string */
export function reportHtml(r: ReportInput): string {
  const names = r.classNames ?? CLASS_NAMES;
  const d = new Doc();
  d.add(`<h1>${esc(r.title)}</h1>`);
  if (r.subtitle) d.add(`<p class="subtitle">${esc(r.subtitle)}</p>`);

  // summary: the headline numbers that exist
  const headline: string[] = [];
  if (r.fid)
    headline.push(
      `FID ${num(r.fid.fid, 2)} against ${r.fid.nReal} real test images (real-vs-real floor ${num(r.fid.realFloor, 2)}), in the ${r.fid.dim}-d feature space of ${r.fid.classifier}`,
    );
  if (r.kid) headline.push(`KID ${sig(r.kid.mean)} ± ${sig(r.kid.std)}`);
  if (r.prc) headline.push(`precision ${num(r.prc.precision)} and recall ${num(r.prc.recall)} (k = ${r.prc.k})`);
  if (r.isc) {
    const real = r.isc.real ? ` (real test images ${num(r.isc.real.mean, 2)})` : '';
    headline.push(`classifier score ${num(r.isc.mean, 2)} of at most ${r.isc.classes}${real}`);
  }
  if (r.accuracy)
    headline.push(
      `the classifier names the intended class of ${pct(r.accuracy.acc)} of ${r.accuracy.count} samples${r.accuracy.realAcc !== undefined ? ` (${pct(r.accuracy.realAcc)} on real test images)` : ''}`,
    );
  if (r.balance)
    headline.push(
      `predicted classes deviate from an even ${pct(r.balance.expected, 0)} share by at most ${pct(r.balance.maxDeviation)} (${names[r.balance.worstClass] ?? r.balance.worstClass})`,
    );
  if (r.augment?.rows.length) {
    const base = r.augment.rows.find((x) => x.synthetic === 0);
    const best = [...r.augment.rows].sort((a, b) => b.testAcc - a.testAcc)[0];
    headline.push(
      `as training data, the best setting is “${best.setting}” at ${pct(best.testAcc)} test accuracy${base ? ` (real only: ${pct(base.testAcc)})` : ''}`,
    );
  }
  d.add(
    `<p class="abstract"><b>Summary.</b> ${headline.length ? esc(headline.join('; ')) + '.' : 'No metrics were computed in this run.'}</p>`,
  );

  d.add('<h2>1. Setup</h2>');
  if (r.setup?.length)
    d.table(
      'Run and evaluation settings.',
      ['', ''],
      r.setup.map(([k, v]) => [k, v]),
    );
  else d.missing('No setup recorded.');

  d.add('<h2>2. Training</h2>');
  if (r.lossCurves?.length) for (const f of r.lossCurves) d.figure(f);
  else d.missing('No loss curves: the checkpoint has no training history (or samples came from IDX files).');
  if (r.sampleGrids?.length) {
    d.add('<div class="grids">');
    for (const g of r.sampleGrids)
      d.figure({ caption: `Samples after epoch ${g.epoch} (fixed noise, a row per class).`, png: g.png });
    d.add('</div>');
  } else d.missing('No per-epoch sample grids found next to the checkpoint.');
  if (r.trace !== undefined) {
    d.add('<h3>2.1 Inside the networks (--trace)</h3>');
    if (r.trace?.length) for (const f of r.trace) d.figure(f);
    else
      d.missing(
        'No trace.jsonl next to the checkpoint: train with --trace to see per-layer activation and gradient statistics here.',
      );
  }

  d.add('<h2>3. Sample quality</h2>');
  if (r.samples) d.figure(r.samples);
  d.add('<h3>3.1 Fréchet distance</h3>');
  if (r.fid) {
    d.table(
      `Fréchet distance (FID formula) in the ${r.fid.dim}-d penultimate feature space of the CNN classifier ${r.fid.classifier}; lower is better. Not comparable with Inception-based FIDs; compare only at equal sample counts.`,
      ['comparison', 'samples', 'reference', 'd²'],
      [
        ['generated vs real test', r.fid.nGenerated, r.fid.nReal, num(r.fid.fid, 3)],
        ...(r.fid.realFloor !== null
          ? [['real train vs real test (floor)', r.fid.nRealTrain, r.fid.nReal, num(r.fid.realFloor, 3)]]
          : []),
      ],
    );
    if (r.fid.clipped)
      d.add(
        `<p>${r.fid.clipped} negative eigenvalue(s)${r.fid.mostNegative !== undefined ? ` (the most negative ${r.fid.mostNegative.toExponential(2)})` : ''} were clipped to 0 in the matrix square roots: covariances estimated from few samples, or with constant features, are singular, and round-off leaves their zero eigenvalues slightly negative.</p>`,
      );
  } else d.missing('FID not computed in this run.');
  d.add('<h3>3.2 Kernel distance, precision and recall, classifier score</h3>');
  if (r.kid || r.prc || r.isc) {
    const rows: (string | number)[][] = [];
    if (r.kid) {
      const about = `${r.kid.subsets} subset pairs of ${r.kid.subsetSize}; 0 expected for a perfect generator`;
      rows.push([
        'KID (MMD², polynomial kernel; lower is better)',
        `${r.kid.nGenerated} vs ${r.kid.nReal}`,
        `${sig(r.kid.mean)} ± ${sig(r.kid.std)}`,
        about,
      ]);
    }
    if (r.prc) {
      const n = `${r.prc.nGenerated} vs ${r.prc.nReal}`;
      const k = `k = ${r.prc.k} neighbours`;
      rows.push(['precision (generated inside the real manifold)', n, num(r.prc.precision, 4), k]);
      rows.push(['recall (real inside the generated manifold)', n, num(r.prc.recall, 4), `k = ${r.prc.k}`]);
      rows.push(['F-score', n, num(r.prc.fScore, 4), '2PR / (P + R)']);
    }
    if (r.isc) {
      const i = r.isc;
      const real = i.real ? `; real test images ${num(i.real.mean, 3)} ± ${num(i.real.std, 3)} (${i.real.n})` : '';
      rows.push([
        'classifier score (Inception Score formula; higher is better)',
        i.n,
        `${num(i.mean, 3)} ± ${num(i.std, 3)}`,
        `${i.splits} splits; at most ${i.classes}${real}`,
      ]);
    }
    const dim = r.kid?.dim ?? r.prc?.dim;
    const space = dim ? `, on the same ${dim}-d classifier features` : '';
    const caption =
      `torch-fidelity's measures beside FID${space} (the classifier score on its class probabilities). ` +
      'Like FID, they depend on our classifier and are not comparable with Inception-based values.';
    d.table(caption, ['measure', 'samples', 'value', ''], rows);
    const missing = [!r.kid && 'KID', !r.prc && 'precision/recall', !r.isc && 'the classifier score'].filter(Boolean);
    if (missing.length) d.add(`<p>${esc(missing.join(', '))}: not computed in this run.</p>`);
  } else d.missing('KID, precision/recall and the classifier score not computed in this run.');
  d.add('<h3>3.3 Does the classifier see the intended class?</h3>');
  if (r.accuracy) {
    const a = r.accuracy;
    d.table(
      `Accuracy of the classifier on generated samples against the labels they were generated for${a.realAcc !== undefined ? `; on ${a.realCount ?? ''} real test images it scores ${pct(a.realAcc)}` : ''}.`,
      ['class', 'samples', 'correct', 'accuracy'],
      [
        ...a.perClass.map((p, c) => [`${c} ${p.name}`, p.count, p.correct, pct(p.acc)]),
        ['all', a.count, a.perClass.reduce((s, p) => s + p.correct, 0), pct(a.acc)],
      ],
    );
    d.figure({
      caption:
        'Confusion matrix of generated samples: rows the intended class, columns the class the classifier predicts.',
      svg: confusionMatrix(`Generated samples (accuracy ${pct(a.acc)})`, a.confusion, names),
    });
  } else d.missing('Accuracy not computed in this run.');
  d.add('<h3>3.4 Class balance</h3>');
  if (r.balance) {
    const b = r.balance;
    d.figure({
      caption: `Share of samples predicted as each class (labels drawn uniformly; ${b.count} samples). Dashed: the even share ${pct(b.expected, 0)}. Largest deviation ${pct(b.maxDeviation)} (${names[b.worstClass] ?? b.worstClass}); total variation ${num(b.totalVariation, 3)}.`,
      svg: barChart(
        'Predicted class shares',
        names.map((n, c) => `${c} ${n}`),
        b.shares,
        { reference: b.expected, referenceLabel: 'even share', percent: true, yLabel: 'share of samples' },
      ),
    });
  } else d.missing('Class balance not computed in this run.');

  d.add('<h3>3.5 Truncation: fidelity against variety</h3>');
  if (r.truncation?.rows.length) {
    const t = r.truncation;
    d.add(
      '<p>The truncation trick (BigGAN): noise components outside ±t are drawn again, so the generator sees noise nearer its mode. Samples become more typical of their class, usually easier to classify, and less varied, which FID, measuring the whole distribution, charges for. The samples are the ones above (same labels, same noise), only their components outside ±t redrawn. Every other number in this report is from the untruncated samples.</p>',
    );
    d.table(
      'Generated samples with truncated noise, scored as above (FID without the floor).',
      ['noise', 'FID', 'accuracy', 'worst class deviation'],
      t.rows.map((x) => [
        x.threshold === null ? 'untruncated' : `truncated at ±${x.threshold}`,
        num(x.fid, 3),
        pct(x.acc),
        `${pct(x.maxDeviation)} (${names[x.worstClass] ?? x.worstClass})`,
      ]),
    );
    for (const f of t.figures) d.figure(f);
  } else d.missing('Truncation study not run in this run (GAN checkpoints only).');

  d.add('<h2>4. Generated images as training data</h2>');
  if (r.augment?.rows.length) {
    const a = r.augment;
    d.table(
      `Test accuracy of the CNN classifier trained for ${a.epochs} epoch(s) (seed ${a.seed}, same initialisation) on real and generated images, tested on ${a.testCount} real test images.`,
      ['training set', 'real', 'synthetic', 'val. acc.', 'test acc.'],
      a.rows.map((x) => [x.setting, x.real, x.synthetic, x.valAcc === undefined ? '–' : pct(x.valAcc), pct(x.testAcc)]),
    );
    for (const n of a.notes ?? []) d.add(`<p>${esc(n)}</p>`);
  } else d.missing('Augmentation study not run (it trains several classifiers: ask for it with what: augment).');

  d.add('<h2>5. Latent space and features</h2>');
  if (r.latent && (r.latent.figures.length || r.latent.silhouette?.length)) {
    for (const f of r.latent.figures) d.figure(f);
    if (r.latent.silhouette?.length) {
      const sets = r.latent.silhouette;
      d.table(
        'Silhouette scores by class in the classifier’s feature space (−1 … 1; higher: classes better separated).',
        ['class', ...sets.map((s) => `${s.name} (${s.s.count})`)],
        [
          ...names.map((n, c) => [`${c} ${n}`, ...sets.map((s) => num(s.s.perClass[c], 3))]),
          ['all', ...sets.map((s) => num(s.s.overall, 3))],
        ],
      );
    }
  } else d.missing('Latent-space figures not made in this run.');

  if (r.notes?.length) {
    d.add('<h2>Notes</h2><ul>');
    for (const n of r.notes) d.add(`<li>${esc(n)}</li>`);
    d.add('</ul>');
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(r.title)}</title><style>${CSS}</style></head><body>\n${d.html()}\n</body></html>\n`;
}
