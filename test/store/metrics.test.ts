import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricsWriter } from '../../src-main/store';
import { countFor, metricRow, rows, smallConfig, tempStore, type TempStore } from './helpers';

let t: TempStore;
afterEach(() => {
  vi.useRealTimers();
  t?.cleanup();
});

function setup(): TempStore {
  t = tempStore();
  t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
  return t;
}

describe('step metrics', () => {
  it('a batch round-trips every column, quartiles and nulls included, and advances run.step', () => {
    const { store } = setup();
    const batch = rows(1, 10);
    store.appendStepMetrics('r', batch);
    expect(store.getRun('r')?.step).toBe(10);
    const raw = store.db.prepare('SELECT * FROM step_metrics WHERE run_id = ? AND step = 3').get('r') as Record<string, number | null>;
    const r = batch[2];
    expect(raw).toMatchObject({
      step: 3,
      time: r.time,
      loss: r.loss,
      mse: r.mse,
      vb: r.vb,
      grad_norm: r.gradNorm,
      lr: r.lr,
      samples_per_sec: r.samplesPerSec,
      step_ms: 80,
      loss_q0: r.lossQ![0],
      loss_q3: null,
      mse_q2: r.mseQ![2],
      vb_q1: 0.2,
    });
    const loss = store.readSeriesRaw('r', 'loss');
    expect(loss.step).toEqual(batch.map((x) => x.step));
    expect(loss.value).toEqual(batch.map((x) => x.loss));
    expect(loss.min).toEqual(loss.value);
    expect(loss.time).toEqual(batch.map((x) => x.time));
    // A quartile that is null at every step reads back as an empty series, not as zeros.
    expect(store.readSeriesRaw('r', 'lossQ3').step).toEqual([]);
  });

  it('non-finite values are stored as NULL, and unknown metrics are refused', () => {
    const { store } = setup();
    store.appendStepMetrics('r', [{ ...metricRow(1), loss: Number.NaN, gradNorm: Number.POSITIVE_INFINITY }, metricRow(2)]);
    expect(store.readSeriesRaw('r', 'loss').step).toEqual([2]);
    expect(store.readSeriesRaw('r', 'gradNorm').step).toEqual([2]);
    expect(() => store.readSeries('r', 'loss; DROP TABLE runs' as never, { points: 10 })).toThrow(/unknown metric/);
    expect(() => store.appendStepMetrics('r', [{ ...metricRow(1), step: 1.5 }])).toThrow(/whole number/);
  });

  it('re-writing a step replaces it (INSERT OR REPLACE on run, step)', () => {
    const { store } = setup();
    store.appendStepMetrics('r', rows(1, 5));
    store.appendStepMetrics('r', [{ ...metricRow(3), loss: 42 }]);
    const s = store.readSeriesRaw('r', 'loss');
    expect(s.step).toEqual([1, 2, 3, 4, 5]);
    expect(s.value[2]).toBe(42);
  });

  it('truncateAfter forgets everything after the resume step, then re-trained steps fill in cleanly', () => {
    const { store } = setup();
    store.appendStepMetrics('r', rows(1, 100));
    for (const step of [50, 100]) {
      store.addVlbSnapshot('r', { step, timesteps: [0], termsBpd: [step], mse: [0], priorBpd: 0, totalBpd: null, weights: 'ema', emaRate: 0.9999, images: 1 });
      store.addGns('r', { step, bSimple: step, bSimpleRaw: step, gradSq: 1, traceSigma: 1, bSmall: 4, bBig: 16 });
      store.addSamplerWeights('r', step, [1]);
      store.addPreview('r', { step, gridPath: `p${step}.png`, count: 4, samplingSteps: 25, emaRate: 0.9999, seed: 1 });
      store.addCheckpoint('r', { step, path: `c${step}`, bytes: 1, emaRates: [] });
    }
    // Resume from the checkpoint at step 50.
    const counts = store.truncateAfter('r', 50);
    expect(counts).toEqual({ stepMetrics: 50, vlbSnapshots: 1, gns: 1, samplerWeights: 1, previews: 1, checkpoints: 0 });
    expect(store.getRun('r')?.step).toBe(50);
    expect(store.readSeriesRaw('r', 'loss').step.at(-1)).toBe(50);
    expect(store.listVlbSteps('r')).toEqual([50]);
    expect(store.readGns('r').step).toEqual([50]);
    expect(store.listSamplerWeightSteps('r')).toEqual([50]);
    expect(store.listPreviews('r').map((p) => p.step)).toEqual([50]);
    expect(store.listCheckpoints('r').map((c) => c.step)).toEqual([50, 100]); // files still valid: kept unless asked
    expect(store.truncateAfter('r', 50, { checkpoints: true }).checkpoints).toBe(1);
    expect(store.listCheckpoints('r').map((c) => c.step)).toEqual([50]);

    // The re-trained trajectory (different values) continues from 51 without leftovers.
    store.appendStepMetrics('r', rows(51, 80).map((x) => ({ ...x, loss: -x.step })));
    const s = store.readSeriesRaw('r', 'loss');
    expect(s.step).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(s.value.slice(50)).toEqual(Array.from({ length: 30 }, (_, i) => -(51 + i)));
    expect(store.getRun('r')?.step).toBe(80);
  });
});

describe('MetricsWriter', () => {
  it('flushes every maxRows rows, one transaction per batch', () => {
    const { store } = setup();
    const w = store.metricsWriter('r', { maxRows: 100, maxDelayMs: 0 });
    for (const row of rows(1, 250)) w.add(row);
    expect(w.flushes).toBe(2);
    expect(w.pending).toBe(50);
    expect(countFor(store, 'step_metrics', 'r')).toBe(200);
    expect(store.getRun('r')?.step).toBe(200);
    w.close();
    expect(countFor(store, 'step_metrics', 'r')).toBe(250);
    expect(w.flushes).toBe(3);
    expect(w.written).toBe(250);
    expect(() => w.add(metricRow(251))).toThrow(/closed/);
    w.close(); // twice is fine
  });

  it('flushes a partial batch after maxDelayMs', async () => {
    vi.useFakeTimers();
    const { store } = setup();
    const w = store.metricsWriter('r', { maxRows: 100, maxDelayMs: 1000 });
    for (const row of rows(1, 7)) w.add(row);
    expect(countFor(store, 'step_metrics', 'r')).toBe(0);
    await vi.advanceTimersByTimeAsync(999);
    expect(countFor(store, 'step_metrics', 'r')).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(countFor(store, 'step_metrics', 'r')).toBe(7);
    // The delay counts from the oldest buffered row, not the newest.
    w.add(metricRow(8));
    await vi.advanceTimersByTimeAsync(600);
    w.add(metricRow(9));
    await vi.advanceTimersByTimeAsync(400);
    expect(countFor(store, 'step_metrics', 'r')).toBe(9);
    w.close();
  });

  it('a failed batch is dropped and reported; the writer keeps working', async () => {
    vi.useFakeTimers();
    const errors: Error[] = [];
    let fail = true;
    const written: number[] = [];
    const w = new MetricsWriter(
      (batch) => {
        if (fail) throw new Error('database or disk is full');
        written.push(...batch.map((r) => r.step));
      },
      { maxRows: 3, maxDelayMs: 100, onError: (e) => errors.push(e) },
    );
    w.add(metricRow(1));
    w.add(metricRow(2));
    expect(() => w.add(metricRow(3))).toThrow(/disk is full/); // count-triggered flush throws to the caller
    w.add(metricRow(4));
    await vi.advanceTimersByTimeAsync(100); // timer-triggered flush reports through onError
    expect(errors.map((e) => e.message)).toEqual(['database or disk is full']);
    expect(w.pending).toBe(0);
    fail = false;
    w.add(metricRow(5));
    w.close();
    expect(written).toEqual([5]);
  });
});
