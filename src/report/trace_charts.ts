// report/trace_charts.ts — a run's --trace statistics (trace.jsonl, src/gan/trace.ts) as charts over epochs, for
// report.html's training section.
import type { TraceLine } from '../gan/trace.js';
import { lineChart } from './svg.js';

/**
 * trace.jsonl as charts over epochs (report.html draws them): G's activations (their spread) and the gradients
 * arriving at them in a G step (log10 of their mean magnitude: vanishing shows as a fall), D's activations on real
 * images, and the spread of every weight tensor and of G's weight gradients. Captions say what to look for.
 */
export function traceCharts(lines: readonly TraceLine[]): { caption: string; svg: string }[] {
  if (!lines.length) return [];
  const x = lines.map((l) => l.epoch);
  const log = (v: number | undefined) => (v !== undefined && v > 0 ? Math.log10(v) : NaN);
  const series = (names: string[], get: (l: TraceLine, n: string) => number) =>
    names.map((n) => ({ name: n, x, y: lines.map((l) => get(l, n)) }));
  const gLayers = Object.keys(lines[0].G),
    dLayers = Object.keys(lines[0].D);
  const weights = Object.keys(lines[0].params).filter((n) => n.endsWith('weight') && !/\.bn\d*\.|_bn/.test(n));
  const gWeights = weights.filter((n) => n.startsWith('G.'));
  return [
    {
      caption:
        "G's activations on fixed noise and labels (training mode): the standard deviation of each layer's output per epoch. A layer whose spread collapses towards 0 has stopped carrying information; one that grows without bound is saturating the next.",
      svg: lineChart(
        'G: activation spread (std) per layer',
        'epoch',
        series(gLayers, (l, n) => l.G[n]?.act.std ?? NaN),
      ),
    },
    {
      caption:
        "The gradient of G's loss arriving at each of G's layers (through the frozen D), log10 of its mean magnitude per epoch. A fall by orders of magnitude is G's gradient vanishing: D has become too sure, and G learns little.",
      svg: lineChart(
        'G: log10 mean |gradient| at each layer',
        'epoch',
        series(gLayers, (l, n) => log(l.G[n]?.grad?.absMean)),
      ),
    },
    {
      caption:
        "D's activations on real training images (training mode): the standard deviation of each convolution's output per epoch.",
      svg: lineChart(
        'D: activation spread (std) per layer, real images',
        'epoch',
        series(dLayers, (l, n) => l.D[n]?.act.std ?? NaN),
      ),
    },
    {
      caption:
        "The spread of each weight tensor (std) per epoch, G's and D's: weights that drift steadily apart from where they started show the networks still moving.",
      svg: lineChart(
        'Weights: std per tensor',
        'epoch',
        series(weights, (l, n) => l.params[n]?.weight.std ?? NaN),
      ),
    },
    {
      caption:
        "G's weight gradients in a G step, log10 of their mean magnitude per epoch (D's are not traced: the trace's step is G's).",
      svg: lineChart(
        'G: log10 mean |gradient| per weight tensor',
        'epoch',
        series(gWeights, (l, n) => log(l.params[n]?.grad?.absMean)),
      ),
    },
  ];
}
