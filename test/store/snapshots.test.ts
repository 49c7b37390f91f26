import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeF32, decodeI32, encodeF32, encodeI32 } from '../../src-main/store/blobs';
import { rows, smallConfig, tempStore, type TempStore } from './helpers';

let t: TempStore;
let clock = 0;
const now = () => ++clock;
afterEach(() => t?.cleanup());

function setup(): TempStore {
  t = tempStore({ now });
  t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
  return t;
}

const f32 = (xs: number[]) => xs.map((x) => Math.fround(x));

describe('blobs', () => {
  it('float32 and int32 little-endian round-trip, non-finite values included', () => {
    const values = [0, -0.5, 1 / 3, 1e-30, 3.4e38, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const blob = encodeF32(values);
    expect(blob.length).toBe(32);
    expect(blob.readFloatLE(4)).toBe(-0.5); // explicitly little-endian
    expect(decodeF32(blob)).toEqual(f32(values));
    const ints = [0, 1, 999, 3999, -1, 2 ** 31 - 1];
    expect(encodeI32(ints).readInt32LE(8)).toBe(999);
    expect(decodeI32(encodeI32(ints))).toEqual(ints);
    expect(decodeF32(null)).toEqual([]);
    // A view into a larger buffer (what SQLite hands back can be a slice) decodes from its own offset.
    const big = Buffer.concat([Buffer.alloc(3), encodeF32([1.5, 2.5])]);
    expect(decodeF32(big.subarray(3))).toEqual([1.5, 2.5]);
  });
});

describe('VLB snapshots', () => {
  it('store the per-t vector with its t grid; list steps, read one, read the latest', () => {
    const { store } = setup();
    const T = 1000;
    const timesteps = Array.from({ length: 50 }, (_, i) => Math.round((i * (T - 1)) / 49));
    const termsBpd = timesteps.map((x) => 1 / (1 + x) + 0.001);
    const mse = timesteps.map((x) => x / T);
    store.addVlbSnapshot('r', { step: 200, timesteps, termsBpd, mse, priorBpd: 1e-5, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 16 });
    store.addVlbSnapshot('r', { step: 100, timesteps, termsBpd: termsBpd.map((x) => 2 * x), mse, priorBpd: 2e-5, totalBpd: 5.5, weights: 'raw', emaRate: null, images: 16 });
    expect(store.listVlbSteps('r')).toEqual([100, 200]);
    const latest = store.getLatestVlbSnapshot('r')!;
    expect(latest).toMatchObject({ runId: 'r', step: 200, priorBpd: 1e-5, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 16 });
    expect(latest.timesteps).toEqual(timesteps);
    expect(latest.termsBpd).toEqual(f32(termsBpd));
    expect(latest.mse).toEqual(f32(mse));
    expect(store.getVlbSnapshot('r', 100)).toMatchObject({ step: 100, totalBpd: 5.5, weights: 'raw', emaRate: null });
    expect(store.getVlbSnapshot('r', 150)).toBeNull();
    // The same step again replaces it.
    store.addVlbSnapshot('r', { step: 200, timesteps: [0], termsBpd: [9], mse: [0], priorBpd: 0, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 1 });
    expect(store.getLatestVlbSnapshot('r')!.termsBpd).toEqual([9]);
    expect(() => store.addVlbSnapshot('r', { step: 1, timesteps: [0, 1], termsBpd: [1], mse: [1, 2], priorBpd: 0, totalBpd: null, weights: 'ema', emaRate: null, images: 1 })).toThrow(
      /2 timesteps but 1 terms/,
    );
  });
});

describe('GNS and sampler weights', () => {
  it('GNS points read back as columns in step order; non-finite estimates become NaN', () => {
    const { store } = setup();
    store.addGns('r', { step: 20, bSimple: 120.5, bSimpleRaw: 80, gradSq: 0.01, traceSigma: 1.2, bSmall: 8, bBig: 32 });
    store.addGns('r', { step: 10, bSimple: Number.NaN, bSimpleRaw: -3, gradSq: 0, traceSigma: 1, bSmall: 8, bBig: 32 });
    const g = store.readGns('r');
    expect(g.step).toEqual([10, 20]);
    expect(g.bSimple[0]).toBeNaN();
    expect(g.bSimple[1]).toBe(120.5);
    expect(g.bSimpleRaw).toEqual([-3, 80]);
    expect(g).toMatchObject({ gradSq: [0, 0.01], traceSigma: [1, 1.2], bSmall: [8, 8], bBig: [32, 32] });
    expect(store.readGns('r', { fromStep: 15 }).step).toEqual([20]);
  });

  it('sampler weight snapshots round-trip as float32 vectors', () => {
    const { store } = setup();
    const w = Array.from({ length: 4000 }, (_, i) => (i + 1) / 8_002_000);
    store.addSamplerWeights('r', 50, w);
    store.addSamplerWeights('r', 100, w.map((x) => x * 2));
    expect(store.listSamplerWeightSteps('r')).toEqual([50, 100]);
    expect(store.getSamplerWeights('r', 50)).toEqual({ step: 50, weights: f32(w) });
    expect(store.getLatestSamplerWeights('r')!.step).toBe(100);
    expect(store.getLatestSamplerWeights('r')!.weights[3999]).toBe(Math.fround(w[3999] * 2));
    expect(store.getLatestSamplerWeights('other')).toBeNull();
  });
});

describe('checkpoints, sample sets, previews', () => {
  it('a checkpoint saved again at the same step keeps its id (sample sets point to it)', () => {
    const { store } = setup();
    const a = store.addCheckpoint('r', { step: 1000, path: '/d/runs/r/checkpoints/step-00001000.safetensors', bytes: 1234, emaRates: [0.9999, 0.999] });
    expect(a).toMatchObject({ runId: 'r', step: 1000, bytes: 1234, emaRates: [0.9999, 0.999] });
    const setId = store.addSampleSet({ runId: 'r', checkpointId: a.id, sampler: 'ancestral', steps: 50, seed: 0, count: 1 });
    const again = store.addCheckpoint('r', { step: 1000, path: a.path, bytes: 4321, emaRates: [0.9999] });
    expect(again.id).toBe(a.id);
    expect(again.bytes).toBe(4321);
    expect(store.getSampleSet(setId)!.checkpointId).toBe(a.id);
    store.addCheckpoint('r', { step: 500, path: 'early', bytes: 1, emaRates: [] });
    expect(store.listCheckpoints('r').map((c) => c.step)).toEqual([500, 1000]);
    expect(store.findCheckpointByPath(a.path)?.id).toBe(a.id);
    // Deleting a checkpoint keeps the images it drew, now without a checkpoint.
    expect(store.deleteCheckpoint(a.id)).toBe(true);
    expect(store.getSampleSet(setId)!.checkpointId).toBeNull();
  });

  it('sample sets keep their settings and images in order; the gallery filters them', () => {
    const { store } = setup();
    const cp = store.addCheckpoint('r', { step: 10, path: 'c', bytes: 1, emaRates: [0.9999] });
    const settings = { checkpoint: '/abs/c', weights: 'ema 0.9999', sampler: 'ddim', steps: 50, eta: 0, seed: 7, clipDenoised: true };
    const id = store.addSampleSet({
      runId: 'r',
      checkpointId: cp.id,
      step: 10,
      settings,
      sampler: 'ddim',
      steps: 50,
      eta: 0,
      seed: 7,
      count: 3,
      emaRate: 0.9999,
      gridPath: '/s/grid.png',
      images: ['/s/0.png', '/s/1.png', '/s/2.png'],
    });
    store.addSampleSet({ sampler: 'ancestral', steps: 100, seed: 1, count: 1, status: 'running' }); // no run: a CLI sample
    const set = store.getSampleSet(id)!;
    expect(set).toMatchObject({ kind: 'sample', runId: 'r', checkpointId: cp.id, step: 10, settings, sampler: 'ddim', steps: 50, eta: 0, seed: 7, count: 3, emaRate: 0.9999, gridPath: '/s/grid.png', status: 'done' });
    expect(set.images).toEqual([
      { idx: 0, path: '/s/0.png' },
      { idx: 1, path: '/s/1.png' },
      { idx: 2, path: '/s/2.png' },
    ]);
    store.addSampleImages(id, ['/s/3.png'], 3);
    expect(store.getSampleSet(id)!.images.length).toBe(4);
    expect(store.listSampleSets().length).toBe(2);
    expect(store.listSampleSets({ runId: 'r' }).map((s) => s.id)).toEqual([id]);
    expect(store.listSampleSets({ sampler: 'ancestral' }).length).toBe(1);
    expect(store.listSampleSets({ checkpointId: cp.id, sampler: 'ancestral' }).length).toBe(0);
    const pending = store.listSampleSets({ sampler: 'ancestral' })[0];
    store.setSampleSetStatus(pending.id, 'done', '/g.png');
    expect(store.getSampleSet(pending.id)).toMatchObject({ status: 'done', gridPath: '/g.png' });
    expect(store.deleteSampleSet(id)).toBe(true);
    expect(store.db.prepare('SELECT count(*) FROM sample_images WHERE set_id = ?').pluck().get(id)).toBe(0);
  });

  it('previews are sample sets of kind preview, one per step (a redraw replaces it)', () => {
    const { store } = setup();
    const p1 = store.addPreview('r', { step: 500, gridPath: 'previews/step-00000500.png', count: 16, samplingSteps: 25, emaRate: 0.9999, seed: 4 });
    store.addPreview('r', { step: 1000, gridPath: 'previews/step-00001000.png', count: 16, samplingSteps: 25, emaRate: 0.9999, seed: 4 });
    const p1again = store.addPreview('r', { step: 500, gridPath: 'previews/step-00000500-b.png', count: 16, samplingSteps: 50, emaRate: 0.9999, seed: 4 });
    expect(p1again).toBe(p1);
    const previews = store.listPreviews('r');
    // A relative path is relative to the data folder, and reads back absolute.
    expect(previews.map((p) => [p.step, p.gridPath, p.steps])).toEqual([
      [500, join(t.dir, 'previews/step-00000500-b.png'), 50],
      [1000, join(t.dir, 'previews/step-00001000.png'), 25],
    ]);
    expect(previews[0]).toMatchObject({ kind: 'preview', sampler: 'ancestral', count: 16, seed: 4, status: 'done', emaRate: 0.9999 });
    expect(store.listSampleSets({ kind: 'preview' }).length).toBe(2);
    expect(store.listSampleSets({ kind: 'sample' }).length).toBe(0);
  });
});

describe('evaluations and jobs', () => {
  it('an evaluation created running and completed later round-trips its per-t vectors', () => {
    const { store } = setup();
    const cp = store.addCheckpoint('r', { step: 100, path: 'c', bytes: 1, emaRates: [] });
    const job = store.createJob({ kind: 'eval', runId: 'r', checkpointId: cp.id, settings: { images: 64 } });
    const id = store.addEvaluation({ runId: 'r', checkpointId: cp.id, jobId: job.id, step: 100, emaRate: 0.9999, status: 'running' });
    expect(store.getEvaluation(id)).toMatchObject({ status: 'running', bpd: null, timesteps: [], termsBpd: [] });
    const T = 100;
    const timesteps = Array.from({ length: T }, (_, i) => i);
    store.updateEvaluation(id, {
      status: 'done',
      bpd: 3.75,
      priorBpd: 1e-5,
      images: 64,
      timesteps,
      termsBpd: timesteps.map((x) => 0.1 / (x + 1)),
      mse: timesteps.map((x) => x / T),
      xstartMse: timesteps.map((x) => (x / T) ** 2),
    });
    const e = store.getEvaluation(id)!;
    expect(e).toMatchObject({ runId: 'r', checkpointId: cp.id, jobId: job.id, step: 100, emaRate: 0.9999, status: 'done', bpd: 3.75, priorBpd: 1e-5, images: 64, error: null });
    expect(e.timesteps).toEqual(timesteps);
    expect(e.termsBpd).toEqual(f32(timesteps.map((x) => 0.1 / (x + 1))));
    expect(e.xstartMse).toEqual(f32(timesteps.map((x) => (x / T) ** 2)));
    expect(store.listEvaluations('r').map((x) => x.id)).toEqual([id]);
    expect(() => store.updateEvaluation(id, { bogus: 1 } as never)).toThrow(/unknown field 'bogus'/);
  });

  it('a job moves queued → running → done with timestamps, progress and a JSON result', () => {
    const { store } = setup();
    const job = store.createJob({ kind: 'sample', runId: 'r', settings: { sampler: 'ddim', steps: 50 } });
    expect(job).toMatchObject({ kind: 'sample', runId: 'r', status: 'queued', progress: 0, settings: { sampler: 'ddim', steps: 50 }, result: null, startedAt: null, finishedAt: null });
    const running = store.updateJob(job.id, { status: 'running' });
    expect(running.startedAt).not.toBeNull();
    expect(store.updateJob(job.id, { progress: 0.25 }).progress).toBe(0.25);
    expect(store.updateJob(job.id, { progress: 7 }).progress).toBe(1); // clamped
    const done = store.updateJob(job.id, { status: 'done', result: { sampleSetId: 3, grid: '/g.png' } });
    expect(done).toMatchObject({ status: 'done', progress: 1, result: { sampleSetId: 3, grid: '/g.png' }, startedAt: running.startedAt });
    expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt!);
    const other = store.createJob({ kind: 'eval', settings: {} });
    store.updateJob(other.id, { status: 'cancelled' });
    expect(store.listJobs({ status: ['queued', 'running'] })).toEqual([]);
    expect(store.listJobs({ kind: 'eval' }).map((j) => j.status)).toEqual(['cancelled']);
    expect(store.listJobs({ runId: 'r' }).map((j) => j.id)).toEqual([job.id]);
    expect(() => store.createJob({ kind: 'train' as never, settings: {} })).toThrow(/unknown job kind/);
    expect(() => store.updateJob(9999, { progress: 0 })).toThrow(/no job with id 9999/);
    expect(store.deleteJob(other.id)).toBe(true);
  });
});

describe('runDetail', () => {
  it('backfills the whole run detail view in one call', () => {
    const { store } = setup();
    const all = rows(1, 20_000);
    for (let i = 0; i < all.length; i += 500) store.appendStepMetrics('r', all.slice(i, i + 500));
    store.addVlbSnapshot('r', { step: 10_000, timesteps: [0, 500], termsBpd: [3, 0.01], mse: [0.5, 0.1], priorBpd: 0, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 8 });
    store.addVlbSnapshot('r', { step: 20_000, timesteps: [0, 500], termsBpd: [2, 0.01], mse: [0.4, 0.1], priorBpd: 0, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 8 });
    store.addGns('r', { step: 5000, bSimple: 100, bSimpleRaw: 90, gradSq: 1, traceSigma: 100, bSmall: 8, bBig: 32 });
    store.addSamplerWeights('r', 20_000, [0.25, 0.75]);
    store.addCheckpoint('r', { step: 20_000, path: 'c', bytes: 1, emaRates: [0.9999] });
    store.addPreview('r', { step: 20_000, gridPath: 'p.png', count: 16, samplingSteps: 25, emaRate: 0.9999, seed: 4 });
    store.addEvaluation({ runId: 'r', bpd: 4.2 });

    const d = store.runDetail('r', 500)!;
    expect(d.run).toMatchObject({ id: 'r', step: 20_000, bestBpd: 4.2 });
    expect(d.run.lastLoss).toBe(all.at(-1)!.loss);
    expect(Object.keys(d.series).sort()).toEqual(['gradNorm', 'loss', 'lossQ0', 'lossQ1', 'lossQ2', 'lossQ3', 'lr', 'mse', 'samplesPerSec', 'vb']);
    for (const s of Object.values(d.series)) expect(s.step.length).toBeLessThanOrEqual(500);
    expect(d.series.loss).toEqual(store.readSeries('r', 'loss', { points: 500 }));
    expect(d.series.loss.step.length).toBe(500);
    expect(d.vlbSteps).toEqual([10_000, 20_000]);
    expect(d.vlbLatest?.termsBpd).toEqual([2, Math.fround(0.01)]);
    expect(d.gns.step).toEqual([5000]);
    expect(d.samplerWeights).toEqual({ step: 20_000, weights: [0.25, 0.75] });
    expect(d.checkpoints.map((c) => c.step)).toEqual([20_000]);
    expect(d.previews.map((p) => p.gridPath)).toEqual([join(t.dir, 'p.png')]);
    expect(d.evaluations.map((e) => e.bpd)).toEqual([4.2]);
    expect(store.runDetail('missing', 100)).toBeNull();
  });

  it('a run with nothing recorded yet has empty series, not errors', () => {
    const { store } = setup();
    const d = store.runDetail('r', 2000)!;
    expect(d.series.loss.step).toEqual([]);
    expect(d.vlbLatest).toBeNull();
    expect(d.samplerWeights).toBeNull();
    expect(d.gns.step).toEqual([]);
  });
});
