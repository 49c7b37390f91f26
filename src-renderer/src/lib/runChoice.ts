/**
 * Choosing a run for Sample and Evaluate, and what they say about it: the run to open on, messages that name runs by
 * name (the service's errors carry ids), the limits of the forms, and what a job will cost before it starts.
 */
import type { RunSummary } from '../../../src-shared/protocol';
import { fmtDuration, fmtInt } from './format';

/** The run a picker opens on: the one asked for when it exists, else the newest with a checkpoint, else the newest. */
export function defaultRunId(runs: Pick<RunSummary, 'id' | 'createdAt' | 'lastCheckpointStep'>[], wanted: string): string {
  if (runs.some((r) => r.id === wanted)) return wanted;
  const newest = [...runs].sort((a, b) => b.createdAt - a.createdAt);
  return (newest.find((r) => r.lastCheckpointStep !== null) ?? newest[0])?.id ?? '';
}

/** `message` with each run id replaced by the run's name in quotes (also an id the service put in quotes). */
export function nameRunsIn(message: string, runs: Pick<RunSummary, 'id' | 'name'>[]): string {
  let out = message;
  for (const r of runs) {
    if (!r.id) continue;
    out = out.split(`'${r.id}'`).join(`“${r.name}”`).split(r.id).join(`“${r.name}”`);
  }
  return out;
}

/** The most images one sampling job draws: a grid and its singles must stay viewable and fit in memory. */
export const SAMPLE_COUNT_MAX = 1024;
/** The most held-out images one evaluation takes: the largest held-out split of the bundled datasets. */
export const EVAL_IMAGES_MAX = 10_000;

/**
 * Forward passes a second, estimated from the run's training throughput: a training step is a forward and a backward
 * pass (about 3 forward passes' work) per image.
 */
function forwardPassesPerSec(trainSamplesPerSec: number | null): number | null {
  return trainSamplesPerSec && trainSamplesPerSec > 0 ? trainSamplesPerSec * 3 : null;
}

/** "256 images × T = 1000 = 256,000 network passes ≈ 2h 13m here (from this run's training speed)". */
export function describeCost(images: number, calls: number, callsLabel: string, trainSamplesPerSec: number | null): string {
  const passes = images * calls;
  const head = `${fmtInt(images)} images × ${callsLabel} = ${fmtInt(passes)} network passes`;
  const rate = forwardPassesPerSec(trainSamplesPerSec);
  if (rate === null) return `${head} (no speed measured yet for this run)`;
  return `${head} ≈ ${fmtDuration(passes / rate)} here (from this run’s training speed)`;
}
