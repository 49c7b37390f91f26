import { afterEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_REASON, JOB_INTERRUPTED_REASON } from '../../src-main/store';
import { countFor, rows, smallConfig, tempStore, type TempStore } from './helpers';

let t: TempStore;
let clock = 1000;
const now = () => clock;
afterEach(() => t?.cleanup());

describe('runs', () => {
  it('create → get round-trips the config JSON and defaults', () => {
    t = tempStore({ now });
    clock = 5000;
    const cfg = smallConfig();
    const r = t.store.createRun({ id: '20250101-120000', name: 'digits', config: cfg, runDir: '/data/runs/20250101-120000' });
    expect(r).toMatchObject({
      id: '20250101-120000',
      name: 'digits',
      status: 'queued',
      createdAt: 5000,
      updatedAt: 5000,
      startedAt: null,
      finishedAt: null,
      step: 0,
      maxSteps: 1000, // from config.training.maxSteps
      error: null,
      runDir: '/data/runs/20250101-120000',
      parentId: null,
      backend: null,
    });
    expect(r.config).toEqual(cfg);
    expect(t.store.getRun('nope')).toBeNull();
  });

  it('updateRun changes only the given fields and rejects unknown ones', () => {
    t = tempStore({ now });
    t.store.createRun({ id: 'a', name: 'a', config: smallConfig() });
    clock = 2000;
    const r = t.store.updateRun('a', { backend: 'tensorflow (CPU): tfjs-node-gpu found no CUDA', dataset: 'MNIST: 60000/10000', name: 'renamed', workerPid: 42 });
    expect(r).toMatchObject({ backend: 'tensorflow (CPU): tfjs-node-gpu found no CUDA', dataset: 'MNIST: 60000/10000', name: 'renamed', workerPid: 42, updatedAt: 2000 });
    const cfg = { ...smallConfig(), training: { ...smallConfig().training, lr: 3e-4 } };
    expect(t.store.updateRun('a', { config: cfg }).config.training.lr).toBe(3e-4);
    expect(() => t.store.updateRun('a', { status: 'done' } as never)).toThrow(/cannot be updated/);
    expect(() => t.store.updateRun('missing', { name: 'x' })).toThrow(/no run with id 'missing'/);
  });

  it('setStatus stamps started/finished times and keeps the reason', () => {
    t = tempStore({ now });
    t.store.createRun({ id: 'a', name: 'a', config: smallConfig() });
    clock = 100;
    expect(t.store.setStatus('a', 'running')).toMatchObject({ status: 'running', startedAt: 100, finishedAt: null, error: null });
    clock = 200;
    expect(t.store.setStatus('a', 'paused')).toMatchObject({ status: 'paused', startedAt: 100, finishedAt: null });
    clock = 300;
    expect(t.store.setStatus('a', 'running')).toMatchObject({ startedAt: 100 }); // first start is kept
    clock = 400;
    expect(t.store.setStatus('a', 'failed', 'out of memory')).toMatchObject({ status: 'failed', finishedAt: 400, error: 'out of memory' });
    clock = 500;
    // Resuming clears the finish time and the old reason.
    expect(t.store.setStatus('a', 'running')).toMatchObject({ status: 'running', finishedAt: null, error: null });
    expect(() => t.store.setStatus('a', 'exploded' as never)).toThrow(/unknown run status 'exploded'/);
    expect(() => t.store.setStatus('zzz', 'done')).toThrow(/no run with id/);
  });

  it('listRuns: newest first, with last loss, throughput and the best NLL over evaluations and full VLB snapshots', () => {
    t = tempStore({ now });
    clock = 1;
    t.store.createRun({ id: 'old', name: 'old', config: smallConfig() });
    clock = 2;
    t.store.createRun({ id: 'new', name: 'new', config: smallConfig() });
    t.store.appendStepMetrics('old', rows(1, 50));
    t.store.addVlbSnapshot('old', { step: 10, timesteps: [0, 1], termsBpd: [1, 2], mse: [0, 0], priorBpd: 0.1, totalBpd: 3.1, weights: 'ema', emaRate: 0.9999, images: 4 });
    t.store.addVlbSnapshot('old', { step: 20, timesteps: [0], termsBpd: [1], mse: [0], priorBpd: 0.1, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 4 });
    t.store.addEvaluation({ runId: 'old', bpd: 2.5, status: 'done' });
    t.store.addEvaluation({ runId: 'old', bpd: 1.0, status: 'failed' }); // not a result: ignored

    const list = t.store.listRuns();
    expect(list.map((r) => r.id)).toEqual(['new', 'old']);
    const old = list[1];
    expect(old.step).toBe(50);
    expect(old.lastLoss).toBeCloseTo(rows(50, 50)[0].loss, 12);
    expect(old.lastStepAt).toBe(rows(50, 50)[0].time);
    expect(old.samplesPerSec).toBe(rows(50, 50)[0].samplesPerSec);
    expect(old.bestBpd).toBe(2.5);
    expect(list[0]).toMatchObject({ lastLoss: null, bestBpd: null, samplesPerSec: null });
    t.store.addEvaluation({ runId: 'old', bpd: 3.5 });
    t.store.addVlbSnapshot('old', { step: 30, timesteps: [0], termsBpd: [1], mse: [0], priorBpd: 0.1, totalBpd: 2.25, weights: 'ema', emaRate: null, images: 4 });
    expect(t.store.getRunSummary('old')?.bestBpd).toBe(2.25);
    expect(t.store.listRuns({ status: 'queued' }).length).toBe(2);
    expect(t.store.listRuns({ status: ['done', 'failed'] }).length).toBe(0);
  });

  it('deleteRun cascades to every table that belongs to the run and spares other runs', () => {
    t = tempStore({ now });
    const s = t.store;
    for (const id of ['doomed', 'other']) {
      s.createRun({ id, name: id, config: smallConfig() });
      s.appendStepMetrics(id, rows(1, 20));
      s.addVlbSnapshot(id, { step: 10, timesteps: [0], termsBpd: [1], mse: [1], priorBpd: 0, totalBpd: null, weights: 'raw', emaRate: null, images: 1 });
      s.addGns(id, { step: 10, bSimple: 1, bSimpleRaw: 1, gradSq: 1, traceSigma: 1, bSmall: 4, bBig: 16 });
      s.addSamplerWeights(id, 10, [0.5, 0.5]);
      const cp = s.addCheckpoint(id, { step: 10, path: `/x/${id}.safetensors`, bytes: 10, emaRates: [0.9999] });
      const job = s.createJob({ kind: 'sample', runId: id, checkpointId: cp.id, settings: {} });
      s.addSampleSet({ runId: id, checkpointId: cp.id, jobId: job.id, sampler: 'ddim', steps: 10, seed: 1, count: 2, images: ['a.png', 'b.png'] });
      s.addPreview(id, { step: 10, gridPath: 'p.png', count: 4, samplingSteps: 25, emaRate: 0.9999, seed: 4 });
      s.addEvaluation({ runId: id, checkpointId: cp.id, jobId: job.id, bpd: 1 });
    }
    s.createRun({ id: 'child', name: 'copy', config: smallConfig(), parentId: 'doomed' });
    const tables = ['step_metrics', 'vlb_snapshots', 'gns_points', 'sampler_weights', 'checkpoints', 'jobs', 'sample_sets', 'evaluations'];
    for (const table of tables) expect(countFor(s, table, 'doomed'), table).toBeGreaterThan(0);
    const imagesOf = () => s.db.prepare('SELECT count(*) FROM sample_images').pluck().get() as number;
    expect(imagesOf()).toBe(4);

    expect(s.deleteRun('doomed')).toBe(true);
    expect(s.getRun('doomed')).toBeNull();
    for (const table of tables) {
      expect(countFor(s, table, 'doomed'), table).toBe(0);
      expect(countFor(s, table, 'other'), table).toBeGreaterThan(0);
    }
    expect(imagesOf()).toBe(2); // the images of the doomed run's sample set went with it
    expect(s.getRun('child')?.parentId).toBeNull(); // a duplicate outlives its parent
    expect(s.deleteRun('doomed')).toBe(false);
  });

  it('markInterruptedOnStartup: running and queued-with-worker runs become interrupted, running jobs fail', () => {
    t = tempStore({ now });
    const s = t.store;
    const mk = (id: string, status: 'queued' | 'running' | 'paused' | 'done', pid: number | null) => {
      s.createRun({ id, name: id, config: smallConfig() });
      s.setStatus(id, status);
      if (pid !== null) s.updateRun(id, { workerPid: pid });
    };
    mk('running', 'running', 123);
    mk('running-nopid', 'running', null);
    mk('queued-worker', 'queued', 456);
    mk('queued', 'queued', null);
    mk('paused', 'paused', 789);
    mk('done', 'done', null);
    const jobRunning = s.createJob({ kind: 'eval', runId: 'done', settings: { images: 64 } });
    s.updateJob(jobRunning.id, { status: 'running', progress: 0.5 });
    const jobQueued = s.createJob({ kind: 'sample', settings: {} });
    clock = 9999;

    const recovered = s.markInterruptedOnStartup();
    expect(recovered.runs).toEqual(['queued-worker', 'running', 'running-nopid']);
    expect(recovered.jobs).toEqual([jobRunning.id]);
    for (const id of recovered.runs) {
      expect(s.getRun(id)).toMatchObject({ status: 'interrupted', error: INTERRUPTED_REASON, finishedAt: 9999, workerPid: null });
    }
    expect(s.getRun('queued')?.status).toBe('queued');
    expect(s.getRun('paused')).toMatchObject({ status: 'paused', workerPid: null });
    expect(s.getRun('done')?.status).toBe('done');
    expect(s.getJob(jobRunning.id)).toMatchObject({ status: 'failed', error: JOB_INTERRUPTED_REASON, finishedAt: 9999, progress: 0.5 });
    expect(s.getJob(jobQueued.id)?.status).toBe('queued');
    // Idempotent: a second call finds nothing.
    expect(s.markInterruptedOnStartup()).toEqual({ runs: [], jobs: [] });
  });
});
