import path from 'node:path';
import { describeBackend } from '../../engine/backend/selectBackend';
import { runSampleJob, type SamplerName } from '../../runs/sampleJob';
import type { BackendPreference } from '../../../src-shared/config/enums';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { Progress } from '../progress';

const OPTIONS: Record<string, OptionSpec> = {
  ema: { type: 'string', description: "EMA rate to sample from, or 'raw' (default: the first EMA)" },
  sampler: { type: 'string', description: 'ancestral (respaced) | ddim' },
  steps: { type: 'number', description: 'sampling steps (default 50)' },
  eta: { type: 'number', description: 'DDIM η (default 0: deterministic)' },
  count: { type: 'number', description: 'images to draw (default 16)' },
  seed: { type: 'number', description: 'random seed (default 0)' },
  batch: { type: 'number', description: 'images per network call (default 16)' },
  out: { type: 'string', description: 'output folder (default: samples/ beside the run)' },
  'no-clip': { type: 'boolean', description: 'do not clip x̂₀ to [−1, 1]' },
  backend: { type: 'string', description: 'auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu' },
  help: { type: 'boolean', description: 'show this help' },
};

export const sampleUsage = helpText('iddpm sample CHECKPOINT [options]', OPTIONS);

export function emaOption(value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'raw') return null;
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new UsageError(`--ema must be a rate in (0, 1) or 'raw', got '${String(value)}'`);
  return n;
}

export async function sampleCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(sampleUsage);
    return 0;
  }
  const checkpoint = positional[0];
  if (!checkpoint) throw new UsageError(`give the checkpoint file to sample from\n\n${sampleUsage}`);
  const sampler = String(options.sampler ?? 'ancestral') as SamplerName;
  if (sampler !== 'ancestral' && sampler !== 'ddim') throw new UsageError(`--sampler must be 'ancestral' or 'ddim', got '${sampler}'`);
  const steps = Number(options.steps ?? 50);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const runFolder = path.dirname(path.dirname(path.resolve(checkpoint)));
  const outDir = options.out ? path.resolve(String(options.out)) : path.join(runFolder, 'samples', `${stamp}-${sampler}${steps}`);
  let progress: Progress | undefined;
  const result = await runSampleJob({
    checkpoint,
    emaRate: emaOption(options.ema),
    sampler,
    steps,
    eta: Number(options.eta ?? 0),
    count: Number(options.count ?? 16),
    seed: Number(options.seed ?? 0),
    batchSize: options.batch as number | undefined,
    clipDenoised: !options['no-clip'],
    backend: options.backend as BackendPreference | undefined,
    outDir,
    onBackend: (r) => process.stderr.write(`backend: ${describeBackend(r)}\n`),
    onProgress: (done, total) => {
      progress ??= new Progress('sample', total, process.stderr, 'calls');
      progress.update(done);
    },
  });
  process.stdout.write(`wrote ${result.images.length} images and ${result.grid}\n`);
  return 0;
}
