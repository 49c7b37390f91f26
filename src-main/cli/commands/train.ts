import path from 'node:path';
import { runIdProblem, runNameProblem } from '../../../src-shared/runId';
import { createRunService } from '../../runs/runService';
import { defaultDataDir } from '../../runs/runFiles';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { buildConfig, CONFIG_FLAGS } from '../configFromArgs';
import { followRun } from '../followRun';

const OPTIONS: Record<string, OptionSpec> = {
  preset: { type: 'string', description: 'start from a named preset (mnist-quick, tiny-test, cifar10-hybrid, …)' },
  config: { type: 'string', description: 'JSON file with config groups to apply over the preset' },
  steps: { type: 'number', description: "train until this step (default: the config's maxSteps, else until Ctrl-C)" },
  data: { type: 'string', description: 'data directory where runs are written (default ~/.iddpm-studio or $IDDPM_DATA)' },
  'run-id': { type: 'string', description: 'name of the run (default: a timestamp)' },
  name: { type: 'string', description: 'a display name for the run' },
  help: { type: 'boolean', description: 'show this help' },
  ...Object.fromEntries(Object.entries(CONFIG_FLAGS).map(([k, v]) => [k, { type: v.type, description: v.description } as OptionSpec])),
};

export const trainUsage = helpText('iddpm train [--preset NAME] [--config FILE] [options]', OPTIONS);

/** Creates a run in the data directory and trains it in a worker process, following it here. */
export async function trainCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(trainUsage);
    return 0;
  }
  const config = buildConfig(options);
  if (options.steps !== undefined) {
    const steps = Number(options.steps);
    if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps must be a whole number ≥ 1, got ${options.steps}`);
    config.training.maxSteps = steps;
  }
  // Checked before anything is opened or created: a bad id must leave the data folder as it was.
  const runId = options['run-id'] === undefined ? undefined : String(options['run-id']);
  const idProblem = runId === undefined ? null : runIdProblem(runId);
  if (idProblem) throw new UsageError(`--run-id ${idProblem}`);
  const name = options.name === undefined ? undefined : String(options.name);
  const nameProblem = name === undefined ? null : runNameProblem(name);
  if (nameProblem) throw new UsageError(`--name ${nameProblem}`);
  const dataDir = options.data ? path.resolve(String(options.data)) : defaultDataDir();
  const service = await createRunService({ dataDir, face: 'cli' });
  try {
    const run = await service.createRun({
      config,
      id: runId,
      name,
      preset: options.preset ? String(options.preset) : undefined,
      start: true,
    });
    process.stderr.write(`run ${run.id} in ${path.join(dataDir, 'runs', run.id)}\n`);
    return await followRun(service, run.id, options.data ? ` --data ${dataDir}` : '');
  } finally {
    await service.close();
  }
}
