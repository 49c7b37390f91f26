/**
 * Importance-sampler weights over t (loss-second-moment sampler), one float32 vector per snapshot step.
 * Kept as a history so the view can scrub through training, though it usually shows the latest.
 */
import { decodeF32, encodeF32 } from './blobs';
import type { Db } from './sql';
import type { SamplerWeightsSnapshot } from './types';

export class SamplerWeightsTable {
  private readonly upsert;
  private readonly steps;
  private readonly one;
  private readonly latest;
  private readonly truncate;

  constructor(db: Db) {
    this.upsert = db.prepare('INSERT OR REPLACE INTO sampler_weights (run_id, step, weights) VALUES (?, ?, ?)');
    this.steps = db.prepare<[string], number>('SELECT step FROM sampler_weights WHERE run_id = ? ORDER BY step').pluck();
    this.one = db.prepare<[string, number], { step: number; weights: Buffer }>('SELECT step, weights FROM sampler_weights WHERE run_id = ? AND step = ?');
    this.latest = db.prepare<[string], { step: number; weights: Buffer }>('SELECT step, weights FROM sampler_weights WHERE run_id = ? ORDER BY step DESC LIMIT 1');
    this.truncate = db.prepare('DELETE FROM sampler_weights WHERE run_id = ? AND step > ?');
  }

  add(runId: string, step: number, weights: ArrayLike<number>): void {
    this.upsert.run(runId, step, encodeF32(weights));
  }

  listSteps(runId: string): number[] {
    return this.steps.all(runId);
  }

  get(runId: string, step: number): SamplerWeightsSnapshot | null {
    const r = this.one.get(runId, step);
    return r ? { step: r.step, weights: decodeF32(r.weights) } : null;
  }

  getLatest(runId: string): SamplerWeightsSnapshot | null {
    const r = this.latest.get(runId);
    return r ? { step: r.step, weights: decodeF32(r.weights) } : null;
  }

  truncateAfter(runId: string, step: number): number {
    return this.truncate.run(runId, step).changes;
  }
}
