// bench/kernels/table.js — bench/conv.js's terminal output: a header with the device, the two roofs and the peer,
// then per model a markdown table grouped by layer (rows print as they are measured), and a summary per model.

/** max relative error against the float64 CPU reference above which a kernel is marked failed */
export const TOLERANCE = 1e-3;

const ok = (v) => v !== null && v !== undefined && Number.isFinite(v);
const fx = (v, d) => (ok(v) ? v.toFixed(d) : '–');
/** 3 significant figures, no exponent for ordinary sizes */
const sig = (v) =>
  !ok(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
export const errText = (e) => (e === Infinity || e === null ? 'unwritten/NaN' : e.toExponential(1));

export function printHeader({ device, date, timing, roofs, tiles, peerNote, checkBatch }) {
  console.log(`kernels of the seed models' training steps on ${device} — ${date.slice(0, 10)}; timing: ${timing}`);
  console.log(
    `roofs (measured now): compute ${fx(roofs.matmulGflops, 1)} GFLOP/s (${roofs.matmul}), ` +
      `bandwidth ${fx(roofs.copyGBps, 1)} GB/s (${roofs.copy}); balance ${fx(roofs.balance, 2)} FLOP/byte: a kernel ` +
      'above it is compute-bound (% of the matmul rate), below memory-bound (% of the copy bandwidth)',
  );
  console.log(
    `${tiles}; checks: the same call at batch ${checkBatch} against the float64 CPU reference, outputs ` +
      `poisoned (✗: max rel err > ${TOLERANCE})`,
  );
  console.log(peerNote);
}

/** the columns of a kernel row, in the terminal table and the HTML page alike */
export const HEAD = [
  'layer',
  'kernel',
  'shape',
  'calls',
  'ms',
  'GFLOP/s',
  'GB/s',
  'FLOP/B',
  'bound',
  '% of roof',
  'CPU ref ms',
  '× CPU',
  'max rel err',
  'TF.js ms',
  'TF.js / ours',
];
const ALIGN = HEAD.map((h, i) => (i < 3 || h === 'bound' ? '---' : '---:'));
const line = (cells) => `| ${cells.join(' | ')} |`;
/** one row (null: the table's head) */
export function printRow(r) {
  if (!r) {
    console.log(`${line(HEAD)}\n|${ALIGN.join('|')}|`);
    return;
  }
  const kernel =
    `${r.kernel}${r.variant ? ` · ${r.variant}` : ''}${r.picked ? '' : ' (not taken here)'}` +
    `${r.note ? ` (${r.note})` : ''}`;
  const tf = r.tfjsMs !== null ? fx(r.tfjsMs, 3) : r.tfjsNote ? `(${r.tfjsNote})` : '';
  console.log(
    line([
      r.layer,
      kernel,
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
      tf,
      r.tfjsMs ? `${fx(r.tfjsMs / r.ms, 2)}×` : '',
    ]),
  );
}

const perStep = (rows, key) => rows.reduce((t, r) => t + r[key] * r.calls, 0);
/** the kernels' ms over one step: each row × its calls, for the variants the backend takes here */
export const stepMs = (rows) =>
  perStep(
    rows.filter((r) => r.picked),
    'ms',
  );

/** a model's line under its table: the step's kernel time, ours and TF.js's where it has the op, what was left out */
export function printModelSummary(rows, skipped) {
  if (!rows.length) return;
  const taken = rows.filter((r) => r.picked);
  const calls = taken.reduce((t, r) => t + r.calls, 0);
  const tf = taken.filter((r) => r.tfjsMs !== null);
  const left = skipped
    ? Object.entries(skipped)
        .map(([m, n]) => `${m} ×${n}`)
        .join(', ')
    : '';
  const tfText = !tf.length
    ? ''
    : `; where TF.js has the op: ours ${fx(perStep(tf, 'ms'), 2)} ms, TF.js ${fx(perStep(tf, 'tfjsMs'), 2)} ms`;
  const { model, batch } = rows[0];
  console.log(
    `${model} at batch ${batch}: ${fx(stepMs(rows), 2)} ms in the ${calls} kernel calls above ` +
      `(kernels timed alone, summed)${tfText}${left ? `; not in this table: ${left}` : ''}`,
  );
}
