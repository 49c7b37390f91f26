/** Why a run shows no preview samples, in words: off, not yet, or the run ended before the first one. */
import type { RunSummary } from '../../../../src-shared/protocol';

export function noPreviewsNote(run: Pick<RunSummary, 'status' | 'step' | 'startedAt'> & { config: { intervals: { previewEvery: number } } }): string {
  const every = run.config.intervals.previewEvery;
  if (!every || every <= 0) return 'No previews: they are off for this run (preview every 0 steps).';
  if (run.status === 'running' || run.status === 'queued') return `No previews yet: the first comes at step ${every}.`;
  if (run.startedAt === null && run.step === 0) return `No previews yet: the run has not started (one every ${every} steps).`;
  if (run.step < every) return `No previews: the run ended at step ${run.step}, before the first preview at step ${every}.`;
  return `No previews were recorded (one every ${every} steps; the run reached step ${run.step}).`;
}
