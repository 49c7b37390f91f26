/**
 * `iddpm eval CHECKPOINT --metrics fid,kid,pr,is --count N`: sample-quality metrics of N samples against
 * the held-out images, on the dataset's own classifier (trained on first use, cached in the data
 * directory). The numbers are printed under their caveat and written to quality.json.
 *
 * With `--sweep-steps 10,25,50,100` (the paper's Figure 8) the same metrics at each K and at the full chain,
 * for respaced ancestral sampling and DDIM (η = 0): a table, sweep.json and sweep.csv.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { skipFractionProblem } from '../../../src-shared/diffusion/skipFraction';
import { parseQualityMetrics, type QualityMetric } from '../../../src-shared/qualityMetrics';
import { parseSweepSteps, sweepCsv, sweepPoints, sweepTable, type SweepPoint, type SweepRow } from '../../../src-shared/qualitySweep';
import type { BackendPreference } from '../../../src-shared/config/enums';
import type { QualityJobOptions, QualityPhase } from '../../runs/qualityJob';
import { UsageError, type OptionSpec } from '../args';
import { dataDirOf } from '../dataDir';
import { checkOutputFolder } from '../pathChecks';
import { Progress } from '../progress';
import { emaOption } from './sample';

/** Options `iddpm eval` takes for sample-quality metrics (merged into its own). */
export const QUALITY_OPTIONS: Record<string, OptionSpec> = {
  metrics: { type: 'string', description: 'sample-quality metrics instead of NLL: fid,kid,pr,is (or all)' },
  count: { type: 'integer', min: 4, description: 'with --metrics: images to sample (default 500)' },
  sampler: { type: 'string', description: 'with --metrics: ancestral (respaced) | ddim', choices: ['ancestral', 'ddim'] },
  steps: { type: 'integer', min: 1, description: 'with --metrics: sampling steps (default 50)' },
  eta: { type: 'number', min: 0, max: 1, description: 'with --metrics: DDIM η (default 0)' },
  'skip-fraction': {
    type: 'number',
    min: 0,
    max: 0.999,
    description: 'with --metrics: skip the first fraction f of the reverse process (paper Fig. 3): start from noise at step ⌊(1−f)·T⌋ (default 0)',
  },
  'sweep-steps': {
    type: 'string',
    description:
      'with --metrics: quality vs sampling steps (paper Fig. 8), e.g. 10,25,50,100: the metrics at each K and at the full chain T, each with respaced ancestral sampling and with DDIM (η = 0); prints a table, writes sweep.json and sweep.csv',
  },
  out: { type: 'string', description: 'with --metrics: output folder (default quality-<checkpoint>/ beside it; with --sweep-steps quality-sweep-<checkpoint>/)' },
};

type Common = Omit<QualityJobOptions, 'sampler' | 'steps' | 'eta' | 'outDir' | 'onProgress'>;

export async function evalQualityCommand(checkpoint: string, options: Record<string, unknown>): Promise<number> {
  let metrics: QualityMetric[];
  try {
    metrics = parseQualityMetrics(String(options.metrics));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sampler = (options.sampler as string | undefined) ?? 'ancestral';
  if (sampler !== 'ancestral' && sampler !== 'ddim') throw new UsageError(`--sampler must be ancestral or ddim, got '${sampler}'`);
  const count = (options.count as number | undefined) ?? 500;
  if (!(Number.isInteger(count) && count >= 4)) throw new UsageError(`--count must be a whole number ≥ 4, got ${count}`);
  const skipFraction = options['skip-fraction'] as number | undefined;
  // The data directory holds the classifier cache.
  const dataDir = dataDirOf(options);
  const { describeBackend } = await import('../../engine/backend/selectBackend');
  const common: Common = {
    checkpoint,
    dataDir,
    metrics,
    count,
    ...(options.seed !== undefined ? { seed: options.seed as number } : {}),
    ...(options.images !== undefined ? { realCount: options.images as number } : {}),
    ...(options.batch !== undefined ? { batchSize: options.batch as number } : {}),
    ...(options.ema !== undefined ? { emaRate: emaOption(options.ema) } : {}),
    ...(options.backend !== undefined ? { backend: options.backend as BackendPreference } : {}),
    ...(skipFraction !== undefined ? { skipFraction } : {}),
    onBackend: (b) => process.stderr.write(`backend: ${describeBackend(b)}\n`),
  };
  if (options['sweep-steps'] !== undefined) return sweepCommand(common, options);

  const { formatQualityReport, runQualityJob } = await import('../../runs/qualityJob');
  const outDir = options.out
    ? path.resolve(String(options.out))
    : path.join(path.dirname(path.resolve(checkpoint)), `quality-${path.basename(checkpoint, '.safetensors')}`);
  const r = await runQualityJob({
    ...common,
    sampler,
    outDir,
    ...(options.steps !== undefined ? { steps: options.steps as number } : {}),
    ...(options.eta !== undefined ? { eta: options.eta as number } : {}),
    onProgress: progressBars(''),
  });
  if (r.classifierTrainedNow) process.stderr.write(`classifier trained and cached: ${r.classifierFile}\n`);
  process.stdout.write(`${formatQualityReport(r.report)}report: ${r.reportFile}\nsamples: ${r.samplesDir}\n`);
  return 0;
}

/** One progress bar per phase, labelled with `prefix` (the sweep point). */
function progressBars(prefix: string): (phase: QualityPhase, done: number, total: number) => void {
  const bars = new Map<QualityPhase, Progress>();
  const units: Record<QualityPhase, string> = { classifier: 'batches', sampling: 'calls', features: 'images' };
  return (phase, done, total) => {
    let bar = bars.get(phase);
    if (!bar) {
      bar = new Progress(`${prefix}${phase === 'classifier' ? 'training the classifier' : phase}`, total, process.stderr, units[phase]);
      bars.set(phase, bar);
    }
    bar.update(done);
  };
}

/** `--sweep-steps`: every point is checked (K ≤ T, distinct, DDIM strides) before the first image is drawn. */
async function sweepCommand(common: Common, options: Record<string, unknown>): Promise<number> {
  for (const flag of ['sampler', 'steps', 'eta']) {
    if (options[flag] !== undefined) {
      throw new UsageError(`--${flag} cannot be used with --sweep-steps: a sweep measures every K with both respaced ancestral sampling and DDIM (η = 0); drop --${flag}`);
    }
  }
  let ks: number[];
  try {
    ks = parseSweepSteps(String(options['sweep-steps']), '--sweep-steps');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { readCheckpointInfo } = await import('../../engine/checkpoint/trainCheckpoint');
  const T = readCheckpointInfo(common.checkpoint).config.diffusion.steps;
  const skipProblem = common.skipFraction === undefined ? null : skipFractionProblem(common.skipFraction, T);
  if (skipProblem) throw new UsageError(`--skip-fraction: ${skipProblem}`);
  let points: SweepPoint[];
  try {
    points = sweepPoints(ks, T, { field: '--sweep-steps', ...(common.skipFraction !== undefined ? { skipFraction: common.skipFraction } : {}) });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const outDir = options.out
    ? path.resolve(String(options.out))
    : path.join(path.dirname(path.resolve(common.checkpoint)), `quality-sweep-${path.basename(common.checkpoint, '.safetensors')}`);
  checkOutputFolder(outDir, '--out');
  if (existsSync(path.join(outDir, 'sweep.json'))) throw new UsageError(`--out ${outDir} already holds a sweep (sweep.json): choose another folder`);

  const { runQualityJob } = await import('../../runs/qualityJob');
  process.stderr.write(`sweep: ${points.length} points (${[...new Set(points.map((p) => p.steps))].join(', ')} steps × ancestral, DDIM η = 0), ${common.count} samples each\n`);
  const rows: (SweepRow & { dir: string; report: Awaited<ReturnType<typeof runQualityJob>>['report'] })[] = [];
  let caveat = '';
  let classifier: Awaited<ReturnType<typeof runQualityJob>>['classifier'] | null = null;
  for (const [i, p] of points.entries()) {
    const dir = path.join(outDir, `${p.sampler}-${p.steps}`);
    const r = await runQualityJob({
      ...common,
      sampler: p.sampler,
      steps: p.steps,
      eta: 0,
      outDir: dir,
      onProgress: progressBars(`[${i + 1}/${points.length}] ${p.sampler} ${p.steps}: `),
    });
    if (r.classifierTrainedNow) process.stderr.write(`classifier trained and cached: ${r.classifierFile}\n`);
    caveat = r.report.caveat;
    classifier = r.classifier;
    rows.push({ ...p, report: r.report, dir: path.relative(outDir, dir) });
  }
  const record = {
    caveat,
    checkpoint: path.resolve(common.checkpoint),
    diffusionSteps: T,
    skipFraction: common.skipFraction ?? 0,
    count: common.count,
    metrics: common.metrics,
    seed: common.seed ?? 0,
    classifier,
    points: rows,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'sweep.json'), `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'sweep.csv'), sweepCsv(rows));
  const accuracy = classifier ? `; classifier held-out accuracy ${(100 * classifier.heldOutAccuracy).toFixed(1)}%` : '';
  process.stdout.write(`(${caveat})\n${common.count} samples per point${accuracy}\n${sweepTable(rows)}sweep: ${path.join(outDir, 'sweep.json')}\ncsv: ${path.join(outDir, 'sweep.csv')}\n`);
  return 0;
}
