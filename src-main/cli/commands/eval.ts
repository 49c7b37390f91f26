import path from 'node:path';
import { describeBackend } from '../../engine/backend/selectBackend';
import { runEvalJob } from '../../runs/evalJob';
import type { BackendPreference } from '../../../src-shared/config/enums';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { Progress } from '../progress';
import { emaOption } from './sample';
import { evalQualityCommand, QUALITY_OPTIONS } from './evalQuality';

const OPTIONS: Record<string, OptionSpec> = {
  ema: { type: 'string', description: "EMA rate to evaluate, or 'raw' (default: the first EMA)" },
  images: { type: 'number', description: 'held-out images to evaluate (default 64)' },
  batch: { type: 'number', description: 'images per network call (default 16)' },
  seed: { type: 'number', description: 'noise seed (default 0)' },
  csv: { type: 'string', description: 'per-t terms CSV (default: nll-<step>.csv beside the checkpoint)' },
  backend: { type: 'string', description: 'auto | tensorflow-gpu | tensorflow | wasm | cpu' },
  ...QUALITY_OPTIONS,
  help: { type: 'boolean', description: 'show this help' },
};

export const evalUsage = helpText('iddpm eval CHECKPOINT [options]', OPTIONS);

export async function evalCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(evalUsage);
    return 0;
  }
  const checkpoint = positional[0];
  if (!checkpoint) throw new UsageError(`give the checkpoint file to evaluate\n\n${evalUsage}`);
  if (options.metrics !== undefined) return evalQualityCommand(checkpoint, options);
  const csvFile = options.csv
    ? path.resolve(String(options.csv))
    : path.join(path.dirname(path.resolve(checkpoint)), `nll-${path.basename(checkpoint, '.safetensors')}.csv`);
  let progress: Progress | undefined;
  const r = await runEvalJob({
    checkpoint,
    emaRate: emaOption(options.ema),
    images: options.images as number | undefined,
    batchSize: options.batch as number | undefined,
    seed: options.seed as number | undefined,
    backend: options.backend as BackendPreference | undefined,
    csvFile,
    onBackend: (b) => process.stderr.write(`backend: ${describeBackend(b)}\n`),
    onProgress: (done, total) => {
      progress ??= new Progress('eval', total, process.stderr, 'calls');
      progress.update(done);
    },
  });
  process.stdout.write(
    `NLL ${r.bpd.toFixed(4)} bits/dim on ${r.images} held-out images (prior term ${r.priorBpd.toExponential(2)}), step ${r.step}\nper-t terms: ${csvFile}\n`,
  );
  return 0;
}
