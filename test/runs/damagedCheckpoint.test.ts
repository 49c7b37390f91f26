/**
 * A run whose newest checkpoint was cut short: plain resume refuses with the file and the way out, the
 * run detail offers the newest whole checkpoint with the steps that are lost, and resuming from it trains
 * those steps again (the same losses, each step stored once) to the end.
 */
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { startHarness, type Harness } from './serviceHarness';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

describe('a damaged latest checkpoint', () => {
  it('blocks plain resume with the file named; resuming from the newest good one completes the run with the lost steps trained again', async () => {
    harness = await startHarness();
    const h = harness;
    const base = getPreset('tiny-test').config;
    const config: RunConfig = { ...base, training: { ...base.training, maxSteps: 16 }, intervals: { ...base.intervals, checkpointEvery: 3, evalEvery: 0, previewEvery: 0, gnsEvery: 0, keepCheckpoints: 0 } };
    const run = await h.service.createRun({ config, start: true });
    await h.waitFor(() => h.events.some((e) => e.type === 'checkpoint' && e.runId === run.id && e.checkpoint.step === 6), 'the checkpoint at step 6');
    await h.service.stopRun(run.id);
    const stopped = await h.waitForRunEnd(run.id, 'the run to stop');
    expect(stopped.status).toBe('stopped');
    const before = await h.service.runDetail(run.id, 10_000);
    const lossBefore = before.series.loss!;
    const cps = before.checkpoints.map((c) => c.step);
    expect(cps.length).toBeGreaterThanOrEqual(2);
    const newest = before.checkpoints.at(-1)!;
    const good = cps.at(-2)!;
    expect(before.checkpointDamage).toBeNull();

    truncateSync(newest.path, Math.floor(readFileSync(newest.path).length / 2));

    await expect(h.service.resumeRun(run.id)).rejects.toThrow(
      new RegExp(`latest checkpoint ${newest.path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(step ${newest.step}\\) is damaged: it is truncated.*newest good checkpoint is at step ${good} \\(steps ${good + 1}…${stopped.step} are lost\\): iddpm resume ${run.id} --from-good-checkpoint`),
    );
    expect((await h.service.listRuns()).find((r) => r.id === run.id)!.status).toBe('stopped');
    const offered = (await h.service.runDetail(run.id, 100)).checkpointDamage;
    expect(offered).toMatchObject({ file: newest.path, step: newest.step, goodStep: good, lostSteps: [good + 1, stopped.step] });

    const resumed = await h.service.resumeRun(run.id, { fromGoodCheckpoint: true });
    expect(resumed.lastCheckpointStep).toBe(good);
    expect(existsSync(`${newest.path}.damaged`)).toBe(true);
    const end = await h.waitForRunEnd(run.id, 'the resumed run to end', 'stopped');
    expect(end.status, end.reason ?? '').toBe('done');
    const after = await h.service.runDetail(run.id, 10_000);
    expect(after.series.loss!.step).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    // Resume is exact: the steps trained again give the losses they gave the first time.
    expect(after.series.loss!.value.slice(0, stopped.step)).toEqual(lossBefore.value.slice(0, stopped.step));
    expect(after.checkpoints.map((c) => c.step)).toEqual([...cps.filter((s) => s <= good), ...[9, 12, 15, 16].filter((s) => s > good)]);
    expect(after.checkpointDamage).toBeNull();
  });
});
