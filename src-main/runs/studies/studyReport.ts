/** A study's report, computed from its runs' stored data each time it is asked for (partial while it runs). */
import type * as P from '../../../src-shared/protocol';
import { getStudyDefinition } from '../../../src-shared/studies';
import type { Store, StudyRecord } from '../../store';
import { importanceSamplingReport } from './importanceSamplingReport';
import { noiseScheduleReport } from './noiseScheduleReport';
import { studyQuality, type QualityReader } from './studyQuality';
import { samplingStepsReport } from './samplingStepsReport';
import { StudyData } from './studyData';

/** `quality`: where its quality results come from (default: the stored results of the study's quality jobs). */
export function buildStudyReport(store: Store, study: StudyRecord, summary: P.StudySummary, quality: QualityReader = studyQuality(store, study)): P.StudyReport {
  const def = getStudyDefinition(summary.kind);
  const labels = Object.fromEntries(def.runs.map((r) => [r.key, r.label]));
  const d = new StudyData(store, study);
  const built =
    summary.kind === 'importance-sampling'
      ? importanceSamplingReport(d, labels)
      : summary.kind === 'noise-schedule'
        ? noiseScheduleReport(d, labels, quality)
        : samplingStepsReport(d, labels, quality);
  const missing = summary.runs.filter((r) => r.status === 'missing').map((r) => r.runId);
  const notes = missing.length ? [`run(s) ${missing.join(', ')} were deleted: their data is missing from this report`, ...built.notes] : built.notes;
  return { study: summary, claims: def.claims.map((c) => ({ ...c })), ...built, notes };
}
