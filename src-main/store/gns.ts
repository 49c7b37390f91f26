/** Gradient noise scale estimates over training (paper Figure 7): sparse (every gnsEvery steps), read whole. */
import type { Db } from './sql';
import type { GnsPoint, GnsSeries } from './types';

export class GnsTable {
  private readonly upsert;
  private readonly range;
  private readonly truncate;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO gns_points (run_id, step, b_simple, b_simple_raw, grad_sq, trace_sigma, b_small, b_big)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.range = db
      .prepare<[string, number, number], unknown[]>(
        `SELECT step, b_simple, b_simple_raw, grad_sq, trace_sigma, b_small, b_big FROM gns_points
         WHERE run_id = ? AND step >= ? AND step <= ? ORDER BY step`,
      )
      .raw(true);
    this.truncate = db.prepare('DELETE FROM gns_points WHERE run_id = ? AND step > ?');
  }

  add(runId: string, p: GnsPoint): void {
    // A non-finite estimate (e.g. B_simple when |G|² ≈ 0) is stored as NULL and read back as NaN.
    const f = (v: number) => (Number.isFinite(v) ? v : null);
    this.upsert.run(runId, p.step, f(p.bSimple), f(p.bSimpleRaw), f(p.gradSq), f(p.traceSigma), p.bSmall, p.bBig);
  }

  read(runId: string, opts: { fromStep?: number; toStep?: number } = {}): GnsSeries {
    const rows = this.range.all(runId, opts.fromStep ?? -1, opts.toStep ?? Number.MAX_SAFE_INTEGER) as (number | null)[][];
    const col = (i: number) => rows.map((r) => r[i] ?? Number.NaN);
    return { step: col(0), bSimple: col(1), bSimpleRaw: col(2), gradSq: col(3), traceSigma: col(4), bSmall: col(5), bBig: col(6) };
  }

  truncateAfter(runId: string, step: number): number {
    return this.truncate.run(runId, step).changes;
  }
}
