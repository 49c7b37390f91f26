/**
 * NLL evaluations (bits/dim on held-out images) with their per-t terms. A row can be created when the
 * evaluation starts (status 'running') and completed later, so the Evaluate view can list it at once.
 */
import { decodeF32, decodeI32, encodeF32, encodeI32 } from './blobs';
import { numOrNull, type Clock, type Db } from './sql';
import type { EvaluationPatch, EvaluationRecord, EvaluationStatus, NewEvaluation } from './types';

interface EvaluationRow {
  id: number;
  run_id: string | null;
  checkpoint_id: number | null;
  job_id: number | null;
  step: number | null;
  ema_rate: number | null;
  created_at: number;
  status: string;
  bpd: number | null;
  prior_bpd: number | null;
  images: number | null;
  timesteps: Buffer | null;
  terms: Buffer | null;
  mse: Buffer | null;
  xstart_mse: Buffer | null;
  error: string | null;
}

function toRecord(r: EvaluationRow): EvaluationRecord {
  return {
    id: r.id,
    runId: r.run_id,
    checkpointId: r.checkpoint_id,
    jobId: r.job_id,
    step: r.step,
    emaRate: r.ema_rate,
    createdAt: r.created_at,
    status: r.status as EvaluationStatus,
    bpd: r.bpd,
    priorBpd: r.prior_bpd,
    images: r.images,
    timesteps: decodeI32(r.timesteps),
    termsBpd: decodeF32(r.terms),
    mse: decodeF32(r.mse),
    xstartMse: decodeF32(r.xstart_mse),
    error: r.error,
  };
}

/** Patch field → column and encoder. */
const PATCH: Record<keyof EvaluationPatch, [string, (v: never) => unknown]> = {
  step: ['step', (v: number | null) => v],
  emaRate: ['ema_rate', (v: number | null) => numOrNull(v)],
  status: ['status', (v: EvaluationStatus) => v],
  bpd: ['bpd', (v: number | null) => numOrNull(v)],
  priorBpd: ['prior_bpd', (v: number | null) => numOrNull(v)],
  images: ['images', (v: number | null) => v],
  timesteps: ['timesteps', (v: number[]) => encodeI32(v)],
  termsBpd: ['terms', (v: number[]) => encodeF32(v)],
  mse: ['mse', (v: number[]) => encodeF32(v)],
  xstartMse: ['xstart_mse', (v: number[]) => encodeF32(v)],
  error: ['error', (v: string | null) => v],
};

export class EvaluationsTable {
  private readonly byId;
  private readonly byRun;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    this.byId = db.prepare<[number], EvaluationRow>('SELECT * FROM evaluations WHERE id = ?');
    this.byRun = db.prepare<[string], EvaluationRow>('SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at, id');
  }

  add(e: NewEvaluation): number {
    const row = this.db
      .prepare<unknown[], { id: number }>(
        `INSERT INTO evaluations (run_id, checkpoint_id, job_id, created_at, status) VALUES (?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(e.runId ?? null, e.checkpointId ?? null, e.jobId ?? null, e.createdAt ?? this.now(), e.status ?? 'done')!;
    const { runId: _r, checkpointId: _c, jobId: _j, createdAt: _t, ...patch } = e;
    this.update(row.id, patch);
    return row.id;
  }

  update(id: number, patch: EvaluationPatch): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      const spec = PATCH[key as keyof EvaluationPatch];
      if (!spec) throw new Error(`updateEvaluation: unknown field '${key}'`);
      sets.push(`${spec[0]} = ?`);
      args.push(spec[1](value as never));
    }
    if (!sets.length) return;
    const info = this.db.prepare(`UPDATE evaluations SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    if (info.changes === 0) throw new Error(`no evaluation with id ${id}`);
  }

  get(id: number): EvaluationRecord | null {
    const r = this.byId.get(id);
    return r ? toRecord(r) : null;
  }

  list(runId: string): EvaluationRecord[] {
    return this.byRun.all(runId).map(toRecord);
  }
}
