// gpu-ingest.mjs — what a GPU session brought back (scripts/gpu-session.sh's OUT), turned into the repository's
// record: unpacks OUT/results.tar.gz into bench/results/gpu-<date>/ and writes SUMMARY.md there (printed too): the
// device; training steps against PyTorch; every kernel of the steps against the roofs and TF.js; matmul; which conv
// problems the tuner moved
// off pickTile's rule (the data for its hardware branch); the classifier's test accuracy and SHA-256; epoch times,
// FID, KID, precision/recall, classifier score, accuracy and class balance of both GANs. Numbers are copied from
// the session's own files, never typed in.
// --ship copies eval-classifier.safetensors (+ .sha256) into models/, and only from a hardware adapter's session:
// the trial on lavapipe makes a classifier too, which must not become the ruler.
// Usage: node scripts/gpu-ingest.mjs OUT [--dest DIR] [--ship]
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const args = process.argv.slice(2);
const fail = (msg, code = 1) => {
  console.error(`error: ${msg}`);
  process.exit(code);
};
const out = args[0];
if (!out || out.startsWith('--')) fail('usage: node scripts/gpu-ingest.mjs OUT [--dest DIR] [--ship]', 2);
for (const a of args.slice(1))
  if (a.startsWith('--') && !['--dest', '--ship'].includes(a)) fail(`unknown flag ${a} (flags: --dest DIR, --ship)`, 2);
const destAt = args.indexOf('--dest');
const archive = join(out, 'results.tar.gz');
if (!existsSync(archive))
  fail(`${archive} not found: OUT is the directory scripts/gpu-session.sh wrote (results.tar.gz, session.log, …)`);
const date = new Date().toISOString().slice(0, 10);
const dest = destAt >= 0 ? args[destAt + 1] : `bench/results/gpu-${date}`;
if (!dest) fail('--dest needs a directory', 2);
mkdirSync(dest, { recursive: true });
const tar = spawnSync('tar', ['xzf', archive, '-C', dest], { encoding: 'utf8' });
if (tar.status !== 0) fail(`cannot unpack ${archive}: ${tar.stderr.trim()}`);
const res = join(dest, 'gpu-results');

const read = (p) => (existsSync(join(res, p)) ? readFileSync(join(res, p), 'utf8') : null);
const json = (p) => {
  const t = read(p);
  if (t === null) return null;
  try {
    return JSON.parse(t);
  } catch {
    return null; // a file cut short by a timeout
  }
};
const jsonl = (p) =>
  (read(p) ?? '')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const f = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const lines = [];
const device = (read('device.txt') ?? 'unknown device\n').split('\n')[0];
const hardware = / hardware adapter/.test(device);
lines.push(
  `# GPU session results, ingested ${date}`,
  '',
  `Device: ${device}`,
  `Source: ${out} (unpacked here by \`node scripts/gpu-ingest.mjs\`)`,
  '',
);

// ---- what Dawn offers (scripts/gpu-features.mjs, the session's first second)
const feats = json('features.json');
if (feats?.adapters?.length) {
  lines.push('## Adapter features (`scripts/gpu-features.mjs`)', '');
  for (const a of feats.adapters) {
    if (a.error) {
      lines.push(`- ${a.toggles}: ${a.error}`);
      continue;
    }
    const cfg = a.info?.subgroupMatrixConfigs ?? [];
    lines.push(
      `- ${a.toggles}: ${a.features.length} features; shader-f16 ${a.shaderF16 ? 'offered' : 'not offered'}; ` +
        `subgroup matrices: ${cfg.length ? cfg.map((c) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`).join(', ') : 'none'}`,
    );
  }
  const [a, b] = feats.adapters;
  if (a?.features && b?.features)
    lines.push(
      `- only with allow_unsafe_apis: ${b.features.filter((x) => !a.features.includes(x)).join(', ') || 'nothing'}`,
    );
  lines.push('');
}

// ---- training steps
/** a section of tables: its title, then a table of `rows` (header lines, a line per row), or 'Not measured in this
 * session.'; true when there were rows */
const section = (title, rows, head, row) => {
  lines.push(title, '');
  if (!rows?.length) {
    lines.push('Not measured in this session.', '');
    return false;
  }
  lines.push(...head, ...rows.map(row), '');
  return true;
};
const ts = json('train-step.json');
if (
  section(
    '## Training steps (`bench/train-step.js`)',
    ts?.rows,
    [
      '| model | batch | ms/step | PyTorch ms | PyTorch / ours | host ms/step | dispatches | peak MB | conv problems timed (moved off the rule) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ],
    (r) =>
      `| ${r.name} | ${r.batch} | ${f(r.msPerStep)} | ${r.pytorchMs ?? ''} | ${r.pytorchMs ? f(r.pytorchMs / r.msPerStep) + '×' : ''} | ${f(r.hostMsPerStep)} | ${f(r.dispatchesPerStep, 0)} | ${f(r.peakLiveMB, 1)} | ${r.tune ? `${r.tune.problems} (${r.tune.changed})` : 'off'} |`,
  )
) {
  // issue 7's flat-memory check: the AC-GAN step 1000 times (gpu-session.sh's second train-step run)
  const longRun = json('train-step-1000.json');
  const long = longRun?.rows?.[0];
  if (long)
    lines.push(
      `${long.name} at batch ${long.batch}, ${longRun.steps ?? 1000} steps: ${f(long.msPerStep)} ms/step; GPU memory allocated during them: ${f(long.allocatedGrowthMB, 1)} MB (of ${f(long.allocatedMB, 1)} MB).`,
      '',
    );
  // what conv2d's split-K buys: the same steps with it off (gpu-session.sh's third train-step run); where the split
  // makes a step slower, gemmSplits should return 1 on such devices
  // measured beside it where the session has that (train-step-warm.json: the same run with split-K on, right
  // before), else against the first run
  const noSplit = json('train-step-nosplit.json');
  const warm = json('train-step-warm.json');
  for (const r of warm?.rows ?? [])
    lines.push(
      `- again later in the session (warm GPU, tiles from training's cache): ${r.name} at batch ${r.batch}: ${f(r.msPerStep)} ms/step${r.pytorchMs ? ` (PyTorch ${r.pytorchMs})` : ''}.`,
    );
  if (warm?.rows?.length) lines.push('');
  for (const r of noSplit?.rows ?? []) {
    const on = (warm ?? ts).rows.find((x) => x.model === r.model && x.batch === r.batch);
    if (!on) continue;
    // within 2 %: the same (run-to-run noise; on a software adapter nothing is split at all)
    const verdict =
      Math.abs(r.msPerStep / on.msPerStep - 1) < 0.02
        ? 'the same within 2 %'
        : on.msPerStep < r.msPerStep
          ? 'keep it'
          : 'it costs time here: make gemmSplits return 1';
    lines.push(
      `- split-K: ${r.model} at batch ${r.batch}: ${f(on.msPerStep)} ms/step with it, ${f(r.msPerStep)} ms without (${verdict}).`,
    );
  }
  if (noSplit?.rows?.length) lines.push('');
  for (const [k, p] of Object.entries(ts.profiles ?? {})) {
    lines.push(
      `Slowest kernels, ${k} (${f(p.totalMs)} ms in one pass per dispatch):`,
      '',
      '| kernel | calls | ms |',
      '|---|---:|---:|',
    );
    for (const e of p.kernels.slice(0, 8)) lines.push(`| ${e.label} | ${e.count} | ${f(e.ms, 3)} |`);
    lines.push('');
    // by problem, with the rate each reached (issue 7's "gap explained with the profile"); older JSON has none
    if (p.problems?.length) {
      lines.push(
        `Slowest conv and matmul problems, ${k} (useful FLOPs):`,
        '',
        '| problem | calls | ms | GFLOP | TFLOP/s |',
        '|---|---:|---:|---:|---:|',
      );
      for (const q of p.problems.slice(0, 10))
        lines.push(
          `| ${q.what} | ${q.count} | ${f(q.ms, 3)} | ${f(q.gflop, 2)} | ${q.gflops === null ? '–' : f(q.gflops / 1000, 2)} |`,
        );
      lines.push('');
    }
  }
  // the tuner's choices: per mode, how often each tile won, and the problems it moved off the rule
  const tuned = ts.rows.flatMap((r) => r.tune?.tiles ?? []);
  if (tuned.length) {
    lines.push(
      'Conv tiles timed on this device (every problem under every tile: `train-step.json` rows[].tune.tiles):',
      '',
    );
    for (const mode of ['forward', 'gradInput', 'gradWeight']) {
      const of = tuned.filter((x) => x.mode === mode);
      if (!of.length) continue;
      const wins = {};
      for (const x of of) wins[x.best] = (wins[x.best] ?? 0) + 1;
      lines.push(
        `- ${mode}: ${of.length} problems, ${of.filter((x) => x.best !== x.rule).length} off the rule; fastest tiles: ${Object.entries(
          wins,
        )
          .sort((a, b) => b[1] - a[1])
          .map(([t, n]) => `${t} ×${n}`)
          .join(', ')}`,
      );
    }
    lines.push('', '| kernel | problem | rule | ms | fastest | ms |', '|---|---|---|---:|---|---:|');
    for (const x of tuned.filter((x) => x.best !== x.rule))
      lines.push(`| ${x.mode} | ${x.problem} | ${x.rule} | ${f(x.ruleMs, 3)} | ${x.best} | ${f(x.bestMs, 3)} |`);
    lines.push('');
  }
}

// ---- every kernel of the training steps (bench/conv.js: the roofs, per model the step's kernels, the slowest)
const conv = json('conv.json');
if (conv?.rows?.length && 'pctRoof' in conv.rows[0]) {
  lines.push(
    `## Kernels of the training steps (\`${conv.command}\`)`,
    '',
    `Roofs measured in the run: ${f(conv.matmulGflops, 0)} GFLOP/s (${conv.matmul}), ${f(conv.copyGBps, 0)} GB/s (${conv.copy}). ${conv.peer?.note ?? ''}`,
    '',
  );
  const groups = [...new Set(conv.rows.map((r) => `${r.model}:${r.batch}`))];
  const taken = (rs) => rs.filter((r) => r.picked && r.calls > 0);
  const sum = (rs, k) => rs.reduce((t, r) => t + r[k] * r.calls, 0);
  lines.push(
    '| model | batch | kernels | ms per step (kernels alone) | where TF.js has the op: ours ms | TF.js ms | failed checks |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const g of groups) {
    const rs = taken(conv.rows.filter((r) => `${r.model}:${r.batch}` === g)),
      tf = rs.filter((r) => r.tfjsMs !== null);
    lines.push(
      `| ${g.split(':')[0]} | ${g.split(':')[1]} | ${rs.length} | ${f(sum(rs, 'ms'), 3)} | ${tf.length ? f(sum(tf, 'ms'), 3) : ''} | ${tf.length ? f(sum(tf, 'tfjsMs'), 3) : ''} | ${conv.rows.filter((r) => `${r.model}:${r.batch}` === g && !r.ok).length} |`,
    );
  }
  lines.push(
    '',
    'Slowest kernels (ms × calls per step):',
    '',
    '| model | batch | layer | kernel | shape | ms × calls | bound | % of roof | TF.js ms |',
    '|---|---:|---|---|---|---:|---|---:|---:|',
  );
  for (const r of taken(conv.rows)
    .sort((a, b) => b.ms * b.calls - a.ms * a.calls)
    .slice(0, 15))
    lines.push(
      `| ${r.model} | ${r.batch} | ${r.layer} | ${r.kernel}${r.variant ? ` · ${r.variant}` : ''} | ${r.shape} | ${f(r.ms, 3)} × ${r.calls} | ${r.bound} | ${f(r.pctRoof, 0)}% | ${r.tfjsMs === null ? '' : f(r.tfjsMs, 3)} |`,
    );
  lines.push('');
} else
  section(
    '## Conv kernels (`bench/conv.js --quick`: forward + both gradients)',
    conv?.rows?.filter((r) => r.kernel === 'all'),
    [
      '| model | layer | batch | ms | GFLOP/s | max rel err | TF.js ms | TF.js / ours |',
      '|---|---|---:|---:|---:|---:|---:|---:|',
    ],
    (r) =>
      `| ${r.model} | ${r.layer} | ${r.batch} | ${f(r.ms, 3)} | ${f(r.gflops, 0)} | ${r.maxRelErr.toExponential(1)} | ${r.tfjsMs ?? ''} | ${r.tfjsMs ? f(r.tfjsMs / r.ms, 1) + '×' : ''} |`,
  );

// ---- matmul
section(
  '## Matmul (`bench/matmul.js`)',
  json('matmul.json')?.rows,
  ['| shape | ms | GFLOP/s | max rel err |', '|---|---:|---:|---:|'],
  (r) =>
    `| ${r.name} | ${f(r.ms, 3)} | ${f(r.gflops, 0)} | ${typeof r.maxRelErr === 'number' ? r.maxRelErr.toExponential(1) : '–'} |`,
);

// ---- the evaluation classifier
lines.push('## The evaluation classifier (CNN)', '');
const cnnM = jsonl('cnn/metrics.jsonl');
const cnnS = json('cnn/summary.json');
const ship = read('cnn-ship.txt') ?? '';
const sha = /SHA-256 ([0-9a-f]{64})/.exec(ship)?.[1];
if (!cnnM.length) lines.push('Not trained in this session.', '');
else {
  lines.push(
    `- ${cnnM.length} epochs; median epoch ${f(median(cnnM.map((m) => m.seconds)), 1)} s (${f(median(cnnM.map((m) => m.imgPerSec)), 0)} img/s); best validation accuracy ${f(100 * Math.max(...cnnM.map((m) => m.valAcc)))}%`,
  );
  if (cnnS?.test) lines.push(`- test accuracy ${f(100 * cnnS.test.acc)}% on ${cnnS.test.count} images`);
  if (sha) lines.push(`- shipped classifier SHA-256 ${sha}`);
  lines.push('');
}

// ---- the GANs
for (const [m, title] of [
  ['cgan', 'cGAN'],
  ['acgan', 'AC-GAN'],
]) {
  lines.push(`## ${title}`, '');
  const ms = jsonl(`${m}/metrics.jsonl`);
  if (!ms.length) {
    lines.push('Not trained in this session.', '');
    continue;
  }
  const later = ms.length > 1 ? ms.slice(1) : ms;
  lines.push(
    `- ${ms.length} epochs; median epoch ${f(median(later.map((e) => e.seconds)), 1)} s (${f(median(later.map((e) => e.imgPerSec)), 0)} img/s${ms.length > 1 ? ', epoch 1 left out' : ''})`,
  );
  const fids = ms.filter((e) => typeof e.fid === 'number');
  if (fids.length) {
    // with a weight average (G_ema), the per-epoch FID and accuracy of the average and of the trained weights
    const avg = fids.some((e) => typeof e.fidTrained === 'number');
    const pct = (a) => (typeof a === 'number' ? `${f(100 * a, 1)}%` : '–');
    lines.push(
      `- FID${avg ? ' (weight average)' : ''} by epoch: ${fids.map((e) => `${e.epoch}: ${f(e.fid)}`).join(', ')}`,
    );
    if (fids.some((e) => typeof e.genAcc === 'number'))
      lines.push(
        `- accuracy on the FID's generated images${avg ? ' (weight average)' : ''} by epoch: ${fids.map((e) => `${e.epoch}: ${pct(e.genAcc)}`).join(', ')}`,
      );
    if (avg)
      lines.push(
        `- the trained weights, by epoch: FID ${fids.map((e) => `${e.epoch}: ${f(e.fidTrained)}`).join(', ')}; accuracy ${fids.map((e) => `${e.epoch}: ${pct(e.genAccTrained)}`).join(', ')}`,
      );
    if (fids.some((e) => typeof e.fidFloor === 'number'))
      lines.push(
        `- real-vs-real floor at that size (training vs test images): ${f(fids[fids.length - 1].fidFloor, 3)}`,
      );
  }
  // issue 7's flat GPU memory over a whole run: the pool at every epoch's end (metrics.jsonl's memoryMiB)
  const mem = ms.filter((e) => e.memoryMiB);
  if (mem.length) {
    const al = mem.map((e) => e.memoryMiB.allocated);
    const warm = mem.length > 1 ? al.slice(1) : al;
    lines.push(
      `- GPU memory (buffer pool at epoch ends, MiB): allocated ${f(Math.min(...warm), 1)}–${f(Math.max(...warm), 1)} after epoch ${mem[0].epoch} (${f(al[0], 1)} after it); peak live per epoch up to ${f(Math.max(...mem.map((e) => e.memoryMiB.peak)), 1)}; allocated by epoch: ${mem.map((e) => `${e.epoch}: ${f(e.memoryMiB.allocated, 1)}`).join(', ')}`,
    );
  }
  const last = ms[ms.length - 1];
  lines.push(
    `- last epoch: D(real) ${f(last.dReal, 3)}, D(fake) ${f(last.dFake, 3)}, G ${f(last.g, 3)}, D(x) ${f(last.dx)}, D(G(z)) ${f(last.dgz)}`,
  );
  const ev = json(`${m}/eval/results.json`);
  if (ev) {
    if (ev.source?.weights)
      lines.push(
        `- evaluated: ${ev.source.weights === 'average' ? "the generator's weight average" : 'the trained weights'} (epoch ${ev.source.epoch})`,
      );
    if (ev.fid)
      lines.push(
        `- FID ${f(ev.fid.fid)} (real-vs-real floor ${f(ev.fid.realFloor)}; ${ev.fid.nGenerated} generated vs ${ev.fid.nReal} real)`,
      );
    // torch-fidelity's measures beside FID (evaluations from before they existed have none)
    const e3 = (v) => (typeof v === 'number' && Number.isFinite(v) ? v.toExponential(3) : '–');
    const { kid, prc, isc } = ev;
    if (kid) lines.push(`- KID ${e3(kid.mean)} ± ${e3(kid.std)} (${kid.subsets} subset pairs of ${kid.subsetSize})`);
    if (prc) {
      const n = `${prc.nGenerated} generated vs ${prc.nReal} real`;
      lines.push(`- precision ${f(prc.precision, 4)}, recall ${f(prc.recall, 4)} (k = ${prc.k}; ${n})`);
    }
    if (isc) {
      const real = isc.real ? `; real test images ${f(isc.real.mean, 3)} ± ${f(isc.real.std, 3)}` : '';
      lines.push(`- classifier score (IS formula) ${f(isc.mean, 3)} ± ${f(isc.std, 3)} (${isc.splits} splits)${real}`);
    }
    if (ev.accuracy)
      lines.push(`- real-trained classifier on ${ev.accuracy.count} generated images: ${f(100 * ev.accuracy.acc)}%`);
    if (ev.balance)
      lines.push(`- class balance: largest deviation from 10% is ${f(100 * ev.balance.maxDeviation)} points`);
    if (ev.truncation)
      lines.push(
        `- truncation (noise: FID / accuracy / worst class deviation): ${ev.truncation.map((t) => `${t.threshold === null ? 'untruncated' : `±${t.threshold}`} ${f(t.fid)} / ${f(100 * t.acc)}% / ${f(100 * t.maxDeviation)} pts`).join('; ')}`,
      );
    lines.push(`- report: ${join(res, m, 'eval', 'report.html')}`);
  }
  lines.push('');
}

// ---- the augmentation study of the shipped GANs (gpu-session.sh augment; its CNN trained with --augment is above)
for (const [m, title] of [
  ['cgan', 'cGAN'],
  ['acgan', 'AC-GAN'],
]) {
  const a = json(`${m}/eval-augment/results.json`)?.augment;
  if (!a?.rows?.length) continue;
  lines.push(
    `## Augmentation study, shipped ${title} (${a.epochs} epochs per classifier, ${a.testCount} test images)`,
    '',
  );
  lines.push('| training set | real | synthetic | test accuracy |', '|---|---:|---:|---:|');
  for (const r of a.rows) lines.push(`| ${r.setting} | ${r.real} | ${r.synthetic} | ${f(100 * r.testAcc)}% |`);
  lines.push('');
}

const summary = lines.join('\n');
writeFileSync(join(dest, 'SUMMARY.md'), summary);
console.log(summary);

if (args.includes('--ship')) {
  const cls = join(out, 'eval-classifier.safetensors');
  if (!existsSync(cls) || !existsSync(`${cls}.sha256`)) fail(`--ship: ${cls} and its .sha256 are not in ${out}`);
  if (!hardware)
    fail(
      `--ship: this session ran on "${device}", not a hardware adapter; its classifier is not the ruler (models/ left as it is)`,
    );
  mkdirSync('models', { recursive: true });
  copyFileSync(cls, 'models/eval-classifier.safetensors');
  copyFileSync(`${cls}.sha256`, 'models/eval-classifier.safetensors.sha256');
  console.log(
    '\ncopied eval-classifier.safetensors and its .sha256 into models/ (commit both; record the command, accuracy and SHA-256 in bench/RESULTS.md)',
  );
}
console.error(`\nwritten: ${join(dest, 'SUMMARY.md')} (and the unpacked ${res})`);
