/**
 * What a queued job waits for, in the user's words: the service runs one job per device (maxConcurrent), so a
 * sampling job started while a run trains sits in the queue, and the views say so instead of a bare "queued".
 */

export type DeviceHolder =
  | { kind: 'train'; runName: string }
  | { kind: 'sample' | 'eval' | 'quality'; jobId: number; runName: string };

function describeHolder(h: DeviceHolder): string {
  if (h.kind === 'train') return `training run “${h.runName}”`;
  const what = { sample: 'sampling', eval: 'evaluation', quality: 'sample-quality' }[h.kind];
  return `${what} job #${h.jobId} (run “${h.runName}”)`;
}

/**
 * One line, e.g. "waiting for training run “mnist-quick”: one job per device"; null when nothing holds the device
 * (the job is about to start).
 */
export function describeWait(holders: DeviceHolder[], aheadInQueue: number, maxConcurrent: number): string | null {
  if (holders.length === 0) return null;
  const who = holders.map(describeHolder).join(' and ');
  const rule = maxConcurrent === 1 ? 'one job per device' : `${maxConcurrent} jobs at once`;
  const ahead = aheadInQueue > 0 ? `; ${aheadInQueue} more queued before it` : '';
  return `waiting for ${who}: ${rule}${ahead}`;
}
