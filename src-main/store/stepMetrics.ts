/**
 * Per-step scalars: batched writes, truncation on resume, and series reads downsampled in SQL.
 *
 * Writes are idempotent on (run_id, step) (INSERT OR REPLACE): a run resumed from its last checkpoint
 * re-trains the steps after it, and the new values replace the old ones rather than colliding.
 */
import type { MetricName, Quartets, RawSeriesOptions, Series, SeriesOptions, StepMetricRow } from './types';
import type { Statement } from 'better-sqlite3';
import type { Db } from './sql';

/** MetricName → column. A whitelist: metric names from a request never reach SQL text unchecked. */
export const METRIC_COLUMNS: Record<MetricName, string> = {
  loss: 'loss',
  mse: 'mse',
  vb: 'vb',
  gradNorm: 'grad_norm',
  lr: 'lr',
  samplesPerSec: 'samples_per_sec',
  stepMs: 'step_ms',
  lossQ0: 'loss_q0',
  lossQ1: 'loss_q1',
  lossQ2: 'loss_q2',
  lossQ3: 'loss_q3',
  mseQ0: 'mse_q0',
  mseQ1: 'mse_q1',
  mseQ2: 'mse_q2',
  mseQ3: 'mse_q3',
  vbQ0: 'vb_q0',
  vbQ1: 'vb_q1',
  vbQ2: 'vb_q2',
  vbQ3: 'vb_q3',
};

export function metricColumn(metric: MetricName): string {
  const col = Object.hasOwn(METRIC_COLUMNS, metric) ? METRIC_COLUMNS[metric] : undefined;
  if (!col) throw new Error(`unknown metric '${metric}' (expected one of ${Object.keys(METRIC_COLUMNS).join(', ')})`);
  return col;
}

/** Steps are non-negative integers; these bound "no limit" without special-casing SQL. */
const MIN_STEP = -1;
const MAX_STEP = Number.MAX_SAFE_INTEGER;
/** Most points a downsampled read returns; a chart is never wider than this in pixels. */
export const MAX_BUCKETS = 20_000;

export function emptySeries(): Series {
  return { step: [], value: [], min: [], max: [], time: [] };
}

function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function quartet(q: Quartets | null | undefined): (number | null)[] {
  return q ? [finiteOrNull(q[0]), finiteOrNull(q[1]), finiteOrNull(q[2]), finiteOrNull(q[3])] : [null, null, null, null];
}

export class StepMetricsTable {
  private readonly upsert;
  private readonly truncate;
  private readonly firstStep;
  private readonly lastStep;
  /** Prepared statements by SQL text: the same few metric sets are read again and again. */
  private readonly statements = new Map<string, Statement<unknown[], unknown>>();
  /** Rows in temp.series_buckets so far. */
  private buckets = 0;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO step_metrics (run_id, step, time, loss, mse, vb, grad_norm, lr, samples_per_sec, step_ms,
         loss_q0, loss_q1, loss_q2, loss_q3, mse_q0, mse_q1, mse_q2, mse_q3, vb_q0, vb_q1, vb_q2, vb_q3)
       VALUES (${Array.from({ length: 22 }, () => '?').join(', ')})`,
    );
    this.truncate = db.prepare('DELETE FROM step_metrics WHERE run_id = ? AND step > ?');
    // Two index seeks. A single `SELECT min(step), max(step) … WHERE step BETWEEN …` would not use
    // SQLite's min/max shortcut (it needs a bare WHERE) and would scan the whole range instead.
    this.firstStep = db.prepare<[string, number, number], number>('SELECT step FROM step_metrics WHERE run_id = ? AND step >= ? AND step <= ? ORDER BY step ASC LIMIT 1').pluck();
    this.lastStep = db.prepare<[string, number, number], number>('SELECT step FROM step_metrics WHERE run_id = ? AND step >= ? AND step <= ? ORDER BY step DESC LIMIT 1').pluck();
  }

  /**
   * Inserts or replaces `rows`. The caller provides the transaction (Store.appendStepMetrics), so a batch
   * is one commit. Non-finite numbers are stored as NULL: a chart cannot draw them and SQLite would
   * store NaN as NULL anyway. Returns the largest step written, or null for an empty batch.
   */
  append(runId: string, rows: readonly StepMetricRow[]): number | null {
    let last: number | null = null;
    for (const r of rows) {
      if (!Number.isInteger(r.step) || r.step < 0) throw new Error(`step metrics: step must be a whole number ≥ 0, got ${r.step}`);
      this.upsert.run(
        runId,
        r.step,
        Math.round(r.time),
        finiteOrNull(r.loss),
        finiteOrNull(r.mse),
        finiteOrNull(r.vb),
        finiteOrNull(r.gradNorm),
        finiteOrNull(r.lr),
        finiteOrNull(r.samplesPerSec),
        finiteOrNull(r.stepMs),
        ...quartet(r.lossQ),
        ...quartet(r.mseQ),
        ...quartet(r.vbQ),
      );
      if (last === null || r.step > last) last = r.step;
    }
    return last;
  }

  private prepared(sql: string): Statement<unknown[], unknown> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare<unknown[], unknown>(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Deletes the rows after `step`; returns how many. */
  truncateAfter(runId: string, step: number): number {
    return this.truncate.run(runId, step).changes;
  }

  /** First and last stored step within [fromStep, toStep], or null when there is none. */
  stepRange(runId: string, fromStep = MIN_STEP, toStep = MAX_STEP): { lo: number; hi: number } | null {
    const lo = this.firstStep.get(runId, fromStep, toStep);
    if (lo === undefined) return null;
    return { lo, hi: this.lastStep.get(runId, fromStep, toStep)! };
  }

  /**
   * Every row of one metric in a step range, ascending (min = max = value). For zoomed-in views; the
   * limit guards against reading a whole long run into memory by mistake.
   */
  readRaw(runId: string, metric: MetricName, opts: RawSeriesOptions = {}): Series {
    const col = metricColumn(metric);
    const rows = this.prepared(
      `SELECT step, ${col} AS v, time FROM step_metrics
       WHERE run_id = ? AND step >= ? AND step <= ? AND ${col} IS NOT NULL ORDER BY step LIMIT ?`,
    ).all(runId, opts.fromStep ?? MIN_STEP, opts.toStep ?? MAX_STEP, opts.limit ?? 10_000) as { step: number; v: number; time: number }[];
    const out = emptySeries();
    for (const r of rows) {
      out.step.push(r.step);
      out.value.push(r.v);
      out.min.push(r.v);
      out.max.push(r.v);
      out.time.push(r.time);
    }
    return out;
  }

  /**
   * Several metrics over the same steps, each downsampled to at most `points` points, in ONE pass over
   * the (run_id, step) range. Steps [lo, hi] are cut into `points` equal-width buckets,
   * bucket(step) = ⌊(step − lo) · points / span⌋ with span = hi − lo + 1, and each non-empty bucket yields
   * the mean, min and max of its rows plus its last step and wall time. Buckets are by step, not by row
   * count, so the x axis stays true where a run has gaps.
   *
   * How: a plain `GROUP BY <bucket expression>` makes SQLite sort all rows in a temp b-tree (the
   * expression is not an index order), which costs more than the scan itself. Instead the query walks a
   * table of bucket numbers 0…points−1 in order and joins each to its step range, [lo + ⌈i·span/points⌉,
   * lo + ⌈(i+1)·span/points⌉), a range seek on the primary key; grouping by the outer loop's key then
   * streams with no sort. (Those bounds are exactly the steps whose ⌊(step − lo)·points/span⌋ is i.)
   * When the range holds no more steps than `points`, every step is its own point and the raw rows are
   * returned.
   */
  readMany<M extends MetricName>(runId: string, metrics: readonly M[], opts: SeriesOptions): Record<M, Series> {
    const points = Math.min(MAX_BUCKETS, Math.floor(opts.points));
    if (!(points >= 1)) throw new Error(`readSeries: points must be ≥ 1, got ${opts.points}`);
    const out = {} as Record<M, Series>;
    for (const m of metrics) out[m] = emptySeries();
    if (metrics.length === 0) return out;
    const range = this.stepRange(runId, opts.fromStep, opts.toStep);
    if (!range) return out;
    const cols = metrics.map(metricColumn);
    const span = range.hi - range.lo + 1;
    let rows: (number | null)[][];
    if (span <= points) {
      const values = cols.map((c) => `${c}, ${c}, ${c}`).join(', ');
      rows = this.prepared(`SELECT step, time, ${values} FROM step_metrics WHERE run_id = ? AND step >= ? AND step <= ? ORDER BY step`)
        .raw(true)
        .all(runId, range.lo, range.hi) as (number | null)[][];
    } else {
      this.ensureBuckets(points);
      const aggregates = cols.map((c) => `avg(m.${c}), min(m.${c}), max(m.${c})`).join(', ');
      // BigInt parameters bind as INTEGER, so `/` is integer division (numbers would bind as REAL).
      rows = this.prepared(
        `SELECT max(m.step), max(m.time), ${aggregates}
         FROM temp.series_buckets b
         JOIN step_metrics m ON m.run_id = @run
           AND m.step >= @lo + (b.i * @span + @points - 1) / @points
           AND m.step <  @lo + ((b.i + 1) * @span + @points - 1) / @points
         WHERE b.i < @points
         GROUP BY b.i
         ORDER BY b.i`,
      )
        .raw(true)
        .all({ run: runId, lo: BigInt(range.lo), span: BigInt(span), points: BigInt(points) }) as (number | null)[][];
    }
    metrics.forEach((m, i) => {
      const s = out[m];
      const a = 2 + 3 * i;
      for (const r of rows) {
        if (r[a] === null) continue; // every row of the bucket was NULL for this metric (e.g. vb under L_simple)
        s.step.push(r[0]!);
        s.time.push(r[1]!);
        s.value.push(r[a]!);
        s.min.push(r[a + 1]!);
        s.max.push(r[a + 2]!);
      }
    });
    return out;
  }

  /**
   * The bucket-number table of readMany: a per-connection temp table (never in the database file), grown
   * on demand, so a read needs no write to studio.db.
   */
  private ensureBuckets(n: number): void {
    if (n <= this.buckets) return;
    this.db.exec('CREATE TEMP TABLE IF NOT EXISTS series_buckets (i INTEGER PRIMARY KEY)');
    const insert = this.db.prepare('INSERT OR IGNORE INTO temp.series_buckets (i) VALUES (?)');
    this.db.transaction(() => {
      for (let i = this.buckets; i < n; i++) insert.run(i);
    })();
    this.buckets = n;
  }

  read(runId: string, metric: MetricName, opts: SeriesOptions): Series {
    return this.readMany(runId, [metric], opts)[metric];
  }
}
