/**
 * Intervals longer than the run: not errors (the run still previews, evaluates and checkpoints at its
 * last step), but the user likely meant the work to happen during the run too, so the form says so.
 */
import type { RunConfig } from './runConfig';

export interface IntervalWarning {
  field: `intervals.${string}`;
  message: string;
}

const WORK: { key: 'previewEvery' | 'evalEvery' | 'checkpointEvery' | 'gnsEvery'; what: string; atEnd: boolean }[] = [
  { key: 'previewEvery', what: 'previews', atEnd: true },
  { key: 'evalEvery', what: 'per-t VLB evaluations', atEnd: true },
  { key: 'checkpointEvery', what: 'checkpoints', atEnd: true },
  { key: 'gnsEvery', what: 'gradient noise scale estimates', atEnd: false },
];

/** One warning per periodic job whose interval exceeds training.maxSteps (none for a run without an end). */
export function intervalWarnings(config: Pick<RunConfig, 'training' | 'intervals'>): IntervalWarning[] {
  const steps = config.training.maxSteps;
  if (steps === undefined || !(steps >= 1)) return [];
  const out: IntervalWarning[] = [];
  for (const { key, what, atEnd } of WORK) {
    const every = config.intervals[key];
    if (!(every > steps)) continue;
    out.push({
      field: `intervals.${key}`,
      message:
        `${what} every ${every} steps, but the run stops after ${steps}: ` +
        (atEnd ? `there will be one, at the last step; set at most ${steps} for more.` : `there will be none; set at most ${steps}.`),
    });
  }
  return out;
}
