/**
 * Store records → the StudioApi's reply shapes. File paths become URLs the current face can load.
 */
import path from 'node:path';
import type * as P from '../../src-shared/protocol';
import { defaultWeights, initialWeightShare } from '../../src-shared/emaWeights';
import type {
  CheckpointRecord,
  EvaluationRecord,
  JobRecord,
  RunSummary as StoreRunSummary,
  SampleImage as StoreSampleImage,
  SampleSetRecord,
  Series as StoreSeries,
  VlbSnapshot as StoreVlb,
} from '../store/types';

/** protocol metric name → store metric name */
export const METRIC_TO_STORE: Record<P.MetricName, string> = {
  loss: 'loss',
  mse: 'mse',
  vb: 'vb',
  gradNorm: 'gradNorm',
  lr: 'lr',
  samplesPerSec: 'samplesPerSec',
  loss_q0: 'lossQ0',
  loss_q1: 'lossQ1',
  loss_q2: 'lossQ2',
  loss_q3: 'lossQ3',
};

export class UrlMapper {
  constructor(
    readonly dataDir: string,
    /** '/files/' for the web face; the app's protocol prefix inside Electron. */
    readonly prefix: string,
  ) {}

  url(file: string | null): string | null {
    if (!file) return null;
    const rel = path.relative(this.dataDir, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    return `${this.prefix}${rel.split(path.sep).map(encodeURIComponent).join('/')}`;
  }

  /** A URL path under the prefix → an absolute file inside the data directory, or null. */
  resolve(urlPath: string): string | null {
    const clean = urlPath.split('?')[0];
    if (!clean.startsWith(this.prefix)) return null;
    let rel: string;
    try {
      rel = decodeURIComponent(clean.slice(this.prefix.length));
    } catch {
      return null;
    }
    const file = path.resolve(this.dataDir, rel);
    const inside = path.relative(this.dataDir, file);
    if (!inside || inside.startsWith('..') || path.isAbsolute(inside)) return null;
    return file;
  }
}

export function toRunSummary(r: StoreRunSummary, lastCheckpointStep: number | null): P.RunSummary {
  const preset = (r.config as unknown as { preset?: string }).preset ?? null;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    reason: r.error,
    backend: r.backend,
    step: r.step,
    maxSteps: r.maxSteps,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    stepsPerSec: r.samplesPerSec !== null && r.config.training.batchSize ? r.samplesPerSec / r.config.training.batchSize : null,
    lastLoss: r.lastLoss,
    bestBpd: r.bestBpd,
    lastCheckpointStep,
    preset,
    config: r.config,
  };
}

export function toSeries(s: StoreSeries): P.Series {
  return { step: s.step, value: s.value, min: s.min, max: s.max };
}

export function toVlb(s: StoreVlb): P.VlbSnapshot {
  return { step: s.step, timesteps: s.timesteps, termsBpd: s.termsBpd, mse: s.mse, priorBpd: s.priorBpd, totalBpd: s.totalBpd };
}

/** `emaWarmup`: the run's training.emaWarmup, which with the step and rates gives the EMAs' initial shares. */
export function toCheckpoint(c: CheckpointRecord, emaWarmup: boolean): P.CheckpointInfo {
  const choice = defaultWeights(c.emaRates, c.step, emaWarmup);
  return {
    id: c.id,
    runId: c.runId,
    step: c.step,
    path: c.path,
    bytes: c.bytes,
    createdAt: c.createdAt,
    emaRates: c.emaRates,
    emaInitialShares: c.emaRates.map((r) => initialWeightShare(r, c.step, emaWarmup)),
    defaultEmaRate: choice.emaRate,
    defaultWeightsWhy: choice.reason,
  };
}

export function toSampleSet(s: SampleSetRecord, images: StoreSampleImage[], urls: UrlMapper): P.SampleSet {
  return {
    id: s.id,
    runId: s.runId,
    kind: s.kind === 'preview' ? 'preview' : 'samples',
    createdAt: s.createdAt,
    checkpointStep: s.step,
    sampler: s.sampler,
    steps: s.steps,
    eta: s.eta,
    seed: s.seed,
    count: s.count,
    settings: s.settings,
    gridUrl: urls.url(s.gridPath),
    images: images.map((im) => ({ index: im.idx, url: urls.url(im.path) ?? '' })),
  };
}

export function toJob(j: JobRecord): P.JobSummary {
  const result = (j.result ?? null) as { resultId?: number } | null;
  return {
    id: j.id,
    kind: j.kind,
    runId: j.runId ?? '',
    status: j.status,
    progress: j.progress,
    phase: j.phase,
    error: j.error,
    createdAt: j.createdAt,
    finishedAt: j.finishedAt,
    settings: j.settings,
    resultId: result?.resultId ?? null,
  };
}

export function toEvaluation(e: EvaluationRecord): P.Evaluation {
  return {
    id: e.id,
    runId: e.runId ?? '',
    checkpointStep: e.step ?? 0,
    createdAt: e.createdAt,
    bpd: e.bpd ?? NaN,
    priorBpd: e.priorBpd ?? NaN,
    images: e.images ?? 0,
    timesteps: e.timesteps,
    termsBpd: e.termsBpd,
    mse: e.mse,
  };
}
