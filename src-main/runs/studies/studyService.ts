/**
 * Studies: creates a study's runs as ordinary runs and queues them, follows them through the service's
 * events, then queues the post-training evaluations its report needs, and marks it done. Stop and resume
 * act on its unfinished runs and evaluations. The report is computed from the stored data when asked
 * (studyReport.ts), never kept.
 *
 * A study is driven by the process that created or last resumed it (its queue holds the runs): that
 * process's pid is stored, and a study whose driver is gone is shown, and stored, as interrupted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as P from '../../../src-shared/protocol';
import { validateRunConfig } from '../../../src-shared/config/validate';
import { runIdProblem, runNameProblem } from '../../../src-shared/runId';
import { getStudyDefinition, listStudyKinds, planStudyRuns, studyKindProblem, studySizeProblem } from '../../../src-shared/studies';
import type { Store, StudyEvaluationRecord, StudyRecord } from '../../store';
import { ApiFailure } from '../apiFailure';
import { planEvaluations } from './evaluationPlan';
import { newStudyId, studyRunId } from './studyIds';
import type { StudyHost } from './studyHost';
import { buildStudyReport } from './studyReport';
import { writeStudyExport } from './studyExport';
import { studyChartPng } from '../../report/studyChartPng';
import { createZip } from '../../imageio/zip';
import { removeStudyFolder, studyDir, studyFolder } from './studyFiles';
import { describeEvaluation, driverGone, studySummary } from './studySummary';

const ACTIVE: ReadonlySet<string> = new Set(['training', 'evaluating']);


export class StudyService {
  private readonly unsubscribe: () => void;
  /** Studies whose advance() is running, and those that got news meanwhile (advance again after). */
  private readonly advancing = new Set<string>();
  private readonly again = new Set<string>();
  /** Studies whose runs are being created: their events wait until all runs exist. */
  private readonly creating = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly host: StudyHost,
  ) {
    // Studies left active by a process that is gone: interrupted (resume continues them).
    for (const s of store.studies.list()) this.checkDriver(s);
    this.unsubscribe = host.subscribe((e) => this.onEvent(e));
  }

  /**
   * The service is closing (its workers checkpoint and stop): the studies it drives stop with it, resumable
   * by any later process.
   */
  close(): void {
    this.unsubscribe();
    for (const s of this.store.studies.list()) {
      if (!ACTIVE.has(s.status) || s.ownerPid !== process.pid) continue;
      try {
        this.store.studies.update(s.id, { status: 'stopped', ownerPid: null, error: 'the studio closed while it ran: resume the study to continue' });
      } catch {
        // a store that cannot be written: the next start-up finds the driver gone and shows it interrupted
      }
    }
  }

  async studyKinds(): Promise<P.StudyKindInfo[]> {
    return listStudyKinds();
  }

  async listStudies(): Promise<P.StudySummary[]> {
    return this.store.studies.list().map((s) => this.summary(this.checkDriver(s)));
  }

  async createStudy(request: P.CreateStudyRequest): Promise<P.StudySummary> {
    if (!request || typeof request !== 'object') throw new ApiFailure('bad-request', 'createStudy takes { kind, size?, name? }');
    const kindProblem = studyKindProblem(request.kind);
    if (kindProblem) throw new ApiFailure('bad-request', kindProblem, { field: 'kind' });
    const size = request.size ?? 'quick';
    const sizeProblem = studySizeProblem(size);
    if (sizeProblem) throw new ApiFailure('bad-request', sizeProblem, { field: 'size' });
    if (request.name !== undefined) {
      const problem = runNameProblem(request.name);
      if (problem) throw new ApiFailure('bad-request', `name ${problem}`, { field: 'name' });
    }
    const def = getStudyDefinition(request.kind);
    const runs = planStudyRuns(def, size);
    for (const r of runs) {
      const problems = validateRunConfig(r.config);
      // The definitions are tested to validate; this guards an edit that breaks one.
      if (problems.length) throw new ApiFailure('internal', `study ${def.kind} (${size}), run ${r.key}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    }
    const id = newStudyId(def.kind, new Date(), (candidate) => this.store.studies.get(candidate) !== null || runs.some((r) => this.host.runSummary(studyRunId(candidate, r.key)) !== null));
    const name = request.name?.trim() || `${def.title} (${size})`;
    const record = this.store.studies.create({
      id,
      name,
      kind: def.kind,
      size,
      runs: runs.map((r) => ({ key: r.key, runId: studyRunId(id, r.key) })),
      ownerPid: process.pid,
    });
    this.creating.add(id);
    try {
      for (const r of runs) {
        await this.host.createRun({ config: r.config, id: studyRunId(id, r.key), name: `${name}: ${r.label}`, start: true });
      }
    } catch (e) {
      this.creating.delete(id);
      this.fail(id, `creating its runs failed: ${(e as Error).message}`);
      throw e;
    }
    this.creating.delete(id);
    this.schedule(id);
    return this.emit(record.id);
  }

  async studyReport(studyId: string): Promise<P.StudyReport> {
    const s = this.require(studyId);
    return buildStudyReport(this.store, s, this.summary(s));
  }

  async exportStudy(studyId: string): Promise<P.StudyExport> {
    const report = await this.studyReport(studyId);
    const runKeys = report.study.runs.map((r) => r.key);
    return writeStudyExport(report, studyFolder(this.dataDir, studyId), (chart) => studyChartPng(chart, runKeys));
  }

  async exportStudyZip(studyId: string): Promise<Buffer> {
    const exported = await this.exportStudy(studyId);
    return createZip(exported.files.map((name) => ({ name, data: readFileSync(path.join(exported.folder, name)) })));
  }

  async stopStudy(studyId: string): Promise<P.StudySummary> {
    const s = this.require(studyId);
    if (!ACTIVE.has(s.status)) return this.summary(s);
    this.store.studies.update(studyId, { status: 'stopped', error: null });
    for (const r of s.runs) {
      const run = this.host.runSummary(r.runId);
      if (run && (run.status === 'queued' || run.status === 'running')) await this.host.stopRun(r.runId);
    }
    const evaluations = s.evaluations.map((e) => ({ ...e }));
    for (const e of evaluations) {
      if (e.status === 'queued' && e.jobId !== null) {
        await this.host.cancelJob(e.jobId);
        e.status = 'pending';
        e.jobId = null;
      }
    }
    this.store.studies.update(studyId, { evaluations });
    return this.emit(studyId);
  }

  async resumeStudy(studyId: string): Promise<P.StudySummary> {
    const s = this.checkDriver(this.require(studyId));
    if (s.status === 'done') throw new ApiFailure('conflict', `study '${studyId}' is done: its report is complete (export it, or start a new study)`);
    if (ACTIVE.has(s.status) && s.ownerPid !== process.pid) {
      throw new ApiFailure('conflict', `study '${studyId}' is being run by another studio process (pid ${s.ownerPid}): follow it there, or stop it first`);
    }
    const missing = s.runs.filter((r) => this.host.runSummary(r.runId) === null);
    if (missing.length) {
      throw new ApiFailure('conflict', `study '${studyId}' cannot resume: its run(s) ${missing.map((r) => r.runId).join(', ')} were deleted; start a new study`);
    }
    const unfinished = s.runs.filter((r) => this.host.runSummary(r.runId)!.status !== 'done');
    // Failed evaluations are tried again; the others keep their results.
    const evaluations = s.evaluations.map((e) => (e.status === 'failed' || (e.status === 'queued' && e.jobId === null) ? { ...e, status: 'pending' as const, jobId: null, error: null } : e));
    this.store.studies.update(studyId, { status: unfinished.length ? 'training' : 'evaluating', ownerPid: process.pid, error: null, finishedAt: null, evaluations });
    // startRun leaves a run this service already trains or queues alone, and takes over one that the
    // database shows queued or running for a process that is gone.
    for (const r of unfinished) await this.host.startRun(r.runId);
    this.schedule(studyId);
    return this.emit(studyId);
  }

  /**
   * Deletes a study that is not running: its record and its folder (the export). Its runs stay as ordinary
   * runs unless `withRuns`, which deletes them through the run service's own deleteRun (the same id and
   * folder checks as the Delete of a run). The runs go first, so a failure leaves the study listed.
   */
  async deleteStudy(studyId: string, options: P.DeleteStudyOptions = {}): Promise<P.StudyDeleted> {
    // The id names a folder (<data>/studies/<id>): the run-id rule, so '..' or a path never reaches rm.
    const idProblem = runIdProblem(studyId);
    if (idProblem) throw new ApiFailure('bad-request', `studyId ${idProblem.replace(/'mnist-01'/g, 'a study id from listStudies')}`, { field: 'studyId' });
    const s = this.checkDriver(this.require(studyId));
    if (ACTIVE.has(s.status)) {
      const where = s.ownerPid === process.pid ? 'Stop in the Studies view' : `the studio process (pid ${s.ownerPid}) that runs it: Stop there, or Ctrl-C its iddpm study`;
      throw new ApiFailure('conflict', `study '${studyId}' is running (${s.status}): stop it first (${where}), then delete it`);
    }
    const present = s.runs.filter((r) => this.host.runSummary(r.runId) !== null).map((r) => r.runId);
    const deletedRuns: string[] = [];
    if (options.withRuns) {
      const running = present.filter((id) => this.host.runSummary(id)?.status === 'running');
      if (running.length) {
        throw new ApiFailure('conflict', `study '${studyId}': its run(s) ${running.join(', ')} still train (a stopped run checkpoints first): wait until they have stopped, or stop them in the Runs view (iddpm stop ID), then delete`);
      }
      for (const runId of present) {
        await this.host.deleteRun(runId);
        deletedRuns.push(runId);
      }
    }
    this.store.studies.delete(studyId);
    const folder = studyDir(this.dataDir, studyId);
    removeStudyFolder(this.dataDir, studyId);
    this.host.emit({ type: 'studyDeleted', studyId, deletedRuns });
    return { studyId, deletedRuns, keptRuns: options.withRuns ? [] : present, folder };
  }

  // ---- driving ------------------------------------------------------------------------------------

  private onEvent(e: P.StudioEvent): void {
    if (e.type === 'run') {
      for (const s of this.store.studies.list()) {
        if (ACTIVE.has(s.status) && s.ownerPid === process.pid && s.runs.some((r) => r.runId === e.run.id)) this.schedule(s.id);
      }
    } else if (e.type === 'job' && (e.job.status === 'done' || e.job.status === 'failed' || e.job.status === 'cancelled')) {
      for (const s of this.store.studies.list()) {
        if (s.ownerPid === process.pid && s.evaluations.some((x) => x.jobId === e.job.id)) this.onJobEnd(s, e.job);
      }
    }
  }

  private onJobEnd(s: StudyRecord, job: P.JobSummary): void {
    const evaluations = s.evaluations.map((x) => {
      if (x.jobId !== job.id) return x;
      if (job.status === 'done') return { ...x, status: 'done' as const, error: null };
      if (job.status === 'failed') return { ...x, status: 'failed' as const, error: job.error };
      return { ...x, status: 'pending' as const, jobId: null }; // cancelled: queued again on resume
    });
    this.store.studies.update(s.id, { evaluations });
    this.schedule(s.id);
  }

  /** Runs advance() for the study, once at a time; news that arrives meanwhile runs it again after. */
  private schedule(studyId: string): void {
    if (this.advancing.has(studyId)) {
      this.again.add(studyId);
      return;
    }
    this.advancing.add(studyId);
    void (async () => {
      try {
        do {
          this.again.delete(studyId);
          try {
            await this.advance(studyId);
          } catch (e) {
            this.fail(studyId, (e as Error).message);
          }
        } while (this.again.has(studyId));
      } finally {
        this.advancing.delete(studyId);
      }
    })();
  }

  /** One look at the study's runs and evaluations: moves it to its next phase when they call for it. */
  private async advance(studyId: string): Promise<void> {
    const s = this.store.studies.get(studyId);
    if (!s || !ACTIVE.has(s.status) || s.ownerPid !== process.pid || this.creating.has(studyId)) return;
    const runs = s.runs.map((r) => ({ ...r, run: this.host.runSummary(r.runId) }));
    const missing = runs.find((r) => r.run === null);
    if (missing) return this.fail(studyId, `its run ${missing.runId} was deleted`);
    const failed = runs.find((r) => r.run!.status === 'failed');
    if (failed) return this.fail(studyId, `run ${failed.runId} failed: ${failed.run!.reason ?? 'no reason given'}`);
    if (s.status === 'training') {
      const interrupted = runs.find((r) => r.run!.status === 'interrupted');
      if (interrupted) {
        this.store.studies.update(studyId, { status: 'interrupted', error: `run ${interrupted.runId} was interrupted: ${interrupted.run!.reason ?? ''}`.trim() });
        this.emit(studyId);
        return;
      }
      const halted = runs.find((r) => r.run!.status === 'stopped' || r.run!.status === 'paused');
      if (halted) {
        this.store.studies.update(studyId, { status: 'stopped', error: `run ${halted.runId} was ${halted.run!.status}: resume the study to continue it` });
        this.emit(studyId);
        return;
      }
      if (!runs.every((r) => r.run!.status === 'done')) {
        this.emit(studyId);
        return;
      }
      const def = getStudyDefinition(s.kind as P.StudyKind);
      const plan = def.sizes[s.size as P.StudySize].evaluation;
      const evaluations = s.evaluations.length
        ? s.evaluations
        : planEvaluations(plan, runs.map((r) => ({ key: r.key, checkpointSteps: this.store.listCheckpoints(r.runId).map((c) => c.step) })));
      this.store.studies.update(studyId, { status: 'evaluating', evaluations });
    }
    await this.queueEvaluations(studyId);
    const now = this.store.studies.get(studyId)!;
    const bad = now.evaluations.find((e) => e.status === 'failed');
    if (bad) return this.fail(studyId, `${describeEvaluation(bad, now)} failed: ${bad.error ?? 'no reason given'}`);
    if (now.evaluations.every((e) => e.status === 'done')) {
      this.store.studies.update(studyId, { status: 'done', finishedAt: Date.now(), error: null });
    }
    this.emit(studyId);
  }

  /** Queues the evaluations not queued yet, each as an ordinary job of the run service. */
  private async queueEvaluations(studyId: string): Promise<void> {
    const s = this.store.studies.get(studyId)!;
    const evaluations = s.evaluations.map((e) => ({ ...e }));
    let changed = false;
    for (const e of evaluations) {
      if (e.status !== 'pending') continue;
      const runId = s.runs.find((r) => r.key === e.runKey)?.runId;
      const cp = runId ? this.store.listCheckpoints(runId).find((c) => c.step === e.checkpointStep) : undefined;
      if (!runId || !cp) {
        e.status = 'failed';
        e.error = `the checkpoint at step ${e.checkpointStep} of run ${runId ?? e.runKey} is gone`;
        changed = true;
        continue;
      }
      const job =
        e.kind === 'nll'
          ? await this.host.startEvaluation({ runId, checkpointId: cp.id, images: Number(e.settings.images) })
          : await this.host.startQualityEvaluation({ ...(e.settings as unknown as Omit<P.QualitySettings, 'runId' | 'checkpointId'>), runId, checkpointId: cp.id });
      e.jobId = job.id;
      e.status = 'queued';
      changed = true;
    }
    if (changed) this.store.studies.update(studyId, { evaluations });
  }

  private fail(studyId: string, error: string): void {
    try {
      if (!this.store.studies.get(studyId)) return;
      this.store.studies.update(studyId, { status: 'failed', error });
      this.emit(studyId);
    } catch {
      // the store cannot take it (full disk): the next start-up shows the study as interrupted
    }
  }

  // ---- reading ------------------------------------------------------------------------------------

  private require(studyId: string): StudyRecord {
    if (typeof studyId !== 'string') throw new ApiFailure('bad-request', 'studyId must be a string');
    const s = this.store.studies.get(studyId);
    if (!s) throw new ApiFailure('not-found', `no study with id '${studyId}' (iddpm study --list shows them)`);
    return s;
  }

  /** An active study whose driving process is gone becomes interrupted. */
  private checkDriver(s: StudyRecord): StudyRecord {
    if (!driverGone(s)) return s;
    try {
      return this.store.studies.update(s.id, { status: 'interrupted', error: 'the studio process that ran it ended; resume the study to continue' });
    } catch {
      return { ...s, status: 'interrupted' };
    }
  }

  summary(s: StudyRecord): P.StudySummary {
    return studySummary(s, (runId) => this.host.runSummary(runId));
  }

  private emit(studyId: string): P.StudySummary {
    const summary = this.summary(this.store.studies.get(studyId)!);
    this.host.emit({ type: 'study', study: summary });
    return summary;
  }
}

