import { afterEach, describe, expect, it } from 'vitest';
import type { MetricName, Series, StepMetricRow } from '../../src-main/store';
import { metricRow, rows, smallConfig, tempStore, type TempStore } from './helpers';

let t: TempStore;
afterEach(() => t?.cleanup());

const FIELD: Partial<Record<MetricName, (r: StepMetricRow) => number | null>> = {
  loss: (r) => r.loss,
  vb: (r) => r.vb,
  gradNorm: (r) => r.gradNorm,
  lossQ0: (r) => r.lossQ?.[0] ?? null,
};

/** The downsampling contract, computed in JS: bucket = ⌊(step − lo)·points / (hi − lo + 1)⌋. */
function expected(all: StepMetricRow[], metric: MetricName, points: number, from = -Infinity, to = Infinity): Series {
  const pick = FIELD[metric]!;
  const inRange = all.filter((r) => r.step >= from && r.step <= to).sort((a, b) => a.step - b.step);
  const out: Series = { step: [], value: [], min: [], max: [], time: [] };
  if (!inRange.length) return out;
  const lo = inRange[0].step;
  const span = inRange.at(-1)!.step - lo + 1;
  const buckets = new Map<number, StepMetricRow[]>();
  for (const r of inRange) {
    const b = span <= points ? r.step : Math.floor(((r.step - lo) * points) / span);
    const list = buckets.get(b);
    if (list) list.push(r);
    else buckets.set(b, [r]);
  }
  for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
    const rs = buckets.get(b)!;
    const vs = rs.map(pick).filter((v): v is number => v !== null);
    if (!vs.length) continue;
    out.step.push(Math.max(...rs.map((r) => r.step)));
    out.time.push(Math.max(...rs.map((r) => r.time)));
    out.value.push(vs.reduce((a, v) => a + v, 0) / vs.length);
    out.min.push(Math.min(...vs));
    out.max.push(Math.max(...vs));
  }
  return out;
}

function expectSeriesClose(got: Series, want: Series): void {
  expect(got.step).toEqual(want.step);
  expect(got.time).toEqual(want.time);
  expect(got.min).toEqual(want.min);
  expect(got.max).toEqual(want.max);
  expect(got.value.length).toBe(want.value.length);
  got.value.forEach((v, i) => expect(v).toBeCloseTo(want.value[i], 12));
}

describe('readSeries: downsampling in SQL', () => {
  it('returns ≤ N points whose mean/min/max/last step match a JS computation of the same buckets', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    const all = rows(1, 10_007);
    for (let i = 0; i < all.length; i += 100) t.store.appendStepMetrics('r', all.slice(i, i + 100));
    for (const points of [1, 7, 100, 999, 2000]) {
      const s = t.store.readSeries('r', 'loss', { points });
      expect(s.step.length).toBeLessThanOrEqual(points);
      expect(s.step.length).toBe(Math.min(points, 10_007)); // no gaps: every bucket is filled
      expectSeriesClose(s, expected(all, 'loss', points));
    }
    // The envelope really is an envelope of the raw values.
    const s = t.store.readSeries('r', 'gradNorm', { points: 50 });
    expect(Math.min(...s.min)).toBe(1);
    expect(Math.max(...s.max)).toBe(1.4);
    expect(s.step.at(-1)).toBe(10_007);
  });

  it('honours a step range, gaps in the steps and metrics that are null', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    // Steps 1..3000 and 7001..9000 (a gap, e.g. a run resumed after a lost stretch), vb null in the first part.
    const all = [...rows(1, 3000, { simple: true }), ...rows(7001, 9000)];
    t.store.appendStepMetrics('r', all);
    for (const metric of ['loss', 'vb', 'lossQ0'] as const) {
      expectSeriesClose(t.store.readSeries('r', metric, { points: 300 }), expected(all, metric, 300));
      expectSeriesClose(t.store.readSeries('r', metric, { points: 64, fromStep: 2500, toStep: 7500 }), expected(all, metric, 64, 2500, 7500));
    }
    const vb = t.store.readSeries('r', 'vb', { points: 300 });
    expect(vb.step[0]).toBeGreaterThan(7000);
    const loss = t.store.readSeries('r', 'loss', { points: 300 });
    expect(loss.step.length).toBeLessThan(300); // the gap's buckets are empty, not zero-filled
  });

  it('a range with no more steps than N returns the raw rows', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    const all = rows(10, 60);
    t.store.appendStepMetrics('r', all);
    const s = t.store.readSeries('r', 'loss', { points: 2000 });
    expect(s.step).toEqual(all.map((r) => r.step));
    expect(s.value).toEqual(all.map((r) => r.loss));
    expect(s.min).toEqual(s.value);
    expect(t.store.readSeries('r', 'loss', { points: 10, fromStep: 1000 })).toEqual({ step: [], value: [], min: [], max: [], time: [] });
    expect(t.store.readSeries('nobody', 'loss', { points: 10 }).step).toEqual([]);
    expect(() => t.store.readSeries('r', 'loss', { points: 0 })).toThrow(/points must be ≥ 1/);
  });

  it('readSeriesMany gives each metric exactly what readSeries gives it, from one scan', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    t.store.appendStepMetrics('r', rows(1, 5000));
    const many = t.store.readSeriesMany('r', ['loss', 'vb', 'gradNorm', 'lossQ3'], { points: 333 });
    for (const m of ['loss', 'vb', 'gradNorm', 'lossQ3'] as const) expect(many[m]).toEqual(t.store.readSeries('r', m, { points: 333 }));
    expect(many.lossQ3.step).toEqual([]);
  });

  it('series of one run ignore the rows of another', () => {
    t = tempStore();
    for (const id of ['a', 'b']) t.store.createRun({ id, name: id, config: smallConfig() });
    t.store.appendStepMetrics('a', rows(1, 1000));
    t.store.appendStepMetrics('b', rows(1, 4000).map((r) => ({ ...r, loss: 99 })));
    const a = t.store.readSeries('a', 'loss', { points: 100 });
    expectSeriesClose(a, expected(rows(1, 1000), 'loss', 100));
    expect(t.store.readSeries('b', 'loss', { points: 100 }).value.every((v) => v === 99)).toBe(true);
  });

  it('readSeriesRaw: a step window, capped by limit', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    t.store.appendStepMetrics('r', rows(1, 500));
    const s = t.store.readSeriesRaw('r', 'mse', { fromStep: 100, toStep: 199 });
    expect(s.step).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    expect(s.value[0]).toBe(metricRow(100).mse);
    expect(t.store.readSeriesRaw('r', 'mse', { limit: 7 }).step).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
