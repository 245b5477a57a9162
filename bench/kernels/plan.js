// bench/kernels/plan.js — the rows bench/conv.js measures: one per distinct kernel call of each model's training
// step (trace.js) at each batch, grouped by layer in step order, with how often the step makes that call; the same
// call traced at a small batch beside it (where the GPU is checked against the float64 CPU reference); batchnorm's
// plain and sliced variants; and batchnorm's eval forward (running statistics; not part of a training step).
import { traceStep } from './trace.js';
import { SPECS, classify } from './catalog.js';
import { variantsOf } from './replay.js';

/** the channel sweep of a full run: 3×3 'same' convolutions at 14×14, C → C channels (not a seed model) */
const SWEEP_CHANNELS = [16, 32, 64, 128, 256];
function sweepCalls(E, B) {
  const calls = [];
  for (const c of SWEEP_CHANNELS) {
    const d = E.F.convDims([B, c, 14, 14], [c, c, 3, 3], { stride: 1, padding: 'same' });
    const layer = `conv 14×14 ${c}→${c}`;
    calls.push({ method: 'conv2d', args: [{}, {}, null, {}, d, 'none', 0], layer, kind: 'Conv2d' });
    calls.push({ method: 'conv2dGradInput', args: [{}, {}, {}, d, null, 'none', 0], layer, kind: 'Conv2d' });
    calls.push({ method: 'conv2dGradWeight', args: [{}, {}, {}, d, false], layer, kind: 'Conv2d' });
  }
  return { calls };
}
const traceOf = (E, model, B) => (model === 'sweep' ? sweepCalls(E, B) : traceStep(E, model, B));

/** a call's identity: its method and every argument but storage (dry stores are {}) */
export const signature = (method, args) => `${method}(${JSON.stringify(args)})`;

/** batchnorm's eval forward: the step's apply, one group, no dropout (running statistics in place of the batch's) */
function evalApply(args) {
  const a = [...args];
  a[6] = { ...a[6], groups: 1 };
  if (a[8]) a[8] = { ...a[8], p: 0 };
  return a;
}

/**
 * Rows for `models` at each of `batches`, for the `families` asked: [{ model, batch, layer, kind, family, kernel,
 * variant, picked, method, args, checkArgs, calls, note }] (calls: how often one step makes it; picked: whether the
 * backend takes this variant on this device), plus per model and batch the calls left out (no spec, or a family not
 * asked), by method. checkBatch: the batch of the checked run.
 */
export function plan(E, be, { models, batches, families, checkBatch }) {
  const rows = [];
  const skipped = {};
  for (const model of models)
    for (const B of batches) {
      const big = traceOf(E, model, B).calls,
        small = traceOf(E, model, checkBatch).calls;
      if (big.length !== small.length)
        throw new Error(`${model}: the step at batch ${B} makes ${big.length} calls, at ${checkBatch} ${small.length}`);
      const byKey = new Map();
      const layerOrder = new Map();
      const add = (c, cs, extra = {}) => {
        const { family, role } = classify(c.method, c.args, c.kind);
        for (const v of variantsOf(E, be, c.method, c.args)) {
          const kernel = extra.kernel ?? role;
          const key = `${c.layer}|${kernel}|${v.variant}|${signature(c.method, c.args)}`;
          let r = byKey.get(key);
          if (!r) {
            if (!layerOrder.has(c.layer)) layerOrder.set(c.layer, layerOrder.size);
            byKey.set(
              key,
              (r = {
                model,
                batch: B,
                layer: c.layer,
                kind: c.kind,
                family,
                kernel,
                variant: v.variant,
                picked: v.picked,
                method: c.method,
                args: c.args,
                checkArgs: cs.args,
                calls: 0,
                order: byKey.size,
                note: extra.note ?? '',
              }),
            );
            rows.push(r);
          }
          // per step (a variant the backend does not take here keeps the count; `picked` says which it takes)
          if (!extra.synthetic) r.calls++;
        }
      };
      const evalDone = new Set();
      big.forEach((c, i) => {
        const cs = small[i];
        if (cs.method !== c.method || cs.layer !== c.layer)
          throw new Error(
            `${model}: call ${i} is ${c.layer} ${c.method} at batch ${B}, ` +
              `${cs.layer} ${cs.method} at ${checkBatch}`,
          );
        const fam = SPECS[c.method] ? classify(c.method, c.args, c.kind).family : null;
        if (!fam || !families.includes(fam)) {
          const s = (skipped[`${model}:${B}`] ??= {});
          s[c.method] = (s[c.method] ?? 0) + 1;
          return;
        }
        add(c, cs);
        if (c.method === 'batchnormApply' && !evalDone.has(c.layer)) {
          evalDone.add(c.layer);
          add(
            { ...c, args: evalApply(c.args) },
            { ...cs, args: evalApply(cs.args) },
            { kernel: 'apply (eval)', synthetic: true, note: 'eval forward: not in a training step' },
          );
        }
      });
      // grouped by layer (first appearance), the glue between layers last; within a layer, in call order
      const rank = (r) => (r.layer === '(step)' ? 1e9 : layerOrder.get(r.layer));
      const mine = rows.filter((r) => r.model === model && r.batch === B);
      mine.sort((a, b) => rank(a) - rank(b) || a.order - b.order);
      rows.splice(rows.length - mine.length, mine.length, ...mine);
    }
  return { rows, skipped };
}
