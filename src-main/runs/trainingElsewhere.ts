/**
 * Runs that the database calls `running` may be trained by another studio process (an `iddpm train` in
 * another terminal, `iddpm serve`, the app), or by nobody at all when that process crashed. These helpers
 * tell which, through the run's worker lock, for the faces that act on a run they do not own: listing,
 * stopping, resuming.
 */
import type { RunRecord, RunStatus, Store } from '../store';
import { runDir } from './runFiles';
import { isProcessAlive, trainingWorkerOf, type WorkerLock, type WorkerState } from './workerLock';

/** The worker state of a run whose row says running (or queued with a worker). */
export function workerOfRun(dataDir: string, run: Pick<RunRecord, 'id' | 'workerPid'>): WorkerState {
  // This process's own workers are never "elsewhere"; the service tracks them itself.
  if (run.workerPid === process.pid) return { alive: false, why: `its worker pid ${run.workerPid} is this process` };
  return trainingWorkerOf(runDir(dataDir, run.id), run.id, run.workerPid);
}

/**
 * The worker state of a run, after waiting for an orphan: a worker whose studio process has ended (killed,
 * crashed) exits by itself once it notices (workerMain.ts exits on 'disconnect'), which a training step in
 * progress can delay by a few seconds. Resuming right after such a kill waits for that exit instead of
 * refusing as if another studio trained the run. A worker whose owner lives is returned at once; so is one
 * that outlives `timeoutMs` (the caller then refuses, naming it).
 */
export async function workerOfRunAfterOrphanExit(dataDir: string, run: Pick<RunRecord, 'id' | 'workerPid'>, timeoutMs = 30_000): Promise<WorkerState> {
  let w = workerOfRun(dataDir, run);
  if (!w.alive || isProcessAlive(w.lock.ownerPid)) return w;
  const deadline = Date.now() + timeoutMs;
  while (w.alive && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    w = workerOfRun(dataDir, run);
  }
  return w;
}

/** Whether the row claims a live worker (a queued run without one is merely waiting). */
function claimsWorker(run: Pick<RunRecord, 'status' | 'workerPid'>): boolean {
  return run.status === 'running' || (run.status === 'queued' && run.workerPid !== null);
}

export function goneReason(why: string): string {
  return `${why}; the studio process that trained it ended without recording it. Resume continues from the last checkpoint`;
}

/**
 * What a listing should show for a run without touching the database: a run whose worker is gone is
 * `interrupted`, with the reason, as the next studio start will record it.
 */
export function observedStatus(dataDir: string, run: RunRecord): { status: RunStatus; reason: string | null } {
  if (!claimsWorker(run)) return { status: run.status, reason: run.error };
  const w = workerOfRun(dataDir, run);
  return w.alive ? { status: run.status, reason: run.error } : { status: 'interrupted', reason: goneReason(w.why) };
}

/**
 * Records a run whose worker is gone as interrupted (a studio process that crashed cannot record it
 * itself). Returns the state found; a run that claims no worker is left alone.
 */
export function markInterruptedIfWorkerGone(store: Store, dataDir: string, run: RunRecord): WorkerState | null {
  if (!claimsWorker(run)) return null;
  const w = workerOfRun(dataDir, run);
  if (!w.alive) {
    store.updateRun(run.id, { workerPid: null });
    store.setStatus(run.id, 'interrupted', goneReason(w.why));
  }
  return w;
}

export type StopElsewhere =
  | { outcome: 'signalled'; lock: WorkerLock }
  | { outcome: 'gone'; why: string }
  | { outcome: 'not-running'; status: RunStatus };

/**
 * Asks the worker of a run trained by another studio process to checkpoint and stop (SIGTERM; that
 * process records the end). A worker that is gone is never signalled (its pid may be anyone's by now):
 * the run is recorded as interrupted instead.
 */
export function stopTrainingElsewhere(store: Store, dataDir: string, runId: string): StopElsewhere {
  const run = store.getRun(runId);
  if (!run) throw new Error(`no run '${runId}'`);
  const w = markInterruptedIfWorkerGone(store, dataDir, run);
  if (!w) return { outcome: 'not-running', status: run.status };
  if (!w.alive) return { outcome: 'gone', why: w.why };
  process.kill(w.lock.pid, 'SIGTERM');
  return { outcome: 'signalled', lock: w.lock };
}
