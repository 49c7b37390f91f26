/**
 * What the store hands out and takes in: plain, JSON-safe records in camelCase. Rows never leave the
 * store as SQLite shapes (snake_case, blobs, JSON text), so callers (RunService, the serve face, tests)
 * depend on these types only and the schema can change under them through migrations.
 *
 * Arrays are `number[]` rather than typed arrays on purpose: records cross IPC and the WebSocket of the
 * serve face as JSON, where a Float32Array would turn into an object keyed by index.
 */
import type { RunConfig } from '../../src-shared/config/runConfig';

/** Lifecycle of a training run (ARCHITECTURE.md "Layers": runs). */
export type RunStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'interrupted' | 'stopped';
export const RUN_STATUSES = ['queued', 'running', 'paused', 'done', 'failed', 'interrupted', 'stopped'] as const satisfies readonly RunStatus[];
/** Statuses after which a run no longer moves by itself; entering one stamps `finishedAt`. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['done', 'failed', 'interrupted', 'stopped'];

export interface RunRecord {
  id: string;
  name: string;
  config: RunConfig;
  status: RunStatus;
  /** One-line description of the tfjs backend the worker ended up on, and why. */
  backend: string | null;
  /** One-line description of the training data (name, counts, size, source). */
  dataset: string | null;
  /** ms since the epoch. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  /** Last optimisation step whose metrics were stored (or that the run service reported). */
  step: number;
  maxSteps: number | null;
  /** Why the run failed, stopped or was interrupted; null while it is healthy. */
  error: string | null;
  runDir: string | null;
  /** The run this one was duplicated from. */
  parentId: string | null;
  /** Process id of the worker while one is attached; lets startup tell orphaned runs apart. */
  workerPid: number | null;
}

export interface NewRun {
  id: string;
  name: string;
  config: RunConfig;
  status?: RunStatus;
  runDir?: string | null;
  parentId?: string | null;
  /** Defaults to config.training.maxSteps. */
  maxSteps?: number | null;
  backend?: string | null;
  dataset?: string | null;
}

/** Fields updateRun may change; id, createdAt and updatedAt are the store's. Status goes through setStatus. */
export type RunPatch = Partial<
  Pick<RunRecord, 'name' | 'config' | 'backend' | 'dataset' | 'startedAt' | 'finishedAt' | 'step' | 'maxSteps' | 'error' | 'runDir' | 'parentId' | 'workerPid'>
>;

/** A run plus what the Runs view shows beside it, from one query. */
export interface RunSummary extends RunRecord {
  lastLoss: number | null;
  /** Wall time of the last stored step (ms epoch). */
  lastStepAt: number | null;
  samplesPerSec: number | null;
  /** Lowest NLL bound in bits/dim over evaluations and full (all-T) VLB snapshots. */
  bestBpd: number | null;
}

/** ⌊4t/T⌋ buckets as the reference logs loss_q0…q3; null where a bucket got no samples that step. */
export type Quartets = [number | null, number | null, number | null, number | null];

/** One optimisation step's scalars, as the trainer's StepEvent reports them plus the wall time. */
export interface StepMetricRow {
  step: number;
  /** ms since the epoch when the step finished. */
  time: number;
  loss: number;
  mse: number;
  /** null for L_simple, which has no vb term. */
  vb: number | null;
  gradNorm: number;
  lr: number;
  samplesPerSec: number;
  stepMs?: number | null;
  lossQ?: Quartets | null;
  mseQ?: Quartets | null;
  vbQ?: Quartets | null;
}

/** Scalars that can be read back as a chart series. */
export type MetricName =
  | 'loss'
  | 'mse'
  | 'vb'
  | 'gradNorm'
  | 'lr'
  | 'samplesPerSec'
  | 'stepMs'
  | 'lossQ0'
  | 'lossQ1'
  | 'lossQ2'
  | 'lossQ3'
  | 'mseQ0'
  | 'mseQ1'
  | 'mseQ2'
  | 'mseQ3'
  | 'vbQ0'
  | 'vbQ1'
  | 'vbQ2'
  | 'vbQ3';

/**
 * A chart series, column-wise. For a downsampled read each entry is one bucket of steps: `step` is its
 * last step, `value` the mean, `min`/`max` the envelope, `time` the wall time of its last step.
 * For a raw read min = max = value.
 */
export interface Series {
  step: number[];
  value: number[];
  min: number[];
  max: number[];
  time: number[];
}

export interface SeriesOptions {
  /** Most points to return (≥ 1). */
  points: number;
  /** Inclusive step range; defaults to the run's first and last stored step. */
  fromStep?: number;
  toStep?: number;
}

export interface RawSeriesOptions {
  fromStep?: number;
  toStep?: number;
  /** Safety cap on rows (default 10,000): use readSeries for whole runs. */
  limit?: number;
}

/** Per-t VLB terms on held-out images at one training step (paper Figure 2). */
export interface VlbSnapshot {
  runId: string;
  step: number;
  timesteps: number[];
  /** Mean vb term in bits/dim at each timestep. */
  termsBpd: number[];
  mse: number[];
  priorBpd: number;
  /** Σ terms + prior when every t was evaluated, else null. */
  totalBpd: number | null;
  weights: 'ema' | 'raw';
  emaRate: number | null;
  images: number;
  createdAt: number;
}
export type NewVlbSnapshot = Omit<VlbSnapshot, 'runId' | 'createdAt'> & { createdAt?: number };

/** Gradient noise scale estimate at one step (paper Figure 7). */
export interface GnsPoint {
  step: number;
  bSimple: number;
  bSimpleRaw: number;
  gradSq: number;
  traceSigma: number;
  bSmall: number;
  bBig: number;
}
export interface GnsSeries {
  step: number[];
  bSimple: number[];
  bSimpleRaw: number[];
  gradSq: number[];
  traceSigma: number[];
  bSmall: number[];
  bBig: number[];
}

/** Normalised importance-sampler weights over t at one step. */
export interface SamplerWeightsSnapshot {
  step: number;
  weights: number[];
}

export interface CheckpointRecord {
  id: number;
  runId: string;
  step: number;
  path: string;
  bytes: number;
  createdAt: number;
  emaRates: number[];
}
export interface NewCheckpoint {
  step: number;
  path: string;
  bytes: number;
  emaRates: number[];
  createdAt?: number;
}

export type SampleSetKind = 'sample' | 'preview';
export type SampleSetStatus = 'running' | 'done' | 'failed';
export type SamplerKind = 'ancestral' | 'ddim';

export interface SampleSetRecord {
  id: number;
  kind: SampleSetKind;
  runId: string | null;
  checkpointId: number | null;
  jobId: number | null;
  /** Training step of the weights that drew these images. */
  step: number | null;
  createdAt: number;
  /** Everything that made the images, as embedded in their PNGs. */
  settings: Record<string, unknown>;
  sampler: SamplerKind;
  steps: number;
  eta: number | null;
  seed: number;
  count: number;
  emaRate: number | null;
  gridPath: string | null;
  status: SampleSetStatus;
}
export interface NewSampleSet {
  kind?: SampleSetKind;
  runId?: string | null;
  checkpointId?: number | null;
  jobId?: number | null;
  step?: number | null;
  settings?: Record<string, unknown>;
  sampler: SamplerKind;
  steps: number;
  eta?: number | null;
  seed: number;
  count: number;
  emaRate?: number | null;
  gridPath?: string | null;
  status?: SampleSetStatus;
  /** Single-image files in index order. */
  images?: string[];
  createdAt?: number;
}
/** A preview grid drawn during training, stored as a sample set of kind 'preview'. */
export interface NewPreview {
  step: number;
  gridPath: string;
  count: number;
  samplingSteps: number;
  emaRate: number | null;
  /** Which weights drew it and why, shown with the preview. */
  weightsWhy?: string;
  seed: number;
  createdAt?: number;
}
export interface SampleImage {
  idx: number;
  path: string;
}
export interface SampleSetFilter {
  runId?: string;
  checkpointId?: number;
  sampler?: SamplerKind;
  kind?: SampleSetKind;
  limit?: number;
}

export type EvaluationStatus = 'running' | 'done' | 'failed';
export interface EvaluationRecord {
  id: number;
  runId: string | null;
  checkpointId: number | null;
  jobId: number | null;
  /** Training step of the evaluated weights. */
  step: number | null;
  emaRate: number | null;
  createdAt: number;
  status: EvaluationStatus;
  /** NLL bound in bits/dim (null until done). */
  bpd: number | null;
  priorBpd: number | null;
  images: number | null;
  timesteps: number[];
  termsBpd: number[];
  mse: number[];
  xstartMse: number[];
  error: string | null;
}
export interface NewEvaluation {
  runId?: string | null;
  checkpointId?: number | null;
  jobId?: number | null;
  step?: number | null;
  emaRate?: number | null;
  status?: EvaluationStatus;
  bpd?: number | null;
  priorBpd?: number | null;
  images?: number | null;
  timesteps?: number[];
  termsBpd?: number[];
  mse?: number[];
  xstartMse?: number[];
  error?: string | null;
  createdAt?: number;
}
export type EvaluationPatch = Omit<NewEvaluation, 'runId' | 'checkpointId' | 'jobId' | 'createdAt'>;

export type JobKind = 'sample' | 'eval' | 'quality';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['done', 'failed', 'cancelled'];
export interface JobRecord {
  id: number;
  kind: JobKind;
  runId: string | null;
  checkpointId: number | null;
  status: JobStatus;
  /** 0..1 (a quality job: within its current phase) */
  progress: number;
  /** What a job with phases is doing now (a quality job: 'classifier' | 'sampling' | 'features'), else null. */
  phase: string | null;
  settings: Record<string, unknown>;
  result: unknown;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}
export interface NewJob {
  kind: JobKind;
  runId?: string | null;
  checkpointId?: number | null;
  settings: Record<string, unknown>;
}
export interface JobPatch {
  status?: JobStatus;
  progress?: number;
  phase?: string | null;
  result?: unknown;
  error?: string | null;
}
export interface JobFilter {
  kind?: JobKind;
  runId?: string;
  status?: JobStatus | JobStatus[];
  limit?: number;
}

/** A sample-quality result as stored (quality_results); the JSON columns stay plain objects here. */
export interface QualityResultRecord {
  id: number;
  runId: string;
  checkpointId: number | null;
  jobId: number | null;
  /** The checkpoint's training step. */
  step: number;
  sweepId: string | null;
  sampler: string;
  steps: number;
  skipFraction: number;
  count: number;
  settings: Record<string, unknown>;
  report: Record<string, unknown>;
  classifier: Record<string, unknown>;
  createdAt: number;
}
export interface NewQualityResult {
  runId: string;
  checkpointId?: number | null;
  jobId?: number | null;
  step: number;
  sweepId?: string | null;
  sampler: string;
  steps: number;
  skipFraction?: number;
  count: number;
  settings: Record<string, unknown>;
  report: Record<string, unknown>;
  classifier: Record<string, unknown>;
  createdAt?: number;
}

/** Series the run detail view draws from step metrics. */
export const DETAIL_METRICS = ['loss', 'mse', 'vb', 'gradNorm', 'lr', 'samplesPerSec', 'lossQ0', 'lossQ1', 'lossQ2', 'lossQ3'] as const satisfies readonly MetricName[];
export type DetailMetric = (typeof DETAIL_METRICS)[number];

/** Everything the run detail view needs to draw itself from the database in one call. */
export interface RunDetail {
  run: RunSummary;
  series: Record<DetailMetric, Series>;
  /** Steps that have a VLB snapshot, ascending, and the newest snapshot itself. */
  vlbSteps: number[];
  vlbLatest: VlbSnapshot | null;
  gns: GnsSeries;
  samplerWeights: SamplerWeightsSnapshot | null;
  checkpoints: CheckpointRecord[];
  previews: SampleSetRecord[];
  evaluations: EvaluationRecord[];
}

/** What markInterruptedOnStartup changed. */
export interface StartupRecovery {
  /** Runs that were running (or queued with a worker attached) when the studio stopped. */
  runs: string[];
  /** Jobs that were running; they are marked failed. */
  jobs: number[];
}

/** Rows removed by truncateAfter, per table. */
export interface TruncateCounts {
  stepMetrics: number;
  vlbSnapshots: number;
  gns: number;
  samplerWeights: number;
  previews: number;
  checkpoints: number;
}
