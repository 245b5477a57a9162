// node/tile_cache.ts — conv tiles chosen by timing (kernels/conv2d_tune.ts) kept on disk, per adapter, so that the
// next process on the same machine starts with them instead of timing the same problems again (a benchmark, then
// a training run, then another). Tiles never change a result's bits, so a cached choice can only be slower, never
// wrong; a missing, unreadable or foreign file is ignored (with a message) and rewritten at the next tuning.
// File: $FMNIST_TILE_CACHE, else $XDG_CACHE_HOME (~/.cache)/fmnist-webgpu-engine/conv-tiles.json:
//   { "version": 2, "adapters": { "<adapter and limits>": { "<problem key>": "64×64/8", … } } }
// Version 1 files were timed on Dawn's quantised timestamps (65.536 µs steps) and without warming the GPU up, which
// chose slow tiles on an H200 (bench/RESULTS.md, first GPU session): they are timed afresh, not loaded.
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CONV_TILES, convTuning, enableConvTuning, tileFits } from '../kernels/conv2d.js';
import { tileName } from '../kernels/conv2d_tune.js';
import { describeGpu } from '../kernels/device.js';
import type { Gpu } from '../kernels/gpu.js';
import { writeFileAtomic } from './checkpoint.js';

export function tileCachePath(): string {
  return (
    process.env.FMNIST_TILE_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fmnist-webgpu-engine', 'conv-tiles.json')
  );
}

/** what a cached choice belongs to: the adapter, and the limits that decide which tiles fit */
function adapterKey(gpu: Gpu): string {
  return `${describeGpu(gpu)}; workgroup storage ${gpu.limits.maxComputeWorkgroupStorageSize}, invocations ${gpu.limits.maxComputeInvocationsPerWorkgroup}`;
}

const VERSION = 2;
type CacheFile = { version: typeof VERSION; adapters: Record<string, Record<string, string>> };

function read(path: string): CacheFile {
  const f = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; adapters?: unknown } | null;
  if (f?.version === 1) throw new Error('timed by an older tuner, on quantised timestamps and a cold GPU');
  if (f?.version !== VERSION || typeof f.adapters !== 'object' || f.adapters === null)
    throw new Error(`not a version-${VERSION} tile cache`);
  return f as CacheFile;
}

/**
 * Turn tuning on for `gpu` with the tiles cached for this adapter. Returns how many were loaded and, when the file
 * could not be used, why (the file is left for saveTileCache to replace).
 */
export function loadTileCache(gpu: Gpu, path = tileCachePath()): { loaded: number; problem?: string } {
  const tu = enableConvTuning(gpu);
  let f: CacheFile;
  try {
    f = read(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { loaded: 0 };
    return { loaded: 0, problem: `conv tile cache ${path} unusable (${(e as Error).message}); timing afresh` };
  }
  const byName = new Map(CONV_TILES.filter((t) => tileFits(gpu, t)).map((t) => [tileName(t), t]));
  let loaded = 0;
  for (const [key, name] of Object.entries(f.adapters[adapterKey(gpu)] ?? {})) {
    const t = byName.get(name);
    if (!t) continue; // a tile this version or device does not have
    tu.tiles.set(key, t);
    loaded++;
  }
  return { loaded };
}

/** write this process's tiles for `gpu` into the cache (merged with what is there; atomically) */
export function saveTileCache(gpu: Gpu, path = tileCachePath()): void {
  const tu = convTuning(gpu);
  if (!tu) return;
  let f: CacheFile = { version: VERSION, adapters: {} };
  try {
    f = read(path);
  } catch {
    // missing or unusable: replaced
  }
  const mine = (f.adapters[adapterKey(gpu)] ??= {});
  for (const [key, t] of tu.tiles) mine[key] = tileName(t);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(f, null, 1) + '\n'));
}
