// reliability.test.ts — bad input, faults and long runs: the CLI driven as a child process (usage errors exit 2,
// runtime errors exit 1 with one line, GPU out of memory / device lost (injected) name the batch or cause, SIGINT
// writes a checkpoint and --resume continues, an injected NaN stops
// with the step and tensor named and leaves the last checkpoint intact, --on-nan=rollback recovers), and
// in-process: an interrupted-and-resumed run equals the uninterrupted one, the first 50 steps are identical for the
// same seed, and GPU memory and caches stay flat over hundreds of steps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Tensor, tidy } from '../src/autograd/tensor.js';
import { ganStep, makeGan } from '../src/gan/train.js';
import type { GanConfig } from '../src/gan/models.js';
import { runGan, type GanRunOptions } from '../src/app/gan_run.js';
import { loadFashionMnist, findDataDir } from '../src/node/fashion_mnist.js';
import { decodeSafetensors } from '../src/nn/safetensors.js';
import { CheckpointError } from '../src/nn/checkpoint.js';
import { gpuBackend, randomData, toF32, withTempDir } from './harness.js';
import { HANG_GUARD_MS, ended } from './hang_guard.js';

const CLI = join(process.cwd(), 'dist', 'cli.js');
const ENV = { ...process.env, XDG_RUNTIME_DIR: '/tmp' };
const cli = (args: string[], env: NodeJS.ProcessEnv = ENV) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: HANG_GUARD_MS });
  const lines = r.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('Warning:') && !l.startsWith('    at CheckVkSuccess') && l.trim());
  const err = [...lines, ...(r.status === null ? [ended(r)] : [])].join('\n');
  return { code: r.status, out: r.stdout, err };
};
const tiny = (kind: 'cgan' | 'acgan'): GanConfig => ({
  kind,
  noiseDim: 8,
  embedDim: 5,
  classes: 10,
  gMaps: 4,
  gMid: 3,
  dChannels: [2, 3, 4, 5],
  dropout: 0.5,
  bnMomentum: 0.1,
});
// a full garbage collection without starting node with --expose-gc: set the flag, then take `gc` from a fresh context
const collector = (): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
};
const haveData = () => {
  if (findDataDir()) return true;
  console.log('  (skipped: Fashion-MNIST not installed)');
  return false;
};

test('usage errors exit 2 with one line naming the problem', () => {
  for (const [args, pattern] of [
    [['train', 'cnn', '--bogus'], /unknown flag '--bogus'/],
    [['train', 'cgan', '--epochs', 'abc'], /--epochs expects an integer, got 'abc'/],
    [['train', 'cgan', '--batch', '0'], /--batch must be at least 2/],
    [['train', 'cgan', '--preset', 'nope'], /--preset must be one of/],
    [['train', 'mlp'], /unknown model 'mlp'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['eval', 'cnn'], /needs --checkpoint/],
    [['sample', '--checkpoint', 'x.safetensors', '--class', '12'], /--class must be 0–9/],
    [['sample', '--checkpoint', 'x.safetensors', '--weights', 'best'], /--weights must be one of/],
    [['train', 'cgan', '--ema', '1'], /--ema must be below 1/],
    [['train', 'cgan', '--ema', '0.99', '--resume', 'x.safetensors'], /--ema cannot change on --resume/],
    [
      [
        'eval',
        'gan',
        '--samples',
        's.idx',
        '--labels',
        'l.idx',
        '--weights',
        'trained',
        '--classifier',
        'c.safetensors',
      ],
      /--weights picks a GAN checkpoint's generator weights/,
    ],
    [['eval', 'gan', '--checkpoint', 'g.safetensors', '--augment-epochs', '0'], /--augment-epochs must be at least 1/],
    [
      ['eval', 'gan', '--checkpoint', 'g.safetensors', '--truncation', '1,0'],
      /--truncation expects thresholds > 0, comma-separated .*got '0'/,
    ],
    [['sample', '--checkpoint', 'x.safetensors', '--truncation', '0'], /--truncation must be at least 0\.01/],
  ] as [string[], RegExp][]) {
    const r = cli(args);
    assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.err}`);
    assert.match(r.err, pattern);
    assert.is(r.err.split('\n').length, 1, `one line: ${r.err}`);
  }
});

test('`eval --help` prints how to evaluate either model (exit 0); `eval` alone says what it needs (exit 2)', () => {
  let r = cli(['eval', '--help']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /usage: npm run eval -- cnn\|gan/);
  assert.match(r.out, /eval cnn .*--checkpoint FILE/);
  assert.match(r.out, /eval gan .*models\/cgan\.safetensors/s);
  r = cli(['eval']);
  assert.is(r.code, 2);
  assert.match(r.err, /eval needs a model: `eval cnn --checkpoint FILE` or `eval gan --checkpoint FILE`/);
});

test('--out over an existing run needs --resume: nothing is overwritten', async () => {
  await withTempDir('outdir-', (dir) => {
    const gan = join(dir, 'gan'),
      cnn = join(dir, 'cnn'),
      file = join(dir, 'a-file');
    mkdirSync(gan);
    mkdirSync(cnn);
    writeFileSync(join(gan, 'checkpoint.safetensors'), 'first run');
    writeFileSync(join(cnn, 'last.safetensors'), 'first run');
    writeFileSync(file, 'x');
    for (const [args, pattern] of [
      [
        ['train', 'cgan', '--out', gan],
        /--out \S+gan already holds a run \(checkpoint\.safetensors\); continue it with --resume \S+checkpoint\.safetensors, or pick another --out/,
      ],
      [['train', 'acgan', '--out', gan, '--epochs', '1'], /already holds a run/],
      [
        ['train', 'cnn', '--out', cnn],
        /--out \S+cnn already holds a run \(last\.safetensors\); continue it with --resume/,
      ],
      [['train', 'cnn', '--out', file], /--out \S+a-file exists and is not a directory/],
    ] as [string[], RegExp][]) {
      const r = cli(args);
      assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.err}`);
      assert.match(r.err, pattern);
      assert.is(r.err.split('\n').length, 1, `one line: ${r.err}`);
      assert.not.match(r.out, /device:/, 'refused before the GPU starts');
    }
    assert.is(readFileSync(join(gan, 'checkpoint.safetensors'), 'utf8'), 'first run');
    assert.is(readFileSync(join(cnn, 'last.safetensors'), 'utf8'), 'first run');
  });
});

test('runtime errors exit 1 with one line (stack only with --verbose): checkpoints, data, adapter', async () => {
  if (!haveData()) return;
  await withTempDir('rel-cli-', async (dir) => {
    const be = await gpuBackend();
    be.gpu.poison = false;
    const data = await loadFashionMnist({ download: false });
    await runGan(
      be,
      data,
      {
        preset: 'test',
        config: tiny('cgan'),
        hyper: { lr: 1e-3, beta1: 0.5, batch: 4, epochs: 1 },
        seed: 1,
        trainSubset: 8,
        logEvery: 100,
        log: () => {},
      },
      dir,
    );
    be.gpu.poison = true;
    const ckpt = join(dir, 'checkpoint.safetensors');
    const bytes = readFileSync(ckpt);
    writeFileSync(join(dir, 'truncated.safetensors'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    writeFileSync(join(dir, 'text.safetensors'), 'hello, not a checkpoint');
    for (const [args, pattern] of [
      [['eval', 'cnn', '--checkpoint', join(dir, 'missing.safetensors')], /does not exist/],
      [['eval', 'cnn', '--checkpoint', ckpt], /a checkpoint of model "cgan", expected "cnn"/],
      [['sample', '--checkpoint', join(dir, 'truncated.safetensors')], /truncated|shorter|extends past|bytes/],
      [['sample', '--checkpoint', join(dir, 'text.safetensors')], /header|safetensors/],
      [['train', 'cgan', '--data', join(dir, 'no-data-here')], /--data .*no-data-here: no such directory/],
    ] as [string[], RegExp][]) {
      const r = cli(args);
      assert.is(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr ${r.err}`);
      assert.match(r.err, pattern);
      assert.ok(!/\n\s+at /.test(r.err), `no stack trace without --verbose: ${r.err}`);
    }
    const v = cli(['eval', 'cnn', '--checkpoint', ckpt, '--verbose']);
    assert.is(v.code, 1);
    assert.match(v.err, /\n\s+at /);
    const na = cli(['info'], { ...ENV, WEBGPU_ADAPTER: 'no-such-adapter' });
    assert.is(na.code, 1);
    assert.match(na.err, /does not match --adapter "no-such-adapter"/);
    const nd = cli(['info'], { ...ENV, VK_ICD_FILENAMES: '/nonexistent.json', VK_DRIVER_FILES: '/nonexistent.json' });
    assert.is(nd.code, 1);
    assert.match(nd.err, /No WebGPU adapter.*lavapipe/s);
  });
});

/**
 * run the CLI, call `drive` with the output so far on each chunk of stdout/stderr, resolve with exit code and output
 */
function runDriven(
  args: string[],
  drive: (out: string, child: ChildProcess) => void,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: ENV });
    let out = '';
    const on = (d: Buffer) => {
      out += d.toString();
      drive(out, child);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    // a hang guard, not a speed limit (hang_guard.ts)
    const timer = setTimeout(() => {
      out += `\nstill running after the ${HANG_GUARD_MS / 60_000} min hang guard (a hang, not a speed limit): killed`;
      child.kill('SIGKILL');
    }, HANG_GUARD_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * run the CLI, call `send` (by default: send `signal`) once stdout/stderr shows `after`, resolve with exit code and
 * output
 */
function runAndSignal(
  args: string[],
  after: RegExp,
  signal: NodeJS.Signals,
  send = (child: ChildProcess) => void child.kill(signal),
): Promise<{ code: number | null; out: string }> {
  let sent = false;
  return runDriven(args, (out, child) => {
    if (!sent && after.test(out)) {
      sent = true;
      send(child);
    }
  });
}

test('SIGINT finishes the step and writes a checkpoint; --resume completes; an injected NaN stops and keeps it; rollback recovers', async () => {
  if (!haveData()) return;
  await withTempDir('rel-sig-', async (dir) => {
    const ckpt = join(dir, 'checkpoint.safetensors');
    const base = ['train', 'cgan', '--train-subset', '64', '--batch', '4', '--out', dir];
    const r = await runAndSignal([...base, '--epochs', '1'], /step 10\/16/, 'SIGINT');
    assert.is(r.code, 130, r.out);
    assert.match(r.out, /stopped by SIGINT after step (1[0-5]); checkpoint: .*resume with: npm run train -- cgan/s);
    assert.ok(existsSync(ckpt));
    const stoppedAt = Number(/after step (\d+)/.exec(r.out)![1]);
    const meta = decodeSafetensors(new Uint8Array(readFileSync(ckpt))).metadata;
    assert.is(JSON.parse(meta.position).inEpoch, stoppedAt);

    const res = cli([...base, '--epochs', '1', '--resume', ckpt]);
    assert.is(res.code, 0, res.err);
    assert.match(res.out, new RegExp(`resuming from .* after ${stoppedAt} steps of epoch 1`));
    assert.match(res.out, /epoch 1: D\(real\)/);

    const good = readFileSync(ckpt);
    const nan = cli([...base, '--epochs', '2', '--resume', ckpt, '--debug-nan-at-step', '18']);
    assert.is(nan.code, 1, nan.out + nan.err);
    assert.match(
      nan.err,
      /non-finite .* between steps 1[7-9] and (2[0-9]|3[0-2]) \(epoch 2\); first non-finite parameter \(in model order[^)]*\): G\.[\w.]+\. Stopped; the last good checkpoint is .* \(untouched\)/,
    );
    assert.ok(readFileSync(ckpt).equals(good), 'the last good checkpoint is intact');

    const rb = cli([...base, '--epochs', '2', '--resume', ckpt, '--debug-nan-at-step', '18', '--on-nan=rollback']);
    assert.is(rb.code, 0, rb.out + rb.err);
    assert.match(rb.out, /rolling back to .* with learning rate 0\.0001 \(try 1 of 3\)/);
    assert.match(rb.out, /epoch 2: D\(real\)/);
  });
});

test('SIGTERM delivered twice at once (GNU timeout, Ctrl-C to a process group) still writes the checkpoint; a second one a second later aborts', async () => {
  if (!haveData()) return;
  await withTempDir('rel-sig2-', async (dir) => {
    const base = ['train', 'cgan', '--train-subset', '64', '--batch', '4', '--epochs', '1'];
    // `timeout -s TERM` signals the child and its process group: two SIGTERMs microseconds apart (and npm, under
    // `npm run train`, forwards a Ctrl-C's SIGINT again a little later): one request, not "abort"
    const r = await runAndSignal([...base, '--out', join(dir, 'a')], /step 10\/16/, 'SIGTERM', (child) => {
      child.kill('SIGTERM');
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGTERM'), 100);
    });
    const a = join(dir, 'a', 'checkpoint.safetensors');
    assert.is(r.code, 143, r.out);
    assert.not.match(r.out, /again: aborting/);
    assert.match(r.out, /stopped by SIGTERM after step (1[0-5]); checkpoint: .*resume with: npm run train -- cgan/s);
    assert.ok(existsSync(a));
    const stoppedAt = Number(/after step (\d+)/.exec(r.out)![1]);
    assert.is(JSON.parse(decodeSafetensors(new Uint8Array(readFileSync(a))).metadata.position).inEpoch, stoppedAt);
    const res = cli([...base, '--out', join(dir, 'a'), '--resume', a]);
    assert.is(res.code, 0, res.err);
    assert.match(res.out, new RegExp(`resuming from .* after ${stoppedAt} steps of epoch 1`));
    assert.match(res.out, /epoch 1: D\(real\)/);

    // a second SIGTERM 1.2 s after the first one was handled aborts without a checkpoint: the child is stopped
    // (SIGSTOP) right after it reports the first, so that its step cannot end before the second one arrives
    let phase = 0;
    const b = await runDriven([...base, '--out', join(dir, 'b')], (out, child) => {
      if (phase === 0 && /step 10\/16/.test(out)) {
        phase = 1;
        child.kill('SIGTERM');
      } else if (
        phase === 1 &&
        /SIGTERM: finishing the current step and writing a checkpoint \(send it again, a second or more later, to abort\)/.test(
          out,
        )
      ) {
        phase = 2;
        child.kill('SIGSTOP');
        setTimeout(() => {
          child.kill('SIGTERM');
          child.kill('SIGCONT');
        }, 1200);
      }
    });
    assert.is(phase, 2, b.out);
    assert.is(b.code, 143, b.out);
    assert.match(b.out, /SIGTERM again: aborting without a checkpoint/);
    assert.not.match(b.out, /stopped by/);
    assert.not.ok(existsSync(join(dir, 'b', 'checkpoint.safetensors')), 'no checkpoint');
  });
});

test('GPU faults (out of memory, device lost) stop with the batch size or the cause named and the checkpoint intact', async () => {
  if (!haveData()) return;
  await withTempDir('rel-fault-', async (dir) => {
    const ckpt = join(dir, 'checkpoint.safetensors');
    const base = ['train', 'cgan', '--train-subset', '32', '--batch', '4', '--out', dir];
    assert.is(cli([...base, '--epochs', '1']).code, 0);
    const good = readFileSync(ckpt);
    const oom = cli([...base, '--epochs', '2', '--resume', ckpt, '--debug-gpu-fault', 'oom@10']);
    assert.is(oom.code, 1, oom.err);
    assert.match(
      oom.err,
      /the GPU ran out of memory at batch size 4; the last checkpoint .* is intact; resume with --resume .* and a smaller batch, e\.g\. --batch 2/,
    );
    const lost = cli([...base, '--epochs', '2', '--resume', ckpt, '--debug-gpu-fault', 'lost@10']);
    assert.is(lost.code, 1, lost.err);
    assert.match(lost.err, /GPU device lost .*; the last checkpoint .* is intact/);
    assert.ok(readFileSync(ckpt).equals(good), 'the checkpoint is untouched');
    const melt = cli([...base, '--resume', ckpt, '--debug-gpu-fault', 'melt@3']);
    assert.is(melt.code, 2);
    assert.match(melt.err, /debug-gpu-fault/);
  });
});

const opts = (epochs: number, extra: Partial<GanRunOptions> = {}): GanRunOptions => ({
  preset: 'test',
  config: tiny('acgan'),
  hyper: { lr: 2e-3, beta1: 0.5, batch: 4, epochs },
  seed: 3,
  trainSubset: 40,
  logEvery: 1,
  log: () => {},
  ...extra,
});

test('an interrupted and resumed run equals the uninterrupted one; same seed → identical first 50 steps', async () => {
  if (!haveData()) return;
  const be = await gpuBackend();
  be.gpu.poison = false;
  const data = await loadFashionMnist({ download: false });
  await withTempDir('rel-resume-', async (dir) => {
    try {
      const trail = (into: number[]) => (p: { d: number; g: number }) => void into.push(p.d, p.g);
      const a: number[] = [],
        b: number[] = [];
      const full = await runGan(be, data, opts(5, { onProgress: trail(a) }), join(dir, 'a'));
      await runGan(be, data, opts(5, { onProgress: trail(b) }), join(dir, 'b'));
      assert.is(a.length, 100, '50 steps, two numbers each');
      assert.equal(a, b, 'same seed, same adapter: identical losses step by step');
      // the GPU pool at every epoch's end (metrics.jsonl's memoryMiB): nothing more allocated once warm
      const alloc = full.history.map((e) => e.memoryMiB?.allocated);
      assert.ok(
        alloc.every((v) => typeof v === 'number' && v > 0),
        `memoryMiB at every epoch: ${alloc}`,
      );
      assert.equal(alloc.slice(2), alloc.slice(1, -1), `GPU memory allocated, epochs 2 to 5: ${alloc}`);
      let n = 0;
      const cut = await runGan(be, data, opts(5, { shouldStop: () => ++n === 13 }), join(dir, 'c'));
      assert.ok(cut.interrupted && cut.step > 10 && cut.step < 15, `stopped mid-epoch 2 at step ${cut.step}`);
      // that mid-epoch checkpoint continues only with the batch size and subset it was cut with
      const cutCkpt = join(dir, 'c', 'checkpoint.safetensors');
      for (const [extra, want] of [
        [
          { hyper: { lr: 2e-3, beta1: 0.5, batch: 5, epochs: 5 } },
          /middle of epoch 2 .* with --batch 4 \(asked: 5\); resume it with the same settings/,
        ],
        [{ trainSubset: 48 }, /with --train-subset 40 \(asked: 48\)/],
      ] as const) {
        try {
          await runGan(be, data, opts(5, extra), join(dir, 'c'), cutCkpt);
          assert.unreachable('a mid-epoch resume with other settings must be refused');
        } catch (e) {
          assert.instance(e, CheckpointError);
          assert.match((e as Error).message, want);
        }
      }
      const rest = await runGan(be, data, opts(5), join(dir, 'c'), cutCkpt);
      assert.equal(
        rest.history.map((e) => [e.dReal, e.dFake, e.aux, e.g, e.step]),
        full.history.map((e) => [e.dReal, e.dFake, e.aux, e.g, e.step]),
      );
    } finally {
      be.gpu.poison = true;
    }
  });
});

test('GPU memory, host memory and caches stay flat over 1000 GAN steps', async () => {
  const be = await gpuBackend();
  be.gpu.poison = false;
  const s = makeGan(be, tiny('cgan'), { lr: 1e-3, beta1: 0.5 }, 5);
  const x = Tensor.from(be, toF32(randomData(4 * 784, 9)), [4, 1, 28, 28]);
  const y = Tensor.from(be, [1, 2, 3, 4], [4], 'i32');
  // as the training loops do, wait for the GPU now and then (they read their losses back every few steps): a
  // loop that records hundreds of steps ahead of a slow adapter piles up in-flight work without bound
  const run = async (steps: number) => {
    for (let i = 0; i < steps; i++) {
      tidy(() => void ganStep(be, s, x, y));
      if (i % 20 === 19) await be.gpu.sync();
    }
    await be.gpu.sync();
  };
  // Host memory is read after a full garbage collection, in four checkpoints 300 steps apart. A leak grows every
  // segment alike; what the suite's earlier tests left behind, the allocator's arenas growing once or a late major
  // GC (this test shares its process with the whole suite) shows in one segment only. So the JS heap and external
  // memory must not grow over the last 600 steps, and the resident set must stay flat in at least one of the last
  // two segments (a leak of more than ~50 KB per step fails both).
  const gc = collector();
  const settled = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss / 2 ** 20, js: (m.heapUsed + m.external) / 2 ** 20 };
  };
  try {
    await run(100);
    const s0 = be.gpu.stats();
    const m: { rss: number; js: number }[] = [settled()];
    for (let k = 0; k < 3; k++) {
      await run(300);
      m.push(settled());
    }
    const s1 = be.gpu.stats();
    const trail = m.map((x) => `${x.rss.toFixed(0)}/${x.js.toFixed(1)}`).join(' → ');
    const jsGrowth = m[3].js - m[1].js;
    assert.ok(
      jsGrowth < 4,
      `JS heap + external memory grew ${jsGrowth.toFixed(1)} MiB over the last 600 steps (rss/js MiB at steps 100, 400, 700, 1000: ${trail})`,
    );
    const rssGrowth = Math.min(m[2].rss - m[1].rss, m[3].rss - m[2].rss);
    assert.ok(
      rssGrowth < 16,
      `host memory grew ${rssGrowth.toFixed(1)} MiB in each of the last two 300-step segments (rss/js MiB: ${trail})`,
    );
    assert.is(s1.pool.allocatedBytes, s0.pool.allocatedBytes, 'no new GPU memory');
    assert.is(s1.pool.liveBytes, s0.pool.liveBytes, 'nothing leaked');
    assert.is(s1.pipelines, s0.pipelines);
    assert.is(
      s1.bindGroups,
      s0.bindGroups,
      'a steady step reuses its buffers in the same roles: bind groups are cache hits',
    );
    const autoFlushes = Math.ceil((s1.dispatches - s0.dispatches) / be.gpu.autoFlushEvery);
    assert.ok(
      s1.submits - s0.submits <= 46 + autoFlushes,
      `submits ${s1.submits - s0.submits}: one per sync (46) plus one per ${be.gpu.autoFlushEvery} dispatches, none per step`,
    );
  } finally {
    be.gpu.poison = true;
    s.G.dispose();
    s.D.dispose();
    x.dispose();
    y.dispose();
  }
});

test.run();
