/**
 * The quality results of a study's evaluations (quality_results rows of the jobs it queued), as the curves
 * its report draws: a metric over sampling steps K (Figure 8) or over the skipped fraction (Figure 3).
 */
import type { QualityReport } from '../../../src-shared/protocol';
import type { Store, StudyRecord } from '../../store';

/** Sample-quality results of a study's runs (quality jobs): a metric over skip fractions or over sampling steps. */
export interface QualityReader {
  skipCurve(runKey: string, metric: string): { x: number[]; y: number[] };
  stepsCurve(runKey: string, metric: string): { x: number[]; y: number[] };
  notes(): string[];
}

type Metric = 'fid' | 'kid';

function value(report: QualityReport, metric: Metric): number | null {
  if (metric === 'fid') return report.fid ?? null;
  return report.kid?.mean ?? null;
}

export function studyQuality(store: Store, study: StudyRecord): QualityReader {
  const byJob = new Map<number, { report: QualityReport; accuracy: number; caveat: string }>();
  for (const r of study.runs) {
    if (!store.getRun(r.runId)) continue;
    for (const q of store.listQualityResults(r.runId)) {
      if (q.jobId !== null) byJob.set(q.jobId, { report: q.report as unknown as QualityReport, accuracy: Number((q.classifier as { heldOutAccuracy?: number }).heldOutAccuracy), caveat: String((q.report as { caveat?: string }).caveat ?? '') });
    }
  }
  const curve = (runKey: string, metric: string, mode: 'steps' | 'skip') => {
    const points: { x: number; y: number }[] = [];
    for (const e of study.evaluations) {
      if (e.kind !== 'quality' || e.runKey !== runKey || e.status !== 'done' || e.jobId === null) continue;
      const isSkip = e.key.includes(':skip');
      if ((mode === 'skip') !== isSkip) continue;
      const result = byJob.get(e.jobId);
      const y = result ? value(result.report, metric as Metric) : null;
      if (y === null || !Number.isFinite(y)) continue;
      points.push({ x: mode === 'skip' ? Number(e.settings.skipFraction) : Number(e.settings.steps), y });
    }
    points.sort((a, b) => a.x - b.x);
    return { x: points.map((p) => p.x), y: points.map((p) => p.y) };
  };
  return {
    skipCurve: (runKey, metric) => curve(runKey, metric, 'skip'),
    stepsCurve: (runKey, metric) => curve(runKey, metric, 'steps'),
    notes: () => {
      const first = [...byJob.values()][0];
      if (!first) return [];
      const count = study.evaluations.find((e) => e.kind === 'quality')?.settings.count;
      return [
        `${first.caveat.replace(/\.?\s*$/, '.')} Each point: ${count} generated images against the held-out split; the classifier's held-out accuracy is ${(100 * first.accuracy).toFixed(1)}%.`,
      ];
    },
  };
}
