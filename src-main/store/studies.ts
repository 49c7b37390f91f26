/**
 * Studies (src-shared/studies): a named set of ordinary runs and the post-training evaluations of its report.
 * The runs stay in `runs` (a deleted run leaves its key here and shows as missing); the study keeps their ids
 * in its order, and the evaluation jobs it queued, so a restarted studio can resume it where it stopped.
 */
import { fromJson, toJson, type Clock, type Db } from './sql';

export type StudyRecordStatus = 'training' | 'evaluating' | 'done' | 'stopped' | 'interrupted' | 'failed';

/** One post-training evaluation of a study: which run and checkpoint, what, and the job that did it. */
export interface StudyEvaluationRecord {
  /** Stable within the study, e.g. "nll:vlb-uniform:450" or "quality:linear:skip0.2". */
  key: string;
  kind: 'nll' | 'quality';
  runKey: string;
  checkpointStep: number;
  settings: Record<string, unknown>;
  jobId: number | null;
  status: 'pending' | 'queued' | 'done' | 'failed';
  error?: string | null;
}

export interface StudyRecord {
  id: string;
  name: string;
  kind: string;
  size: string;
  status: StudyRecordStatus;
  /** In the study's order. */
  runs: { key: string; runId: string }[];
  evaluations: StudyEvaluationRecord[];
  /** The studio process driving it (its queue holds the runs), or null when none does. */
  ownerPid: number | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  updatedAt: number;
}

export type NewStudy = Pick<StudyRecord, 'id' | 'name' | 'kind' | 'size' | 'runs'> & { status?: StudyRecordStatus; ownerPid?: number | null };
export type StudyPatch = Partial<Pick<StudyRecord, 'status' | 'evaluations' | 'ownerPid' | 'error' | 'finishedAt' | 'runs'>>;

interface StudyRow {
  id: string;
  name: string;
  kind: string;
  size: string;
  status: string;
  runs: string;
  evaluations: string;
  owner_pid: number | null;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  updated_at: number;
}

/** Schema version 4 (migrations.ts). */
export const SCHEMA_STUDIES = /* sql */ `
CREATE TABLE studies (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  kind        TEXT NOT NULL,                 -- StudyKind
  size        TEXT NOT NULL,                 -- tiny | quick | full
  status      TEXT NOT NULL,
  runs        TEXT NOT NULL,                 -- JSON [{key, runId}] in the study's order
  evaluations TEXT NOT NULL DEFAULT '[]',    -- JSON [StudyEvaluationRecord]
  owner_pid   INTEGER,
  error       TEXT,
  created_at  INTEGER NOT NULL,
  finished_at INTEGER,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX studies_created ON studies(created_at);
`;

function toRecord(r: StudyRow): StudyRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    size: r.size,
    status: r.status as StudyRecordStatus,
    runs: fromJson(r.runs, []),
    evaluations: fromJson(r.evaluations, []),
    ownerPid: r.owner_pid,
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}

export class StudiesTable {
  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {}

  // Prepared on first use, so a Store opened at an older schema (tests of migrations) still opens.
  private get insert() {
    return this.db.prepare(
      `INSERT INTO studies (id, name, kind, size, status, runs, evaluations, owner_pid, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?)`,
    );
  }

  private get byId() {
    return this.db.prepare<[string], StudyRow>('SELECT * FROM studies WHERE id = ?');
  }

  private get all() {
    return this.db.prepare<[], StudyRow>('SELECT * FROM studies ORDER BY created_at DESC, id DESC');
  }

  create(s: NewStudy): StudyRecord {
    const now = this.now();
    this.insert.run(s.id, s.name, s.kind, s.size, s.status ?? 'training', toJson(s.runs), s.ownerPid ?? null, now, now);
    return this.get(s.id)!;
  }

  get(id: string): StudyRecord | null {
    const r = this.byId.get(id);
    return r ? toRecord(r) : null;
  }

  list(): StudyRecord[] {
    return this.all.all().map(toRecord);
  }

  update(id: string, patch: StudyPatch): StudyRecord {
    const sets: string[] = [];
    const args: unknown[] = [];
    const put = (col: string, v: unknown) => (sets.push(`${col} = ?`), args.push(v));
    if (patch.status !== undefined) put('status', patch.status);
    if (patch.runs !== undefined) put('runs', toJson(patch.runs));
    if (patch.evaluations !== undefined) put('evaluations', toJson(patch.evaluations));
    if (patch.ownerPid !== undefined) put('owner_pid', patch.ownerPid);
    if (patch.error !== undefined) put('error', patch.error);
    if (patch.finishedAt !== undefined) put('finished_at', patch.finishedAt);
    put('updated_at', this.now());
    const info = this.db.prepare(`UPDATE studies SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    if (info.changes === 0) throw new Error(`no study with id '${id}'`);
    return this.get(id)!;
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM studies WHERE id = ?').run(id).changes > 0;
  }
}
