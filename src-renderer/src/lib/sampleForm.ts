/**
 * The Sample view's form without the DOM: what is wrong with its settings, in the user's words (the field
 * first), checked against the run's T before a job is asked for. The service checks the same again.
 */
import { skipFractionProblem, stepsAfterSkip } from '../../../src-shared/diffusion/skipFraction';
import { spaceTimesteps } from '../../../src-shared/diffusion/respacing';
import type { SamplerName } from '../../../src-shared/protocol';
import { SAMPLE_COUNT_MAX } from './runChoice';

export interface SampleForm {
  sampler: SamplerName;
  steps: number;
  eta: number;
  count: number;
  seed: number;
  /** Skip the first fraction of the reverse process (src-shared/diffusion/skipFraction.ts); 0: the whole chain. */
  skipFraction: number;
}

/** The problem with the form, or null; `T` is the run's diffusion steps (null while its detail loads). */
export function sampleFormProblem(f: SampleForm, T: number | null): string | null {
  if (!Number.isInteger(f.steps) || f.steps < 1) return 'Steps must be a whole number ≥ 1.';
  if (T !== null && f.steps > T) return `Steps must be ≤ the run’s T = ${T}.`;
  if (T !== null) {
    const skip = skipFractionProblem(f.skipFraction, T);
    if (skip) return `Skip fraction: ${skip.replace(/^skipFraction /, '')}.`;
    const left = stepsAfterSkip(T, f.skipFraction);
    if (f.steps > left) return `Steps must be ≤ ${left}, the steps left after skipping ${f.skipFraction} of T = ${T}.`;
    if (f.sampler === 'ddim' && f.skipFraction > 0) {
      try {
        spaceTimesteps(left, `ddim${f.steps}`);
      } catch {
        return `DDIM cannot take exactly ${f.steps} of the ${left} steps left after skipping with an even stride: pick a step count that divides ${left}.`;
      }
    }
  }
  if (!Number.isInteger(f.count) || f.count < 1) return 'Count must be a whole number ≥ 1.';
  if (f.count > SAMPLE_COUNT_MAX) return `Count must be ≤ ${SAMPLE_COUNT_MAX} per set: start several sets for more.`;
  if (!Number.isInteger(f.seed) || f.seed < 0) return 'Seed must be a whole number ≥ 0.';
  if (f.sampler === 'ddim' && !(f.eta >= 0 && f.eta <= 1)) return 'η must be in [0, 1].';
  return null;
}
