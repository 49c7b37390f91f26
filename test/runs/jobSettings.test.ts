/**
 * Issue 13, "Smaller": sampling and evaluation requests through the faces' request gate on a real run
 * service. η is optional; a step count above the model's T, or absurd counts, are refused with the field
 * and the bound instead of being clamped while the job keeps the absurd value.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { handleRequest } from '../../src-main/server/validateRequest';
import { openStore } from '../../src-main/store';
import { startHarness, type Harness } from './serviceHarness';

let h: Harness;
let runId: string;

beforeAll(async () => {
  h = await startHarness();
  const run = await h.service.createRun({ config: getPreset('tiny-test').config, start: false });
  runId = run.id;
  // A checkpoint row, so requests get past "no checkpoint yet"; its file is never read by these refusals.
  const store = openStore(path.join(h.dataDir, 'studio.db'));
  store.addCheckpoint(runId, { step: 10, path: path.join(h.dataDir, 'runs', runId, 'checkpoints', 'step-00000010.safetensors'), bytes: 1, emaRates: [0.999] });
  store.close();
});
afterAll(async () => h.cleanup());

const sample = (extra: Record<string, unknown>) => ({ runId, sampler: 'ddim', steps: 10, count: 2, seed: 1, clipDenoised: true, ...extra });

describe('sampling and evaluation requests', () => {
  it('accepts startSampling without eta (it is optional) and stores the job', async () => {
    const reply = await handleRequest(h.service, 'startSampling', [sample({})]);
    expect(reply).not.toHaveProperty('error');
    const job = (reply as { result: { id: number; kind: string } }).result;
    expect(job.kind).toBe('sample');
    await h.service.cancelJob(job.id);
  });

  it("refuses steps above the model's T, naming the field and the bound, and stores no job", async () => {
    const before = (await h.service.listJobs()).length;
    const reply = await handleRequest(h.service, 'startSampling', [sample({ steps: 1e12 })]);
    expect(reply).toEqual({
      error: {
        code: 'bad-request',
        field: 'steps',
        message: "steps 1000000000000 is more than 50, the model's diffusion steps T (sampling keeps a subset of them): use at most 50",
      },
    });
    expect((await h.service.listJobs()).length).toBe(before);
  });

  it('refuses absurd counts and a negative eta', async () => {
    const count = await handleRequest(h.service, 'startSampling', [sample({ count: 1e6 })]);
    expect(count).toMatchObject({ error: { field: 'count', message: 'count 1000000 is more than 1024, the most images one sampling job draws: use at most 1024' } });
    const eta = await handleRequest(h.service, 'startSampling', [sample({ eta: -1 })]);
    expect(eta).toMatchObject({ error: { field: 'eta', message: expect.stringContaining('eta must be a number ≥ 0') } });
    const images = await handleRequest(h.service, 'startEvaluation', [{ runId, images: 1e9 }]);
    expect(images).toMatchObject({ error: { field: 'images', message: expect.stringContaining('images 1000000000 is more than 100000') } });
  });
});
