/**
 * Reads what a study's report needs from its runs' stored data: loss curves, NLL per checkpoint, noise-scale
 * estimates, VLB terms, sampler weights. One place, so each report builder only decides what to compare.
 */
import type { XY } from '../../../src-shared/studies/verdicts';
import type { Store, StudyRecord } from '../../store';

export class StudyData {
  constructor(
    readonly store: Store,
    readonly study: StudyRecord,
  ) {}

  runId(key: string): string | null {
    return this.study.runs.find((r) => r.key === key)?.runId ?? null;
  }

  /** Whether the run still exists (a deleted run shows as missing in the report). */
  has(key: string): boolean {
    const id = this.runId(key);
    return id !== null && this.store.getRun(id) !== null;
  }

  config(key: string) {
    const id = this.runId(key);
    return id ? (this.store.getRun(id)?.config ?? null) : null;
  }

  /** The training loss averaged into at most `points` buckets of steps (for charts). */
  lossCurve(key: string, points = 400): XY {
    const id = this.runId(key);
    if (!id || !this.has(key)) return { x: [], y: [] };
    const s = this.store.readSeries(id, 'loss', { points });
    return { x: s.step, y: s.value };
  }

  /** Every stored loss value from `fromStep` on (for the noise measure). */
  lossValues(key: string, fromStep = 0): number[] {
    const id = this.runId(key);
    if (!id || !this.has(key)) return [];
    return this.store.readSeriesRaw(id, 'loss', { fromStep, limit: 1_000_000 }).value;
  }

  /** NLL (bits/dim, the full bound) of each evaluated checkpoint: the newest evaluation per step. */
  nll(key: string): XY {
    const id = this.runId(key);
    if (!id || !this.has(key)) return { x: [], y: [] };
    const byStep = new Map<number, number>();
    for (const e of this.store.listEvaluations(id).sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)) {
      if (e.status === 'done' && e.step !== null && e.bpd !== null) byStep.set(e.step, e.bpd);
    }
    const x = [...byStep.keys()].sort((a, b) => a - b);
    return { x, y: x.map((s) => byStep.get(s)!) };
  }

  /** The per-t terms of the newest NLL evaluation (all T), or of the newest training snapshot (strided t). */
  vlbTerms(key: string): { step: number; timesteps: number[]; termsBpd: number[]; full: boolean } | null {
    const id = this.runId(key);
    if (!id || !this.has(key)) return null;
    const evals = this.store
      .listEvaluations(id)
      .filter((e) => e.status === 'done' && e.step !== null && e.timesteps.length > 0)
      .sort((a, b) => (a.step! - b.step!) || a.createdAt - b.createdAt);
    const e = evals.at(-1);
    if (e) return { step: e.step!, timesteps: e.timesteps, termsBpd: e.termsBpd, full: true };
    const s = this.store.getLatestVlbSnapshot(id);
    return s ? { step: s.step, timesteps: s.timesteps, termsBpd: s.termsBpd, full: false } : null;
  }

  /** The smoothed gradient noise scale B_simple at each estimate. */
  gns(key: string): XY {
    const id = this.runId(key);
    if (!id || !this.has(key)) return { x: [], y: [] };
    const g = this.store.readGns(id);
    return { x: g.step, y: g.bSimple };
  }

  samplerWeights(key: string): { step: number; weights: number[] }[] {
    const id = this.runId(key);
    if (!id || !this.has(key)) return [];
    return this.store.listSamplerWeightSteps(id).map((step) => this.store.getSamplerWeights(id, step)!).filter(Boolean);
  }

  /** The step the run reached. */
  step(key: string): number {
    const id = this.runId(key);
    return id ? (this.store.getRun(id)?.step ?? 0) : 0;
  }
}

export function series(label: string, runKey: string | null, xy: XY) {
  return { label, runKey, x: [...xy.x], y: [...xy.y] };
}
