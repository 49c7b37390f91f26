/**
 * `iddpm eval CHECKPOINT --metrics fid,kid,pr,is --count N`: sample-quality metrics of N samples against
 * the held-out images, on the dataset's own classifier (trained on first use, cached in the data
 * directory). The numbers are printed under their caveat and written to quality.json.
 */
import path from 'node:path';
import { parseQualityMetrics } from '../../../src-shared/qualityMetrics';
import type { BackendPreference } from '../../../src-shared/config/enums';
import type { QualityPhase } from '../../runs/qualityJob';
import { UsageError, type OptionSpec } from '../args';
import { dataDirOf } from '../dataDir';
import { Progress } from '../progress';
import { emaOption } from './sample';

/** Options `iddpm eval` takes for sample-quality metrics (merged into its own). */
export const QUALITY_OPTIONS: Record<string, OptionSpec> = {
  metrics: { type: 'string', description: 'sample-quality metrics instead of NLL: fid,kid,pr,is (or all)' },
  count: { type: 'integer', min: 4, description: 'with --metrics: images to sample (default 500)' },
  sampler: { type: 'string', description: 'with --metrics: ancestral (respaced) | ddim', choices: ['ancestral', 'ddim'] },
  steps: { type: 'integer', min: 1, description: 'with --metrics: sampling steps (default 50)' },
  eta: { type: 'number', min: 0, max: 1, description: 'with --metrics: DDIM η (default 0)' },
  out: { type: 'string', description: 'with --metrics: output folder (default quality-<checkpoint>/ beside it)' },
};

export async function evalQualityCommand(checkpoint: string, options: Record<string, unknown>): Promise<number> {
  let metrics;
  try {
    metrics = parseQualityMetrics(String(options.metrics));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sampler = (options.sampler as string | undefined) ?? 'ancestral';
  if (sampler !== 'ancestral' && sampler !== 'ddim') throw new UsageError(`--sampler must be ancestral or ddim, got '${sampler}'`);
  const count = (options.count as number | undefined) ?? 500;
  if (!(Number.isInteger(count) && count >= 4)) throw new UsageError(`--count must be a whole number ≥ 4, got ${count}`);
  // The data directory holds the classifier cache.
  const dataDir = dataDirOf(options);
  const { describeBackend } = await import('../../engine/backend/selectBackend');
  const { formatQualityReport, runQualityJob } = await import('../../runs/qualityJob');
  const outDir = options.out
    ? path.resolve(String(options.out))
    : path.join(path.dirname(path.resolve(checkpoint)), `quality-${path.basename(checkpoint, '.safetensors')}`);
  const bars = new Map<QualityPhase, Progress>();
  const units: Record<QualityPhase, string> = { classifier: 'batches', sampling: 'calls', features: 'images' };
  const r = await runQualityJob({
    checkpoint,
    dataDir,
    metrics,
    count,
    sampler,
    outDir,
    ...(options.steps !== undefined ? { steps: options.steps as number } : {}),
    ...(options.eta !== undefined ? { eta: options.eta as number } : {}),
    ...(options.seed !== undefined ? { seed: options.seed as number } : {}),
    ...(options.images !== undefined ? { realCount: options.images as number } : {}),
    ...(options.batch !== undefined ? { batchSize: options.batch as number } : {}),
    ...(options.ema !== undefined ? { emaRate: emaOption(options.ema) } : {}),
    ...(options.backend !== undefined ? { backend: options.backend as BackendPreference } : {}),
    onBackend: (b) => process.stderr.write(`backend: ${describeBackend(b)}\n`),
    onProgress: (phase, done, total) => {
      let bar = bars.get(phase);
      if (!bar) {
        bar = new Progress(phase === 'classifier' ? 'training the classifier' : phase, total, process.stderr, units[phase]);
        bars.set(phase, bar);
      }
      bar.update(done);
    },
  });
  if (r.classifierTrainedNow) process.stderr.write(`classifier trained and cached: ${r.classifierFile}\n`);
  process.stdout.write(`${formatQualityReport(r.report)}report: ${r.reportFile}\nsamples: ${r.samplesDir}\n`);
  return 0;
}
