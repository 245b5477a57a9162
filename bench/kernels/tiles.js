// bench/kernels/tiles.js — bench/conv.js --tiles: each conv kernel (forward, input gradient, weight gradient) of
// each conv layer of the seed models' steps timed under every GEMM tile the conv kernel has that fits this device
// (forced through convKernels' variant), beside the tile the op picks by shape — the data for choosing tiles on a
// new device (the tiles' correctness is the conv2d tests' job). Rows print and return as they are measured.
import { traceStep } from './trace.js';
import { classify } from './catalog.js';
import { hostData } from './replay.js';

/** the conv layers of the models' steps at batch B: [{ model, layer, op, d }], one per layer and dims */
function convLayers(E, models, B, families) {
  const out = new Map();
  for (const model of models)
    for (const c of traceStep(E, model, B).calls) {
      const { family, role } = classify(c.method, c.args, c.kind);
      if (!['conv2d', 'convTranspose2d'].includes(family) || role !== 'forward' || !families.includes(family)) continue;
      const d = c.args[c.method === 'conv2d' ? 4 : 3];
      const key = `${model}|${c.layer}|${JSON.stringify(d)}`;
      if (!out.has(key)) out.set(key, { model, layer: c.layer, op: family, d });
    }
  return [...out.values()];
}

export async function tileSweep(E, gpu, be, { models, batches, timeKernel, families }) {
  const ck = E.convKernels;
  const TILES = ck.CONV_TILES.filter((t) => ck.tileFits(gpu, t));
  const names = TILES.map(E.tileName);
  const tileRows = [];
  console.log(
    `tile sweep on ${E.describeGpu(gpu)} (ms; picked = the op's choice by shape, * = fastest; ` +
      '4×4 per thread unless /8: 8×8)',
  );
  console.log(`| model | layer | batch | kernel | picked | ${names.join(' | ')} | best vs picked |`);
  console.log(`|---|---|---:|---|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const B of batches)
    for (const { model, layer, op, d } of convLayers(E, models, B, families)) {
      let seed = 3;
      const up = (n) => be.upload(hostData(E, [{ n, init: 'signed', dtype: 'f32' }], seed++)[0], 'f32');
      const X = d.N * d.C * d.H * d.W,
        Y = d.N * d.K * d.P * d.Q,
        Wn = d.K * d.C * d.R * d.S;
      // conv terms: x [X], y [Y]; a transposed conv's input is the conv's y side
      const b = { x: up(X), w: up(Wn), gy: up(Y), xt: up(Y) };
      Object.assign(b, { y: be.alloc(Y), gx: be.alloc(X), gw: be.alloc(Wn), yt: be.alloc(X) });
      const conv = op === 'conv2d';
      const gmOf = (mode) => (mode === 'forward' ? d.N * d.P * d.Q : mode === 'gradInput' ? d.N * d.H * d.W : d.K);
      const gnOf = (mode) => (mode === 'forward' ? d.K : mode === 'gradInput' ? d.C : d.C * d.R * d.S);
      // [kernel, GEMM mode, run(variant)] in the conv's own terms (a transposed conv's forward is mode gradInput)
      const ks = [
        [
          'forward',
          conv ? 'forward' : 'gradInput',
          (v) =>
            conv
              ? ck.conv2d(gpu, b.x, b.w, null, b.y, d, 'none', 0, v)
              : ck.conv2dGradInput(gpu, b.xt, b.w, b.yt, d, null, 'none', 0, v),
        ],
        [
          'gradInput',
          conv ? 'gradInput' : 'forward',
          (v) =>
            conv
              ? ck.conv2dGradInput(gpu, b.gy, b.w, b.gx, d, null, 'none', 0, v)
              : ck.conv2d(gpu, b.x, b.w, null, b.y, d, 'none', 0, v),
        ],
        [
          'gradWeight',
          'gradWeight',
          (v) => ck.conv2dGradWeight(gpu, b.x, conv ? b.gy : b.xt, b.gw, d, undefined, false, v),
        ],
      ];
      for (const [kname, mode, fn] of ks) {
        if (gnOf(mode) <= 4) continue; // conv2d_skinny, no tile
        const phased = mode === 'gradInput' && (d.sh > 1 || d.sw > 1);
        const gm = phased ? d.N * Math.ceil(d.H / d.sh) * Math.ceil(d.W / d.sw) : gmOf(mode);
        const picked = E.tileName(ck.pickTile(gpu, mode, gm, gnOf(mode)));
        const ms = {};
        for (const t of TILES) ms[E.tileName(t)] = await timeKernel(() => fn({ tile: t, skinny: false }));
        const best = Object.entries(ms).sort((x, y) => x[1] - y[1])[0];
        const r = { model, layer, op, batch: B, kernel: kname, picked, pickedMs: ms[picked], best: best[0] };
        Object.assign(r, { bestMs: best[1], ms });
        tileRows.push(r);
        const cells = names.map((n) => (n in ms ? `${ms[n].toFixed(3)}${n === r.best ? '*' : ''}` : ''));
        const vs = `${(r.pickedMs / r.bestMs).toFixed(2)}×`;
        console.log(`| ${model} | ${layer} | ${B} | ${kname} | ${picked} | ${cells.join(' | ')} | ${vs} |`);
      }
      for (const s of Object.values(b)) be.free(s);
    }
  return tileRows;
}
