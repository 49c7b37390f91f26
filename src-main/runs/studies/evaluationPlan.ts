/**
 * The post-training evaluations a study's report needs, as records the study keeps (studies.evaluations):
 * one NLL evaluation per checkpoint of each run (NLL over training, Figure 6; the per-t terms, Figure 2), and
 * the sample-quality measurements of the studies that have them. Planned once the runs are done, from the
 * checkpoints they kept.
 */
import type { StudyEvaluationPlan } from '../../../src-shared/studies';
import type { StudyEvaluationRecord } from '../../store';

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
  return out;
}
