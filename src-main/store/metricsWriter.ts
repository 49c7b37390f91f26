/**
 * Buffers step metric rows and writes them in batches: a live run reports every step (tens to hundreds
 * per second on a GPU), and one transaction per batch instead of per row keeps the write cost and the
 * WAL growth small. A batch goes out when it holds `maxRows` rows or its oldest row is `maxDelayMs` old,
 * whichever comes first, so a slow run still shows up on the chart within about a second.
 *
 * Failure policy: a batch that fails to write is dropped, not retried. The failures that happen here are
 * a full disk or a run deleted under the writer; retrying would re-fail on every row and grow the buffer
 * without bound. flush() and close() throw the error; a timer flush hands it to `onError`.
 */
import type { StepMetricRow } from './types';

export interface MetricsWriterOptions {
  /** Flush once this many rows are buffered (default 100). */
  maxRows?: number;
  /** Flush when the oldest buffered row is this old (default 1000 ms; 0 = only by count and close). */
  maxDelayMs?: number;
  /** Errors of timer-driven flushes (default: printed to stderr). */
  onError?: (error: Error) => void;
}

export class MetricsWriter {
  private buffer: StepMetricRow[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly maxRows: number;
  private readonly maxDelayMs: number;
  private readonly onError: (error: Error) => void;
  /** Rows written so far and batches it took (for tests and diagnostics). */
  written = 0;
  flushes = 0;

  constructor(
    private readonly sink: (rows: StepMetricRow[]) => void,
    opts: MetricsWriterOptions = {},
  ) {
    this.maxRows = Math.max(1, Math.floor(opts.maxRows ?? 100));
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 1000);
    this.onError = opts.onError ?? ((e) => process.stderr.write(`metrics writer: ${e.message}\n`));
  }

  get pending(): number {
    return this.buffer.length;
  }

  add(row: StepMetricRow): void {
    if (this.closed) throw new Error('metrics writer is closed');
    this.buffer.push(row);
    if (this.buffer.length >= this.maxRows) {
      this.flush();
    } else if (this.timer === null && this.maxDelayMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        try {
          this.flush();
        } catch (e) {
          this.onError(e as Error);
        }
      }, this.maxDelayMs);
      // The timer must not keep a finished CLI process alive; close() flushes what is left.
      this.timer.unref?.();
    }
  }

  /** Writes the buffered rows now, in one transaction. Returns how many. */
  flush(): number {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const rows = this.buffer;
    if (rows.length === 0) return 0;
    this.buffer = [];
    this.sink(rows);
    this.written += rows.length;
    this.flushes += 1;
    return rows.length;
  }

  /** Flushes and stops accepting rows. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
  }
}
