/**
 * The typed message channel between the run service and a worker process. One worker runs one job
 * (a training run, a sampling job or an evaluation) and exits; messages are structured-cloned JSON.
 */
import type { RunConfig } from '../../src-shared/config/runConfig';
import type { BackendAvailability } from '../../src-shared/protocol';
import type { BackendReport } from '../engine/backend/selectBackend';
import type { TrainEvent } from '../engine/train/events';
import type { EvalJobResult } from './evalJob';
import type { SampleSettings } from './sampleJob';
import type { QualityJobOptions, QualityJobResult } from './qualityJob';

/** What the service sends for a quality job: runQualityJob's options without the callbacks. */
export type QualityJobRequest = Omit<QualityJobOptions, 'signal' | 'onBackend' | 'onProgress'>;
/** A quality job's result over the channel (the report is plain data). */
export type QualityJobReply = Omit<QualityJobResult, 'report'> & { report: QualityJobResult['report'] };

export type JobRequest =
  | { kind: 'train'; runDir: string; config: RunConfig; untilStep?: number; resumeFrom?: string }
  | { kind: 'sample'; settings: SampleSettings; outDir: string }
  | { kind: 'eval'; checkpoint: string; emaRate?: number | null; images: number; seed?: number; backend?: RunConfig['training']['backend'] }
  /** Sample-quality metrics (qualityJob.ts); progress messages carry the phase. */
  | { kind: 'quality'; options: QualityJobRequest }
  /** Which backends this machine has (answers with done.result.backends). */
  | { kind: 'backends' };

/** Service → worker. */
export type ToWorker = { type: 'start'; job: JobRequest } | { type: 'stop' };

/** A train event as sent over the channel (preview pixels travel as a file path instead of bytes). */
export type WireTrainEvent = Exclude<TrainEvent, { type: 'preview' }> | { type: 'preview'; step: number; file: string; count: number; size: number; channels: number; samplingSteps: number; emaRate: number | null; weightsWhy?: string; seed: number };

/** Worker → service. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'backend'; report: BackendReport }
  | { type: 'dataset'; description: string }
  | { type: 'train'; event: WireTrainEvent }
  | { type: 'checkpoint'; step: number; file: string; bytes: number }
  /** `phase`: a quality job's 'classifier' | 'sampling' | 'features' (absent for one-phase jobs). */
  | { type: 'progress'; done: number; total: number; phase?: string }
  | { type: 'done'; result: { step?: number; lastCheckpoint?: string | null; sample?: { grid: string; images: string[]; settings: Record<string, unknown> }; eval?: EvalJobResult; quality?: QualityJobReply; backends?: BackendAvailability[] } }
  /** `failed`: the job itself cannot go on (bad data, NaN stop, full disk); the worker exits after it. */
  | { type: 'error'; message: string; stopped: boolean };
