/**
 * The post-training evaluations a study's report needs, as records the study keeps (studies.evaluations):
 * one NLL evaluation per checkpoint of each run (NLL over training, Figure 6; the per-t terms, Figure 2), and
 * the sample-quality measurements of the studies that have them (on each run's last checkpoint: quality at K
 * sampling steps, Figure 8, or with a prefix of the reverse process skipped, Figure 3). Planned once the runs
 * are done, from the checkpoints they kept.
 */
import type { StudyEvaluationPlan } from '../../../src-shared/studies';
import type { QualityMetric } from '../../../src-shared/qualityMetrics';
import type { StudyEvaluationRecord } from '../../store';

/** FID (the reports' verdicts) and KID (unbiased, steadier at the small counts a study can afford). */
export const STUDY_QUALITY_METRICS: QualityMetric[] = ['fid', 'kid'];
/** One seed for every quality point of a study, so runs and points differ only in what they are about. */
export const STUDY_QUALITY_SEED = 0;

export function planEvaluations(
  plan: StudyEvaluationPlan,
  runs: readonly { key: string; checkpointSteps: readonly number[] }[],
): StudyEvaluationRecord[] {
  const out: StudyEvaluationRecord[] = [];
  if (plan.nllImages) {
    for (const r of runs) {
      for (const step of r.checkpointSteps) {
        out.push({ key: `nll:${r.key}:${step}`, kind: 'nll', runKey: r.key, checkpointStep: step, settings: { images: plan.nllImages }, jobId: null, status: 'pending' });
      }
    }
  }
  const q = plan.quality;
  if (q) {
    for (const r of runs) {
      const step = r.checkpointSteps.at(-1);
      if (step === undefined) continue;
      const common = { metrics: STUDY_QUALITY_METRICS, count: q.count, sampler: 'ancestral', seed: STUDY_QUALITY_SEED };
      for (const k of q.steps ?? []) {
        out.push({ key: `quality:${r.key}:K${k}`, kind: 'quality', runKey: r.key, checkpointStep: step, settings: { ...common, steps: k, skipFraction: 0 }, jobId: null, status: 'pending' });
      }
      for (const f of q.skipFractions ?? []) {
        out.push({ key: `quality:${r.key}:skip${f}`, kind: 'quality', runKey: r.key, checkpointStep: step, settings: { ...common, steps: q.skipSteps ?? 50, skipFraction: f }, jobId: null, status: 'pending' });
      }
    }
  }
  return out;
}
