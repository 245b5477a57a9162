// conv2d_tune.ts — conv2d's GEMM tile chosen by timing, per problem, on the device at hand.
// pickTile's rule is a guess made from one device's sweep (bench/conv.js --tiles); a GPU it was not made on may
// want other tiles. With enableConvTuning(gpu), every conv problem the device runs is noted (conv2d.ts: run());
// tuneConvTiles then runs each noted problem under every tile that fits, times the dispatches with timestamp
// queries, and keeps the fastest for the rest of the process. How it times, per problem: one untimed round over the
// tiles (it compiles their pipelines, while the GPU idles), the rule's tile for about warmMs of GPU time (a GPU
// lowers its clocks when idle; the first GPU session's tuning, cold, picked tiles 2–3× slower than the rule when
// warm), then `reps` rounds over all tiles, interleaved so that a drift in clocks is shared by every tile.
// The tile never changes a result's bits (it splits the outputs, not an output's sum; a split-K count, of the
// weight gradient or of a split forward/input gradient, stays the one pickTile's tile gives; tested in
// conv2d.test.ts), so a run is the same with or without tuning, and tuning may happen between any two steps.
// It needs a wait for the GPU, so the training loop calls it once, after its first step (outside any step).
import { CONV_TILES, convTuning, runSpec, tileFits, tileName, pickTile, type Tile, type TuneSpec } from './conv2d.js';
import type { Gpu, GBuf } from './gpu.js';

/** when conv tiles are timed: auto (on a GPU, not on a software adapter, where timing every tile takes minutes), on,
 * off; the CLI's and the benchmarks' `--tune`, default $FMNIST_TUNE, else auto */
export const TUNE_MODES = ['auto', 'on', 'off'] as const;
export type TuneMode = (typeof TUNE_MODES)[number];

/** the tune mode a flag's value (else $FMNIST_TUNE's, passed as `env`) asks for; throws on another word, naming
 * where it came from */
export function tuneModeOf(flag: string | undefined, env: string | undefined): TuneMode {
  const v = flag ?? env ?? 'auto';
  if (!(TUNE_MODES as readonly string[]).includes(v))
    throw new Error(`${flag !== undefined ? '--tune' : 'FMNIST_TUNE'} takes auto, on or off; got '${v}'`);
  return v as TuneMode;
}

/** whether `mode` times conv tiles on this device (never without timestamp queries) */
export function tunesOn(gpu: Gpu, mode: TuneMode): boolean {
  return gpu.canTime && (mode === 'on' || (mode === 'auto' && !gpu.adapter.software));
}

export interface TunedConv {
  mode: TuneSpec['mode'];
  /** the problem: input, weight, stride, slices */
  problem: string;
  rule: string;
  ruleMs: number;
  best: string;
  bestMs: number;
  /** every tile's median ms (the data of a sweep, for the next version of pickTile's rule) */
  all: Record<string, number>;
}

export interface TuneOptions {
  /** tiles to try (default: every tile that fits) */
  tiles?: readonly Tile[];
  /** timed rounds over the tiles, after an untimed one (default 5, 3 on software adapters; each tile's median counts)
  /** */
  reps?: number;
  /** GPU time the rule's tile runs for before the timed rounds, so that a GPU idle until then has raised its
   * clocks (default 50 ms, 0 on software adapters; a cold H200 timed some tiles 3–5× slow) */
  warmMs?: number;
  /** stop starting new problems after this many ms (default 20 000); the rest keep pickTile's tile */
  budgetMs?: number;
  /** a tile replaces the rule's only if faster by this fraction (default 0.03: timing noise is not a reason) */
  margin?: number;
}

/** at most this many warm-up runs per problem (tiny kernels reach warmMs only after thousands) */
const WARM_MAX_RUNS = 256;

export { tileName };

/** elements of the buffers a problem reads and writes: a, b, out, bias */
function sizes(s: TuneSpec): [number, number, number, number] {
  const { N, C, H, W, K, R, S, P, Q } = s.d;
  const x = N * C * H * W,
    w = K * C * R * S,
    y = N * K * P * Q;
  // split-K (the weight gradient; the forward and input gradient where gemmSplits says so): one output per slice
  if (s.mode === 'forward') return [x, w, s.splits * y, K];
  if (s.mode === 'gradInput') return [y, w, s.splits * x, C];
  return [y, x, s.splits * w, 0];
}

/** time every problem noted since the last call under every tile; keep the fastest. Needs timestamp queries
 * (without them nothing is tuned and [] comes back). Returns what was timed, for logs and benchmarks. */
export async function tuneConvTiles(gpu: Gpu, o: TuneOptions = {}): Promise<TunedConv[]> {
  const tu = convTuning(gpu);
  if (!tu?.pending.size || !gpu.canTime) return [];
  // a software adapter has no clocks to raise and takes milliseconds per run: fewer rounds, no warm-up
  const sw = gpu.adapter.software;
  const reps = o.reps ?? (sw ? 3 : 5),
    margin = o.margin ?? 0.03,
    budget = o.budgetMs ?? 20_000,
    warmMs = o.warmMs ?? (sw ? 0 : 50);
  const tiles = (o.tiles ?? CONV_TILES).filter((t) => tileFits(gpu, t));
  const t0 = performance.now();
  const out: TunedConv[] = [];
  const specs = [...tu.pending.values()];
  tu.pending.clear();
  // a time that is not a positive number (a driver's broken timestamps, or one under a quantised timer's step)
  // counts as never fastest
  const valid = (ms: number) => (ms > 0 && Number.isFinite(ms) ? ms : Infinity);
  for (const s of specs) {
    if (performance.now() - t0 > budget) break;
    const rule = pickTile(gpu, s.mode, s.rows, s.gn);
    const cands = tiles.some((t) => tileName(t) === tileName(rule)) ? tiles : [rule, ...tiles];
    const ri = cands.findIndex((t) => tileName(t) === tileName(rule));
    const [na, nb, no, nbias] = sizes(s);
    const bufs: GBuf[] = [na, nb, no, Math.max(nbias, 1)].map((n) => gpu.acquire(4 * Math.max(n, 1)));
    const [a, b, res, bias] = bufs;
    for (const g of [a, b, res, bias]) gpu.fillWords(g, 0, g.size / 4); // defined inputs; zeros run as fast as any
    const run = (t: Tile) => runSpec(gpu, s, a, b, s.hasBias ? bias : null, res, t);
    // one dispatch per run (the weight gradient's slices are summed by a separate kernel, outside runSpec)
    const timed = async (n: number, record: () => void) => {
      gpu.startProfile();
      record();
      const prof = await gpu.stopProfile();
      if (prof.length !== n) throw new Error(`conv tuning: ${prof.length} timed dispatches, ${n} recorded`);
      return prof.map((p) => valid(p.ms));
    };
    const first = await timed(cands.length, () => cands.forEach(run));
    const warm =
      warmMs <= 0 ? 0 : Math.min(WARM_MAX_RUNS, Number.isFinite(first[ri]) ? Math.ceil(warmMs / first[ri]) : 8);
    const prof = await timed(warm + reps * cands.length, () => {
      for (let w = 0; w < warm; w++) run(rule);
      for (let r = 0; r < reps; r++) cands.forEach(run);
    });
    for (const g of bufs) gpu.release(g);
    const ms = cands.map((_, i) => {
      const runs = Array.from({ length: reps }, (_, r) => prof[warm + r * cands.length + i]).sort((x, y) => x - y);
      return runs[runs.length >> 1];
    });
    let bi = ri;
    ms.forEach((m, i) => {
      if (m < ms[bi]) bi = i;
    });
    // the rule stays unless another tile is clearly faster; also where the rule's time is unknown (Infinity)
    if (!Number.isFinite(ms[ri]) || !(ms[bi] < ms[ri] * (1 - margin))) bi = ri;
    tu.tiles.set(s.key, cands[bi]);
    const { N, C, H, W, K, R, S, sh, sw } = s.d;
    const problem = `x [${N},${C},${H},${W}] w [${K},${C},${R},${S}] stride ${sh}${sw !== sh ? `×${sw}` : ''}${s.phased ? ' phased' : ''}${s.splits > 1 ? `, ${s.splits} slices` : ''}`;
    out.push({
      mode: s.mode,
      problem,
      rule: tileName(rule),
      ruleMs: ms[ri],
      best: tileName(cands[bi]),
      bestMs: ms[bi],
      all: Object.fromEntries(cands.map((t, i) => [tileName(t), ms[i]])),
    });
  }
  return out;
}
