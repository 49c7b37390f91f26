import path from 'node:path';
import { describeBackend } from '../../engine/backend/selectBackend';
import { defaultDataDir, newRunId, runDir } from '../../runs/runFiles';
import { runTrainJob } from '../../runs/trainJob';
import { helpText, parseArgs, type OptionSpec } from '../args';
import { buildConfig, CONFIG_FLAGS } from '../configFromArgs';
import { Progress } from '../progress';

const OPTIONS: Record<string, OptionSpec> = {
  preset: { type: 'string', description: 'start from a named preset (mnist-quick, tiny-test, cifar10-hybrid, …)' },
  config: { type: 'string', description: 'JSON file with config groups to apply over the preset' },
  steps: { type: 'number', description: 'train until this step (default: the config\'s maxSteps, else until Ctrl-C)' },
  data: { type: 'string', description: 'data directory where runs are written (default ~/.iddpm-studio or $IDDPM_DATA)' },
  'run-id': { type: 'string', description: 'name of the run folder (default: a timestamp)' },
  resume: { type: 'string', description: "continue from a checkpoint file, or 'latest' in the run folder given by --run-id" },
  help: { type: 'boolean', description: 'show this help' },
  ...Object.fromEntries(Object.entries(CONFIG_FLAGS).map(([k, v]) => [k, { type: v.type, description: v.description } as OptionSpec])),
};

export const trainUsage = helpText('iddpm train [--preset NAME] [--config FILE] [options]', OPTIONS);

export async function trainCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(trainUsage);
    return 0;
  }
  const config = buildConfig(options);
  const dataDir = options.data ? path.resolve(String(options.data)) : defaultDataDir();
  const id = options['run-id'] ? String(options['run-id']) : newRunId(dataDir);
  const dir = runDir(dataDir, id);
  const until = (options.steps as number | undefined) ?? config.training.maxSteps;
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after this step (Ctrl-C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stderr.write(`run ${id} in ${dir}\n`);
  let progress: Progress | undefined;
  let lastLoss = NaN;
  try {
    const result = await runTrainJob({
      runDir: dir,
      config,
      untilStep: until,
      resumeFrom: options.resume ? String(options.resume) : undefined,
      signal: controller.signal,
      onBackend: (r) => process.stderr.write(`backend: ${describeBackend(r)}\n`),
      onDataset: (d) => process.stderr.write(`data: ${d}\n`),
      onEvent: (e) => {
        if (e.type === 'step') {
          progress ??= new Progress('train', until ?? Infinity);
          lastLoss = e.loss;
          progress.update(e.step, `loss ${lastLoss.toFixed(4)} mse ${e.mse.toFixed(4)}${e.vb !== null ? ` vb ${e.vb.toFixed(4)}` : ''}`);
        } else if (e.type === 'nanSkipped') {
          process.stderr.write(`\nstep ${e.step}: loss not finite, step skipped (${e.consecutive} in a row)\n`);
        } else if (e.type === 'vlbTerms') {
          process.stderr.write(`\nstep ${e.step}: per-t VLB terms over ${e.timesteps.length} steps${e.totalBpd !== null ? `, NLL ${e.totalBpd.toFixed(3)} bits/dim` : ''}\n`);
        } else if (e.type === 'gns') {
          process.stderr.write(`\nstep ${e.step}: gradient noise scale B_simple ≈ ${e.bSimple.toFixed(1)}\n`);
        }
      },
      onCheckpoint: (c) => process.stderr.write(`\ncheckpoint at step ${c.step}: ${c.file} (${(c.bytes / 1e6).toFixed(1)} MB)\n`),
      onPreviewFile: (p) => process.stderr.write(`\npreview at step ${p.step}: ${p.file}\n`),
    });
    progress?.end();
    const stopped = controller.signal.aborted;
    process.stdout.write(
      `${stopped ? 'stopped' : 'finished'} at step ${result.step}; last checkpoint: ${result.lastCheckpoint ?? 'none'}\n` +
        (stopped ? `resume with: iddpm train --data ${dataDir} --run-id ${id} --resume latest${options.preset ? ` --preset ${options.preset}` : ''}\n` : ''),
    );
    return stopped ? 130 : 0;
  } finally {
    progress?.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
