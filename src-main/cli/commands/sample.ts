/**
 * `iddpm sample CHECKPOINT|RUN_ID`: draws images from a checkpoint in this process and writes a PNG grid,
 * single PNGs and a manifest. Every check that can fail (arguments, the checkpoint, the output folder, the
 * step count against the model's T) runs before the first image is computed; tfjs loads only after the
 * arguments parse.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_PREFERENCES, type BackendPreference } from '../../../src-shared/config/enums';
import { spaceTimesteps } from '../../../src-shared/diffusion/respacing';
import { skipFractionProblem, stepsAfterSkip } from '../../../src-shared/diffusion/skipFraction';
import { expectPositional, helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { resolveCheckpoint } from '../checkpointArg';
import { DATA_OPTION, dataDirOf, dataFlagOf } from '../dataDir';
import { checkDefaultPath, checkOutputFolder } from '../pathChecks';
import { Progress } from '../progress';

/** A seed is a uint32 (the RNG's state), as for training.seed. */
export const MAX_SEED = 2 ** 32 - 1;
/** Beyond these a single command is the wrong tool: split the work (memory for a batch, disk for a count). */
const MAX_COUNT = 10_000;
const MAX_BATCH = 1024;

const OPTIONS: Record<string, OptionSpec> = {
  ema: { type: 'string', description: "EMA rate to sample from, or 'raw' (default: the first EMA; raw while it still holds >10% of the initial weights)" },
  sampler: { type: 'string', description: 'ancestral (respaced) | ddim', choices: ['ancestral', 'ddim'] },
  steps: { type: 'integer', min: 1, description: "sampling steps, at most the model's T (or the steps --skip-fraction leaves) (default 50, or all of them if fewer)" },
  eta: { type: 'number', min: 0, max: 1, maxHint: 'η = 1 already adds as much noise as ancestral sampling', description: 'DDIM η (default 0: deterministic)' },
  'skip-fraction': {
    type: 'number',
    min: 0,
    max: 0.999,
    maxHint: '0 runs the whole reverse process, 0.2 skips its first 20%',
    description: "skip the first fraction f ∈ [0, 1) of the reverse process, the paper's Fig. 3: sampling starts from noise at step ⌊(1−f)·T⌋ (default 0)",
  },
  count: { type: 'integer', min: 1, max: MAX_COUNT, maxHint: 'draw more in several commands with different --seed values', description: 'images to draw (default 16)' },
  seed: { type: 'integer', min: 0, max: MAX_SEED, description: 'random seed (default 0)' },
  batch: { type: 'integer', min: 1, max: MAX_BATCH, maxHint: 'larger batches only need more memory', description: 'images per network call (default 16)' },
  out: { type: 'string', description: 'output folder (default: samples/ beside the run, or beside the checkpoint file)' },
  'no-clip': { type: 'boolean', description: 'do not clip x̂₀ to [−1, 1]' },
  backend: { type: 'string', description: BACKEND_PREFERENCES.join(' | '), choices: BACKEND_PREFERENCES },
  ...DATA_OPTION,
  help: { type: 'boolean', description: 'show this help' },
};

export const sampleUsage = helpText(
  "iddpm sample CHECKPOINT [options]\n\nCHECKPOINT is a .safetensors file, or a run id (its newest checkpoint) of the data directory.",
  OPTIONS,
);

export function emaOption(value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'raw') return null;
  const n = /^\d*\.\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!(n > 0 && n < 1)) throw new UsageError(`--ema must be a rate in (0, 1) such as 0.9999, or 'raw' for the raw weights; got '${String(value)}'`);
  return n;
}

/** The checkpoint's EMA rates must include the one asked for (checked before the weights load). */
export function checkEmaRate(emaRate: number | null | undefined, emaRates: readonly number[], checkpoint: string): void {
  if (emaRate === undefined || emaRate === null || emaRates.includes(emaRate)) return;
  throw new UsageError(`--ema ${emaRate}: ${checkpoint} keeps ${emaRates.length ? `EMA rates ${emaRates.join(', ')}` : 'no EMA weights'}; give one of them or --ema raw`);
}

/**
 * The step count must fit the model's T, and with a skip fraction f the ⌊(1−f)·T⌋ steps it leaves: refused,
 * not clamped, so the settings recorded with the images are the ones asked for. DDIM takes every k-th step of
 * those, so only some counts exist for a given T and f.
 */
export function checkSteps(sampler: 'ancestral' | 'ddim', steps: number, T: number, skipFraction = 0): void {
  if (steps > T) {
    throw new UsageError(`--steps ${steps} is more than this model's ${T} diffusion steps (T): give at most ${T}`);
  }
  const left = stepsAfterSkip(T, skipFraction);
  const of = skipFraction > 0 ? `the ${left} steps left after --skip-fraction ${skipFraction} (⌊(1−f)·T⌋, T = ${T})` : `T=${T}`;
  if (steps > left) throw new UsageError(`--steps ${steps} is more than ${of}: give at most ${left}`);
  if (sampler !== 'ddim') return;
  try {
    spaceTimesteps(left, `ddim${steps}`);
  } catch {
    // The counts a stride gives, ⌈n/k⌉ (k < n), and the nearest of them on either side of the one asked for.
    const valid = Array.from({ length: left - 1 }, (_, i) => Math.ceil(left / (i + 1)));
    const below = Math.max(...valid.filter((v) => v < steps));
    const above = Math.min(...valid.filter((v) => v > steps));
    const near = [below, above].filter(Number.isFinite);
    throw new UsageError(`--steps ${steps} cannot be used with DDIM on ${of} (it takes every k-th step, giving ${skipFraction > 0 ? 'those' : 'T'}/k rounded up): the nearest that work are ${near.join(' and ')}`);
  }
}

/** `--skip-fraction` against the model's T (its range is checked as it parses): it must leave a step. */
export function checkSkipFraction(skipFraction: number, T: number): void {
  const problem = skipFractionProblem(skipFraction, T);
  if (problem) throw new UsageError(`--skip-fraction ${problem.replace(/^skipFraction /, '')}`);
}

/** The folder the images go to: creatable or writable, and not holding another sample set (it would be overwritten). */
function checkSampleFolder(dir: string, flag: string): void {
  checkOutputFolder(dir, flag);
  if (existsSync(dir) && readdirSync(dir).some((f) => f === 'grid.png' || f === 'manifest.json')) {
    throw new UsageError(`${flag} ${dir} already holds samples (grid.png, manifest.json): give a new folder, or delete those first`);
  }
}

/** samples/<stamp>-<sampler><steps> in the run folder, or beside a checkpoint that is not in one; never an existing folder. */
function defaultOutDir(checkpoint: string, sampler: string, steps: number): string {
  const folder = path.dirname(checkpoint);
  const base = path.basename(folder) === 'checkpoints' ? path.dirname(folder) : folder;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = `${stamp}-${sampler}${steps}`;
  for (let n = 1; ; n++) {
    const dir = path.join(base, 'samples', n === 1 ? name : `${name}-${n}`);
    if (!existsSync(dir)) return dir;
  }
}

export async function sampleCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(sampleUsage);
    return 0;
  }
  if (!positional[0]) throw new UsageError(`give the checkpoint file (or a run id) to sample from\n\n${sampleUsage}`);
  expectPositional(positional, ['CHECKPOINT'], sampleUsage);
  const sampler = (options.sampler ?? 'ancestral') as 'ancestral' | 'ddim';
  if (options.eta !== undefined && sampler !== 'ddim') throw new UsageError('--eta is a DDIM setting: add --sampler ddim, or drop --eta');
  const emaRate = emaOption(options.ema);
  const checkpoint = resolveCheckpoint(positional[0], dataDirOf(options), dataFlagOf(options));
  const outGiven = options.out ? path.resolve(String(options.out)) : undefined;
  if (outGiven) checkSampleFolder(outGiven, '--out');

  // The checkpoint's header says T and which weights it keeps: check --steps and --ema against them.
  const { readCheckpointInfo } = await import('../../engine/checkpoint/trainCheckpoint');
  const info = readCheckpointInfo(checkpoint);
  const T = info.config.diffusion.steps;
  const skipFraction = (options['skip-fraction'] as number | undefined) ?? 0;
  checkSkipFraction(skipFraction, T);
  const steps = (options.steps as number | undefined) ?? Math.min(50, stepsAfterSkip(T, skipFraction));
  checkSteps(sampler, steps, T, skipFraction);
  checkEmaRate(emaRate, info.emaRates, checkpoint);

  const outDir = outGiven ?? defaultOutDir(checkpoint, sampler, steps);
  if (!outGiven) checkDefaultPath(() => checkSampleFolder(outDir, 'the output folder'), '--out DIR');

  const { describeBackend } = await import('../../engine/backend/selectBackend');
  const { runSampleJob } = await import('../../runs/sampleJob');
  let progress: Progress | undefined;
  const result = await runSampleJob({
    checkpoint,
    emaRate,
    sampler,
    steps,
    eta: (options.eta as number | undefined) ?? 0,
    count: (options.count as number | undefined) ?? 16,
    seed: (options.seed as number | undefined) ?? 0,
    skipFraction,
    batchSize: options.batch as number | undefined,
    clipDenoised: !options['no-clip'],
    backend: options.backend as BackendPreference | undefined,
    outDir,
    onBackend: (r) => process.stderr.write(`backend: ${describeBackend(r)}\n`),
    onWeights: (w) => process.stderr.write(`weights: ${w.reason}\n`),
    onNote: (note) => process.stderr.write(`note: ${note}\n`),
    onProgress: (done, total) => {
      progress ??= new Progress('sample', total, process.stderr, 'calls');
      progress.update(done);
    },
  });
  process.stdout.write(`wrote ${result.images.length} images and ${result.grid}\n`);
  return 0;
}
