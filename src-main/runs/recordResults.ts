/**
 * Turns what workers report into stored rows and live events: training events (metrics, VLB snapshots,
 * noise scale, sampler weights, previews) and the results of sampling and evaluation jobs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as P from '../../src-shared/protocol';
import { createZip } from '../imageio/zip';
import type { MetricsWriter, Store } from '../store';
import type { JobRecord, SampleImage, SampleSetRecord, StepMetricRow } from '../store/types';
import type { EvalJobResult } from './evalJob';
import type { EventHub } from './eventHub';
import { toEvaluation, toSampleSet, toVlb, type UrlMapper } from './toProtocol';
import type { WireTrainEvent } from './workerMessages';

export interface Recorder {
  store: Store;
  hub: EventHub;
  urls: UrlMapper;
}

export function recordTrainEvent(r: Recorder, runId: string, e: WireTrainEvent, writer: MetricsWriter): void {
  switch (e.type) {
    case 'step': {
      const row: StepMetricRow = {
        step: e.step,
        time: Date.now(),
        loss: e.loss,
        mse: e.mse,
        vb: e.vb,
        gradNorm: e.gradNorm,
        lr: e.lr,
        samplesPerSec: e.samplesPerSec,
        stepMs: e.stepMs,
        lossQ: e.quartiles.loss,
        mseQ: e.quartiles.mse,
        vbQ: e.quartiles.vb,
      };
      writer.add(row);
      r.hub.rows(runId, [{ step: e.step, loss: e.loss, mse: e.mse, vb: e.vb, gradNorm: e.gradNorm, lr: e.lr, samplesPerSec: e.samplesPerSec, quartiles: [...e.quartiles.loss] }]);
      if (e.samplerWeights) {
        r.store.addSamplerWeights(runId, e.step, e.samplerWeights);
        r.hub.latest(`sw:${runId}`, { type: 'samplerWeights', runId, step: e.step, weights: e.samplerWeights });
      }
      break;
    }
    case 'vlbTerms': {
      const snap = { step: e.step, timesteps: e.timesteps, termsBpd: e.termsBpd, mse: e.mse, priorBpd: e.priorBpd, totalBpd: e.totalBpd, weights: e.weights, emaRate: e.emaRate, images: e.images };
      r.store.addVlbSnapshot(runId, snap);
      r.hub.emit({ type: 'vlb', runId, snapshot: toVlb({ ...snap, runId, createdAt: Date.now() }) });
      break;
    }
    case 'gns':
      r.store.addGns(runId, e);
      r.hub.emit({ type: 'gns', runId, point: { step: e.step, bSimple: e.bSimple, bSimpleRaw: e.bSimpleRaw } });
      break;
    case 'preview': {
      const id = r.store.addPreview(runId, { step: e.step, gridPath: e.file, count: e.count, samplingSteps: e.samplingSteps, emaRate: e.emaRate, weightsWhy: e.weightsWhy, seed: e.seed });
      const set = r.store.getSampleSet(id)!;
      r.hub.emit({ type: 'sampleSet', set: toSampleSet(set, set.images, r.urls) });
      break;
    }
    default:
      break;
  }
}

type SampleJobSettings = P.SampleSettings & { checkpointId: number; checkpointStep: number };

/** Stores a finished sampling job's images as a sample set; returns its id. */
export function recordSampleSet(r: Recorder, job: JobRecord, result: { grid: string; images: string[]; settings: Record<string, unknown> }): number {
  const s = job.settings as unknown as SampleJobSettings;
  const weights = result.settings.weights;
  const id = r.store.addSampleSet({
    kind: 'sample',
    runId: job.runId,
    checkpointId: job.checkpointId,
    jobId: job.id,
    step: s.checkpointStep,
    settings: result.settings,
    sampler: s.sampler,
    steps: (result.settings.steps as number) ?? s.steps,
    eta: s.sampler === 'ddim' ? s.eta : null,
    seed: s.seed,
    count: s.count,
    emaRate: typeof weights === 'string' && weights.startsWith('ema ') ? Number(weights.slice(4)) : null,
    gridPath: result.grid,
    status: 'done',
    images: result.images,
  });
  const set = r.store.getSampleSet(id)!;
  r.hub.emit({ type: 'sampleSet', set: toSampleSet(set, set.images, r.urls) });
  return id;
}

/** Stores a finished NLL evaluation; returns its id. */
export function recordEvaluation(r: Recorder, job: JobRecord, result: EvalJobResult): number {
  const id = r.store.addEvaluation({
    runId: job.runId,
    checkpointId: job.checkpointId,
    jobId: job.id,
    step: result.step,
    emaRate: result.emaRate,
    status: 'done',
    bpd: result.bpd,
    priorBpd: result.priorBpd,
    images: result.images,
    timesteps: result.timesteps,
    termsBpd: result.termsBpd,
    mse: result.mse,
    xstartMse: result.xstartMse,
  });
  r.hub.emit({ type: 'evaluation', evaluation: toEvaluation(r.store.getEvaluation(id)!) });
  return id;
}

/** A sample set's PNGs (with their embedded settings) and a manifest, as one zip. */
export function sampleSetZip(set: SampleSetRecord & { images: SampleImage[] }): Buffer {
  const entries = [];
  if (set.gridPath) entries.push({ name: 'grid.png', data: readFileSync(set.gridPath) });
  for (const im of set.images) entries.push({ name: path.basename(im.path), data: readFileSync(im.path) });
  const manifest = { id: set.id, runId: set.runId, step: set.step, sampler: set.sampler, steps: set.steps, eta: set.eta, seed: set.seed, count: set.count, emaRate: set.emaRate, settings: set.settings, files: entries.map((e) => e.name) };
  entries.push({ name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });
  return createZip(entries, { modified: new Date(set.createdAt) });
}
