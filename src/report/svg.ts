// svg.ts — small self-contained SVG charts for run reports (no dependencies): line charts of metrics over
// epochs or steps, and a labelled heat-map for confusion matrices.

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(+v.toPrecision(6));
  return out;
}

export interface Series {
  name: string;
  x: number[];
  y: number[];
}

export function lineChart(title: string, xLabel: string, series: Series[], width = 640, height = 360): string {
  const m = { l: 60, r: 140, t: 36, b: 44 };
  const pts = series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]] as const)).filter(([, y]) => Number.isFinite(y));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!pts.length) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const W = width - m.l - m.r,
    H = height - m.t - m.b;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * W;
  const sy = (y: number) => m.t + H - ((y - y0) / (y1 - y0)) * H;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of ticks(y0, y1))
    parts.push(
      `<line x1="${m.l}" x2="${m.l + W}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
    );
  for (const t of ticks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${m.t + H + 16}" text-anchor="middle">${t}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${m.l + W / 2}" y="${height - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  series.forEach((s, k) => {
    const c = COLORS[k % COLORS.length];
    const d = s.x
      .map((x, i) => (Number.isFinite(s.y[i]) ? `${sx(x).toFixed(1)},${sy(s.y[i]).toFixed(1)}` : null))
      .filter(Boolean);
    if (d.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${d.join(' ')}"/>`);
    else if (d.length === 1)
      parts.push(`<circle cx="${d[0]!.split(',')[0]}" cy="${d[0]!.split(',')[1]}" r="3" fill="${c}"/>`);
    parts.push(
      `<line x1="${m.l + W + 12}" x2="${m.l + W + 32}" y1="${m.t + 10 + 18 * k}" y2="${m.t + 10 + 18 * k}" stroke="${c}" stroke-width="2"/><text x="${m.l + W + 36}" y="${m.t + 14 + 18 * k}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** a confusion matrix (rows: true class, columns: predicted), cells shaded by row share */
export function confusionMatrix(title: string, counts: number[][], labels: readonly string[]): string {
  const n = labels.length;
  const cell = 44,
    left = 110,
    top = 60;
  const width = left + n * cell + 20,
    height = top + n * cell + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${left + (n * cell) / 2}" y="${top - 24}" text-anchor="middle">predicted</text>`,
  ];
  for (let j = 0; j < n; j++)
    parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${j}</text>`);
  for (let i = 0; i < n; i++) {
    const rowSum = counts[i].reduce((a, b) => a + b, 0) || 1;
    parts.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(`${i} ${labels[i]}`)}</text>`,
    );
    for (let j = 0; j < n; j++) {
      const share = counts[i][j] / rowSum;
      const shade = Math.round(255 * (1 - share));
      const fill = i === j ? `rgb(${shade},${Math.round(255 - share * 100)},${shade})` : `rgb(255,${shade},${shade})`;
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ddd"/>`,
      );
      parts.push(
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${share > 0.6 ? 'white' : 'black'}">${counts[i][j]}</text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** ten distinguishable colours (matplotlib's tab10), one per Fashion-MNIST class */
export const CLASS_COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export interface BarOptions {
  /** a dashed horizontal line at this value (e.g. the 10 % a balanced class should get) */
  reference?: number;
  referenceLabel?: string;
  /** y axis label */
  yLabel?: string;
  /** write values as percentages (values are fractions) */
  percent?: boolean;
  /** a second series of bars beside the first (e.g. intended vs predicted) */
  second?: { name: string; values: number[] };
  firstName?: string;
}

/** a vertical bar chart with one bar (or two) per label, values written above the bars */
export function barChart(
  title: string,
  labels: readonly string[],
  values: number[],
  o: BarOptions = {},
  width = 640,
  height = 360,
): string {
  const m = { l: 60, r: 60, t: 40, b: 90 };
  const W = width - m.l - m.r,
    H = height - m.t - m.b;
  const all = [...values, ...(o.second?.values ?? []), o.reference ?? 0].filter((v) => Number.isFinite(v));
  const y1 = Math.max(...all, 1e-12) * 1.15;
  const sy = (v: number) => m.t + H - (Math.max(0, v) / y1) * H;
  const fmt = (v: number) => (o.percent ? `${(100 * v).toFixed(1)}%` : String(+v.toPrecision(3)));
  const slot = W / Math.max(labels.length, 1);
  const bars = o.second ? 2 : 1;
  const bw = (slot * 0.7) / bars;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of ticks(0, y1))
    parts.push(
      `<line x1="${m.l}" x2="${m.l + W}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${o.percent ? `${+(100 * t).toPrecision(4)}%` : t}</text>`,
    );
  if (o.yLabel)
    parts.push(
      `<text transform="translate(14 ${m.t + H / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
    );
  const series = [{ values, color: COLORS[0] }, ...(o.second ? [{ values: o.second.values, color: '#aaaaaa' }] : [])];
  labels.forEach((lab, i) => {
    series.forEach((s, k) => {
      const v = s.values[i];
      if (!Number.isFinite(v)) return;
      const x = m.l + i * slot + slot * 0.15 + k * bw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(m.t + H - sy(v)).toFixed(1)}" fill="${s.color}"/>`,
      );
      if (k === 0)
        parts.push(
          `<text x="${(x + bw / 2).toFixed(1)}" y="${(sy(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(v)}</text>`,
        );
    });
    const cx = m.l + i * slot + slot / 2;
    parts.push(
      `<text transform="translate(${cx.toFixed(1)} ${m.t + H + 12}) rotate(35)" text-anchor="start">${esc(lab)}</text>`,
    );
  });
  if (o.reference !== undefined) {
    parts.push(
      `<line x1="${m.l}" x2="${m.l + W}" y1="${sy(o.reference)}" y2="${sy(o.reference)}" stroke="#d62728" stroke-dasharray="5,4"/>`,
    );
    if (o.referenceLabel)
      parts.push(
        `<text x="${m.l + W - 4}" y="${sy(o.reference) - 5}" text-anchor="end" fill="#d62728">${esc(o.referenceLabel)}</text>`,
      );
  }
  if (o.second) {
    parts.push(
      `<rect x="${m.l + W - 150}" y="26" width="10" height="10" fill="${COLORS[0]}"/><text x="${m.l + W - 136}" y="35">${esc(o.firstName ?? 'value')}</text>`,
    );
    parts.push(
      `<rect x="${m.l + W - 70}" y="26" width="10" height="10" fill="#aaaaaa"/><text x="${m.l + W - 56}" y="35">${esc(o.second.name)}</text>`,
    );
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" fill="none" stroke="#888"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** [xmin, xmax, ymin, ymax] over the finite points [n, 2] of one or more sets (for panels that share axes) */
export function scatterBounds(...sets: ArrayLike<number>[]): [number, number, number, number] {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const points of sets)
    for (let i = 0; i + 1 < points.length; i += 2) {
      const x = points[i],
        y = points[i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  return [x0, x1, y0, y1];
}

/** a 2-D scatter plot of points [n, 2] coloured by class, with a class legend; `bounds` fixes the axes */
export function scatterPlot(
  title: string,
  points: ArrayLike<number>,
  classes: ArrayLike<number>,
  classNames: readonly string[],
  o: { bounds?: [number, number, number, number]; xLabel?: string; yLabel?: string } = {},
  width = 520,
  height = 420,
): string {
  const m = { l: 24, r: 130, t: 36, b: 24 };
  const n = classes.length;
  let [x0, x1, y0, y1] = o.bounds ?? scatterBounds(points);
  if (!(x1 >= x0)) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const W = width - m.l - m.r,
    H = height - m.t - m.b;
  const sx = (x: number) => m.l + 5 + ((x - x0) / (x1 - x0)) * (W - 10);
  const sy = (y: number) => m.t + H - 5 - ((y - y0) / (y1 - y0)) * (H - 10);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" fill="none" stroke="#888"/>`,
  ];
  if (o.xLabel) parts.push(`<text x="${m.l + W / 2}" y="${height - 6}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel)
    parts.push(
      `<text transform="translate(14 ${m.t + H / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
    );
  for (let i = 0; i < n; i++) {
    const x = points[2 * i],
      y = points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    parts.push(
      `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${CLASS_COLORS[classes[i] % CLASS_COLORS.length]}" fill-opacity="0.8"/>`,
    );
  }
  classNames.forEach((name, c) => {
    const y = m.t + 10 + 16 * c;
    parts.push(
      `<circle cx="${m.l + W + 14}" cy="${y}" r="4" fill="${CLASS_COLORS[c % CLASS_COLORS.length]}"/><text x="${m.l + W + 22}" y="${y + 4}">${esc(`${c} ${name}`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
