/**
 * Report builders on a real SQLite file filled with designed data: the verdicts follow the numbers (holds when
 * the data says so, does not hold when it is flipped), and the charts carry exactly the stored values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StudySummary } from '../../src-shared/protocol';
import { getStudyDefinition, planStudyRuns } from '../../src-shared/studies';
import { buildStudyReport } from '../../src-main/runs/studies/studyReport';
import type { QualityReader } from '../../src-main/runs/studies/studyQuality';
import type { Store, StudyRecord } from '../../src-main/store';
import { tempStore, type TempStore } from '../store/helpers';

let t: TempStore | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

/** A study record with its runs created (done, 300 steps) in the store. */
function makeStudy(store: Store, kind: 'importance-sampling' | 'noise-schedule' | 'sampling-steps'): StudyRecord {
  const plans = planStudyRuns(getStudyDefinition(kind), 'quick');
  const runs = plans.map((p) => ({ key: p.key, runId: `s-${p.key}` }));
  for (const p of plans) store.createRun({ id: `s-${p.key}`, name: p.label, config: p.config, status: 'done', runDir: `/tmp/none/${p.key}`, maxSteps: 300 });
  return store.studies.create({ id: 's', name: 'S', kind, size: 'quick', runs, status: 'done' });
}

function summaryOf(s: StudyRecord): StudySummary {
  const def = getStudyDefinition(s.kind as never);
  return {
    id: s.id, name: s.name, kind: def.kind, title: def.title, size: 'quick', status: 'done', phase: 'done', progress: 1, error: null, createdAt: 0, finishedAt: 0,
    runs: s.runs.map((r) => ({ key: r.key, label: r.key, runId: r.runId, status: 'done' as const, step: 300, maxSteps: 300 })),
  };
}

/** Loss rows: a decay with multiplicative noise of `sigma` (a fixed ±pattern, so the test never varies). */
function losses(store: Store, runId: string, sigma: number, level = 10): void {
  const rows = Array.from({ length: 300 }, (_, i) => {
    const step = i + 1;
    const loss = level * Math.exp(-step / 200) * Math.exp(sigma * Math.sin(step * 12.9898));
    return { step, time: step, loss, mse: loss, vb: loss, gradNorm: 1, lr: 1e-4, samplesPerSec: 10 };
  });
  store.appendStepMetrics(runId, rows);
}

function gns(store: Store, runId: string, level: number): void {
  for (let step = 10; step <= 300; step += 10) store.addGns(runId, { step, bSimple: level, bSimpleRaw: level, gradSq: 1, traceSigma: level, bSmall: 8, bBig: 16 });
}

function nll(store: Store, runId: string, byStep: Record<number, number>): void {
  for (const [step, bpd] of Object.entries(byStep)) store.addEvaluation({ runId, step: Number(step), status: 'done', bpd, priorBpd: 0, images: 16, timesteps: [0, 1], termsBpd: [bpd / 2, bpd / 2], mse: [0, 0] });
}

describe('importance-sampling report', () => {
  function fill(store: Store, smoothIs: boolean): StudyRecord {
    const s = makeStudy(store, 'importance-sampling');
    losses(store, 's-vlb-uniform', smoothIs ? 1.0 : 0.05);
    losses(store, 's-vlb-importance', smoothIs ? 0.05 : 1.0);
    losses(store, 's-hybrid', 0.2, 1);
    // The sampler is uniform at step 50 and importance-weighted from step 100 on.
    store.addSamplerWeights('s-vlb-importance', 50, [1, 1, 1, 1]);
    store.addSamplerWeights('s-vlb-importance', 100, [0.4, 0.3, 0.2, 0.1]);
    store.addSamplerWeights('s-vlb-importance', 300, [0.5, 0.3, 0.1, 0.1]);
    gns(store, 's-vlb-uniform', smoothIs ? 50 : 0.5);
    gns(store, 's-hybrid', 2);
    nll(store, 's-vlb-uniform', { 75: 6, 150: 5.5, 300: 5 });
    nll(store, 's-vlb-importance', smoothIs ? { 75: 6, 150: 5, 300: 4 } : { 75: 6, 150: 6, 300: 5.5 });
    return s;
  }

  it('holds each claim when the data shows it, with the numbers in the line', () => {
    t = tempStore();
    const s = fill(t.store, true);
    const r = buildStudyReport(t.store, s, summaryOf(s));
    expect(r.verdicts.map((v) => v.outcome)).toEqual(['holds', 'holds', 'holds']);
    expect(r.verdicts[0].line).toMatch(/^importance-sampled L_vlb loss less noisy than uniform L_vlb: noise 0\.0\d+ vs 1\.\d+ .*steps 150–300; importance sampling on by step 100/);
    // Only checkpoints after the sampler left uniform compare the samplers (150 and 300, not 75).
    expect(r.verdicts[1].line).toBe('importance-sampled L_vlb NLL below uniform L_vlb at 2 of 2 checkpoints after step 100 (last, at step 300: 4 vs 5 bits/dim)');
    expect(r.verdicts[2].line).toBe('uniform L_vlb gradient noise scale above L_hybrid at 30 of 30 estimates (last, at step 300: 50 vs 2); median B_simple 50 vs 2');
    const nllChart = r.charts.find((c) => c.id === 'nll')!;
    expect(nllChart.series[1]).toMatchObject({ runKey: 'vlb-importance', x: [75, 150, 300], y: [6, 5, 4] });
    expect(r.charts.find((c) => c.id === 'sampler-weights')!.series[0].y).toEqual([0.5, 0.3, 0.1, 0.1].map((v) => expect.closeTo(v, 6)));
  });

  it('does not hold them when the data is the other way round', () => {
    t = tempStore();
    const s = fill(t.store, false);
    const r = buildStudyReport(t.store, s, summaryOf(s));
    expect(r.verdicts.map((v) => v.outcome)).toEqual(['does not hold', 'does not hold', 'does not hold']);
    expect(r.verdicts[0].line).toMatch(/^importance-sampled L_vlb loss not less noisy than uniform L_vlb/);
    expect(r.verdicts[1].line).toContain('at 0 of 2 checkpoints after step 100');
  });
});

describe('noise-schedule report', () => {
  const quality = (fid: Record<string, number[]>): QualityReader => ({
    skipCurve: (k, metric) => (metric === 'fid' ? { x: [0, 0.2, 0.4], y: fid[k] } : { x: [], y: [] }),
    stepsCurve: () => ({ x: [], y: [] }),
    notes: () => ['quality note'],
  });

  it('judges NLL, the tail of the linear bound and skipping, from the stored terms and the quality results', () => {
    t = tempStore();
    const s = makeStudy(t.store, 'noise-schedule');
    // T = 200 (quick). Linear: the last 20% of t carry 2 of 100 parts of the bound; cosine: 30 of 100.
    const T = 200;
    const terms = (tail: number) => Array.from({ length: T }, (_, i) => (i >= 160 ? tail / 40 : (100 - tail) / 160));
    const timesteps = Array.from({ length: T }, (_, i) => i);
    t.store.addEvaluation({ runId: 's-linear', step: 300, status: 'done', bpd: 3, priorBpd: 0, images: 8, timesteps, termsBpd: terms(2), mse: timesteps.map(() => 0) });
    t.store.addEvaluation({ runId: 's-cosine', step: 300, status: 'done', bpd: 2.5, priorBpd: 0, images: 8, timesteps, termsBpd: terms(30), mse: timesteps.map(() => 0) });
    nll(t.store, 's-linear', { 150: 3.4 });
    nll(t.store, 's-cosine', { 150: 3.1 });
    const r = buildStudyReport(t.store, s, summaryOf(s), quality({ linear: [10, 10.5, 14], cosine: [9, 13, 20] }));
    const v = Object.fromEntries(r.verdicts.map((x) => [x.claimId, x]));
    expect(v['cosine-better-nll'].line).toBe('cosine NLL below linear at 2 of 2 evaluations (last, at step 300: 2.5 vs 3 bits/dim)');
    expect(v['cosine-better-nll'].outcome).toBe('holds');
    expect(v['linear-end-contributes-little'].outcome).toBe('holds');
    expect(v['linear-end-contributes-little'].line).toBe("the last 20% of t carry 2% of the linear run's bound (cosine: 30%), at step 300");
    expect(v['linear-skip-robust'].outcome).toBe('holds');
    expect(v['linear-skip-robust'].line).toBe("skipping the first 20% of the reverse process changes the linear run's FID by 0.5 (10 → 10.5), the cosine run's by 4 (9 → 13)");
    expect(r.notes).toContain('quality note');

    const worse = buildStudyReport(t.store, s, summaryOf(s), quality({ linear: [10, 18, 20], cosine: [9, 10, 11] }));
    expect(worse.verdicts.find((x) => x.claimId === 'linear-skip-robust')!.outcome).toBe('does not hold');
    const none = buildStudyReport(t.store, s, summaryOf(s));
    expect(none.verdicts.find((x) => x.claimId === 'linear-skip-robust')!.outcome).toBe('not enough data');
  });
});

describe('quality results of a study', () => {
  it('are read from the stored results of the jobs its evaluations queued (and only those)', () => {
    t = tempStore();
    const s = makeStudy(t.store, 'sampling-steps');
    const jobs = [0, 1, 2].map(() => t!.store.createJob({ kind: 'quality', runId: 's-hybrid-learned', settings: {} }).id);
    const evaluations = [10, 25].map((k, i) => ({
      key: `quality:hybrid-learned:K${k}`, kind: 'quality' as const, runKey: 'hybrid-learned', checkpointStep: 300,
      settings: { steps: k, skipFraction: 0, count: 64 }, jobId: jobs[i], status: 'done' as const,
    }));
    t.store.studies.update('s', { evaluations });
    const result = (jobId: number | null, steps: number, fid: number) =>
      t!.store.addQualityResult({ runId: 's-hybrid-learned', jobId, step: 300, sampler: 'ancestral', steps, count: 64, settings: {}, report: { fid, kid: { mean: fid / 1000, std: 0, subsetSize: 32, subsets: 10 }, caveat: 'FID on the studio classifier, not Inception.' }, classifier: { heldOutAccuracy: 0.98 } });
    result(jobs[0], 10, 42);
    result(jobs[1], 25, 30);
    result(jobs[2], 25, 1); // measured from the Evaluate view, not by the study
    const r = buildStudyReport(t.store, t.store.studies.get('s')!, summaryOf(s));
    const fid = r.charts.find((c) => c.id === 'fid-vs-steps')!;
    expect(fid.series.find((x) => x.runKey === 'hybrid-learned')).toMatchObject({ x: [10, 25], y: [42, 30] });
    expect(r.charts.find((c) => c.id === 'kid-vs-steps')!.series.find((x) => x.runKey === 'hybrid-learned')!.y).toEqual([0.042, 0.03]);
    expect(r.notes.join(' ')).toContain("FID on the studio classifier, not Inception. Each point: 64 generated images against the held-out split; the classifier's held-out accuracy is 98.0%.");
  });
});

describe('sampling-steps report', () => {
  it('compares learned and fixed Σ at K = 25 and 50 and the rise from T to 50 steps', () => {
    t = tempStore();
    const s = makeStudy(t.store, 'sampling-steps');
    const curves: Record<string, number[]> = { 'simple-fixed': [80, 60, 40, 30], 'hybrid-learned': [50, 35, 28, 26] };
    // quick: T = 100, so K = 100 is the full chain.
    const q: QualityReader = {
      skipCurve: () => ({ x: [], y: [] }),
      stepsCurve: (k, m) => (m === 'fid' ? { x: [10, 25, 50, 100], y: curves[k] } : { x: [], y: [] }),
      notes: () => [],
    };
    const r = buildStudyReport(t.store, s, summaryOf(s), q);
    expect(r.verdicts[0]).toMatchObject({ outcome: 'holds', line: 'learned-Σ FID below fixed-Σ at 2 of 2 of K = 25, 50 (K=25: 35 vs 60; K=50: 28 vs 40)' });
    expect(r.verdicts[1]).toMatchObject({ outcome: 'holds', line: 'going from 100 to 50 steps changes FID by 2 with learned Σ (26 → 28) and by 10 with fixed Σ (30 → 40)' });
    expect(r.tables[0].rows[0]).toEqual(['L_simple, fixed Σ (β)', 'FID', 80, 60, 40, 30]);
  });
});
