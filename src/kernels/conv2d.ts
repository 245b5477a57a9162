// conv2d.ts — dispatch of wgsl/conv2d.wgsl (implicit-GEMM convolution: forward, input and weight gradients).
// The weight gradient's reduction runs over N·P·Q (long) into a small K × C·R·S output, so it is split over
// workgroup z ("split-K") and the partial sums are added by the reduce kernel. On hardware adapters the forward and
// the (unphased) input gradient split the same way where their output tiles are too few to fill the GPU (gemmSplits:
// batch 64's 7×7 layers, e.g. D's last input gradient, 98 tiles for 1.85 GFLOP). Each GEMM's tile is pickTile's
// choice by shape and adapter, or, with tuning on, the one conv2d_tune.ts timed fastest for that problem.
import main from '../../wgsl/conv2d.wgsl';
import activation from '../../wgsl/activation.wgsl';

const src = main + '\n' + activation;
import { ACTIVATIONS, type Activation, type ConvDims } from '../autograd/backend.js';
import type { Gpu, GBuf, Kernel, Work } from './gpu.js';
import { reduceSum } from './reduce.js';

const TILE = 64; // the default tile: 64 × 64 (BM × BN)
const BK = 32;
/** the narrow tile for gn ≤ 32 columns (modes 0 and 1): 128 rows × 32 columns, 8 × 32 threads */
const NARROW: Tile = [128, 32];
/** the wide tile for gm ≤ 32 rows and gn > 64 columns (the weight gradient of a layer with K ≤ 32 output channels):
 * 32 rows × 128 columns, 32 × 8 threads */
const WIDE: Tile = [32, 128];
/** [BM, BN], [BM, BN, TB] or [BM, BN, TB, 'prefetch']: GEMM rows × columns per workgroup (each 32, 64 or 128;
 * wgsl/conv2d.wgsl's BM, BN overrides), each thread's TB × TB output block (4 by default; 8 with BM, BN of 64 or
 * 128), and whether the next tile step's loads are issued before this step's FMAs (PREFETCH; the same bits) */
export type Tile = [number, number] | [number, number, 4 | 8] | [number, number, 4 | 8, 'prefetch'];
const blockOf = (t: Tile) => t[2] ?? 4;
const prefetchOf = (t: Tile) => t[3] === 'prefetch';
/** a tile as logs and benchmarks name it: 64×64, 128×128/8 (8×8 per thread), 64×64p (prefetching) */
export const tileName = (t: Tile) => `${t[0]}×${t[1]}${t[2] === 8 ? '/8' : ''}${prefetchOf(t) ? 'p' : ''}`;
/** the workgroup-memory slots of As and Bs each thread of a tile loads per tile step (wgsl/conv2d.wgsl LA, LB) */
const slotsOf = (t: Tile): [number, number] => [(BK * t[0]) / 4 / threadsOf(t), (BK * t[1]) / 4 / threadsOf(t)];
/** PREFETCH keeps a thread's slots in registers: at most this many each of A and B (wgsl/conv2d.wgsl STAGE) */
const STAGE = 8;
/** threads per workgroup of a tile */
const threadsOf = (t: Tile) => (t[0] / blockOf(t)) * (t[1] / blockOf(t));
/** workgroup memory a tile needs: As [BK][BM] + Bs [BK][BN] floats */
const tileBytes = ([bm, bn]: Tile) => BK * (bm + bn) * 4;
const MODES = { forward: 0, gradInput: 1, gradWeight: 2 } as const;
export type Mode = keyof typeof MODES;

const kernels = new Map<string, Kernel>();
function kernel(
  mode: Mode,
  hasBias: boolean,
  act: Activation,
  phased: boolean,
  skinny: boolean,
  accumulate: boolean,
  tile: Tile,
): Kernel {
  const key = `${mode}:${hasBias}:${act}:${phased}:${skinny}:${accumulate}:${tileName(tile)}`;
  let k = kernels.get(key);
  if (!k)
    kernels.set(
      key,
      (k = {
        file: 'wgsl/conv2d.wgsl',
        code: src,
        entry: skinny ? 'conv2d_skinny' : 'conv2d',
        bindings: ['read', 'read', 'read', 'rw'],
        constants: {
          MODE: MODES[mode],
          HAS_BIAS: hasBias ? 1 : 0,
          ACT: ACTIVATIONS.indexOf(act),
          PHASED: phased ? 1 : 0,
          ACCUM: accumulate ? 1 : 0,
          ...(skinny || (tile[0] === TILE && tile[1] === TILE) ? {} : { BM: tile[0], BN: tile[1] }),
          ...(skinny || blockOf(tile) === 4 ? {} : { TB: blockOf(tile) }),
          ...(!skinny && prefetchOf(tile) ? { PREFETCH: 1 } : {}),
        },
      }),
    );
  return k;
}

/** kernel choices, overridable by tests and benchmarks */
export interface ConvVariant {
  /** input gradient per output phase (stride > 1) instead of multiplying the zero taps */
  phased?: boolean;
  /** one thread per row for ≤ 4 output columns */
  skinny?: boolean;
  /** the GEMM tile [BM, BN] or [BM, BN, TB]; by default pickTile's choice by shape and adapter */
  tile?: Tile;
  /** forward and unphased input gradient without bias or activation: split the reduction into this many slices,
   *  summed by the reduce kernel (by default gemmSplits' count; 1 on software adapters) */
  splits?: number;
}

/** the tile the op picks by shape (`bench/conv.js --tiles` times every tile on a device, against this choice).
 * Software adapters (lavapipe; measured there 2026-11-30, bench/RESULTS.md): 8×8 per thread — 1.5–2.5× faster
 * than 4×4 on the seed layers — with sides of 32, 64 or 128 by the GEMM's size: forward and input gradient 128
 * rows (pixels) and 32/64/128 columns (channels); weight gradient 32/64/128 rows (output channels) and 32 columns
 * for a tiny C·R·S (a first conv's 9, a last transposed conv's 25; 32×32 stays 4×4, as 8×8 blocks would leave it
 * 16 threads), 128 for C·R·S ≥ 512 with 128 rows, else 64.
 * Hardware adapters
 * keep the 4×4 choices until a sweep there says otherwise (fewer, bigger workgroups can leave a GPU's cores idle):
 * the narrow 128×32 where gn ≤ 32 would leave half of a 64-wide tile's columns idle (forward, input gradient); the
 * wide 32×128 where gm ≤ 32 would leave half of its rows idle (weight gradient: gm = K) and gn > 64, so that
 * 128-wide tiles are fewer than 64-wide ones (for gn ≤ 64 both are one tile of the same work); else 64×64.
 * Every choice falls back to a smaller tile where the device lacks its workgroup memory (WebGPU's default limit is
 * 16 KiB; 128×128 needs 32 KiB, the narrow and wide 20 KiB). */
export function pickTile(gpu: Gpu, mode: Mode, gm: number, gn: number): Tile {
  const fits = (t: Tile) => tileFits(gpu, t);
  if (gpu.adapter.software) {
    const side = (n: number) => (n <= 32 ? 32 : n <= 64 ? 64 : 128);
    let t: Tile;
    if (mode === 'gradWeight') {
      // gm = K output channels, gn = C·R·S: 128 columns only for long rows of a wide layer
      if (gn <= 32)
        t = gm <= 32 ? [32, 32] : [64, 32, 8]; // 32×32 with 8×8 blocks would be 16 threads: 4×4
      else {
        const bm = side(gm);
        t = [bm, bm === 128 && gn >= 512 ? 128 : 64, 8];
      }
    } else t = [gm <= 64 ? 64 : 128, side(gn), 8]; // gm = pixels: 128 rows unless tiny
    if (fits(t)) return t;
    const small: Tile = [Math.min(t[0], 64), Math.min(t[1], 64), 8]; // ≤ 16 KiB, WebGPU's default
    if (fits(small)) return small;
  }
  if (mode !== 'gradWeight' && gn <= 32 && fits(NARROW)) return NARROW;
  if (mode === 'gradWeight' && gm <= 32 && gn > 64 && fits(WIDE)) return WIDE;
  return [TILE, TILE];
}

/** every tile wgsl/conv2d.wgsl has: 4×4 per thread, then 8×8 (32×32 with 8×8 would have 16 threads, too few) */
export const CONV_TILES: readonly Tile[] = [
  [64, 64],
  [128, 32],
  [32, 128],
  [32, 32],
  [64, 32],
  [32, 64],
  [128, 128, 8],
  [64, 64, 8],
  [128, 64, 8],
  [64, 128, 8],
  [128, 32, 8],
  [32, 128, 8],
  [64, 32, 8],
  [32, 64, 8],
  // prefetching versions of the tiles the first GPU session's tuning chose most, and of the big 8×8 ones (where
  // few workgroups fit on a core, so waiting on memory between tile steps is not hidden by other workgroups)
  [64, 64, 4, 'prefetch'],
  [128, 128, 8, 'prefetch'],
  [128, 64, 8, 'prefetch'],
  [64, 128, 8, 'prefetch'],
];
/** whether a tile fits the device's workgroup memory and invocations */
export function tileFits(gpu: Gpu, t: Tile): boolean {
  return (
    gpu.limits.maxComputeWorkgroupStorageSize >= tileBytes(t) &&
    gpu.limits.maxComputeInvocationsPerWorkgroup >= threadsOf(t) &&
    threadsOf(t) >= BK
  );
}

/** a dispatch's problem for profiles: every mode of a convolution does its N·K·P·Q·C·R·S multiply-adds */
function convWork(mode: Mode, d: ConvDims, phased: boolean, tile: string, z: number): Work {
  const { N, C, H, W, K, R, S, P, Q, sh, sw } = d;
  const extra = !phased && z > 1 ? `, ${z} slices` : '';
  return {
    what: `${mode} x [${N},${C},${H},${W}] w [${K},${C},${R},${S}] stride ${sh}${sw !== sh ? `×${sw}` : ''}${phased ? ' phased' : ''} (${tile}${extra})`,
    flops: 2 * N * K * P * Q * C * R * S,
  };
}

function biasOrDummy(gpu: Gpu, bias: GBuf | null): GBuf {
  return bias ?? gpu.spare(0);
}

// ---------------------------------------------------------------- tiles chosen by timing (conv2d_tune.ts)
/** one GEMM as run() received it, to be run again by the tuner under each tile */
export interface TuneSpec {
  key: string;
  mode: Mode;
  d: ConvDims;
  /** GEMM rows as run() is called with them, and as the kernel runs them (a phased input gradient: per phase) */
  gm: number;
  rows: number;
  gn: number;
  splits: number;
  kChunk: number;
  phased: boolean;
  hasBias: boolean;
  act: Activation;
  alpha: number;
  accumulate: boolean;
}
interface Tuning {
  /** the tile timing chose, per problem (TuneSpec.key) */
  tiles: Map<string, Tile>;
  /** problems run since the last tuning, not timed yet (they run under pickTile's choice meanwhile) */
  pending: Map<string, TuneSpec>;
}
const tunings = new WeakMap<Gpu, Tuning>();
/** start noting this device's conv problems for tuneConvTiles (kept tiles stay); returns its tuning state */
export function enableConvTuning(gpu: Gpu): Tuning {
  if (!tunings.has(gpu)) tunings.set(gpu, { tiles: new Map(), pending: new Map() });
  return tunings.get(gpu)!;
}
/** stop noting and forget the tiles timing chose (pickTile's rule again) */
export function disableConvTuning(gpu: Gpu): void {
  tunings.delete(gpu);
}
/** this device's tuning state, if tuning is on */
export function convTuning(gpu: Gpu): Tuning | undefined {
  return tunings.get(gpu);
}
/** a problem's identity for tuning: everything that sets the GEMM's shape and its partial sums, not the epilogue */
const specKey = (mode: Mode, d: ConvDims, phased: boolean, splits: number, kChunk: number) =>
  `${mode}:${phased ? 1 : 0}:${d.N},${d.C},${d.H},${d.W},${d.K},${d.R},${d.S},${d.P},${d.Q},${d.sh},${d.sw},${d.ph},${d.pw}:${splits}:${kChunk}`;

/** run a problem the tuner noted, under `tile` (a, b, out: scratch buffers of its sizes) */
export function runSpec(gpu: Gpu, s: TuneSpec, a: GBuf, b: GBuf, bias: GBuf | null, out: GBuf, tile: Tile): void {
  run(
    gpu,
    s.mode,
    a,
    b,
    bias,
    out,
    s.d,
    s.act,
    s.alpha,
    s.gm,
    s.gn,
    s.splits,
    s.kChunk,
    { phased: s.phased, skinny: false, tile },
    s.accumulate,
  );
}

/** conv2d_skinny's GEMM rows per workgroup (wgsl/conv2d.wgsl SK_ROWS; each row's reduction split over 8 threads) */
const SKINNY_ROWS = 32;

function run(
  gpu: Gpu,
  mode: Mode,
  a: GBuf,
  b: GBuf,
  bias: GBuf | null,
  out: GBuf,
  d: ConvDims,
  act: Activation,
  alpha: number,
  gm: number,
  gn: number,
  splits = 1,
  kChunk = 0,
  v: ConvVariant = {},
  accumulate = false,
): void {
  if (gm === 0 || gn === 0) return;
  const gm0 = gm;
  const skinny = v.skinny ?? gn <= 4;
  const phased = mode === 'gradInput' && (v.phased ?? (d.sh > 1 || d.sw > 1));
  const z = phased ? d.sh * d.sw : splits;
  if (phased) gm = d.N * Math.ceil(d.H / d.sh) * Math.ceil(d.W / d.sw);
  if (skinny && gn > 4) throw new Error(`conv2d_skinny handles at most 4 output columns, got ${gn}`);
  if (skinny && mode === 'gradWeight') throw new Error('conv2d_skinny has no split-K weight-gradient path');
  let tile = v.tile;
  const tu = tile || skinny ? undefined : tunings.get(gpu);
  if (tu) {
    const key = specKey(mode, d, phased, splits, kChunk);
    tile = tu.tiles.get(key);
    if (!tile && !tu.pending.has(key))
      tu.pending.set(key, {
        key,
        mode,
        d: { ...d },
        gm: gm0,
        rows: gm,
        gn,
        splits,
        kChunk,
        phased,
        hasBias: bias !== null,
        act,
        alpha,
        accumulate,
      });
  }
  tile ??= pickTile(gpu, mode, gm, gn);
  if (![tile[0], tile[1]].every((t) => t === 32 || t === 64 || t === 128))
    throw new Error(`conv2d tile sides are 32, 64 or 128, got ${tile}`);
  if (blockOf(tile) !== 4 && blockOf(tile) !== 8) throw new Error(`conv2d thread blocks are 4 or 8, got ${tile}`);
  // the loaders give each of BK = 32 reduction rows of a tile step a thread of its own, so ≥ 32 threads (32×32 with
  // 8×8 blocks would be 16)
  if (threadsOf(tile) < BK)
    throw new Error(`conv2d tile ${tile} has ${threadsOf(tile)} threads, fewer than its ${BK} reduction rows`);
  if (prefetchOf(tile) && Math.max(...slotsOf(tile)) > STAGE)
    throw new Error(
      `conv2d tile ${tileName(tile)}: prefetching needs at most ${STAGE} slots of A and of B per thread (${slotsOf(tile)})`,
    );
  if (
    tileBytes(tile) > gpu.limits.maxComputeWorkgroupStorageSize ||
    threadsOf(tile) > gpu.limits.maxComputeInvocationsPerWorkgroup
  )
    throw new Error(
      `conv2d tile ${tile} needs ${tileBytes(tile)} bytes of workgroup memory and ${threadsOf(tile)} threads`,
    );
  gpu.dispatch(
    kernel(mode, bias !== null, act, phased, skinny, accumulate, tile),
    [a, b, biasOrDummy(gpu, bias), out],
    (p) => p.u(d.N, d.C, d.H, d.W, d.K, d.R, d.S, d.P, d.Q, d.sh, d.sw, d.ph, d.pw, kChunk).f(alpha),
    skinny ? [Math.ceil(gm / SKINNY_ROWS), 1, z] : [Math.ceil(gn / tile[1]), Math.ceil(gm / tile[0]), z],
    () => convWork(mode, d, phased, skinny ? 'skinny' : tileName(tile), z),
  );
}

/** split-K of the forward and input gradient: workgroups wanted in flight (2 per core of a ~132-core GPU, as the
 * weight gradient's), reduction elements per slice at least, and slices at most */
const SPLIT_TARGET = 264;
const SPLIT_MIN_K = 256;
const SPLIT_MAX = 16;

/** how many slices the forward or the unphased input gradient's reduction (gk long, into gm × gn outputs under
 * `tile`) is split into: 1 where the output tiles alone give every core one (≥ SPLIT_TARGET / 2), on software
 * adapters (lavapipe's 2 cores are busy with any grid) and for ≤ 4 columns (the skinny kernel); else enough slices
 * of at least SPLIT_MIN_K for about SPLIT_TARGET workgroups (never with gpu.splitK false). The partial outputs cost a
 * write and a read of splits × the
 * output (~6 MB at most on the seed layers: microseconds on an H100) and one dispatch of the reduce kernel. */
export function gemmSplits(
  gpu: Gpu,
  mode: 'forward' | 'gradInput',
  gm: number,
  gn: number,
  gk: number,
  tile: Tile = pickTile(gpu, mode, gm, gn),
): number {
  if (gpu.adapter.software || !gpu.splitK || gn <= 4) return 1;
  const tiles = Math.ceil(gm / tile[0]) * Math.ceil(gn / tile[1]);
  if (2 * tiles >= SPLIT_TARGET) return 1;
  return Math.max(1, Math.min(Math.ceil(SPLIT_TARGET / tiles), Math.floor(gk / SPLIT_MIN_K), SPLIT_MAX));
}

/** the forward (mode 0) or input gradient (mode 1) GEMM, split-K where gemmSplits (or v.splits) says so */
function runOut(
  gpu: Gpu,
  mode: 'forward' | 'gradInput',
  a: GBuf,
  b: GBuf,
  bias: GBuf | null,
  out: GBuf,
  d: ConvDims,
  act: Activation,
  alpha: number,
  gm: number,
  gn: number,
  gk: number,
  v: ConvVariant,
): void {
  const phased = mode === 'gradInput' && (v.phased ?? (d.sh > 1 || d.sw > 1));
  const plain = bias === null && act === 'none' && !phased && !(v.skinny ?? gn <= 4);
  // like the weight gradient's, the split count (which sets the partial sums, so the result's bits) comes from the
  // forced tile or pickTile's, never from a tile chosen by timing
  const splits = v.splits ?? (plain ? gemmSplits(gpu, mode, gm, gn, gk, v.tile ?? pickTile(gpu, mode, gm, gn)) : 1);
  if (!Number.isInteger(splits) || splits < 1)
    throw new Error(`conv2d: splits must be a whole number ≥ 1, got ${splits}`);
  if (splits > 1 && !plain)
    throw new Error(
      'conv2d: split-K needs the forward or unphased input gradient without bias or activation, on the tiled kernel',
    );
  const { kChunk, z } = sliceK(gk, splits);
  if (z <= 1) run(gpu, mode, a, b, bias, out, d, act, alpha, gm, gn, 1, 0, v);
  else runSlices(gpu, mode, a, b, out, d, gm, gn, z, kChunk, v, false);
}

/** `splits` slices of a gk-long reduction: each kChunk long (whole tile steps of BK), z of them non-empty */
function sliceK(gk: number, splits: number): { kChunk: number; z: number } {
  const kChunk = Math.ceil(gk / splits / BK) * BK;
  return { kChunk, z: kChunk > 0 ? Math.ceil(gk / kChunk) : 1 }; // an empty reduction: one slice
}

/** split-K: z slices of the GEMM into partial outputs (no bias, no activation), summed into `out` in slice order by
 * the reduce kernel (`accumulate`: out += the sum) */
function runSlices(
  gpu: Gpu,
  mode: Mode,
  a: GBuf,
  b: GBuf,
  out: GBuf,
  d: ConvDims,
  gm: number,
  gn: number,
  z: number,
  kChunk: number,
  v: ConvVariant,
  accumulate: boolean,
): void {
  const part = gpu.acquire(z * gm * gn * 4);
  run(gpu, mode, a, b, null, part, d, 'none', 0, gm, gn, z, kChunk, v);
  reduceSum(gpu, part, [z, gm * gn], [0], out, accumulate);
  gpu.release(part);
}

export function conv2d(
  gpu: Gpu,
  x: GBuf,
  w: GBuf,
  bias: GBuf | null,
  y: GBuf,
  d: ConvDims,
  act: Activation,
  alpha: number,
  v: ConvVariant = {},
): void {
  runOut(gpu, 'forward', x, w, bias, y, d, act, alpha, d.N * d.P * d.Q, d.K, d.C * d.R * d.S, v);
}

export function conv2dGradInput(
  gpu: Gpu,
  gy: GBuf,
  w: GBuf,
  gx: GBuf,
  d: ConvDims,
  bias: GBuf | null,
  act: Activation,
  alpha: number,
  v: ConvVariant = {},
): void {
  runOut(gpu, 'gradInput', gy, w, bias, gx, d, act, alpha, d.N * d.H * d.W, d.C, d.K * d.R * d.S, v);
}

/** the weight gradient's tile for `d` (gm = K, gn = C·R·S) */
export function gradWeightTile(gpu: Gpu, d: ConvDims): Tile {
  return pickTile(gpu, 'gradWeight', d.K, d.C * d.R * d.S);
}

/** how many slices to split the weight gradient's reduction into: enough that the `tile`-sized output tiles times
 * the slices reach the workgroups wanted in flight */
export function gradWeightSplits(gpu: Gpu, d: ConvDims, tile: Tile = gradWeightTile(gpu, d)): number {
  const tiles = Math.ceil(d.K / tile[0]) * Math.ceil((d.C * d.R * d.S) / tile[1]);
  const target = gpu.adapter.software ? 4 : 264; // workgroups wanted in flight
  const gk = d.N * d.P * d.Q;
  return Math.max(1, Math.min(Math.ceil(target / tiles), Math.floor(gk / 512), 64));
}

/** gw = ∂/∂w (split-K over `splits` slices, summed by the reduce kernel; by default gradWeightSplits for the
 * tile); with `accumulate`, gw += that. `v` forces the tile (tests, benchmarks) */
export function conv2dGradWeight(
  gpu: Gpu,
  x: GBuf,
  gy: GBuf,
  gw: GBuf,
  d: ConvDims,
  splits?: number,
  accumulate = false,
  v: Pick<ConvVariant, 'tile'> = {},
): void {
  // the split count (which sets the partial sums, so the result's bits) comes from the forced tile or pickTile's,
  // never from a tile chosen by timing (run() consults those): tuning leaves the numbers as they are
  splits ??= gradWeightSplits(gpu, d, v.tile ?? gradWeightTile(gpu, d));
  const vv: ConvVariant = { skinny: false, tile: v.tile };
  const gm = d.K;
  const gn = d.C * d.R * d.S;
  const gk = d.N * d.P * d.Q;
  const { kChunk, z } = sliceK(gk, splits);
  if (z <= 1) run(gpu, 'gradWeight', gy, x, null, gw, d, 'none', 0, gm, gn, 1, Math.max(gk, 1), vv, accumulate);
  else runSlices(gpu, 'gradWeight', gy, x, gw, d, gm, gn, z, kChunk, vv, accumulate);
}
