/**
 * Sample-quality results: one row per finished quality job (a run's checkpoint, the sampler settings, the
 * metrics report with its caveat, the classifier it was measured on). Rows go with their run.
 */
import type { Statement } from 'better-sqlite3';
import { fromJson, toJson, type Clock, type Db } from './sql';
import type { NewQualityResult, QualityResultRecord } from './types';

interface QualityRow {
  id: number;
  run_id: string;
  checkpoint_id: number | null;
  job_id: number | null;
  step: number;
  sweep_id: string | null;
  sampler: string;
  steps: number;
  skip_fraction: number;
  count: number;
  settings: string;
  report: string;
  classifier: string;
  created_at: number;
}

function toRecord(r: QualityRow): QualityResultRecord {
  return {
    id: r.id,
    runId: r.run_id,
    checkpointId: r.checkpoint_id,
    jobId: r.job_id,
    step: r.step,
    sweepId: r.sweep_id,
    sampler: r.sampler,
    steps: r.steps,
    skipFraction: r.skip_fraction,
    count: r.count,
    settings: fromJson<Record<string, unknown>>(r.settings, {}),
    report: fromJson<Record<string, unknown>>(r.report, {}),
    classifier: fromJson<Record<string, unknown>>(r.classifier, {}),
    createdAt: r.created_at,
  };
}

export class QualityResultsTable {
  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {}

  // Prepared on first use, not in the constructor: a Store opened on an older schema (a test's partial
  // migration list) has no quality_results table and must still open.
  private statements?: { insert: Statement; byId: Statement; byRun: Statement };
  private get sql() {
    this.statements ??= {
      insert: this.db.prepare(
        `INSERT INTO quality_results (run_id, checkpoint_id, job_id, step, sweep_id, sampler, steps, skip_fraction, count, settings, report, classifier, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      byId: this.db.prepare('SELECT * FROM quality_results WHERE id = ?'),
      byRun: this.db.prepare('SELECT * FROM quality_results WHERE run_id = ? ORDER BY created_at, id'),
    };
    return this.statements;
  }

  add(q: NewQualityResult): number {
    return (this.sql.insert.get(
      q.runId,
      q.checkpointId ?? null,
      q.jobId ?? null,
      q.step,
      q.sweepId ?? null,
      q.sampler,
      q.steps,
      q.skipFraction ?? 0,
      q.count,
      toJson(q.settings),
      toJson(q.report),
      toJson(q.classifier),
      q.createdAt ?? this.now(),
    ) as { id: number }).id;
  }

  get(id: number): QualityResultRecord | null {
    const r = this.sql.byId.get(id) as QualityRow | undefined;
    return r ? toRecord(r) : null;
  }

  /** A run's results, oldest first. */
  list(runId: string): QualityResultRecord[] {
    return (this.sql.byRun.all(runId) as QualityRow[]).map(toRecord);
  }
}
