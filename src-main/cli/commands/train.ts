/**
 * `iddpm train`: creates a run in the data directory and trains it in a worker process, following it here.
 * The run service (and with it tfjs) is imported only after the arguments and the config check out.
 */
import path from 'node:path';
import { PRESET_IDS } from '../../../src-shared/config/presets';
import { runIdProblem } from '../../../src-shared/runId';
import { nameOption } from '../nameOption';
import { expectPositional, helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { buildConfig, CONFIG_FLAGS } from '../configFromArgs';
import { DATA_OPTION, dataDirOf, dataFlagOf } from '../dataDir';
import { refuseExistingRun } from '../existingRun';
import { followRun } from '../followRun';
import { checkOutputFolder } from '../pathChecks';

const OPTIONS: Record<string, OptionSpec> = {
  preset: { type: 'string', description: `start from a named preset (${PRESET_IDS.join(', ')})`, choices: PRESET_IDS },
  config: { type: 'string', description: 'JSON file with config groups to apply over the preset' },
  steps: { type: 'integer', min: 1, description: "train until this step (default: the config's maxSteps, else until Ctrl-C)" },
  ...DATA_OPTION,
  'run-id': { type: 'string', description: 'name of the run (default: a timestamp)' },
  name: { type: 'string', description: 'a display name for the run' },
  help: { type: 'boolean', description: 'show this help' },
  ...Object.fromEntries(Object.entries(CONFIG_FLAGS).map(([k, v]) => [k, { type: v.type, description: v.description } as OptionSpec])),
};

export const trainUsage = helpText('iddpm train [--preset NAME] [--config FILE] [options]', OPTIONS);

export async function trainCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(trainUsage);
    return 0;
  }
  expectPositional(positional, [], trainUsage);
  // Checked before anything is opened or created: a bad id must leave the data folder as it was.
  const runId = options['run-id'] === undefined ? undefined : String(options['run-id']);
  const idProblem = runId === undefined ? null : runIdProblem(runId);
  if (idProblem) throw new UsageError(`--run-id ${idProblem}`);
  const dataDir = dataDirOf(options);
  // An existing id means "continue that run": say how before a fresh config's own complaints get in the way.
  if (runId !== undefined) refuseExistingRun(dataDir, runId, dataFlagOf(options));
  const config = buildConfig(options);
  if (options.steps !== undefined) config.training.maxSteps = options.steps as number;
  const name = nameOption(options);
  checkOutputFolder(dataDir, '--data');
  const { createRunService } = await import('../../runs/runService');
  const service = await createRunService({ dataDir, face: 'cli' });
  try {
    const created = await service.createRun({
      config,
      id: runId,
      name,
      preset: options.preset ? String(options.preset) : undefined,
      start: true,
    });
    process.stderr.write(`run ${created.id} in ${path.join(dataDir, 'runs', created.id)}\n`);
    return await followRun(service, created.id, dataFlagOf(options));
  } finally {
    await service.close();
  }
}
