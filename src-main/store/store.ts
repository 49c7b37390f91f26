/**
 * The studio's database: one Store per process over `<data>/studio.db`. It is the single source of truth
 * (ARCHITECTURE.md): runs, their metrics and snapshots, checkpoints, samples, evaluations and jobs. The UI
 * backfills every view from here; live events only append.
 *
 * The Store is a thin facade over one module per table (runs.ts, stepMetrics.ts, …): it owns the
 * connection, the transactions that span tables, and the mapping of storage failures to StoreError.
 * All calls are synchronous (better-sqlite3): each is a few µs to a few ms, cheaper than an async hop.
 */
import type Database from 'better-sqlite3';
import { CheckpointsTable } from './checkpoints';
import { openConnection } from './connection';
import { toStoreError } from './errors';
import { EvaluationsTable } from './evaluations';
import { GnsTable } from './gns';
import { JobsTable } from './jobs';
import { QualityResultsTable } from './qualityResults';
import { MetricsWriter, type MetricsWriterOptions } from './metricsWriter';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations';
import { RunsTable } from './runs';
import { SamplerWeightsTable } from './samplerWeights';
import { SamplesTable } from './samples';
import { StoredPaths } from './storedPaths';
import type { Clock } from './sql';
import { StepMetricsTable } from './stepMetrics';
import { StudiesTable } from './studies';
import {
  DETAIL_METRICS,
  type CheckpointRecord,
  type EvaluationPatch,
  type EvaluationRecord,
  type GnsPoint,
  type GnsSeries,
  type JobFilter,
  type JobPatch,
  type JobRecord,
  type MetricName,
  type NewCheckpoint,
  type NewEvaluation,
  type NewJob,
  type NewPreview,
  type NewQualityResult,
  type QualityResultRecord,
  type NewRun,
  type NewSampleSet,
  type NewVlbSnapshot,
  type RawSeriesOptions,
  type RunDetail,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type RunSummary,
  type SampleImage,
  type SampleSetFilter,
  type SampleSetRecord,
  type SampleSetStatus,
  type SamplerWeightsSnapshot,
  type Series,
  type SeriesOptions,
  type StartupRecovery,
  type StepMetricRow,
  type TruncateCounts,
  type VlbSnapshot,
} from './types';
import { VlbSnapshotsTable } from './vlbSnapshots';

/**
 * `table` with every method wrapped so a throw goes through `map` (action "read" for getters/listers,
 * "write to" otherwise). A Proxy keeps the table's exact type without restating each signature.
 */
function guardMethods<T extends object>(table: T, map: (e: unknown, action: string) => Error): T {
  return new Proxy(table, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const action = /^(get|list|read|summary|find|stepRange)/.test(String(prop)) ? 'read' : 'write to';
      return (...args: unknown[]) => {
        try {
          return value.apply(target, args);
        } catch (e) {
          throw map(e, action);
        }
      };
    },
  });
}

export interface StoreOptions {
  /** Clock for every stored timestamp (ms epoch); tests pin it. */
  now?: Clock;
  /** ms to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
  /** The schema history (tests only). */
  migrations?: readonly Migration[];
}

/** Opens (creating if needed) the database file and brings its schema up to date. */
export function openStore(file: string, opts: StoreOptions = {}): Store {
  return Store.open(file, opts);
}

export class Store {
  /*
   * The table modules, for callers that prefer `store.runs.get(id)` to `store.getRun(id)`. Each is
   * wrapped so its storage failures become StoreErrors like the Store's own methods; the flat methods
   * below add what spans tables (transactions, run.step bookkeeping) and are the documented API.
   */
  readonly runs: RunsTable;
  readonly metrics: StepMetricsTable;
  readonly vlb: VlbSnapshotsTable;
  readonly gns: GnsTable;
  readonly samplerWeights: SamplerWeightsTable;
  readonly checkpoints: CheckpointsTable;
  readonly samples: SamplesTable;
  readonly evaluations: EvaluationsTable;
  readonly jobs: JobsTable;
  readonly quality: QualityResultsTable;
  /** Studies: sets of runs with a report (studies.ts); used through `store.studies.*`. */
  readonly studies: StudiesTable;
  private readonly appendTx: (runId: string, rows: readonly StepMetricRow[]) => void;

  private constructor(
    /** The underlying connection, for diagnostics and tests; prefer the methods. */
    readonly db: Database.Database,
    readonly file: string,
    now: Clock,
  ) {
    const g = <T extends object>(table: T): T => guardMethods(table, (e, action) => toStoreError(e, file, action));
    // Paths are kept relative to the folder of studio.db, so a copied data folder points at its own files.
    const paths = StoredPaths.forDatabase(file);
    this.runs = g(new RunsTable(db, now, paths));
    this.metrics = g(new StepMetricsTable(db));
    this.vlb = g(new VlbSnapshotsTable(db, now));
    this.gns = g(new GnsTable(db));
    this.samplerWeights = g(new SamplerWeightsTable(db));
    this.checkpoints = g(new CheckpointsTable(db, now, paths));
    this.samples = g(new SamplesTable(db, now, paths));
    this.evaluations = g(new EvaluationsTable(db, now));
    this.jobs = g(new JobsTable(db, now));
    this.quality = g(new QualityResultsTable(db, now));
    this.studies = g(new StudiesTable(db, now));
    // The batch and the run's step counter commit together: the Runs view never shows a step whose
    // metrics are not there yet.
    this.appendTx = db.transaction((runId: string, rows: readonly StepMetricRow[]) => {
      const last = this.metrics.append(runId, rows);
      if (last !== null) this.runs.setStep(runId, last);
    });
  }

  static open(file: string, opts: StoreOptions = {}): Store {
    const db = openConnection(file, { busyTimeoutMs: opts.busyTimeoutMs });
    try {
      migrate(db, file, opts.migrations ?? MIGRATIONS);
      return new Store(db, file, opts.now ?? Date.now);
    } catch (e) {
      db.close();
      throw toStoreError(e, file, 'update');
    }
  }

  /** Runs `fn`, turning storage failures (disk full, read-only, corrupt) into StoreErrors naming the file. */
  private guard<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e, this.file, action);
    }
  }

  private tx<T>(fn: () => T): T {
    return this.guard('write to', () => this.db.transaction(fn)());
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('optimize'); // refreshes planner statistics where they went stale; cheap
    } catch {
      // best effort: a read-only or full disk must not make closing fail
    }
    this.db.close();
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  get journalMode(): string {
    return this.db.pragma('journal_mode', { simple: true }) as string;
  }

  // ── runs ──────────────────────────────────────────────────────────────────────────────────────────

  createRun(run: NewRun): RunRecord {
    return this.guard('write to', () => this.runs.create(run));
  }

  getRun(id: string): RunRecord | null {
    return this.guard('read', () => this.runs.get(id));
  }

  /** One run with its last loss, throughput and best NLL. */
  getRunSummary(id: string): RunSummary | null {
    return this.guard('read', () => this.runs.summary(id));
  }

  /** Every run, newest first, with its last loss, throughput and best NLL. */
  listRuns(filter: { status?: RunStatus | RunStatus[] } = {}): RunSummary[] {
    return this.guard('read', () => this.runs.list(filter));
  }

  updateRun(id: string, patch: RunPatch): RunRecord {
    return this.guard('write to', () => this.runs.update(id, patch));
  }

  /** Moves a run to `status`; `reason` is stored as its error text (cleared when omitted). */
  setStatus(id: string, status: RunStatus, reason?: string | null): RunRecord {
    return this.guard('write to', () => this.runs.setStatus(id, status, reason));
  }

  /** Deletes a run and everything stored for it (metrics, snapshots, checkpoints, samples, jobs). */
  deleteRun(id: string): boolean {
    return this.tx(() => this.runs.delete(id));
  }

  /**
   * Call once when the studio starts, before any worker: runs left 'running' (or queued with a worker)
   * become 'interrupted', jobs left 'running' become 'failed'.
   */
  markInterruptedOnStartup(opts: { isWorkerAlive?: (pid: number, runId: string) => boolean } = {}): StartupRecovery {
    return this.tx(() => {
      const { interrupted, stillRunning } = this.runs.markInterrupted(opts.isWorkerAlive);
      // Jobs carry no worker pid: while another studio process is alive its jobs may be running, so they
      // are only failed when no other process is training.
      return { runs: interrupted, jobs: stillRunning.length ? [] : this.jobs.markInterrupted() };
    });
  }

  // ── step metrics ──────────────────────────────────────────────────────────────────────────────────

  /** Writes a batch of rows in one transaction (replacing steps already stored) and advances run.step. */
  appendStepMetrics(runId: string, rows: readonly StepMetricRow[]): void {
    if (rows.length === 0) return;
    this.guard('write to', () => this.appendTx(runId, rows));
  }

  /** A buffered writer for one run's rows (see MetricsWriter); close it when the run ends. */
  metricsWriter(runId: string, opts?: MetricsWriterOptions): MetricsWriter {
    return new MetricsWriter((rows) => this.appendStepMetrics(runId, rows), opts);
  }

  /**
   * Forgets everything a run recorded after `step`: call it before resuming from a checkpoint older than
   * the run's last step, so the re-trained steps do not interleave with the abandoned ones (metrics,
   * VLB/GNS/sampler snapshots, previews). Checkpoint rows after `step` are kept unless asked: their files
   * are still valid snapshots of the abandoned trajectory until overwritten. Sets run.step to `step`.
   */
  truncateAfter(runId: string, step: number, opts: { checkpoints?: boolean } = {}): TruncateCounts {
    return this.tx(() => {
      const counts: TruncateCounts = {
        stepMetrics: this.metrics.truncateAfter(runId, step),
        vlbSnapshots: this.vlb.truncateAfter(runId, step),
        gns: this.gns.truncateAfter(runId, step),
        samplerWeights: this.samplerWeights.truncateAfter(runId, step),
        previews: this.samples.truncatePreviewsAfter(runId, step),
        checkpoints: opts.checkpoints ? this.checkpoints.truncateAfter(runId, step) : 0,
      };
      this.runs.setStep(runId, step);
      return counts;
    });
  }

  /** One metric downsampled in SQL to at most `points` buckets of steps (mean, min, max, last step). */
  readSeries(runId: string, metric: MetricName, opts: SeriesOptions): Series {
    return this.guard('read', () => this.metrics.read(runId, metric, opts));
  }

  /** Several metrics over the same buckets in one scan. */
  readSeriesMany<M extends MetricName>(runId: string, metrics: readonly M[], opts: SeriesOptions): Record<M, Series> {
    return this.guard('read', () => this.metrics.readMany(runId, metrics, opts));
  }

  /** Every stored row of one metric in a step range (for zoomed-in views; capped by `limit`). */
  readSeriesRaw(runId: string, metric: MetricName, opts?: RawSeriesOptions): Series {
    return this.guard('read', () => this.metrics.readRaw(runId, metric, opts));
  }

  // ── VLB snapshots, GNS, sampler weights ──────────────────────────────────────────────────────────

  addVlbSnapshot(runId: string, snapshot: NewVlbSnapshot): void {
    this.guard('write to', () => this.vlb.add(runId, snapshot));
  }

  listVlbSteps(runId: string): number[] {
    return this.guard('read', () => this.vlb.listSteps(runId));
  }

  getVlbSnapshot(runId: string, step: number): VlbSnapshot | null {
    return this.guard('read', () => this.vlb.get(runId, step));
  }

  getLatestVlbSnapshot(runId: string): VlbSnapshot | null {
    return this.guard('read', () => this.vlb.getLatest(runId));
  }

  addGns(runId: string, point: GnsPoint): void {
    this.guard('write to', () => this.gns.add(runId, point));
  }

  readGns(runId: string, opts?: { fromStep?: number; toStep?: number }): GnsSeries {
    return this.guard('read', () => this.gns.read(runId, opts));
  }

  addSamplerWeights(runId: string, step: number, weights: ArrayLike<number>): void {
    this.guard('write to', () => this.samplerWeights.add(runId, step, weights));
  }

  listSamplerWeightSteps(runId: string): number[] {
    return this.guard('read', () => this.samplerWeights.listSteps(runId));
  }

  getSamplerWeights(runId: string, step: number): SamplerWeightsSnapshot | null {
    return this.guard('read', () => this.samplerWeights.get(runId, step));
  }

  getLatestSamplerWeights(runId: string): SamplerWeightsSnapshot | null {
    return this.guard('read', () => this.samplerWeights.getLatest(runId));
  }

  // ── checkpoints ───────────────────────────────────────────────────────────────────────────────────

  /** Records a checkpoint file; saving the same (run, step) again updates it and keeps its id. */
  addCheckpoint(runId: string, checkpoint: NewCheckpoint): CheckpointRecord {
    return this.guard('write to', () => this.checkpoints.add(runId, checkpoint));
  }

  listCheckpoints(runId: string): CheckpointRecord[] {
    return this.guard('read', () => this.checkpoints.list(runId));
  }

  getCheckpoint(id: number): CheckpointRecord | null {
    return this.guard('read', () => this.checkpoints.get(id));
  }

  findCheckpointByPath(path: string): CheckpointRecord | null {
    return this.guard('read', () => this.checkpoints.findByPath(path));
  }

  deleteCheckpoint(id: number): boolean {
    return this.guard('write to', () => this.checkpoints.delete(id));
  }

  // ── samples and previews ──────────────────────────────────────────────────────────────────────────

  /** Adds a sample set with its images (one transaction); returns its id. */
  addSampleSet(set: NewSampleSet): number {
    return this.tx(() => this.samples.add(set));
  }

  addSampleImages(setId: number, paths: readonly string[], firstIdx = 0): void {
    this.tx(() => this.samples.addImages(setId, paths, firstIdx));
  }

  setSampleSetStatus(setId: number, status: SampleSetStatus, gridPath?: string | null): void {
    this.guard('write to', () => this.samples.setStatus(setId, status, gridPath));
  }

  /** Records a preview grid drawn during training (one per run and step; redrawing replaces it). */
  addPreview(runId: string, preview: NewPreview): number {
    return this.guard('write to', () => this.samples.addPreview(runId, preview));
  }

  getSampleSet(id: number): (SampleSetRecord & { images: SampleImage[] }) | null {
    return this.guard('read', () => this.samples.get(id));
  }

  listSampleSets(filter?: SampleSetFilter): SampleSetRecord[] {
    return this.guard('read', () => this.samples.list(filter));
  }

  listPreviews(runId: string): SampleSetRecord[] {
    return this.guard('read', () => this.samples.listPreviews(runId));
  }

  deleteSampleSet(id: number): boolean {
    return this.guard('write to', () => this.samples.delete(id));
  }

  // ── evaluations ───────────────────────────────────────────────────────────────────────────────────

  addEvaluation(evaluation: NewEvaluation): number {
    return this.tx(() => this.evaluations.add(evaluation));
  }

  updateEvaluation(id: number, patch: EvaluationPatch): void {
    this.guard('write to', () => this.evaluations.update(id, patch));
  }

  getEvaluation(id: number): EvaluationRecord | null {
    return this.guard('read', () => this.evaluations.get(id));
  }

  listEvaluations(runId: string): EvaluationRecord[] {
    return this.guard('read', () => this.evaluations.list(runId));
  }

  // ── sample-quality results ───────────────────────────────────────────────────────────────────────

  addQualityResult(result: NewQualityResult): number {
    return this.guard('write to', () => this.quality.add(result));
  }

  getQualityResult(id: number): QualityResultRecord | null {
    return this.guard('read', () => this.quality.get(id));
  }

  /** A run's sample-quality results, oldest first. */
  listQualityResults(runId: string): QualityResultRecord[] {
    return this.guard('read', () => this.quality.list(runId));
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────────────

  createJob(job: NewJob): JobRecord {
    return this.guard('write to', () => this.jobs.create(job));
  }

  getJob(id: number): JobRecord | null {
    return this.guard('read', () => this.jobs.get(id));
  }

  listJobs(filter?: JobFilter): JobRecord[] {
    return this.guard('read', () => this.jobs.list(filter));
  }

  updateJob(id: number, patch: JobPatch): JobRecord {
    return this.guard('write to', () => this.jobs.update(id, patch));
  }

  deleteJob(id: number): boolean {
    return this.guard('write to', () => this.jobs.delete(id));
  }

  // ── run detail ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Everything the run detail view draws, in one call and from one consistent snapshot (a read
   * transaction: a writer committing meanwhile is not half-seen). Step series are downsampled to
   * `points` in a single scan. Null when the run does not exist.
   */
  runDetail(runId: string, points: number): RunDetail | null {
    return this.guard('read', () =>
      this.db.transaction((): RunDetail | null => {
        const run = this.runs.summary(runId);
        if (!run) return null;
        return {
          run,
          series: this.metrics.readMany(runId, DETAIL_METRICS, { points }),
          vlbSteps: this.vlb.listSteps(runId),
          vlbLatest: this.vlb.getLatest(runId),
          gns: this.gns.read(runId),
          samplerWeights: this.samplerWeights.getLatest(runId),
          checkpoints: this.checkpoints.list(runId),
          previews: this.samples.listPreviews(runId),
          evaluations: this.evaluations.list(runId),
        };
      })(),
    );
  }
}
