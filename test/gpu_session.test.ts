// gpu_session.test.ts — scripts/gpu-session.sh, the one device call a session with the GPU machine gets (15 minutes
// in all, rarely granted), run here end to end with the trial settings its header gives (tiny data, no benchmarks;
// bench_smoke.test.ts covers those): it must exit 0 and leave in OUT what the session brings back — the results
// archive (logs, metrics, curves, eval reports), the shipped classifier with its SHA-256, both GANs' sample grids
// and their weights as the repo ships them;
// and scripts/gpu-ingest.mjs must turn that into SUMMARY.md (and refuse to ship a software adapter's classifier).
// The trial's work (epochs, subsets) bounds each call: its time budgets are far above what that work takes, so a
// machine that another heavy job shares only makes it slower (hang_guard.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../src/nn/safetensors.js';
import { ended } from './hang_guard.js';

// the session's budgets (s): TOTAL_S for a call, EVAL_S for a GAN's evaluation (CNN_S, SHIP_S: the classifier's)
const TOTAL_S = 3600,
  EVAL_S = 900;
// a call ends within TOTAL_S by design: past that (and a margin for packing) it hangs
const GUARD_MS = (TOTAL_S + 600) * 1000;

test('scripts/gpu-session.sh all (trial settings): exit 0, OUT holds what a GPU session brings back, gpu-ingest summarises it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-session-'));
  try {
    const out = join(dir, 'out');
    const env = {
      ...process.env,
      RUNS: join(dir, 'runs'),
      BENCH: '0',
      CNN: '1',
      EPOCHS: '2',
      TOTAL_S: String(TOTAL_S),
      CNN_S: String(TOTAL_S),
      EVAL_S: String(EVAL_S),
      SHIP_S: String(EVAL_S),
      CNN_ARGS: '--train-subset 256 --test-subset 256 --epochs 2',
      CNN_EVAL_ARGS: '--test-subset 256',
      GAN_ARGS: '--train-subset 128 --fid-n 100 --fid-every 1',
      EVAL_ARGS: '--n 100 --real-n 100',
    };
    const r = spawnSync('bash', ['scripts/gpu-session.sh', 'all', out], { encoding: 'utf8', env, timeout: GUARD_MS });
    const log = existsSync(join(out, 'session.log'))
      ? readFileSync(join(out, 'session.log'), 'utf8')
      : r.stdout + r.stderr;
    assert.is(r.status, 0, `${ended(r, GUARD_MS)}\n${log}`);
    for (const f of [
      'results.tar.gz',
      'eval-classifier.safetensors',
      'eval-classifier.safetensors.sha256',
      'cgan-samples.tar',
      'acgan-samples.tar',
      'session.log',
      'cgan.safetensors',
      'cgan.safetensors.sha256',
      'acgan.safetensors',
      'acgan.safetensors.sha256',
    ])
      assert.ok(existsSync(join(out, f)), `${f} missing:\n${log}`);
    // the GANs come back as the repo ships them: weight average and D, no optimizer moments
    for (const m of ['cgan', 'acgan']) {
      const names = Object.keys(decodeSafetensors(new Uint8Array(readFileSync(join(out, `${m}.safetensors`)))).tensors);
      assert.ok(
        names.length > 0 && names.every((k) => /^(G_ema|D)\./.test(k) && !k.includes('.optim.')),
        `${m}.safetensors: ${names.join(' ')}`,
      );
    }
    assert.match(readFileSync(join(out, 'eval-classifier.safetensors.sha256'), 'utf8'), /^[0-9a-f]{64} /);
    const listed = spawnSync('tar', ['tzf', join(out, 'results.tar.gz')], { encoding: 'utf8' }).stdout;
    for (const f of [
      'gpu-results/device.txt',
      'gpu-results/cnn-log.txt',
      'gpu-results/cnn-ship.txt',
      'gpu-results/cnn/metrics.jsonl',
      'gpu-results/cgan/metrics.jsonl',
      'gpu-results/acgan/metrics.jsonl',
      'gpu-results/cgan/eval/report.html',
      'gpu-results/acgan/eval/report.html',
    ])
      assert.ok(
        listed.split('\n').some((l) => l.replace(/^\.\//, '') === f),
        `${f} not in results.tar.gz:\n${listed}`,
      );
    assert.match(log, /train cgan ended \(exit 0\)/);
    assert.match(log, /train acgan ended \(exit 0\)/);
    // the ingest: unpacked, summarised from the session's own files
    const dest = join(dir, 'ingest');
    const ing = spawnSync(process.execPath, ['scripts/gpu-ingest.mjs', out, '--dest', dest], { encoding: 'utf8' });
    assert.is(ing.status, 0, ing.stderr);
    const summary = readFileSync(join(dest, 'SUMMARY.md'), 'utf8');
    assert.ok(existsSync(join(dest, 'gpu-results', 'cgan', 'eval', 'report.html')), 'unpacked');
    assert.match(summary, /## Training steps[\s\S]*Not measured in this session/, 'no benchmarks in the trial');
    assert.match(
      summary,
      /## The evaluation classifier \(CNN\)\n\n- 2 epochs; median epoch [\d.]+ s[\s\S]*- test accuracy [\d.]+% on 256 images\n- shipped classifier SHA-256 [0-9a-f]{64}/,
    );
    for (const gan of ['cGAN', 'AC-GAN'])
      assert.match(
        summary,
        new RegExp(
          `## ${gan}\\n\\n- 2 epochs[\\s\\S]*FID \\(weight average\\) by epoch: 1: [\\d.]+, 2: [\\d.]+\\n` +
            `- accuracy on the FID's generated images \\(weight average\\) by epoch: 1: [\\d.]+%, 2: [\\d.]+%\\n` +
            `- the trained weights, by epoch: FID 1: [\\d.]+, 2: [\\d.]+; accuracy 1: [\\d.]+%, 2: [\\d.]+%\\n` +
            `- real-vs-real floor at that size \\(training vs test images\\): [\\d.]+\\n` +
            `- GPU memory \\(buffer pool at epoch ends, MiB\\): allocated [\\d.]+–[\\d.]+ after epoch 1 \\([\\d.]+ after it\\); peak live per epoch up to [\\d.]+; allocated by epoch: 1: [\\d.]+, 2: [\\d.]+\\n[\\s\\S]*` +
            `- evaluated: the generator's weight average \\(epoch 2\\)\\n- FID [\\d.]+ \\(real-vs-real floor[^\\n]*\\n` +
            `- KID -?[\\d.]+e[-+]\\d+ ± [\\d.]+e[-+]\\d+ \\(100 subset pairs of 100\\)\\n- precision [\\d.]+, recall [\\d.]+ \\(k = 3; \\d+ generated vs \\d+ real\\)\\n` +
            `- classifier score \\(IS formula\\) [\\d.]+ ± [\\d.]+ \\(10 splits\\); real test images [\\d.]+ ± [\\d.]+\\n[\\s\\S]*` +
            `- truncation \\(noise: FID / accuracy / worst class deviation\\): untruncated [\\d.]+ / [\\d.]+% / [\\d.]+ pts; ±2 [\\d.]+ / [\\d.]+% / [\\d.]+ pts; ±1.5 .*; ±0.5 [\\d.]+ / `,
        ),
      );
    if (/^Device: .*, software adapter$/m.test(summary)) {
      const refused = spawnSync(
        process.execPath,
        ['scripts/gpu-ingest.mjs', out, '--dest', join(dir, 'ingest2'), '--ship'],
        { encoding: 'utf8' },
      );
      assert.is(refused.status, 1);
      assert.match(
        refused.stderr,
        /not a hardware adapter; its classifier is not the ruler \(models\/ left as it is\)/,
      );
    }
    // a second call on the same (warm) machine: `gans` trains both further from their checkpoints, one after the
    // other, and evaluates them again (the first call's eval/ described older checkpoints). With EVAL=0 the call
    // keeps no time back for a separate evaluation (the AC-GAN's share is half of all that is left less 20 s, not of
    // that less EVAL_S too); runs that end their epochs still evaluate themselves
    const out2 = join(dir, 'out2');
    const r2 = spawnSync('bash', ['scripts/gpu-session.sh', 'gans', out2], {
      encoding: 'utf8',
      env: { ...env, EPOCHS: '3', EVAL: '0' },
      timeout: GUARD_MS,
    });
    const log2 = existsSync(join(out2, 'session.log'))
      ? readFileSync(join(out2, 'session.log'), 'utf8')
      : r2.stdout + r2.stderr;
    assert.is(r2.status, 0, `${ended(r2, GUARD_MS)}\n${log2}`);
    const share = Number(/train acgan \(budget (\d+)s\)/.exec(log2)?.[1]);
    // ≤ (TOTAL_S − 20) / 2 without, ≤ (TOTAL_S − EVAL_S − 20) / 2 with EVAL_S kept back: the line between the two
    const kept = (TOTAL_S - EVAL_S - 20) / 2,
      line = kept + EVAL_S / 4;
    assert.ok(share > line, `AC-GAN's share ${share} s of TOTAL_S ${TOTAL_S}, EVAL=0 (EVAL_S kept back: ≤ ${kept})`);
    assert.not.match(log2, /== .* eval (cgan|acgan)$/m, 'no separate evaluation with EVAL=0');
    assert.ok(
      log2.indexOf('train acgan (') < log2.indexOf('train acgan ended') &&
        log2.indexOf('train acgan ended') < log2.indexOf('train cgan ('),
      `AC-GAN, then cGAN:\n${log2}`,
    );
    for (const m of ['cgan', 'acgan']) {
      const tlog = readFileSync(join(dir, 'runs', 'gpu-results', `${m}-log.txt`), 'utf8');
      assert.match(tlog, /resuming from .* after epoch 2/, `${m} resumed`);
      assert.match(tlog, /epoch 3: FID/, `${m}: epoch 3`);
      assert.ok(existsSync(join(dir, 'runs', `gpu-${m}`, 'eval', 'report.html')), `${m}: evaluated again`);
    }
    // a third call with nothing left to train: neither GAN trains again (nor re-evaluates: their runs' own
    // evaluations describe the checkpoints they have)
    const out3 = join(dir, 'out3');
    const r3 = spawnSync('bash', ['scripts/gpu-session.sh', 'gans', out3], {
      encoding: 'utf8',
      env: { ...env, EPOCHS: '3' },
      timeout: GUARD_MS,
    });
    const log3 = existsSync(join(out3, 'session.log'))
      ? readFileSync(join(out3, 'session.log'), 'utf8')
      : r3.stdout + r3.stderr;
    assert.is(r3.status, 0, `${ended(r3, GUARD_MS)}\n${log3}`);
    for (const m of ['cgan', 'acgan']) {
      assert.match(log3, new RegExp(`${m}: 3 epochs done in an earlier call; not trained again`));
      assert.not.match(log3, new RegExp(`train ${m} \\(`), `${m} not trained:\n${log3}`);
      assert.ok(existsSync(join(dir, 'runs', `gpu-${m}`, 'eval', 'report.html')), `${m}: its evaluation kept`);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("scripts/gpu-session.sh augment (trial settings): the shipped cGAN's augmentation study and train cnn --augment, ingested", () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-session-augment-'));
  try {
    const out = join(dir, 'out');
    const env = {
      ...process.env,
      RUNS: join(dir, 'runs'),
      BENCH: '0',
      GANS: 'cgan',
      CNN_S: String(TOTAL_S),
      EVAL_S: String(EVAL_S),
      CNN_ARGS: '--train-subset 256 --test-subset 256 --epochs 1',
      EVAL_ARGS: '--augment-epochs 1 --augment-train-subset 128 --augment-test-subset 128',
    };
    const r = spawnSync('bash', ['scripts/gpu-session.sh', 'augment', out], {
      encoding: 'utf8',
      env,
      timeout: GUARD_MS,
    });
    const log = existsSync(join(out, 'session.log'))
      ? readFileSync(join(out, 'session.log'), 'utf8')
      : r.stdout + r.stderr;
    assert.is(r.status, 0, log);
    const study = JSON.parse(readFileSync(join(dir, 'runs', 'gpu-cgan', 'eval-augment', 'results.json'), 'utf8'));
    const rows = study.augment.rows as { setting: string; real: number; synthetic: number; testAcc: number }[];
    const n = rows[0].real;
    assert.ok(n > 0 && n <= 128, `real images: ${n}`);
    assert.equal(
      rows.map((x) => [x.setting, x.real, x.synthetic]),
      [
        ['real', n, 0],
        ['real + 0.5× synthetic', n, Math.round(0.5 * n)],
        ['real + 1× synthetic', n, n],
        ['synthetic only (TSTR)', 0, n],
      ],
    );
    for (const x of rows) assert.ok(x.testAcc >= 0 && x.testAcc <= 1, `${x.setting}: ${x.testAcc}`);
    assert.ok(existsSync(join(dir, 'runs', 'gpu-cnn', 'last.safetensors')), 'train cnn --augment ran');
    const dest = join(dir, 'ingested');
    const ing = spawnSync(process.execPath, ['scripts/gpu-ingest.mjs', out, '--dest', dest], { encoding: 'utf8' });
    assert.is(ing.status, 0, ing.stderr);
    const summary = readFileSync(join(dest, 'SUMMARY.md'), 'utf8');
    assert.match(summary, /## Augmentation study, shipped cGAN \(1 epochs per classifier, 128 test images\)/);
    assert.match(summary, /\| real \| \d+ \| 0 \| [\d.]+% \|/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
