// app/run_dir.ts — the skeleton both training runners (gan_run.ts, cnn_run.ts) share: a run directory holding
// metrics.jsonl (one JSON line per epoch), charts (SVG, rewritten each epoch) and checkpoints, and the line a
// resumed run starts with.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class RunDir {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** a file in the run directory */
  path(...names: string[]): string {
    return join(this.dir, ...names);
  }

  /** one epoch's line in metrics.jsonl */
  appendMetrics(epoch: object): void {
    appendFileSync(this.path('metrics.jsonl'), `${JSON.stringify(epoch)}\n`);
  }

  /** charts by file name (an undefined chart is not written) */
  writeCharts(charts: Record<string, string | undefined>): void {
    for (const [name, svg] of Object.entries(charts)) if (svg !== undefined) writeFileSync(this.path(name), svg);
  }
}

/** what a resumed run says first: where it goes on from */
export function resumingFrom(path: string, epoch: number, inEpoch: number | undefined, step: number): string {
  return `resuming from ${path} after ${inEpoch ? `${inEpoch} steps of epoch ${epoch + 1}` : `epoch ${epoch}`} (step ${step})`;
}
