/**
 * `iddpm eval CHECKPOINT|RUN_ID`: the NLL bound in bits/dim on held-out images, with the per-t terms as
 * CSV. The checkpoint and the CSV's place are checked before any work; the NLL is printed before the CSV
 * is written, so a failing write never loses the result.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_PREFERENCES, type BackendPreference } from '../../../src-shared/config/enums';
import { expectPositional, helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { resolveCheckpoint } from '../checkpointArg';
import { DATA_OPTION, dataDirOf, dataFlagOf } from '../dataDir';
import { checkDefaultPath, checkOutputFile, describeFsError } from '../pathChecks';
import { storageProblem } from '../../store/errors';
import { Progress } from '../progress';
import { checkEmaRate, emaOption, MAX_SEED } from './sample';

const DEFAULT_IMAGES = 64;

import { QUALITY_OPTIONS } from './evalQuality';

const OPTIONS: Record<string, OptionSpec> = {
  ema: { type: 'string', description: "EMA rate to evaluate, or 'raw' (default: the first EMA; raw while it still holds >10% of the initial weights)" },
  images: { type: 'integer', min: 1, description: `held-out images to evaluate (default ${DEFAULT_IMAGES}; at most the held-out split)` },
  batch: { type: 'integer', min: 1, max: 1024, maxHint: 'larger batches only need more memory', description: 'images per network call (default 16)' },
  seed: { type: 'integer', min: 0, max: MAX_SEED, description: 'noise seed (default 0)' },
  csv: { type: 'string', description: 'per-t terms CSV (default: nll-<checkpoint>.csv beside the checkpoint)' },
  backend: { type: 'string', description: BACKEND_PREFERENCES.join(' | '), choices: BACKEND_PREFERENCES },
  ...DATA_OPTION,
  ...QUALITY_OPTIONS,
  help: { type: 'boolean', description: 'show this help' },
};

export const evalUsage = helpText(
  'iddpm eval CHECKPOINT [options]\n\nCHECKPOINT is a .safetensors file, or a run id (its newest checkpoint) of the data directory.',
  OPTIONS,
);

export async function evalCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(evalUsage);
    return 0;
  }
  if (!positional[0]) throw new UsageError(`give the checkpoint file (or a run id) to evaluate\n\n${evalUsage}`);
  expectPositional(positional, ['CHECKPOINT'], evalUsage);
  const emaRate = emaOption(options.ema);
  const checkpoint = resolveCheckpoint(positional[0], dataDirOf(options), dataFlagOf(options));
  if (options.metrics !== undefined) {
    const { evalQualityCommand } = await import('./evalQuality');
    return evalQualityCommand(checkpoint, options);
  }
  const csvFile = options.csv
    ? path.resolve(String(options.csv))
    : path.join(path.dirname(checkpoint), `nll-${path.basename(checkpoint, '.safetensors')}.csv`);
  if (options.csv) checkOutputFile(csvFile, '--csv');
  else checkDefaultPath(() => checkOutputFile(csvFile, 'the CSV file'), '--csv FILE');

  const { readCheckpointInfo } = await import('../../engine/checkpoint/trainCheckpoint');
  const info = readCheckpointInfo(checkpoint);
  checkEmaRate(emaRate, info.emaRates, checkpoint);
  const T = info.config.diffusion.steps;

  const { describeBackend } = await import('../../engine/backend/selectBackend');
  const { evalCsv, runEvalJob } = await import('../../runs/evalJob');
  const asked = (options.images as number | undefined) ?? DEFAULT_IMAGES;
  const batch = (options.batch as number | undefined) ?? 16;
  let progress: Progress | undefined;
  const r = await runEvalJob({
    checkpoint,
    emaRate,
    images: asked,
    batchSize: batch,
    seed: options.seed as number | undefined,
    backend: options.backend as BackendPreference | undefined,
    onBackend: (b) => process.stderr.write(`backend: ${describeBackend(b)}\n`),
    onWeights: (w) => process.stderr.write(`weights: ${w.reason}\n`),
    onNote: (note) => process.stderr.write(`note: ${note}\n`),
    onProgress: (done, total) => {
      if (!progress && total / T < Math.ceil(asked / batch)) {
        // The job plans fewer batches than asked for: the held-out split is smaller. Say so now, not hours later.
        process.stderr.write(`note: the held-out split has fewer than the ${asked} images asked for; evaluating all of them (at most ${(total / T) * batch})\n`);
      }
      progress ??= new Progress('eval', total, process.stderr, 'calls');
      progress.update(done);
    },
  });
  process.stdout.write(
    `NLL ${r.bpd.toFixed(4)} bits/dim on ${r.images} held-out image${r.images === 1 ? '' : 's'} (prior term ${r.priorBpd.toExponential(2)}), step ${r.step}\n`,
  );
  // The job evaluates at most the whole held-out split: say so when that is fewer than asked.
  if (r.images < asked) process.stderr.write(`note: that is the whole held-out split (${r.images}); --images asked for ${asked}\n`);
  try {
    writeFileSync(csvFile, evalCsv(r));
  } catch (e) {
    const problem = storageProblem(e, csvFile, 'the folder');
    throw new Error(`cannot write the per-t terms to ${csvFile}: ${problem?.why ?? describeFsError(e) ?? (e as Error).message} (choose another file with --csv FILE)`);
  }
  process.stdout.write(`per-t terms: ${csvFile}\n`);
  return 0;
}
