/**
 * A queued sampling job says what it waits for: the wording (describeWait), and the run service reporting it with a
 * real training worker holding the device, then dropping it once the job starts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { JobSummary } from '../../src-shared/protocol';
import { describeWait } from '../../src-main/runs/queueWait';
import { startHarness, type Harness } from './serviceHarness';

describe('describeWait', () => {
  it('names what holds the device and the rule', () => {
    expect(describeWait([{ kind: 'train', runName: 'mnist-quick' }], 0, 1)).toBe('waiting for training run “mnist-quick”: one job per device');
    expect(describeWait([{ kind: 'eval', jobId: 4, runName: 'a' }], 2, 1)).toBe(
      'waiting for evaluation job #4 (run “a”): one job per device; 2 more queued before it',
    );
    expect(describeWait([{ kind: 'quality', jobId: 7, runName: 'b' }], 0, 1)).toBe('waiting for sample-quality job #7 (run “b”): one job per device');
    expect(describeWait([], 0, 1)).toBeNull();
  });
});

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

describe('a sampling job queued behind a training run', () => {
  it('is reported as waiting for that run, by name, until the run stops', async () => {
    harness = await startHarness();
    const h = harness;
    const base = getPreset('tiny-test').config;
    const config = { ...base, training: { ...base.training, maxSteps: 100_000 }, intervals: { ...base.intervals, checkpointEvery: 2, evalEvery: 0, previewEvery: 0, gnsEvery: 0 } };
    const run = await h.service.createRun({ config, name: 'busy trainer', start: true });
    await h.waitFor(() => h.events.some((e) => e.type === 'checkpoint' && e.runId === run.id), 'a checkpoint');
    const job = await h.service.startSampling({ runId: run.id, sampler: 'ddim', steps: 2, eta: 0, count: 1, seed: 0, clipDenoised: true });
    expect(job.status).toBe('queued');
    expect(job.waitingFor).toBe('waiting for training run “busy trainer”: one job per device');
    expect((await h.service.listJobs()).find((j) => j.id === job.id)?.waitingFor).toBe(job.waitingFor);

    await h.service.stopRun(run.id);
    const started = await h.waitFor(() => {
      const e = h.events.filter((x): x is { type: 'job'; job: JobSummary } => x.type === 'job' && x.job.id === job.id).at(-1);
      return e && e.job.status !== 'queued' ? e.job : undefined;
    }, 'the job to leave the queue');
    expect(started.waitingFor ?? null).toBeNull();
  }, 240_000);
});
