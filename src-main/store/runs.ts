/**
 * The runs table: one row per training run, its config as JSON and its lifecycle. Status changes go
 * through setStatus so the timestamps that follow from them (started, finished) are set in one place.
 */
import type { RunConfig } from '../../src-shared/config/runConfig';
import { runIdProblem, runNameProblem } from '../../src-shared/runId';
import { FINAL_RUN_STATUSES, RUN_STATUSES, type NewRun, type RunPatch, type RunRecord, type RunStatus, type RunSummary } from './types';
import { fromJson, placeholders, toJson, type Clock, type Db } from './sql';
import type { StoredPaths } from './storedPaths';

export const INTERRUPTED_REASON = 'the studio stopped while this run was running';

interface RunRow {
  id: string;
  name: string;
  config: string;
  status: string;
  backend: string | null;
  dataset: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  step: number;
  max_steps: number | null;
  error: string | null;
  run_dir: string | null;
  parent_id: string | null;
  worker_pid: number | null;
}
interface SummaryRow extends RunRow {
  last_loss: number | null;
  last_step_at: number | null;
  samples_per_sec: number | null;
  best_bpd: number | null;
}

/** camelCase field → column, for updateRun. A whitelist: column names are never taken from input. */
const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  name: 'name',
  config: 'config',
  backend: 'backend',
  dataset: 'dataset',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  step: 'step',
  maxSteps: 'max_steps',
  error: 'error',
  runDir: 'run_dir',
  parentId: 'parent_id',
  workerPid: 'worker_pid',
};

export function assertRunStatus(status: string): asserts status is RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(status)) throw new Error(`unknown run status '${status}' (expected one of ${RUN_STATUSES.join(', ')})`);
}

function toRecord(r: RunRow, paths: StoredPaths): RunRecord {
  return {
    id: r.id,
    name: r.name,
    config: fromJson<RunConfig>(r.config, {} as RunConfig),
    status: r.status as RunStatus,
    backend: r.backend,
    dataset: r.dataset,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    step: r.step,
    maxSteps: r.max_steps,
    error: r.error,
    runDir: paths.fromStoredOrNull(r.run_dir),
    parentId: r.parent_id,
    workerPid: r.worker_pid,
  };
}

function toSummary(r: SummaryRow, paths: StoredPaths): RunSummary {
  return { ...toRecord(r, paths), lastLoss: r.last_loss, lastStepAt: r.last_step_at, samplesPerSec: r.samples_per_sec, bestBpd: r.best_bpd };
}

/**
 * The summary columns are correlated subqueries: each is one probe of a (run_id, …) index, so listing
 * runs costs O(runs · log rows) however long the runs are, and nothing has to be kept in sync on write.
 */
const SUMMARY_SELECT = `
  SELECT r.*,
    (SELECT m.loss FROM step_metrics m WHERE m.run_id = r.id ORDER BY m.step DESC LIMIT 1) AS last_loss,
    (SELECT m.time FROM step_metrics m WHERE m.run_id = r.id ORDER BY m.step DESC LIMIT 1) AS last_step_at,
    (SELECT m.samples_per_sec FROM step_metrics m WHERE m.run_id = r.id ORDER BY m.step DESC LIMIT 1) AS samples_per_sec,
    (SELECT min(b) FROM (
        SELECT min(e.bpd) AS b FROM evaluations e WHERE e.run_id = r.id AND e.status = 'done'
        UNION ALL
        SELECT min(v.total_bpd) FROM vlb_snapshots v WHERE v.run_id = r.id)) AS best_bpd
  FROM runs r`;

export class RunsTable {
  private readonly insert;
  private readonly byId;
  private readonly summaryById;
  private readonly all;
  private readonly remove;
  private readonly statusUpdate;
  private readonly stepUpdate;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
    private readonly paths: StoredPaths,
  ) {
    this.insert = db.prepare(
      `INSERT INTO runs (id, name, config, status, backend, dataset, created_at, updated_at, step, max_steps, run_dir, parent_id)
       VALUES (@id, @name, @config, @status, @backend, @dataset, @now, @now, 0, @maxSteps, @runDir, @parentId)`,
    );
    this.byId = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?');
    this.summaryById = db.prepare<[string], SummaryRow>(`${SUMMARY_SELECT} WHERE r.id = ?`);
    this.all = db.prepare<[], SummaryRow>(`${SUMMARY_SELECT} ORDER BY r.created_at DESC, r.id DESC`);
    this.remove = db.prepare('DELETE FROM runs WHERE id = ?');
    // started_at is stamped the first time a run runs; finished_at whenever it reaches a final status and
    // cleared when it runs again (resume). The reason is kept only with a final or paused status.
    this.statusUpdate = db.prepare(
      `UPDATE runs SET status = @status, updated_at = @now,
         started_at  = CASE WHEN @status = 'running' AND started_at IS NULL THEN @now ELSE started_at END,
         finished_at = CASE WHEN @final THEN @now WHEN @status IN ('running', 'queued') THEN NULL ELSE finished_at END,
         error       = @reason
       WHERE id = @id`,
    );
    this.stepUpdate = db.prepare('UPDATE runs SET step = ?, updated_at = ? WHERE id = ?');
  }

  create(run: NewRun): RunRecord {
    const status = run.status ?? 'queued';
    assertRunStatus(status);
    // The last gate: whatever face a run came from, its id names a folder under <data>/runs/.
    const idProblem = runIdProblem(run.id);
    if (idProblem) throw new Error(`run id ${idProblem}`);
    const nameProblem = runNameProblem(run.name);
    if (nameProblem) throw new Error(`run name ${nameProblem}`);
    this.insert.run({
      id: run.id,
      name: run.name,
      config: toJson(run.config),
      status,
      backend: run.backend ?? null,
      dataset: run.dataset ?? null,
      now: this.now(),
      maxSteps: run.maxSteps !== undefined ? run.maxSteps : (run.config.training?.maxSteps ?? null),
      runDir: this.paths.toStoredOrNull(run.runDir),
      parentId: run.parentId ?? null,
    });
    return this.get(run.id)!;
  }

  get(id: string): RunRecord | null {
    const row = this.byId.get(id);
    return row ? toRecord(row, this.paths) : null;
  }

  summary(id: string): RunSummary | null {
    const row = this.summaryById.get(id);
    return row ? toSummary(row, this.paths) : null;
  }

  list(filter: { status?: RunStatus | RunStatus[] } = {}): RunSummary[] {
    const rows = this.all.all().map((r) => toSummary(r, this.paths));
    if (!filter.status) return rows;
    const wanted = Array.isArray(filter.status) ? filter.status : [filter.status];
    return rows.filter((r) => wanted.includes(r.status));
  }

  update(id: string, patch: RunPatch): RunRecord {
    const nameProblem = patch.name === undefined ? null : runNameProblem(patch.name);
    if (nameProblem) throw new Error(`run name ${nameProblem}`);
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      const column = PATCH_COLUMNS[key as keyof RunPatch];
      if (!column) throw new Error(`updateRun: '${key}' cannot be updated (status goes through setStatus)`);
      sets.push(`${column} = ?`);
      values.push(key === 'config' ? toJson(value) : key === 'runDir' ? this.paths.toStoredOrNull(value as string | null) : value);
    }
    sets.push('updated_at = ?');
    values.push(this.now());
    const info = this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    if (info.changes === 0) throw new Error(`no run with id '${id}'`);
    return this.get(id)!;
  }

  setStatus(id: string, status: RunStatus, reason?: string | null): RunRecord {
    assertRunStatus(status);
    const info = this.statusUpdate.run({ id, status, now: this.now(), final: FINAL_RUN_STATUSES.includes(status) ? 1 : 0, reason: reason ?? null });
    if (info.changes === 0) throw new Error(`no run with id '${id}'`);
    return this.get(id)!;
  }

  /** Deletes the run and, through ON DELETE CASCADE, every row that belongs to it. False if it did not exist. */
  delete(id: string): boolean {
    return this.remove.run(id).changes > 0;
  }

  /**
   * After a restart no worker is alive, so a run the database still calls running (or queued with a
   * worker already attached) was cut off: it becomes 'interrupted', resumable from its last checkpoint.
   * Runs merely queued without a worker stay queued; paused runs stay paused (their state was
   * checkpointed when they paused). Runs whose worker process is still alive belong to another studio
   * process and are left alone.
   */
  markInterrupted(isWorkerAlive: (pid: number, runId: string) => boolean = () => false): { interrupted: string[]; stillRunning: string[] } {
    const now = this.now();
    const candidates = this.db
      .prepare<[], { id: string; worker_pid: number | null }>(
        `SELECT id, worker_pid FROM runs WHERE status = 'running' OR (status = 'queued' AND worker_pid IS NOT NULL) ORDER BY id`,
      )
      .all();
    // Another studio process (iddpm train in a terminal, serve, the app) may be training right now: a run
    // whose worker is alive is not interrupted, and keeps its pid.
    const stillRunning = candidates.filter((r) => r.worker_pid !== null && isWorkerAlive(r.worker_pid, r.id)).map((r) => r.id);
    const ids = candidates.map((r) => r.id).filter((id) => !stillRunning.includes(id));
    if (ids.length) {
      this.db
        .prepare(`UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, updated_at = ?, worker_pid = NULL WHERE id IN (${placeholders(ids.length)})`)
        .run(INTERRUPTED_REASON, now, now, ...ids);
    }
    this.db
      .prepare(`UPDATE runs SET worker_pid = NULL WHERE worker_pid IS NOT NULL AND status NOT IN ('running', 'queued')`)
      .run();
    return { interrupted: ids, stillRunning };
  }

  /** Sets the step counter; metric writes and truncation call it inside their transactions. */
  setStep(id: string, step: number): void {
    this.stepUpdate.run(step, this.now(), id);
  }
}
