/**
 * The run service with its real parts: a SQLite file in a temp dir and real worker processes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { RunConfig } from '../../src-shared/config/runConfig';
import type { StudioEvent } from '../../src-shared/protocol';
import { createRunService } from '../../src-main/runs/runService';
import { openStore } from '../../src-main/store';
import { writeWorkerLock } from '../../src-main/runs/workerLock';
import { startHarness, type Harness } from './serviceHarness';

function tiny(patch: { training?: Partial<RunConfig['training']>; intervals?: Partial<RunConfig['intervals']> } = {}): RunConfig {
  const base = getPreset('tiny-test').config;
  return { ...base, training: { ...base.training, ...patch.training }, intervals: { ...base.intervals, ...patch.intervals } };
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

describe('run service', () => {
  it('a tiny run goes queued → running → done with metrics, VLB snapshots, GNS, checkpoints; two subscribers agree; a late one backfills', async () => {
    harness = await startHarness();
    const h = harness;
    const second: StudioEvent[] = [];
    h.service.subscribe((e) => second.push(e));
    // A late subscriber (a page opened mid-run): subscribes, then backfills from the store, and merges.
    const late = { live: new Map<number, number>(), backfill: new Map<number, number>(), joined: false };
    h.service.subscribe((e) => {
      if (e.type !== 'metrics') return;
      if (!late.joined) {
        late.joined = true;
        void h.service.runDetail(e.runId, 1000).then((d) => d.series.loss?.step.forEach((s, i) => late.backfill.set(s, d.series.loss!.value[i])));
        return; // this batch is already in the store: the backfill covers it
      }
      for (const r of e.rows) late.live.set(r.step, r.loss);
    });
    const run = await h.service.createRun({ config: tiny(), preset: 'tiny-test', start: true });
    expect(['queued', 'running']).toContain(run.status);
    const end = await h.waitForRunEnd(run.id, 'the run to end');
    expect(end.status).toBe('done');
    expect(end.step).toBe(10);
    const statuses = h.events.filter((e) => e.type === 'run' && e.run.id === run.id).map((e) => (e.type === 'run' ? e.run.status : ''));
    expect(statuses).toContain('running');
    expect(statuses.at(-1)).toBe('done');
    expect(end.backend).toMatch(/^(wasm|cpu|tensorflow)/);

    const d = await h.service.runDetail(run.id, 1000);
    expect(d.series.loss?.step).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(d.vlbSteps).toEqual([5, 10]);
    expect(d.latestVlb?.timesteps.length).toBeGreaterThan(1);
    expect(d.gns.map((g) => g.step)).toEqual([2, 4, 6, 8, 10]);
    expect(d.checkpoints.map((c) => c.step)).toEqual([5, 10]);
    expect(d.previews.map((p) => p.checkpointStep).sort()).toEqual([10, 5]);

    // Both subscribers saw the same events, in the same order.
    expect(second).toEqual(h.events);
    // Live metric rows, gathered from events, equal the stored series.
    const live = h.events.flatMap((e) => (e.type === 'metrics' && e.runId === run.id ? e.rows : []));
    expect(live.map((r) => r.step)).toEqual(d.series.loss?.step);
    expect(live.map((r) => r.loss)).toEqual(d.series.loss?.value);
    const merged = new Map([...late.backfill, ...late.live]);
    expect([...merged.keys()].sort((a, b) => a - b)).toEqual(d.series.loss?.step);
    expect([...merged.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v)).toEqual(d.series.loss?.value);

    // Sampling: 4 images with 10 respaced steps land in a sample set.
    const job = await h.service.startSampling({ runId: run.id, sampler: 'ancestral', steps: 10, eta: 0, count: 4, seed: 3, clipDenoised: true });
    const done = await h.waitFor(() => {
      const j = h.events.filter((e) => e.type === 'job' && e.job.id === job.id).at(-1);
      return j?.type === 'job' && ['done', 'failed', 'cancelled'].includes(j.job.status) ? j.job : undefined;
    }, 'the sampling job');
    expect(done.status, done.error ?? '').toBe('done');
    const sets = await h.service.listSampleSets({ runId: run.id, kind: 'samples' });
    expect(sets).toHaveLength(1);
    expect(sets[0].images).toHaveLength(4);
    expect(sets[0].steps).toBe(10);
    expect(h.service.resolveFile(sets[0].images[0].url)).toMatch(/sample-0000\.png$/);
  });

  it('kill -9 of the worker makes the run interrupted; resume continues from the last checkpoint to the end', async () => {
    harness = await startHarness();
    const h = harness;
    const run = await h.service.createRun({ config: tiny({ training: { maxSteps: 12 }, intervals: { evalEvery: 0, previewEvery: 0, gnsEvery: 0, checkpointEvery: 5 } }), start: true });
    await h.waitFor(() => h.events.some((e) => e.type === 'checkpoint' && e.runId === run.id && e.checkpoint.step === 5), 'the first checkpoint');
    const db = openStore(path.join(h.dataDir, 'studio.db'));
    const pid = await h.waitFor(() => db.getRun(run.id)?.workerPid, 'the worker pid');
    db.close();
    process.kill(pid, 'SIGKILL');
    const interrupted = await h.waitForRunEnd(run.id, 'the run to be interrupted');
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.reason).toMatch(/killed \(SIGKILL/);
    expect(interrupted.reason).toMatch(/checkpoint at step (5|10)/);

    const resumed = await h.service.resumeRun(run.id);
    expect(['queued', 'running']).toContain(resumed.status);
    const end = await h.waitForRunEnd(run.id, 'the resumed run to end', 'interrupted');
    expect(end.status).toBe('done');
    const d = await h.service.runDetail(run.id, 1000);
    expect(d.series.loss?.step).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(d.checkpoints.at(-1)?.step).toBe(12);
  });

  it('stop ends a run with a checkpoint at its current step, also when it lands during a VLB evaluation', async () => {
    harness = await startHarness();
    const h = harness;
    // An evaluation every 2 steps takes most of the time, so the stop most likely lands inside one.
    const run = await h.service.createRun({ config: tiny({ training: { maxSteps: 1000 }, intervals: { evalEvery: 2, previewEvery: 0, checkpointEvery: 0, gnsEvery: 0 } }), start: true });
    await h.waitFor(() => h.events.some((e) => e.type === 'metrics' && e.runId === run.id && e.rows.some((r) => r.step >= 2)), 'two steps');
    await h.service.stopRun(run.id);
    const end = await h.waitForRunEnd(run.id, 'the run to stop');
    expect(end.status).toBe('stopped');
    expect(end.lastCheckpointStep).toBe(end.step);
  });

  it('runs left running by a previous process become interrupted at start-up', async () => {
    harness = await startHarness();
    const run = await harness.service.createRun({ config: tiny() });
    await harness.service.close();
    const store = openStore(path.join(harness.dataDir, 'studio.db'));
    store.setStatus(run.id, 'running');
    store.updateRun(run.id, { workerPid: 999_999 });
    store.close();
    const again = await createRunService({ dataDir: harness.dataDir, face: 'cli' });
    const r = (await again.listRuns()).find((x) => x.id === run.id)!;
    expect(r.status).toBe('interrupted');
    expect(r.reason).toMatch(/stopped while this run was running/);
    expect(again.recovered).toEqual([run.id]);
    await again.close();
  });

  it('a run whose worker is alive in another studio process is left running at start-up', async () => {
    harness = await startHarness();
    const run = await harness.service.createRun({ config: tiny() });
    await harness.service.close();
    const other = spawn('sleep', ['30']);
    try {
      // The other studio process took the run: it holds the worker lock for its worker.
      mkdirSync(path.join(harness.dataDir, 'runs', run.id), { recursive: true });
      writeWorkerLock(path.join(harness.dataDir, 'runs', run.id), { runId: run.id, pid: other.pid!, ownerPid: other.pid!, face: 'web' });
      const store = openStore(path.join(harness.dataDir, 'studio.db'));
      store.setStatus(run.id, 'running');
      store.updateRun(run.id, { workerPid: other.pid! });
      store.close();
      const again = await createRunService({ dataDir: harness.dataDir, face: 'cli' });
      const r = (await again.listRuns()).find((x) => x.id === run.id)!;
      expect(r.status).toBe('running');
      expect(again.recovered).toEqual([]);
      await again.close();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('NaN losses surface as failed with the engine message', async () => {
    harness = await startHarness();
    const h = harness;
    const run = await h.service.createRun({ config: tiny({ training: { lr: 1e12, maxSteps: 200 }, intervals: { evalEvery: 0, previewEvery: 0, gnsEvery: 0, checkpointEvery: 0 } }), start: true });
    const end = await h.waitForRunEnd(run.id, 'the run to fail');
    expect(end.status).toBe('failed');
    expect(end.reason).toMatch(/NaN or infinite .* in a row/);
    expect(end.reason).toMatch(/Lower the learning rate/);
  });

  it('rejects a bad config naming the field, and an unwritable data directory with a clear message', async () => {
    harness = await startHarness();
    const bad = tiny();
    bad.model = { ...bad.model, channels: 48 };
    await expect(harness.service.createRun({ config: bad })).rejects.toThrow(/model\.channels/);
    // A config taken from a run summary (it names its preset) creates a run again; duplicates keep the preset.
    const first = await harness.service.createRun({ config: tiny(), preset: 'tiny-test' });
    expect(first.preset).toBe('tiny-test');
    expect((await harness.service.createRun({ config: first.config })).status).toBe('stopped');
    const copy = await harness.service.duplicateRun(first.id);
    expect(copy.name).toBe(`${first.name} (copy)`);
    expect(copy.preset).toBe('tiny-test');
    const file = path.join(harness.dataDir, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(createRunService({ dataDir: path.join(file, 'data'), face: 'cli' })).rejects.toThrow(/cannot create .*not-a-dir.*(ENOTDIR|EEXIST)/);
  });
});
