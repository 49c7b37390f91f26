/**
 * What the Studies view and a study's report page decide without the DOM (so it is unit-tested): which actions a
 * study offers in each status, how long a size takes in words, and how a report chart becomes LineChart series with
 * one colour per run of the study, the same in every chart of the report.
 */
import type { StudyChart, StudyRunInfo, StudyStatus, VerdictOutcome } from '../../../../src-shared/protocol';
import { colorOfRun } from '../../../../src-shared/chartPalette';
import type { ChartSeries } from '../../charts/types';

export type StudyAction = 'stop' | 'resume';

/** Stop while it trains or evaluates; Resume once it stopped, was interrupted or failed; nothing when done. */
export function studyActions(status: StudyStatus): StudyAction[] {
  if (status === 'training' || status === 'evaluating') return ['stop'];
  if (status === 'stopped' || status === 'interrupted' || status === 'failed') return ['resume'];
  return [];
}

/**
 * After Stop, a run keeps training until it has written its checkpoint; resuming the study before that would leave
 * the run to stop afterwards and halt the study again. Returns the labels of the runs still running in a study that
 * is not active (Resume waits for them), or [] when there is nothing to wait for.
 */
export function runsStillStopping(status: StudyStatus, runs: { label: string; status: StudyRunInfo['status'] }[]): string[] {
  if (studyIsActive(status)) return [];
  return runs.filter((r) => r.status === 'running').map((r) => r.label);
}

/** Whether the study still changes by itself (the report page follows it). */
export function studyIsActive(status: StudyStatus): boolean {
  return status === 'training' || status === 'evaluating';
}

/** "about 4 min", "about 1 h 10 min", "under a minute". */
export function aboutMinutes(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes <= 0) return 'unknown time';
  if (minutes < 1) return 'under a minute';
  const m = Math.round(minutes);
  if (m < 60) return `about ${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `about ${h} h ${m % 60} min` : `about ${h} h`;
}

/** A verdict's outcome as the status-pill class that colours it. */
export function verdictStatus(outcome: VerdictOutcome): 'done' | 'failed' | 'paused' {
  return outcome === 'holds' ? 'done' : outcome === 'does not hold' ? 'failed' : 'paused';
}

/** Few points are measurements worth marking one by one (quality at K steps), many are a curve. */
const MARK_POINTS_UP_TO = 20;

/**
 * A report chart's lines for LineChart: a run's line takes the palette colour of the run's place in the study (so
 * "cosine" is orange in every chart); a line of no run (a reference) is grey and dashed.
 */
export function studyChartSeries(chart: StudyChart, runs: StudyRunInfo[]): ChartSeries[] {
  const keys = runs.map((r) => r.key);
  return chart.series.map((s) => ({
    label: s.label,
    x: s.x,
    y: s.y,
    color: colorOfRun(s.runKey, keys),
    dashed: s.runKey === null,
    points: s.x.length <= MARK_POINTS_UP_TO,
  }));
}

/** The share done of a study's run, 0…1, or null when it has no step limit. */
export function runProgress(run: StudyRunInfo): number | null {
  return run.maxSteps ? Math.min(1, run.step / run.maxSteps) : null;
}
