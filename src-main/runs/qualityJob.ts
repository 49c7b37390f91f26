/**
 * A sample-quality job: samples N images from a checkpoint (the sampling job), gets the dataset's feature
 * classifier (cached in <data>/classifiers/, trained on first use) and measures FID / KID / precision-recall /
 * the IS analogue and class histogram of the samples against the held-out images. Writes the samples and
 * quality.json (the report, with its caveat, and every setting) to `outDir`.
 *
 * The CLI runs it in its own process (`iddpm eval --metrics`); the run service runs it in a worker process
 * as its 'quality' job (qualityService.ts, workerMain.ts).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendPreference } from '../../src-shared/config/enums';
import type { QualityMetric } from '../../src-shared/qualityMetrics';
import { asLabelledData, classifierKey, openDataset } from '../data';
import { readCheckpointInfo } from '../engine/checkpoint/trainCheckpoint';
import { obtainClassifier, sampleQuality, type SampleQualityReport } from '../engine/classifier';
import type { ClassifierTrainOptions } from '../engine/classifier';
import { selectBackend, type BackendReport } from '../engine/backend/selectBackend';
import { ensureDir } from './runFiles';
import { runSampleJob, type SamplerName } from './sampleJob';

export type QualityPhase = 'classifier' | 'sampling' | 'features';

export interface QualityJobOptions {
  checkpoint: string;
  /** The studio's data directory: the classifier is cached in <dataDir>/classifiers/. */
  dataDir: string;
  metrics: readonly QualityMetric[];
  /** Images to generate. */
  count: number;
  /** Held-out images to compare with (default: all of the split). */
  realCount?: number;
  sampler?: SamplerName;
  steps?: number;
  eta?: number;
  seed?: number;
  emaRate?: number | null;
  /** Skip the first fraction of the reverse process (src-shared/diffusion/skipFraction.ts); default 0. */
  skipFraction?: number;
  batchSize?: number;
  backend?: BackendPreference;
  outDir: string;
  /** Classifier training settings (tests use a short one). */
  classifierTraining?: Omit<ClassifierTrainOptions, 'onProgress' | 'signal'>;
  signal?: AbortSignal;
  onBackend?: (r: BackendReport) => void;
  onProgress?: (phase: QualityPhase, done: number, total: number) => void;
}

export interface QualityJobResult {
  report: SampleQualityReport;
  classifierFile: string;
  classifierTrainedNow: boolean;
  /** The classifier the numbers were measured on. */
  classifier: { datasetKey: string; heldOutAccuracy: number; heldOutCount: number };
  /** The sampling settings the samples were drawn with (as in their PNGs, without the run config). */
  sampleSettings: Record<string, unknown>;
  samplesDir: string;
  reportFile: string;
}

export async function runQualityJob(opts: QualityJobOptions): Promise<QualityJobResult> {
  if (opts.metrics.length === 0) throw new RangeError('give at least one metric (fid, kid, pr, is)');
  if (!(Number.isInteger(opts.count) && opts.count >= 4)) {
    throw new RangeError(`--count must be a whole number ≥ 4 for sample-quality metrics, got ${opts.count}`);
  }
  const { config } = readCheckpointInfo(opts.checkpoint);
  // The backend first: the classifier may be trained before the sampling job would pick it.
  opts.onBackend?.(await selectBackend(opts.backend ?? 'auto'));
  const target = { size: config.model.imageSize, channels: config.model.imageChannels };
  const dataset = await openDataset(config.dataset, target);
  // Refuses a dataset without labels with "no labels: NLL only" before any sampling is spent.
  const data = asLabelledData(dataset);
  const key = classifierKey(config.dataset, target);
  const classifierFile = path.join(opts.dataDir, 'classifiers', `${key}.safetensors`);
  const classifier = await obtainClassifier(classifierFile, key, data, {
    ...opts.classifierTraining,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (done, total) => opts.onProgress?.('classifier', done, total),
  });

  const samplesDir = path.join(opts.outDir, 'samples');
  const sampler = opts.sampler ?? 'ancestral';
  const samples = await runSampleJob({
    checkpoint: opts.checkpoint,
    ...(opts.emaRate !== undefined ? { emaRate: opts.emaRate } : {}),
    sampler,
    steps: opts.steps ?? 50,
    eta: opts.eta ?? 0,
    count: opts.count,
    seed: opts.seed ?? 0,
    ...(opts.skipFraction !== undefined ? { skipFraction: opts.skipFraction } : {}),
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
    ...(opts.backend ? { backend: opts.backend } : {}),
    outDir: samplesDir,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (done, total) => opts.onProgress?.('sampling', done, total),
  });
  // The sampled uint8 pixels back to [−1, 1], the scale the classifier was trained on.
  const generated = Float32Array.from(samples.pixels, (v) => v / 127.5 - 1);

  const report = await sampleQuality({
    classifier,
    datasetName: dataset.name,
    generated,
    generatedCount: opts.count,
    real: data.heldOut,
    ...(opts.realCount !== undefined ? { realCount: opts.realCount } : {}),
    metrics: opts.metrics,
    seed: opts.seed ?? 0,
    control: {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (done, total) => opts.onProgress?.('features', done, total),
    },
  });
  ensureDir(opts.outDir);
  const reportFile = path.join(opts.outDir, 'quality.json');
  const record = {
    report,
    classifier: { datasetKey: key, heldOutAccuracy: classifier.heldOutAccuracy, heldOutCount: classifier.heldOutCount },
    classifierFile,
    samples: samples.settings,
    dataset: { name: dataset.name, heldOutRule: dataset.heldOutRule },
  };
  writeFileSync(reportFile, `${JSON.stringify(record, null, 2)}\n`);
  const { config: _config, ...sampleSettings } = samples.settings;
  return {
    report,
    classifierFile,
    classifierTrainedNow: classifier.trainedNow,
    classifier: record.classifier,
    sampleSettings,
    samplesDir,
    reportFile,
  };
}

/** The report as lines for a terminal, the caveat first. */
export function formatQualityReport(r: SampleQualityReport): string {
  const lines = [`(${r.caveat})`, `${r.generatedCount} samples against ${r.realCount} held-out images; classifier held-out accuracy ${(100 * r.classifierAccuracy).toFixed(1)}%`];
  if (r.fid !== undefined) lines.push(`FID        ${r.fid.toFixed(3)}`);
  if (r.kid) lines.push(`KID        ${r.kid.mean.toExponential(3)} ± ${r.kid.std.toExponential(2)} (${r.kid.subsets} subsets of ${r.kid.subsetSize})`);
  if (r.precision !== undefined) lines.push(`precision  ${r.precision.toFixed(3)}   recall ${r.recall!.toFixed(3)} (k = 3)`);
  if (r.inceptionScore) lines.push(`IS (analogue) ${r.inceptionScore.mean.toFixed(3)} ± ${r.inceptionScore.std.toFixed(3)} (${r.inceptionScore.splits} splits)`);
  if (r.classHistogram) {
    const h = r.classHistogram;
    lines.push(`classes    ${h.covered} of ${h.counts.length} covered; samples per class ${h.counts.join(' ')} (real ${h.realCounts.join(' ')}); total variation ${h.totalVariation!.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}
