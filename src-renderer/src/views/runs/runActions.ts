/**
 * Which lifecycle actions a run offers in each status. The service is the authority (it answers
 * 'conflict' otherwise); this only decides which buttons are worth showing.
 */
import type { RunStatus, RunSummary } from '../../../../src-shared/protocol';

export type RunAction = 'start' | 'pause' | 'resume' | 'stop' | 'duplicate' | 'delete';

const BY_STATUS: Record<RunStatus, RunAction[]> = {
  queued: ['stop', 'duplicate', 'delete'],
  running: ['pause', 'stop', 'duplicate'],
  paused: ['resume', 'stop', 'duplicate'],
  done: ['duplicate', 'delete'],
  failed: ['resume', 'duplicate', 'delete'],
  interrupted: ['resume', 'duplicate', 'delete'],
  stopped: ['resume', 'duplicate', 'delete'],
};

export function allowedActions(run: Pick<RunSummary, 'status' | 'startedAt'>): RunAction[] {
  const list = [...BY_STATUS[run.status]];
  // A run created without "start" waits as 'queued' with no start time: offer Start instead of Stop.
  if (run.status === 'queued' && run.startedAt === null) list.splice(0, 1, 'start');
  return list;
}

/** Seconds to maxSteps at the recent rate, or null when there is no end or no rate yet. */
export function etaSeconds(run: Pick<RunSummary, 'step' | 'maxSteps' | 'stepsPerSec' | 'status'>): number | null {
  if (run.status !== 'running' || !run.maxSteps || !run.stepsPerSec || run.stepsPerSec <= 0) return null;
  return Math.max(0, run.maxSteps - run.step) / run.stepsPerSec;
}
