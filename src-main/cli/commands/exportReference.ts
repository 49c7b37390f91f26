/**
 * `iddpm export-reference RUN_ID --out DIR`: a studio run as what the reference code needs to continue it on a
 * cluster (.pt model/EMA/optimizer files, the image folder, launch.sh, README). See runs/referenceExport.ts.
 */
import path from 'node:path';
import { exportForReference } from '../../runs/referenceExport';
import { openStore } from '../../store';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { DATA_OPTION, dataDirOf, requireStudioDb } from '../dataDir';

const OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', description: 'folder to write (created if missing)' },
  processes: { type: 'number', description: 'MPI processes (GPUs) in the launch line; the batch is split over them (default 1)' },
  step: { type: 'number', description: 'checkpoint step to export (default: the latest)' },
  ...DATA_OPTION,
  'no-images': { type: 'boolean', description: 'do not write the training images (set DATA_DIR when launching)' },
  json: { type: 'boolean', description: 'print the result as JSON' },
  help: { type: 'boolean', description: 'show this help' },
};

export const exportReferenceUsage = helpText('iddpm export-reference RUN_ID --out DIR [--processes N] [--step N] [--no-images]', OPTIONS);

export async function exportReferenceCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) return void process.stdout.write(exportReferenceUsage), 0;
  const runId = positional[0];
  if (!runId) throw new UsageError(`give the run id to export (see iddpm runs)\n\n${exportReferenceUsage}`);
  if (!options.out) throw new UsageError('--out DIR is required: the folder to write the export into');
  const dataDir = dataDirOf(options);
  // A mistyped --data must not create an empty studio: the run has to exist.
  const store = openStore(requireStudioDb(dataDir, runId));
  try {
    const r = await exportForReference({
      store,
      runId,
      outDir: String(options.out),
      processes: options.processes as number | undefined,
      step: options.step as number | undefined,
      includeData: !options['no-images'],
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(
      `exported run ${runId} at step ${r.step} to ${r.outDir} (${r.images} images)\n` +
        r.notes.map((n) => `  note: ${n}\n`).join('') +
        `on the cluster:  REF=/path/to/improved-diffusion sh ${path.join(r.outDir, 'launch.sh')}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}
