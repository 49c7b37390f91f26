/**
 * Sample-quality results and job phases (schema version 3) on a real SQLite file: a version-2 database is
 * migrated with its jobs intact, results are listed per run oldest first and go with their run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src-shared/config/runConfig';
import { MIGRATIONS } from '../../src-main/store/migrations';
import { tempStore, type TempStore } from './helpers';

let t: TempStore | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

const result = (runId: string, steps: number, createdAt: number) => ({
  runId,
  step: 10,
  sampler: 'ddim',
  steps,
  skipFraction: 0.1,
  count: 8,
  sweepId: 'sw',
  settings: { metrics: ['fid'], seed: 1 },
  report: { fid: 12.5, caveat: 'not Inception' },
  classifier: { heldOutAccuracy: 0.98, trainedNow: false },
  createdAt,
});

describe('quality results', () => {
  it('a version-2 database gains the table and the jobs.phase column, keeping its jobs', () => {
    t = tempStore({ migrations: MIGRATIONS.slice(0, 2) });
    t.store.createRun({ id: 'r', name: 'r', config: withDefaults({}), status: 'stopped', runDir: t.dir });
    const job = t.store.createJob({ kind: 'sample', runId: 'r', settings: { steps: 5 } });
    const s = t.reopen({});
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    expect(s.getJob(job.id)).toMatchObject({ kind: 'sample', phase: null, settings: { steps: 5 } });
    expect(s.updateJob(job.id, { phase: 'sampling', progress: 0.5 })).toMatchObject({ phase: 'sampling', progress: 0.5 });
    expect(s.listQualityResults('r')).toEqual([]);
  });

  it('stores every field, lists a run oldest first, and deletes with the run', () => {
    t = tempStore();
    for (const id of ['a', 'b']) t.store.createRun({ id, name: id, config: withDefaults({}), status: 'stopped', runDir: t.dir });
    const quality = t.store.createJob({ kind: 'quality', runId: 'a', settings: {} });
    const second = t.store.addQualityResult({ ...result('a', 50, 2000), jobId: quality.id });
    const first = t.store.addQualityResult(result('a', 10, 1000));
    t.store.addQualityResult(result('b', 25, 1500));
    const listed = t.store.listQualityResults('a');
    expect(listed.map((r) => r.id)).toEqual([first, second]);
    expect(listed[1]).toEqual({ id: second, runId: 'a', checkpointId: null, jobId: quality.id, step: 10, sweepId: 'sw', sampler: 'ddim', steps: 50, skipFraction: 0.1, count: 8, settings: { metrics: ['fid'], seed: 1 }, report: { fid: 12.5, caveat: 'not Inception' }, classifier: { heldOutAccuracy: 0.98, trainedNow: false }, createdAt: 2000 });
    expect(t.store.getQualityResult(first)?.steps).toBe(10);
    t.store.deleteRun('a');
    expect(t.store.listQualityResults('a')).toEqual([]);
    expect(t.store.getQualityResult(second)).toBeNull();
    expect(t.store.listQualityResults('b')).toHaveLength(1);
  });
});
