/**
 * Per-t VLB term snapshots (paper Figure 2): one vector over the evaluated timesteps per training step,
 * stored as blobs. Listing reads only the steps (cheap: no blobs), the chart loads one snapshot at a time.
 */
import { decodeF32, decodeI32, encodeF32, encodeI32 } from './blobs';
import { numOrNull, type Clock, type Db } from './sql';
import type { NewVlbSnapshot, VlbSnapshot } from './types';

interface VlbRow {
  run_id: string;
  step: number;
  timesteps: Buffer;
  terms: Buffer;
  mse: Buffer;
  prior_bpd: number;
  total_bpd: number | null;
  weights: string;
  ema_rate: number | null;
  images: number;
  created_at: number;
}

function toSnapshot(r: VlbRow): VlbSnapshot {
  return {
    runId: r.run_id,
    step: r.step,
    timesteps: decodeI32(r.timesteps),
    termsBpd: decodeF32(r.terms),
    mse: decodeF32(r.mse),
    priorBpd: r.prior_bpd,
    totalBpd: r.total_bpd,
    weights: r.weights === 'raw' ? 'raw' : 'ema',
    emaRate: r.ema_rate,
    images: r.images,
    createdAt: r.created_at,
  };
}

export class VlbSnapshotsTable {
  private readonly upsert;
  private readonly steps;
  private readonly one;
  private readonly latest;
  private readonly truncate;

  constructor(
    db: Db,
    private readonly now: Clock,
  ) {
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO vlb_snapshots (run_id, step, timesteps, terms, mse, prior_bpd, total_bpd, weights, ema_rate, images, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.steps = db.prepare<[string], number>('SELECT step FROM vlb_snapshots WHERE run_id = ? ORDER BY step').pluck();
    this.one = db.prepare<[string, number], VlbRow>('SELECT * FROM vlb_snapshots WHERE run_id = ? AND step = ?');
    this.latest = db.prepare<[string], VlbRow>('SELECT * FROM vlb_snapshots WHERE run_id = ? ORDER BY step DESC LIMIT 1');
    this.truncate = db.prepare('DELETE FROM vlb_snapshots WHERE run_id = ? AND step > ?');
  }

  add(runId: string, s: NewVlbSnapshot): void {
    const n = s.timesteps.length;
    if (s.termsBpd.length !== n || s.mse.length !== n) {
      throw new Error(`VLB snapshot at step ${s.step}: ${n} timesteps but ${s.termsBpd.length} terms and ${s.mse.length} mse values`);
    }
    this.upsert.run(
      runId,
      s.step,
      encodeI32(s.timesteps),
      encodeF32(s.termsBpd),
      encodeF32(s.mse),
      s.priorBpd,
      numOrNull(s.totalBpd),
      s.weights,
      numOrNull(s.emaRate),
      s.images,
      s.createdAt ?? this.now(),
    );
  }

  listSteps(runId: string): number[] {
    return this.steps.all(runId);
  }

  get(runId: string, step: number): VlbSnapshot | null {
    const r = this.one.get(runId, step);
    return r ? toSnapshot(r) : null;
  }

  getLatest(runId: string): VlbSnapshot | null {
    const r = this.latest.get(runId);
    return r ? toSnapshot(r) : null;
  }

  truncateAfter(runId: string, step: number): number {
    return this.truncate.run(runId, step).changes;
  }
}
