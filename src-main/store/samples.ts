/**
 * Sample sets (a grid plus its single images and the settings that drew them) for the gallery, and the
 * preview grids drawn during training, which are sample sets of kind 'preview' so one gallery query
 * can show both.
 */
import { fromJson, numOrNull, toJson, type Clock, type Db } from './sql';
import type { StoredPaths } from './storedPaths';
import type { NewPreview, NewSampleSet, SampleImage, SampleSetFilter, SampleSetRecord, SampleSetStatus, SamplerKind, SampleSetKind } from './types';

interface SampleSetRow {
  id: number;
  kind: string;
  run_id: string | null;
  checkpoint_id: number | null;
  job_id: number | null;
  step: number | null;
  created_at: number;
  settings: string;
  sampler: string;
  steps: number;
  eta: number | null;
  seed: number;
  count: number;
  ema_rate: number | null;
  grid_path: string | null;
  status: string;
}

function toRecord(r: SampleSetRow, paths: StoredPaths): SampleSetRecord {
  return {
    id: r.id,
    kind: r.kind as SampleSetKind,
    runId: r.run_id,
    checkpointId: r.checkpoint_id,
    jobId: r.job_id,
    step: r.step,
    createdAt: r.created_at,
    settings: fromJson<Record<string, unknown>>(r.settings, {}),
    sampler: r.sampler as SamplerKind,
    steps: r.steps,
    eta: r.eta,
    seed: r.seed,
    count: r.count,
    emaRate: r.ema_rate,
    gridPath: paths.fromStoredOrNull(r.grid_path),
    status: r.status as SampleSetStatus,
  };
}

export class SamplesTable {
  private readonly insertSet;
  private readonly upsertPreview;
  private readonly insertImage;
  private readonly byId;
  private readonly images;
  private readonly previews;
  private readonly remove;
  private readonly truncatePreviews;
  private readonly statusUpdate;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
    private readonly paths: StoredPaths,
  ) {
    this.insertSet = db.prepare<Record<string, unknown>, { id: number }>(
      `INSERT INTO sample_sets (kind, run_id, checkpoint_id, job_id, step, created_at, settings, sampler, steps, eta, seed, count, ema_rate, grid_path, status)
       VALUES (@kind, @runId, @checkpointId, @jobId, @step, @createdAt, @settings, @sampler, @steps, @eta, @seed, @count, @emaRate, @gridPath, @status)
       RETURNING id`,
    );
    // The conflict target repeats the partial index's WHERE so SQLite can match it.
    this.upsertPreview = db.prepare<Record<string, unknown>, { id: number }>(
      `INSERT INTO sample_sets (kind, run_id, step, created_at, settings, sampler, steps, eta, seed, count, ema_rate, grid_path, status)
       VALUES ('preview', @runId, @step, @createdAt, @settings, 'ancestral', @steps, NULL, @seed, @count, @emaRate, @gridPath, 'done')
       ON CONFLICT (run_id, step) WHERE kind = 'preview' DO UPDATE SET created_at = excluded.created_at, settings = excluded.settings,
         steps = excluded.steps, seed = excluded.seed, count = excluded.count, ema_rate = excluded.ema_rate, grid_path = excluded.grid_path
       RETURNING id`,
    );
    this.insertImage = db.prepare('INSERT OR REPLACE INTO sample_images (set_id, idx, path) VALUES (?, ?, ?)');
    this.byId = db.prepare<[number], SampleSetRow>('SELECT * FROM sample_sets WHERE id = ?');
    this.images = db.prepare<[number], SampleImage>('SELECT idx, path FROM sample_images WHERE set_id = ? ORDER BY idx');
    this.previews = db.prepare<[string], SampleSetRow>(`SELECT * FROM sample_sets WHERE run_id = ? AND kind = 'preview' ORDER BY step`);
    this.remove = db.prepare('DELETE FROM sample_sets WHERE id = ?');
    this.truncatePreviews = db.prepare(`DELETE FROM sample_sets WHERE run_id = ? AND kind = 'preview' AND step > ?`);
    this.statusUpdate = db.prepare('UPDATE sample_sets SET status = ?, grid_path = coalesce(?, grid_path) WHERE id = ?');
  }

  /** Adds a set and its images; the caller provides the transaction. Returns the new id. */
  add(s: NewSampleSet): number {
    const { id } = this.insertSet.get({
      kind: s.kind ?? 'sample',
      runId: s.runId ?? null,
      checkpointId: s.checkpointId ?? null,
      jobId: s.jobId ?? null,
      step: s.step ?? null,
      createdAt: s.createdAt ?? this.now(),
      settings: toJson(s.settings ?? {}),
      sampler: s.sampler,
      steps: s.steps,
      eta: numOrNull(s.eta),
      seed: s.seed,
      count: s.count,
      emaRate: numOrNull(s.emaRate),
      gridPath: this.paths.toStoredOrNull(s.gridPath),
      status: s.status ?? 'done',
    })!;
    s.images?.forEach((p, i) => this.insertImage.run(id, i, this.paths.toStored(p)));
    return id;
  }

  addImages(setId: number, paths: readonly string[], firstIdx = 0): void {
    paths.forEach((p, i) => this.insertImage.run(setId, firstIdx + i, this.paths.toStored(p)));
  }

  setStatus(setId: number, status: SampleSetStatus, gridPath?: string | null): void {
    this.statusUpdate.run(status, this.paths.toStoredOrNull(gridPath), setId);
  }

  addPreview(runId: string, p: NewPreview): number {
    const settings = { step: p.step, sampler: 'ancestral', steps: p.samplingSteps, seed: p.seed, emaRate: p.emaRate, count: p.count, ...(p.weightsWhy ? { weightsWhy: p.weightsWhy } : {}) };
    return this.upsertPreview.get({
      runId,
      step: p.step,
      createdAt: p.createdAt ?? this.now(),
      settings: toJson(settings),
      steps: p.samplingSteps,
      seed: p.seed,
      count: p.count,
      emaRate: numOrNull(p.emaRate),
      gridPath: this.paths.toStored(p.gridPath),
    })!.id;
  }

  get(id: number): (SampleSetRecord & { images: SampleImage[] }) | null {
    const r = this.byId.get(id);
    return r ? { ...toRecord(r, this.paths), images: this.images.all(id).map((im) => ({ idx: im.idx, path: this.paths.fromStored(im.path) })) } : null;
  }

  listPreviews(runId: string): SampleSetRecord[] {
    return this.previews.all(runId).map((r) => toRecord(r, this.paths));
  }

  /** Gallery listing, newest first, filtered by run / checkpoint / sampler / kind. */
  list(filter: SampleSetFilter = {}): SampleSetRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.runId !== undefined) (where.push('run_id = ?'), args.push(filter.runId));
    if (filter.checkpointId !== undefined) (where.push('checkpoint_id = ?'), args.push(filter.checkpointId));
    if (filter.sampler !== undefined) (where.push('sampler = ?'), args.push(filter.sampler));
    if (filter.kind !== undefined) (where.push('kind = ?'), args.push(filter.kind));
    const sql = `SELECT * FROM sample_sets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 1000) as SampleSetRow[]).map((r) => toRecord(r, this.paths));
  }

  delete(id: number): boolean {
    return this.remove.run(id).changes > 0;
  }

  truncatePreviewsAfter(runId: string, step: number): number {
    return this.truncatePreviews.run(runId, step).changes;
  }
}
