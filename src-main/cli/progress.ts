/**
 * Progress on stderr: a redrawn bar with rate and ETA on a terminal, and a plain line every few seconds
 * when stderr is a file or pipe (so logs stay readable).
 */
export class Progress {
  private readonly started = Date.now();
  /** Rate and ETA are measured from the first update (a resumed run starts at its checkpoint step). */
  private first: { done: number; at: number } | null = null;
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly unit = 'steps',
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, note = ''): void {
    const now = Date.now();
    const finished = done >= this.total;
    if (!finished && now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    this.first ??= { done, at: now };
    const span = (now - this.first.at) / 1000;
    const rate = span > 0 ? (done - this.first.done) / span : 0;
    const eta = rate > 0 && Number.isFinite(this.total) ? (this.total - done) / rate : NaN;
    const total = Number.isFinite(this.total) ? `/${this.total}` : '';
    const pct = Number.isFinite(this.total) ? ` ${((100 * done) / this.total).toFixed(0).padStart(3)}%` : '';
    const bar = Number.isFinite(this.total) && this.tty ? ` [${barOf(done / this.total, 24)}]` : '';
    const text = `${this.label}${bar}${pct} ${done}${total} ${this.unit}  ${formatRate(rate, this.unit)}  elapsed ${formatDuration(elapsed)}${Number.isFinite(eta) ? `  ETA ${formatDuration(eta)}` : ''}${note ? `  ${note}` : ''}`;
    if (this.tty) this.stream.write(`\r\x1b[K${text}${finished ? '\n' : ''}`);
    else this.stream.write(`${text}\n`);
  }

  /** Ends a bar that stopped early (cancel or error) on its own line. */
  end(): void {
    if (this.tty) this.stream.write('\n');
  }
}

function barOf(frac: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(frac * width)));
  return '#'.repeat(filled) + '-'.repeat(width - filled);
}

function formatRate(rate: number, unit: string): string {
  if (rate <= 0) return '';
  return rate >= 1 ? `${rate.toFixed(2)} ${unit}/s` : `${(1 / rate).toFixed(2)} s/${unit.replace(/s$/, '')}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
