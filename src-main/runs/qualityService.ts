/**
 * The run service's sample-quality jobs (kind 'quality'): checks and queues them, builds the worker request
 * (runQualityJob in a worker process, like sampling and NLL jobs), records each finished job's report in
 * quality_results, and answers what the Evaluate view and studies ask (results, a sweep, availability).
 *
 * A job's life is the same as a sampling job's: 'job' events (status queued → running → done | failed |
 * cancelled, progress within `phase`), cancelJob stops it (also while the classifier trains), and on done
 * its `resultId` is the quality result's id. RunService.waitForJob (awaitJob.ts) awaits that from service code.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { NO_LABELS_MESSAGE } from '../../src-shared/labelledData';
import type * as P from '../../src-shared/protocol';
import { sweepPoints } from '../../src-shared/qualitySweep';
import { asLabelledData, classifierKey, hasLabels, openDataset } from '../data';
import { readSafetensors } from '../imageio/safetensors';
import type { CheckpointRecord, JobRecord, QualityResultRecord, Store } from '../store';
import { ApiFailure } from './apiFailure';
import { checkQualityCommon, checkQualitySettings } from './jobSettings';
import { runDir } from './runFiles';
import type { JobRequest, QualityJobReply, QualityJobRequest } from './workerMessages';

/** What the quality jobs need of the run service (its private helpers, passed in). */
export interface QualityDeps {
  store: Store;
  dataDir: string;
  requireRun(runId: string): P.RunSummary;
  pickCheckpoint(runId: string, checkpointId?: number): CheckpointRecord;
  /** Queues the stored job and announces it; returns its summary. */
  enqueueJob(jobId: number): P.JobSummary;
  /** Classifier training settings for the worker (tests pass a short one; default: the engine's). */
  classifierTraining?: QualityJobRequest['classifierTraining'];
}

/** The settings a quality job row carries (what was asked, plus the checkpoint and sweep it belongs to). */
type StoredQualitySettings = P.QualitySettings & { checkpointId: number; checkpointStep: number; sweepId?: string; sweepPoint?: number };

export class QualityJobs {
  constructor(private readonly deps: QualityDeps) {}

  async start(settings: P.QualitySettings): Promise<P.JobSummary> {
    const run = this.deps.requireRun(settings?.runId);
    const cp = this.deps.pickCheckpoint(run.id, settings.checkpointId);
    checkQualitySettings(settings, run.config);
    await this.requireLabels(run.id);
    return this.create(run.id, cp, { ...settings, metrics: [...settings.metrics] });
  }

  async sweep(settings: P.QualitySweepSettings): Promise<P.QualitySweep> {
    const run = this.deps.requireRun(settings?.runId);
    const cp = this.deps.pickCheckpoint(run.id, settings.checkpointId);
    checkQualityCommon(settings);
    let points;
    try {
      points = sweepPoints(settings.steps, run.config.diffusion.steps, {
        ...(settings.samplers ? { samplers: settings.samplers } : {}),
        ...(settings.skipFraction !== undefined ? { skipFraction: settings.skipFraction } : {}),
        field: 'steps',
      });
    } catch (e) {
      throw new ApiFailure('bad-request', (e as Error).message, { field: 'steps' });
    }
    const { steps: _steps, samplers: _samplers, ...common } = settings;
    const sweepId = randomUUID();
    // Every point is checked before any is queued: a sweep starts whole or not at all.
    const each = points.map((p) => ({ ...common, metrics: [...settings.metrics], sampler: p.sampler, steps: p.steps, ...(p.sampler === 'ddim' ? { eta: 0 } : {}) }));
    for (const s of each) checkQualitySettings(s, run.config);
    await this.requireLabels(run.id);
    const jobs = each.map((s, i) => this.create(run.id, cp, { ...s, sweepId, sweepPoint: i }));
    return { sweepId, jobs };
  }

  private create(runId: string, cp: CheckpointRecord, settings: Omit<StoredQualitySettings, 'checkpointId' | 'checkpointStep'>): P.JobSummary {
    const stored: StoredQualitySettings = { ...settings, checkpointId: cp.id, checkpointStep: cp.step };
    const job = this.deps.store.createJob({ kind: 'quality', runId, checkpointId: cp.id, settings: stored as unknown as Record<string, unknown> });
    return this.deps.enqueueJob(job.id);
  }

  /** The worker request of a queued quality job. */
  request(job: JobRecord, cp: CheckpointRecord, backend: QualityJobRequest['backend']): JobRequest {
    const s = job.settings as unknown as StoredQualitySettings;
    const outDir = path.join(runDir(this.deps.dataDir, job.runId!), 'quality', `job-${String(job.id).padStart(5, '0')}`);
    return {
      kind: 'quality',
      options: {
        checkpoint: cp.path,
        dataDir: this.deps.dataDir,
        metrics: s.metrics,
        count: s.count,
        sampler: s.sampler,
        steps: s.steps,
        eta: s.eta ?? 0,
        seed: s.seed ?? 0,
        ...(s.emaRate !== undefined ? { emaRate: s.emaRate } : {}),
        ...(s.skipFraction !== undefined ? { skipFraction: s.skipFraction } : {}),
        ...(s.realCount !== undefined ? { realCount: s.realCount } : {}),
        ...(backend ? { backend } : {}),
        ...(this.deps.classifierTraining ? { classifierTraining: this.deps.classifierTraining } : {}),
        outDir,
      },
    };
  }

  /** Stores a finished job's report; returns the result id. */
  record(job: JobRecord, reply: QualityJobReply): number {
    const s = job.settings as unknown as StoredQualitySettings;
    return this.deps.store.addQualityResult({
      runId: job.runId!,
      checkpointId: job.checkpointId,
      jobId: job.id,
      step: s.checkpointStep,
      sweepId: s.sweepId ?? null,
      sampler: s.sampler,
      steps: s.steps,
      skipFraction: s.skipFraction ?? 0,
      count: s.count,
      settings: { ...s, sample: reply.sampleSettings },
      report: reply.report as unknown as Record<string, unknown>,
      classifier: { ...reply.classifier, trainedNow: reply.classifierTrainedNow },
    });
  }

  list(runId: string): P.QualityResult[] {
    this.deps.requireRun(runId);
    return this.deps.store.listQualityResults(runId).map(toQualityResult);
  }

  get(id: number): P.QualityResult | null {
    const r = this.deps.store.getQualityResult(id);
    return r ? toQualityResult(r) : null;
  }

  /** Refuses (before queuing) a run whose dataset has no labels: there is no classifier to measure with. */
  private async requireLabels(runId: string): Promise<void> {
    const a = await this.availability(runId);
    if (!a.labelled) throw new ApiFailure('bad-request', a.message ?? NO_LABELS_MESSAGE, { field: 'dataset' });
  }

  /** Whether the run's dataset has labels (opened once per dataset and size), and its cached classifier. */
  async availability(runId: string): Promise<P.QualityAvailability> {
    const run = this.deps.requireRun(runId);
    const target = { size: run.config.model.imageSize, channels: run.config.model.imageChannels };
    const key = classifierKey(run.config.dataset, target);
    let labelled = this.labelled.get(key);
    if (!labelled) {
      labelled = openDataset(run.config.dataset, target).then((ds) => {
        if (hasLabels(ds)) return { labelled: true, message: null };
        try {
          asLabelledData(ds);
        } catch (e) {
          return { labelled: false, message: (e as Error).message };
        }
        return { labelled: false, message: NO_LABELS_MESSAGE };
      });
      this.labelled.set(key, labelled);
      labelled.catch(() => this.labelled.delete(key)); // a missing folder may be there next time
    }
    const l = await labelled.catch((e: unknown) => ({ labelled: false, message: `the dataset cannot be read: ${(e as Error).message}` }));
    return { ...l, diffusionSteps: run.config.diffusion.steps, classifierAccuracy: cachedAccuracy(path.join(this.deps.dataDir, 'classifiers', `${key}.safetensors`)) };
  }

  private readonly labelled = new Map<string, Promise<{ labelled: boolean; message: string | null }>>();
}

function cachedAccuracy(file: string): number | null {
  try {
    const a = Number(readSafetensors(file).metadata?.held_out_accuracy);
    return Number.isFinite(a) ? a : null;
  } catch {
    return null; // not trained yet (or unreadable: the job will train it again)
  }
}

export function toQualityResult(r: QualityResultRecord): P.QualityResult {
  return {
    id: r.id,
    runId: r.runId,
    jobId: r.jobId,
    checkpointStep: r.step,
    createdAt: r.createdAt,
    sweepId: r.sweepId,
    sampler: r.sampler as P.SamplerName,
    steps: r.steps,
    skipFraction: r.skipFraction,
    count: r.count,
    settings: r.settings,
    report: r.report as unknown as P.QualityReport,
    classifier: r.classifier as unknown as P.QualityResult['classifier'],
  };
}
