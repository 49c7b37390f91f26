/**
 * Which lifecycle actions a run offers in each status. The service is the authority (it answers
 * 'conflict' otherwise); this only decides which buttons are worth showing.
 */
import type { RunStatus, RunSummary, StudioApi } from '../../../../src-shared/protocol';

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

/** A run created without "start": stored as 'stopped' at step 0, never launched. */
export function neverStarted(run: Pick<RunSummary, 'status' | 'startedAt' | 'step'>): boolean {
  return run.status === 'stopped' && run.startedAt === null && run.step === 0;
}

export function allowedActions(run: Pick<RunSummary, 'status' | 'startedAt' | 'step'>): RunAction[] {
  // Start, not Resume: there is nothing to resume. (A 'queued' run waits for the device: Stop takes it out.)
  if (neverStarted(run)) return ['start', 'duplicate', 'delete'];
  return [...BY_STATUS[run.status]];
}

/** The status as the views print it: "not started" rather than "stopped" for a run that never ran. */
export function statusLabel(run: Pick<RunSummary, 'status' | 'startedAt' | 'step'>): string {
  return neverStarted(run) ? 'not started' : run.status;
}

/** Performs a lifecycle action; the run as it is afterwards, or null once deleted. */
export async function performAction(client: StudioApi, runId: string, action: RunAction): Promise<RunSummary | null> {
  if (action === 'delete') {
    await client.deleteRun(runId);
    return null;
  }
  const fn = { start: client.startRun, pause: client.pauseRun, resume: client.resumeRun, stop: client.stopRun, duplicate: client.duplicateRun }[action];
  return fn.call(client, runId);
}

/** Seconds to maxSteps at the recent rate, or null when there is no end or no rate yet. */
export function etaSeconds(run: Pick<RunSummary, 'step' | 'maxSteps' | 'stepsPerSec' | 'status'>): number | null {
  if (run.status !== 'running' || !run.maxSteps || !run.stepsPerSec || run.stepsPerSec <= 0) return null;
  return Math.max(0, run.maxSteps - run.step) / run.stepsPerSec;
}

/** The backend's name at the head of a backend line ("wasm — SIMD …; native kernels: …" → "wasm"). */
export function backendName(line: string): string {
  return line.trim().split(/[\s—(;,:]/)[0] ?? '';
}

/**
 * What a row says about its backend when the table already shows this machine's line once: nothing when the run ran
 * on the machine's backend, else its own line (a forced or older backend).
 */
export function rowBackend(runBackend: string | null, machineBackend: string | null): string | null {
  if (!runBackend) return null;
  if (machineBackend && backendName(runBackend) === backendName(machineBackend)) return null;
  return runBackend;
}
