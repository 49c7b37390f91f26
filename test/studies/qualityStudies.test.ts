/**
 * The two studies with a quality phase, tiny, through the real run service: after training, each queues
 * quality jobs (real workers, a real classifier trained briefly on the bundled digits) on its runs' last
 * checkpoints, and its report draws and judges the stored results.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { StudySummary } from '../../src-shared/protocol';
import { startHarness, type Harness } from '../runs/serviceHarness';

let h: Harness | undefined;
afterAll(async () => {
  await h?.cleanup();
});

function lastStudyEvent(h: Harness, id: string): StudySummary | undefined {
  const e = h.events.filter((x) => x.type === 'study' && x.study.id === id).at(-1);
  return e?.type === 'study' ? e.study : undefined;
}

describe('studies with a quality phase', () => {
  it('noise-schedule and sampling-steps (tiny) measure quality after training and judge it', async () => {
    h = await startHarness(undefined, { qualityClassifierTraining: { epochs: 1, maxTrainImages: 512 } });
    const noise = await h.service.createStudy({ kind: 'noise-schedule', size: 'tiny' });
    const steps = await h.service.createStudy({ kind: 'sampling-steps', size: 'tiny' });
    for (const s of [noise, steps]) {
      const done = await h.waitFor(() => {
        const e = lastStudyEvent(h!, s.id);
        return e && (e.status === 'done' || e.status === 'failed') ? e : undefined;
      }, `study ${s.kind} to finish`, 900_000);
      expect(done.error, s.kind).toBeNull();
      expect(done.status).toBe('done');
    }

    // noise-schedule: NLL at both checkpoints of both runs, quality at 3 skip fractions of the last checkpoint.
    const nRecord = h.service.store.studies.get(noise.id)!;
    expect(nRecord.evaluations.filter((e) => e.kind === 'nll')).toHaveLength(4);
    expect(nRecord.evaluations.filter((e) => e.kind === 'quality').map((e) => `${e.runKey}:${e.settings.skipFraction}@${e.checkpointStep}`).sort()).toEqual([
      'cosine:0.2@10', 'cosine:0.4@10', 'cosine:0@10', 'linear:0.2@10', 'linear:0.4@10', 'linear:0@10',
    ]);
    const nReport = await h.service.studyReport(noise.id);
    const skip = nReport.charts.find((c) => c.id === 'skip')!;
    expect(skip.series.map((s) => s.x)).toEqual([[0, 0.2, 0.4], [0, 0.2, 0.4]]);
    // The chart's numbers are the stored quality results of the study's jobs.
    const linearRun = noise.runs.find((r) => r.key === 'linear')!.runId;
    const stored = h.service.store.listQualityResults(linearRun).sort((a, b) => a.skipFraction - b.skipFraction);
    expect(skip.series[0].y).toEqual(stored.map((r) => (r.report as { fid: number }).fid));
    const skipVerdict = nReport.verdicts.find((v) => v.claimId === 'linear-skip-robust')!;
    expect(skipVerdict.outcome).not.toBe('not enough data');
    expect(skipVerdict.line).toContain(`changes the linear run's FID by`);
    expect(nReport.verdicts.find((v) => v.claimId === 'cosine-better-nll')!.line).toMatch(/^cosine NLL below linear at \d of 2 evaluations/);
    expect(nReport.notes.join(' ')).toMatch(/not .*Inception/i);

    // sampling-steps: quality at K = 5, 10, 20 (= T) of each run.
    const sReport = await h.service.studyReport(steps.id);
    const fid = sReport.charts.find((c) => c.id === 'fid-vs-steps')!;
    expect(fid.series.map((s) => s.x)).toEqual([[5, 10, 20], [5, 10, 20]]);
    // Tiny measures no K = 25 or 50: the verdicts say so rather than guess.
    expect(sReport.verdicts.map((v) => v.outcome)).toEqual(['not enough data', 'not enough data']);
    expect(sReport.tables[0].rows).toHaveLength(4);

    const exported = await h.service.exportStudy(steps.id);
    expect(exported.files).toEqual(expect.arrayContaining(['fid-vs-steps.png', 'fid-vs-steps.csv', 'kid-vs-steps.png', 'quality.table.csv', 'report.md']));
  }, 1_200_000);
});
