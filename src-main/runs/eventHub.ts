/**
 * Fan-out of studio events to subscribers, throttled for the UI: per run at most ~10 updates a second.
 * Metric rows are batched (none dropped); run summaries coalesce to the latest (never dropped, only
 * delayed); rare events (checkpoints, VLB snapshots, jobs) go out at once.
 */
import type { StepRow, StudioEvent } from '../../src-shared/protocol';

export type Subscriber = (e: StudioEvent) => void;

export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly pendingRows = new Map<string, StepRow[]>();
  private readonly pendingLatest = new Map<string, StudioEvent>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param beforeFlush runs before pending events go out: the service flushes its metric writers there, so
   *   every row a subscriber receives is already in the store and a late subscriber's backfill plus the
   *   live rows that follow leave no gap.
   */
  constructor(
    private readonly intervalMs = 100,
    private readonly beforeFlush: () => void = () => {},
  ) {}

  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Sends now. */
  emit(e: StudioEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(e);
      } catch {
        // One broken subscriber (a closed socket) must not stop the others.
      }
    }
  }

  /** Queues metric rows of a run; they go out together at the next tick. */
  rows(runId: string, rows: StepRow[]): void {
    const list = this.pendingRows.get(runId);
    if (list) list.push(...rows);
    else this.pendingRows.set(runId, [...rows]);
    this.schedule();
  }

  /** Keeps only the newest event per key until the next tick (e.g. a run's summary). */
  latest(key: string, e: StudioEvent): void {
    this.pendingLatest.set(key, e);
    this.schedule();
  }

  /** Sends everything pending now (before a final status event, so order stays right). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.beforeFlush();
    for (const [runId, rows] of this.pendingRows) this.emit({ type: 'metrics', runId, rows });
    this.pendingRows.clear();
    const latest = [...this.pendingLatest.values()];
    this.pendingLatest.clear();
    for (const e of latest) this.emit(e);
  }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  close(): void {
    this.flush();
    this.subscribers.clear();
  }
}
