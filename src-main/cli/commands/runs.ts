/**
 * `iddpm runs`, `iddpm runs ID`, `iddpm resume ID`, `iddpm stop ID`: the runs of a data directory from the
 * terminal. Listing reads the store directly; only resume opens the run service (which loads tfjs).
 */
import type { RunSummary } from '../../../src-shared/protocol';
import { listCheckpoints, runDir } from '../../runs/runFiles';
import { toRunSummary } from '../../runs/toProtocol';
import { describeOwner } from '../../runs/workerLock';
import { observedStatus, stopTrainingElsewhere } from '../../runs/trainingElsewhere';
import { openStore } from '../../store';
import type { RunSummary as StoreRunSummary } from '../../store/types';
import { expectPositional, helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { DATA_OPTION, dataDirOf, dataFlagOf, existingStudioDb, requireStudioDb } from '../dataDir';
import { followRun } from '../followRun';

const DATA: Record<string, OptionSpec> = {
  ...DATA_OPTION,
  help: { type: 'boolean', description: 'show this help' },
};
const LIST_OPTIONS: Record<string, OptionSpec> = { ...DATA, json: { type: 'boolean', description: 'print JSON' } };

export const runsUsage = helpText(
  "iddpm runs [RUN_ID] [--json] [--data DIR]\n\nWithout RUN_ID: every run with its name, status, step, last loss, best NLL and newest checkpoint.\nWith RUN_ID: that run's checkpoint files (give one to iddpm sample or iddpm eval).",
  LIST_OPTIONS,
);
const RESUME_OPTIONS: Record<string, OptionSpec> = {
  ...DATA,
  'from-good-checkpoint': { type: 'boolean', description: 'when the latest checkpoint is damaged, resume from the newest whole one (the steps after it are trained again)' },
};
export const resumeUsage = helpText('iddpm resume RUN_ID [--from-good-checkpoint] [--data DIR]', RESUME_OPTIONS);
export const stopUsage = helpText('iddpm stop RUN_ID [--data DIR]', DATA);

/** Names longer than this are cut with an ellipsis so the table stays one line per run. */
const NAME_WIDTH = 28;

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function formatBpd(bpd: number | null): string {
  return bpd === null ? '—' : `${bpd.toFixed(3)} bits/dim`;
}

export async function runsCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, LIST_OPTIONS);
  if (options.help) return void process.stdout.write(runsUsage), 0;
  expectPositional(positional, ['RUN_ID'], runsUsage);
  const dataDir = dataDirOf(options);
  if (positional[0]) requireStudioDb(dataDir, positional[0]);
  const dbFile = existingStudioDb(dataDir);
  if (!dbFile) {
    if (options.json) process.stdout.write('[]\n');
    else process.stdout.write(`no runs in ${dataDir} yet: start one with  iddpm train --preset mnist-quick${dataFlagOf(options)}\n`);
    return 0;
  }
  // Read-only listing straight from the store: it must not disturb runs that another process trains.
  const store = openStore(dbFile);
  try {
    if (positional[0]) return listRunCheckpoints(store.listRuns().find((r) => r.id === positional[0]), positional[0], dataDir, options);
    // The same summaries the Runs view gets (best NLL: the lowest of evaluations and VLB snapshots).
    // A run whose worker is gone shows as interrupted (as the next studio start records it) without writing.
    const runs = store.listRuns().map((r) => {
      const seen = observedStatus(dataDir, r);
      return toRunSummary({ ...r, status: seen.status, error: seen.reason }, store.listCheckpoints(r.id).at(-1)?.step ?? null);
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(runs.map(({ config: _config, ...summary }) => summary), null, 2)}\n`);
      return 0;
    }
    if (!runs.length) {
      process.stdout.write(`no runs yet: start one with  iddpm train --preset mnist-quick${dataFlagOf(options)}\n`);
      return 0;
    }
    const header = ['ID', 'NAME', 'STATUS', 'STEP', 'LOSS', 'BEST NLL', 'CHECKPOINT', 'REASON'];
    const rows = runs.map((r) => [
      r.id,
      cut(r.name ?? '', NAME_WIDTH),
      r.status,
      `${r.step}${r.maxSteps ? `/${r.maxSteps}` : ''}`,
      r.lastLoss === null ? '—' : r.lastLoss.toFixed(4),
      formatBpd(r.bestBpd),
      r.lastCheckpointStep === null ? '—' : `step ${r.lastCheckpointStep}`,
      r.reason ?? '',
    ]);
    const last = header.length - 1;
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cols: string[]) => cols.map((c, i) => (i < last ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
    process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
    return 0;
  } finally {
    store.close();
  }
}

function listRunCheckpoints(run: StoreRunSummary | undefined, id: string, dataDir: string, options: Record<string, unknown>): number {
  if (!run) throw new UsageError(`no run '${id}' in ${dataDir}: \`iddpm runs${dataFlagOf(options)}\` lists the runs`);
  const files = listCheckpoints(runDir(dataDir, id));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
    return 0;
  }
  const title = `run ${id}${run.name ? ` (${run.name})` : ''}: ${run.status} at step ${run.step}, best NLL ${formatBpd(run.bestBpd)}`;
  if (!files.length) {
    process.stdout.write(`${title}\nno checkpoints yet\n`);
    return 0;
  }
  process.stdout.write(`${title}\n${files.map((f) => `step ${String(f.step).padStart(8)}  ${f.file}`).join('\n')}\n`);
  return 0;
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, RESUME_OPTIONS);
  if (options.help) return void process.stdout.write(resumeUsage), 0;
  const id = positional[0];
  if (!id) throw new UsageError(`give the run id to resume (see iddpm runs)\n\n${resumeUsage}`);
  expectPositional(positional, ['RUN_ID'], resumeUsage);
  const dataDir = dataDirOf(options);
  requireStudioDb(dataDir, id);
  const { createRunService } = await import('../../runs/runService');
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
    return await followRun(service, id, dataFlagOf(options));
  } finally {
    await service.close();
  }
}

export async function stopCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, DATA);
  if (options.help) return void process.stdout.write(stopUsage), 0;
  const id = positional[0];
  if (!id) throw new UsageError(`give the run id to stop (see iddpm runs)\n\n${stopUsage}`);
  expectPositional(positional, ['RUN_ID'], stopUsage);
  const dataDir = dataDirOf(options);
  const store = openStore(requireStudioDb(dataDir, id));
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
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ESRCH' ? 'that process no longer exists' : code === 'EPERM' ? 'it belongs to another user: stop it as that user' : (e as Error).message;
      throw new Error(`cannot signal the worker of run ${id}: ${why}`);
    }
    if (result.outcome === 'not-running') {
      process.stdout.write(`run ${id} is not running (status ${result.status})\n`);
      return 0;
    }
    if (result.outcome === 'gone') {
      process.stdout.write(`run ${id} is not running: ${result.why}. Nothing was signalled; the run is now marked interrupted (resume with: iddpm resume ${id}${dataFlagOf(options)})\n`);
      return 0;
    }
    process.stdout.write(`asked run ${id} to stop (${describeOwner(result.lock)}); it checkpoints at its current step and ends as stopped\n`);
    return 0;
  } finally {
    store.close();
  }
}
