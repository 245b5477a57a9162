// progress.ts — a one-line progress bar on a terminal (rewritten in place), plain lines otherwise.
export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = Math.floor(s % 60);
  return h
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

export class ProgressLine {
  private last = '';
  constructor(private stream: NodeJS.WriteStream = process.stderr) {}
  get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }
  update(fraction: number, text: string): void {
    const width = 24;
    const n = Math.round(Math.max(0, Math.min(1, fraction)) * width);
    const line = `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${text}`;
    if (this.tty) this.stream.write(`\r${line.padEnd(this.last.length)}`);
    else this.stream.write(`${line}\n`);
    this.last = line;
  }
  done(): void {
    if (this.tty && this.last) this.stream.write('\n');
    this.last = '';
  }
}
