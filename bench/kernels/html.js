// bench/kernels/html.js — bench/conv.js --html FILE: one self-contained page (inline SVG and CSS, no script, nothing
// fetched) from the run's JSON: a roofline plot (each kernel's GFLOP/s against its arithmetic intensity under the
// measured compute and bandwidth roofs), then per model a bar chart of one step's kernel time (a bar per layer,
// stacked by kernel, ms × calls per step, coloured by the kernel's part: forward, input or weight gradient, …;
// TF.js's time for the same kernels beneath, where it has them) and its table. Hovering a bar segment or a point
// shows its row (SVG <title>).
import { HEAD, errText, stepMs } from './table.js';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const ok = (v) => v !== null && v !== undefined && Number.isFinite(v);
const fx = (v, d) => (ok(v) ? v.toFixed(d) : '–');
const sig = (v) =>
  !ok(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1b9e77',
  '#7570b3',
  '#d95f02',
  '#66a61e',
];
/** a colour per key, in order of first use */
const colourer = () => {
  const m = new Map();
  return (k) => {
    if (!m.has(k)) m.set(k, PALETTE[m.size % PALETTE.length]);
    return m.get(k);
  };
};
/** the bar chart's colours: a kernel's part in the step (the tooltip names the kernel itself) */
const PART = [
  ['forward', /^(forward|gather|apply|act\+dropout$|softmax xent$|bce$)/],
  ['input gradient', /^gradInput/],
  ['weight gradient', /^gradWeight/],
  ['statistics', /^stats/],
  ['other gradients', /grad/],
  ['optimizer, EMA', /^(step|update)$/],
];
const partOf = (r) => (r.family === 'glue' ? 'glue' : (PART.find(([, re]) => re.test(r.kernel))?.[0] ?? 'other'));
const kernelName = (r) => `${r.kernel}${r.variant ? ` · ${r.variant}` : ''}`;
const rowText = (r) =>
  `${r.layer} · ${kernelName(r)} · ${r.shape}: ${fx(r.ms, 3)} ms ×${r.calls}, ` +
  `${sig(r.gflops)} GFLOP/s, ${sig(r.gbps)} GB/s, ${r.bound}-bound ${fx(r.pctRoof, 0)}% of roof`;
/** an element: el('rect', { x: 1 }, inner) (no inner: self-closing); attribute values are numbers or escaped */
const el = (tag, a, inner) => {
  const at = Object.entries(a)
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return inner === undefined ? `<${tag}${at}/>` : `<${tag}${at}>${inner}</${tag}>`;
};
const swatch = (c, t) => el('span', {}, el('i', { style: `background:${c}` }, '') + esc(t));
const legend = (items) => el('div', { class: 'legend' }, items.map(([c, t]) => swatch(c, t)).join(''));
const svgOpen = (w, h) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img">`;
const failMark = (r) => (r.ok ? {} : { stroke: '#c00', 'stroke-width': 2 });

/** ticks at 1, 2, 5 × 10^k covering [0, max] */
function linearTicks(max) {
  const raw = max / 5,
    p = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? p * 10;
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

/** one model's step: a bar per layer, segments per kernel (ms × calls), TF.js beneath where it has the kernels */
function barChart(rows) {
  const layers = [];
  for (const r of rows.filter((r) => r.picked && r.calls > 0)) {
    let l = layers.find((x) => x.name === r.layer);
    if (!l) layers.push((l = { name: r.layer, segs: [], total: 0, tf: 0, tfOurs: 0 }));
    l.segs.push(r);
    l.total += r.ms * r.calls;
    if (r.tfjsMs !== null) {
      l.tf += r.tfjsMs * r.calls;
      l.tfOurs += r.ms * r.calls;
    }
  }
  if (!layers.length) return '<p>No kernel of this step in the run.</p>';
  const withTf = layers.some((l) => l.tf > 0);
  const colour = colourer();
  const max = Math.max(...layers.map((l) => Math.max(l.total, l.tf))) || 1;
  const L = 230,
    W = 640,
    bar = 14,
    tfBar = withTf ? 7 : 0,
    row = bar + tfBar + 8,
    top = 10;
  const H = top + layers.length * row + 40;
  const x = (ms) => L + (W * ms) / max;
  const p = [svgOpen(L + W + 30, H)];
  for (const t of linearTicks(max))
    p.push(
      `<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${H - 30}" class="grid"/>`,
      `<text x="${x(t)}" y="${H - 16}" text-anchor="middle">${sig(t)}</text>`,
    );
  const mid = { 'text-anchor': 'middle' };
  p.push(el('text', { x: L + W / 2, y: H - 2, ...mid }, 'ms per training step (kernels timed alone: ms × calls)'));
  layers.forEach((l, i) => {
    const y = top + i * row;
    p.push(`<text x="${L - 6}" y="${y + bar - 3}" text-anchor="end">${esc(l.name)}</text>`);
    let at = 0;
    for (const r of l.segs) {
      const w = r.ms * r.calls;
      const width = Math.max(0.5, x(at + w) - x(at));
      const seg = { x: x(at), y, width, height: bar, fill: colour(partOf(r)), ...failMark(r) };
      p.push(el('rect', seg, el('title', {}, esc(rowText(r)))));
      at += w;
    }
    if (l.tf > 0) {
      const tip = `${l.name}: TF.js ${fx(l.tf, 3)} ms for the kernels it has (ours ${fx(l.tfOurs, 3)} ms for those)`;
      const width = Math.max(0.5, x(l.tf) - L);
      p.push(el('rect', { x: L, y: y + bar, width, height: tfBar - 1, fill: '#888' }, el('title', {}, esc(tip))));
    }
  });
  p.push('</svg>');
  const kernels = [...new Set(layers.flatMap((l) => l.segs.map(partOf)))].map((k) => [colour(k), k]);
  return p.join('') + legend(withTf ? [...kernels, ['#888', 'TF.js, same kernels']] : kernels);
}

/** GFLOP/s against FLOP/byte, log-log, under min(matmul rate, intensity × copy bandwidth) */
function roofline(data) {
  const pts = data.rows.filter((r) => r.picked && r.flops > 0 && r.ms > 0);
  if (!pts.length) return '<p>No kernel with arithmetic in this run.</p>';
  const peak = data.matmulGflops,
    bw = data.copyGBps;
  const ai = pts.map((r) => r.intensity),
    gf = pts.map((r) => r.gflops);
  const x0 = Math.floor(Math.log10(Math.min(...ai, data.balance) / 2));
  const x1 = Math.ceil(Math.log10(Math.max(...ai, data.balance) * 2));
  const y0 = Math.floor(Math.log10(Math.min(...gf) / 2)),
    y1 = Math.ceil(Math.log10(peak * 2));
  const L = 70,
    T = 20,
    W = 760,
    H = 440;
  const X = (v) => L + ((Math.log10(v) - x0) / (x1 - x0)) * W;
  const Y = (v) => T + H - ((Math.log10(v) - y0) / (y1 - y0)) * H;
  const colour = colourer();
  const p = [svgOpen(L + W + 20, T + H + 50)];
  for (let k = x0; k <= x1; k++)
    p.push(
      `<line x1="${X(10 ** k)}" y1="${T}" x2="${X(10 ** k)}" y2="${T + H}" class="grid"/>`,
      `<text x="${X(10 ** k)}" y="${T + H + 16}" text-anchor="middle">${sig(10 ** k)}</text>`,
    );
  for (let k = y0; k <= y1; k++)
    p.push(
      `<line x1="${L}" y1="${Y(10 ** k)}" x2="${L + W}" y2="${Y(10 ** k)}" class="grid"/>`,
      `<text x="${L - 6}" y="${Y(10 ** k) + 4}" text-anchor="end">${sig(10 ** k)}</text>`,
    );
  const mid = { 'text-anchor': 'middle' };
  p.push(
    el('text', { x: L + W / 2, y: T + H + 40, ...mid }, 'arithmetic intensity (FLOP per byte read + written)'),
    `<text transform="translate(14 ${T + H / 2}) rotate(-90)" text-anchor="middle">GFLOP/s</text>`,
  );
  // the roofs: bandwidth × intensity up to the balance point, then the matmul rate
  const xa = 10 ** x0,
    xb = data.balance,
    xc = 10 ** x1,
    xm = Math.sqrt(xa * xb);
  const points = `${X(xa)},${Y(Math.max(xa * bw, 10 ** y0))} ${X(xb)},${Y(peak)} ${X(xc)},${Y(peak)}`;
  p.push(
    el('polyline', { class: 'roof', points }),
    `<text x="${X(xc) - 4}" y="${Y(peak) - 6}" text-anchor="end">matmul ${sig(peak)} GFLOP/s</text>`,
    `<text x="${X(xm)}" y="${Y(xm * bw) - 8}" text-anchor="middle">copy ${sig(bw)} GB/s</text>`,
  );
  for (const r of pts) {
    const dot = { cx: X(r.intensity), cy: Y(r.gflops), r: 4, fill: colour(r.family), 'fill-opacity': 0.75 };
    p.push(el('circle', { ...dot, ...failMark(r) }, el('title', {}, esc(`${r.model} ${r.batch}: ${rowText(r)}`))));
  }
  p.push('</svg>');
  return p.join('') + legend([...new Set(pts.map((r) => r.family))].map((f) => [colour(f), f]));
}

function table(rows) {
  const cells = (r) => [
    r.layer,
    `${kernelName(r)}${r.picked ? '' : ' (not taken here)'}${r.note ? ` (${r.note})` : ''}`,
    r.shape,
    r.calls,
    fx(r.ms, 3),
    sig(r.gflops),
    sig(r.gbps),
    sig(r.intensity),
    r.bound,
    `${fx(r.pctRoof, 0)}%`,
    sig(r.cpuRefMs),
    sig(r.speedup),
    `${r.ok ? '' : '✗ '}${errText(r.maxRelErr)}`,
    r.tfjsMs !== null ? fx(r.tfjsMs, 3) : (r.tfjsNote ?? ''),
    r.tfjsMs ? `${fx(r.tfjsMs / r.ms, 2)}×` : '',
  ];
  const tr = (r) => (r.ok ? {} : { class: 'fail' });
  const body = rows.map((r) =>
    el(
      'tr',
      tr(r),
      cells(r)
        .map((c) => el('td', {}, esc(c)))
        .join(''),
    ),
  );
  const head = el('tr', {}, HEAD.map((h) => el('th', {}, h)).join(''));
  return el('table', {}, el('thead', {}, head) + el('tbody', {}, body.join('')));
}

const CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0 24px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
td:nth-child(-n+3), th:nth-child(-n+3) { text-align: left; }
tr.fail td { background: #fdd; } figure { margin: 12px 0; } figcaption { font-size: 12px; color: #555; }
svg text { font: 11px system-ui, sans-serif; fill: #333; } .grid { stroke: #eee; }
.roof { fill: none; stroke: #222; stroke-width: 2; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }`;

export function reportHtml(data) {
  const groups = [];
  for (const r of data.rows) {
    const key = `${r.model}:${r.batch}`;
    let g = groups.find((x) => x.key === key);
    if (!g) groups.push((g = { key, model: r.model, batch: r.batch, rows: [] }));
    g.rows.push(r);
  }
  const failed = data.rows.filter((r) => !r.ok).length;
  const sections = groups.map((g, i) => {
    const left = data.skipped?.[g.key];
    const leftOut = left
      ? Object.entries(left)
          .map(([m, n]) => `${m} ×${n}`)
          .join(', ')
      : '';
    const leftText = leftOut ? `; not in this table: ${leftOut}` : '';
    return `<section><h2>${esc(g.model)}, step at batch ${g.batch}</h2>
<p>${fx(stepMs(g.rows), 2)} ms in the kernels below (each timed alone, ms × calls per step)${esc(leftText)}.</p>
<figure data-figure="${i + 1}">${barChart(g.rows)}<figcaption>Figure ${i + 1}. ${esc(g.model)} at batch ${g.batch}:
one step's kernel time per layer, stacked by kernel.</figcaption></figure>
${table(g.rows)}</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Kernels of the training steps — ${esc(data.device)}</title>
<style>
${CSS}
</style></head><body>
<h1>Kernels of the seed models' training steps</h1>
<p>${esc(data.device)} — ${esc(data.date)}; <code>${esc(data.command)}</code>; timing: ${esc(data.timing)}.</p>
<p>Roofs measured in this run: compute ${fx(data.matmulGflops, 1)} GFLOP/s (${esc(data.matmul)}), bandwidth
${fx(data.copyGBps, 1)} GB/s (${esc(data.copy)}); balance ${fx(data.balance, 2)} FLOP/byte. Every row is checked against
the float64 CPU reference at batch ${data.checkBatch} with its outputs poisoned first${
    failed
      ? `: <strong>${failed}
failed</strong> (red)`
      : ': all passed'
  } (tolerance ${data.tolerance}).</p>
<p>${esc(data.peer?.note ?? '')}</p>
<section><h2>Roofline</h2><figure data-figure="0">${roofline(data)}<figcaption>Figure 0. Every kernel with arithmetic
(the variant the backend takes here), by family.</figcaption></figure></section>
${sections.join('\n')}
</body></html>
`;
}
