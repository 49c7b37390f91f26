/**
 * A study as the faces see it (StudySummary): its runs' progress, the phase in words, overall progress.
 * A function of the stored record and the runs' summaries, so `iddpm study --list` can show it read-only.
 */
import type * as P from '../../../src-shared/protocol';
import { getStudyDefinition } from '../../../src-shared/studies';
import type { StudyEvaluationRecord, StudyRecord } from '../../store';
import { isProcessAlive } from '../workerLock';

const ACTIVE: ReadonlySet<string> = new Set(['training', 'evaluating']);


/** An active study whose driving process is gone (not this one, and not alive). */
export function driverGone(s: StudyRecord): boolean {
  return ACTIVE.has(s.status) && s.ownerPid !== process.pid && !(s.ownerPid !== null && isProcessAlive(s.ownerPid));
}

export function studySummary(s: StudyRecord, runSummary: (runId: string) => P.RunSummary | null): P.StudySummary {
  const def = getStudyDefinition(s.kind as P.StudyKind);
  const runs: P.StudyRunInfo[] = s.runs.map((r) => {
    const spec = def.runs.find((x) => x.key === r.key);
    const run = runSummary(r.runId);
    return { key: r.key, label: spec?.label ?? r.key, runId: r.runId, status: run?.status ?? 'missing', step: run?.step ?? 0, maxSteps: run?.maxSteps ?? null };
  });
  const totalSteps = runs.reduce((a, r) => a + (r.maxSteps ?? 0), 0);
  const doneSteps = runs.reduce((a, r) => a + Math.min(r.step, r.maxSteps ?? r.step), 0);
  const trainFrac = totalSteps > 0 ? doneSteps / totalSteps : 0;
  const plan = def.sizes[s.size as P.StudySize]?.evaluation ?? {};
  const hasEvaluations = Boolean(plan.nllImages || plan.quality);
  const evalFrac = s.evaluations.length ? s.evaluations.filter((e) => e.status === 'done').length / s.evaluations.length : 0;
  const status = driverGone(s) ? 'interrupted' : s.status;
  const progress = status === 'done' ? 1 : hasEvaluations ? 0.85 * trainFrac + 0.15 * evalFrac : trainFrac;
  return {
    id: s.id,
    name: s.name,
    kind: s.kind as P.StudyKind,
    title: def.title,
    size: s.size as P.StudySize,
    status,
    phase: describePhase({ ...s, status }, runs),
    progress,
    error: status !== s.status ? 'the studio process that ran it ended; resume the study to continue' : s.error,
    createdAt: s.createdAt,
    finishedAt: s.finishedAt,
    runs,
  };
}

export function describeEvaluation(e: StudyEvaluationRecord, s: StudyRecord): string {
  const runId = s.runs.find((r) => r.key === e.runKey)?.runId ?? e.runKey;
  return `the ${e.kind === 'nll' ? 'NLL evaluation' : 'quality measurement'} of run ${runId} at step ${e.checkpointStep}`;
}

function describePhase(s: StudyRecord, runs: P.StudyRunInfo[]): string {
  switch (s.status) {
    case 'training': {
      const i = runs.findIndex((r) => r.status === 'running');
      if (i < 0) return `training: ${runs.filter((r) => r.status === 'done').length} of ${runs.length} runs done, the next is queued`;
      const r = runs[i];
      return `training ${i + 1} of ${runs.length}: ${r.label} (step ${r.step}${r.maxSteps ? ` of ${r.maxSteps}` : ''})`;
    }
    case 'evaluating': {
      const done = s.evaluations.filter((e) => e.status === 'done').length;
      const next = s.evaluations.find((e) => e.status !== 'done');
      return `evaluating ${Math.min(done + 1, s.evaluations.length)} of ${s.evaluations.length}${next ? `: ${describeEvaluation(next, s)}` : ''}`;
    }
    case 'done':
      return 'done: the report is complete';
    case 'stopped':
      return 'stopped: resume it to continue';
    case 'interrupted':
      return 'interrupted: resume it to continue';
    default:
      return 'failed';
  }
}
