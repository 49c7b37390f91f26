/**
 * Checkpoint retention: a run keeps its newest `keep` checkpoints plus the best one by NLL (the lowest
 * bits/dim measured at a checkpoint's step, by an evaluation job or a full-T VLB snapshot; with none
 * measured the newest is the best). Pruned checkpoints leave the disk and the store together, so a
 * 50-step run with a checkpoint every 5 steps keeps 4 files, not 10. keep = 0 keeps everything.
 * Checkpoints a queued or running sampling/evaluation job will read are never pruned.
 */
import { rmSync } from 'node:fs';
import type { Store } from '../store';

export interface RetentionCandidate {
  id: number;
  step: number;
}

/**
 * Which checkpoints to delete. Pure: `nll` maps a checkpoint id to its best measured NLL (bits/dim),
 * `inUse` holds ids that must stay.
 */
export function checkpointsToPrune(
  checkpoints: readonly RetentionCandidate[],
  keep: number,
  nll: ReadonlyMap<number, number>,
  inUse: ReadonlySet<number> = new Set(),
): RetentionCandidate[] {
  if (!(keep > 0) || checkpoints.length <= keep) return [];
  const byStep = [...checkpoints].sort((a, b) => a.step - b.step);
  const kept = new Set(byStep.slice(-keep).map((c) => c.id));
  let best: RetentionCandidate | null = null;
  for (const c of byStep) {
    const v = nll.get(c.id);
    if (v !== undefined && Number.isFinite(v) && (best === null || v < nll.get(best.id)!)) best = c;
  }
  if (best) kept.add(best.id);
  return byStep.filter((c) => !kept.has(c.id) && !inUse.has(c.id));
}

/** The lowest NLL measured for each of the run's checkpoints (evaluation jobs and full-T VLB snapshots). */
export function measuredNll(store: Store, runId: string): Map<number, number> {
  const checkpoints = store.listCheckpoints(runId);
  const idByStep = new Map(checkpoints.map((c) => [c.step, c.id]));
  const out = new Map<number, number>();
  const note = (id: number | undefined, v: number | null | undefined) => {
    if (id === undefined || v === null || v === undefined || !Number.isFinite(v)) return;
    out.set(id, Math.min(v, out.get(id) ?? Infinity));
  };
  for (const e of store.listEvaluations(runId)) {
    if (e.status !== 'done') continue;
    note(e.checkpointId ?? (e.step !== null ? idByStep.get(e.step) : undefined), e.bpd);
  }
  for (const step of store.listVlbSteps(runId)) {
    if (!idByStep.has(step)) continue;
    note(idByStep.get(step), store.getVlbSnapshot(runId, step)?.totalBpd);
  }
  return out;
}

/** Applies the run's retention: deletes the pruned checkpoints' files and rows, and returns them. */
export function pruneCheckpoints(store: Store, runId: string, keep: number): RetentionCandidate[] {
  if (!(keep > 0)) return [];
  const checkpoints = store.listCheckpoints(runId);
  if (checkpoints.length <= keep) return [];
  const inUse = new Set<number>();
  for (const j of store.listJobs({ runId, status: ['queued', 'running'] })) if (j.checkpointId !== null) inUse.add(j.checkpointId);
  const prune = checkpointsToPrune(checkpoints, keep, measuredNll(store, runId), inUse);
  const removed: RetentionCandidate[] = [];
  for (const c of prune) {
    const rec = checkpoints.find((x) => x.id === c.id)!;
    // The file first: a row without a file would offer a checkpoint that cannot load.
    rmSync(rec.path, { force: true });
    store.deleteCheckpoint(rec.id);
    removed.push({ id: rec.id, step: rec.step });
  }
  return removed;
}
