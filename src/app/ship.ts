// app/ship.ts — the GANs this repo ships in models/ (the generator's weight average and the discriminator of a GPU
// run, weights only, large ones as F16, a .sha256 beside each): their paths, and writing one from a run's
// checkpoint (`npm run eval -- gan --checkpoint … --ship FILE`). Reads check the .sha256 (node/checkpoint.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Backend } from '../autograd/backend.js';
import { readCheckpoint, readCheckpointBytes, writeWithHash } from '../node/checkpoint.js';
import { writeGridPng } from '../node/png.js';
import { loadGanModels, shipGanBytes } from '../gan/load.js';
import { generate, sampleInputs } from '../gan/train.js';

export const SHIPPED_GAN = { cgan: 'models/cgan.safetensors', acgan: 'models/acgan.safetensors' } as const;

/** the command that writes a new shipped file at `path` (named in the error for a file that changed) */
export const SHIP_GAN = (path: string) =>
  `\`npm run eval -- gan --checkpoint runs/NAME/checkpoint.safetensors --ship ${path}\``;

/** write the shipped file of the GAN checkpoint `from` to `out`, and `<out>.sha256`; returns the hash */
export function shipGan(from: string, out: string): string {
  const bytes = shipGanBytes(readCheckpointBytes(from), from, {
    from: basename(from),
    date: new Date().toISOString().slice(0, 10),
  });
  mkdirSync(dirname(out), { recursive: true });
  return writeWithHash(out, bytes);
}

/**
 * The shipped GAN's 10×10 grid (a row per class) for the fixed noise of a run's own grid.png (sampleInputs, seed
 * 12345), written to `out`: what a full GPU run gives, beside a short demo run's grid. Null where this checkout
 * has no shipped file of that kind. Returns its metadata (epoch, preset) for the caller's message.
 */
export async function writeShippedGrid(
  be: Backend,
  kind: 'cgan' | 'acgan',
  out: string,
): Promise<Record<string, any> | null> {
  const path = SHIPPED_GAN[kind];
  if (!existsSync(path)) return null;
  const m = loadGanModels(be, readCheckpoint(path, SHIP_GAN(path)), path);
  const [z, y] = sampleInputs(be, m.config, 10, 12345);
  try {
    writeGridPng(out, await generate(m.G, z, y), { rows: 10, cols: 10 });
  } finally {
    for (const t of [z, y]) t.dispose();
    m.G.dispose();
    m.D.dispose();
  }
  return m.meta;
}
