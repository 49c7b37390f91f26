/**
 * Checkpoint retention: the newest N plus the best by NLL stay, the rest leave the disk and the store.
 * A real SQLite file and real files, then a real training run in a worker process.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { withDefaults } from '../../src-shared/config/runConfig';
import { validateRunConfig } from '../../src-shared/config/validate';
import type { RunSummary, StudioEvent } from '../../src-shared/protocol';
import { checkpointsToPrune, pruneCheckpoints } from '../../src-main/runs/checkpointRetention';
import { openStore } from '../../src-main/store';
import { buildConfig } from '../../src-main/cli/configFromArgs';
import { startHarness, type Harness } from './serviceHarness';

const cps = (...steps: number[]) => steps.map((step) => ({ id: step * 10, step }));

describe('which checkpoints retention removes', () => {
  it('keeps the newest N and the best by NLL; 0 keeps all; checkpoints in use stay', () => {
    expect(checkpointsToPrune(cps(5, 10, 15, 20, 25), 2, new Map()).map((c) => c.step)).toEqual([5, 10, 15]);
    expect(checkpointsToPrune(cps(5, 10, 15, 20, 25), 2, new Map([[100, 3.1], [150, 2.9], [250, 3.0]])).map((c) => c.step)).toEqual([5, 10]);
    expect(checkpointsToPrune(cps(5, 10, 15), 0, new Map())).toEqual([]);
    expect(checkpointsToPrune(cps(5, 10, 15), 3, new Map())).toEqual([]);
    expect(checkpointsToPrune(cps(5, 10, 15, 20), 1, new Map(), new Set([50])).map((c) => c.step)).toEqual([10, 15]);
    // A NaN NLL (a diverged evaluation) never makes a checkpoint "best".
    expect(checkpointsToPrune(cps(5, 10, 15), 1, new Map([[50, Number.NaN]])).map((c) => c.step)).toEqual([5, 10]);
  });

  it('is a config field with a CLI flag, validated by name', () => {
    expect(withDefaults().intervals.keepCheckpoints).toBe(3);
    const bad = validateRunConfig({ ...withDefaults(), intervals: { ...withDefaults().intervals, keepCheckpoints: -1 } });
    expect(bad.map((p) => p.field)).toEqual(['intervals.keepCheckpoints']);
    expect(bad[0].message).toMatch(/intervals.keepCheckpoints -1/);
    expect(buildConfig({ preset: 'mnist-quick', 'keep-checkpoints': 5 }).intervals.keepCheckpoints).toBe(5);
    // A config stored before the option existed (no keepCheckpoints, no emaWarmup) is still valid: its run
    // keeps every checkpoint and its EMA has no warm-up, as when it was trained.
    const old = JSON.parse(JSON.stringify(getPreset('mnist-quick').config));
    delete old.intervals.keepCheckpoints;
    delete old.training.emaWarmup;
    expect(validateRunConfig(old)).toEqual([]);
  });
});

describe('retention on a real store and real files', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('deletes the files and rows of pruned checkpoints and keeps the best evaluated one', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-retain-'));
    const store = openStore(path.join(dir, 'studio.db'));
    try {
      store.createRun({ id: 'r1', name: 'r1', config: getPreset('tiny-test').config });
      const files = new Map<number, string>();
      mkdirSync(path.join(dir, 'ck'));
      for (const step of [2, 4, 6, 8, 10]) {
        const file = path.join(dir, 'ck', `step-${step}.safetensors`);
        writeFileSync(file, Buffer.alloc(1000, step));
        files.set(step, file);
        store.addCheckpoint('r1', { step, path: file, bytes: 1000, emaRates: [0.9] });
      }
      const at4 = store.listCheckpoints('r1').find((c) => c.step === 4)!;
      store.addEvaluation({ runId: 'r1', checkpointId: at4.id, step: 4, status: 'done', bpd: 2.5, priorBpd: 0, images: 4, timesteps: [], termsBpd: [], mse: [], xstartMse: [] });
      const at8 = store.listCheckpoints('r1').find((c) => c.step === 8)!;
      store.addEvaluation({ runId: 'r1', checkpointId: at8.id, step: 8, status: 'done', bpd: 3.5, priorBpd: 0, images: 4, timesteps: [], termsBpd: [], mse: [], xstartMse: [] });

      expect(pruneCheckpoints(store, 'r1', 2).map((c) => c.step)).toEqual([2, 6]);
      expect(store.listCheckpoints('r1').map((c) => c.step)).toEqual([4, 8, 10]);
      expect(readdirSync(path.join(dir, 'ck')).sort()).toEqual(['step-10.safetensors', 'step-4.safetensors', 'step-8.safetensors']);
      // Pruning again removes nothing more.
      expect(pruneCheckpoints(store, 'r1', 2)).toEqual([]);
      expect(existsSync(files.get(4)!)).toBe(true);
    } finally {
      store.close();
    }
  });
});

describe('retention in a training run', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.cleanup();
    harness = undefined;
  });

  it('a run checkpointing every 2 steps with keepCheckpoints 1 leaves the newest and the best on disk', async () => {
    harness = await startHarness();
    const h = harness;
    const base = getPreset('tiny-test').config;
    const config = {
      ...base,
      training: { ...base.training, maxSteps: 8 },
      // T = 50 and the default 50 VLB steps: every snapshot is the full bound, an NLL per checkpoint step.
      intervals: { ...base.intervals, checkpointEvery: 2, evalEvery: 2, previewEvery: 0, gnsEvery: 0, keepCheckpoints: 1 },
    };
    const run = await h.service.createRun({ config, start: true });
    await h.waitFor(() => {
      const e = h.events.filter((x): x is Extract<StudioEvent, { type: 'run' }> => x.type === 'run' && x.run.id === run.id).at(-1);
      return e && ['done', 'failed'].includes(e.run.status) ? (e.run as RunSummary) : undefined;
    }, 'the run to end');
    const d = await h.service.runDetail(run.id, 100);
    expect(d.run.status).toBe('done');
    const nll = new Map<number, number>();
    for (const step of d.vlbSteps) {
      const snap = await h.service.vlbSnapshot(run.id, step);
      if (snap?.totalBpd !== null && snap?.totalBpd !== undefined) nll.set(step, snap.totalBpd);
    }
    expect([...nll.keys()].sort((a, b) => a - b)).toEqual([2, 4, 6, 8]);
    const best = [...nll.entries()].sort((a, b) => a[1] - b[1])[0][0];
    const kept = [...new Set([best, 8])].sort((a, b) => a - b);
    expect(d.checkpoints.map((c) => c.step)).toEqual(kept);
    const dir = path.dirname(d.checkpoints[0].path);
    expect(readdirSync(dir).filter((f) => f.endsWith('.safetensors')).length).toBe(kept.length);
    for (const c of d.checkpoints) expect(existsSync(c.path)).toBe(true);
    // Live clients learn of the removals with the checkpoint that caused them.
    const removed = h.events.flatMap((e) => (e.type === 'checkpoint' && e.runId === run.id ? (e.removedIds ?? []) : []));
    const written = h.events.filter((e) => e.type === 'checkpoint' && e.runId === run.id).length;
    expect(written).toBe(4);
    expect(removed).toHaveLength(4 - kept.length);
    // The checkpoint info carries the EMA's initial-weight share (tiny-test warms its EMA up).
    const last = d.checkpoints.at(-1)!;
    expect(last.emaRates).toEqual([0.9]);
    expect(last.emaInitialShares[0]).toBeLessThan(1e-3);
    expect(last.defaultEmaRate).toBe(0.9);
  });
});
