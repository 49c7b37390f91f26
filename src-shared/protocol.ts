/**
 * The StudioApi contract: every request the renderer can make, its reply, and every event it can receive.
 * One contract, served two ways: Electron IPC (preload + contextBridge) and the web face (WebSocket on
 * 127.0.0.1 with a token). Plain data only (JSON-safe): no Node, DOM, Electron or tfjs types.
 */
import type { ConfigProblem } from './config/validate';
import type { RunConfig } from './config/runConfig';
import type { Preset } from './config/presets';
import type { QualityMetric } from './qualityMetrics';

export type RunStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'interrupted' | 'stopped';

export interface RunSummary {
  id: string;
  name: string;
  status: RunStatus;
  /** Why the run is failed/interrupted/stopped (the engine's or the service's message). */
  reason: string | null;
  /** One line: which tfjs backend runs it and why (set once the worker has started). */
  backend: string | null;
  step: number;
  maxSteps: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Recent throughput, for the progress bar's ETA. */
  stepsPerSec: number | null;
  lastLoss: number | null;
  /** Best NLL bound seen in per-t evaluations or NLL jobs, bits/dim. */
  bestBpd: number | null;
  /** Step of the newest checkpoint (resume starts here), or null. */
  lastCheckpointStep: number | null;
  preset: string | null;
  config: RunConfig;
}

/** A chart series, downsampled on the store side to a point budget (min/max keep the envelope). */
export interface Series {
  step: number[];
  value: number[];
  min: number[];
  max: number[];
}

export type MetricName =
  | 'loss'
  | 'mse'
  | 'vb'
  | 'gradNorm'
  | 'lr'
  | 'samplesPerSec'
  | 'loss_q0'
  | 'loss_q1'
  | 'loss_q2'
  | 'loss_q3';

export interface VlbSnapshot {
  step: number;
  timesteps: number[];
  /** Mean vb term at each t, bits/dim (the paper's Figure 2). */
  termsBpd: number[];
  mse: number[];
  priorBpd: number;
  totalBpd: number | null;
}

export interface GnsPoint {
  step: number;
  bSimple: number;
  bSimpleRaw: number;
}

export interface CheckpointInfo {
  id: number;
  runId: string;
  step: number;
  path: string;
  bytes: number;
  createdAt: number;
  emaRates: number[];
  /** Share of the random initial weights each EMA (in emaRates' order) still holds at this step. */
  emaInitialShares: number[];
  /** The weights sampling and evaluation use unless told: an EMA rate, or null for the raw weights. */
  defaultEmaRate: number | null;
  /** Why those (e.g. raw while the EMA still holds 37% of the initial weights). */
  defaultWeightsWhy: string;
}

export type SamplerName = 'ancestral' | 'ddim';

export interface SampleSettings {
  runId: string;
  /** Checkpoint to sample from (default: the run's newest). */
  checkpointId?: number;
  /** EMA rate, or null for the raw weights (default: the run's first EMA). */
  emaRate?: number | null;
  sampler: SamplerName;
  steps: number;
  /** DDIM's η (optional; 0 when absent). */
  eta?: number;
  count: number;
  seed: number;
  clipDenoised: boolean;
  /**
   * Skip the first fraction f ∈ [0, 1) of the reverse process (the paper's Figure 3): sampling starts from
   * pure noise at original step ⌊(1−f)·T⌋ − 1 and respaces the steps below it (default 0: the whole chain).
   */
  skipFraction?: number;
}

export interface SampleImage {
  index: number;
  /** URL the renderer can load (served by the face: file route or app protocol). */
  url: string;
}

export interface SampleSet {
  id: number;
  runId: string | null;
  kind: 'samples' | 'preview';
  createdAt: number;
  checkpointStep: number | null;
  sampler: string;
  steps: number;
  eta: number | null;
  seed: number;
  count: number;
  /** Everything that made the images (as embedded in the PNGs). */
  settings: Record<string, unknown>;
  gridUrl: string | null;
  images: SampleImage[];
}

export type JobKind = 'sample' | 'eval' | 'quality';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobSummary {
  id: number;
  kind: JobKind;
  runId: string;
  status: JobStatus;
  /** 0…1; a quality job: within its current `phase`. */
  progress: number;
  /** A quality job's current phase: 'classifier' (training it, first use only) | 'sampling' | 'features'. */
  phase?: string | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  settings: Record<string, unknown>;
  /** sample: the sample set id; eval: the evaluation id; quality: the quality result id. */
  resultId: number | null;
  /** While queued: what holds the device, in words ("waiting for training run “x”: one job per device"). */
  waitingFor?: string | null;
}

export interface EvaluationSettings {
  runId: string;
  checkpointId?: number;
  emaRate?: number | null;
  images: number;
}

export interface Evaluation {
  id: number;
  runId: string;
  checkpointStep: number;
  createdAt: number;
  bpd: number;
  priorBpd: number;
  images: number;
  timesteps: number[];
  termsBpd: number[];
  mse: number[];
}

/** A sample-quality job: N samples of a checkpoint measured on the dataset's classifier (qualityJob.ts). */
export interface QualitySettings {
  runId: string;
  /** Checkpoint to sample from (default: the run's newest). */
  checkpointId?: number;
  metrics: QualityMetric[];
  /** Images to generate (≥ 4; FID and precision/recall are noisy below a few hundred). */
  count: number;
  sampler: SamplerName;
  /** Sampling steps K (respaced ancestral: K sections; DDIM: ddimK). */
  steps: number;
  /** DDIM's η (default 0). */
  eta?: number;
  /** Default 0. */
  seed?: number;
  /** EMA rate, or null for the raw weights (default: as for sampling). */
  emaRate?: number | null;
  /** See SampleSettings.skipFraction (default 0). */
  skipFraction?: number;
  /** Held-out images to compare with (default: the whole held-out split). */
  realCount?: number;
}

/**
 * Quality vs sampling steps (the paper's Figure 8): one quality job per (sampler, K), for every K in `steps`
 * and the full chain T, with respaced ancestral sampling and DDIM (η = 0) unless `samplers` says otherwise.
 */
export interface QualitySweepSettings extends Omit<QualitySettings, 'steps' | 'sampler' | 'eta'> {
  steps: number[];
  samplers?: SamplerName[];
}

export interface QualitySweep {
  /** Shared by the sweep's jobs (their settings.sweepId) and results (QualityResult.sweepId). */
  sweepId: string;
  /** One job per point, in the order they run. */
  jobs: JobSummary[];
}

/** The numbers of one quality job; every one is on the studio's classifier (see `caveat`). */
export interface QualityReport {
  generatedCount: number;
  realCount: number;
  fid?: number;
  kid?: { mean: number; std: number; subsetSize: number; subsets: number };
  precision?: number;
  recall?: number;
  inceptionScore?: { mean: number; std: number; splits: number };
  classHistogram?: { counts: number[]; realCounts: number[]; covered: number; totalVariation?: number };
  classifierAccuracy: number;
  /** qualityCaveat(dataset): not Inception FID/IS, not comparable with published values. */
  caveat: string;
}

export interface QualityResult {
  id: number;
  runId: string;
  jobId: number | null;
  checkpointStep: number;
  createdAt: number;
  sweepId: string | null;
  sampler: SamplerName;
  steps: number;
  skipFraction: number;
  count: number;
  /** Every setting the job ran with (QualitySettings, the sample settings it resolved, the sweep point). */
  settings: Record<string, unknown>;
  report: QualityReport;
  classifier: { datasetKey: string; heldOutAccuracy: number; heldOutCount: number; trainedNow: boolean };
}

/** Whether a run's dataset can have sample-quality metrics, and the classifier cached for it. */
export interface QualityAvailability {
  /** false: the dataset has no class labels ("no labels: NLL only"). */
  labelled: boolean;
  /** Why not, and how to label it; null when labelled. */
  message: string | null;
  /** The model's T (the sweep's full chain) and the checkpoint the job would use by default. */
  diffusionSteps: number;
  /** The cached classifier's held-out accuracy; null when it is not trained yet (the first job trains it). */
  classifierAccuracy: number | null;
}

/** Everything a Run detail view shows, read from the store (a reconnecting client backfills with this). */
export interface RunDetail {
  run: RunSummary;
  series: Partial<Record<MetricName, Series>>;
  /** Steps that have a VLB snapshot (for the slider), and the newest snapshot. */
  vlbSteps: number[];
  latestVlb: VlbSnapshot | null;
  gns: GnsPoint[];
  samplerWeights: { step: number; weights: number[] } | null;
  checkpoints: CheckpointInfo[];
  previews: SampleSet[];
  evaluations: Evaluation[];
  /** Set when the newest checkpoint cannot be resumed from (a stopped or interrupted run only). */
  checkpointDamage: CheckpointDamage | null;
}

/** The newest checkpoint of a run is damaged: which file, why, and the newest one a resume can use. */
export interface CheckpointDamage {
  file: string;
  step: number;
  problem: string;
  /** The newest whole checkpoint; null when none is: resuming from it starts again from step 0. */
  goodStep: number | null;
  /** First and last step that resuming from the good checkpoint trains again (their metrics are replaced). */
  lostSteps: [number, number];
}

export interface ResumeOptions {
  /** Resume from the newest checkpoint that is whole, dropping the damaged newer ones and their steps. */
  fromGoodCheckpoint?: boolean;
}

export interface StepRow {
  step: number;
  loss: number;
  mse: number;
  vb: number | null;
  gradNorm: number;
  lr: number;
  samplesPerSec: number;
  quartiles: (number | null)[];
}

export interface SystemInfo {
  version: string;
  dataDir: string;
  /** Which backend a new run would get here and why the better ones are unavailable. */
  backend: string;
  face: 'electron' | 'web';
}

/** Whether a backend can run on this machine (checked once per service, in a worker process). */
export interface BackendAvailability {
  name: 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
  /** It loads here (for webgpu: Dawn found an adapter, possibly a software one that runs only when forced). */
  available: boolean;
  /** The backend 'auto' picks here (exactly one entry). */
  auto: boolean;
  /** What it runs on, or why it cannot run, in words a user can act on. */
  detail: string;
}

/** Events pushed to subscribers. Live events only add to what the store holds. */
export type StudioEvent =
  | { type: 'run'; run: RunSummary }
  | { type: 'runDeleted'; runId: string }
  | { type: 'metrics'; runId: string; rows: StepRow[] }
  | { type: 'vlb'; runId: string; snapshot: VlbSnapshot }
  | { type: 'gns'; runId: string; point: GnsPoint }
  | { type: 'samplerWeights'; runId: string; step: number; weights: number[] }
  /** A new checkpoint; `removedIds`: older ones retention deleted with it (files and rows). */
  | { type: 'checkpoint'; runId: string; checkpoint: CheckpointInfo; removedIds?: number[] }
  | { type: 'sampleSet'; set: SampleSet }
  | { type: 'evaluation'; evaluation: Evaluation }
  | { type: 'job'; job: JobSummary }
  /** A study changed (status, phase, progress, a run added); the report is read with studyReport. */
  | { type: 'study'; study: StudySummary }
  /** A study record was deleted (its runs too when `deletedRuns` lists them; they come with their own runDeleted). */
  | { type: 'studyDeleted'; studyId: string; deletedRuns: string[] };

// ---- studies: named sets of ordinary runs that test one of the paper's claims (src-shared/studies) ----

/** The built-in studies. */
export type StudyKind = 'noise-schedule' | 'sampling-steps' | 'importance-sampling';
/** tiny: seconds (tests); quick: a few minutes on a 2-core CPU; full: about an hour on a 2-core CPU. */
export type StudySize = 'tiny' | 'quick' | 'full';
/**
 * training: its runs are queued or training; evaluating: the runs are done and the report's post-training
 * evaluations (NLL, quality) run; done: the report is complete; stopped: the user stopped it (resumable);
 * interrupted: the process that drove it ended (resumable); failed: a run or an evaluation failed (`error`).
 */
export type StudyStatus = 'training' | 'evaluating' | 'done' | 'stopped' | 'interrupted' | 'failed';

/** One claim of the paper a study tests: what it says, where it is shown, and what the studio measures. */
export interface StudyClaim {
  id: string;
  /** e.g. "Figure 6" */
  figure: string;
  /**
   * The paper's claim in a sentence, paraphrased from the section named at its end (not a verbatim quote:
   * the paper's text is not in the studio, so it is never shown in quotation marks).
   */
  statement: string;
  /** What the studio compares to decide it, in one sentence. */
  test: string;
}

/** A run of a study: its role (e.g. 'vlb-uniform'), a label for charts, and the setting that differs. */
export interface StudyRunRole {
  key: string;
  label: string;
  /** The setting(s) that differ from the study's base config, in words, e.g. "timestepSampler = uniform". */
  differs: string;
}

export interface StudySizeInfo {
  size: StudySize;
  /** Steps each run trains. */
  steps: number;
  /** Expected wall time of the whole study on a 2-core CPU, minutes (measured; see the definitions). */
  expectedMinutes: number;
  /** One line: image size, network, T, batch, steps. */
  description: string;
}

/** A built-in study as the New study form shows it. */
export interface StudyKindInfo {
  kind: StudyKind;
  title: string;
  description: string;
  claims: StudyClaim[];
  runs: StudyRunRole[];
  sizes: StudySizeInfo[];
}

/** A study's run as listed with the study. `runId` is an ordinary run (Runs view, Run detail). */
export interface StudyRunInfo {
  key: string;
  label: string;
  runId: string;
  /** 'missing' when the run was deleted. */
  status: RunStatus | 'missing';
  step: number;
  maxSteps: number | null;
}

export interface StudySummary {
  id: string;
  name: string;
  kind: StudyKind;
  title: string;
  size: StudySize;
  status: StudyStatus;
  /** What it does now, in words ("training 2 of 3: L_vlb, importance-sampled t", "evaluating quality…"). */
  phase: string;
  /** 0…1 over the whole study (training steps, then evaluations). */
  progress: number;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  /** In the study's order. */
  runs: StudyRunInfo[];
}

/** One line of a study chart; `runKey` ties it to a run of the study (null for a reference line). */
export interface StudyChartSeries {
  label: string;
  runKey: string | null;
  x: number[];
  y: number[];
}

export interface StudyChart {
  id: string;
  title: string;
  /** The paper's figure it reproduces, e.g. "Figure 2", or null. */
  figure: string | null;
  xLabel: string;
  yLabel: string;
  xScale: 'linear' | 'log';
  yScale: 'linear' | 'log';
  series: StudyChartSeries[];
  /** What it shows and how it was measured (one paragraph). */
  caption: string;
}

export type VerdictOutcome = 'holds' | 'does not hold' | 'not enough data';

/** One verdict per claim, computed from the data, e.g. "cosine NLL below linear at 4 of 4 evaluations (…)". */
export interface StudyVerdict {
  claimId: string;
  figure: string;
  outcome: VerdictOutcome;
  line: string;
}

export interface StudyTable {
  id: string;
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

/** Everything a study's report page shows, computed from its runs' stored data when asked. */
export interface StudyReport {
  study: StudySummary;
  claims: StudyClaim[];
  verdicts: StudyVerdict[];
  charts: StudyChart[];
  tables: StudyTable[];
  /** Caveats and settings that qualify the numbers (e.g. "FID on the studio's classifier features…"). */
  notes: string[];
}

export interface CreateStudyRequest {
  kind: StudyKind;
  /** Default 'quick'. */
  size?: StudySize;
  /** Display name (default: the study's title and size). */
  name?: string;
}

/** A study exported as a folder: charts as PNG, numbers as CSV and JSON, report.md. */
/** What deleting a study does to its runs: by default they stay as ordinary runs. */
export interface DeleteStudyOptions {
  /** Delete the study's runs too (their folders and data), through the same path as deleteRun. */
  withRuns?: boolean;
}

export interface StudyDeleted {
  studyId: string;
  /** Runs deleted with it (withRuns), in the study's order. */
  deletedRuns: string[];
  /** Runs that stay as ordinary runs (without withRuns), or that were already gone: not listed. */
  keptRuns: string[];
  /** The study's folder (<data>/studies/<id>, holding its export), removed. */
  folder: string;
}

export interface StudyExport {
  folder: string;
  /** File names inside the folder. */
  files: string[];
}

/**
 * Interop with the reference code (openai/improved-diffusion) on a cluster. Paths are on the studio's
 * machine (the web face's server); `flags` are the reference's, as typed for image_train.py.
 */
export interface ReferenceImportRequest {
  /** A reference log directory or one model .pt file. */
  path: string;
  /** e.g. "--num_heads 4 --diffusion_steps 4000 --noise_schedule cosine" */
  flags?: string;
  name?: string;
}
export interface ReferenceImportReply {
  run: RunSummary;
  /** What was inferred or assumed, and what had to be filled in. */
  notes: string[];
}
export interface ReferenceFollowRequest {
  /** The log directory the cluster writes (OPENAI_LOGDIR). */
  dir: string;
  flags?: string;
  /** Follow into this run (e.g. the one exported to the cluster) instead of a run made for the folder. */
  runId?: string;
  name?: string;
  /** Seconds between looks at the folder (default 5). */
  intervalSec?: number;
}
export interface ReferenceFollowStatus {
  dir: string;
  runId: string | null;
  following: boolean;
  /** The follower's last news: waiting for a checkpoint, rows added, a file retried, or why it stopped. */
  lastMessage: string | null;
}
export interface ReferenceExportRequest {
  runId: string;
  outDir: string;
  /** MPI processes in the launch line (default 1). */
  processes?: number;
  /** Write the training images (default true). */
  includeImages?: boolean;
}
export interface ReferenceExportReply {
  outDir: string;
  step: number;
  files: string[];
  images: number;
  /** Settings the reference cannot express, and what else the user must know. */
  notes: string[];
}

/** The requests and their replies. Every method may reject with an ApiError. */
export interface StudioApi {
  systemInfo(): Promise<SystemInfo>;
  /** The backends in the order 'auto' tries them, with what each runs on or why it cannot run here. */
  backends(): Promise<BackendAvailability[]>;
  presets(): Promise<Preset[]>;
  validateConfig(config: unknown): Promise<ConfigProblem[]>;

  listRuns(): Promise<RunSummary[]>;
  runDetail(runId: string, points: number): Promise<RunDetail>;
  series(runId: string, metrics: MetricName[], points: number, fromStep?: number, toStep?: number): Promise<Partial<Record<MetricName, Series>>>;
  vlbSnapshot(runId: string, step: number): Promise<VlbSnapshot | null>;

  /** `id` names the run's folder (default: a timestamp); it and `name` follow the rules of runId.ts. */
  createRun(request: { config: RunConfig; name?: string; preset?: string; start?: boolean; id?: string }): Promise<RunSummary>;
  startRun(runId: string): Promise<RunSummary>;
  pauseRun(runId: string): Promise<RunSummary>;
  resumeRun(runId: string, options?: ResumeOptions): Promise<RunSummary>;
  stopRun(runId: string): Promise<RunSummary>;
  duplicateRun(runId: string): Promise<RunSummary>;
  deleteRun(runId: string): Promise<void>;

  startSampling(settings: SampleSettings): Promise<JobSummary>;
  startEvaluation(settings: EvaluationSettings): Promise<JobSummary>;
  /** Queues a sample-quality job; await its end through 'job' events (status done/failed/cancelled). */
  startQualityEvaluation(settings: QualitySettings): Promise<JobSummary>;
  /** Queues one quality job per sweep point (QualitySweepSettings). */
  startQualitySweep(settings: QualitySweepSettings): Promise<QualitySweep>;
  listQualityResults(runId: string): Promise<QualityResult[]>;
  qualityAvailability(runId: string): Promise<QualityAvailability>;
  cancelJob(jobId: number): Promise<JobSummary>;
  listJobs(): Promise<JobSummary[]>;
  listSampleSets(filter: { runId?: string; kind?: 'samples' | 'preview' }): Promise<SampleSet[]>;

  importReferenceRun(request: ReferenceImportRequest): Promise<ReferenceImportReply>;
  followReferenceRun(request: ReferenceFollowRequest): Promise<ReferenceFollowStatus>;
  stopFollowingReferenceRun(dir: string): Promise<ReferenceFollowStatus>;
  listReferenceFollows(): Promise<ReferenceFollowStatus[]>;
  exportForReference(request: ReferenceExportRequest): Promise<ReferenceExportReply>;

  /** The built-in studies with their claims, runs and sizes. */
  studyKinds(): Promise<StudyKindInfo[]>;
  /** Every study, newest first. */
  listStudies(): Promise<StudySummary[]>;
  /** Creates the study's runs as ordinary runs and queues them; the study then drives itself to 'done'. */
  createStudy(request: CreateStudyRequest): Promise<StudySummary>;
  /** The report as the data stands now (partial while the study runs). */
  studyReport(studyId: string): Promise<StudyReport>;
  /** Stops its training runs (they checkpoint) and any evaluation; resumable. */
  stopStudy(studyId: string): Promise<StudySummary>;
  /** Resumes a stopped, interrupted or failed study: its unfinished runs continue, then the evaluations. */
  resumeStudy(studyId: string): Promise<StudySummary>;
  /** Writes the export folder (<data>/studies/<id>/export) and returns it; also served as a zip. */
  exportStudy(studyId: string): Promise<StudyExport>;
  /** Deletes a study that is not running (stop it first): its record and folder, and its runs only with withRuns. */
  deleteStudy(studyId: string, options?: DeleteStudyOptions): Promise<StudyDeleted>;
}

export type ApiMethod = keyof StudioApi;

export const API_METHODS: readonly ApiMethod[] = [
  'systemInfo',
  'backends',
  'presets',
  'validateConfig',
  'listRuns',
  'runDetail',
  'series',
  'vlbSnapshot',
  'createRun',
  'startRun',
  'pauseRun',
  'resumeRun',
  'stopRun',
  'duplicateRun',
  'deleteRun',
  'startSampling',
  'startEvaluation',
  'startQualityEvaluation',
  'startQualitySweep',
  'listQualityResults',
  'qualityAvailability',
  'cancelJob',
  'listJobs',
  'listSampleSets',
  'importReferenceRun',
  'followReferenceRun',
  'stopFollowingReferenceRun',
  'listReferenceFollows',
  'exportForReference',
  'studyKinds',
  'listStudies',
  'createStudy',
  'studyReport',
  'stopStudy',
  'resumeStudy',
  'exportStudy',
  'deleteStudy',
] as const;

/** An error reply: the message names the problem and the fix; `field` names a config field when relevant. */
export interface ApiError {
  message: string;
  code: 'bad-request' | 'not-found' | 'conflict' | 'internal';
  field?: string;
  problems?: ConfigProblem[];
}

/** Wire messages of the web face (and the shape Electron IPC replies use). */
export type ClientMessage = { id: number; method: ApiMethod; params: unknown[] };
export type ServerMessage =
  | { id: number; result: unknown }
  | { id: number; error: ApiError }
  | { event: StudioEvent };
