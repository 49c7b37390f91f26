/**
 * `iddpm runs`, `iddpm resume ID`, `iddpm stop ID`: the runs of a data directory from the terminal.
 */
import path from 'node:path';
import type { RunSummary } from '../../../src-shared/protocol';
import { createRunService } from '../../runs/runService';
import { defaultDataDir } from '../../runs/runFiles';
import { describeOwner } from '../../runs/workerLock';
import { observedStatus, stopTrainingElsewhere } from '../../runs/trainingElsewhere';
import { openStore } from '../../store';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { followRun } from '../followRun';

const DATA: Record<string, OptionSpec> = {
  data: { type: 'string', description: 'data directory (default ~/.iddpm-studio or $IDDPM_DATA)' },
  help: { type: 'boolean', description: 'show this help' },
};
const LIST_OPTIONS: Record<string, OptionSpec> = { ...DATA, json: { type: 'boolean', description: 'print JSON' } };

export const runsUsage = helpText('iddpm runs [--json] [--data DIR]', LIST_OPTIONS);
const RESUME_OPTIONS: Record<string, OptionSpec> = {
  ...DATA,
  'from-good-checkpoint': { type: 'boolean', description: 'when the latest checkpoint is damaged, resume from the newest whole one (the steps after it are trained again)' },
};
export const resumeUsage = helpText('iddpm resume RUN_ID [--from-good-checkpoint] [--data DIR]', RESUME_OPTIONS);
export const stopUsage = helpText('iddpm stop RUN_ID [--data DIR]', DATA);

function dataDirOf(options: Record<string, unknown>): string {
  return options.data ? path.resolve(String(options.data)) : defaultDataDir();
}

export async function runsCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, LIST_OPTIONS);
  if (options.help) return void process.stdout.write(runsUsage), 0;
  // Read-only listing straight from the store: it must not disturb runs that another process trains. A run
  // whose worker is gone shows as interrupted (as the next studio start records it) without writing.
  const dataDir = dataDirOf(options);
  const store = openStore(path.join(dataDir, 'studio.db'));
  try {
    const runs = store.listRuns().map((r) => {
      const seen = observedStatus(dataDir, r);
      return { ...r, status: seen.status, error: seen.reason };
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(runs.map((r) => ({ id: r.id, name: r.name, status: r.status, step: r.step, maxSteps: r.maxSteps, reason: r.error, backend: r.backend, lastLoss: r.lastLoss, bestBpd: r.bestBpd })), null, 2)}\n`);
      return 0;
    }
    if (!runs.length) {
      process.stdout.write('no runs yet: start one with  iddpm train --preset mnist-quick\n');
      return 0;
    }
    const rows = runs.map((r) => [r.id, r.status, `${r.step}${r.maxSteps ? `/${r.maxSteps}` : ''}`, r.lastLoss === null ? '' : r.lastLoss.toFixed(4), r.error ?? '']);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length), ['ID', 'STATUS', 'STEP', 'LOSS'][i].length));
    const line = (cols: string[]) => cols.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
    process.stdout.write(`${line(['ID', 'STATUS', 'STEP', 'LOSS', 'REASON'])}\n${rows.map(line).join('\n')}\n`);
    return 0;
  } finally {
    store.close();
  }
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, RESUME_OPTIONS);
  if (options.help) return void process.stdout.write(resumeUsage), 0;
  const id = positional[0];
  if (!id) throw new UsageError(`give the run id to resume (see iddpm runs)\n\n${resumeUsage}`);
  const dataDir = dataDirOf(options);
  const service = await createRunService({ dataDir, face: 'cli' });
  try {
    const fromGoodCheckpoint = options['from-good-checkpoint'] === true;
    const damage = fromGoodCheckpoint ? service.checkpointDamage(id) : null;
    const run: RunSummary = await service.resumeRun(id, { fromGoodCheckpoint });
    process.stderr.write(`resuming run ${run.id} from ${run.lastCheckpointStep !== null ? `the checkpoint at step ${run.lastCheckpointStep}` : 'the start'}\n`);
    if (damage) {
      process.stderr.write(`steps ${damage.lostSteps[0]}…${damage.lostSteps[1]} are lost and trained again; the checkpoints after step ${damage.goodStep ?? 0} were set aside as *.damaged (${damage.file}.damaged)\n`);
    } else if (fromGoodCheckpoint) {
      process.stderr.write('its latest checkpoint is whole: nothing is lost\n');
    }
    return await followRun(service, id, options.data ? ` --data ${dataDir}` : '');
  } finally {
    await service.close();
  }
}

export async function stopCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, DATA);
  if (options.help) return void process.stdout.write(stopUsage), 0;
  const id = positional[0];
  if (!id) throw new UsageError(`give the run id to stop (see iddpm runs)\n\n${stopUsage}`);
  const dataDir = dataDirOf(options);
  const store = openStore(path.join(dataDir, 'studio.db'));
  try {
    const run = store.getRun(id);
    if (!run) throw new UsageError(`no run '${id}' in this data directory (see iddpm runs)`);
    if (run.status === 'queued' && run.workerPid === null) {
      store.setStatus(id, 'stopped', null);
      process.stdout.write(`run ${id} was queued; it is now stopped\n`);
      return 0;
    }
    // The worker belongs to whichever process started it (iddpm train, serve or the app): SIGTERM asks it
    // to checkpoint and stop, and that process records the run as stopped. Only a worker whose lock proves
    // it is still that run's worker is signalled; a stale pid may belong to any program by now.
    let result;
    try {
      result = stopTrainingElsewhere(store, dataDir, id);
    } catch (e) {
      throw new Error(`cannot signal the worker of run ${id}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (result.outcome === 'not-running') {
      process.stdout.write(`run ${id} is not running (status ${result.status})\n`);
      return 0;
    }
    if (result.outcome === 'gone') {
      process.stdout.write(`run ${id} is not running: ${result.why}. Nothing was signalled; the run is now marked interrupted (resume with: iddpm resume ${id}${options.data ? ` --data ${dataDir}` : ''})\n`);
      return 0;
    }
    process.stdout.write(`asked run ${id} to stop (${describeOwner(result.lock)}); it checkpoints at its current step and ends as stopped\n`);
    return 0;
  } finally {
    store.close();
  }
}
