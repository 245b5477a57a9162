// node/png.ts — write image grids as PNG (pngjs): images in [−1, 1] (GAN) or [0, 1], laid out rows × cols with a
// 2-pixel gap, optionally scaled up.
import { PNG } from 'pngjs';
import { writeFileSync } from 'node:fs';

export interface GridOptions {
  rows: number;
  cols: number;
  h?: number;
  w?: number;
  /** value range of the input */
  range?: 'symmetric' | 'unit';
  scale?: number;
  gap?: number;
}

export function gridPng(images: ArrayLike<number>, o: GridOptions): Buffer {
  const h = o.h ?? 28,
    w = o.w ?? 28,
    s = o.scale ?? 2,
    gap = o.gap ?? 2;
  const W = o.cols * (w * s + gap) + gap,
    H = o.rows * (h * s + gap) + gap;
  const png = new PNG({ width: W, height: H });
  png.data.fill(255); // white gaps between images
  for (let r = 0; r < o.rows; r++)
    for (let c = 0; c < o.cols; c++) {
      const base = (r * o.cols + c) * h * w;
      if (base >= images.length) continue;
      for (let y = 0; y < h * s; y++)
        for (let x = 0; x < w * s; x++) {
          const v = images[base + Math.floor(y / s) * w + Math.floor(x / s)];
          const u = o.range === 'unit' ? v : (v + 1) / 2;
          const g = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0)));
          const px = ((gap + r * (h * s + gap) + y) * W + gap + c * (w * s + gap) + x) * 4;
          png.data[px] = png.data[px + 1] = png.data[px + 2] = g; // as the dataset: bright garment on black
          png.data[px + 3] = 255;
        }
    }
  return PNG.sync.write(png);
}

export function writeGridPng(path: string, images: ArrayLike<number>, o: GridOptions): void {
  writeFileSync(path, gridPng(images, o));
}
