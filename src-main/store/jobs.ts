/**
 * Sampling and evaluation jobs: what the run service queued, how far each got, and what came of it.
 * Progress updates are single-row UPDATEs; callers should throttle them (a few per second is plenty).
 */
import { FINAL_JOB_STATUSES, type JobFilter, type JobKind, type JobPatch, type JobRecord, type JobStatus, type NewJob } from './types';
import { fromJson, placeholders, toJson, type Clock, type Db } from './sql';

export const JOB_INTERRUPTED_REASON = 'the studio stopped while this job was running';
const JOB_KINDS: readonly JobKind[] = ['sample', 'eval', 'quality'];
const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed', 'cancelled'];

interface JobRow {
  id: number;
  kind: string;
  run_id: string | null;
  checkpoint_id: number | null;
  status: string;
  progress: number;
  phase: string | null;
  settings: string;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

function toRecord(r: JobRow): JobRecord {
  return {
    id: r.id,
    kind: r.kind as JobKind,
    runId: r.run_id,
    checkpointId: r.checkpoint_id,
    status: r.status as JobStatus,
    progress: r.progress,
    phase: r.phase ?? null,
    settings: fromJson<Record<string, unknown>>(r.settings, {}),
    result: fromJson<unknown>(r.result, null),
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}

export class JobsTable {
  private readonly insert;
  private readonly byId;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    this.insert = db.prepare<unknown[], { id: number }>(
      `INSERT INTO jobs (kind, run_id, checkpoint_id, status, progress, settings, created_at, updated_at)
       VALUES (?, ?, ?, 'queued', 0, ?, ?, ?) RETURNING id`,
    );
    this.byId = db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?');
  }

  create(j: NewJob): JobRecord {
    if (!JOB_KINDS.includes(j.kind)) throw new Error(`unknown job kind '${j.kind}' (expected ${JOB_KINDS.join(' or ')})`);
    const now = this.now();
    const { id } = this.insert.get(j.kind, j.runId ?? null, j.checkpointId ?? null, toJson(j.settings), now, now)!;
    return this.get(id)!;
  }

  get(id: number): JobRecord | null {
    const r = this.byId.get(id);
    return r ? toRecord(r) : null;
  }

  list(filter: JobFilter = {}): JobRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
    if (filter.runId) (where.push('run_id = ?'), args.push(filter.runId));
    if (filter.status) {
      const s = Array.isArray(filter.status) ? filter.status : [filter.status];
      where.push(`status IN (${placeholders(s.length)})`);
      args.push(...s);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 1000) as JobRow[]).map(toRecord);
  }

  /**
   * Updates a job; entering 'running' stamps startedAt, a final status stamps finishedAt, and 'done'
   * sets progress to 1.
   */
  update(id: number, patch: JobPatch): JobRecord {
    const now = this.now();
    const sets = ['updated_at = ?'];
    const args: unknown[] = [now];
    if (patch.status !== undefined) {
      if (!JOB_STATUSES.includes(patch.status)) throw new Error(`unknown job status '${patch.status}'`);
      sets.push('status = ?');
      args.push(patch.status);
      if (patch.status === 'running') sets.push('started_at = coalesce(started_at, ?)'), args.push(now);
      if (FINAL_JOB_STATUSES.includes(patch.status)) sets.push('finished_at = ?'), args.push(now);
      if (patch.status === 'done' && patch.progress === undefined) sets.push('progress = 1');
    }
    if (patch.progress !== undefined) sets.push('progress = ?'), args.push(Math.min(1, Math.max(0, patch.progress)));
    if (patch.phase !== undefined) sets.push('phase = ?'), args.push(patch.phase);
    if (patch.result !== undefined) sets.push('result = ?'), args.push(toJson(patch.result));
    if (patch.error !== undefined) sets.push('error = ?'), args.push(patch.error);
    const info = this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    if (info.changes === 0) throw new Error(`no job with id ${id}`);
    return this.get(id)!;
  }

  delete(id: number): boolean {
    return this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
  }

  /** Jobs still 'running' at startup have no process behind them any more: they failed. */
  markInterrupted(): number[] {
    const now = this.now();
    return this.db
      .prepare<[string, number, number], { id: number }>(
        `UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, updated_at = ? WHERE status = 'running' RETURNING id`,
      )
      .all(JOB_INTERRUPTED_REASON, now, now)
      .map((r) => r.id)
      .sort((a, b) => a - b);
  }
}
