/**
 * `iddpm study NAME [--size tiny|quick|full]`: runs one of the built-in studies (a set of ordinary runs that
 * differ in one setting, then the evaluations its report needs) with progress on stderr, and prints the
 * verdicts and the export folder. `--list` lists the studies of the data directory, `--resume ID` continues
 * a stopped or interrupted one (its unfinished runs resume from their checkpoints), `--report ID` prints the
 * report of one as its data stands and exports it, `--delete ID [--with-runs]` deletes one that is not running
 * (its runs stay as ordinary runs unless --with-runs).
 */
import type { StudyKind, StudyReport, StudySize, StudySummary } from '../../../src-shared/protocol';
import { runIdProblem } from '../../../src-shared/runId';
import { nameOption } from '../nameOption';
import { STUDY_KINDS, STUDY_SIZES, studyKindProblem } from '../../../src-shared/studies';
import { toRunSummary } from '../../runs/toProtocol';
import { observedStatus } from '../../runs/trainingElsewhere';
import { openStore, type Store } from '../../store';
import { expectPositional, helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { DATA_OPTION, dataDirOf, dataFlagOf, existingStudioDb } from '../dataDir';
import { checkOutputFolder } from '../pathChecks';
import { formatDuration, Progress } from '../progress';

const OPTIONS: Record<string, OptionSpec> = {
  size: { type: 'string', description: 'tiny (seconds, for tests), quick (a few minutes) or full (about an hour) (default quick)', choices: STUDY_SIZES },
  name: { type: 'string', description: 'a display name for the study (default: its title and size)' },
  list: { type: 'boolean', description: 'list the studies in the data directory with their status' },
  resume: { type: 'string', description: 'continue the stopped or interrupted study with this id (from --list)' },
  report: { type: 'string', description: "print the report of the study with this id as its data stands, and export it" },
  delete: { type: 'string', description: 'delete the study with this id (not while it runs): its record and export folder; its runs stay as ordinary runs' },
  'with-runs': { type: 'boolean', description: 'with --delete: delete its runs too (their folders, checkpoints and metrics)' },
  ...DATA_OPTION,
  help: { type: 'boolean', description: 'show this help' },
};

export const studyUsage = helpText(
  `iddpm study NAME [--size tiny|quick|full] [--name TEXT] [--data DIR]
iddpm study --list | --resume STUDY_ID | --report STUDY_ID | --delete STUDY_ID [--with-runs] [--data DIR]

Runs a study: ordinary runs that differ in one setting, then the evaluations of its report, whose verdicts
say whether each of the paper's claims holds on this data. NAME is one of: ${STUDY_KINDS.join(', ')}.
Ctrl-C stops it after a checkpoint; --resume continues it.`,
  OPTIONS,
);

const END = new Set(['done', 'failed', 'stopped', 'interrupted']);

export async function studyCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) return void process.stdout.write(studyUsage), 0;
  const modes = ['list', 'resume', 'report', 'delete'].filter((m) => options[m] !== undefined && options[m] !== false);
  if (modes.length > 1) throw new UsageError(`give one of --${modes.join(', --')}, not several`);
  const mode = modes[0];
  expectPositional(positional, mode ? [] : ['NAME'], studyUsage);
  if (!mode && positional.length === 0) throw new UsageError(`give the study to run (one of ${STUDY_KINDS.join(', ')}), e.g. iddpm study importance-sampling --size quick; or --list\n\n${studyUsage}`);
  if (mode && (options.size !== undefined || options.name !== undefined)) {
    throw new UsageError(`--size and --name choose a new study; --${mode} works on an existing one: drop them`);
  }
  if (options['with-runs'] && mode !== 'delete') throw new UsageError('--with-runs goes with --delete STUDY_ID (it deletes the study\'s runs too): add --delete, or drop --with-runs');
  const dataDir = dataDirOf(options);
  const dataFlag = dataFlagOf(options);
  if (mode === 'list') return listStudies(dataDir, dataFlag);
  if (mode === 'delete') return deleteStudy(dataDir, String(options.delete), options['with-runs'] === true, dataFlag);
  if (mode === 'report') return printStoredReport(dataDir, String(options.report), dataFlag);

  let kind: StudyKind | undefined;
  if (!mode) {
    const problem = studyKindProblem(positional[0]);
    if (problem) throw new UsageError(`NAME: ${problem}`);
    kind = positional[0] as StudyKind;
  }
  const resumeId = mode === 'resume' ? String(options.resume) : undefined;
  if (resumeId !== undefined) checkStudyId('--resume', resumeId, dataDir);
  const name = nameOption(options);
  checkOutputFolder(dataDir, '--data');

  const { createRunService } = await import('../../runs/runService');
  const service = await createRunService({ dataDir, face: 'cli' });
  try {
    let study: StudySummary;
    if (resumeId !== undefined) {
      study = await service.resumeStudy(resumeId);
      process.stderr.write(`resuming study ${study.id} (${study.title}, ${study.size})\n`);
    } else {
      const size = (options.size as StudySize | undefined) ?? 'quick';
      const info = (await service.studyKinds()).find((k) => k.kind === kind)!;
      const sizeInfo = info.sizes.find((s) => s.size === size)!;
      study = await service.createStudy({ kind: kind!, size, name });
      process.stderr.write(`study ${study.id}: ${info.title}, ${size} (${sizeInfo.description}; expected ~${sizeInfo.expectedMinutes} min here)\n`);
      for (const r of study.runs) process.stderr.write(`  run ${r.runId}: ${r.label}\n`);
    }
    const final = await follow(service, study);
    const report = await service.studyReport(final.id);
    const exported = await service.exportStudy(final.id);
    printReport(report);
    process.stdout.write(`export: ${exported.folder}\n`);
    switch (final.status) {
      case 'done':
        return 0;
      case 'stopped':
        process.stdout.write(`study ${final.id} stopped; resume with: iddpm study --resume ${final.id}${dataFlag}\n`);
        return 130;
      default:
        process.stderr.write(`study ${final.id} ${final.status}: ${final.error ?? ''}\nresume with: iddpm study --resume ${final.id}${dataFlag}\n`);
        return 1;
    }
  } finally {
    await service.close();
  }
}

/** A study id names a folder (<data>/studies/<id>): the run-id rule, and a data folder that has studies. */
function checkStudyId(flag: string, studyId: string, dataDir: string): void {
  const problem = runIdProblem(studyId);
  if (problem) throw new UsageError(`${flag} ${problem.replace(/'mnist-01'/g, 'a study id from iddpm study --list')}`);
  if (!existingStudioDb(dataDir)) throw new UsageError(`${flag} ${studyId}: ${dataDir} holds no studio data (no studio.db); check --data DIR or $IDDPM_DATA`);
}

/** `--delete ID [--with-runs]`: through the run service, whose deleteRun removes the runs' folders safely. */
async function deleteStudy(dataDir: string, studyId: string, withRuns: boolean, dataFlag: string): Promise<number> {
  checkStudyId('--delete', studyId, dataDir);
  const { createRunService } = await import('../../runs/runService');
  const service = await createRunService({ dataDir, face: 'cli' });
  try {
    const { ApiFailure } = await import('../../runs/apiFailure');
    let done;
    try {
      done = await service.deleteStudy(studyId, { withRuns });
    } catch (e) {
      if (e instanceof ApiFailure && e.code === 'not-found') throw new UsageError(`--delete ${studyId}: no such study in ${dataDir}; iddpm study --list${dataFlag} shows them`);
      throw e;
    }
    process.stdout.write(`deleted study ${studyId} and its folder ${done.folder}\n`);
    if (done.deletedRuns.length) process.stdout.write(`deleted its runs: ${done.deletedRuns.join(', ')}\n`);
    if (done.keptRuns.length) process.stdout.write(`kept its runs as ordinary runs (iddpm runs${dataFlag} lists them; --with-runs would have deleted them): ${done.keptRuns.join(', ')}\n`);
    return 0;
  } finally {
    await service.close();
  }
}

type Service = Awaited<ReturnType<typeof import('../../runs/runService').createRunService>>;

/** Follows the study until it ends: one progress bar over all its training steps, a line per phase. */
async function follow(service: Service, start: StudySummary): Promise<StudySummary> {
  const total = start.runs.reduce((a, r) => a + (r.maxSteps ?? 0), 0);
  const progress = new Progress('study', total);
  let lastPhaseKey = '';
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nstopping the study (its runs keep a checkpoint; Ctrl-C again to quit at once)…\n');
    void service.stopStudy(start.id);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const began = Date.now();
  try {
    return await new Promise<StudySummary>((resolve) => {
      const see = (s: StudySummary) => {
        const running = s.runs.find((r) => r.status === 'running');
        const key = `${s.status}:${running?.key ?? ''}:${s.status === 'evaluating' ? s.phase : ''}`;
        if (key !== lastPhaseKey) {
          lastPhaseKey = key;
          if (s.status === 'training' && !running) {
            // queued between runs: nothing to say
          } else process.stderr.write(`\n${s.phase}\n`);
        }
        if (s.status === 'training') progress.update(s.runs.reduce((a, r) => a + Math.min(r.step, r.maxSteps ?? r.step), 0), running ? running.label : '');
        if (END.has(s.status)) {
          unsubscribe();
          resolve(s);
        }
      };
      const unsubscribe = service.subscribe((e) => {
        if (e.type === 'study' && e.study.id === start.id) see(e.study);
      });
      // It may have ended before we subscribed (a resumed study with nothing left to do).
      void service.listStudies().then((all) => {
        const now = all.find((s) => s.id === start.id);
        if (now) see(now);
      });
    });
  } finally {
    progress.end();
    process.stderr.write(`study took ${formatDuration((Date.now() - began) / 1000)}\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printReport(report: StudyReport): void {
  const s = report.study;
  process.stdout.write(`\n${s.name === `${s.title} (${s.size})` ? s.name : `${s.title} — ${s.name}`} [${s.status}]\n`);
  for (const v of report.verdicts) process.stdout.write(`  ${v.outcome.toUpperCase().padEnd(15)} ${v.figure}: ${v.line}\n`);
  for (const n of report.notes) process.stdout.write(`  note: ${n}\n`);
}

/** The runs' summaries straight from the store, as `iddpm runs` shows them (no writes). */
function readOnlyRuns(store: Store, dataDir: string) {
  return (runId: string) => {
    const r = store.getRunSummary(runId);
    if (!r) return null;
    const seen = observedStatus(dataDir, r);
    return toRunSummary({ ...r, status: seen.status, error: seen.reason }, store.listCheckpoints(runId).at(-1)?.step ?? null);
  };
}

async function listStudies(dataDir: string, dataFlag: string): Promise<number> {
  const db = existingStudioDb(dataDir);
  if (!db) {
    process.stdout.write(`no studies in ${dataDir} yet: start one with  iddpm study importance-sampling --size quick${dataFlag}\n`);
    return 0;
  }
  const { studySummary } = await import('../../runs/studies/studySummary');
  const store = openStore(db);
  try {
    const studies = store.studies.list().map((s) => studySummary(s, readOnlyRuns(store, dataDir)));
    if (!studies.length) {
      process.stdout.write(`no studies yet: start one with  iddpm study importance-sampling --size quick${dataFlag}\n`);
      return 0;
    }
    for (const s of studies) {
      process.stdout.write(`${s.id}  ${s.kind} (${s.size})  ${s.status}  ${(100 * s.progress).toFixed(0)}%  ${s.phase}${s.error ? `  — ${s.error}` : ''}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}

async function printStoredReport(dataDir: string, studyId: string, dataFlag: string): Promise<number> {
  const db = existingStudioDb(dataDir);
  if (!db) throw new UsageError(`--report ${studyId}: ${dataDir} holds no studio data (no studio.db); check --data DIR or $IDDPM_DATA`);
  const { studySummary } = await import('../../runs/studies/studySummary');
  const { buildStudyReport } = await import('../../runs/studies/studyReport');
  const { writeStudyExport } = await import('../../runs/studies/studyExport');
  const { studyFolder } = await import('../../runs/studies/studyFiles');
  const { studyChartPng } = await import('../../report/studyChartPng');
  const store = openStore(db!);
  try {
    const s = store.studies.get(studyId);
    if (!s) throw new UsageError(`--report ${studyId}: no such study in ${dataDir}; iddpm study --list${dataFlag} shows them`);
    const report = buildStudyReport(store, s, studySummary(s, readOnlyRuns(store, dataDir)));
    const runKeys = report.study.runs.map((r) => r.key);
    const exported = writeStudyExport(report, studyFolder(dataDir, studyId), (chart) => studyChartPng(chart, runKeys));
    printReport(report);
    process.stdout.write(`export: ${exported.folder}\n`);
    return 0;
  } finally {
    store.close();
  }
}
