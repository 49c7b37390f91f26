/**
 * Checkpoint files of a run. Unique per (run, step); re-saving a step (a resumed run reaching it again)
 * updates the row in place so its id, which sample sets and evaluations point to, stays the same.
 */
import { fromJson, toJson, type Clock, type Db } from './sql';
import type { StoredPaths } from './storedPaths';
import type { CheckpointRecord, NewCheckpoint } from './types';

interface CheckpointRow {
  id: number;
  run_id: string;
  step: number;
  path: string;
  bytes: number;
  created_at: number;
  ema_rates: string;
}

function toRecord(r: CheckpointRow, paths: StoredPaths): CheckpointRecord {
  return { id: r.id, runId: r.run_id, step: r.step, path: paths.fromStored(r.path), bytes: r.bytes, createdAt: r.created_at, emaRates: fromJson<number[]>(r.ema_rates, []) };
}

export class CheckpointsTable {
  private readonly upsert;
  private readonly byRun;
  private readonly byId;
  private readonly byPath;
  private readonly remove;
  private readonly truncate;

  constructor(
    db: Db,
    private readonly now: Clock,
    private readonly paths: StoredPaths,
  ) {
    this.upsert = db.prepare<unknown[], { id: number }>(
      `INSERT INTO checkpoints (run_id, step, path, bytes, created_at, ema_rates) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, bytes = excluded.bytes,
         created_at = excluded.created_at, ema_rates = excluded.ema_rates
       RETURNING id`,
    );
    this.byRun = db.prepare<[string], CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step');
    this.byId = db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE id = ?');
    this.byPath = db.prepare<[string], CheckpointRow>('SELECT * FROM checkpoints WHERE path = ? ORDER BY id DESC LIMIT 1');
    this.remove = db.prepare('DELETE FROM checkpoints WHERE id = ?');
    this.truncate = db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND step > ?');
  }

  add(runId: string, c: NewCheckpoint): CheckpointRecord {
    const { id } = this.upsert.get(runId, c.step, this.paths.toStored(c.path), c.bytes, c.createdAt ?? this.now(), toJson(c.emaRates))!;
    return this.get(id)!;
  }

  list(runId: string): CheckpointRecord[] {
    return this.byRun.all(runId).map((r) => toRecord(r, this.paths));
  }

  get(id: number): CheckpointRecord | null {
    const r = this.byId.get(id);
    return r ? toRecord(r, this.paths) : null;
  }

  /** The checkpoint stored for a file path (the CLI and jobs name checkpoints by file). */
  findByPath(path: string): CheckpointRecord | null {
    const r = this.byPath.get(this.paths.toStored(path));
    return r ? toRecord(r, this.paths) : null;
  }

  delete(id: number): boolean {
    return this.remove.run(id).changes > 0;
  }

  truncateAfter(runId: string, step: number): number {
    return this.truncate.run(runId, step).changes;
  }
}
