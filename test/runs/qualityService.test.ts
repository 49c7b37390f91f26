/**
 * Sample-quality jobs in the run service, with its real parts: a tiny run trained by a real worker on the
 * bundled digits, quality jobs run in worker processes, results in the real SQLite file. The classifier is
 * trained short (1 epoch of 512 digits) so the file runs in about a minute on a busy 2-core machine.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { RunConfig } from '../../src-shared/config/runConfig';
import type { JobSummary, RunSummary } from '../../src-shared/protocol';
import { openStore } from '../../src-main/store';
import { startHarness, type Harness } from './serviceHarness';

const SHORT_CLASSIFIER = { epochs: 1, maxTrainImages: 512 };

function tinyConfig(): RunConfig {
  const base = getPreset('tiny-test').config; // T = 50, 16 px MNIST digits (labelled)
  return {
    ...base,
    training: { ...base.training, maxSteps: 2, backend: 'wasm' },
    intervals: { ...base.intervals, checkpointEvery: 2, evalEvery: 0, previewEvery: 0, gnsEvery: 0 },
  };
}

let h: Harness;
let run: RunSummary;
beforeAll(async () => {
  h = await startHarness(undefined, { qualityClassifierTraining: SHORT_CLASSIFIER });
  run = await h.service.createRun({ config: tinyConfig(), start: true });
  const end = await h.waitForRunEnd(run.id, 'the tiny run');
  expect(end.status, end.reason ?? '').toBe('done');
}, 180_000);
afterAll(async () => {
  await h?.cleanup();
});

function jobEvents(jobId: number): JobSummary[] {
  return h.events.flatMap((e) => (e.type === 'job' && e.job.id === jobId ? [e.job] : []));
}

describe('quality jobs in the run service', () => {
  it('refuses settings it cannot honour, naming the field, before anything is queued', async () => {
    const ok = { runId: run.id, metrics: ['fid' as const], count: 8, sampler: 'ancestral' as const, steps: 5 };
    const refused = async (patch: Record<string, unknown>) => h.service.startQualityEvaluation({ ...ok, ...patch } as never).then(() => null, (e: { toApiError(): { field?: string; message: string } }) => e.toApiError());
    expect(await refused({ steps: 51 })).toMatchObject({ field: 'steps', message: expect.stringMatching(/more than 50, the model's diffusion steps T/) });
    expect(await refused({ count: 2 })).toMatchObject({ field: 'count' });
    expect(await refused({ metrics: ['fid', 'lpips'] })).toMatchObject({ field: 'metrics', message: expect.stringMatching(/'lpips' is not a metric/) });
    expect(await refused({ skipFraction: 1 })).toMatchObject({ field: 'skipFraction' });
    expect(await refused({ skipFraction: 0.5, steps: 30 })).toMatchObject({ field: 'steps', message: expect.stringMatching(/more than the 25 steps left after skipFraction 0.5/) });
    expect(await refused({ sampler: 'ddim', steps: 30 })).toMatchObject({ field: 'steps', message: expect.stringMatching(/DDIM cannot take exactly 30 of 50 steps/) });
    const sweep = (steps: number[]) => h.service.startQualitySweep({ runId: run.id, metrics: ['fid'], count: 8, steps }).then(() => null, (e: { toApiError(): { field?: string; message: string } }) => e.toApiError());
    expect(await sweep([10, 60])).toMatchObject({ field: 'steps', message: expect.stringMatching(/60 is more than the model's diffusion steps T = 50/) });
    expect(await sweep([10, 10])).toMatchObject({ field: 'steps', message: expect.stringMatching(/10 is given twice/) });
    expect(await sweep([0])).toMatchObject({ field: 'steps', message: expect.stringMatching(/not a positive whole number/) });
    expect(await sweep([30])).toMatchObject({ field: 'steps', message: expect.stringMatching(/DDIM cannot take exactly 30 of 50 steps/) });
    expect((await h.service.listJobs()).filter((j) => j.kind === 'quality')).toEqual([]);
    await expect(h.service.waitForJob(987654)).rejects.toThrow(/no job with id 987654/);
  });

  it('runs in a worker: trains the classifier (phase by phase), stores the report in SQLite and lists it', async () => {
    const avail = await h.service.qualityAvailability(run.id);
    expect(avail).toMatchObject({ labelled: true, message: null, diffusionSteps: 50, classifierAccuracy: null });

    const job = await h.service.startQualityEvaluation({ runId: run.id, metrics: ['fid', 'kid', 'pr', 'is'], count: 8, sampler: 'ancestral', steps: 5, seed: 4, realCount: 64, skipFraction: 0.2 });
    expect(job.kind).toBe('quality');
    const end = await h.service.waitForJob(job.id);
    expect(end.status, end.error ?? '').toBe('done');
    expect(end.resultId).not.toBeNull();

    // Progress came phase by phase: the classifier (first use), then sampling, then features.
    const phases = jobEvents(job.id).flatMap((j) => (j.phase ? [j.phase] : []));
    expect([...new Set(phases)]).toEqual(['classifier', 'sampling', 'features']);

    const results = await h.service.listQualityResults(run.id);
    expect(results).toHaveLength(1);
    const r = results[0];
    expect(r.id).toBe(end.resultId);
    expect(r).toMatchObject({ runId: run.id, jobId: job.id, checkpointStep: 2, sampler: 'ancestral', steps: 5, skipFraction: 0.2, count: 8, sweepId: null });
    expect(r.report.caveat).toMatch(/not Inception FID\/IS, not comparable with published values/);
    expect(r.report.generatedCount).toBe(8);
    expect(r.report.realCount).toBe(64);
    for (const v of [r.report.fid, r.report.kid?.mean, r.report.precision, r.report.recall, r.report.inceptionScore?.mean]) expect(Number.isFinite(v)).toBe(true);
    expect(r.classifier).toMatchObject({ datasetKey: 'mnist-bundled-16px-1ch', trainedNow: true });
    expect(r.classifier.heldOutAccuracy).toBe(r.report.classifierAccuracy);
    // The sampler honoured the skip: it started below (1 − 0.2)·50 = 40.
    expect((r.settings.sample as { startTimestep: number }).startTimestep).toBeLessThan(40);
    expect(existsSync(path.join(h.dataDir, 'classifiers', 'mnist-bundled-16px-1ch.safetensors'))).toBe(true);
    expect((await h.service.qualityAvailability(run.id)).classifierAccuracy).toBe(r.classifier.heldOutAccuracy);

    // The row is in the database file itself (a second connection reads it).
    const other = openStore(path.join(h.dataDir, 'studio.db'));
    try {
      const rows = other.listQualityResults(run.id);
      expect(rows.map((x) => [x.jobId, x.steps, x.skipFraction])).toEqual([[job.id, 5, 0.2]]);
      expect(other.getJob(job.id)).toMatchObject({ kind: 'quality', status: 'done', phase: 'features' });
    } finally {
      other.close();
    }
  }, 180_000);

  it('a sweep queues one job per (sampler, K) and the full chain, reusing the cached classifier; results share its id', async () => {
    const sweep = await h.service.startQualitySweep({ runId: run.id, metrics: ['fid', 'kid'], count: 8, steps: [5], seed: 1, realCount: 64 });
    expect(sweep.jobs.map((j) => [j.settings.sampler, j.settings.steps])).toEqual([
      ['ancestral', 5],
      ['ddim', 5],
      ['ancestral', 50],
      ['ddim', 50],
    ]);
    // One job per device: the later points say what they wait for.
    // (The job ahead may still be the previous test's, whose worker is exiting.)
    expect(sweep.jobs[3].waitingFor).toMatch(new RegExp(`^waiting for sample-quality job #\\d+ \\(run “${run.name}”\\): one job per device; [23] more queued before it$`));
    const ends = await Promise.all(sweep.jobs.map((j) => h.service.waitForJob(j.id)));
    expect(ends.map((e) => e.status)).toEqual(['done', 'done', 'done', 'done']);
    const results = (await h.service.listQualityResults(run.id)).filter((r) => r.sweepId === sweep.sweepId);
    expect(results.map((r) => `${r.sampler}${r.steps}`).sort()).toEqual(['ancestral5', 'ancestral50', 'ddim5', 'ddim50']);
    for (const r of results) {
      expect(r.classifier.trainedNow).toBe(false);
      expect(Number.isFinite(r.report.fid)).toBe(true);
      expect(r.report.precision).toBeUndefined(); // only what was asked
    }
    // No phase 'classifier' this time: it was cached.
    expect(sweep.jobs.flatMap((j) => jobEvents(j.id)).some((j) => j.phase === 'classifier')).toBe(false);
  }, 300_000);

  it('a dataset without labels: availability says "no labels: NLL only" and a quality job is refused with it before queuing', async () => {
    const folder = path.join(h.dataDir, 'unlabelled');
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 12; i++) {
      const p = new PNG({ width: 16, height: 16 });
      p.data.fill(i * 20);
      writeFileSync(path.join(folder, `img${i}.png`), PNG.sync.write(p));
    }
    const base = tinyConfig();
    const plain = await h.service.createRun({ config: { ...base, dataset: { kind: 'folder', path: folder } } });
    const a = await h.service.qualityAvailability(plain.id);
    expect(a.labelled).toBe(false);
    expect(a.message).toMatch(/^no labels: NLL only: .* has no class labels.*name every file <class>_<anything>\.png/);
    // A checkpoint to aim at (the refusal must come from the labels, not from a missing checkpoint).
    await h.service.startRun(plain.id);
    const end = await h.waitForRunEnd(plain.id, 'the unlabelled run', 'stopped');
    expect(end.status, end.reason ?? '').toBe('done');
    const before = (await h.service.listJobs()).length;
    const refused = await h.service
      .startQualityEvaluation({ runId: plain.id, metrics: ['fid'], count: 8, sampler: 'ancestral', steps: 5 })
      .then(() => null, (e: { toApiError(): { field?: string; message: string } }) => e.toApiError());
    expect(refused).toMatchObject({ field: 'dataset', message: expect.stringMatching(/^no labels: NLL only/) });
    expect((await h.service.listJobs()).length).toBe(before);
  });

  it('cancelling while the classifier trains stops the job (cancelled) and caches no classifier', async () => {
    rmSync(path.join(h.dataDir, 'classifiers'), { recursive: true, force: true });
    await h.service.close();
    // A longer classifier training, so there is time to cancel it mid-way.
    h = await startHarness(h.dataDir, { qualityClassifierTraining: { epochs: 3 } });
    const job = await h.service.startQualityEvaluation({ runId: run.id, metrics: ['fid'], count: 8, sampler: 'ancestral', steps: 5 });
    await h.waitFor(() => jobEvents(job.id).some((j) => j.phase === 'classifier' && j.progress > 0), 'classifier training progress');
    await h.service.cancelJob(job.id);
    const end = await h.service.waitForJob(job.id);
    expect(end.status).toBe('cancelled');
    expect(existsSync(path.join(h.dataDir, 'classifiers', 'mnist-bundled-16px-1ch.safetensors'))).toBe(false);
    expect((await h.service.listQualityResults(run.id)).some((r) => r.jobId === job.id)).toBe(false);
  }, 180_000);
});
