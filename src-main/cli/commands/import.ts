/**
 * `iddpm import PATH [--flags "…"]`: a reference run (its log directory, or one model .pt) becomes a studio
 * run with its checkpoints, loss history and samples. The flags are the reference's (script_util.py names),
 * as given to image_train.py; what the checkpoint's tensors show need not be repeated.
 */
import path from 'node:path';
import { parseReferenceFlagString } from '../../../src-shared/config/referenceFlagString';
import { importReferenceRun } from '../../runs/referenceImport';
import { ensureDir } from '../../runs/runFiles';
import { openStore } from '../../store';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { DATA_OPTION, dataDirOf } from '../dataDir';

const OPTIONS: Record<string, OptionSpec> = {
  flags: { type: 'string', description: 'the reference run\'s flags, e.g. "--num_heads 4 --diffusion_steps 4000 --noise_schedule cosine"' },
  name: { type: 'string', description: 'name of the new run (default: imported <folder>)' },
  json: { type: 'boolean', description: 'print the result as JSON' },
  ...DATA_OPTION,
  help: { type: 'boolean', description: 'show this help' },
};

export const importUsage = helpText(
  'iddpm import LOG_DIR|MODEL.pt [--flags "--num_heads 4 …"] [--name NAME] [--data DIR]\n\n' +
    'Reads model*.pt, ema_*.pt, opt*.pt, progress.csv and samples_*.npz of a reference (openai/improved-diffusion)\n' +
    'run. Width, blocks, channel multipliers, learned Σ and attention come from the tensors; num_heads,\n' +
    'diffusion_steps and noise_schedule are not stored in checkpoints and must be given.',
  OPTIONS,
);

export async function importCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) return void process.stdout.write(importUsage), 0;
  const source = positional[0];
  if (!source || positional.length > 1) throw new UsageError(`give one log directory or .pt file to import\n\n${importUsage}`);
  let flags: Record<string, string>;
  try {
    flags = parseReferenceFlagString(String(options.flags ?? ''));
  } catch (e) {
    throw new UsageError(`--${(e as Error).message}`);
  }
  const dataDir = dataDirOf(options);
  ensureDir(dataDir);
  const store = openStore(path.join(dataDir, 'studio.db'));
  try {
    const r = importReferenceRun({ store, dataDir, source, flags, name: options.name as string | undefined });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(
      `imported ${path.resolve(source)} as run ${r.runId}: ${r.checkpoints} checkpoint(s), ${r.metricRows} progress row(s), ${r.sampleSets} sample set(s)\n` +
        r.notes.map((n) => `  note: ${n}\n`).join('') +
        `sample it with  iddpm sample <checkpoint>  or continue it with  iddpm resume ${r.runId}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}
