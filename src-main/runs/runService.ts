/**
 * The run service: one object behind all three faces (Electron, web, CLI). It owns the store, starts
 * each training run or sampling/evaluation job in its own worker process, queues work so that at most
 * one job uses the device at a time, turns worker messages into stored rows and live events, and turns
 * crashes into resumable `interrupted` runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { listPresets } from '../../src-shared/config/presets';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { validateRunConfig } from '../../src-shared/config/validate';
import { RUN_NAME_MAX_LENGTH, runIdProblem, runNameProblem } from '../../src-shared/runId';
import type * as P from '../../src-shared/protocol';
import { describeBackend } from '../engine/backend/selectBackend';
import { openStore, type MetricsWriter, type Store } from '../store';
import type { MetricName as StoreMetric } from '../store/types';
import { EventHub } from './eventHub';
import { recordEvaluation, recordSampleSet, recordTrainEvent, sampleSetZip, type Recorder } from './recordResults';
import { ensureDir, listCheckpoints as listCheckpointFiles, newRunId, removeRunFolder, runDir } from './runFiles';
import { pruneCheckpoints } from './checkpointRetention';
import { ApiFailure } from './apiFailure';
import { checkEvaluationSettings, checkSampleSettings } from './jobSettings';
import { storageFailureReason } from './storageFailure';
import { METRIC_TO_STORE, toCheckpoint, toEvaluation, toJob, toRunSummary, toSampleSet, toSeries, toVlb, UrlMapper } from './toProtocol';
import { describeWait, type DeviceHolder } from './queueWait';
import { datasetPathProblem } from './datasetPathCheck';
import { forkWorker, type WorkerFactory, type WorkerHandle } from './workerHost';
import { describeOwner, isProcessAlive, releaseWorkerLock, writeWorkerLock } from './workerLock';
import { markInterruptedIfWorkerGone, stopTrainingElsewhere, workerOfRun, workerOfRunAfterOrphanExit } from './trainingElsewhere';
import { removeStaleTempFiles } from './staleTempFiles';
import { describeDamage, findCheckpointDamage, setAsideDamaged, type CheckpointFile } from './checkpointDamage';
import { ReferenceInterop } from './referenceInterop';
import { StudyService } from './studies/studyService';
import type { FromWorker, JobRequest, QualityJobRequest } from './workerMessages';
import { QualityJobs } from './qualityService';
import { waitForJob } from './awaitJob';

export interface RunServiceOptions {
  dataDir: string;
  face: 'electron' | 'web' | 'cli';
  /** How workers start (Electron passes utilityProcess); default child_process.fork. */
  workerFactory?: WorkerFactory;
  /** Jobs running at once; 1 = one per device (the default). */
  maxConcurrent?: number;
  /** Prefix of file URLs handed to the renderer. */
  filePrefix?: string;
  version?: string;
  /** How quality jobs train a dataset's classifier on first use (tests pass a short one). */
  qualityClassifierTraining?: QualityJobRequest['classifierTraining'];
}

type Work = { kind: 'train'; runId: string } | { kind: 'job'; jobId: number };

interface Active {
  work: Work;
  worker: WorkerHandle;
  /** What the user asked for when stopping: decides the final status. */
  intent: 'pause' | 'stop' | 'cancel' | 'delete' | null;
  finished: boolean;
  resumeStep: number;
  /** Buffers the run's step metrics into the store (training only). */
  writer: MetricsWriter | null;
}

export async function createRunService(opts: RunServiceOptions): Promise<RunService> {
  ensureDir(opts.dataDir);
  const store = openStore(path.join(opts.dataDir, 'studio.db'));
  return new RunService(opts, store);
}

export class RunService implements P.StudioApi {
  private readonly hub = new EventHub(100, () => this.flushWriters());
  private readonly queue: Work[] = [];
  private readonly active = new Map<string, Active>();
  /**
   * Final statuses the store could not take (the disk was full when the run failed): shown as if stored,
   * and written as soon as the store accepts writes again.
   */
  private readonly unsaved = new Map<string, { status: P.RunStatus; reason: string | null }>();
  private readonly urls: UrlMapper;
  /** Where worker results are written and announced. */
  private readonly recorder: Recorder;
  private readonly workerFactory: WorkerFactory;
  private backendProbe: Promise<P.BackendAvailability[]> | null = null;
  private readonly maxConcurrent: number;
  /** Runs interrupted by the previous process, found at start-up. */
  readonly recovered: string[];
  private closed = false;

  constructor(
    private readonly opts: RunServiceOptions,
    readonly store: Store,
  ) {
    this.urls = new UrlMapper(opts.dataDir, opts.filePrefix ?? '/files/');
    this.recorder = { store, hub: this.hub, urls: this.urls };
    this.workerFactory = opts.workerFactory ?? forkWorker;
    this.maxConcurrent = opts.maxConcurrent ?? 1;
    // A run is still running only if its worker lock names a live process that started when the lock says.
    this.recovered = store.markInterruptedOnStartup({ isWorkerAlive: (pid, runId) => workerOfRun(opts.dataDir, { id: runId, workerPid: pid }).alive }).runs;
    for (const r of store.listRuns()) {
      removeStaleTempFiles(runDir(opts.dataDir, r.id), { trainingActive: r.status === 'running' });
    }
    this.quality = new QualityJobs({
      store,
      dataDir: opts.dataDir,
      requireRun: (id) => this.requireRun(id),
      pickCheckpoint: (id, cp) => this.pickCheckpoint(id, cp),
      enqueueJob: (jobId) => this.enqueueJob(jobId),
      ...(opts.qualityClassifierTraining ? { classifierTraining: opts.qualityClassifierTraining } : {}),
    });
    this.reference = new ReferenceInterop({ store, dataDir: opts.dataDir, hub: this.hub, urls: this.urls, emitRun: (id) => this.emitRun(id) });
    this.studies = new StudyService(store, opts.dataDir, {
      createRun: (r) => this.createRun(r),
      startRun: (id) => this.startRun(id),
      stopRun: (id) => this.stopRun(id),
      deleteRun: (id) => this.deleteRun(id),
      startEvaluation: (s) => this.startEvaluation(s),
      startQualityEvaluation: (s) => this.startQualityEvaluation(s),
      cancelJob: (id) => this.cancelJob(id),
      subscribe: (h) => this.subscribe(h),
      runSummary: (id) => this.summary(id),
      emit: (e) => this.hub.emit(e),
    });
  }

  // ---- studies: sets of ordinary runs with a report (studies/studyService.ts) ----------------------

  private readonly studies: StudyService;

  studyKinds(): Promise<P.StudyKindInfo[]> {
    return this.studies.studyKinds();
  }

  listStudies(): Promise<P.StudySummary[]> {
    return this.studies.listStudies();
  }

  createStudy(request: P.CreateStudyRequest): Promise<P.StudySummary> {
    return this.studies.createStudy(request);
  }

  studyReport(studyId: string): Promise<P.StudyReport> {
    return this.studies.studyReport(studyId);
  }

  stopStudy(studyId: string): Promise<P.StudySummary> {
    return this.studies.stopStudy(studyId);
  }

  resumeStudy(studyId: string): Promise<P.StudySummary> {
    return this.studies.resumeStudy(studyId);
  }

  exportStudy(studyId: string): Promise<P.StudyExport> {
    return this.studies.exportStudy(studyId);
  }

  deleteStudy(studyId: string, options?: P.DeleteStudyOptions): Promise<P.StudyDeleted> {
    return this.studies.deleteStudy(studyId, options);
  }

  /** The export folder as one zip (the web face's download). */
  exportStudyZip(studyId: string): Promise<Buffer> {
    return this.studies.exportStudyZip(studyId);
  }

  // ---- the reference code on a cluster: import, follow, export (referenceInterop.ts) ---------------

  private readonly reference: ReferenceInterop;

  importReferenceRun(request: P.ReferenceImportRequest): Promise<P.ReferenceImportReply> {
    return this.reference.importRun(request);
  }

  followReferenceRun(request: P.ReferenceFollowRequest): Promise<P.ReferenceFollowStatus> {
    return this.reference.follow(request);
  }

  stopFollowingReferenceRun(dir: string): Promise<P.ReferenceFollowStatus> {
    return this.reference.stop(dir);
  }

  listReferenceFollows(): Promise<P.ReferenceFollowStatus[]> {
    return this.reference.list();
  }

  exportForReference(request: P.ReferenceExportRequest): Promise<P.ReferenceExportReply> {
    return this.reference.exportRun(request);
  }

  // ---- sample-quality jobs (qualityService.ts) ------------------------------------------------------

  private readonly quality: QualityJobs;

  async startQualityEvaluation(settings: P.QualitySettings): Promise<P.JobSummary> {
    return this.quality.start(settings);
  }

  async startQualitySweep(settings: P.QualitySweepSettings): Promise<P.QualitySweep> {
    return this.quality.sweep(settings);
  }

  async listQualityResults(runId: string): Promise<P.QualityResult[]> {
    return this.quality.list(runId);
  }

  async qualityAvailability(runId: string): Promise<P.QualityAvailability> {
    return this.quality.availability(runId);
  }

  /** One stored quality result (a done quality job's `resultId`), or null. */
  qualityResult(id: number): P.QualityResult | null {
    return this.quality.get(id);
  }

  /** Resolves once the job (any kind) is done, failed or cancelled (awaitJob.ts). */
  waitForJob(jobId: number): Promise<P.JobSummary> {
    return waitForJob(this.store, this.hub, jobId);
  }

  // ---- events -------------------------------------------------------------------------------------

  subscribe(handler: (e: P.StudioEvent) => void): () => void {
    return this.hub.subscribe(handler);
  }

  // ---- queries ------------------------------------------------------------------------------------

  async systemInfo(): Promise<P.SystemInfo> {
    return {
      version: this.opts.version ?? readVersion(),
      dataDir: this.opts.dataDir,
      backend: 'chosen per run by the worker: tfjs-node-gpu → webgpu → tfjs-node → wasm → cpu (see each run)',
      face: this.opts.face === 'electron' ? 'electron' : 'web',
    };
  }

  /** Asked once per service (a worker process tries each backend), then answered from memory. */
  async backends(): Promise<P.BackendAvailability[]> {
    this.backendProbe ??= this.probeBackendsInWorker().catch((e: unknown) => {
      this.backendProbe = null; // let a later call try again
      throw e;
    });
    return this.backendProbe;
  }

  private probeBackendsInWorker(): Promise<P.BackendAvailability[]> {
    return new Promise((resolve, reject) => {
      const worker = this.workerFactory();
      let answered = false;
      worker.onMessage((msg) => {
        if (msg.type === 'ready') worker.send({ type: 'start', job: { kind: 'backends' } });
        else if (msg.type === 'done' && msg.result.backends) {
          answered = true;
          resolve(msg.result.backends);
        } else if (msg.type === 'error') {
          answered = true;
          reject(new Error(`the backend check failed: ${msg.message}`));
        }
      });
      worker.onExit((code, signal) => {
        if (!answered) reject(new Error(`the backend check's worker exited (${signal ?? `code ${code}`}) without an answer`));
      });
    });
  }

  async presets() {
    return listPresets();
  }

  async validateConfig(config: unknown) {
    return validateRunConfig(config);
  }

  async listRuns(): Promise<P.RunSummary[]> {
    return this.store.listRuns().map((r) => this.summary(r.id)!);
  }

  private summary(runId: string): P.RunSummary | null {
    let r = this.store.getRunSummary(runId);
    if (!r) return null;
    // A run another studio process was training, whose worker has died since (that process crashed):
    // record it as interrupted here, as the next start-up would.
    if (r.workerPid !== null && !this.active.has(trainKey(runId))) {
      try {
        if (markInterruptedIfWorkerGone(this.store, this.opts.dataDir, r)?.alive === false) r = this.store.getRunSummary(runId)!;
      } catch {
        // the store cannot be written (read-only folder): show the run as stored
      }
    }
    const cps = this.store.listCheckpoints(runId);
    const s = toRunSummary(r, cps.at(-1)?.step ?? null);
    const pending = this.unsaved.get(runId);
    return pending ? { ...s, status: pending.status, reason: pending.reason } : s;
  }

  private requireRun(runId: string): P.RunSummary {
    if (typeof runId !== 'string') throw new ApiFailure('bad-request', 'runId must be a string');
    const s = this.summary(runId);
    if (!s) throw new ApiFailure('not-found', `no run with id '${runId}'`);
    return s;
  }

  async runDetail(runId: string, points: number): Promise<P.RunDetail> {
    this.requireRun(runId);
    const d = this.store.runDetail(runId, clampPoints(points));
    if (!d) throw new ApiFailure('not-found', `no run with id '${runId}'`);
    const series: P.RunDetail['series'] = {};
    for (const [name, storeName] of Object.entries(METRIC_TO_STORE)) {
      const s = (d.series as Record<string, Parameters<typeof toSeries>[0]>)[storeName];
      if (s) series[name as P.MetricName] = toSeries(s);
    }
    return {
      run: this.summary(runId)!,
      series,
      vlbSteps: d.vlbSteps,
      latestVlb: d.vlbLatest ? toVlb(d.vlbLatest) : null,
      gns: d.gns.step.map((step, i) => ({ step, bSimple: d.gns.bSimple[i], bSimpleRaw: d.gns.bSimpleRaw[i] })),
      samplerWeights: d.samplerWeights,
      checkpoints: d.checkpoints.map((c) => toCheckpoint(c, d.run.config.training.emaWarmup === true)),
      previews: d.previews.map((p) => toSampleSet(p, this.store.getSampleSet(p.id)?.images ?? [], this.urls)),
      evaluations: d.evaluations.filter((e) => e.status === 'done').map(toEvaluation),
      // A running run writes its checkpoints whole; damage matters to a run that is about to resume.
      checkpointDamage: d.run.status === 'running' || d.run.status === 'queued' ? null : this.checkpointDamage(runId),
    };
  }

  async series(runId: string, metrics: P.MetricName[], points: number, fromStep?: number, toStep?: number) {
    this.requireRun(runId);
    const out: Partial<Record<P.MetricName, P.Series>> = {};
    for (const m of metrics) {
      const storeName = METRIC_TO_STORE[m];
      if (!storeName) throw new ApiFailure('bad-request', `unknown metric '${m}'`);
      out[m] = toSeries(this.store.readSeries(runId, storeName as StoreMetric, { points: clampPoints(points), fromStep, toStep }));
    }
    return out;
  }

  async vlbSnapshot(runId: string, step: number) {
    this.requireRun(runId);
    const s = this.store.getVlbSnapshot(runId, step);
    return s ? toVlb(s) : null;
  }

  async listJobs(): Promise<P.JobSummary[]> {
    return this.store.listJobs({ limit: 200 }).map((j) => this.jobSummary(j.id));
  }

  async listSampleSets(filter: { runId?: string; kind?: 'samples' | 'preview' }): Promise<P.SampleSet[]> {
    const kind = filter?.kind === 'samples' ? 'sample' : filter?.kind;
    return this.store
      .listSampleSets({ runId: filter?.runId, kind, limit: 500 })
      .map((s) => toSampleSet(s, this.store.getSampleSet(s.id)?.images ?? [], this.urls));
  }

  // ---- run lifecycle ------------------------------------------------------------------------------

  async createRun(request: { config: RunConfig; name?: string; preset?: string; start?: boolean; id?: string }): Promise<P.RunSummary> {
    if (!request || typeof request !== 'object') throw new ApiFailure('bad-request', 'createRun needs { config, name?, preset?, start? }');
    // A config copied from a run summary carries the preset it came from: that is the run's, not an option.
    const config = request.config && typeof request.config === 'object' ? stripPreset(request.config) : request.config;
    const problems = validateRunConfig(config, { requireDatasetPath: true });
    const pathProblem = problems.length ? null : await datasetPathProblem(config);
    if (pathProblem) problems.push(pathProblem);
    if (problems.length) {
      throw new ApiFailure('bad-request', `the run configuration has ${problems.length} problem(s): ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
        problems,
        field: problems[0].field,
      });
    }
    if (request.id !== undefined) {
      const problem = runIdProblem(request.id);
      if (problem) throw new ApiFailure('bad-request', `id ${problem}`, { field: 'id' });
      if (this.store.getRun(request.id)) throw new ApiFailure('conflict', `id '${request.id}' is taken by another run: choose another, or leave it out for a timestamp`, { field: 'id' });
    }
    if (request.name !== undefined) {
      const problem = runNameProblem(request.name);
      if (problem) throw new ApiFailure('bad-request', `name ${problem}`, { field: 'name' });
    }
    const id = request.id ?? newRunId(this.opts.dataDir, new Date(), (candidate) => this.store.getRun(candidate) !== null);
    const dir = runDir(this.opts.dataDir, id);
    const name = request.name?.trim() || (request.preset ? `${request.preset} ${id}` : `run ${id}`);
    this.store.createRun({
      id,
      name,
      config: { ...config, ...(request.preset ? { preset: request.preset } : {}) } as RunConfig,
      status: request.start ? 'queued' : 'stopped',
      runDir: dir,
      maxSteps: config.training.maxSteps ?? null,
    });
    if (request.start) this.enqueue({ kind: 'train', runId: id });
    const s = this.summary(id)!;
    this.hub.emit({ type: 'run', run: s });
    return s;
  }

  async startRun(runId: string, options: P.ResumeOptions = {}): Promise<P.RunSummary> {
    const run = this.requireRun(runId);
    // Ours and still training, or waiting: nothing to do. A worker that already reported its end (it is
    // only exiting) does not count: the run is resumable, and the queue waits for that worker to exit.
    const own = this.active.get(trainKey(runId));
    if ((own && !own.finished) || this.queue.some((w) => w.kind === 'train' && w.runId === runId)) return run;
    // A worker of ours that is still exiting (its run already ended, e.g. on a full disk) is not elsewhere.
    const elsewhere = own ? null : await workerOfRunAfterOrphanExit(this.opts.dataDir, this.store.getRun(runId)!);
    if (elsewhere?.alive) {
      if (!isProcessAlive(elsewhere.lock.ownerPid)) {
        throw new ApiFailure('conflict', `run '${runId}' still has the worker of a studio process that has ended (${describeOwner(elsewhere.lock)}); it did not exit within 30 s: stop it (iddpm stop ${runId}) and resume again`);
      }
      throw new ApiFailure('conflict', `run '${runId}' is being trained by another studio process (${describeOwner(elsewhere.lock)}): follow it there, or stop it first (iddpm stop ${runId})`);
    }
    // Running or queued in the database but owned by no live process: this process takes it over.
    if (run.status === 'done' && run.maxSteps !== null && run.step >= run.maxSteps) {
      throw new ApiFailure('conflict', `run '${runId}' already reached its last step ${run.maxSteps}; duplicate it to train further`);
    }
    // A damaged newest checkpoint would fail in the worker after a long start: say so now, and go on from
    // the newest whole one only when asked (its later steps are lost).
    const damage = this.checkpointDamage(runId);
    if (damage) {
      if (!options?.fromGoodCheckpoint) throw new ApiFailure('conflict', describeDamage(runId, damage));
      setAsideDamaged(this.checkpointFiles(runId), damage.goodStep);
      // What was trained after the good checkpoint is trained again: its rows go now, as at any resume.
      this.store.truncateAfter(runId, damage.goodStep ?? 0, { checkpoints: true });
      this.store.updateRun(runId, { step: damage.goodStep ?? 0 });
    }
    this.store.setStatus(runId, 'queued', null);
    this.unsaved.delete(runId);
    this.enqueue({ kind: 'train', runId });
    return this.emitRun(runId);
  }

  async resumeRun(runId: string, options: P.ResumeOptions = {}): Promise<P.RunSummary> {
    return this.startRun(runId, options);
  }

  /** The run's checkpoint files on disk (oldest first) with the tensor bytes the store recorded for each. */
  private checkpointFiles(runId: string): CheckpointFile[] {
    const run = this.store.getRun(runId);
    if (!run) return [];
    const recorded = new Map(this.store.listCheckpoints(runId).map((c) => [c.step, c.bytes]));
    // The run's folder inside this data directory (a stored absolute path may name the folder it was copied from).
    return listCheckpointFiles(runDir(this.opts.dataDir, runId)).map((c) => ({ ...c, dataBytes: recorded.get(c.step) ?? null }));
  }

  /** Whether the run's newest checkpoint is damaged, and which one a resume could use instead. */
  checkpointDamage(runId: string): P.CheckpointDamage | null {
    return findCheckpointDamage(this.checkpointFiles(runId), this.store.getRun(runId)?.step ?? 0);
  }

  async pauseRun(runId: string): Promise<P.RunSummary> {
    return this.halt(runId, 'pause');
  }

  async stopRun(runId: string): Promise<P.RunSummary> {
    return this.halt(runId, 'stop');
  }

  private halt(runId: string, intent: 'pause' | 'stop'): P.RunSummary {
    const run = this.requireRun(runId);
    const status = intent === 'pause' ? 'paused' : 'stopped';
    const queued = this.queue.findIndex((w) => w.kind === 'train' && w.runId === runId);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.store.setStatus(runId, status, null);
      return this.emitRun(runId);
    }
    const a = this.active.get(trainKey(runId));
    if (a) {
      a.intent = intent;
      a.worker.send({ type: 'stop' }); // the worker checkpoints at its current step, then exits
      return run;
    }
    // Trained by another studio process: its worker stops on SIGTERM (if it is still that worker).
    if (stopTrainingElsewhere(this.store, this.opts.dataDir, runId).outcome === 'gone') return this.emitRun(runId);
    return run;
  }

  async duplicateRun(runId: string): Promise<P.RunSummary> {
    const run = this.requireRun(runId);
    const name = `${run.name.slice(0, RUN_NAME_MAX_LENGTH - ' (copy)'.length)} (copy)`;
    const copy = await this.createRun({ config: stripPreset(run.config), name, preset: run.preset ?? undefined });
    this.store.updateRun(copy.id, { parentId: runId });
    return this.emitRun(copy.id);
  }

  async deleteRun(runId: string): Promise<void> {
    const run = this.requireRun(runId);
    const queued = this.queue.findIndex((w) => w.kind === 'train' && w.runId === runId);
    if (queued >= 0) this.queue.splice(queued, 1);
    const a = this.active.get(trainKey(runId));
    if (a) {
      a.intent = 'delete';
      a.worker.kill('SIGKILL');
      await new Promise<void>((resolve) => {
        const check = () => (this.active.has(trainKey(runId)) ? setTimeout(check, 20) : resolve());
        check();
      });
    }
    this.store.deleteRun(runId);
    this.unsaved.delete(runId);
    const dir = runDir(this.opts.dataDir, run.id);
    const removed = removeRunFolder(this.opts.dataDir, dir);
    this.hub.emit({ type: 'runDeleted', runId });
    if (!removed) {
      throw new ApiFailure('conflict', `run '${runId}' was removed from the database, but its folder ${dir} is not inside ${runDir(this.opts.dataDir, '')}, so no files were deleted`);
    }
  }

  /** Writes buffered metric rows now (called before live events go out). */
  private flushWriters(): void {
    for (const a of this.active.values()) {
      try {
        a.writer?.flush();
      } catch (e) {
        if (a.finished) continue;
        a.finished = true;
        a.worker.kill('SIGKILL');
        this.failWork(a.work, e, "could not store the run's metrics: ");
      }
    }
  }

  private emitRun(runId: string): P.RunSummary {
    const s = this.summary(runId)!;
    this.hub.latest(`run:${runId}`, { type: 'run', run: s });
    return s;
  }

  // ---- jobs ---------------------------------------------------------------------------------------

  async startSampling(settings: P.SampleSettings): Promise<P.JobSummary> {
    const run = this.requireRun(settings?.runId);
    const cp = this.pickCheckpoint(run.id, settings.checkpointId);
    checkSampleSettings(settings, run.config);
    const job = this.store.createJob({ kind: 'sample', runId: run.id, checkpointId: cp.id, settings: { ...settings, checkpointId: cp.id, checkpointStep: cp.step } });
    return this.enqueueJob(job.id);
  }

  /** Queues a stored job and announces it. */
  private enqueueJob(jobId: number): P.JobSummary {
    this.enqueue({ kind: 'job', jobId });
    const summary = this.jobSummary(jobId);
    this.hub.emit({ type: 'job', job: summary });
    return summary;
  }

  async startEvaluation(settings: P.EvaluationSettings): Promise<P.JobSummary> {
    const run = this.requireRun(settings?.runId);
    const cp = this.pickCheckpoint(run.id, settings.checkpointId);
    checkEvaluationSettings(settings);
    const job = this.store.createJob({ kind: 'eval', runId: run.id, checkpointId: cp.id, settings: { ...settings, checkpointId: cp.id, checkpointStep: cp.step } });
    return this.enqueueJob(job.id);
  }

  async cancelJob(jobId: number): Promise<P.JobSummary> {
    const job = this.store.getJob(jobId);
    if (!job) throw new ApiFailure('not-found', `no job with id ${jobId}`);
    const queued = this.queue.findIndex((w) => w.kind === 'job' && w.jobId === jobId);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.store.updateJob(jobId, { status: 'cancelled' });
    }
    const a = this.active.get(jobKey(jobId));
    if (a) {
      a.intent = 'cancel';
      a.worker.send({ type: 'stop' });
    }
    const s = toJob(this.store.getJob(jobId)!);
    this.hub.emit({ type: 'job', job: s });
    return s;
  }

  private pickCheckpoint(runId: string, checkpointId?: number) {
    const cps = this.store.listCheckpoints(runId);
    const cp = checkpointId === undefined ? cps.at(-1) : cps.find((c) => c.id === checkpointId);
    if (!cp) {
      throw new ApiFailure('not-found', checkpointId === undefined ? `run '${runId}' has no checkpoint yet: train it a little first` : `run '${runId}' has no checkpoint ${checkpointId}`);
    }
    return cp;
  }

  // ---- scheduling ---------------------------------------------------------------------------------

  private enqueue(w: Work): void {
    this.queue.push(w);
    this.pump();
  }

  private pump(): void {
    let started = false;
    if (this.unsaved.size) this.saveUnsaved();
    while (!this.closed && this.active.size < this.maxConcurrent && this.queue.length) {
      // Work whose previous worker (same run or job) has not exited yet waits for it.
      const next = this.queue.findIndex((q) => !this.active.has(q.kind === 'train' ? trainKey(q.runId) : jobKey(q.jobId)));
      if (next < 0) break;
      const [w] = this.queue.splice(next, 1);
      started = true;
      try {
        if (w.kind === 'train') this.launchTraining(w.runId);
        else this.launchJob(w.jobId);
      } catch (e) {
        this.failWork(w, e);
      }
    }
    // The jobs still queued now wait for something else: tell the views.
    if (started) for (const w of this.queue) if (w.kind === 'job') this.hub.emit({ type: 'job', job: this.jobSummary(w.jobId) });
  }

  /** A job as the faces see it: while queued, with what it waits for. */
  private jobSummary(jobId: number): P.JobSummary {
    const summary = toJob(this.store.getJob(jobId)!);
    if (summary.status !== 'queued') return summary;
    const runName = (runId: string | null | undefined) => (runId ? (this.store.getRun(runId)?.name ?? runId) : '?');
    const holders: DeviceHolder[] = [...this.active.values()].map(({ work }) => {
      if (work.kind === 'train') return { kind: 'train', runName: runName(work.runId) };
      const j = this.store.getJob(work.jobId);
      return { kind: j?.kind ?? 'sample', jobId: work.jobId, runName: runName(j?.runId) };
    });
    const ahead = this.queue.findIndex((w) => w.kind === 'job' && w.jobId === jobId);
    return { ...summary, waitingFor: describeWait(holders, Math.max(0, ahead), this.maxConcurrent) };
  }

  /**
   * Ends work that cannot go on. Never throws: it runs inside worker callbacks and timers, where an error
   * would take the whole process (`iddpm serve`, `iddpm train`) down. A full disk or read-only folder gets
   * the reason that says what to do; `context` prefixes any other message.
   */
  private failWork(w: Work, cause: unknown, context = ''): void {
    const reason = storageFailureReason(cause, this.opts.dataDir) ?? `${context}${(cause as Error)?.message ?? String(cause)}`;
    if (w.kind === 'train') {
      this.endRun(w.runId, 'failed', reason);
      return;
    }
    try {
      this.store.updateJob(w.jobId, { status: 'failed', error: reason });
    } catch {
      // The store cannot take it now; the job event below still tells the faces.
    }
    try {
      const job = this.store.getJob(w.jobId);
      if (job) this.hub.emit({ type: 'job', job: { ...toJob(job), status: 'failed', error: reason } });
    } catch {
      // nothing more can be done without the store
    }
  }

  /**
   * Records a run's final status. When the store cannot write it (the disk is still full) the status is
   * kept in memory, shown in summaries and events, and written once writes succeed again.
   */
  private endRun(runId: string, status: P.RunStatus, reason: string | null): void {
    this.unsaved.set(runId, { status, reason });
    this.saveUnsaved();
    try {
      this.emitRun(runId);
    } catch {
      // the store cannot even be read: the next successful read shows the status
    }
  }

  /** Writes the statuses the store could not take before; keeps those it still cannot. */
  private saveUnsaved(): void {
    for (const [runId, { status, reason }] of this.unsaved) {
      try {
        this.store.updateRun(runId, { workerPid: null });
        this.store.setStatus(runId, status, reason);
        this.unsaved.delete(runId);
      } catch {
        // still not writable: keep it for the next attempt
      }
    }
  }

  private launchTraining(runId: string): void {
    const run = this.store.getRun(runId);
    if (!run) return;
    // Another studio process started it meanwhile (it was queued in both): never train one run twice.
    if (workerOfRun(this.opts.dataDir, run).alive) return void this.emitRun(runId);
    const dir = run.runDir ?? runDir(this.opts.dataDir, runId);
    ensureDir(dir);
    // Nothing trains this run now: temp files of its checkpoints are leftovers of a killed writer.
    removeStaleTempFiles(runDir(this.opts.dataDir, runId), { trainingActive: false });
    const latest = listCheckpointFiles(dir).at(-1);
    const resumeStep = latest?.step ?? 0;
    // Rows after the checkpoint will be trained again: drop them so the series stays one line.
    this.store.truncateAfter(runId, resumeStep, { checkpoints: true });
    this.store.updateRun(runId, { startedAt: run.startedAt ?? Date.now(), step: resumeStep, error: null });
    this.store.setStatus(runId, 'running', null);
    const job: JobRequest = { kind: 'train', runDir: dir, config: stripPreset(run.config), untilStep: run.maxSteps ?? undefined, resumeFrom: latest?.file };
    this.launch({ kind: 'train', runId }, job, resumeStep);
    this.emitRun(runId);
  }

  private launchJob(jobId: number): void {
    const job = this.store.getJob(jobId);
    if (!job) return;
    const settings = job.settings as unknown as P.SampleSettings & P.EvaluationSettings & { checkpointId: number };
    const cp = this.store.getCheckpoint(settings.checkpointId);
    if (!cp) throw new Error(`checkpoint ${settings.checkpointId} no longer exists`);
    const run = this.store.getRun(job.runId!);
    const backend = run?.config.training.backend;
    this.store.updateJob(jobId, { status: 'running', progress: 0 });
    let request: JobRequest;
    if (job.kind === 'sample') {
      const outDir = path.join(runDir(this.opts.dataDir, job.runId!), 'samples', `set-${String(jobId).padStart(5, '0')}`);
      request = {
        kind: 'sample',
        outDir,
        settings: {
          checkpoint: cp.path,
          emaRate: settings.emaRate,
          sampler: settings.sampler,
          steps: settings.steps,
          eta: settings.eta ?? 0,
          count: settings.count,
          seed: settings.seed,
          clipDenoised: settings.clipDenoised ?? true,
          ...(settings.skipFraction !== undefined ? { skipFraction: settings.skipFraction } : {}),
          backend,
        },
      };
    } else if (job.kind === 'quality') {
      request = this.quality.request(job, cp, backend);
    } else {
      request = { kind: 'eval', checkpoint: cp.path, emaRate: settings.emaRate, images: settings.images, backend };
    }
    this.launch({ kind: 'job', jobId }, request, 0);
    this.hub.emit({ type: 'job', job: toJob(this.store.getJob(jobId)!) });
  }

  private launch(work: Work, request: JobRequest, resumeStep: number): void {
    const worker = this.workerFactory();
    const key = work.kind === 'train' ? trainKey(work.runId) : jobKey(work.jobId);
    const a: Active = { work, worker, intent: null, finished: false, resumeStep, writer: null };
    this.active.set(key, a);
    if (work.kind === 'train') this.claimRun(work.runId, worker.pid);
    const writer =
      work.kind === 'train'
        ? this.store.metricsWriter(work.runId, {
            // A timed flush that fails (disk full, read-only) stops the run: what is stored stays.
            onError: (e) => {
              if (a.finished) return;
              a.finished = true;
              worker.kill('SIGKILL');
              this.failWork(work, e, "could not store the run's metrics: ");
            },
          })
        : null;
    a.writer = writer;
    worker.onMessage((msg) => {
      try {
        if (msg.type === 'ready') {
          // Some process hosts (Electron's utilityProcess) know their pid only once the child runs.
          if (work.kind === 'train' && worker.pid) this.claimRun(work.runId, worker.pid);
          worker.send({ type: 'start', job: request });
        }
        else if (work.kind === 'train') this.onTrainMessage(a, work.runId, msg, writer!);
        else this.onJobMessage(a, work.jobId, msg);
      } catch (e) {
        // A store write failed (disk full, unwritable): stop the worker, keep what is stored.
        a.finished = true;
        worker.kill('SIGKILL');
        this.failWork(work, e, "could not record the job's results: ");
      }
    });
    worker.onExit((code, signal) => {
      try {
        writer?.close();
      } catch {
        // already reported through failWork
      }
      if (work.kind === 'train' && worker.pid) {
        try {
          releaseWorkerLock(runDir(this.opts.dataDir, work.runId), worker.pid);
        } catch {
          // an unwritable folder: the lock names a dead pid, which every reader treats as gone
        }
      }
      this.active.delete(key);
      try {
        if (!a.finished && a.intent !== 'delete') this.onUnexpectedExit(work, code, signal);
        this.hub.flush();
      } catch (e) {
        this.failWork(work, e);
      }
      this.pump();
    });
  }

  /**
   * Records that `pid` trains the run: first the worker lock (pid + process start time), then the pid in
   * the store, so that whoever reads the pid can also check that it is still this worker.
   */
  private claimRun(runId: string, pid: number | undefined): void {
    if (pid) {
      const folder = runDir(this.opts.dataDir, runId);
      ensureDir(folder);
      writeWorkerLock(folder, { runId, pid, ownerPid: process.pid, face: this.opts.face });
    }
    this.store.updateRun(runId, { workerPid: pid ?? null });
  }

  private onTrainMessage(a: Active, runId: string, msg: FromWorker, writer: ReturnType<Store['metricsWriter']>): void {
    switch (msg.type) {
      case 'backend':
        this.store.updateRun(runId, { backend: describeBackend(msg.report) });
        this.emitRun(runId);
        break;
      case 'dataset':
        this.store.updateRun(runId, { dataset: msg.description });
        break;
      case 'checkpoint': {
        const run = this.store.getRun(runId)!;
        const rec = this.store.addCheckpoint(runId, { step: msg.step, path: msg.file, bytes: msg.bytes, emaRates: run.config.training.emaRates });
        writer.flush();
        let removedIds: number[] = [];
        try {
          removedIds = pruneCheckpoints(this.store, runId, run.config.intervals.keepCheckpoints ?? 0).map((c) => c.id);
        } catch (e) {
          // Retention is housekeeping: a file that cannot be removed now is retried at the next checkpoint.
          process.stderr.write(`checkpoint retention for run ${runId}: ${(e as Error).message}\n`);
        }
        this.hub.emit({ type: 'checkpoint', runId, checkpoint: toCheckpoint(rec, run.config.training.emaWarmup === true), removedIds });
        this.emitRun(runId);
        break;
      }
      case 'train':
        recordTrainEvent(this.recorder, runId, msg.event, writer);
        if (msg.event.type === 'step') this.emitRun(runId);
        break;
      case 'done':
        a.finished = true;
        writer.flush();
        this.finishRun(runId, a.intent, null, msg.result.step ?? null);
        break;
      case 'error':
        a.finished = true;
        writer.flush();
        this.finishRun(runId, msg.stopped ? a.intent : null, msg.stopped ? null : msg.message, null);
        break;
      default:
        break;
    }
  }

  private finishRun(runId: string, intent: Active['intent'], error: string | null, step: number | null): void {
    const run = this.store.getRun(runId);
    if (!run) return;
    let status: P.RunStatus;
    if (error) status = 'failed';
    else if (intent === 'pause') status = 'paused';
    else if (intent === 'stop') status = 'stopped';
    else status = run.maxSteps !== null && (step ?? run.step) >= run.maxSteps ? 'done' : 'stopped';
    this.hub.flush();
    this.endRun(runId, status, error === null ? null : (storageFailureReason(error, this.opts.dataDir) ?? error));
    this.hub.flush();
  }

  private onJobMessage(a: Active, jobId: number, msg: FromWorker): void {
    const job = this.store.getJob(jobId);
    if (!job) return;
    switch (msg.type) {
      case 'progress': {
        const progress = msg.total > 0 ? msg.done / msg.total : 0;
        this.store.updateJob(jobId, { progress, ...(msg.phase ? { phase: msg.phase } : {}) });
        this.hub.latest(`job:${jobId}`, { type: 'job', job: toJob(this.store.getJob(jobId)!) });
        // A new phase goes out now: coalescing would drop a phase shorter than the hub's interval (a quick
        // sampling phase between classifier and features), and the views show which phase a job is in.
        if (msg.phase && msg.phase !== job.phase) this.hub.flush();
        break;
      }
      case 'done': {
        a.finished = true;
        const resultId = msg.result.sample
          ? recordSampleSet(this.recorder, job, msg.result.sample)
          : msg.result.eval
            ? recordEvaluation(this.recorder, job, msg.result.eval)
            : msg.result.quality
              ? this.quality.record(job, msg.result.quality)
              : null;
        if (msg.result.eval && job.runId) this.emitRun(job.runId);
        this.store.updateJob(jobId, { status: 'done', progress: 1, result: { resultId } });
        this.hub.flush();
        this.hub.emit({ type: 'job', job: toJob(this.store.getJob(jobId)!) });
        break;
      }
      case 'error':
        a.finished = true;
        this.store.updateJob(jobId, msg.stopped && a.intent === 'cancel' ? { status: 'cancelled' } : { status: 'failed', error: msg.message });
        this.hub.flush();
        this.hub.emit({ type: 'job', job: toJob(this.store.getJob(jobId)!) });
        break;
      default:
        break;
    }
  }

  private onUnexpectedExit(work: Work, code: number | null, signal: string | null): void {
    const how = signal ? `was killed (${signal}${signal === 'SIGKILL' ? ': out of memory, or killed by hand' : ''})` : `exited with code ${code}`;
    if (work.kind === 'train') {
      const run = this.store.getRun(work.runId);
      if (!run) return;
      const cp = this.store.listCheckpoints(work.runId).at(-1);
      this.store.updateRun(work.runId, { workerPid: null });
      this.store.setStatus(
        work.runId,
        'interrupted',
        `the worker process ${how} at step ${run.step}; resume continues from ${cp ? `the checkpoint at step ${cp.step}` : 'the start (no checkpoint yet)'}`,
      );
      this.emitRun(work.runId);
    } else {
      this.store.updateJob(work.jobId, { status: 'failed', error: `the worker process ${how}` });
      this.hub.emit({ type: 'job', job: toJob(this.store.getJob(work.jobId)!) });
    }
  }

  // ---- files --------------------------------------------------------------------------------------

  /** A file URL path (e.g. /files/runs/<id>/samples/…png) → the file inside the data directory. */
  resolveFile(urlPath: string): string | null {
    return this.urls.resolve(urlPath);
  }

  /** The set's PNGs (with their embedded settings) and a manifest, as one zip. */
  async exportSampleSetZip(setId: number): Promise<Buffer> {
    const set = this.store.getSampleSet(setId);
    if (!set) throw new ApiFailure('not-found', `no sample set ${setId}`);
    return sampleSetZip(set);
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  /** Stops accepting work, stops running workers gracefully (they checkpoint), closes the store. */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reference.close();
    this.studies.close();
    for (const a of this.active.values()) {
      a.intent ??= a.work.kind === 'train' ? 'stop' : 'cancel';
      a.worker.send({ type: 'stop' });
    }
    const deadline = Date.now() + timeoutMs;
    while (this.active.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const a of this.active.values()) a.worker.kill('SIGKILL');
    // Their exit handlers still record the end: let them run before the store closes.
    const killedBy = Date.now() + 5000;
    while (this.active.size && Date.now() < killedBy) await new Promise((r) => setTimeout(r, 20));
    this.saveUnsaved();
    this.hub.close();
    this.store.close();
  }
}

function trainKey(runId: string): string {
  return `train:${runId}`;
}
function jobKey(jobId: number): string {
  return `job:${jobId}`;
}
function clampPoints(points: number): number {
  return Number.isFinite(points) ? Math.max(10, Math.min(20_000, Math.floor(points))) : 2000;
}
function stripPreset(config: RunConfig): RunConfig {
  const { preset: _preset, ...rest } = config as RunConfig & { preset?: string };
  return rest as RunConfig;
}
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../package.json'), 'utf8'));
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}
