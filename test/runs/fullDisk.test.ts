/**
 * A disk that fills up under a training run, on a real small file system (tmpfs): the service stays up,
 * the run ends failed with "the disk is full: free space and resume", what was stored stays intact, and
 * resume finishes the run once space is freed.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { RunSummary, StudioEvent } from '../../src-shared/protocol';
import { DISK_FULL_REASON } from '../../src-main/runs/storageFailure';
import { startHarness } from './serviceHarness';
import { mountSmallDisk } from './smallDisk';

const disk = mountSmallDisk(48 << 20);
const why = typeof disk === 'string' ? disk : '';
afterAll(() => {
  if (typeof disk !== 'string') disk.unmount();
});

function lastRun(events: StudioEvent[], id: string): RunSummary | undefined {
  const e = events.filter((x) => x.type === 'run' && x.run.id === id).at(-1);
  return e?.type === 'run' ? e.run : undefined;
}

describe.skipIf(typeof disk === 'string')(`a full disk during training${why ? ` (skipped: ${why})` : ''}`, () => {
  it('fails the run with the disk-full reason, keeps the service and the stored data, and resumes after space is freed', async () => {
    if (typeof disk === 'string') return;
    const h = await startHarness(path.join(disk.dir, 'data'));
    try {
      const base = getPreset('tiny-test').config;
      const config = { ...base, training: { ...base.training, maxSteps: 12 }, intervals: { ...base.intervals, checkpointEvery: 4, evalEvery: 0, previewEvery: 0, gnsEvery: 0 } };
      const run = await h.service.createRun({ config, id: 'filling', start: true });
      await h.waitFor(() => h.events.some((e) => e.type === 'checkpoint' && e.runId === run.id && e.checkpoint.step === 4), 'the first checkpoint');
      expect(disk.fill()).toBeGreaterThan(0);

      const failed = await h.waitFor(() => {
        const r = lastRun(h.events, run.id);
        return r && r.status !== 'running' && r.status !== 'queued' ? r : undefined;
      }, 'the run to end on the full disk');
      expect(failed.status).toBe('failed');
      expect(failed.reason).toBe(DISK_FULL_REASON);
      // The service still answers, and says the same thing when asked.
      const listed = (await h.service.listRuns()).find((r) => r.id === run.id)!;
      expect([listed.status, listed.reason]).toEqual(['failed', DISK_FULL_REASON]);
      const detail = await h.service.runDetail(run.id, 1000);
      expect(detail.checkpoints.map((c) => c.step)).toEqual([4]);
      expect(detail.series.loss?.step.slice(0, 4)).toEqual([1, 2, 3, 4]);
      expect(h.service.store.db.pragma('integrity_check', { simple: true })).toBe('ok');

      disk.free();
      await h.service.resumeRun(run.id);
      const end = await h.waitFor(() => {
        const r = lastRun(h.events, run.id);
        return r && r.status !== 'running' && r.status !== 'queued' && r.status !== 'failed' ? r : undefined;
      }, 'the resumed run to end');
      expect(end.status, end.reason ?? '').toBe('done');
      expect(end.reason).toBeNull();
      const after = await h.service.runDetail(run.id, 1000);
      expect(after.series.loss?.step).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(after.checkpoints.map((c) => c.step)).toEqual([4, 8, 12]);
    } finally {
      disk.free();
      await h.cleanup();
    }
  });
});
